"""Read side: everything a scorecard shows, assembled in a fixed number of queries.

The numbers come from rubrics.scoring.score over the stored marks, never from the digest stored on
the session, so the scorecard always equals what the rules give. What a role may see is decided
by scorecards.permissions; the builders below load only that.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from casebank.checklist import ChecklistItem, expected_count
from interviews.board import Element
from interviews.checklist import result_source, score_items, session_checklist
from interviews.models import BoardSnapshot, Hint, Mark, MarkSource, Session, SessionStep
from interviews.permissions import Role
from interviews.room import dom_id
from rubrics import scoring
from rubrics.models import Category, RubricVersion
from rubrics.scoring import decimal_text
from scorecards import calibration, charts, permissions
from scorecards.models import Rescore

HIGHLIGHTS = 5  # items listed under "Strengths" and under "Work on next"
_LOSS_RANK: dict[scoring.Mark | None, int] = {
    scoring.Mark.MISSED: 0,
    scoring.Mark.OBSERVED: 1,
    scoring.Mark.PARTIAL: 2,
}
ALT_LABELS = 12  # labels named in a diagram's text alternative; the rest are counted


@dataclass
class Checklist:
    """The session's items in checklist order, with the candidate-facing text of each."""

    entries: list[ChecklistItem]

    @property
    def items(self) -> list[scoring.Item]:
        return [entry.scoring_item for entry in self.entries]

    @property
    def texts(self) -> dict[str, str]:
        return {entry.key: entry.candidate_text for entry in self.entries}

    @property
    def keys(self) -> list[str]:
        return [entry.key for entry in self.entries]

    @property
    def excluded(self) -> dict[str, str]:
        """The case's own not-applicable items and the author's reason for each."""
        return {entry.key: entry.excluded_reason for entry in self.entries if entry.excluded_reason}


def load_checklist(session: Session) -> Checklist:
    """Five queries: rubric items, their categories, case items, theirs, the case's exclusions."""
    return Checklist(entries=session_checklist(session))


# --- the self-assessment page -------------------------------------------------------------------


@dataclass
class SelfAssessmentStep:
    number: int
    name: str
    notes: str
    items: list[scoring.Item]


@dataclass
class SelfAssessmentData:
    steps: list[SelfAssessmentStep]
    checklist: Checklist
    marks: dict[str, Mark]  # the candidate's own (draft) marks only

    @property
    def expected(self) -> int:
        return sum(1 for item in self.checklist.items if item.kind is scoring.Kind.EXPECTED)

    @property
    def marked(self) -> int:
        """Expected items marked; a red flag left alone is simply not observed."""
        kinds = {item.key: item.kind for item in self.checklist.items}
        return sum(
            1
            for key, mark in self.marks.items()
            if mark.mark and kinds.get(key) is scoring.Kind.EXPECTED
        )

    def marked_in(self, step: SelfAssessmentStep) -> int:
        """Expected items of one step marked, for the page's progress per step."""
        return sum(
            1
            for item in step.items
            if item.kind is scoring.Kind.EXPECTED
            and (mark := self.marks.get(item.key)) is not None
            and mark.mark
        )


def self_assessment_data(session: Session) -> SelfAssessmentData:
    """The checklist and the candidate's own marks; nothing of the interviewer's is read."""
    checklist = load_checklist(session)
    marks = {m.item_key: m for m in session.marks.filter(source=MarkSource.SELF)}
    steps = [
        SelfAssessmentStep(
            number=step.number,
            name=step.rubric_step.name,
            notes=step.notes,
            items=[item for item in checklist.items if item.step == step.number],
        )
        for step in session.steps.select_related("rubric_step")
    ]
    return SelfAssessmentData(steps=steps, checklist=checklist, marks=marks)


@dataclass
class SelfAssessmentCounts:
    marked: int
    expected: int


def self_assessment_counts(session: Session) -> SelfAssessmentCounts:
    """How far the self-assessment is, in three counting queries, for the per-item save."""
    marked = (
        session.marks.filter(source=MarkSource.SELF)
        .exclude(mark__in=["", scoring.Mark.OBSERVED])
        .count()
    )
    return SelfAssessmentCounts(
        marked=marked, expected=expected_count(session.rubric_version_id, session.case_id)
    )


# --- the scorecard --------------------------------------------------------------------------------


@dataclass
class ItemRow:
    item: scoring.Item
    position: int  # in checklist order: the last tie-breaker wherever items are sorted
    candidate_text: str
    line: scoring.Line
    mark: Mark | None  # the stored row behind `line`, for its timestamp
    own_line: scoring.Line | None = None  # the candidate's self-assessment, when shown
    own_mark: Mark | None = None
    # Who judged the item not applicable, and why: the case's author, or the interviewer.
    not_applicable_by: str = ""
    not_applicable_reason: str = ""

    @property
    def key(self) -> str:
        return self.item.key

    @property
    def dom_id(self) -> str:
        return dom_id(self.item.key)

    @property
    def is_red_flag(self) -> bool:
        return self.item.kind is scoring.Kind.RED_FLAG

    @property
    def label(self) -> str:
        return calibration.mark_label(self.line)

    @property
    def own_label(self) -> str:
        return calibration.mark_label(self.own_line) if self.own_line else ""

    @property
    def unmarked(self) -> bool:
        """Nobody marked it: not the interviewer (or the solo candidate), nor the candidate's
        self-assessment when it is shown. The scorecard groups these out of the way."""
        return self.line.mark is None and (self.own_line is None or self.own_line.mark is None)

    @property
    def agrees(self) -> bool | None:
        # An item neither marked is left out of the comparison (see calibration.compare).
        if self.own_line is None or self.unmarked:
            return None
        return calibration.outcome(self.line) == calibration.outcome(self.own_line)

    @property
    def lead_order(self) -> tuple[int, int]:
        """Where the row stands on the scorecard: what lost points first (missed, a red flag
        observed, partial), then what earned points with a hint, then covered."""
        line = self.line
        if line.mark is scoring.Mark.COVERED:
            rank = 3 if line.after_hint else 4
        else:
            rank = _LOSS_RANK.get(line.mark, 5)
        return rank, self.position

    @property
    def observed(self) -> bool:
        return self.line.mark is scoring.Mark.OBSERVED

    @property
    def points_short(self) -> str:
        """The line's points without the working, for the printout: "0.5 of 1 pt", "−2 pt"."""
        if self.is_red_flag:
            return f"−{decimal_text(self.line.deducted)} pt" if self.observed else "0 pt"
        return f"{decimal_text(self.line.earned)} of {self.item.points} pt"


@dataclass
class StepReport:
    number: int
    name: str
    budget_minutes: int
    elapsed_seconds: float
    comment: str
    notes: str
    notes_saved_after_finish: bool  # within the grace period (interviews.services.save_notes)
    score: scoring.Score
    own_score: scoring.Score | None
    rows: list[ItemRow]
    hints: list[Hint]

    @property
    def elapsed(self) -> int:
        return int(self.elapsed_seconds)

    @property
    def budget_seconds(self) -> int:
        return self.budget_minutes * 60

    @property
    def overrun_seconds(self) -> int:
        # Rounded like the stored digest's overrun (interviews.digest.StepTime), so both agree.
        return max(0, round(self.elapsed_seconds - self.budget_seconds))

    @property
    def overrun_minutes(self) -> Decimal:
        minutes = Decimal(self.overrun_seconds) / 60
        return minutes.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def red_flags(self) -> list[ItemRow]:
        return [row for row in self.rows if row.observed]

    @property
    def marked_rows(self) -> list[ItemRow]:
        """The rows someone marked, what lost points first (see ItemRow.lead_order)."""
        return sorted(
            (row for row in self.rows if not row.unmarked), key=lambda row: row.lead_order
        )

    @property
    def unmarked_rows(self) -> list[ItemRow]:
        return [row for row in self.rows if row.unmarked]


@dataclass
class CategoryReport:
    slug: str
    name: str
    score: scoring.Score
    own_score: scoring.Score | None


@dataclass
class RescoreView:
    """A stored re-score beside the session's own scores, ready to show."""

    rescore: Rescore
    steps: list[tuple[str, str, str]]  # (step, the session's own score, the re-score)
    categories: list[tuple[str, str, str]]  # (category name, own score, re-score)

    @property
    def total(self) -> str:
        return _shown(self.rescore.result["total"])

    @property
    def band_label(self) -> str:
        return str(self.rescore.result["band_label"])

    @property
    def capped(self) -> bool:
        return bool(self.rescore.result["capped"])

    @property
    def unmapped(self) -> list[dict[str, object]]:
        return list(self.rescore.unmapped_keys.get("unmapped", []))

    @property
    def new(self) -> list[dict[str, object]]:
        return list(self.rescore.unmapped_keys.get("new", []))


def _shown(score: dict[str, object]) -> str:
    """A stored re-score's percentage, shown from its exact value like every other score."""
    exact = score.get("percent_exact")
    return scoring.percent_label(Fraction(str(exact)) if exact is not None else None)


def percent_text(score: scoring.Score | None) -> str:
    return "" if score is None else scoring.percent_label(score.percent)


@dataclass
class DiagramView:
    """A board snapshot on the scorecard: the picture is served from its own URL (the view
    `scorecards:diagram`), so the scene itself is not loaded here."""

    snapshot: BoardSnapshot

    @property
    def pk(self) -> int:
        return self.snapshot.pk

    @property
    def caption(self) -> str:
        number = self.snapshot.step_number
        return (
            f"At the finish (step {number})" if self.snapshot.at_finish else f"After step {number}"
        )

    @property
    def alt(self) -> str:
        """The text alternative: what the picture holds, in words."""
        count = self.snapshot.element_count
        if not count:
            return "An empty board."
        text = f"A diagram of {count} element{'s' if count != 1 else ''}"
        labels = self.snapshot.labels
        if not labels:
            return text + ", without labels."
        named = "; ".join(labels[:ALT_LABELS])
        more = len(labels) - ALT_LABELS
        return text + f", labelled: {named}" + (f"; and {more} more." if more > 0 else ".")


@dataclass
class Diagram:
    """The session's board as kept: a snapshot at each step change and at the finish, when it
    had changed (interviews.services). The board is frozen at the finish, so the last snapshot
    is the final diagram."""

    snapshots: list[DiagramView]

    @property
    def final(self) -> DiagramView | None:
        last = self.snapshots[-1] if self.snapshots else None
        return last if last is not None and last.snapshot.element_count else None


def load_diagram(session: Session) -> Diagram:
    """One query; the scenes stay unread (they may be large, and the pictures need their own)."""
    snapshots = session.board_snapshots.defer("elements")
    return Diagram(snapshots=[DiagramView(snapshot) for snapshot in snapshots])


def final_scene(session: Session) -> list[Element]:
    """The final diagram's elements, for the JSON export: the last snapshot's, in one query."""
    last = session.board_snapshots.order_by("-taken_at", "-id").values_list("elements", flat=True)
    return last.first() or []


@dataclass
class Report:
    session: Session
    role: Role
    rubric_name: str
    source: MarkSource
    card: scoring.Scorecard
    own_card: scoring.Scorecard | None  # the candidate's marks, when compared
    rows: list[ItemRow]
    steps: list[StepReport]
    categories: list[CategoryReport]
    chart: charts.BarChart
    strengths: list[ItemRow]
    work_on_next: list[ItemRow]
    calibration: calibration.Calibration | None
    rescores: list[RescoreView]
    thresholds_text: str
    diagram: Diagram
    rules: tuple[str, ...] = scoring.RULES

    @property
    def missed_required_titles(self) -> list[str]:
        return [item.title for item in self.card.missed_required]


def strengths(rows: list[ItemRow]) -> list[ItemRow]:
    """The highest-point expected items covered without a hint: points, then checklist order."""
    covered = [
        row
        for row in rows
        if row.item.kind is scoring.Kind.EXPECTED
        and row.line.mark is scoring.Mark.COVERED
        and not row.line.after_hint
    ]
    return sorted(covered, key=lambda row: (-row.item.points, row.item.step, row.position))[
        :HIGHLIGHTS
    ]


def work_on_next(rows: list[ItemRow]) -> list[ItemRow]:
    """The expected items missed (or not marked): required first, then points, then order.
    Stretch items are left out: above the session's level, missing one is never a loss."""
    missed = [
        row
        for row in rows
        if row.item.kind is scoring.Kind.EXPECTED
        and row.line.mark in (None, scoring.Mark.MISSED)
        and not row.line.stretch
    ]
    return sorted(
        missed,
        key=lambda row: (not row.item.required, -row.item.points, row.item.step, row.position),
    )[:HIGHLIGHTS]


def build_report(session: Session, role: Role) -> Report:
    """The scorecard of a finished session for a role that may see its results.

    Queries: the steps, the checklist (five), all marks, the hints, the category names, the
    rubric's name, the re-scores and the board's snapshots; the same whatever the session holds.
    """
    if not permissions.sees_results(role, session):
        raise ValueError("This role may not see this session's results yet.")
    checklist = load_checklist(session)
    thresholds = session.rubric_version.thresholds
    source = result_source(session)
    rows_by_source: dict[str, dict[str, Mark]] = {MarkSource.INTERVIEWER: {}, MarkSource.SELF: {}}
    for mark in session.marks.all():
        rows_by_source[mark.source][mark.item_key] = mark
    result_marks = rows_by_source[source]
    card = score_items(session, checklist.entries, result_marks.values())
    own_marks: dict[str, Mark] = {}
    own_card = None
    if permissions.shows_comparison(role, session):
        own_marks = rows_by_source[MarkSource.SELF]
        own_card = score_items(session, checklist.entries, own_marks.values())
    rows = [
        ItemRow(
            item=line.item,
            position=index,
            candidate_text=checklist.texts.get(line.item.key, ""),
            line=line,
            mark=result_marks.get(line.item.key),
            own_line=own_card.lines[index] if own_card else None,
            own_mark=own_marks.get(line.item.key),
            **_not_applicable(line, checklist.excluded, result_marks.get(line.item.key)),
        )
        for index, line in enumerate(card.lines)
    ]
    hints = list(session.hints.all())
    steps = [
        _step_report(session, step, card, own_card, rows, hints)
        for step in session.steps.select_related("rubric_step")
    ]
    rescores = list(session.rescores.select_related("rubric_version__rubric", "created_by"))
    slugs = set(card.categories)
    for rescore in rescores:
        slugs |= set(rescore.result["categories"])
    names = dict(
        Category.objects.filter(slug__in=slugs)
        .order_by("position", "slug")
        .values_list("slug", "name")
    )
    categories = [
        CategoryReport(
            slug=slug,
            name=name,
            score=card.categories[slug],
            own_score=own_card.categories[slug] if own_card else None,
        )
        for slug, name in names.items()
        if slug in card.categories
    ]
    return Report(
        session=session,
        role=role,
        rubric_name=session.rubric_version.rubric.name,
        source=source,
        card=card,
        own_card=own_card,
        rows=rows,
        steps=steps,
        categories=categories,
        chart=charts.bar_chart([(c.name, c.score.percent) for c in categories]),
        strengths=strengths(rows),
        work_on_next=work_on_next(rows),
        calibration=calibration.compare(card, own_card) if own_card else None,
        rescores=[_rescore_view(rescore, card, names) for rescore in rescores],
        thresholds_text=thresholds.describe(),
        diagram=load_diagram(session),
    )


def _not_applicable(
    line: scoring.Line, excluded: dict[str, str], mark: Mark | None
) -> dict[str, str]:
    """Who judged the line's item not applicable, and why (see ItemRow)."""
    if not line.not_applicable:
        return {}
    if line.item.key in excluded:
        return {
            "not_applicable_by": "the case's author",
            "not_applicable_reason": excluded[line.item.key],
        }
    who = mark.marked_by.get_username() if mark and mark.marked_by else "the interviewer"
    return {"not_applicable_by": who, "not_applicable_reason": mark.reason if mark else ""}


def _step_report(
    session: Session,
    step: SessionStep,
    card: scoring.Scorecard,
    own_card: scoring.Scorecard | None,
    rows: list[ItemRow],
    hints: list[Hint],
) -> StepReport:
    empty = scoring.Score(Fraction(0), Fraction(0), Fraction(0))
    return StepReport(
        number=step.number,
        name=step.rubric_step.name,
        budget_minutes=step.budget_minutes,
        elapsed_seconds=step.elapsed_seconds,
        comment=step.comment,
        notes=step.notes,
        notes_saved_after_finish=bool(
            step.notes_updated_at
            and session.finished_at
            and step.notes_updated_at > session.finished_at
        ),
        score=card.steps.get(step.number, empty),
        own_score=own_card.steps.get(step.number, empty) if own_card else None,
        rows=[row for row in rows if row.item.step == step.number],
        hints=[hint for hint in hints if hint.step_number == step.number],
    )


def _rescore_view(rescore: Rescore, card: scoring.Scorecard, names: dict[str, str]) -> RescoreView:
    result = rescore.result
    steps = sorted(set(result["steps"]) | {str(number) for number in card.steps}, key=int)
    slugs = [slug for slug in names if slug in result["categories"] or slug in card.categories]
    return RescoreView(
        rescore=rescore,
        steps=[
            (
                f"Step {number}",
                percent_text(card.steps.get(int(number))),
                _shown(result["steps"][number]) if number in result["steps"] else "",
            )
            for number in steps
        ],
        categories=[
            (
                names[slug],
                percent_text(card.categories.get(slug)),
                _shown(result["categories"][slug]) if slug in result["categories"] else "",
            )
            for slug in slugs
        ],
    )


def other_versions(session: Session) -> list[RubricVersion]:
    """The published versions of the session's rubric it could be re-scored under."""
    return list(
        RubricVersion.objects.published()
        .filter(rubric_id=session.rubric_version.rubric_id)
        .exclude(pk=session.rubric_version_id)
        .select_related("rubric")
        .order_by("-number")
    )
