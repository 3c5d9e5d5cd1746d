"""The case admin: the same rules as the files, errors you can find, steps by name, previews."""

import filecmp
import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from casebank import services
from casebank.models import Case, CaseExclusion, CaseItem, CaseStatus, Tag
from tests.builders import load_rubric
from tests.factories import (
    CaseFactory,
    CaseItemFactory,
    CategoryFactory,
    ClarificationFactFactory,
    StepProbeFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:casebank_case_changelist")
ADD = reverse("admin:casebank_case_add")
PREVIEW_ADD = reverse("admin:casebank_case_preview_add")
# Session, user, filtered and total counts, the page of cases, the tags for the tag filter.
QUERIES_CHANGELIST = 6
# Session, user, the case; the rubric (version, categories, steps, and the checklist join: no case
# items, no exclusions, and the rubric's items from the process's cache after a first page); the
# case's probes, tags, facts, items with their categories, exclusions; the staff authors.
QUERIES_CHANGE_PAGE = 15
STEP_NAMES = [
    "Clarify requirements and goals",
    "Frame the ML problem",
    "Data engineering and feature pipeline",
    "Model selection and training",
    "Offline evaluation",
    "Deployment and online evaluation",
    "Monitoring and continuous improvement",
]


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def rubric(db):
    """The shipped default rubric: its step names, items and categories."""
    load_rubric()


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
    """A complete draft as the add form posts it, with one empty fact row and no items."""
    data: dict[str, object] = {
        "title": "Ride demand forecasting",
        "slug": "ride-demand-forecasting",
        "summary": "Forecast ride demand per area and hour.",
        "status": CaseStatus.DRAFT,
        "author": "",
        "domain": "forecasting-eta",
        "difficulty": "senior",
        "tags_text": "",
        "candidate_prompt": "Forecast demand.",
        "interviewer_brief": "The twist is holidays.",
        "model_answer": "Quantile loss.",
        **{f"probe_{step}": "" for step in range(1, 8)},
        "budgets_45": "",
        "budgets_60": "",
        **inline_management("facts", 2),
        "facts-0-question": "How far ahead?",
        "facts-0-answer": "One week.",
        "facts-0-position": "0",
        "facts-1-question": "",
        "facts-1-answer": "",
        "facts-1-position": "0",
        **inline_management("extra_items", 0),
        **inline_management("exclusions", 0),
        "_save": "Save",
    }
    data.update(overrides)
    return data


def complete_case_data(**overrides: object) -> dict[str, object]:
    """A case that is ready to publish: four facts, probes for every step, a categorised item."""
    facts = {}
    for n in range(4):
        facts |= {
            f"facts-{n}-question": f"Question {n + 1}?",
            f"facts-{n}-answer": f"Answer {n + 1}.",
            f"facts-{n}-position": str(n),
        }
    return add_form_data(
        **{
            **inline_management("facts", 4),
            **facts,
            **{f"probe_{step}": f"Ask about step {step}." for step in range(1, 8)},
            **overrides,
        }
    )


def item_data(index: int, category_pk: int, **fields: str) -> dict[str, str]:
    values = {
        "title": "Handles holiday demand",
        "key": "holiday-demand",
        "step": "4",
        "candidate_text": "Expected to model holidays as special days.",
        "probe": "Ask what happens on New Year's Eve.",
        "points": "2",
        "kind": "expected",
        "keywords": "holiday calendar",
        "not_duplicate": "False",
    } | fields
    data = {f"extra_items-{index}-{name}": value for name, value in values.items()}
    if category_pk:
        data[f"extra_items-{index}-categories"] = str(category_pk)
    return data


def error_summary(response) -> list[tuple[str, str]]:
    """(link target, text) of each entry of the error summary at the top of the page."""
    html = response.content.decode()
    box = html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    return [
        (target, re.sub(r"\s+", " ", text).strip())
        for target, text in re.findall(r'<li><a href="#([^"]+)">(.*?)</a></li>', box, re.S)
    ]


# --- the list ---------------------------------------------------------------------------------


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


def test_the_admin_is_titled_spar(admin_client):
    html = admin_client.get(CHANGELIST).content.decode()
    assert '<div id="site-name"><a href="/admin/">Spar</a></div>' in html
    assert "<title>Select case to change | Spar admin</title>" in html
    assert "Django administration" not in html


# --- the add and change pages -----------------------------------------------------------------


def test_add_page_has_a_probe_box_per_named_step_and_four_fact_rows(admin_client, rubric):
    response = admin_client.get(ADD)
    assert response.status_code == 200
    html = response.content.decode()
    labels = re.findall(r'<label for="id_probe_(\d)">(.*?):</label>', html)
    expected = [(str(n), f"Step {n} · {name} — probes") for n, name in enumerate(STEP_NAMES, 1)]
    assert labels == expected
    assert 'name="facts-TOTAL_FORMS" value="4"' in html
    assert "probes-TOTAL_FORMS" not in html  # no inline of step numbers to pick any more
    # The author is the person writing, without a search widget.
    assert response.context["adminform"].form.initial["author"] == response.wsgi_request.user.pk


def test_case_item_steps_are_a_choice_of_named_steps(admin_client, rubric):
    case = CaseFactory()
    CaseItemFactory(case=case, step=6, key="rollout")
    html = admin_client.get(change_url(case)).content.decode()
    select = html.split('name="extra_items-0-step"', 1)[1].split("</select>", 1)[0]
    options = re.findall(r'<option value="(\d*)"( selected)?>(.*?)</option>', select)
    assert options[0] == ("", "", "Choose a step…")
    assert options[6] == ("6", " selected", "Step 6 · Deployment and online evaluation")
    assert '<label class="required" for="id_extra_items-0-title">Item title:</label>' in html
    assert '<label class="required" for="id_extra_items-0-key">Item key:</label>' in html


def test_fact_rows_are_labelled_for_screen_readers(admin_client, rubric):
    case = CaseFactory()
    ClarificationFactFactory(case=case)
    html = admin_client.get(change_url(case)).content.decode()
    assert 'aria-label="Question, fact 1"' in html
    assert 'aria-label="Answer, fact 2"' in html  # the empty row for a new fact
    assert 'aria-label="Delete, fact 1"' in html
    assert 'aria-label="Question, new fact"' in html  # the template row "Add another" copies


def test_change_page_has_duplicate_button_and_preview_link(admin_client, rubric):
    case = CaseFactory()
    html = admin_client.get(change_url(case)).content.decode()
    duplicate = reverse("admin:casebank_case_duplicate", args=[case.pk])
    assert f'<form method="post" action="{duplicate}" class="object-tool-form">' in html
    assert '<button type="submit" class="object-tool-button">Duplicate as draft</button>' in html
    preview = reverse("admin:casebank_case_preview", args=[case.pk])
    assert f'<a href="{preview}">Preview saved case</a>' in html
    assert f'formaction="{preview}"' in html
    assert 'formtarget="_blank">Preview what each person will see</button>' in html


def test_a_draft_page_says_what_publishing_still_needs(admin_client, rubric):
    case = CaseFactory(status=CaseStatus.DRAFT, model_answer="")
    html = admin_client.get(change_url(case)).content.decode()
    assert "to publish it, it still needs:" in html
    assert "<li>To publish, write the probes for step 1.</li>" in html
    assert "<li>To publish, write the model answer outline.</li>" in html
    assert "<li>To publish, add at least 4 clarification facts (there are 0).</li>" in html


# --- saving -----------------------------------------------------------------------------------


def test_create_case_through_add_form(admin_client, staff, rubric):
    response = admin_client.post(
        ADD,
        add_form_data(
            tags_text="forecasting, Cold-Start-free, forecasting".replace("Cold-Start-free", "x"),
            probe_1="Ask about the horizon.",
            budgets_45="5, 6, 8, 8, 6, 6, 6",
        ),
    )
    assert response.status_code == 302, error_summary(response)
    case = Case.objects.get(slug="ride-demand-forecasting")
    assert case.title == "Ride demand forecasting"
    assert case.author == staff
    assert case.status == CaseStatus.DRAFT
    assert [t.slug for t in case.tags.all()] == ["forecasting", "x"]
    assert [(f.question, f.answer) for f in case.facts.all()] == [("How far ahead?", "One week.")]
    assert [(p.step, p.text) for p in case.probes.all()] == [(1, "Ask about the horizon.")]
    assert case.step_budgets == {"45": [5, 6, 8, 8, 6, 6, 6]}
    assert case.budget_minutes(3, 45) == 8


def test_text_is_stored_with_lf_line_endings(admin_client, rubric):
    response = admin_client.post(
        ADD,
        add_form_data(
            candidate_prompt="Line one.\r\n\r\nLine two.\r\n",
            probe_2="- a\r\n- b",
            **{"facts-0-answer": "One week,\r\nsometimes two."},
        ),
    )
    assert response.status_code == 302, error_summary(response)
    case = Case.objects.get()
    assert case.candidate_prompt == "Line one.\n\nLine two."
    assert case.probes.get(step=2).text == "- a\n- b"
    assert case.facts.get().answer == "One week,\nsometimes two."


def test_the_file_rules_apply_at_each_field_and_nothing_typed_is_lost(admin_client, rubric):
    category = CategoryFactory(slug="modelling")
    data = add_form_data(
        slug="Ride_Demand",
        tags_text="forecasting, Grocery_Items",
        model_answer="Intro.\r\n# Outline\r\n- quantiles",
        **inline_management("extra_items", 1),
        **item_data(0, category.pk, key="In_Stock"),
    )
    response = admin_client.post(ADD, data)
    assert response.status_code == 200
    assert not Case.objects.exists()
    assert error_summary(response) == [
        (
            "id_slug",
            "Slug: Use lowercase letters, digits and single hyphens only, like “ride-demand”.",
        ),
        (
            "id_tags_text",
            "Tags: “Grocery_Items”: Use lowercase letters, digits and single hyphens only, like "
            "“grocery-items”.",
        ),
        (
            "id_model_answer",
            "Model answer outline: Line 2, “# Outline”, would start a new section of the case "
            "file. For a heading inside this text use two hashes: “## Outline”.",
        ),
        (
            "id_extra_items-0-key",
            "Case item 1, Item key: Use lowercase letters, digits and single hyphens only, like "
            "“in-stock”.",
        ),
    ]
    html = response.content.decode()
    assert "Please correct the errors below." not in html  # the summary replaces it
    assert "4 problems stop this case from being saved" in html
    # Each error also sits at its field, and every value comes back as typed.
    form = response.context["adminform"].form
    assert form["model_answer"].value() == "Intro.\r\n# Outline\r\n- quantiles"
    assert form["tags_text"].value() == "forecasting, Grocery_Items"
    assert 'value="In_Stock"' in html
    assert html.count('<ul class="errorlist"') >= 4


def test_two_items_with_one_key_name_the_other_item(admin_client, rubric):
    category = CategoryFactory(slug="modelling")
    data = add_form_data(
        **inline_management("extra_items", 2),
        **item_data(0, category.pk),
        **item_data(1, category.pk, title="Handles holidays again", step="5"),
    )
    response = admin_client.post(ADD, data)
    assert error_summary(response) == [
        (
            "id_extra_items-1-key",
            "Case item 2, Item key: Case item 1 already uses the key “holiday-demand”; keys must "
            "be unique within a case.",
        )
    ]


def test_a_draft_saves_incomplete(admin_client, rubric):
    category = CategoryFactory(slug="modelling")
    data = add_form_data(
        candidate_prompt="",
        interviewer_brief="",
        model_answer="",
        **inline_management("extra_items", 1),
        **item_data(0, 0),
    )
    response = admin_client.post(ADD, data)
    assert response.status_code == 302, error_summary(response)
    item = CaseItem.objects.get()
    assert list(item.categories.all()) == []
    assert category.case_items.count() == 0


def test_publishing_from_the_form_lists_what_is_missing(admin_client, rubric):
    data = complete_case_data(
        status=CaseStatus.PUBLISHED,
        probe_4="",
        model_answer="",
        **inline_management("facts", 2),
        **inline_management("extra_items", 1),
        **item_data(0, 0),
    )
    response = admin_client.post(ADD, data)
    assert response.status_code == 200
    assert not Case.objects.exists()
    assert error_summary(response) == [
        (
            "id_probe_4",
            f"Step 4 · {STEP_NAMES[3]} — probes: To publish, write the probes for step 4.",
        ),
        ("id_model_answer", "Model answer outline: To publish, write the model answer outline."),
        (
            "facts-group",
            "Clarification facts (the candidate sees the questions): To publish, add at least 4 "
            "clarification facts (there are 2).",
        ),
        (
            "id_extra_items-0-categories_0",
            "Case item 1, Categories: To publish, give this case item at least one category.",
        ),
    ]


def test_a_complete_case_publishes_from_the_form(admin_client, rubric):
    category = CategoryFactory(slug="modelling")
    data = complete_case_data(
        status=CaseStatus.PUBLISHED,
        **inline_management("extra_items", 1),
        **item_data(0, category.pk),
    )
    response = admin_client.post(ADD, data)
    assert response.status_code == 302, error_summary(response)
    assert Case.objects.get().is_published


def test_a_similar_case_item_needs_a_tick_to_save(admin_client, rubric):
    case = CaseFactory(status=CaseStatus.DRAFT)
    url = change_url(case)
    category = CategoryFactory(slug="features")
    similar = item_data(
        0,
        category.pk,
        title="Uses stock levels as of order time",
        key="stock-as-of-order",
        step="3",
        candidate_text="Stock levels are features as of the prediction timestamp.",
        keywords="feature snapshot",
    )
    base = {
        **add_form_data(slug=case.slug, title=case.title),
        **inline_management("facts", 0),
        **inline_management("extra_items", 1),
        **similar,
    }
    response = admin_client.post(url, base)
    assert response.status_code == 200
    warning = (
        "Similar to rubric item ‹Builds features as of the prediction timestamp› (step 3, 2 pt): "
        "both mention “feature snapshot”, “features as of the prediction timestamp”; Similar to "
        "rubric item ‹Uses features that contain information from after the prediction› (step 3, "
        "2 pt): both mention “feature as of the prediction timestamp”. If it asks for something "
        "else, tick “Not a duplicate” and save again; otherwise remove it or change it."
    )
    assert error_summary(response) == [
        ("id_extra_items-0-not_duplicate", f"Case item 1, Not a duplicate: {warning}")
    ]
    html = response.content.decode()
    assert 'type="checkbox" name="extra_items-0-not_duplicate"' in html
    assert not CaseItem.objects.exists()

    base["extra_items-0-not_duplicate"] = "on"
    response = admin_client.post(url, base)
    assert response.status_code == 302, error_summary(response)
    item = CaseItem.objects.get()

    # Saving the case again with the item unchanged asks nothing; the note stays on the page.
    again = {
        **base,
        **inline_management("extra_items", 1, initial=1),
        "extra_items-0-id": str(item.pk),
        "extra_items-0-case": str(case.pk),
        "extra_items-0-not_duplicate": "False",
    }
    response = admin_client.post(url, again)
    assert response.status_code == 302, error_summary(response)
    html = admin_client.get(url).content.decode()
    assert "Similar to rubric item ‹Builds features as of the prediction timestamp›" in html


def test_not_applicable_items_are_chosen_from_the_rubric(admin_client, rubric):
    case = CaseFactory(status=CaseStatus.DRAFT)
    data = {
        **add_form_data(slug=case.slug, title=case.title),
        **inline_management("facts", 0),
        **inline_management("exclusions", 2),
        "exclusions-0-item_key": "business-objective",
        "exclusions-0-reason": "The prompt states the goal.",
        "exclusions-1-item_key": "business-objective",
        "exclusions-1-reason": "Twice.",
    }
    response = admin_client.post(change_url(case), data)
    assert error_summary(response) == [
        (
            "id_exclusions-1-item_key",
            "Rubric item that does not apply 2, Rubric item: This rubric item is already listed.",
        )
    ]
    html = response.content.decode()
    assert '<option value="business-objective" selected>Step 1 · Names the business objective' in (
        html
    )
    data |= {**inline_management("exclusions", 1)}
    response = admin_client.post(change_url(case), data)
    assert response.status_code == 302, error_summary(response)
    assert list(CaseExclusion.objects.values_list("item_key", "reason")) == [
        ("business-objective", "The prompt states the goal.")
    ]


def test_not_applicable_items_left_unchosen_are_not_called_duplicates(admin_client, rubric):
    # Two rows without an item: each needs one, and neither lists an item twice.
    case = CaseFactory(status=CaseStatus.DRAFT)
    data = {
        **add_form_data(slug=case.slug, title=case.title),
        **inline_management("facts", 0),
        **inline_management("exclusions", 2),
        "exclusions-0-item_key": "",
        "exclusions-0-reason": "The prompt states the goal.",
        "exclusions-1-item_key": "",
        "exclusions-1-reason": "Every area has years of history.",
    }
    response = admin_client.post(change_url(case), data)
    assert error_summary(response) == [
        (
            "id_exclusions-0-item_key",
            "Rubric item that does not apply 1, Rubric item: This field is required.",
        ),
        (
            "id_exclusions-1-item_key",
            "Rubric item that does not apply 2, Rubric item: This field is required.",
        ),
    ]
    assert not CaseExclusion.objects.filter(case=case).exists()


def test_step_budgets_follow_the_rules(admin_client, rubric):
    response = admin_client.post(
        ADD, add_form_data(budgets_45="9, 9, 9, 9, 9, 9, 9", budgets_60="5, 5, x")
    )
    assert error_summary(response) == [
        (
            "id_budgets_45",
            "Minutes per step, 45-minute interview: The steps add up to 63 minutes; a 45-minute "
            "interview has 45.",
        ),
        (
            "id_budgets_60",
            "Minutes per step, 60-minute interview: Write whole numbers separated by commas, like "
            "“5, 8, 8, 8, 6, 5, 5”.",
        ),
    ]


def test_a_case_written_in_the_admin_with_crlf_round_trips_byte_for_byte(
    admin_client, rubric, tmp_path
):
    category = CategoryFactory(slug="modelling")
    data = complete_case_data(
        status=CaseStatus.PUBLISHED,
        tags_text="forecasting, demand",
        candidate_prompt="Forecast demand.\r\n\r\n## Context\r\n\r\n- cities\r\n- hours\r\n",
        interviewer_brief="The twist:\r\n\r\n```\r\n# not a heading in code\r\n```",
        model_answer="## Outline\r\n\r\n1. Quantiles\r\n2. Holidays",
        budgets_60="7, 8, 10, 10, 8, 9, 8",
        **{"facts-0-answer": "One week,\r\nsometimes two."},
        **inline_management("extra_items", 1),
        **item_data(0, category.pk, candidate_text="Holidays.\r\nAnd events.", keywords="a\r\nb"),
        **inline_management("exclusions", 1),
        **{
            "exclusions-0-item_key": "cold-start",
            "exclusions-0-reason": "Every area has years of history.",
        },
    )
    response = admin_client.post(ADD, data)
    assert response.status_code == 302, error_summary(response)

    first, second = tmp_path / "first", tmp_path / "second"
    assert services.export_cases(first).problems == []
    text = (first / "ride-demand-forecasting.md").read_text()
    assert "\r" not in text
    assert "not_applicable:\n- key: cold-start\n" in text
    assert "step_budgets:\n  60: [7, 8, 10, 10, 8, 9, 8]\n" in text
    report = services.load_case_directory(first)
    assert report.unchanged == ["ride-demand-forecasting"]
    services.export_cases(second)
    assert filecmp.cmp(
        first / "ride-demand-forecasting.md", second / "ride-demand-forecasting.md", shallow=False
    )


# --- actions ----------------------------------------------------------------------------------


def ready_case(**kwargs: object) -> Case:
    case = CaseFactory(status=CaseStatus.DRAFT, **kwargs)
    ClarificationFactFactory.create_batch(4, case=case)
    for step in range(1, 8):
        StepProbeFactory(case=case, step=step)
    return case


def test_publish_action_publishes_ready_cases_and_names_what_others_lack(admin_client):
    ready = ready_case(title="Ready one")
    lacking = CaseFactory(status=CaseStatus.DRAFT, title="Half done", model_answer="")
    response = admin_client.post(
        CHANGELIST,
        {"action": "publish", "_selected_action": [ready.pk, lacking.pk]},
        follow=True,
    )
    assert response.status_code == 200
    found = [m.message for m in get_messages(response.wsgi_request)]
    assert found[0] == "Published 1 case."
    assert found[1].startswith(
        "Not published: “Half done” still needs: write the probes for step 1. "
    )
    assert found[1].endswith(
        "write the model answer outline. add at least 4 clarification facts (there are 0)."
    )
    ready.refresh_from_db()
    lacking.refresh_from_db()
    assert (ready.status, lacking.status) == (CaseStatus.PUBLISHED, CaseStatus.DRAFT)


def test_unpublish_action(admin_client):
    published = CaseFactory(status=CaseStatus.PUBLISHED)
    other = CaseFactory(status=CaseStatus.PUBLISHED)
    admin_client.post(CHANGELIST, {"action": "unpublish", "_selected_action": [published.pk]})
    published.refresh_from_db()
    other.refresh_from_db()
    assert published.status == CaseStatus.DRAFT
    assert other.status == CaseStatus.PUBLISHED


def _case_with_everything() -> Case:
    case = CaseFactory(
        slug="ad-click",
        title="Ad click prediction",
        tags=[TagFactory(slug="ads")],
        step_budgets={"45": [5, 6, 8, 8, 6, 6, 6]},
    )
    ClarificationFactFactory(case=case, question="How many users?")
    StepProbeFactory(case=case, step=2, text="Ask about labels.")
    CaseItemFactory(case=case, key="ads-twist", categories=[CategoryFactory(slug="metrics")])
    CaseExclusion.objects.create(case=case, item_key="cold-start", reason="No new items.")
    return case


def _assert_is_copy(copy: Case, staff) -> None:
    assert copy.title == "Copy of Ad click prediction"
    assert copy.status == CaseStatus.DRAFT
    assert copy.author == staff
    assert [f.question for f in copy.facts.all()] == ["How many users?"]
    assert [(p.step, p.text) for p in copy.probes.all()] == [(2, "Ask about labels.")]
    assert [i.key for i in copy.extra_items.all()] == ["ads-twist"]
    assert [t.slug for t in copy.tags.all()] == ["ads"]
    assert [(e.item_key, e.reason) for e in copy.exclusions.all()] == [
        ("cold-start", "No new items.")
    ]
    assert copy.step_budgets == {"45": [5, 6, 8, 8, 6, 6, 6]}


def test_duplicate_action(admin_client, staff):
    case = _case_with_everything()
    response = admin_client.post(
        CHANGELIST, {"action": "duplicate", "_selected_action": [case.pk]}, follow=True
    )
    copy = Case.objects.get(slug="ad-click-copy")
    _assert_is_copy(copy, staff)
    html = response.content.decode()
    assert (
        f'Created the draft <a href="{change_url(copy)}">Copy of Ad click prediction</a>.' in html
    )


def test_duplicate_button_creates_a_draft_and_opens_it(admin_client, staff):
    case = _case_with_everything()
    url = reverse("admin:casebank_case_duplicate", args=[case.pk])
    assert admin_client.get(url).status_code == 405
    response = admin_client.post(url)
    copy = Case.objects.get(slug="ad-click-copy")
    assert (response.status_code, response.url) == (302, change_url(copy))
    _assert_is_copy(copy, staff)


def test_duplicate_button_needs_the_add_permission(client):
    case = CaseFactory()
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="change_case"))
    client.force_login(clerk)
    response = client.post(reverse("admin:casebank_case_duplicate", args=[case.pk]))
    assert response.status_code == 403
    assert Case.objects.count() == 1


# --- previews ---------------------------------------------------------------------------------


def test_preview_of_a_saved_case_shows_each_persons_view(admin_client, rubric):
    case = CaseFactory(
        candidate_prompt="Design **ads** ranking.",
        interviewer_brief="<script>alert('brief')</script>",
        model_answer="- calibration\n- latency",
    )
    ClarificationFactFactory(case=case, question="How many users?", answer="FACT-ANSWER")
    StepProbeFactory(case=case, step=3, text="Ask about *labels*.")
    CaseItemFactory(
        case=case, step=3, title="Handles the case twist", categories=[CategoryFactory(slug="data")]
    )
    CaseExclusion.objects.create(case=case, item_key="cold-start", reason="No new items.")
    response = admin_client.get(reverse("admin:casebank_case_preview", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    candidate, interviewer = html.split('id="interviewer-view"', 1)
    assert "<p>Design <strong>ads</strong> ranking.</p>" in candidate
    assert "<li>How many users?</li>" in candidate
    assert "FACT-ANSWER" not in candidate
    assert "alert" not in candidate
    assert "<dt>How many users?</dt><dd>FACT-ANSWER</dd>" in interviewer
    assert "&lt;script&gt;alert('brief')&lt;/script&gt;" in interviewer
    assert "<script>alert" not in html
    assert "<p>Ask about <em>labels</em>.</p>" in interviewer
    assert "<ul>\n<li>calibration</li>\n<li>latency</li>\n</ul>" in interviewer
    step3 = interviewer.split(f"Step 3 · {STEP_NAMES[2]}</h4>", 1)[1].split('class="step"', 1)[0]
    titles = re.findall(r"<strong>(.*?)</strong>", step3)
    # The room's order: the rubric's items of the step, then the case's own.
    assert titles[0] == "Lists the data sources, schemas and storage"
    assert titles[-1] == "Handles the case twist"
    assert '<span class="badge">this case</span>' in step3
    step4 = interviewer.split(f"Step 4 · {STEP_NAMES[3]}</h4>", 1)[1]
    assert "not applicable: No new items." in step4.split('class="step"', 1)[0]


def test_preview_before_saving_shows_the_form_as_typed_and_saves_nothing(admin_client, rubric):
    category = CategoryFactory(slug="modelling")
    data = add_form_data(
        candidate_prompt="Forecast **rides**.\r\n",
        probe_4="Ask about quantiles.",
        **inline_management("extra_items", 1),
        **item_data(0, category.pk, key="Not_Valid_Yet"),
    )
    response = admin_client.post(PREVIEW_ADD, data)
    assert response.status_code == 200
    assert not Case.objects.exists()
    html = response.content.decode()
    assert "<strong>not saved</strong>" in html
    assert "<p>Forecast <strong>rides</strong>.</p>" in html
    assert "<li>How far ahead?</li>" in html
    step4 = html.split(f"Step 4 · {STEP_NAMES[3]}</h4>", 1)[1].split('class="step"', 1)[0]
    assert "<p>Ask about quantiles.</p>" in step4
    assert "<strong>Handles holiday demand</strong>" in step4
    assert "Modelling" in step4


def test_preview_of_a_form_with_a_category_that_is_no_number_leaves_it_out(admin_client, rubric):
    # str.isdigit() accepts "²", which int() refuses: the preview must not fail on it.
    category = CategoryFactory(slug="modelling")
    data = add_form_data(**inline_management("extra_items", 1), **item_data(0, category.pk))
    data["extra_items-0-categories"] = [str(category.pk), "\u00b2", "x"]
    response = admin_client.post(PREVIEW_ADD, data)
    assert response.status_code == 200
    step4 = response.content.decode().split(f"Step 4 · {STEP_NAMES[3]}</h4>", 1)[1]
    assert "Modelling" in step4.split('class="step"', 1)[0]


def test_preview_before_saving_changes_to_a_saved_case(admin_client, rubric):
    case = CaseFactory(title="Old title")
    data = add_form_data(slug=case.slug, title="New title", **inline_management("facts", 0))
    response = admin_client.post(reverse("admin:casebank_case_preview", args=[case.pk]), data)
    assert response.status_code == 200
    assert "<h3>New title</h3>" in response.content.decode()
    case.refresh_from_db()
    assert case.title == "Old title"


def test_preview_is_for_staff_with_the_right_permission(client, user):
    case = CaseFactory()
    url = reverse("admin:casebank_case_preview", args=[case.pk])
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    clerk = UserFactory(username="clerk", is_staff=True)
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    assert client.post(PREVIEW_ADD, add_form_data()).status_code == 403


def test_preview_of_a_missing_case_is_a_404(admin_client):
    assert admin_client.get(reverse("admin:casebank_case_preview", args=[999])).status_code == 404
    assert admin_client.get(PREVIEW_ADD).status_code == 404


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


def test_add_form_shows_length_errors(admin_client, rubric):
    response = admin_client.post(ADD, add_form_data(title="x" * 121))
    assert response.status_code == 200
    assert not Case.objects.exists()
    assert response.context["adminform"].form.errors == {
        "title": ["Ensure this value has at most 120 characters (it has 121)."]
    }
    assert error_summary(response) == [
        ("id_title", "Title: Ensure this value has at most 120 characters (it has 121).")
    ]


def test_tag_admin_uses_the_tag_rule(admin_client):
    response = admin_client.post(reverse("admin:casebank_tag_add"), {"slug": "Grocery_Items"})
    assert response.status_code == 200
    assert not Tag.objects.exists()
    assert "like “grocery-items”" in response.content.decode()


def test_tag_admin_search(admin_client):
    TagFactory(slug="fraud")
    TagFactory(slug="ranking")
    response = admin_client.get(reverse("admin:casebank_tag_changelist"), {"q": "fra"})
    assert response.status_code == 200
    assert [t.slug for t in response.context["cl"].result_list] == ["fraud"]


def test_change_page_query_count_does_not_grow_with_items_or_facts(
    admin_client, rubric, django_assert_num_queries
):
    case = CaseFactory()
    metrics = CategoryFactory(slug="metrics")
    CaseItemFactory(case=case, categories=[metrics])
    ClarificationFactFactory(case=case)
    url = change_url(case)
    admin_client.get(url)  # the process keeps the rubric's items from now on
    with django_assert_num_queries(QUERIES_CHANGE_PAGE):
        assert admin_client.get(url).status_code == 200
    for n in range(5):
        CaseItemFactory(case=case, key=f"more-{n}", categories=[metrics])
        ClarificationFactFactory(case=case)
    with django_assert_num_queries(QUERIES_CHANGE_PAGE):
        assert admin_client.get(url).status_code == 200
