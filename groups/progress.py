"""The group progress page, read in a fixed number of queries whatever the group's size.

Only members who opted in (Membership.shares_progress) are read at all: a member who has not
opted in contributes nothing, not even to the averages or the case counts. As on the personal
progress page, a candidate's session counts once its result is released to them (self-assessed
or skipped), from its stored digest; nothing is re-scored.
"""

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import cast
from zoneinfo import ZoneInfo

from django.db.models import Q

from casebank.models import Case
from groups import summary
from groups.models import Membership, StudyGroup
from interviews.models import SelfAssessment, Session, SessionState
from rubrics import scoring
from scorecards import progress, stats

WEEKS = 8
_CASE_TEXTS = ("case__candidate_prompt", "case__interviewer_brief", "case__model_answer")


@dataclass(frozen=True)
class Cell:
    """One member's standing in one concept."""

    average: stats.Average | None
    latest: Fraction | None
    change: Fraction | None
    sessions: int

    @property
    def average_display(self) -> str:
        return self.average.display if self.average else "—"

    @property
    def latest_display(self) -> str:
        return scoring.format_percent(self.latest)

    @property
    def change_display(self) -> str:
        return summary.percent_points(self.change)


@dataclass(frozen=True)
class ConceptRow:
    name: str
    slug: str
    group_average: stats.Average | None
    cells: list[Cell]  # in the order of GroupProgress.members


@dataclass(frozen=True)
class Activity:
    username: str
    weekly: list[int]  # sessions per week, either role, in the order of GroupProgress.weeks

    @property
    def total(self) -> int:
        return sum(self.weekly)


@dataclass(frozen=True)
class GroupProgress:
    members: list[str]  # usernames of the members who share, alphabetically
    not_sharing: int
    concepts: list[ConceptRow]
    weeks: list[date]
    activity: list[Activity]
    most_practised: list[summary.CaseCount]
    least_practised: list[summary.CaseCount]


def build_group_progress(group: StudyGroup, *, now: datetime, zone: ZoneInfo) -> GroupProgress:
    """Five queries: memberships, released candidate sessions, recent sessions in either role,
    categories, published case titles."""
    memberships = list(
        Membership.objects.filter(group=group).select_related("user").order_by("user__username")
    )
    sharing = [m.user for m in memberships if m.shares_progress]
    ids = [user.pk for user in sharing]

    sessions = (
        Session.objects.filter(
            state=SessionState.FINISHED, candidate_id__in=ids, finished_at__isnull=False
        )
        .exclude(self_assessment=SelfAssessment.PENDING)
        .select_related("case")
        .defer(*_CASE_TEXTS)
        .order_by("finished_at", "pk")
    )
    digests = summary.by_member(
        (
            session.candidate_id,
            stats.digest_from_result(
                session_id=session.pk,
                finished_at=cast(datetime, session.finished_at),  # not null: the filter
                case_title=session.case.title,
                domain=session.case.domain,
                total=None if session.total_percent is None else Fraction(session.total_percent),
                band=session.band,
                result=session.result,
            ),
        )
        for session in sessions
    )

    member_averages = {pk: stats.category_averages(digests.get(pk, [])) for pk in ids}
    slugs = {slug for averages in member_averages.values() for slug in averages}
    concepts = []
    for info in stats.category_order(slugs, progress.category_infos()):
        cells = []
        for pk in ids:
            series = stats.category_series(digests.get(pk, []), info.slug)
            average = member_averages[pk].get(info.slug)
            cells.append(
                Cell(
                    average,
                    summary.latest(series),
                    summary.change(series),
                    sum(v is not None for v in series),
                )
            )
        concepts.append(
            ConceptRow(
                info.name,
                info.slug,
                summary.group_average(cell.average for cell in cells),
                cells,
            )
        )

    weeks = summary.recent_weeks(now.astimezone(zone).date(), WEEKS)
    recent = Session.objects.filter(
        Q(candidate_id__in=ids) | Q(interviewer_id__in=ids),
        state=SessionState.FINISHED,
        finished_at__gte=datetime.combine(weeks[0], datetime.min.time(), tzinfo=zone),
    ).values_list("interviewer_id", "candidate_id", "finished_at")
    days = summary.by_member(
        # finished_at__gte leaves out the null ones.
        (pk, cast(datetime, finished_at).astimezone(zone).date())
        for interviewer_id, candidate_id, finished_at in recent
        for pk in {interviewer_id, candidate_id}
        if pk in ids
    )
    activity = [
        Activity(user.get_username(), summary.per_week(days.get(user.pk, []), weeks))
        for user in sharing
    ]

    practised = [d.case_title for pk in ids for d in digests.get(pk, [])]
    titles = Case.objects.published().values_list("title", flat=True)
    most, least = summary.case_counts(practised, titles)
    return GroupProgress(
        members=[user.get_username() for user in sharing],
        not_sharing=len(memberships) - len(sharing),
        concepts=concepts,
        weeks=weeks,
        activity=activity,
        most_practised=most,
        least_practised=least,
    )
