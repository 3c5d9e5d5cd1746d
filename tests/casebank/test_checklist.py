"""casebank.checklist: the one join of a rubric version's items with a case's items."""

from decimal import Decimal
from fractions import Fraction

import pytest

from casebank.checklist import (
    case_checklist,
    case_parts,
    expected_count,
    find_item,
    probe_html,
    rubric_items,
    rubric_thresholds,
)
from rubrics import scoring
from rubrics.models import Item, ItemKind, RubricVersion, VersionStatus
from tests.factories import (
    CaseFactory,
    CaseItemFactory,
    CategoryFactory,
    ItemFactory,
    RubricFactory,
    RubricVersionFactory,
    StepFactory,
    StepProbeFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def published() -> RubricVersion:
    """A published v2 (over an older v1) with two steps and three items."""
    rubric = RubricFactory(name="Tiny rubric", slug="tiny")
    RubricVersionFactory(rubric=rubric, number=1)
    version = RubricVersionFactory(rubric=rubric, number=2, strong_hire_threshold=Decimal("82.5"))
    metrics = CategoryFactory(slug="metrics")
    latency = CategoryFactory(slug="latency")
    clarify = StepFactory(version=version, number=1, name="Clarify")
    frame = StepFactory(version=version, number=2, name="Frame")
    ItemFactory(
        step=clarify,
        key="objective",
        points=2,
        required=True,
        keywords="objective\nbusiness goal",
        categories=[metrics],
    )
    ItemFactory(step=clarify, key="jumps-to-model", kind=ItemKind.RED_FLAG, points=3)
    ItemFactory(step=frame, key="latency-budget", categories=[latency, metrics])
    return version


def test_case_checklist_joins_rubric_and_case_items(published):
    case = CaseFactory()
    CaseItemFactory(
        case=case,
        step=1,
        key="twist",
        title="Handles the twist",
        points=3,
        required=True,
        categories=[CategoryFactory(slug="latency")],
    )
    CaseItemFactory(case=case, step=2, key="objective", kind=ItemKind.RED_FLAG, title="Flag")

    items = [item.scoring_item for item in case_checklist(published.pk, case.pk)]

    assert items == [
        scoring.Item(
            key="objective",
            step=1,
            title=Item.objects.get(key="objective").title,
            points=2,
            required=True,
            categories=("metrics",),
        ),
        scoring.Item(
            key="jumps-to-model",
            step=1,
            title=Item.objects.get(key="jumps-to-model").title,
            points=3,
            kind=scoring.Kind.RED_FLAG,
        ),
        scoring.Item(
            key="case:twist",
            step=1,
            title="Handles the twist",
            points=3,
            required=True,
            categories=("latency",),
        ),
        scoring.Item(
            key="latency-budget",
            step=2,
            title=Item.objects.get(key="latency-budget").title,
            points=1,
            categories=("metrics", "latency"),
        ),
        scoring.Item(
            key="case:objective", step=2, title="Flag", points=1, kind=scoring.Kind.RED_FLAG
        ),
    ]
    # The engine accepts them: keys are unique even where the case reuses a rubric key.
    assert scoring.score(items, {}).total.possible == 6


def test_case_checklist_of_one_step_carries_texts_and_keywords(published):
    case = CaseFactory()
    CaseItemFactory(case=case, step=1, key="twist", keywords="twist\nsurprise")
    CaseItemFactory(case=case, step=2, key="other")

    items = case_checklist(published.pk, case.pk, step=1)

    assert [item.key for item in items] == ["objective", "jumps-to-model", "case:twist"]
    objective, _, twist = items
    assert objective.keywords == ("objective", "business goal")
    assert objective.category_names == ("Metrics",)
    assert objective.probe == "INTERVIEWER-ONLY probe: ask about this point."
    assert (objective.from_case, twist.from_case) == (False, True)
    assert twist.keywords == ("twist", "surprise")
    assert twist.candidate_text == "The candidate was expected to handle the twist."


def test_find_item_finds_rubric_and_case_items_of_this_checklist_only(published):
    case = CaseFactory()
    CaseItemFactory(case=case, step=4, key="twist", kind=ItemKind.RED_FLAG)
    CaseItemFactory(key="elsewhere")  # another case's item

    rubric_ref = find_item(published.pk, case.pk, "latency-budget")
    case_ref = find_item(published.pk, case.pk, "case:twist")
    assert (rubric_ref.step, rubric_ref.kind) == (2, scoring.Kind.EXPECTED)
    assert (case_ref.key, case_ref.step, case_ref.kind) == ("case:twist", 4, scoring.Kind.RED_FLAG)
    assert find_item(published.pk, case.pk, "case:elsewhere") is None
    assert find_item(published.pk, case.pk, "twist") is None
    assert find_item(published.pk, case.pk, "no-such-item") is None


def test_expected_count_leaves_out_red_flags(published):
    case = CaseFactory()
    CaseItemFactory(case=case, key="one")
    CaseItemFactory(case=case, key="flag", kind=ItemKind.RED_FLAG)

    assert expected_count(published.pk, case.pk) == 3  # objective, latency-budget, case:one


@pytest.mark.parametrize("count", [1, 30])
def test_case_checklist_query_count_is_fixed(django_assert_num_queries, count):
    version = RubricVersionFactory()
    categories = [CategoryFactory(), CategoryFactory()]
    steps = [StepFactory(version=version, number=number) for number in range(1, 8)]
    for index in range(count):
        ItemFactory(step=steps[index % 7], categories=categories)
    case = CaseFactory()
    for _ in range(count):
        CaseItemFactory(case=case, categories=categories)

    # Rubric items with their steps, their categories, the case items, their categories, the
    # case's own list of rubric items that do not apply.
    with django_assert_num_queries(5):
        items = case_checklist(version.pk, case.pk)

    assert len(items) == 2 * count
    assert {item.categories for item in items} == {tuple(c.slug for c in categories)}


def test_a_published_versions_items_are_read_once_per_process(published, django_assert_num_queries):
    case = CaseFactory()
    CaseItemFactory(case=case, step=1, key="twist")
    # The first read: the rubric's items with their steps and version, their categories, then
    # the case's items, their categories, the case's exclusions.
    with django_assert_num_queries(5):
        first = case_checklist(published.pk, case.pk)
    # Later reads, of the whole list or of one step, take the rubric's items from the cache.
    with django_assert_num_queries(3):
        again = case_checklist(published.pk, case.pk)
    with django_assert_num_queries(3):
        step_one = case_checklist(published.pk, case.pk, step=1)
    with django_assert_num_queries(0):
        ref = find_item(published.pk, case.pk, "latency-budget")

    assert again == first
    assert [item.key for item in step_one] == ["objective", "jumps-to-model", "case:twist"]
    assert (ref.step, ref.kind) == (2, scoring.Kind.EXPECTED)
    assert find_item(published.pk, case.pk, "no-such-item") is None


def test_the_cached_items_take_each_cases_own_exclusions(published):
    excluding, other = CaseFactory(), CaseFactory()
    excluding.exclusions.create(item_key="latency-budget", reason="A batch system.")

    reasons = {item.key: item.excluded_reason for item in case_checklist(published.pk, other.pk)}
    excluded = {i.key: i.excluded_reason for i in case_checklist(published.pk, excluding.pk)}
    again = {item.key: item.excluded_reason for item in case_checklist(published.pk, other.pk)}

    assert excluded["latency-budget"] == "A batch system."
    assert reasons["latency-budget"] == again["latency-budget"] == ""
    assert all(item.excluded_reason == "" for item in rubric_items(published.pk))


def test_a_draft_versions_items_are_read_afresh_each_time(published):
    published.status = VersionStatus.DRAFT
    published.save()
    case = CaseFactory()
    before = [item.title for item in case_checklist(published.pk, case.pk)]

    Item.objects.filter(step__version=published, key="objective").update(title="Edited title")
    after = [item.title for item in case_checklist(published.pk, case.pk)]

    assert "Edited title" not in before
    assert "Edited title" in after


def test_a_published_versions_thresholds_are_kept_with_its_items(
    published, django_assert_num_queries
):
    rubric_items(published.pk)
    with django_assert_num_queries(0):
        thresholds = rubric_thresholds(published.pk)
    assert thresholds.strong_hire == Fraction("82.5")
    assert thresholds == published.thresholds


def test_a_published_versions_thresholds_are_read_once_without_its_items(
    published, django_assert_num_queries
):
    with django_assert_num_queries(1):
        first = rubric_thresholds(published.pk)
    with django_assert_num_queries(0):
        again = rubric_thresholds(published.pk)
    assert first == again == published.thresholds


def test_a_draft_versions_thresholds_are_read_afresh_each_time(published):
    published.status = VersionStatus.DRAFT
    published.save()
    rubric_items(published.pk)
    before = rubric_thresholds(published.pk)

    RubricVersion.objects.filter(pk=published.pk).update(strong_hire_threshold=Decimal("90"))

    assert before.strong_hire == Fraction("82.5")
    assert rubric_thresholds(published.pk).strong_hire == 90


def test_a_cases_own_items_are_read_once_per_edit_when_the_edit_is_known(
    published, django_assert_num_queries
):
    case = CaseFactory()
    CaseItemFactory(case=case, step=1, key="twist")
    case.exclusions.create(item_key="latency-budget", reason="A batch system.")
    rubric_items(published.pk)
    # Given when the case was last edited, the first read fills the process's cache: the case's
    # items, their categories, its exclusions; later reads of any step take none.
    with django_assert_num_queries(3):
        first = case_checklist(published.pk, case.pk, edited_at=case.updated_at)
    with django_assert_num_queries(0):
        again = case_checklist(published.pk, case.pk, edited_at=case.updated_at)
        step_one = case_checklist(published.pk, case.pk, step=1, edited_at=case.updated_at)
        ref = find_item(published.pk, case.pk, "case:twist", edited_at=case.updated_at)
        missing = find_item(published.pk, case.pk, "case:nothing", edited_at=case.updated_at)

    assert first == again == case_checklist(published.pk, case.pk)
    assert [item.key for item in step_one] == ["objective", "jumps-to-model", "case:twist"]
    assert {i.key: i.excluded_reason for i in first}["latency-budget"] == "A batch system."
    assert (ref.step, ref.kind) == (1, scoring.Kind.EXPECTED)
    assert missing is None


def test_a_later_edit_of_the_case_reads_its_items_afresh(published, django_assert_num_queries):
    case = CaseFactory()
    CaseItemFactory(case=case, step=1, key="twist")
    before = case_parts(case.pk, edited_at=case.updated_at)

    CaseItemFactory(case=case, step=2, key="second")
    case.save()  # as the admin and the import save the case in the transaction of every edit
    with django_assert_num_queries(3):
        after = case_parts(case.pk, edited_at=case.updated_at)

    assert [item.key for item in before.items] == ["case:twist"]
    assert [item.key for item in after.items] == ["case:twist", "case:second"]
    # Without the moment of the last edit, nothing is cached: three queries each time.
    with django_assert_num_queries(3):
        case_parts(case.pk)


def test_a_steps_probes_are_rendered_once_per_edit_when_the_edit_is_known(
    django_assert_num_queries,
):
    case = CaseFactory()
    StepProbeFactory(case=case, step=2, text="Ask **why** this metric.\n\n<script>x</script>")
    with django_assert_num_queries(1):
        first = probe_html(case.pk, 2, edited_at=case.updated_at)
    with django_assert_num_queries(0):
        again = probe_html(case.pk, 2, edited_at=case.updated_at)

    assert first == again
    # Through the one Markdown renderer, so sanitised like every other text.
    assert "<strong>why</strong>" in first
    assert "<script>" not in first
    # A step without probes has none, and that is kept too.
    with django_assert_num_queries(1):
        assert probe_html(case.pk, 3, edited_at=case.updated_at) == ""
    with django_assert_num_queries(0):
        assert probe_html(case.pk, 3, edited_at=case.updated_at) == ""


def test_a_later_edit_of_the_probes_renders_them_afresh(django_assert_num_queries):
    case = CaseFactory()
    probe = StepProbeFactory(case=case, step=1, text="Ask about scale.")
    before = probe_html(case.pk, 1, edited_at=case.updated_at)

    probe.text = "Ask about cold start."
    probe.save()
    case.save()  # as the admin and the import save the case in the transaction of every edit
    with django_assert_num_queries(1):
        after = probe_html(case.pk, 1, edited_at=case.updated_at)

    assert "scale" in before
    assert "cold start" in after
    assert "scale" not in after
    # Without the moment of the last edit, nothing is kept: a query each time.
    with django_assert_num_queries(1):
        probe_html(case.pk, 1)
    with django_assert_num_queries(1):
        probe_html(case.pk, 1)
