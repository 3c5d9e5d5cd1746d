"""What the room shows, read lazily: each part is queried only when a template renders it.

A poll after a change renders only the fragments that changed, so a poll where a fact was revealed
never builds the checklist or runs the evidence matcher. Interviewer material (the checklist,
probes, hints, answers) is only ever read for a role that may see it; for a candidate those parts
are empty, whatever a template asks for.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache

from casebank.checklist import ChecklistItem
from casebank.models import ClarificationFact, StepProbe
from interviews import checklist, permissions
from interviews.models import Hint, Mark, MarkSource, Session, SessionBoard, SessionStep
from interviews.permissions import Role
from rubrics import evidence, scoring


def dom_id(key: str) -> str:
    """The element id of a checklist item, in the room and on the scorecard."""
    return "item-" + key.replace(":", "--")


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
    item: ChecklistItem
    mark: Mark | None = None
    matches: tuple[evidence.EvidenceMatch, ...] = ()
    # The same matcher over the labels on the board: "feature store" written on a box.
    diagram_matches: tuple[evidence.EvidenceMatch, ...] = ()

    @property
    def key(self) -> str:
        return self.item.key

    @property
    def dom_id(self) -> str:
        return dom_id(self.item.key)


@dataclass
class FactView:
    fact: ClarificationFact
    revealed: bool


class RoomState:
    """The room for one viewer at one moment. Templates read booleans, never roles."""

    def __init__(self, session: Session, role: Role, now: datetime) -> None:
        self.session = session
        self.role = role
        self.now = now
        self.is_interviewer = role == Role.INTERVIEWER
        self.is_candidate = role == Role.CANDIDATE
        self.is_observer = role == Role.OBSERVER
        # An interviewer who is meanwhile this case's candidate elsewhere runs the flow, but
        # sees and touches none of the case's interviewer material.
        self.material_withheld = self.is_interviewer and permissions.candidate_on_case(
            session.interviewer, session.case
        )
        self.sees_material = (
            permissions.sees_interviewer_material(role) and not self.material_withheld
        )
        self.can_control = permissions.controls_flow(role, session)
        self.writes_notes = permissions.writes_notes(role)
        uses_tools = self.is_interviewer and not self.material_withheld
        self.can_mark = uses_tools and session.is_live
        self.can_hint = uses_tools and session.is_live
        self.can_reveal = uses_tools and not session.is_finished
        self.can_comment = uses_tools and not session.is_finished
        self.manages_invite = self.is_interviewer and session.candidate_id is None
        self.board_read_only = permissions.board_read_only(role, session)

    @cached_property
    def steps(self) -> list[StepView]:
        session = self.session
        return [
            StepView(
                step=step,
                name=step.rubric_step.name,
                description=step.rubric_step.description,
                seconds=session.step_elapsed(step, self.now),
                budget_seconds=step.budget_minutes * 60,
                is_current=step.number == session.current_step,
            )
            for step in session.steps.select_related("rubric_step")
        ]

    @property
    def current(self) -> StepView:
        return next(s for s in self.steps if s.is_current)

    @property
    def is_first_step(self) -> bool:
        return self.session.current_step == 1

    @property
    def is_last_step(self) -> bool:
        return self.session.current_step == len(self.steps)

    @property
    def total_elapsed(self) -> int:
        # Sum before flooring: floored step times would lag by up to a second per step.
        return int(sum(s.seconds for s in self.steps))

    @property
    def total_budget_seconds(self) -> int:
        return self.session.length_minutes * 60

    @cached_property
    def facts(self) -> list[FactView]:
        """Every fact with its answer for who may see them; only revealed ones otherwise."""
        session = self.session
        revealed = set(session.reveals.values_list("fact_id", flat=True))
        if not self.sees_material:
            # Unrevealed answers are not even read for the candidate.
            return [FactView(fact, True) for fact in session.case.facts.filter(pk__in=revealed)]
        return [FactView(fact, fact.pk in revealed) for fact in session.case.facts.all()]

    @cached_property
    def checklist(self) -> list[ChecklistEntry]:
        """The current step's items with the interviewer's marks and evidence from the notes
        and from the labels on the board."""
        if not self.sees_material:
            return []
        session = self.session
        number = session.current_step
        items = checklist.session_checklist(session, step=number)
        marks = {
            m.item_key: m
            for m in session.marks.filter(source=MarkSource.INTERVIEWER, step_number=number)
        }
        notes = self.current.step.notes
        index = _phrase_index(tuple((i.key, i.keywords) for i in items))
        found = evidence.find_evidence(notes, index) if notes else {}
        # Only the labels, kept beside the scene by save_board: the scene itself is not read.
        labels = SessionBoard.objects.filter(session=session).values_list("labels", flat=True)
        drawn = _diagram_evidence(labels.first() or [], index)
        return [
            ChecklistEntry(
                item,
                mark=marks.get(item.key),
                matches=found.get(item.key, ()),
                diagram_matches=drawn.get(item.key, ()),
            )
            for item in items
        ]

    @cached_property
    def step_score(self) -> scoring.Score | None:
        entries = self.checklist
        if not entries:
            return None
        card = checklist.score_items(
            self.session,
            [e.item for e in entries],
            (e.mark for e in entries if e.mark is not None),
        )
        return card.steps.get(self.session.current_step)

    @cached_property
    def probes(self) -> str:
        if not self.sees_material:
            return ""
        session = self.session
        probe = StepProbe.objects.filter(case_id=session.case_id, step=session.current_step).first()
        return probe.text if probe else ""

    @cached_property
    def hints(self) -> list[Hint]:
        if not self.sees_material:
            return []
        return list(self.session.hints.filter(step_number=self.session.current_step))

    def entry(self, key: str) -> ChecklistEntry | None:
        return next((e for e in self.checklist if e.key == key), None)


def _diagram_evidence(
    labels: list[str], index: evidence.PhraseIndex
) -> dict[str, tuple[evidence.EvidenceMatch, ...]]:
    """Evidence from the board, matched label by label: "feature" on one box and "store" on the
    next are not the phrase "feature store". Each excerpt once per item, at most
    MAX_MATCHES_PER_ITEM, in drawing order."""
    found: dict[str, list[evidence.EvidenceMatch]] = {}
    for label in labels:
        for key, matches in evidence.find_evidence(label, index).items():
            kept = found.setdefault(key, [])
            for match in matches:
                if len(kept) < evidence.MAX_MATCHES_PER_ITEM and all(
                    match.excerpt != other.excerpt for other in kept
                ):
                    kept.append(match)
    return {key: tuple(matches) for key, matches in found.items()}


@lru_cache(maxsize=256)
def _phrase_index(
    keywords: tuple[tuple[str, tuple[str, ...]], ...],
) -> evidence.PhraseIndex:
    # Items and their keywords change only with a new rubric version or a case edit, so the
    # compiled index is reused across polls instead of rebuilt each time.
    return evidence.compile_phrases(
        [evidence.EvidenceItem(key, phrases) for key, phrases in keywords if phrases]
    )
