import factory
import pytest
from django.test import Client
from django.urls import reverse

from rubrics.models import Item, RubricVersion, Step, VersionStatus
from rubrics.services import create_draft_version
from tests.factories import (
    CategoryFactory,
    ItemFactory,
    RubricFactory,
    RubricVersionFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db

MODELS = ["category", "rubric", "rubricversion", "step", "item"]


class DraftVersionFactory(RubricVersionFactory):
    status = VersionStatus.DRAFT
    published_at = None
    number = factory.Sequence(lambda n: n + 2)


@pytest.fixture
def published() -> RubricVersion:
    version = RubricVersionFactory(rubric=RubricFactory(name="Tiny rubric"), number=1)
    metrics = CategoryFactory(slug="metrics")
    ItemFactory(
        step=StepFactory(version=version, number=1, name="Clarify"),
        key="objective",
        title="Names the objective",
        categories=[metrics],
    )
    return version


@pytest.fixture
def draft(published: RubricVersion) -> RubricVersion:
    return create_draft_version(source=published)


def changelist(model: str) -> str:
    return reverse(f"admin:rubrics_{model}_changelist")


def change_url(obj: object) -> str:
    return reverse(f"admin:rubrics_{obj._meta.model_name}_change", args=[obj.pk])


def only_row(model: type[Step] | type[Item], version: RubricVersion) -> Step | Item:
    if model is Step:
        return Step.objects.get(version=version)
    return Item.objects.get(step__version=version)


def messages_of(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


def run_action(client: Client, action: str, *versions: RubricVersion):
    data = {"action": action, "_selected_action": [version.pk for version in versions]}
    return client.post(changelist("rubricversion"), data, follow=True)


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_rubric_admin_redirects_non_staff_to_login(client, user, model):
    client.force_login(user)

    response = client.get(changelist(model))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={changelist(model)}"


@pytest.mark.parametrize("model", MODELS)
def test_rubric_admin_changelists_render_for_staff(client, staff, draft, model):
    client.force_login(staff)

    assert client.get(changelist(model)).status_code == 200


@pytest.mark.parametrize("model", ["category", "step", "item"])
def test_rubric_admin_add_pages_render_for_staff(client, staff, draft, model):
    client.force_login(staff)

    assert client.get(reverse(f"admin:rubrics_{model}_add")).status_code == 200


@pytest.mark.parametrize("model", ["rubric", "rubricversion"])
def test_rubric_admin_refuses_adding_rubrics_and_versions(client, staff, model):
    client.force_login(staff)

    assert client.get(reverse(f"admin:rubrics_{model}_add")).status_code == 403


def test_item_admin_offers_only_draft_steps(client, staff, draft, published):
    client.force_login(staff)

    response = client.get(reverse("admin:rubrics_item_add"))

    field = response.context["adminform"].form.fields["step"]
    assert [label for _, label in field.choices] == [
        "---------",
        "Tiny rubric v2 (draft) · 1. Clarify",
    ]


def test_rubric_admin_item_changelist_filters_by_version(client, staff, draft):
    client.force_login(staff)

    response = client.get(changelist("item"), {"step__version__id__exact": draft.pk})

    assert response.status_code == 200
    assert [item.step.version for item in response.context["cl"].result_list] == [draft]


# --- drafts are editable ----------------------------------------------------------------------


def test_draft_version_change_page_is_editable(client, staff, draft):
    client.force_login(staff)

    response = client.get(change_url(draft))

    assert response.status_code == 200
    assert 'name="_save"' in response.content.decode()


@pytest.mark.parametrize("model", [Step, Item])
def test_draft_step_and_item_change_pages_are_editable(client, staff, draft, model):
    obj = only_row(model, draft)
    client.force_login(staff)

    response = client.get(change_url(obj))

    assert response.status_code == 200
    assert 'name="_save"' in response.content.decode()


def test_item_admin_saves_draft_item(client, staff, draft):
    item = Item.objects.get(step__version=draft)
    latency = CategoryFactory(slug="latency")
    client.force_login(staff)

    response = client.post(
        change_url(item),
        {
            "step": item.step_id,
            "key": "objective",
            "title": "Names the business objective",
            "kind": "expected",
            "points": 3,
            "required": "on",
            "level": "senior",
            "candidate_text": "Name it.",
            "probe": "",
            "keywords": "objective\ngoal",
            "categories": [latency.pk],
            "position": 4,
        },
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.title, item.points, item.required, item.level, item.keyword_list) == (
        "Names the business objective",
        3,
        True,
        "senior",
        ["objective", "goal"],
    )
    assert list(item.categories.values_list("slug", flat=True)) == ["latency"]


def test_item_admin_refuses_new_item_in_published_step(client, staff, published):
    step = published.steps.get()
    client.force_login(staff)

    response = client.post(
        reverse("admin:rubrics_item_add"),
        {
            "step": step.pk,
            "key": "sneaky",
            "title": "Sneaks in",
            "kind": "expected",
            "points": 1,
            "candidate_text": "Nope.",
            "position": 0,
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["step"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert not Item.objects.filter(key="sneaky").exists()


def test_version_admin_refuses_thresholds_not_descending(client, staff, draft):
    client.force_login(staff)

    response = client.post(
        change_url(draft),
        {
            "notes": "Stricter.",
            "strong_hire_threshold": "60",
            "hire_threshold": "65",
            "lean_no_hire_threshold": "50",
            "steps-TOTAL_FORMS": "0",
            "steps-INITIAL_FORMS": "0",
            "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Thresholds must be strictly descending and within 0..100: strong hire 60, hire 65, "
        "lean no hire 50."
    ]
    draft.refresh_from_db()
    assert (draft.notes, draft.strong_hire_threshold) == ("", 80)


# --- published versions are read-only ---------------------------------------------------------


def test_published_version_change_page_is_read_only(client, staff, published):
    client.force_login(staff)

    page = client.get(change_url(published))
    post = client.post(change_url(published), {"notes": "Changed.", "hire_threshold": "70"})

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert post.status_code == 403
    published.refresh_from_db()
    assert (published.notes, published.hire_threshold) == ("", 65)


@pytest.mark.parametrize("model", [Step, Item])
def test_published_step_and_item_are_read_only(client, staff, published, model):
    obj = only_row(model, published)
    client.force_login(staff)

    page = client.get(change_url(obj))
    post = client.post(change_url(obj), {"name": "Changed", "title": "Changed"})
    delete = client.post(reverse(f"admin:rubrics_{model._meta.model_name}_delete", args=[obj.pk]))

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert (post.status_code, delete.status_code) == (403, 403)
    assert model.objects.filter(pk=obj.pk).exists()


def test_published_version_cannot_be_deleted(client, staff, published):
    client.force_login(staff)

    response = client.post(reverse("admin:rubrics_rubricversion_delete", args=[published.pk]))

    assert response.status_code == 403
    assert RubricVersion.objects.filter(pk=published.pk).exists()


def test_rubric_admin_lists_versions_with_links(client, staff, draft, published):
    client.force_login(staff)

    content = client.get(change_url(published.rubric)).content.decode()

    assert change_url(published) in content
    assert change_url(draft) in content


# --- actions ----------------------------------------------------------------------------------


def test_create_draft_action_creates_draft(client, staff, published):
    client.force_login(staff)

    response = run_action(client, "create_draft", published)

    assert response.status_code == 200
    assert messages_of(response) == [("success", "Created draft Tiny rubric v2 from v1.")]
    assert list(published.rubric.versions.values_list("number", "status")) == [
        (2, VersionStatus.DRAFT),
        (1, VersionStatus.PUBLISHED),
    ]
    assert Item.objects.get(step__version__number=2).key == "objective"


def test_create_draft_action_reports_existing_draft(client, staff, draft, published):
    client.force_login(staff)

    response = run_action(client, "create_draft", published)

    assert response.status_code == 200
    assert messages_of(response) == [
        (
            "error",
            "Tiny rubric already has a draft, v2: edit and publish it, or delete it, before "
            "starting another.",
        )
    ]
    assert published.rubric.versions.count() == 2


def test_publish_action_publishes_draft(client, staff, draft):
    client.force_login(staff)

    response = run_action(client, "publish", draft)

    assert messages_of(response) == [("success", "Published Tiny rubric v2.")]
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED


def test_publish_action_reports_every_problem(client, staff):
    empty = DraftVersionFactory(rubric__name="Empty rubric", number=1, hire_threshold=90)
    StepFactory(version=empty, number=1, name="Clarify")
    client.force_login(staff)

    response = run_action(client, "publish", empty)

    assert response.status_code == 200
    assert messages_of(response) == [
        (
            "error",
            "Empty rubric v1 was not published: Step 1 (Clarify) has no items; every step needs "
            "at least one. Thresholds must be strictly descending and within 0..100: strong hire "
            "80, hire 90, lean no hire 50.",
        )
    ]
    empty.refresh_from_db()
    assert empty.status == VersionStatus.DRAFT


def test_version_actions_need_staff(client, user, draft):
    client.force_login(user)

    response = client.post(
        changelist("rubricversion"), {"action": "publish", "_selected_action": [draft.pk]}
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
