"""Writes for rubrics: loading rubric files, drafting and publishing versions.

A published version never changes: sessions point at it, and their scores must stay explainable.
Changing a rubric means a new version, either a draft copied from a published one
(`create_draft_version`, edited in the admin, then `publish_version`) or a file whose `version`
was bumped (`load_rubric_file`).
"""

import enum
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core import yamltext
from rubrics import scoring
from rubrics.models import (
    Category,
    Item,
    Rubric,
    RubricVersion,
    Step,
    VersionStatus,
)
from rubrics.rubricformat import (
    CategoryData,
    InvalidRubric,
    ItemContent,
    RubricFile,
    StepContent,
    VersionContent,
    check_thresholds,
    parse_rubric,
    sorted_items,
)

DEFAULT_RUBRIC_FILE = Path(__file__).resolve().parent / "data" / "default_rubric.yaml"


class RubricFileError(Exception):
    """A rubric file that cannot be loaded; the message names the file and the problem."""


class LoadStatus(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class LoadReport:
    status: LoadStatus
    version: RubricVersion

    def __str__(self) -> str:
        return f"{self.status}: {self.version.rubric.name} v{self.version.number}"


# --- loading files ----------------------------------------------------------------------------


def load_rubric_file(path: Path) -> LoadReport:
    """Load one rubric YAML file; see `load_rubric_data`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricFileError(f"{path}: cannot read the file: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise RubricFileError(f"{path}: the file is not UTF-8 text.") from None
    try:
        data = yamltext.load(text)
    except yaml.YAMLError as exc:
        raise RubricFileError(f"{path}: not valid YAML: {exc}") from None
    return load_rubric_data(data, source=str(path))


@transaction.atomic
def load_rubric_data(data: object, *, source: str) -> LoadReport:
    """Validate parsed rubric data and store it; all or nothing.

    Categories are shared, unversioned data: created or updated by slug. The rubric is created by
    slug (its name and description updated). The version is created published when it does not
    exist; left alone when its content equals the file's; replaced when it is a draft that
    differs. A published version that differs raises RubricFileError. A second run writes nothing.
    """
    try:
        parsed = parse_rubric(data)
    except InvalidRubric as exc:
        raise RubricFileError(f"{source}: {exc}") from None
    _upsert_categories(parsed.categories)
    rubric = _upsert_rubric(parsed)
    version = rubric.versions.filter(number=parsed.number).first()
    if version is None:
        version = RubricVersion.objects.create(
            rubric=rubric,
            number=parsed.number,
            status=VersionStatus.PUBLISHED,
            published_at=timezone.now(),
            **_version_fields(parsed.content),
        )
        _write_steps(version, parsed.content)
        return LoadReport(LoadStatus.CREATED, version)
    if _content_of(version) == parsed.content:
        return LoadReport(LoadStatus.UNCHANGED, version)
    if version.is_published:
        raise RubricFileError(
            f"{source}: {rubric.name} version {version.number} is published and differs from "
            f"{source}; published versions never change: bump `version` in the file to publish a "
            "new one."
        )
    if version.sessions.exists():
        # Replacing the steps would pull them from under the sessions' own steps.
        raise RubricFileError(
            f"{source}: {rubric.name} draft version {version.number} differs from {source} but "
            "is already used by sessions, so it cannot be replaced: bump `version` in the file."
        )
    fields = _version_fields(parsed.content)
    for field, value in fields.items():
        setattr(version, field, value)
    version.save(update_fields=list(fields))
    version.steps.all().delete()
    _write_steps(version, parsed.content)
    return LoadReport(LoadStatus.UPDATED, version)


def _upsert_categories(categories: tuple[CategoryData, ...]) -> None:
    slugs = [data.slug for data in categories]
    existing = {category.slug: category for category in Category.objects.filter(slug__in=slugs)}
    new = []
    for data in categories:
        category = existing.get(data.slug)
        if category is None:
            new.append(
                Category(
                    slug=data.slug,
                    name=data.name,
                    description=data.description,
                    position=data.position,
                )
            )
            continue
        changed = [
            field
            for field in ("name", "description", "position")
            if getattr(category, field) != getattr(data, field)
        ]
        if changed:
            for field in changed:
                setattr(category, field, getattr(data, field))
            category.save(update_fields=changed)
    Category.objects.bulk_create(new)


def _upsert_rubric(parsed: RubricFile) -> Rubric:
    rubric, created = Rubric.objects.get_or_create(
        slug=parsed.slug, defaults={"name": parsed.name, "description": parsed.description}
    )
    if not created and (rubric.name, rubric.description) != (parsed.name, parsed.description):
        rubric.name, rubric.description = parsed.name, parsed.description
        rubric.save(update_fields=["name", "description"])
    return rubric


def _version_fields(content: VersionContent) -> dict[str, object]:
    strong_hire, hire, lean_no_hire = content.thresholds
    return {
        "notes": content.notes,
        "strong_hire_threshold": strong_hire,
        "hire_threshold": hire,
        "lean_no_hire_threshold": lean_no_hire,
    }


def _content_of(version: RubricVersion) -> VersionContent:
    steps = version.steps.order_by("number").prefetch_related("items__categories")
    return VersionContent(
        notes=version.notes,
        thresholds=(
            version.strong_hire_threshold,
            version.hire_threshold,
            version.lean_no_hire_threshold,
        ),
        steps=tuple(
            StepContent(
                number=step.number,
                name=step.name,
                description=step.description,
                budget_45=step.budget_45,
                budget_60=step.budget_60,
                items=sorted_items(
                    ItemContent(
                        key=item.key,
                        title=item.title,
                        candidate_text=item.candidate_text,
                        probe=item.probe,
                        points=item.points,
                        kind=item.kind,
                        required=item.required,
                        level=item.level,
                        keywords=tuple(item.keyword_list),
                        categories=tuple(sorted(c.slug for c in item.categories.all())),
                        position=item.position,
                    )
                    for item in step.items.all()
                ),
            )
            for step in steps
        ),
    )


def _write_steps(version: RubricVersion, content: VersionContent) -> None:
    # A fixed number of queries whatever the size: one bulk insert per table.
    steps = Step.objects.bulk_create(
        Step(
            version=version,
            number=step.number,
            name=step.name,
            description=step.description,
            budget_45=step.budget_45,
            budget_60=step.budget_60,
        )
        for step in content.steps
    )
    pairs = [
        (
            Item(
                step=step,
                key=item.key,
                title=item.title,
                candidate_text=item.candidate_text,
                probe=item.probe,
                points=item.points,
                kind=item.kind,
                required=item.required,
                level=item.level,
                keywords="\n".join(item.keywords),
                position=item.position,
            ),
            item.categories,
        )
        for step, step_content in zip(steps, content.steps, strict=True)
        for item in step_content.items
    ]
    Item.objects.bulk_create(item for item, _ in pairs)
    slugs = {slug for _, categories in pairs for slug in categories}
    category_ids = dict(Category.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    through = Item.categories.through
    through.objects.bulk_create(
        through(item_id=item.pk, category_id=category_ids[slug])
        for item, categories in pairs
        for slug in categories
    )


# --- versions ---------------------------------------------------------------------------------


def ensure_editable(version: RubricVersion) -> None:
    """Raise ValidationError when `version` is published; call it before any change to it."""
    if version.is_published:
        raise ValidationError(
            f"Published versions never change: {version.rubric.name} v{version.number} is "
            "published. Create a new draft version from it and edit that."
        )


@transaction.atomic
def create_draft_version(*, source: RubricVersion) -> RubricVersion:
    """Copy `source` (steps, items and their categories, thresholds) into a new draft version.

    The draft is numbered one above the rubric's highest version. A rubric has at most one draft
    at a time: ValidationError if it already has one.
    """
    # Lock the rubric so two people clicking at once cannot both pass the one-draft check.
    rubric = Rubric.objects.select_for_update().get(pk=source.rubric_id)
    draft = rubric.versions.filter(status=VersionStatus.DRAFT).first()
    if draft is not None:
        raise ValidationError(
            f"{rubric.name} already has a draft, v{draft.number}: edit and publish it, or delete "
            "it, before starting another."
        )
    highest = rubric.versions.aggregate(highest=Max("number"))["highest"] or 0
    content = _content_of(source)
    version = RubricVersion.objects.create(
        rubric=rubric,
        number=highest + 1,
        status=VersionStatus.DRAFT,
        **(_version_fields(content) | {"notes": ""}),
    )
    _write_steps(version, content)
    return version


@transaction.atomic
def publish_version(*, version: RubricVersion) -> RubricVersion:
    """Publish a draft after checking it can be scored; ValidationError lists every problem."""
    problems = _publish_problems(version)
    if problems:
        raise ValidationError(problems)
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at"])
    return version


def _publish_problems(version: RubricVersion) -> list[str]:
    if version.is_published:
        return [f"{version.rubric.name} v{version.number} is already published."]
    problems = []
    steps = list(version.steps.order_by("number").prefetch_related("items"))
    if not steps:
        problems.append("A version needs at least one step.")
    key_steps: dict[str, int] = {}
    for step in steps:
        if step.number > scoring.LAST_STEP:
            problems.append(f"Step {step.number} is outside 1..{scoring.LAST_STEP}.")
        items = step.items.all()
        if not items:
            problems.append(
                f"Step {step.number} ({step.name}) has no items; every step needs at least one."
            )
        for item in items:
            if item.key in key_steps:
                problems.append(
                    f"Item key {item.key!r} is used in step {key_steps[item.key]} and step "
                    f"{step.number}; keys must be unique in a version."
                )
            key_steps.setdefault(item.key, step.number)
    try:
        check_thresholds(
            strong_hire=version.strong_hire_threshold,
            hire=version.hire_threshold,
            lean_no_hire=version.lean_no_hire_threshold,
        )
    except ValidationError as exc:
        problems.extend(exc.messages)
    newer = version.rubric.versions.published().filter(number__gt=version.number).first()
    if newer is not None:
        problems.append(
            f"v{newer.number} is already published, and a version cannot be published after a "
            "newer one: create a new draft instead."
        )
    return problems


def latest_published_version(rubric_slug: str | None = None) -> RubricVersion | None:
    """The most recently published version, of one rubric or of any; None when there is none."""
    versions = RubricVersion.objects.published().select_related("rubric")
    if rubric_slug is not None:
        versions = versions.filter(rubric__slug=rubric_slug)
    return versions.order_by("-published_at", "-number", "-pk").first()
