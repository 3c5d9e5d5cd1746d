from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rubrics.models import (
    Category,
    Item,
    ItemKind,
    ItemLevel,
    Rubric,
    RubricVersion,
    Step,
    VersionStatus,
)
from rubrics.services import (
    DEFAULT_RUBRIC_FILE,
    LoadStatus,
    RubricFileError,
    create_draft_version,
    latest_published_version,
    load_rubric_data,
    load_rubric_file,
)
from tests.factories import CategoryFactory, SessionFactory

pytestmark = pytest.mark.django_db

DEFAULT_NAME = "ML system design — 7 steps"
CORE_CATEGORIES = ["metrics", "data-leakage", "latency", "monitoring"]
# Version 1 of the shipped rubric, as published before issue 15.
V1_RUBRIC_FILE = Path(__file__).resolve().parent / "data" / "default_rubric_v1.yaml"


def tiny_rubric() -> dict[str, Any]:
    return {
        "slug": "tiny",
        "name": "Tiny rubric",
        "version": 1,
        "thresholds": {"strong_hire": 80, "hire": 65, "lean_no_hire": 50},
        "categories": [
            {"slug": "metrics", "name": "Metrics", "description": "Measures of success."},
            {"slug": "latency", "name": "Latency"},
        ],
        "steps": [
            {
                "number": 1,
                "name": "Clarify",
                "budget_45": 5,
                "budget_60": 7,
                "items": [
                    {
                        "key": "objective",
                        "title": "Names the objective",
                        "candidate_text": "Name the business objective.",
                        "points": 2,
                        "kind": "expected",
                        "required": True,
                        "categories": ["metrics"],
                        "keywords": ["objective", "business goal"],
                    },
                    {
                        "key": "jumps-to-model",
                        "title": "Jumps to a model",
                        "candidate_text": "Do not pick a model before the problem is clear.",
                        "points": 1,
                        "kind": "red_flag",
                    },
                ],
            },
            {
                "number": 2,
                "name": "Frame",
                "description": "Turn the goal into an ML task.",
                "budget_45": 4,
                "budget_60": 5,
                "items": [
                    {
                        "key": "latency-budget",
                        "title": "States a latency budget",
                        "candidate_text": "State a p99 latency.",
                        "probe": "Ask for a number.",
                        "points": 1,
                        "kind": "expected",
                        "level": "senior",
                        "categories": ["metrics", "latency"],
                    }
                ],
            },
        ],
    }


def write_yaml(tmp_path: Path, data: object, name: str = "rubric.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Category, Rubric, RubricVersion, Step, Item, Item.categories.through)
    }


def item_outline(version: RubricVersion) -> list[tuple[int, str, str, tuple[str, ...]]]:
    items = Item.objects.filter(step__version=version).prefetch_related("categories")
    return [
        (item.step.number, item.key, item.title, tuple(c.slug for c in item.categories.all()))
        for item in items.select_related("step")
    ]


# --- the shipped rubric -----------------------------------------------------------------------


def test_default_rubric_loads_published_with_seven_timed_steps():
    report = load_rubric_file(DEFAULT_RUBRIC_FILE)

    version = report.version
    assert report.status == LoadStatus.CREATED
    assert str(report) == f"created: {DEFAULT_NAME} v2"
    assert (version.rubric.slug, version.number, version.status) == (
        "ml-system-design",
        2,
        VersionStatus.PUBLISHED,
    )
    assert version.published_at is not None
    steps = list(version.steps.order_by("number"))
    assert [(s.number, s.budget_45, s.budget_60) for s in steps] == [
        (1, 5, 7),
        (2, 4, 5),
        (3, 8, 10),
        (4, 7, 10),
        (5, 5, 6),
        (6, 7, 8),
        (7, 4, 4),
    ]
    # A 45-minute slot keeps 5 to 10 minutes for introductions, deep dives and questions.
    assert 35 <= sum(s.budget_45 for s in steps) == 40 <= 40
    assert sum(s.budget_60 for s in steps) == 50


def test_default_rubric_covers_core_categories():
    version = load_rubric_file(DEFAULT_RUBRIC_FILE).version

    items = Item.objects.filter(step__version=version)
    assert items.count() == 87
    assert items.filter(kind=ItemKind.RED_FLAG).count() == 10
    for slug in CORE_CATEGORIES:
        assert items.filter(categories__slug=slug).count() >= 6, slug
        assert items.filter(categories__slug=slug, required=True).exists(), slug
    assert Category.objects.count() == 14


def test_default_rubric_every_category_has_enough_expected_items():
    version = load_rubric_file(DEFAULT_RUBRIC_FILE).version

    expected = Item.objects.filter(step__version=version, kind=ItemKind.EXPECTED)
    counts = {
        category.slug: expected.filter(categories=category).count()
        for category in Category.objects.all()
    }
    minimums = {slug: 4 if slug == "class-imbalance" else 6 for slug in counts}
    assert len(counts) == 14
    assert {slug: n for slug, n in counts.items() if n < minimums[slug]} == {}


def test_default_rubric_levels():
    raw = yaml.safe_load(DEFAULT_RUBRIC_FILE.read_text(encoding="utf-8"))
    version = load_rubric_file(DEFAULT_RUBRIC_FILE).version

    raw_items = [item for step in raw["steps"] for item in step["items"]]
    # Written out on every item, not left to the default.
    assert [item["key"] for item in raw_items if "level" not in item] == []
    items = Item.objects.filter(step__version=version, kind=ItemKind.EXPECTED)
    levels = {level: items.filter(level=level).count() for level in ItemLevel.values}
    assert levels == {"core": 43, "senior": 30, "staff": 4}
    # A must-have is expected of everyone: a required stretch item would never cap anything.
    assert set(items.filter(required=True).values_list("level", flat=True)) == {"core"}


def test_default_rubric_items_tell_the_interviewer_what_to_listen_for():
    version = load_rubric_file(DEFAULT_RUBRIC_FILE).version

    expected = Item.objects.filter(step__version=version, kind=ItemKind.EXPECTED)
    assert [item.key for item in expected if "Listen for: " not in item.probe] == []
    red_flags = Item.objects.filter(step__version=version, kind=ItemKind.RED_FLAG)
    assert [item.key for item in red_flags if item.keyword_list] == []
    assert red_flags.filter(key="lists-options-without-committing").exists()


def test_default_rubric_corrections_from_issue_15():
    version = load_rubric_file(DEFAULT_RUBRIC_FILE).version
    items = {item.key: item for item in Item.objects.filter(step__version=version)}

    def slugs(key: str) -> set[str]:
        return set(items[key].categories.values_list("slug", flat=True))

    for key in ("delayed-feedback", "training-serving-skew", "data-quality-checks"):
        assert "data-leakage" not in slugs(key), key
    calibration = items["calibration-check"]
    assert {"log loss", "normalized entropy", "normalised entropy"}.isdisjoint(
        calibration.keyword_list
    )
    assert "reliability diagram" in calibration.keyword_list
    assert "twice too high" not in calibration.probe
    assert "binary relevance" in items["task-appropriate-metrics"].probe
    latency = items["latency-budget"]
    assert "freshness or throughput" in latency.title
    assert latency.required


def test_default_rubric_v2_loads_beside_v1_and_keeps_its_keys():
    v1 = load_rubric_file(V1_RUBRIC_FILE).version
    session = SessionFactory(rubric_version=v1)

    report = load_rubric_file(DEFAULT_RUBRIC_FILE)

    v2 = report.version
    assert (report.status, v2.rubric, v2.number) == (LoadStatus.CREATED, v1.rubric, 2)
    assert latest_published_version("ml-system-design") == v2
    session.refresh_from_db()
    assert session.rubric_version == v1
    assert Item.objects.filter(step__version=v1).count() == 70
    # Same idea, same key: marks made on v1 map onto v2 when a session is re-scored.
    v1_keys = set(Item.objects.filter(step__version=v1).values_list("key", flat=True))
    v2_keys = set(Item.objects.filter(step__version=v2).values_list("key", flat=True))
    assert v1_keys <= v2_keys
    assert len(v2_keys - v1_keys) == 17
    for key in sorted(v2_keys - v1_keys):
        assert key in v2.notes, key


def test_load_rubric_file_second_run_is_unchanged_and_writes_nothing():
    first = load_rubric_file(DEFAULT_RUBRIC_FILE)
    counts = row_counts()

    with CaptureQueriesContext(connection) as queries:
        second = load_rubric_file(DEFAULT_RUBRIC_FILE)

    writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []
    assert row_counts() == counts
    assert second.status == LoadStatus.UNCHANGED
    assert second.version == first.version
    assert str(second) == f"unchanged: {DEFAULT_NAME} v2"


# --- categories and rubric --------------------------------------------------------------------


def test_load_rubric_data_upserts_categories_by_slug():
    CategoryFactory(slug="metrics", name="Old name", description="", position=9)
    CategoryFactory(slug="unrelated", name="Unrelated", position=3)

    load_rubric_data(tiny_rubric(), source="tiny.yaml")

    assert list(Category.objects.values_list("slug", "name", "description", "position")) == [
        ("metrics", "Metrics", "Measures of success.", 0),
        ("latency", "Latency", "", 1),
        ("unrelated", "Unrelated", "", 3),
    ]


def test_load_rubric_data_updates_rubric_name_without_new_version():
    load_rubric_data(tiny_rubric(), source="tiny.yaml")
    data = tiny_rubric()
    data["name"] = "Tiny rubric, renamed"

    report = load_rubric_data(data, source="tiny.yaml")

    assert report.status == LoadStatus.UNCHANGED
    assert list(Rubric.objects.values_list("slug", "name")) == [("tiny", "Tiny rubric, renamed")]
    assert RubricVersion.objects.count() == 1


def test_load_rubric_data_stores_items_exactly():
    version = load_rubric_data(tiny_rubric(), source="tiny.yaml").version

    assert item_outline(version) == [
        (1, "objective", "Names the objective", ("metrics",)),
        (1, "jumps-to-model", "Jumps to a model", ()),
        (2, "latency-budget", "States a latency budget", ("metrics", "latency")),
    ]
    objective = Item.objects.get(key="objective")
    assert (objective.points, objective.kind, objective.required, objective.position) == (
        2,
        ItemKind.EXPECTED,
        True,
        0,
    )
    assert objective.keyword_list == ["objective", "business goal"]
    assert Item.objects.get(key="jumps-to-model").kind == ItemKind.RED_FLAG
    # A level is optional in the file: without one an item is core.
    assert dict(Item.objects.values_list("key", "level")) == {
        "objective": ItemLevel.CORE,
        "jumps-to-model": ItemLevel.CORE,
        "latency-budget": ItemLevel.SENIOR,
    }
    step = Step.objects.get(version=version, number=2)
    assert (step.name, step.description, step.budget_45, step.budget_60) == (
        "Frame",
        "Turn the goal into an ML task.",
        4,
        5,
    )


# --- broken files -----------------------------------------------------------------------------


def _set(path: tuple[object, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path
        target: Any = data
        for key in parents:
            target = target[key]
        target[last] = value

    return change


def _delete(path: tuple[object, ...]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path
        target: Any = data
        for key in parents:
            target = target[key]
        del target[last]

    return change


BROKEN = [
    pytest.param(
        _set(("steps", 0, "items", 0, "categories"), ["metrix"]),
        "step 1, item 'objective': unknown category 'metrix'; declare it under `categories` first.",
        id="unknown-category",
    ),
    pytest.param(
        _set(("steps", 1, "items", 0, "key"), "objective"),
        "step 2: item key 'objective' is already used in step 1; keys must be unique in a version.",
        id="duplicate-key-across-steps",
    ),
    pytest.param(
        _set(("steps", 0, "items", 1, "key"), "objective"),
        "step 1: item key 'objective' is used twice; keys must be unique in a version.",
        id="duplicate-key-in-step",
    ),
    pytest.param(
        _set(("steps", 1, "items"), []),
        "step 2 has no items; every step needs at least one.",
        id="step-without-items",
    ),
    pytest.param(
        _set(("thresholds", "hire"), 85),
        "thresholds: Thresholds must be strictly descending and within 0..100: strong hire 80, "
        "hire 85, lean no hire 50.",
        id="thresholds-not-descending",
    ),
    pytest.param(
        _set(("thresholds", "strong_hire"), 120),
        "thresholds: Thresholds must be strictly descending and within 0..100: strong hire 120, "
        "hire 65, lean no hire 50.",
        id="threshold-above-100",
    ),
    pytest.param(
        _set(("thresholds", "hire"), 65.125),
        "thresholds: hire must have at most two decimals, not 65.125.",
        id="threshold-three-decimals",
    ),
    pytest.param(
        _delete(("steps", 0, "items", 0, "title")),
        "step 1, item 1: missing key 'title'.",
        id="missing-item-key",
    ),
    pytest.param(
        _delete(("steps",)),
        "top level: missing key 'steps'.",
        id="missing-steps",
    ),
    pytest.param(
        _set(("steps",), []),
        "a rubric needs at least one step.",
        id="no-steps",
    ),
    pytest.param(
        _set(("steps", 0, "budget45"), 5),
        "steps entry 1: unknown key 'budget45'; allowed keys: 'budget_45', 'budget_60', "
        "'description', 'items', 'name', 'number'.",
        id="unknown-key",
    ),
    pytest.param(
        _set(("steps", 0, "items", 0, "kind"), "bonus"),
        "step 1, item 'objective': kind must be one of 'expected', 'red_flag', not 'bonus'.",
        id="bad-kind",
    ),
    pytest.param(
        _set(("steps", 0, "items", 0, "level"), "principal"),
        "step 1, item 'objective': level must be one of 'core', 'senior', 'staff', not "
        "'principal'.",
        id="bad-level",
    ),
    pytest.param(
        _set(("steps", 0, "items", 0, "points"), 6),
        "step 1, item 'objective': points must be within 1..5, not 6.",
        id="points-above-5",
    ),
    pytest.param(
        _set(("steps", 0, "items", 0, "points"), 0),
        "step 1, item 'objective': points must be within 1..5, not 0.",
        id="points-zero",
    ),
    pytest.param(
        _set(("steps", 0, "budget_45"), 0),
        "step 1: budget_45 must be within 1..45, not 0.",
        id="budget-not-positive",
    ),
    pytest.param(
        _set(("steps", 1, "number"), 8),
        "steps entry 2: number must be within 1..7, not 8.",
        id="step-number-outside-1-7",
    ),
    pytest.param(
        _set(("steps", 1, "number"), 1),
        "step 1 appears twice.",
        id="duplicate-step-number",
    ),
    pytest.param(
        _set(("steps", 0, "items", 0, "title"), 42),
        "step 1, item 'objective': title must be text, not a number.",
        id="title-not-text",
    ),
    pytest.param(
        _set(("steps", 0, "items", 0, "key"), "has space"),
        "step 1, item 1: key 'has space' must use only letters, digits, hyphens and underscores.",
        id="key-not-slug",
    ),
    pytest.param(
        _set(("steps", 0, "items", 0, "required"), "yes please"),
        "step 1, item 'objective': required must be true or false, not text.",
        id="required-not-boolean",
    ),
]


@pytest.mark.parametrize(("change", "problem"), BROKEN)
def test_load_rubric_file_refuses_broken_file_and_writes_nothing(tmp_path, change, problem):
    data = tiny_rubric()
    change(data)
    path = write_yaml(tmp_path, data)

    with pytest.raises(RubricFileError) as error:
        load_rubric_file(path)

    assert str(error.value) == f"{path}: {problem}"
    assert row_counts() == dict.fromkeys(row_counts(), 0)


def test_load_rubric_file_refuses_invalid_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("slug: tiny\nsteps: [unclosed\n", encoding="utf-8")

    with pytest.raises(RubricFileError) as error:
        load_rubric_file(path)

    assert str(error.value).startswith(f"{path}: not valid YAML: ")
    assert Rubric.objects.count() == 0


def test_load_rubric_file_refuses_file_that_is_not_a_mapping(tmp_path):
    path = write_yaml(tmp_path, ["slug", "tiny"])

    with pytest.raises(RubricFileError) as error:
        load_rubric_file(path)

    assert str(error.value) == f"{path}: top level must be a mapping, not a list."


def test_load_rubric_file_refuses_missing_file(tmp_path):
    path = tmp_path / "absent.yaml"

    with pytest.raises(RubricFileError) as error:
        load_rubric_file(path)

    assert str(error.value) == f"{path}: cannot read the file: No such file or directory."


# --- existing versions ------------------------------------------------------------------------


def test_load_rubric_file_refuses_changed_published_version_and_writes_nothing(tmp_path):
    path = write_yaml(tmp_path, tiny_rubric())
    version = load_rubric_file(path).version
    data = tiny_rubric()
    data["categories"][0]["name"] = "Metrics, renamed"
    data["steps"][0]["items"][0]["title"] = "Names the business objective"
    write_yaml(tmp_path, data)
    counts = row_counts()

    with pytest.raises(RubricFileError) as error:
        load_rubric_file(path)

    assert str(error.value) == (
        f"{path}: Tiny rubric version 1 is published and differs from {path}; published "
        "versions never change: bump `version` in the file to publish a new one."
    )
    assert row_counts() == counts
    assert Item.objects.get(step__version=version, key="objective").title == "Names the objective"
    # All or nothing: the category update that came before the refusal was rolled back too.
    assert Category.objects.get(slug="metrics").name == "Metrics"


def test_load_rubric_data_bumped_version_creates_new_published_version():
    first = load_rubric_data(tiny_rubric(), source="tiny.yaml").version
    data = tiny_rubric()
    data["version"] = 2
    data["steps"][0]["items"][0]["title"] = "Names the business objective"

    report = load_rubric_data(data, source="tiny.yaml")

    assert report.status == LoadStatus.CREATED
    assert (report.version.number, report.version.status) == (2, VersionStatus.PUBLISHED)
    assert Item.objects.get(step__version=first, key="objective").title == "Names the objective"
    assert Item.objects.get(step__version=report.version, key="objective").title == (
        "Names the business objective"
    )


def test_load_rubric_data_replaces_draft_version_content():
    published = load_rubric_data(tiny_rubric(), source="tiny.yaml").version
    draft = create_draft_version(source=published)
    data = tiny_rubric()
    data["version"] = 2
    data["thresholds"]["hire"] = 70
    data["steps"][0]["items"] = data["steps"][0]["items"][:1]
    data["steps"][1]["items"][0]["categories"] = ["latency"]

    report = load_rubric_data(data, source="tiny.yaml")

    assert report.status == LoadStatus.UPDATED
    assert str(report) == "updated: Tiny rubric v2"
    assert report.version == draft
    draft.refresh_from_db()
    assert (draft.status, draft.published_at, draft.hire_threshold) == (
        VersionStatus.DRAFT,
        None,
        70,
    )
    assert item_outline(draft) == [
        (1, "objective", "Names the objective", ("metrics",)),
        (2, "latency-budget", "States a latency budget", ("latency",)),
    ]
    assert len(item_outline(published)) == 3
    assert load_rubric_data(data, source="tiny.yaml").status == LoadStatus.UNCHANGED


def test_load_rubric_data_refuses_to_replace_draft_used_by_sessions():
    published = load_rubric_data(tiny_rubric(), source="tiny.yaml").version
    draft = create_draft_version(source=published)
    SessionFactory(rubric_version=draft)
    data = tiny_rubric()
    data["version"] = 2
    data["steps"][0]["items"] = data["steps"][0]["items"][:1]

    with pytest.raises(RubricFileError) as error:
        load_rubric_data(data, source="tiny.yaml")

    assert str(error.value) == (
        "tiny.yaml: Tiny rubric draft version 2 differs from tiny.yaml but is already used by "
        "sessions, so it cannot be replaced: bump `version` in the file."
    )
    assert len(item_outline(draft)) == 3


# --- the command ------------------------------------------------------------------------------


def test_load_rubric_command_loads_default_file_and_reports():
    out = StringIO()

    call_command("load_rubric", stdout=out)
    call_command("load_rubric", stdout=out)

    assert out.getvalue() == f"created: {DEFAULT_NAME} v2\nunchanged: {DEFAULT_NAME} v2\n"


def test_load_rubric_command_loads_given_files(tmp_path):
    other = tiny_rubric()
    other.update(slug="other", name="Other rubric", version=3)
    paths = [write_yaml(tmp_path, tiny_rubric(), "a.yaml"), write_yaml(tmp_path, other, "b.yaml")]
    out = StringIO()

    call_command("load_rubric", *map(str, paths), stdout=out)

    assert out.getvalue() == "created: Tiny rubric v1\ncreated: Other rubric v3\n"


def test_load_rubric_command_turns_file_error_into_command_error(tmp_path):
    data = tiny_rubric()
    data["steps"][1]["items"] = []
    path = write_yaml(tmp_path, data)

    with pytest.raises(CommandError) as error:
        call_command("load_rubric", str(path), stdout=StringIO())

    assert str(error.value) == f"{path}: step 2 has no items; every step needs at least one."


def test_load_rubric_data_level_is_part_of_the_content():
    published = load_rubric_data(tiny_rubric(), source="tiny.yaml").version
    data = tiny_rubric()
    data["steps"][1]["items"][0]["level"] = "staff"

    with pytest.raises(RubricFileError, match="is published and differs"):
        load_rubric_data(data, source="tiny.yaml")

    draft = create_draft_version(source=published)
    data["version"] = 2
    report = load_rubric_data(data, source="tiny.yaml")

    assert (report.status, report.version) == (LoadStatus.UPDATED, draft)
    assert Item.objects.get(step__version=draft, key="latency-budget").level == ItemLevel.STAFF
    assert Item.objects.get(step__version=published, key="latency-budget").level == (
        ItemLevel.SENIOR
    )
