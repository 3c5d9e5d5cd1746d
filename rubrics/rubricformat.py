"""Rubric files (YAML): their shape, checked strictly, as plain data. No database access here.

`rubrics.services` compares this plain data with what the database holds and writes the
difference; keeping the two apart keeps each module readable.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import models

from rubrics import scoring
from rubrics.models import Category, Item, ItemKind, ItemLevel, Rubric, RubricVersion, Step

MIN_POINTS, MAX_POINTS = 1, 5


# The canonical content of a version, as plain data. The loader builds it from a file and from the
# database and compares the two; `create_draft_version` copies one version through it.
@dataclass(frozen=True, slots=True)
class ItemContent:
    key: str
    title: str
    candidate_text: str
    probe: str
    points: int
    kind: str
    required: bool
    level: str
    keywords: tuple[str, ...]
    categories: tuple[str, ...]  # sorted slugs
    position: int


@dataclass(frozen=True, slots=True)
class StepContent:
    number: int
    name: str
    description: str
    budget_45: int
    budget_60: int
    items: tuple[ItemContent, ...]  # ordered by (position, key)


@dataclass(frozen=True, slots=True)
class VersionContent:
    notes: str
    thresholds: tuple[Decimal, Decimal, Decimal]  # strong hire, hire, lean no hire
    steps: tuple[StepContent, ...]  # ordered by number


@dataclass(frozen=True, slots=True)
class CategoryData:
    slug: str
    name: str
    description: str
    position: int


@dataclass(frozen=True, slots=True)
class RubricFile:
    slug: str
    name: str
    description: str
    number: int
    categories: tuple[CategoryData, ...]
    content: VersionContent


class InvalidRubric(Exception):
    """A problem found while reading rubric data; re-raised as RubricFileError with the source."""


def sorted_items(items: Iterable[ItemContent]) -> tuple[ItemContent, ...]:
    return tuple(sorted(items, key=lambda item: (item.position, item.key)))


# --- reading rubric data ----------------------------------------------------------------------

# Each pair: the keys a mapping must have, and the keys it may have.
_RUBRIC_KEYS = (
    {"slug", "name", "version", "thresholds", "categories", "steps"},
    {"description", "notes"},
)
_THRESHOLD_KEYS = {"strong_hire", "hire", "lean_no_hire"}, set[str]()
_CATEGORY_KEYS = {"slug", "name"}, {"description"}
_STEP_KEYS = {"number", "name", "budget_45", "budget_60", "items"}, {"description"}
_ITEM_KEYS = (
    {"key", "title", "candidate_text", "points", "kind"},
    # `level` defaults to core, so rubric files written before levels existed still load.
    {"probe", "required", "level", "categories", "keywords"},
)


def parse_rubric(raw: object) -> RubricFile:
    where = "top level"
    data = _mapping(raw, where, _RUBRIC_KEYS)
    slug = _text(data, "slug", where, Rubric)
    name = _text(data, "name", where, Rubric)
    description = _text(data, "description", where, Rubric, default="")
    number = _int(data, "version", where, minimum=1)
    notes = _text(data, "notes", where, RubricVersion, default="")
    thresholds = _parse_thresholds(data["thresholds"])
    categories = _parse_categories(_list(data, "categories", where))
    category_slugs = {category.slug for category in categories}
    raw_steps = _list(data, "steps", where)
    if not raw_steps:
        raise InvalidRubric("a rubric needs at least one step.")
    steps: dict[int, StepContent] = {}
    key_steps: dict[str, int] = {}
    for index, raw_step in enumerate(raw_steps, start=1):
        step = _parse_step(raw_step, f"steps entry {index}", category_slugs)
        if step.number in steps:
            raise InvalidRubric(f"step {step.number} appears twice.")
        for item in step.items:
            if item.key in key_steps:
                raise InvalidRubric(
                    f"step {step.number}: item key {item.key!r} is already used in step "
                    f"{key_steps[item.key]}; keys must be unique in a version."
                )
            key_steps[item.key] = step.number
        steps[step.number] = step
    return RubricFile(
        slug=slug,
        name=name,
        description=description,
        number=number,
        categories=categories,
        content=VersionContent(
            notes=notes,
            thresholds=thresholds,
            steps=tuple(steps[number] for number in sorted(steps)),
        ),
    )


def _parse_thresholds(raw: object) -> tuple[Decimal, Decimal, Decimal]:
    where = "thresholds"
    data = _mapping(raw, where, _THRESHOLD_KEYS)
    values = []
    for key in ("strong_hire", "hire", "lean_no_hire"):
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidRubric(f"{where}: {key} must be a number, not {kind_of(value)}.")
        number = Decimal(str(value))
        # The model stores two decimals; more would be rounded away silently.
        if not number.is_finite() or number != number.quantize(Decimal("0.01")):
            raise InvalidRubric(f"{where}: {key} must have at most two decimals, not {value}.")
        values.append(number)
    strong_hire, hire, lean_no_hire = values
    try:
        check_thresholds(strong_hire=strong_hire, hire=hire, lean_no_hire=lean_no_hire)
    except ValidationError as exc:
        raise InvalidRubric(f"{where}: {' '.join(exc.messages)}") from None
    return strong_hire, hire, lean_no_hire


def _parse_categories(entries: list[object]) -> tuple[CategoryData, ...]:
    categories: dict[str, CategoryData] = {}
    for position, entry in enumerate(entries):
        data = _mapping(entry, f"categories entry {position + 1}", _CATEGORY_KEYS)
        slug = _text(data, "slug", f"categories entry {position + 1}", Category)
        where = f"category {slug!r}"
        if slug in categories:
            raise InvalidRubric(f"{where} appears twice.")
        categories[slug] = CategoryData(
            slug=slug,
            name=_text(data, "name", where, Category),
            description=_text(data, "description", where, Category, default=""),
            position=position,
        )
    return tuple(categories.values())


def _parse_step(raw: object, where: str, category_slugs: set[str]) -> StepContent:
    data = _mapping(raw, where, _STEP_KEYS)
    number = _int(data, "number", where, minimum=scoring.FIRST_STEP, maximum=scoring.LAST_STEP)
    where = f"step {number}"
    raw_items = _list(data, "items", where)
    if not raw_items:
        raise InvalidRubric(f"{where} has no items; every step needs at least one.")
    items: dict[str, ItemContent] = {}
    for position, raw_item in enumerate(raw_items):
        item = _parse_item(raw_item, where, position, category_slugs)
        if item.key in items:
            raise InvalidRubric(
                f"{where}: item key {item.key!r} is used twice; keys must be unique in a version."
            )
        items[item.key] = item
    return StepContent(
        number=number,
        name=_text(data, "name", where, Step),
        description=_text(data, "description", where, Step, default=""),
        budget_45=_int(data, "budget_45", where, minimum=1, maximum=45),
        budget_60=_int(data, "budget_60", where, minimum=1, maximum=60),
        items=sorted_items(items.values()),
    )


def _parse_item(
    raw: object, step_where: str, position: int, category_slugs: set[str]
) -> ItemContent:
    data = _mapping(raw, f"{step_where}, item {position + 1}", _ITEM_KEYS)
    key = _text(data, "key", f"{step_where}, item {position + 1}", Item)
    where = f"{step_where}, item {key!r}"
    kind = data["kind"]
    if kind not in ItemKind.values:
        raise InvalidRubric(
            f"{where}: kind must be one of {quoted(ItemKind.values)}, not {kind!r}."
        )
    level = data.get("level", ItemLevel.CORE.value)
    if level not in ItemLevel.values:
        raise InvalidRubric(
            f"{where}: level must be one of {quoted(ItemLevel.values)}, not {level!r}."
        )
    categories = _text_list(data, "categories", where)
    for slug in categories:
        if slug not in category_slugs:
            raise InvalidRubric(
                f"{where}: unknown category {slug!r}; declare it under `categories` first."
            )
    if len(set(categories)) != len(categories):
        raise InvalidRubric(f"{where}: categories list a slug more than once.")
    keywords = _text_list(data, "keywords", where)
    limit = Item._meta.get_field("keywords").max_length
    if limit is not None and len("\n".join(keywords)) > limit:
        raise InvalidRubric(f"{where}: keywords are longer than {limit} characters in all.")
    return ItemContent(
        key=key,
        title=_text(data, "title", where, Item),
        candidate_text=_text(data, "candidate_text", where, Item),
        probe=_text(data, "probe", where, Item, default=""),
        points=_int(data, "points", where, minimum=MIN_POINTS, maximum=MAX_POINTS),
        kind=kind,
        required=_bool(data, "required", where, default=False),
        level=level,
        keywords=keywords,
        categories=tuple(sorted(categories)),
        position=position,
    )


def _mapping(raw: object, where: str, keys: tuple[set[str], set[str]]) -> dict[str, Any]:
    required, optional = keys
    if not isinstance(raw, dict):
        raise InvalidRubric(f"{where} must be a mapping, not {kind_of(raw)}.")
    missing = sorted(required - raw.keys())
    if missing:
        raise InvalidRubric(f"{where}: missing key {quoted(missing)}.")
    unknown = sorted(str(key) for key in raw.keys() - required - optional)
    if unknown:
        allowed = quoted(sorted(required | optional))
        raise InvalidRubric(f"{where}: unknown key {quoted(unknown)}; allowed keys: {allowed}.")
    return raw


def _list(data: dict[str, Any], key: str, where: str) -> list[object]:
    value = data[key]
    if not isinstance(value, list):
        raise InvalidRubric(f"{where}: {key} must be a list, not {kind_of(value)}.")
    return value


def _text(
    data: dict[str, Any],
    key: str,
    where: str,
    model: type[models.Model],
    *,
    default: str | None = None,
) -> str:
    # The YAML keys are the model's field names, so the field knows its own limits. They name
    # its own text columns, never a relation pointing at it, so the field is a Field.
    field = cast("models.Field[Any, Any]", model._meta.get_field(key))
    value = data.get(key, default)
    if not isinstance(value, str):
        raise InvalidRubric(f"{where}: {key} must be text, not {kind_of(value)}.")
    value = value.strip()
    if not value and not field.blank:
        raise InvalidRubric(f"{where}: {key} must not be empty.")
    if field.max_length is not None and len(value) > field.max_length:
        raise InvalidRubric(
            f"{where}: {key} is {len(value)} characters long; the limit is {field.max_length}."
        )
    if isinstance(field, models.SlugField):
        try:
            validate_slug(value)
        except ValidationError:
            raise InvalidRubric(
                f"{where}: {key} {value!r} must use only letters, digits, hyphens and underscores."
            ) from None
    return value


def _int(
    data: dict[str, Any], key: str, where: str, *, minimum: int, maximum: int | None = None
) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRubric(f"{where}: {key} must be a whole number, not {kind_of(value)}.")
    if maximum is None and value < minimum:
        raise InvalidRubric(f"{where}: {key} must be at least {minimum}, not {value}.")
    if maximum is not None and not minimum <= value <= maximum:
        raise InvalidRubric(f"{where}: {key} must be within {minimum}..{maximum}, not {value}.")
    return value


def _bool(data: dict[str, Any], key: str, where: str, *, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise InvalidRubric(f"{where}: {key} must be true or false, not {kind_of(value)}.")
    return value


def _text_list(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise InvalidRubric(f"{where}: {key} must be a list of text.")
    entries = tuple(entry.strip() for entry in value)
    # Keywords are stored one per line, so an entry can be neither empty nor span lines.
    if any(not entry or "\n" in entry for entry in entries):
        raise InvalidRubric(f"{where}: {key} entries must be non-empty single lines.")
    return entries


_KIND_NAMES = {
    type(None): "nothing",
    bool: "true/false",
    int: "a number",
    float: "a number",
    str: "text",
    list: "a list",
    dict: "a mapping",
}


def kind_of(value: object) -> str:
    return _KIND_NAMES.get(type(value), type(value).__name__)


def quoted(names: Iterable[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def check_thresholds(*, strong_hire: Decimal, hire: Decimal, lean_no_hire: Decimal) -> None:
    """Raise ValidationError unless the thresholds are strictly descending within 0..100."""
    try:
        scoring.Thresholds(
            strong_hire=Fraction(strong_hire),
            hire=Fraction(hire),
            lean_no_hire=Fraction(lean_no_hire),
        )
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
