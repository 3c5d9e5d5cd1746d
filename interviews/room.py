"""Read-side helpers that assemble what the room shows, in a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from casebank.models import CaseItem, ClarificationFact, StepProbe
from interviews.models import Hint, Mark, MarkSource, Session, SessionStep
from interviews.permissions import Role, controls_flow, sees_interviewer_material
from interviews.services import step_elapsed
from rubrics import evidence, scoring
from rubrics.models import Item
from rubrics.services import CASE_ITEM_PREFIX


@dataclass
class StepView:
    step: SessionStep
    name: str
    description: str
    seconds: float
    budget_seconds: int
    is_current: bool

    @property
    def elapsed(self) -> int:
        return int(self.seconds)

    @property
    def overrun(self) -> int:
        return max(0, self.elapsed - self.budget_seconds)

    @property
    def remaining(self) -> int:
        return max(0, self.budget_seconds - self.elapsed)


@dataclass
class ChecklistEntry:
    key: str
    title: str
    probe: str
    candidate_text: str
    kind: str
    points: int
    required: bool
    categories: list[str]
    keywords: list[str]
    mark: Mark | None = None
    matches: tuple[evidence.EvidenceMatch, ...] = ()

    @property
    def is_red_flag(self) -> bool:
        return self.kind == scoring.Kind.RED_FLAG

    @property
    def dom_id(self) -> str:
        return "item-" + self.key.replace(":", "--")


@dataclass
class FactView:
    fact: ClarificationFact
    revealed: bool


@dataclass
class RoomState:
    session: Session
    role: Role
    now: datetime
    steps: list[StepView]
    facts: list[FactView]
    controls: bool
    interviewer_view: bool
    checklist: list[ChecklistEntry] = field(default_factory=list)
    step_score: scoring.Score | None = None
    probes: str = ""
    hints: list[Hint] = field(default_factory=list)

    @property
    def current(self) -> StepView:
        return next(s for s in self.steps if s.is_current)

    @property
    def total_elapsed(self) -> int:
        # Sum before flooring: floored step times would lag by up to a second per step.
        return int(sum(s.seconds for s in self.steps))

    @property
    def total_budget_seconds(self) -> int:
        return self.session.length_minutes * 60

    @property
    def revealed_facts(self) -> list[FactView]:
        return [f for f in self.facts if f.revealed]


def room_state(
    session: Session, role: Role, now: datetime, *, with_material: bool = True
) -> RoomState:
    steps = [
        StepView(
            step=step,
            name=step.rubric_step.name,
            description=step.rubric_step.description,
            seconds=step_elapsed(session, step, now),
            budget_seconds=step.budget_minutes * 60,
            is_current=step.number == session.current_step,
        )
        for step in session.steps.select_related("rubric_step")
    ]
    revealed = set(session.reveals.values_list("fact_id", flat=True))
    facts = [FactView(fact, fact.pk in revealed) for fact in session.case.facts.all()]
    interviewer_view = sees_interviewer_material(role)
    state = RoomState(
        session=session,
        role=role,
        now=now,
        steps=steps,
        facts=facts,
        controls=controls_flow(role, session),
        interviewer_view=interviewer_view,
    )
    if interviewer_view and with_material:
        _add_interviewer_material(state)
    return state


def _add_interviewer_material(state: RoomState) -> None:
    session = state.session
    number = session.current_step
    state.checklist = checklist_for_step(session, number)
    marks = {
        m.item_key: m
        for m in session.marks.filter(source=MarkSource.INTERVIEWER, step_number=number)
    }
    current = state.current.step
    index = _phrase_index(tuple((e.key, tuple(e.keywords)) for e in state.checklist))
    found = evidence.find_evidence(current.notes, index) if current.notes else {}
    for entry in state.checklist:
        entry.mark = marks.get(entry.key)
        entry.matches = found.get(entry.key, ())
    state.step_score = step_score(state.checklist, number)
    probe = StepProbe.objects.filter(case_id=session.case_id, step=number).first()
    state.probes = probe.text if probe else ""
    state.hints = list(session.hints.filter(step_number=number))


def checklist_for_step(session: Session, number: int) -> list[ChecklistEntry]:
    rubric_items = Item.objects.filter(
        step__version_id=session.rubric_version_id, step__number=number
    ).prefetch_related("categories")
    case_items = CaseItem.objects.filter(case_id=session.case_id, step=number).prefetch_related(
        "categories"
    )
    entries = [_entry(item, item.key) for item in rubric_items]
    entries += [_entry(item, f"{CASE_ITEM_PREFIX}{item.key}") for item in case_items]
    return entries


def _entry(item: Item | CaseItem, key: str) -> ChecklistEntry:
    return ChecklistEntry(
        key=key,
        title=item.title,
        probe=item.probe,
        candidate_text=item.candidate_text,
        kind=item.kind,
        points=item.points,
        required=item.required,
        categories=[c.name for c in item.categories.all()],
        keywords=item.keyword_list,
    )


def step_score(entries: list[ChecklistEntry], number: int) -> scoring.Score | None:
    items = [
        scoring.Item(
            key=e.key, step=number, title=e.title, points=e.points, kind=e.kind, required=e.required
        )
        for e in entries
    ]
    marks = {
        e.key: scoring.ItemMark(
            scoring.Mark(e.mark.mark) if e.mark and e.mark.mark else None,
            after_hint=bool(e.mark and e.mark.after_hint),
        )
        for e in entries
    }
    if not items:
        return None
    return scoring.score(items, marks).steps.get(number)


@lru_cache(maxsize=256)
def _phrase_index(
    keywords: tuple[tuple[str, tuple[str, ...]], ...],
) -> evidence.PhraseIndex:
    # Items and their keywords change only with a new rubric version or a case edit, so the
    # compiled index is reused across polls instead of rebuilt each time.
    return evidence.compile_phrases(
        [evidence.EvidenceItem(key, phrases) for key, phrases in keywords if phrases]
    )
