"""What the room shows, read lazily: each part is queried only when a template renders it.

A poll after a change renders only the fragments that changed, so a poll where a fact was revealed
never builds the checklist or runs the evidence matcher. Interviewer material (the checklist,
probes, hints, answers) is only ever read for a role that may see it; for a candidate those parts
are empty, whatever a template asks for.
"""

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property, lru_cache

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.safestring import SafeString

from casebank.checklist import ChecklistItem
from casebank.models import Case, CaseQuerySet, ClarificationFact
from core.queries import single
from interviews import checklist, permissions
from interviews.models import Hint, Mark, MarkSource, MarkValue, Session, SessionBoard, SessionStep
from interviews.permissions import Role
from rubrics import evidence, scoring

# Someone whose page reached the server this recently is "here". Pages write their "last seen"
# every 5 s (interviews.services.PRESENCE_WRITE_EVERY), so this allows for two missed writes.
PRESENT_WITHIN = timedelta(seconds=15)


def dom_id(key: str) -> str:
    """The element id of a checklist item, in the room and on the scorecard."""
    return "item-" + key.replace(":", "--")


def epoch_ms(moment: datetime | None) -> int | None:
    """A moment as milliseconds since the epoch, the unit of the browser's Date.now()."""
    return None if moment is None else round(moment.timestamp() * 1000)


_STEP_HEADING = re.compile(r"^##\s+(\d+)[.):]?\s")
_ANY_HEADING = re.compile(r"^#{1,2}\s")


def step_section(text: str, number: int) -> str:
    """The part of a Markdown text under its "## <number>. …" heading, up to the next heading
    of that level or higher; "" when there is none. Model answers are written one such section
    per step (docs/case-format.md), and the room shows the interviewer only the current one."""
    lines = text.splitlines()
    start = next(
        (
            index
            for index, line in enumerate(lines)
            if (found := _STEP_HEADING.match(line)) and int(found.group(1)) == number
        ),
        None,
    )
    if start is None:
        return ""
    end = next(
        (index for index in range(start + 1, len(lines)) if _ANY_HEADING.match(lines[index])),
        len(lines),
    )
    return "\n".join(lines[start + 1 : end]).strip()


def case_choices(session: Session) -> CaseQuerySet:
    """The published cases the session's candidate has not had as candidate in another session,
    in title order; every published case while nobody has joined. What matters when choosing a
    case is whether the candidate has seen it, not the host (who is usually the interviewer)."""
    cases = Case.objects.published().order_by("title")
    if session.candidate_id is None:
        return cases
    done = (
        Session.objects.filter(candidate_id=session.candidate_id)
        .exclude(pk=session.pk)
        .values("case_id")
    )
    return cases.exclude(pk__in=done)


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

    @property
    def stored_ms(self) -> int:
        """Time on the step before the stretch running now; the browser adds that stretch."""
        return round(self.step.elapsed_seconds * 1000)


@dataclass
class ChecklistEntry:
    item: ChecklistItem
    mark: Mark | None = None
    matches: tuple[evidence.EvidenceMatch, ...] = ()
    # The same matcher over the labels on the board: "feature store" written on a box.
    diagram_matches: tuple[evidence.EvidenceMatch, ...] = ()
    # Above the session's target level: counts only when covered or partly covered.
    stretch: bool = False

    @property
    def not_applicable(self) -> bool:
        return bool(self.item.excluded_reason) or bool(
            self.mark and self.mark.mark == MarkValue.NOT_APPLICABLE
        )

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

    def __init__(
        self,
        session: Session,
        role: Role,
        now: datetime,
        *,
        interviewer_on_case: bool | None = None,
        notes_since: int | None = None,
    ) -> None:
        """`interviewer_on_case`: whether the interviewer is this case's candidate elsewhere,
        if the caller has just checked it (it is read otherwise). `notes_since`: for an update
        that shows the steps' notes and nothing else of the steps, the version after which
        they changed (see noted_steps)."""
        self.session = session
        self.notes_since = notes_since
        self.role = role
        self.now = now
        self.is_interviewer = role == Role.INTERVIEWER
        self.is_candidate = role == Role.CANDIDATE
        self.is_observer = role == Role.OBSERVER
        if self.is_interviewer and interviewer_on_case is None:
            interviewer_on_case = permissions.interviewer_on_case(session)
        # An interviewer who is meanwhile this case's candidate elsewhere runs the flow, but
        # sees and touches none of the case's interviewer material.
        self.material_withheld = self.is_interviewer and bool(interviewer_on_case)
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
        self.can_change_case = self.can_control and session.is_before_start
        self.board_read_only = permissions.board_read_only(role, session)

    @property
    def now_ms(self) -> int:
        return epoch_ms(self.now) or 0

    @property
    def running_since_ms(self) -> int | None:
        return epoch_ms(self.session.running_since)

    @property
    def partner(self) -> User | None:
        """The other participant, as this viewer sees them; None in solo practice, before the
        candidate joins, and for staff looking on."""
        if self.is_interviewer:
            return self.session.candidate
        if self.is_candidate:
            return self.session.interviewer
        return None

    @property
    def partner_seen_at(self) -> datetime | None:
        if self.is_interviewer:
            return self.session.candidate_seen_at
        if self.is_candidate:
            return self.session.interviewer_seen_at
        return None

    @property
    def partner_seen_ms(self) -> int | None:
        return epoch_ms(self.partner_seen_at)

    @property
    def partner_present(self) -> bool:
        seen = self.partner_seen_at
        return seen is not None and self.now - seen < PRESENT_WITHIN

    @property
    def present_within_ms(self) -> int:
        return int(PRESENT_WITHIN.total_seconds() * 1000)

    @cached_property
    def case_choices(self) -> list[Case]:
        """Cases to change to before the start (see case_choices), for who may change it."""
        if not self.can_change_case:
            return []
        return list(case_choices(self.session))

    @property
    def case_is_new_to_candidate(self) -> bool:
        """The current case is one the candidate has not had before (True while unknown)."""
        if self.session.candidate_id is None:
            return True
        return any(case.pk == self.session.case_id for case in self.case_choices)

    @property
    def other_cases(self) -> list[Case]:
        return [case for case in self.case_choices if case.pk != self.session.case_id]

    def _step_views(self, steps: QuerySet[SessionStep]) -> list[StepView]:
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
            for step in steps.select_related("rubric_step")
        ]

    @cached_property
    def steps(self) -> list[StepView]:
        return self._step_views(self.session.steps.all())

    @cached_property
    def noted_steps(self) -> list[StepView]:
        """The steps whose notes changed after `notes_since`, and the current step (the
        evidence is found in its notes). A notes change after a save shows only these: reading
        them alone spares reading and building the other steps with their notes."""
        since = self.notes_since
        if since is None or "steps" in self.__dict__:
            since = -1 if since is None else since
            return [s for s in self.steps if s.is_current or s.step.notes_stamp > since]
        current = self.session.current_step
        return self._step_views(
            self.session.steps.filter(Q(notes_stamp__gt=since) | Q(number=current))
        )

    @property
    def current(self) -> StepView:
        steps = self.noted_steps if self.notes_since is not None else self.steps
        return next(s for s in steps if s.is_current)

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

    @property
    def total_stored_ms(self) -> int:
        return sum(s.stored_ms for s in self.steps)

    @property
    def total_overrun(self) -> int:
        return max(0, self.total_elapsed - self.total_budget_seconds)

    @property
    def total_remaining(self) -> int:
        return max(0, self.total_budget_seconds - self.total_elapsed)

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
    def _items(self) -> list[ChecklistItem]:
        session = self.session
        return checklist.session_checklist(session, step=session.current_step)

    @cached_property
    def _marks(self) -> dict[str, Mark]:
        session = self.session
        return {
            m.item_key: m
            for m in session.marks.filter(
                source=MarkSource.INTERVIEWER, step_number=session.current_step
            )
        }

    @cached_property
    def _phrases(self) -> evidence.PhraseIndex:
        # Red flags are the interviewer's judgement, never hinted; items that do not apply to
        # the case have nothing to hint.
        items = self._items
        return _phrase_index(
            tuple((i.key, i.keywords) for i in items if not i.is_red_flag and not i.excluded_reason)
        )

    @cached_property
    def _notes_matches(self) -> dict[str, tuple[evidence.EvidenceMatch, ...]]:
        """Evidence found in the current step's notes, by item."""
        notes = self.current.step.notes
        return evidence.find_evidence(notes, self._phrases) if notes else {}

    @cached_property
    def _diagram_matches(self) -> dict[str, tuple[evidence.EvidenceMatch, ...]]:
        """Evidence found in the labels on the board, by item."""
        # Only the labels, kept beside the scene by save_board: the scene itself is not read.
        labels = SessionBoard.objects.filter(session=self.session).values_list("labels", flat=True)
        return _diagram_evidence(single(labels) or [], self._phrases)

    def _entries(self, *, notes: bool, diagram: bool) -> list[ChecklistEntry]:
        """The current step's items, without the marks, with the evidence of either source."""
        if not self.sees_material:
            return []
        found = self._notes_matches if notes else {}
        drawn = self._diagram_matches if diagram else {}
        return [
            ChecklistEntry(
                item,
                matches=found.get(item.key, ()),
                stretch=self._is_stretch(item),
                diagram_matches=drawn.get(item.key, ()),
            )
            for item in self._items
        ]

    @cached_property
    def evidence(self) -> list[ChecklistEntry]:
        """The current step's items with the evidence from the notes and from the board."""
        return self._entries(notes=True, diagram=True)

    @cached_property
    def notes_evidence(self) -> list[ChecklistEntry]:
        """The items with their evidence from the notes alone: all that a notes change shows
        (each evidence line has a part for each source), so it does not read the board."""
        return self._entries(notes=True, diagram=False)

    @cached_property
    def diagram_evidence(self) -> list[ChecklistEntry]:
        """The items with their evidence from the board alone, for a board change."""
        return self._entries(notes=False, diagram=True)

    @cached_property
    def checklist(self) -> list[ChecklistEntry]:
        """The current step's items with the interviewer's marks and the evidence."""
        if not self.sees_material:
            return []
        marks = self._marks
        return [replace(entry, mark=marks.get(entry.key)) for entry in self.evidence]

    @cached_property
    def step_score(self) -> scoring.Score | None:
        # Marks and items alone: a mark's answer shows the score without the step's evidence.
        items = self._items if self.sees_material else []
        if not items:
            return None
        card = checklist.score_items(self.session, items, self._marks.values())
        return card.steps.get(self.session.current_step)

    @cached_property
    def probes(self) -> SafeString:
        """The case's probes for the current step, rendered."""
        if not self.sees_material:
            return SafeString("")
        return checklist.step_probes(self.session)

    @cached_property
    def hints(self) -> list[Hint]:
        if not self.sees_material:
            return []
        return list(self.session.hints.filter(step_number=self.session.current_step))

    @property
    def evidence_excerpts(self) -> str:
        """The words of the notes that matched checklist items, as a JSON list, for the
        interviewer's notes pane to highlight."""
        excerpts = dict.fromkeys(m.excerpt for e in self.notes_evidence for m in e.matches)
        return json.dumps(list(excerpts))

    @cached_property
    def model_answer_for_step(self) -> str:
        if not self.sees_material:
            return ""
        return step_section(self.session.case.model_answer, self.session.current_step)

    @cached_property
    def mark_url(self) -> str:
        """Where every checklist item's marks go: reversed once per render, where the template's
        url tag reversed it three times an item (a step change renders some twenty items)."""
        return reverse("interviews:mark", args=[self.session.pk])

    def _is_stretch(self, item: ChecklistItem) -> bool:
        """Above the session's target level: counts only when covered or partly covered."""
        target = scoring.Level(self.session.target_level)
        return not item.is_red_flag and item.level.rank > target.rank

    def entry(self, key: str) -> ChecklistEntry | None:
        """One item of the current step with its mark, for a mark's answer, which shows that
        item alone. A mark changes no evidence, so the answer leaves the item's evidence line on
        the page as it is (the template's mark-update keeps it with htmx's hx-preserve; the
        stream keeps it current) and none is looked for here."""
        item = next((i for i in self._items if i.key == key), None) if self.sees_material else None
        if item is None:
            return None
        return ChecklistEntry(item, mark=self._marks.get(key), stretch=self._is_stretch(item))


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
