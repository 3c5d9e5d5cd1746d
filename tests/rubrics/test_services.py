from datetime import timedelta
from decimal import Decimal

import factory
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from rubrics.models import Item, ItemKind, ItemLevel, RubricVersion, Step, VersionStatus
from rubrics.services import (
    create_draft_version,
    ensure_editable,
    latest_published_version,
    publish_version,
)
from tests.factories import (
    CategoryFactory,
    ItemFactory,
    RubricFactory,
    RubricVersionFactory,
    SessionFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db


class DraftVersionFactory(RubricVersionFactory):
    status = VersionStatus.DRAFT
    published_at = None
    number = factory.Sequence(lambda n: n + 2)


def outline(version: RubricVersion) -> list[tuple[object, ...]]:
    """Everything a copy must keep, without ids."""
    steps = version.steps.order_by("number").prefetch_related("items__categories")
    return [
        (
            step.number,
            step.name,
            step.description,
            step.budget_45,
            step.budget_60,
            [
                (
                    item.key,
                    item.title,
                    item.candidate_text,
                    item.probe,
                    item.points,
                    item.kind,
                    item.required,
                    item.level,
                    item.keywords,
                    item.position,
                    sorted(c.slug for c in item.categories.all()),
                )
                for item in step.items.all()
            ],
        )
        for step in steps
    ]


@pytest.fixture
def published() -> RubricVersion:
    """A published v2 (over an older v1) with two steps and three items."""
    rubric = RubricFactory(name="Tiny rubric", slug="tiny")
    RubricVersionFactory(rubric=rubric, number=1)
    version = RubricVersionFactory(
        rubric=rubric, number=2, strong_hire_threshold=Decimal("82.5"), notes="Second cut."
    )
    metrics = CategoryFactory(slug="metrics")
    latency = CategoryFactory(slug="latency")
    clarify = StepFactory(version=version, number=1, name="Clarify", description="Ask first.")
    frame = StepFactory(version=version, number=2, name="Frame", budget_45=4, budget_60=5)
    ItemFactory(
        step=clarify,
        key="objective",
        points=2,
        required=True,
        keywords="objective\nbusiness goal",
        categories=[metrics],
    )
    ItemFactory(step=clarify, key="jumps-to-model", kind=ItemKind.RED_FLAG, points=3)
    ItemFactory(
        step=frame, key="latency-budget", level=ItemLevel.SENIOR, categories=[latency, metrics]
    )
    return version


# --- drafts -----------------------------------------------------------------------------------


def test_create_draft_version_copies_steps_items_and_categories(published):
    draft = create_draft_version(source=published)

    assert (draft.rubric, draft.number, draft.status, draft.published_at, draft.notes) == (
        published.rubric,
        3,
        VersionStatus.DRAFT,
        None,
        "",
    )
    assert (draft.strong_hire_threshold, draft.hire_threshold, draft.lean_no_hire_threshold) == (
        Decimal("82.5"),
        Decimal(65),
        Decimal(50),
    )
    assert outline(draft) == outline(published)
    assert [(n, [i[0] for i in items]) for n, *_, items in outline(draft)] == [
        (1, ["objective", "jumps-to-model"]),
        (2, ["latency-budget"]),
    ]
    assert Step.objects.filter(version=draft).count() == 2
    assert Item.objects.filter(step__version=draft).count() == 3
    assert Item.objects.filter(step__version=published).count() == 3
    assert Item.categories.through.objects.filter(item__step__version=draft).count() == 3
    assert Item.objects.get(step__version=draft, key="latency-budget").level == ItemLevel.SENIOR


def test_create_draft_version_refuses_second_draft(published):
    create_draft_version(source=published)

    with pytest.raises(ValidationError) as error:
        create_draft_version(source=published)

    assert error.value.messages == [
        "Tiny rubric already has a draft, v3: edit and publish it, or delete it, before "
        "starting another."
    ]
    assert published.rubric.versions.count() == 3


# --- publishing -------------------------------------------------------------------------------


def test_publish_version_publishes_draft(published):
    draft = create_draft_version(source=published)

    publish_version(version=draft)

    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    assert draft.published_at is not None


def test_publish_version_refuses_empty_step(published):
    draft = create_draft_version(source=published)
    StepFactory(version=draft, number=3, name="Data")

    with pytest.raises(ValidationError) as error:
        publish_version(version=draft)

    assert error.value.messages == ["Step 3 (Data) has no items; every step needs at least one."]
    draft.refresh_from_db()
    assert (draft.status, draft.published_at) == (VersionStatus.DRAFT, None)


def test_publish_version_lists_every_problem():
    draft = DraftVersionFactory(hire_threshold=Decimal(90))

    with pytest.raises(ValidationError) as error:
        publish_version(version=draft)

    assert error.value.messages == [
        "A version needs at least one step.",
        "Thresholds must be strictly descending and within 0..100: strong hire 80, hire 90, "
        "lean no hire 50.",
    ]


def test_publish_version_refuses_duplicate_keys_across_steps(published):
    draft = create_draft_version(source=published)
    ItemFactory(step=draft.steps.get(number=2), key="objective")

    with pytest.raises(ValidationError) as error:
        publish_version(version=draft)

    assert error.value.messages == [
        "Item key 'objective' is used in step 1 and step 2; keys must be unique in a version."
    ]


def test_publish_version_refuses_step_beyond_seven(published):
    draft = create_draft_version(source=published)
    ItemFactory(step=StepFactory(version=draft, number=8))

    with pytest.raises(ValidationError) as error:
        publish_version(version=draft)

    assert error.value.messages == ["Step 8 is outside 1..7."]


def test_publish_version_refuses_published_version(published):
    with pytest.raises(ValidationError) as error:
        publish_version(version=published)

    assert error.value.messages == ["Tiny rubric v2 is already published."]


def test_publish_version_refuses_draft_older_than_a_published_version(published):
    draft = create_draft_version(source=published)
    ItemFactory(step=StepFactory(version=RubricVersionFactory(rubric=published.rubric, number=4)))

    with pytest.raises(ValidationError) as error:
        publish_version(version=draft)

    assert error.value.messages == [
        "v4 is already published, and a version cannot be published after a newer one: create "
        "a new draft instead."
    ]


def test_publishing_new_version_leaves_session_on_its_version(published):
    session = SessionFactory(rubric_version=published)
    draft = create_draft_version(source=published)

    publish_version(version=draft)

    session.refresh_from_db()
    assert session.rubric_version == published
    assert latest_published_version("tiny") == draft


def test_ensure_editable_refuses_published_version(published):
    with pytest.raises(ValidationError) as error:
        ensure_editable(published)

    assert error.value.messages == [
        "Published versions never change: Tiny rubric v2 is published. Create a new draft "
        "version from it and edit that."
    ]


def test_ensure_editable_accepts_draft():
    assert ensure_editable(DraftVersionFactory()) is None


# --- reading ----------------------------------------------------------------------------------


def test_latest_published_version_picks_most_recently_published():
    now = timezone.now()
    rubric = RubricFactory(slug="tiny")
    RubricVersionFactory(rubric=rubric, number=1, published_at=now - timedelta(days=2))
    second = RubricVersionFactory(rubric=rubric, number=2, published_at=now - timedelta(days=1))
    DraftVersionFactory(rubric=rubric, number=3)
    other = RubricVersionFactory(rubric__slug="other", number=1, published_at=now)

    assert latest_published_version("tiny") == second
    assert latest_published_version("other") == other
    assert latest_published_version() == other
    assert latest_published_version("absent") is None


def test_latest_published_version_ignores_drafts():
    DraftVersionFactory(rubric__slug="tiny")

    assert latest_published_version("tiny") is None
    assert latest_published_version() is None
