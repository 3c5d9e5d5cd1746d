"""Read-side helpers that assemble the progress page and its CSV in a fixed number of queries.

Sessions are read once, with their case and partner, and each one's stored result digest
(`Session.result`); nothing is re-scored per request, so the page costs the same with 1 session or
500. The maths lives in scorecards/stats.py and scorecards/charts.py.
"""

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from casebank.models import Case, CaseItem, CaseStatus, Domain
from interviews.models import SelfAssessment, Session, SessionState
from interviews.permissions import candidacies
from rubrics import scoring
from rubrics.models import Category, RubricVersion
from rubrics.services import latest_published_version
from scorecards import charts, stats

# Where a history row links to: the session's scorecard.
SESSION_RESULT_URL = "scorecards:scorecard"
# Case texts run to 20,000 characters each; the progress page shows none of them.
_CASE_TEXTS = ("case__candidate_prompt", "case__interviewer_brief", "case__model_answer")


@dataclass(frozen=True)
class HistoryRow:
    session: Session
    digest: stats.Digest

    @property
    def url(self) -> str:
        return reverse(SESSION_RESULT_URL, args=[self.session.pk])

    @property
    def date(self) -> str:
        return _day(self.digest.finished_at)

    @property
    def interviewer(self) -> str:
        interviewer = self.session.interviewer
        return "solo" if self.session.is_solo or interviewer is None else interviewer.username

    @property
    def total(self) -> str:
        return scoring.format_percent(self.digest.total)

    @property
    def band(self) -> str:
        return band_label(self.digest.band)

    @property
    def overrun_minutes(self) -> str:
        return stats.minutes(self.digest.total_overrun_seconds)


@dataclass(frozen=True)
class Trend:
    """One line chart: a category's or a step's percentage per session."""

    slug: str  # for element ids
    name: str
    chart: charts.LineChart
    average: stats.Average | None


@dataclass(frozen=True)
class TrendTable:
    """The numbers behind a group of charts: one row per session, one column per chart."""

    columns: list[str]
    rows: list[tuple[HistoryRow, list[str]]]


@dataclass(frozen=True)
class StepTime:
    name: str
    overrun: stats.StepOverrun

    @property
    def average_minutes(self) -> str:
        return stats.minutes(self.overrun.average_seconds)


@dataclass(frozen=True)
class Overview:
    history: list[HistoryRow]  # newest first
    category_trends: list[Trend]
    category_table: TrendTable
    step_trends: list[Trend]
    step_table: TrendTable
    most_missed: list[stats.ItemTally]
    red_flags: list[stats.ItemTally]
    step_times: list[StepTime]
    most_overrun: StepTime | None
    recommendation: stats.Recommendation | None
    rubric_version: RubricVersion | None
    conducted: list[HistoryRow]  # sessions the user interviewed, newest first
    awaiting_self_assessment: list[Session]  # finished as candidate, result not yet released


def band_label(band: str) -> str:
    try:
        return scoring.Band(band).label
    except ValueError:
        return "—"


def _day(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d")


def _finished() -> QuerySet[Session]:
    return Session.objects.filter(state=SessionState.FINISHED).defer(*_CASE_TEXTS)


def finished_as_candidate(user: User) -> list[HistoryRow]:
    """The user's finished sessions as candidate whose result they may see, oldest first.

    A result stays hidden until the candidate has assessed themselves (or skipped it), so
    sessions still waiting for that are left out; one query.
    """
    sessions = (
        _finished()
        .filter(candidate=user)
        .exclude(self_assessment=SelfAssessment.PENDING)
        .select_related("case", "interviewer")
        .order_by("finished_at", "pk")
    )
    return [HistoryRow(session, _digest(session)) for session in sessions]


def finished_as_interviewer(user: User) -> list[HistoryRow]:
    sessions = (
        _finished()
        .filter(interviewer=user)
        .select_related("case", "candidate")
        .order_by("-finished_at", "-pk")
    )
    return [HistoryRow(session, _digest(session)) for session in sessions]


def _digest(session: Session) -> stats.Digest:
    total = session.total_percent
    return stats.digest_from_result(
        session_id=session.pk,
        # Every finished session has finished_at; created_at only guards rows made by hand.
        finished_at=session.finished_at or session.created_at,
        case_title=session.case.title,
        domain=session.case.domain,
        total=None if total is None else Fraction(total),
        band=session.band,
        result=session.result,
    )


def category_infos() -> dict[str, stats.CategoryInfo]:
    return {
        slug: stats.CategoryInfo(slug, name, position)
        for slug, name, position in Category.objects.values_list("slug", "name", "position")
    }


def case_options(
    user: User,
    *,
    unseen_as_interviewer: bool = False,
    interviewer: User | None = None,
) -> list[stats.CaseOption]:
    """Published cases the user has not done as candidate (in any state, as "Surprise me"
    counts them), with their extra items' categories; two queries. With unseen_as_interviewer,
    also leave out the cases the user has interviewed on: they have read its model answer. With
    an interviewer, also the cases that person is a candidate on right now: nobody interviews on
    a case meanwhile (interviews.permissions.candidacies)."""
    cases = Case.objects.published().not_done_by(user, nor_interviewed=unseen_as_interviewer)
    if interviewer is not None:
        cases = cases.exclude(pk__in=candidacies(interviewer).values("case_id"))
    case_rows = cases.order_by("title").values_list("pk", "title", "slug", "domain", "difficulty")
    # Every published case's items, in one query whatever the number of cases: a small table.
    item_categories: dict[int, dict[int, list[str]]] = {}
    rows = CaseItem.objects.filter(case__status=CaseStatus.PUBLISHED).values_list(
        "case_id", "pk", "categories__slug"
    )
    for case_id, item_id, slug in rows:
        categories = item_categories.setdefault(case_id, {}).setdefault(item_id, [])
        if slug is not None:
            categories.append(slug)
    labels = dict(Domain.choices)
    return [
        stats.CaseOption(
            case_id=pk,
            title=title,
            slug=slug,
            domain=domain,
            domain_label=str(labels.get(domain, domain)),
            difficulty=difficulty,
            item_categories=tuple(
                tuple(sorted(slugs)) for slugs in item_categories.get(pk, {}).values()
            ),
        )
        for pk, title, slug, domain, difficulty in case_rows
    ]


def next_case_for(
    user: User,
    *,
    unseen_as_interviewer: bool = False,
    interviewer: User | None = None,
) -> stats.Recommendation | None:
    """The case the user should practise next as candidate (see stats.recommend_case)."""
    digests = [row.digest for row in finished_as_candidate(user)]
    options = case_options(
        user, unseen_as_interviewer=unseen_as_interviewer, interviewer=interviewer
    )
    return stats.recommend_case(digests, options, category_infos())


def _percent_cell(value: Fraction | None) -> str:
    return scoring.format_percent(value)


def _trends(
    history: list[HistoryRow],
    keys: list[tuple[str, str]],
    series: dict[str, list[Fraction | None]],
    averages: dict[str, stats.Average],
) -> tuple[list[Trend], TrendTable]:
    labels = [row.date for row in history]
    trends = [
        Trend(
            slug=key,
            name=name,
            chart=charts.line_chart(series[key], labels, title=f"{name}: score per session"),
            average=averages.get(key),
        )
        for key, name in keys
    ]
    table = TrendTable(
        columns=[name for _, name in keys],
        rows=[
            (row, [_percent_cell(series[key][index]) for key, _ in keys])
            for index, row in enumerate(history)
        ],
    )
    return trends, table


def build_overview(user: User) -> Overview:
    """Everything the progress page shows for the user, in nine queries (with the login's two)."""
    history = finished_as_candidate(user)
    digests = [row.digest for row in history]
    categories = category_infos()
    version = latest_published_version()
    step_names = dict(version.steps.values_list("number", "name")) if version else {}

    category_averages = stats.category_averages(digests)
    shown = stats.category_order(category_averages, categories)
    category_trends, category_table = _trends(
        history,
        [(info.slug, info.name) for info in shown],
        {info.slug: stats.category_series(digests, info.slug) for info in shown},
        category_averages,
    )
    step_averages = stats.step_averages(digests)
    numbers = sorted(step_averages)
    step_trends, step_table = _trends(
        history,
        [(str(n), _step_name(n, step_names)) for n in numbers],
        {str(n): stats.step_series(digests, n) for n in numbers},
        {str(n): average for n, average in step_averages.items()},
    )

    step_times = [
        StepTime(_step_name(o.number, step_names), o) for o in stats.overrun_by_step(digests)
    ]
    worst = stats.most_overrun_step([t.overrun for t in step_times])
    most_overrun = next((t for t in step_times if t.overrun == worst), None)

    return Overview(
        history=list(reversed(history)),
        category_trends=category_trends,
        category_table=category_table,
        step_trends=step_trends,
        step_table=step_table,
        most_missed=stats.most_missed(digests),
        red_flags=stats.repeated_red_flags(digests),
        step_times=step_times,
        most_overrun=most_overrun,
        recommendation=stats.recommend_case(digests, case_options(user), categories),
        rubric_version=version,
        conducted=finished_as_interviewer(user),
        awaiting_self_assessment=list(
            _finished()
            .filter(candidate=user, self_assessment=SelfAssessment.PENDING)
            .select_related("case")
            .order_by("-finished_at", "-pk")
        ),
    )


def _step_name(number: int, names: dict[int, str]) -> str:
    name = names.get(number)
    return f"{number}. {name}" if name else f"Step {number}"
