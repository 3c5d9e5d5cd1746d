"""The only place that writes cases: file import and export, publishing, duplicating, and the
parts of a case the admin edits outside Django's own forms."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet

from casebank.caseformat import (
    CaseData,
    CaseFormatError,
    ExclusionData,
    ExtraItemData,
    FactData,
    References,
    parse_case,
    publish_problems,
    serialize_case,
)
from casebank.models import (
    STEP_COUNT,
    Case,
    CaseExclusion,
    CaseItem,
    CaseStatus,
    ClarificationFact,
    StepProbe,
    Tag,
)
from rubrics.models import Category, Item
from rubrics.services import (
    DEFAULT_RUBRIC_FILE,
    LoadReport,
    RubricFileError,
    latest_published_version,
    load_rubric_file,
)

SHIPPED_CASES_DIR = Path(__file__).resolve().parent / "cases"


class CaseFileError(Exception):
    """One or more case files could not be loaded; nothing from the run was written.

    `problems` holds one line per problem, "<file>:<line>: <problem>", for every file at once.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rubric: LoadReport | None = None  # the default rubric, when this run had to load it

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )


def case_references() -> References:
    """What case files may refer to: the categories, and the default rubric's item keys."""
    version = latest_published_version()
    keys = None
    name = "the rubric"
    if version is not None:
        keys = frozenset(Item.objects.filter(step__version=version).values_list("key", flat=True))
        name = f"{version.rubric.name} v{version.number}"
    return References(
        categories=frozenset(Category.objects.values_list("slug", flat=True)),
        rubric_item_keys=keys,
        rubric_name=name,
    )


def read_case_directory(directory: Path, references: References | None = None) -> list[CaseData]:
    """Parse every `*.md` file in a folder; raise CaseFileError with every problem of every file."""
    if not directory.is_dir():
        raise CaseFileError([f"{directory}: not a folder"])
    paths = sorted(directory.glob("*.md"))
    if not paths:
        raise CaseFileError([f"{directory}: no case files (*.md) found"])
    cases: list[CaseData] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in paths:
        try:
            case = parse_case(path.read_text(encoding="utf-8"), references)
        except UnicodeDecodeError:
            problems.append(f"{path.name}:1: not UTF-8 text")
            continue
        except CaseFormatError as exc:
            problems += [f"{path.name}:{problem}" for problem in exc.problems]
            continue
        if case.slug in seen:
            problems.append(
                f"{path.name}:2: duplicate slug '{case.slug}', already used by "
                f"{seen[case.slug].name}"
            )
            continue
        seen[case.slug] = path
        if path.stem != case.slug:
            problems.append(f"{path.name}:2: the file name must be the slug: {case.slug}.md")
            continue
        cases.append(case)
    if problems:
        raise CaseFileError(problems)
    return cases


@transaction.atomic
def load_case_directory(directory: Path = SHIPPED_CASES_DIR) -> ImportReport:
    """Load a folder of case files, all or nothing.

    On a database with no published rubric the default rubric is loaded first, in the same
    transaction: case items name its categories and `not_applicable` its item keys.
    """
    rubric_report = None
    if latest_published_version() is None:
        try:
            rubric_report = load_rubric_file(DEFAULT_RUBRIC_FILE)
        except RubricFileError as exc:
            raise CaseFileError(
                [f"{exc} Load a rubric first: python manage.py load_rubric"]
            ) from None
    report = import_cases(read_case_directory(directory, case_references()))
    report.rubric = rubric_report
    return report


@transaction.atomic
def import_cases(cases: Iterable[CaseData]) -> ImportReport:
    """Create or update cases by slug; a case whose content is unchanged is not written.

    The cases' references are expected to be checked already (`read_case_directory`).
    """
    cases = list(cases)
    known = {c.slug: c for c in Category.objects.all()}
    problems = [
        f"{case.slug}.md: extra item '{item.key}' names unknown category '{slug}'"
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
    case.step_budgets = {str(length): list(minutes) for length, minutes in data.step_budgets}
    case.full_clean(validate_unique=False)
    case.save()
    tags = [Tag.objects.get_or_create(slug=slug)[0] for slug in data.tags]
    case.tags.set(tags)
    # Facts, probes and exclusions carry no identity of their own, so they are rewritten whole.
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
    case.exclusions.all().delete()
    CaseExclusion.objects.bulk_create(
        CaseExclusion(case=case, item_key=e.key, reason=e.reason) for e in data.not_applicable
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
    return queryset.prefetch_related(
        "tags", "facts", "probes", "exclusions", "extra_items__categories"
    ).order_by("slug")


def case_content(case: Case) -> CaseData:
    """The file-level content of one saved case, fetched afresh."""
    return case_to_data(_with_content(Case.objects.filter(pk=case.pk)).get())


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
        probes=tuple(probes.get(step, "") for step in range(1, STEP_COUNT + 1)),
        model_answer=case.model_answer,
        not_applicable=tuple(
            ExclusionData(key=e.item_key, reason=e.reason)
            for e in sorted(case.exclusions.all(), key=lambda e: e.item_key)
        ),
        step_budgets=tuple(
            sorted((int(length), tuple(minutes)) for length, minutes in case.step_budgets.items())
        ),
    )


@dataclass
class ExportReport:
    written: list[Path] = field(default_factory=list)
    # "<file>:<line>: <problem>" for files the loader would refuse: cases saved before the
    # admin checked today's rules, which it refuses to save again until they are fixed.
    problems: list[str] = field(default_factory=list)


def export_cases(directory: Path, slugs: Sequence[str] | None = None) -> ExportReport:
    """Write cases as files into a folder (created if needed), and check each reads back."""
    directory.mkdir(parents=True, exist_ok=True)
    queryset = Case.objects.all()
    if slugs:
        queryset = queryset.filter(slug__in=slugs)
    report = ExportReport()
    for case in _with_content(queryset):
        path = directory / f"{case.slug}.md"
        text = serialize_case(case_to_data(case))
        path.write_text(text, encoding="utf-8")
        report.written.append(path)
        try:
            parse_case(text)
        except CaseFormatError as exc:
            report.problems += [f"{path.name}:{problem}" for problem in exc.problems]
    return report


def unpublish_cases(*, cases: Iterable[Case]) -> int:
    """Put cases back to draft; returns how many changed."""
    ids = [case.pk for case in cases]
    draft = CaseStatus.DRAFT
    return Case.objects.filter(pk__in=ids).exclude(status=draft).update(status=draft)


@dataclass
class PublishReport:
    published: list[Case] = field(default_factory=list)
    # Cases left as drafts, each with what it still lacks (casebank.caseformat.publish_problems).
    not_ready: list[tuple[Case, list[str]]] = field(default_factory=list)


@transaction.atomic
def publish_cases(*, cases: Iterable[Case]) -> PublishReport:
    """Publish the cases that are ready; the others stay drafts, with the reasons."""
    report = PublishReport()
    ids = [case.pk for case in cases]
    for case in _with_content(Case.objects.filter(pk__in=ids).exclude(status=CaseStatus.PUBLISHED)):
        problems = publish_problems(case_to_data(case))
        if problems:
            report.not_ready.append((case, [message for _, message in problems]))
        else:
            report.published.append(case)
    Case.objects.filter(pk__in=[case.pk for case in report.published]).update(
        status=CaseStatus.PUBLISHED
    )
    return report


@transaction.atomic
def save_case_parts(*, case: Case, tags: Sequence[str], probes: Mapping[int, str]) -> None:
    """Store the parts of a case the admin edits as plain fields: its tags and step probes.

    Tags are created as needed; a step whose probe text is empty has no probe row.
    """
    case.tags.set([Tag.objects.get_or_create(slug=slug)[0] for slug in tags])
    existing = {probe.step: probe for probe in case.probes.all()}
    for step, text in probes.items():
        probe = existing.get(step)
        if not text:
            if probe is not None:
                probe.delete()
        elif probe is None:
            StepProbe.objects.create(case=case, step=step, text=text)
        elif probe.text != text:
            probe.text = text
            probe.save(update_fields=["text"])


@transaction.atomic
def duplicate_case(*, case: Case, by: User | None) -> Case:
    """A draft copy of a case with all its texts, facts, probes, items and exclusions."""
    data = case_content(case)
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
