"""The only place that writes cases: file import and export, publishing, duplicating."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet

from casebank.caseformat import (
    CaseData,
    CaseFormatError,
    ExtraItemData,
    FactData,
    parse_case,
    serialize_case,
)
from casebank.models import Case, CaseItem, CaseStatus, ClarificationFact, StepProbe, Tag
from rubrics.models import Category

SHIPPED_CASES_DIR = Path(__file__).resolve().parent / "cases"


class CaseFileError(Exception):
    """One or more case files could not be loaded; nothing from the run was written."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )


def read_case_directory(directory: Path) -> list[CaseData]:
    """Parse every `*.md` file in a folder; collect every problem before failing."""
    if not directory.is_dir():
        raise CaseFileError([f"{directory}: not a folder"])
    cases: list[CaseData] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    paths = sorted(directory.glob("*.md"))
    if not paths:
        raise CaseFileError([f"{directory}: no case files (*.md) found"])
    for path in paths:
        try:
            case = parse_case(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            problems.append(f"{path.name}: not UTF-8 text")
            continue
        except CaseFormatError as exc:
            problems.append(f"{path.name}: {exc}")
            continue
        if case.slug in seen:
            problems.append(
                f"{path.name}: duplicate slug {case.slug!r}, already used by {seen[case.slug].name}"
            )
            continue
        seen[case.slug] = path
        if path.stem != case.slug:
            problems.append(f"{path.name}: the file name must be the slug: {case.slug}.md")
            continue
        cases.append(case)
    if problems:
        raise CaseFileError(problems)
    return cases


def load_case_directory(directory: Path = SHIPPED_CASES_DIR) -> ImportReport:
    """Load a folder of case files, all or nothing."""
    return import_cases(read_case_directory(directory))


@transaction.atomic
def import_cases(cases: Iterable[CaseData]) -> ImportReport:
    """Create or update cases by slug; a case whose content is unchanged is not written."""
    cases = list(cases)
    known = {c.slug: c for c in Category.objects.all()}
    problems = [
        f"{case.slug}.md: extra item {item.key!r} names unknown category {slug!r}"
        for case in cases
        for item in case.extra_items
        for slug in item.categories
        if slug not in known
    ]
    if problems:
        raise CaseFileError(problems)
    existing = {
        case.slug: case
        for case in _with_content(Case.objects.filter(slug__in=[c.slug for c in cases]))
    }
    report = ImportReport()
    for data in cases:
        case = existing.get(data.slug)
        if case is None:
            case = Case(slug=data.slug)
            report.created.append(data.slug)
        elif case_to_data(case) == data:
            report.unchanged.append(data.slug)
            continue
        else:
            report.updated.append(data.slug)
        _write(case, data, known)
    return report


def _write(case: Case, data: CaseData, categories: dict[str, Category]) -> None:
    case.title = data.title
    case.summary = data.summary
    case.domain = data.domain
    case.difficulty = data.difficulty
    case.status = data.status
    case.candidate_prompt = data.candidate_prompt
    case.interviewer_brief = data.interviewer_brief
    case.model_answer = data.model_answer
    case.full_clean(validate_unique=False)
    case.save()
    tags = [Tag.objects.get_or_create(slug=slug)[0] for slug in data.tags]
    case.tags.set(tags)
    # Facts and probes carry no identity of their own, so they are rewritten as a whole.
    case.facts.all().delete()
    ClarificationFact.objects.bulk_create(
        ClarificationFact(case=case, position=n, question=f.question, answer=f.answer)
        for n, f in enumerate(data.facts)
    )
    case.probes.all().delete()
    StepProbe.objects.bulk_create(
        StepProbe(case=case, step=n, text=text)
        for n, text in enumerate(data.probes, start=1)
        if text
    )
    case.extra_items.all().delete()
    for n, item in enumerate(data.extra_items):
        row = CaseItem.objects.create(
            case=case,
            position=n,
            key=item.key,
            step=item.step,
            title=item.title,
            candidate_text=item.candidate_text,
            probe=item.probe,
            points=item.points,
            kind=item.kind,
            required=item.required,
            keywords="\n".join(item.keywords),
        )
        row.categories.set([categories[slug] for slug in item.categories])


def _with_content(queryset: QuerySet[Case]) -> QuerySet[Case]:
    return queryset.prefetch_related("tags", "facts", "probes", "extra_items__categories").order_by(
        "slug"
    )


def case_to_data(case: Case) -> CaseData:
    """The file-level content of a case (expects the prefetches of _with_content)."""
    probes = {probe.step: probe.text for probe in case.probes.all()}
    return CaseData(
        slug=case.slug,
        title=case.title,
        summary=case.summary,
        domain=case.domain,
        difficulty=case.difficulty,
        status=case.status,
        tags=tuple(sorted(tag.slug for tag in case.tags.all())),
        facts=tuple(FactData(f.question, f.answer) for f in case.facts.all()),
        extra_items=tuple(
            ExtraItemData(
                key=item.key,
                step=item.step,
                title=item.title,
                candidate_text=item.candidate_text,
                probe=item.probe,
                points=item.points,
                kind=item.kind,
                required=item.required,
                categories=tuple(sorted(c.slug for c in item.categories.all())),
                keywords=tuple(item.keyword_list),
            )
            for item in case.extra_items.all()
        ),
        candidate_prompt=case.candidate_prompt,
        interviewer_brief=case.interviewer_brief,
        probes=tuple(probes.get(step, "") for step in range(1, 8)),
        model_answer=case.model_answer,
    )


def export_cases(directory: Path, slugs: Sequence[str] | None = None) -> list[Path]:
    """Write cases as files into a folder (created if needed); returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    queryset = Case.objects.all()
    if slugs:
        queryset = queryset.filter(slug__in=slugs)
    written = []
    for case in _with_content(queryset):
        path = directory / f"{case.slug}.md"
        path.write_text(serialize_case(case_to_data(case)), encoding="utf-8")
        written.append(path)
    return written


def set_status(*, cases: Iterable[Case], status: CaseStatus) -> int:
    """Publish or unpublish cases; returns how many changed."""
    ids = [case.pk for case in cases]
    return Case.objects.filter(pk__in=ids).exclude(status=status).update(status=status)


@transaction.atomic
def duplicate_case(*, case: Case, by: AbstractBaseUser | None) -> Case:
    """A draft copy of a case with all its texts, facts, probes and extra items."""
    data = case_to_data(_with_content(Case.objects.filter(pk=case.pk)).get())
    slug = _free_slug(f"{case.slug}-copy")
    copy = Case(slug=slug, author=by)
    title = f"Copy of {case.title}"[:120]
    data = CaseData(**{**data.__dict__, "slug": slug, "title": title, "status": CaseStatus.DRAFT})
    _write(copy, data, {c.slug: c for c in Category.objects.all()})
    return copy


def _free_slug(base: str) -> str:
    base = base[:70]
    taken = set(Case.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
