"""Which case a claimed slot's session uses, chosen from the candidate's history.

Once a slot is claimed both people are known, so the case can be one the candidate has not done
(casebank's not_done_by, via scorecards.progress.case_options) and, without a choice, the one
that targets their weakest concept (scorecards.stats.recommend_case).
"""

from django.contrib.auth.models import User

from casebank.models import Case
from scorecards import progress, stats


def case_options(
    candidate: User,
    *,
    interviewer: User | None,
    domain: str = "",
    level: str = "",
) -> list[stats.CaseOption]:
    """Published cases the candidate has not done and the interviewer may interview on (not one
    they are a candidate on right now), narrowed to the slot's domain and level; all of them
    when nothing fits both (a wish, not a reason to refuse the claim)."""
    options = progress.case_options(candidate, interviewer=interviewer)
    fitting = [
        option
        for option in options
        if (not domain or option.domain == domain) and (not level or option.difficulty == level)
    ]
    return fitting or options


def recommended_case_id(candidate: User, options: list[stats.CaseOption]) -> int | None:
    digests = [row.digest for row in progress.finished_as_candidate(candidate)]
    recommendation = stats.recommend_case(digests, options, progress.category_infos())
    return recommendation.case_id if recommendation else None


def pick_case(
    candidate: User,
    *,
    interviewer: User,
    domain: str = "",
    level: str = "",
    surprise: bool = False,
) -> Case | None:
    """The recommended case for the candidate, or with surprise=True one of the fitting cases at
    random; None when the candidate has done every published case."""
    options = case_options(candidate, interviewer=interviewer, domain=domain, level=level)
    if not options:
        return None
    if surprise:
        return Case.objects.filter(pk__in=[o.case_id for o in options]).pick_random()
    case_id = recommended_case_id(candidate, options)
    return Case.objects.filter(pk=case_id).first() if case_id is not None else None
