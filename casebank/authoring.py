"""Reads for writing cases in the admin: the rubric an author writes against, and the preview.

The checklist comes from casebank.checklist, the one join of rubric and case items the room uses.
A preview before saving has no case rows yet: its case items come from the form, appended after
the rubric's items of each step exactly as that join orders them.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from casebank.caseformat import CaseData, FactData
from casebank.checklist import CASE_ITEM_PREFIX, ChecklistItem, case_checklist
from casebank.models import Case
from casebank.overlap import ItemText
from casebank.rules import STEP_COUNT
from rubrics import scoring
from rubrics.models import Category, RubricVersion
from rubrics.services import latest_published_version

# No case has the id 0 (ids start at 1), so the join with it gives the rubric's items alone.
_NO_CASE = 0


@dataclass(frozen=True)
class RubricStep:
    number: int
    name: str
    budget_45: int | None = None
    budget_60: int | None = None

    @property
    def label(self) -> str:
        return f"Step {self.number} · {self.name}" if self.name else f"Step {self.number}"


@dataclass(frozen=True)
class RubricContext:
    """The default rubric's latest published version, as the case admin needs it."""

    version: RubricVersion | None
    steps: tuple[RubricStep, ...]  # always one per step; unnamed when no rubric is loaded
    items: tuple[ChecklistItem, ...]  # the rubric's own, in the room's order
    category_names: dict[str, str]  # by slug
    category_choices: tuple[tuple[int, str], ...]  # (pk, name), in the rubric's order

    @property
    def name(self) -> str:
        if self.version is None:
            return "no rubric loaded"
        return f"{self.version.rubric.name} v{self.version.number}"

    def step_choices(self) -> list[tuple[int, str]]:
        return [(step.number, step.label) for step in self.steps]

    def item_choices(self) -> list[tuple[str, str]]:
        return [(item.key, f"Step {item.step} · {item.title}") for item in self.items]

    def overlap_items(self) -> list[ItemText]:
        return [
            ItemText(
                key=item.key,
                step=item.step,
                title=item.title,
                candidate_text=item.candidate_text,
                keywords=item.keywords,
                points=item.points,
            )
            for item in self.items
        ]


def rubric_context() -> RubricContext:
    """Read once per admin request, in seven queries whatever the size of the rubric."""
    version = latest_published_version()
    categories = list(Category.objects.values_list("pk", "slug", "name"))
    names = {slug: name for _, slug, name in categories}
    choices = tuple((pk, name) for pk, _, name in categories)
    if version is None:
        steps = tuple(RubricStep(n, "") for n in range(1, STEP_COUNT + 1))
        return RubricContext(None, steps, (), names, choices)
    named = {
        step.number: RubricStep(step.number, step.name, step.budget_45, step.budget_60)
        for step in version.steps.all()
    }
    steps = tuple(named.get(n, RubricStep(n, "")) for n in range(1, STEP_COUNT + 1))
    items = tuple(case_checklist(version.pk, _NO_CASE))
    return RubricContext(version, steps, items, names, choices)


# --- preview ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewItem:
    item: ChecklistItem
    not_applicable: str = ""  # the case's reason, for a rubric item that does not apply


@dataclass(frozen=True)
class PreviewStep:
    number: int
    label: str
    minutes_45: int | None
    minutes_60: int | None
    probes: str
    checklist: tuple[PreviewItem, ...]


@dataclass(frozen=True)
class CasePreview:
    title: str
    summary: str
    candidate_prompt: str
    interviewer_brief: str
    model_answer: str
    questions: tuple[str, ...]  # all the candidate gets of the facts
    facts: tuple[FactData, ...]
    steps: tuple[PreviewStep, ...]
    rubric_name: str


def saved_checklist(case: Case, rubric: RubricContext) -> list[ChecklistItem]:
    """The room's checklist for a saved case, read through the one join."""
    if rubric.version is None:
        return []
    return case_checklist(rubric.version.pk, case.pk)


def unsaved_checklist(case: CaseData, rubric: RubricContext) -> list[ChecklistItem]:
    """The checklist a case typed in the form will have: its items follow the rubric's."""
    items = list(rubric.items)
    for item in case.extra_items:
        items.append(
            ChecklistItem(
                key=f"{CASE_ITEM_PREFIX}{item.key}",
                step=item.step,
                title=item.title,
                candidate_text=item.candidate_text,
                probe=item.probe,
                kind=scoring.Kind(item.kind)
                if item.kind in scoring.Kind
                else scoring.Kind.EXPECTED,
                points=item.points,
                required=item.required,
                categories=item.categories,
                category_names=tuple(rubric.category_names.get(s, s) for s in item.categories),
                keywords=item.keywords,
                from_case=True,
            )
        )
    # Stable, as in casebank.checklist: within a step the rubric's items stay first.
    return sorted(items, key=lambda item: item.step)


def case_preview(
    case: CaseData, rubric: RubricContext, checklist: Sequence[ChecklistItem]
) -> CasePreview:
    """What the candidate and the interviewer of a session on `case` will see."""
    budgets = dict(case.step_budgets)
    reasons = {exclusion.key: exclusion.reason for exclusion in case.not_applicable}
    return CasePreview(
        title=case.title,
        summary=case.summary,
        candidate_prompt=case.candidate_prompt,
        interviewer_brief=case.interviewer_brief,
        model_answer=case.model_answer,
        questions=tuple(fact.question for fact in case.facts),
        facts=case.facts,
        steps=tuple(
            PreviewStep(
                number=step.number,
                label=step.label,
                minutes_45=budgets[45][step.number - 1] if 45 in budgets else step.budget_45,
                minutes_60=budgets[60][step.number - 1] if 60 in budgets else step.budget_60,
                probes=case.probes[step.number - 1],
                checklist=tuple(
                    PreviewItem(item, "" if item.from_case else reasons.get(item.key, ""))
                    for item in checklist
                    if item.step == step.number
                ),
            )
            for step in rubric.steps
        ),
        rubric_name=rubric.name,
    )
