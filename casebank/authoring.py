"""Reads for writing cases in the admin: the rubric an author writes against, and the preview.

The preview is built from a case's file-level content (`CaseData`), whether it comes from the
database or from the admin form before saving, so both previews show the same thing.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from casebank.caseformat import CaseData, FactData
from casebank.overlap import ItemText
from casebank.rules import STEP_COUNT
from rubrics.models import Category, Item, RubricVersion
from rubrics.services import latest_published_version


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
class ChecklistEntry:
    """One checklist item as the interviewer will see it in the room."""

    key: str
    step: int
    title: str
    candidate_text: str
    probe: str
    kind: str
    points: int
    required: bool
    categories: tuple[str, ...]  # names
    keywords: tuple[str, ...]
    source: str  # "rubric" or "case"
    not_applicable: str = ""  # the case's reason, for a rubric item that does not apply

    @property
    def is_red_flag(self) -> bool:
        return self.kind == "red_flag"


@dataclass(frozen=True)
class RubricContext:
    """The default rubric's latest published version, as the case admin needs it."""

    version: RubricVersion | None
    steps: tuple[RubricStep, ...]  # always one per step; unnamed when no rubric is loaded
    items: tuple[ChecklistEntry, ...]  # in the room's order: by step, then position
    category_names: dict[str, str] = field(default_factory=dict)  # by slug
    category_choices: tuple[tuple[int, str], ...] = ()  # (pk, name), in the rubric's order

    @property
    def name(self) -> str:
        if self.version is None:
            return "no rubric loaded"
        return f"{self.version.rubric.name} v{self.version.number}"

    def step(self, number: int) -> RubricStep:
        return self.steps[number - 1]

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
    """Read once per admin request, in five queries whatever the size of the rubric."""
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
    items = tuple(
        ChecklistEntry(
            key=item.key,
            step=item.step.number,
            title=item.title,
            candidate_text=item.candidate_text,
            probe=item.probe,
            kind=item.kind,
            points=item.points,
            required=item.required,
            categories=tuple(c.name for c in item.categories.all()),
            keywords=tuple(item.keyword_list),
            source="rubric",
        )
        for item in Item.objects.filter(step__version=version)
        .select_related("step")
        .prefetch_related("categories")
        .order_by("step__number", "position", "id")
    )
    return RubricContext(version, steps, items, names, choices)


# --- preview ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewStep:
    number: int
    label: str
    minutes_45: int | None
    minutes_60: int | None
    probes: str
    checklist: tuple[ChecklistEntry, ...]


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


def case_preview(case: CaseData, rubric: RubricContext) -> CasePreview:
    """What the candidate and the interviewer of a session on `case` will see."""
    budgets = dict(case.step_budgets)
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
                checklist=tuple(_merged_checklist(case, rubric, step.number)),
            )
            for step in rubric.steps
        ),
        rubric_name=rubric.name,
    )


def _merged_checklist(case: CaseData, rubric: RubricContext, step: int) -> Iterable[ChecklistEntry]:
    """The room's checklist for one step: the rubric's items, then the case's own.

    A private stand-in for the checklist the interviews app builds from saved rows: the preview
    before saving has no rows, only the form's data.
    """
    reasons = {exclusion.key: exclusion.reason for exclusion in case.not_applicable}
    for item in rubric.items:
        if item.step == step:
            reason = reasons.get(item.key, "")
            yield (
                item
                if not reason
                else ChecklistEntry(**{**item.__dict__, "not_applicable": reason})
            )
    for item in case.extra_items:
        if item.step == step:
            yield ChecklistEntry(
                key=f"case:{item.key}",
                step=item.step,
                title=item.title,
                candidate_text=item.candidate_text,
                probe=item.probe,
                kind=item.kind,
                points=item.points,
                required=item.required,
                categories=tuple(rubric.category_names.get(s, s) for s in item.categories),
                keywords=item.keywords,
                source="case",
            )
