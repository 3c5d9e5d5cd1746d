import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from casebank.models import Case, CaseStatus
from tests.factories import (
    CaseFactory,
    CaseItemFactory,
    CategoryFactory,
    ClarificationFactFactory,
    StepProbeFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


CHANGELIST = reverse("admin:casebank_case_changelist")
ADD = reverse("admin:casebank_case_add")
# Session, user, filtered and total counts, the page of cases, the tags for the tag filter.
QUERIES_CHANGELIST = 6


def change_url(case: Case) -> str:
    return reverse("admin:casebank_case_change", args=[case.pk])


def inline_management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def add_form_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Ride demand forecasting",
        "slug": "ride-demand-forecasting",
        "summary": "Forecast ride demand per area and hour.",
        "status": CaseStatus.DRAFT,
        "author": "",
        "domain": "forecasting-eta",
        "difficulty": "senior",
        "candidate_prompt": "Forecast demand.",
        "interviewer_brief": "The twist is holidays.",
        "model_answer": "Quantile loss.",
        **inline_management("facts", 1),
        "facts-0-position": "0",
        "facts-0-question": "How far ahead?",
        "facts-0-answer": "One week.",
        **inline_management("probes", 2),
        "probes-0-step": "1",
        "probes-0-text": "Ask about the horizon.",
        "probes-1-step": "",
        "probes-1-text": "",
        **inline_management("extra_items", 0),
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_changelist_with_filters_and_search(admin_client):
    tag = TagFactory(slug="fraud")
    CaseFactory(title="Card fraud detection", domain="fraud-risk", tags=[tag])
    CaseFactory(title="Ad click prediction", domain="ads")
    CaseFactory(title="Draft fraud case", domain="fraud-risk", status=CaseStatus.DRAFT)

    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3

    response = admin_client.get(
        CHANGELIST,
        {"domain__exact": "fraud-risk", "status__exact": "published", "tags__id__exact": tag.pk},
    )
    assert response.status_code == 200
    assert [case.title for case in response.context["cl"].result_list] == ["Card fraud detection"]

    response = admin_client.get(CHANGELIST, {"q": "fraud"})
    assert [case.title for case in response.context["cl"].result_list] == [
        "Card fraud detection",
        "Draft fraud case",
    ]


def test_changelist_search_by_tag_lists_a_case_once(admin_client):
    CaseFactory(title="Feed", tags=[TagFactory(slug="ranking"), TagFactory(slug="re-ranking")])
    response = admin_client.get(CHANGELIST, {"q": "ranking"})
    assert [case.title for case in response.context["cl"].result_list] == ["Feed"]


def test_changelist_query_count_does_not_grow_with_cases(admin_client, django_assert_num_queries):
    tags = [TagFactory(slug="alpha"), TagFactory(slug="beta")]
    CaseFactory(tags=tags)
    with django_assert_num_queries(QUERIES_CHANGELIST):
        assert admin_client.get(CHANGELIST).status_code == 200
    CaseFactory.create_batch(19, tags=tags)
    with django_assert_num_queries(QUERIES_CHANGELIST):
        response = admin_client.get(CHANGELIST)
    assert response.context["cl"].result_count == 20


def test_add_page_renders(admin_client):
    response = admin_client.get(ADD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Save the case to see a preview." in html
    # Seven empty step forms, one per step.
    assert 'name="probes-TOTAL_FORMS" value="7"' in html


def test_change_page_shows_markdown_preview(admin_client):
    case = CaseFactory(
        candidate_prompt="Design **ads** ranking.",
        interviewer_brief="<script>alert('brief')</script>",
        model_answer="- calibration\n- latency",
    )
    StepProbeFactory(case=case, step=3, text="Ask about *labels*.")
    CaseItemFactory(case=case, categories=[CategoryFactory(slug="metrics")])
    ClarificationFactFactory(case=case)
    response = admin_client.get(change_url(case))
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "<h3>Candidate prompt</h3>\n<div><p>Design <strong>ads</strong> ranking.</p></div>" in html
    )
    assert "<h3>Step 3 probes</h3>\n<div><p>Ask about <em>labels</em>.</p></div>" in html
    assert "<ul>\n<li>calibration</li>\n<li>latency</li>\n</ul>" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert('brief')&lt;/script&gt;" in html


def test_publish_action(admin_client):
    drafts = CaseFactory.create_batch(2, status=CaseStatus.DRAFT)
    response = admin_client.post(
        CHANGELIST,
        {"action": "publish", "_selected_action": [case.pk for case in drafts]},
        follow=True,
    )
    assert response.status_code == 200
    assert [m.message for m in get_messages(response.wsgi_request)] == ["Published 2 cases."]
    assert set(Case.objects.values_list("status", flat=True)) == {CaseStatus.PUBLISHED}


def test_unpublish_action(admin_client):
    published = CaseFactory(status=CaseStatus.PUBLISHED)
    other = CaseFactory(status=CaseStatus.PUBLISHED)
    admin_client.post(CHANGELIST, {"action": "unpublish", "_selected_action": [published.pk]})
    published.refresh_from_db()
    other.refresh_from_db()
    assert published.status == CaseStatus.DRAFT
    assert other.status == CaseStatus.PUBLISHED


def test_duplicate_action(admin_client, staff):
    case = CaseFactory(slug="ad-click", title="Ad click prediction", tags=[TagFactory(slug="ads")])
    ClarificationFactFactory(case=case, question="How many users?")
    StepProbeFactory(case=case, step=2, text="Ask about labels.")
    CaseItemFactory(case=case, key="ads-twist", categories=[CategoryFactory(slug="metrics")])
    response = admin_client.post(
        CHANGELIST, {"action": "duplicate", "_selected_action": [case.pk]}, follow=True
    )
    copy = Case.objects.get(slug="ad-click-copy")
    assert copy.title == "Copy of Ad click prediction"
    assert copy.status == CaseStatus.DRAFT
    assert copy.author == staff
    assert [f.question for f in copy.facts.all()] == ["How many users?"]
    assert [(p.step, p.text) for p in copy.probes.all()] == [(2, "Ask about labels.")]
    assert [i.key for i in copy.extra_items.all()] == ["ads-twist"]
    assert [t.slug for t in copy.tags.all()] == ["ads"]
    html = response.content.decode()
    assert (
        f'Created the draft <a href="{change_url(copy)}">Copy of Ad click prediction</a>.' in html
    )


def test_admin_is_for_staff_only(client, user):
    client.force_login(user)
    for url in (CHANGELIST, ADD, reverse("admin:casebank_tag_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


def test_non_staff_cannot_run_actions(client, user):
    case = CaseFactory(status=CaseStatus.DRAFT)
    client.force_login(user)
    response = client.post(CHANGELIST, {"action": "publish", "_selected_action": [case.pk]})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT


def test_create_case_through_add_form(admin_client, staff):
    tag = TagFactory(slug="forecasting")
    response = admin_client.post(ADD, add_form_data(tags=[tag.pk]))
    assert response.status_code == 302, response.context["adminform"].form.errors
    case = Case.objects.get(slug="ride-demand-forecasting")
    assert case.title == "Ride demand forecasting"
    assert case.author == staff
    assert case.status == CaseStatus.DRAFT
    assert [t.slug for t in case.tags.all()] == ["forecasting"]
    assert [(f.question, f.answer) for f in case.facts.all()] == [("How far ahead?", "One week.")]
    assert [(p.step, p.text) for p in case.probes.all()] == [(1, "Ask about the horizon.")]


def test_add_form_shows_length_errors(admin_client):
    response = admin_client.post(ADD, add_form_data(title="x" * 121))
    assert response.status_code == 200
    assert not Case.objects.exists()
    assert response.context["adminform"].form.errors == {
        "title": ["Ensure this value has at most 120 characters (it has 121)."]
    }
    assert "Ensure this value has at most 120 characters (it has 121)." in response.content.decode()


def test_add_form_rejects_two_probes_for_one_step(admin_client):
    data = add_form_data(**{"probes-1-step": "1", "probes-1-text": "Again."})
    response = admin_client.post(ADD, data)
    assert response.status_code == 200
    assert not Case.objects.exists()
    assert "Please correct the duplicate data for step" in response.content.decode()


def test_tag_admin_search(admin_client):
    TagFactory(slug="fraud")
    TagFactory(slug="ranking")
    response = admin_client.get(reverse("admin:casebank_tag_changelist"), {"q": "fra"})
    assert response.status_code == 200
    assert [t.slug for t in response.context["cl"].result_list] == ["fraud"]
