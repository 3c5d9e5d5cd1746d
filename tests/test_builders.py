"""The shared builders stand in for the real loaders: what they build must be what those build."""

from datetime import datetime

import pytest
from django.db import connection
from django.utils import timezone

from rubrics.models import Category, Item, Rubric, RubricVersion, Step
from tests.builders import FROZEN_RUBRIC_FILE, load_rubric
from tests.factories import CategoryFactory, ItemFactory

pytestmark = pytest.mark.django_db

# Listed here again, not imported from the builder: a table the builder forgot to copy must show
# up as a difference below.
MODELS = (Category, Rubric, RubricVersion, Step, Item, Item.categories.through)


def _rewind_id_counters() -> None:
    """Move the tables' id counters back to the start, as restoring another copy of the database
    (the browser tests' case bank) can leave them."""
    tables = [model._meta.db_table for model in MODELS]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), 1, false)", [table])
        else:
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({marks})", tables)  # noqa: S608


def _rows(*, stamps: bool = False) -> list[list[dict[str, object]]]:
    """Every rubric row; without its timestamps unless asked."""
    return [
        [
            {k: v for k, v in row.items() if stamps or not isinstance(v, datetime)}
            for row in model.objects.order_by("pk").values()
        ]
        for model in MODELS
    ]


def test_a_rubric_loaded_again_is_the_same_rows_and_ids_continue_after_them():
    first = load_rubric(FROZEN_RUBRIC_FILE)
    loaded = _rows()
    for model in reversed(MODELS):
        model.objects.all().delete()
    _rewind_id_counters()
    before = timezone.now()

    again = load_rubric(FROZEN_RUBRIC_FILE)

    assert again.pk == first.pk
    assert _rows() == loaded
    # Stamped at the copy, as a load now would stamp them.
    stamps = [v for rows in _rows(stamps=True) for row in rows for v in row.values()]
    assert [v for v in stamps if isinstance(v, datetime) and v < before] == []
    assert (again.created_at >= before, again.published_at >= before) == (True, True)
    # New rows get ids after the copied ones, even with the counters rewound.
    item = ItemFactory(step=Step.objects.first(), categories=[CategoryFactory()])
    assert item.pk > max(row["id"] for row in loaded[MODELS.index(Item)])
    assert item.categories.get().pk > max(row["id"] for row in loaded[0])


def test_a_rubric_loaded_over_existing_rows_goes_through_the_loader():
    load_rubric(FROZEN_RUBRIC_FILE)
    for model in reversed(MODELS):
        model.objects.all().delete()
    # A copy of the first load's rows would collide with this category's slug.
    mine = CategoryFactory(slug="data-leakage", name="Mine")

    version = load_rubric(FROZEN_RUBRIC_FILE)

    assert Category.objects.get(slug="data-leakage").pk == mine.pk
    assert version.steps.count() == 7
    assert Item.objects.filter(step__version=version, categories=mine).exists()
