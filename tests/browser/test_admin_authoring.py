"""An author writes a case in the admin, in a real browser, the way a new author would."""

import json
import re
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import Locator, Page, expect

from casebank import services
from casebank.models import Case, CaseItem, CaseStatus
from tests.browser.pages import log_in
from tests.browser.test_accessibility import violations_in_both_schemes
from tests.factories import CaseFactory, ClarificationFactFactory, StepProbeFactory

ADD = "/admin/casebank/case/add/"
FACTS = [
    ("How many orders a day?", "About 400,000 orders a day across 30 cities."),
    ("How many items in an order?", "About 25 items on average."),
    ("How often is an item out of stock?", "About 8 % of ordered items at picking time."),
    ("Who picks the substitute?", "Today the picker, by hand, in about 40 seconds."),
    ("How fast must a suggestion come back?", "Under 100 ms while the picker waits."),
    ("What happens to a rejected substitute?", "It is refunded; about 1 in 5 is rejected."),
]
# The model answer's second line would start a new section of the case file.
MODEL_ANSWER = "A strong answer:\n# Outline\n- rank candidates\n- learn from rejections"


@pytest.fixture
def author(transactional_db: None, live_server, django_user_model: type[User]) -> User:
    # transactional_db: the live server's thread sees only committed data.
    call_command("load_rubric", stdout=StringIO())
    return django_user_model.objects.create_user("author", is_staff=True, is_superuser=True)


def _open(page: Page, author: User, live_server, path: str) -> None:
    log_in(page.context, author, live_server.url)
    page.goto(path)
    page.wait_for_load_state()  # the deferred script listens before anyone types


def _row(page: Page, prefix: str, index: int) -> Locator:
    return page.locator(f"#{prefix}-{index}")


def _fill_item(page: Page, index: int, *, title: str, step: str, text: str, keywords: str) -> None:
    row = _row(page, "extra_items", index)
    row.get_by_label("Item title:").fill(title)
    row.get_by_label("Step:").select_option(label=step)
    row.get_by_label("Expected (candidate-facing):").fill(text)
    row.get_by_label("How to tell (interviewer-facing):").fill(f"Ask about {title.lower()}.")
    row.get_by_label("Modelling").check()
    row.get_by_label("Evidence keywords:").fill(keywords)


def _summary(page: Page) -> list[str]:
    return [
        re.sub(r"\s+", " ", text) for text in page.locator("#error-summary li").all_inner_texts()
    ]


def test_an_author_writes_publishes_and_round_trips_a_case(
    new_page, live_server, author, tmp_path: Path
) -> None:
    page = new_page()
    sent: list[bytes] = []
    page.on(
        "request",
        lambda request: (
            sent.append(request.post_data_buffer or b"") if request.method == "POST" else None
        ),
    )
    _open(page, author, live_server, ADD)
    expect(page.locator("#site-name")).to_have_text("Spar")

    page.get_by_label("Title:", exact=True).fill("Grocery substitutions")
    expect(page.get_by_label("Slug:")).to_have_value("grocery-substitutions")
    page.get_by_label("Summary:").fill("Suggest a substitute when an ordered item is out of stock.")
    page.get_by_label("Status:").select_option(label="Published")
    page.get_by_label("Domain:").select_option(label="Recommendations")
    page.get_by_label("Difficulty:").select_option(label="Senior")
    page.get_by_label("Tags:").fill("groceries, substitutions")
    page.get_by_label("Candidate prompt:").fill(
        "You work for a grocery delivery app.\n\n## What we want\n\nSuggest substitutes."
    )
    page.get_by_label("Interviewer brief:").fill("The twist: rejections are labels.")
    for step in (1, 2, 3, 5, 6, 7):  # step 4 is forgotten
        page.locator(f"#id_probe_{step}").fill(f"- Ask about step {step}.\n- Then wait.")
    page.get_by_label("Model answer outline:").fill(MODEL_ANSWER)

    # Six facts: the page offers four rows, the author adds two.
    add_fact = page.get_by_role("button", name="Add another Clarification fact")
    add_fact.click()
    add_fact.click()
    for index, (question, answer) in enumerate(FACTS):
        row = _row(page, "facts", index)
        row.get_by_label(f"Question, fact {index + 1}").fill(question)
        row.get_by_label(f"Answer, fact {index + 1}").fill(answer)

    # Two case items; the first key fills itself in, the second is typed by hand in upper case.
    add_item = page.get_by_role("button", name="Add another Case item")
    add_item.click()
    _fill_item(
        page,
        0,
        title="Ranks substitutes by acceptance",
        step="Step 4 · Model selection and training",
        text="Expected to rank candidate substitutes by how likely the customer accepts them.",
        keywords="acceptance rate\nsubstitute ranking",
    )
    expect(_row(page, "extra_items", 0).get_by_label("Item key:")).to_have_value(
        "ranks-substitutes-by-acceptance"
    )
    add_item.click()
    _fill_item(
        page,
        1,
        title="Handles items that are never in stock",
        step="Step 7 · Monitoring and continuous improvement",
        text="Expected to notice items that are always substituted and flag them to buyers.",
        keywords="chronic stock-out",
    )
    _row(page, "extra_items", 1).get_by_label("Item key:").fill("In_Stock")

    page.get_by_role("button", name="Save", exact=True).click()

    # Every problem at the top, linked to its field; the page is not saved.
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text(
        re.compile(r"3 problems stop this case from being saved")
    )
    assert _summary(page) == [
        "Step 4 · Model selection and training — probes: To publish, write the probes for step 4.",
        "Model answer outline: Line 2, “# Outline”, would start a new section of the case file. "
        "For a heading inside this text use two hashes: “## Outline”.",
        "Case item 2, Item key: Use lowercase letters, digits and single hyphens only, like "
        "“in-stock”.",
    ]
    assert not Case.objects.exists()
    # The browser sent the textareas with CRLF, as browsers do.
    assert b"%0D%0A" in sent[-1]

    # Each link leads to its field, where the same error is shown.
    for link, field_id in (
        ("Step 4", "id_probe_4"),
        ("Model answer outline", "id_model_answer"),
        ("Case item 2, Item key", "id_extra_items-1-key"),
    ):
        summary.get_by_role("link", name=re.compile(re.escape(link))).click()
        expect(page).to_have_url(re.compile(f"#{field_id}$"))
        field = page.locator(f"#{field_id}")
        expect(field).to_be_in_viewport()
        error = page.locator(
            f".form-row:has(#{field_id}) .errorlist, .fieldBox:has(#{field_id}) .errorlist"
        )
        expect(error.first).to_be_visible()

    # Nothing typed is lost.
    expect(page.get_by_label("Title:", exact=True)).to_have_value("Grocery substitutions")
    expect(page.get_by_label("Tags:")).to_have_value("groceries, substitutions")
    expect(page.get_by_label("Model answer outline:")).to_have_value(MODEL_ANSWER)
    expect(page.locator("#id_probe_7")).to_have_value("- Ask about step 7.\n- Then wait.")
    for index, (question, answer) in enumerate(FACTS):
        expect(page.locator(f"#id_facts-{index}-question")).to_have_value(question)
        expect(page.locator(f"#id_facts-{index}-answer")).to_have_value(answer)
    expect(page.locator("#id_extra_items-0-key")).to_have_value("ranks-substitutes-by-acceptance")
    expect(page.locator("#id_extra_items-1-key")).to_have_value("In_Stock")
    expect(page.locator("#id_extra_items-1-step")).to_have_value("7")
    expect(_row(page, "extra_items", 1).get_by_label("Modelling")).to_be_checked()

    # The author fixes the three problems and previews before saving.
    page.locator("#id_probe_4").fill("- Which model would you start with?")
    page.get_by_label("Model answer outline:").fill(MODEL_ANSWER.replace("# Outline", "## Outline"))
    page.locator("#id_extra_items-1-key").fill("in-stock")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Preview what each person will see").click()
    preview = opened.value
    preview.wait_for_load_state()
    candidate = preview.locator("section", has=preview.locator("#candidate-view"))
    interviewer = preview.locator("section", has=preview.locator("#interviewer-view"))
    expect(candidate.get_by_role("heading", name="What we want")).to_be_visible()
    expect(candidate).to_contain_text(FACTS[0][0])
    expect(candidate).not_to_contain_text(FACTS[0][1])
    expect(candidate).not_to_contain_text("rejections are labels")
    expect(interviewer).to_contain_text(FACTS[0][1])
    expect(interviewer.get_by_role("heading", name="Outline", exact=True)).to_be_visible()
    step4 = interviewer.locator(
        ".step", has=preview.get_by_role("heading", name=re.compile("Step 4"))
    )
    expect(step4).to_contain_text("Ranks substitutes by acceptance")
    expect(step4).to_contain_text("Starts with a simple baseline model and iterates")
    preview.close()
    assert not Case.objects.exists()

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    case = Case.objects.get(slug="grocery-substitutions")
    assert case.status == CaseStatus.PUBLISHED
    assert case.facts.count() == 6
    assert case.probes.count() == 7
    assert sorted(CaseItem.objects.values_list("key", flat=True)) == [
        "in-stock",
        "ranks-substitutes-by-acceptance",
    ]
    assert "\r" not in case.candidate_prompt + case.model_answer

    # Export, import, export: the same bytes, and the import changes nothing.
    first, second = tmp_path / "first", tmp_path / "second"
    services.export_cases(first, ["grocery-substitutions"])
    assert services.load_case_directory(first).unchanged == ["grocery-substitutions"]
    services.export_cases(second, ["grocery-substitutions"])
    exported = (first / "grocery-substitutions.md").read_bytes()
    assert exported == (second / "grocery-substitutions.md").read_bytes()
    assert b"\r" not in exported
    assert b"\n## Outline\n" in exported


def test_a_similar_case_item_is_flagged_and_saved_once_confirmed(new_page, live_server, author):
    case = CaseFactory(title="Grocery substitutions", status=CaseStatus.DRAFT)
    ClarificationFactFactory(case=case)
    page = new_page()
    _open(page, author, live_server, f"/admin/casebank/case/{case.pk}/change/")
    page.get_by_role("button", name="Add another Case item").click()
    row = _row(page, "extra_items", 0)
    row.get_by_label("Item title:").fill("Uses stock levels as of order time")
    row.get_by_label("Step:").select_option(label="Step 3 · Data engineering and feature pipeline")
    row.get_by_label("Expected (candidate-facing):").fill(
        "Stock levels are features as of the prediction timestamp, never later."
    )
    row.get_by_label("Data leakage").check()
    expect(row.get_by_label("Not a duplicate")).to_be_hidden()
    page.get_by_role("button", name="Save and continue editing").click()

    warning = (
        "Similar to rubric item ‹Builds features as of the prediction timestamp› (step 3, 2 pt)"
    )
    expect(page.locator("#error-summary")).to_contain_text(warning)
    row = _row(page, "extra_items", 0)
    expect(row.locator(".errorlist")).to_contain_text(warning)
    expect(row.get_by_label("Item title:")).to_have_value("Uses stock levels as of order time")
    assert not CaseItem.objects.exists()

    row.get_by_label("Not a duplicate").check()
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert CaseItem.objects.get().key == "uses-stock-levels-as-of-order-time"
    # The note stays beside the item, without asking again.
    expect(page.locator("#extra_items-0")).to_contain_text(warning)
    expect(page.locator("#error-summary")).to_have_count(0)


def test_duplicate_as_draft_is_a_button_on_the_case_page(new_page, live_server, author):
    case = CaseFactory(title="Ad click prediction", slug="ad-click")
    StepProbeFactory(case=case, step=2)
    page = new_page()
    _open(page, author, live_server, f"/admin/casebank/case/{case.pk}/change/")
    page.get_by_role("button", name="Duplicate as draft").click()
    expect(page.locator(".messagelist")).to_contain_text("Created the draft “Copy of Ad click")
    copy = Case.objects.get(slug="ad-click-copy")
    expect(page).to_have_url(re.compile(rf"/admin/casebank/case/{copy.pk}/change/$"))
    assert copy.status == CaseStatus.DRAFT


@pytest.mark.parametrize("which", ["add", "change", "preview"])
def test_case_pages_have_no_serious_accessibility_violations_and_no_exceptions(
    which, new_page, live_server, author, axe_script
) -> None:
    case = CaseFactory()
    ClarificationFactFactory(case=case)
    CaseItem.objects.create(case=case, key="twist", step=3, title="Twist", candidate_text="x")
    path = {
        "add": ADD,
        "change": f"/admin/casebank/case/{case.pk}/change/",
        "preview": f"/admin/casebank/case/{case.pk}/preview/",
    }[which]
    page = new_page(bypass_csp=True)
    _open(page, author, live_server, path)
    # admin=False: none of the exceptions made for Django's admin markup applies here.
    assert violations_in_both_schemes(page, axe_script, admin=False) == []


def test_case_pages_are_valid_html_with_no_exceptions(
    chromium, live_server, author, vnu_command, tmp_path: Path
) -> None:
    case = CaseFactory()
    ClarificationFactFactory(case=case)
    CaseItem.objects.create(case=case, key="twist", step=3, title="Twist", candidate_text="x")
    context = chromium.new_context(base_url=live_server.url)
    log_in(context, author, live_server.url)
    files = []
    for name, path in (
        ("add", ADD),
        ("change", f"/admin/casebank/case/{case.pk}/change/"),
        ("preview", f"/admin/casebank/case/{case.pk}/preview/"),
    ):
        response = context.request.get(path, max_redirects=0)
        assert response.status == 200, path
        files.append(tmp_path / f"{name}.html")
        files[-1].write_text(response.text(), encoding="utf-8")
    context.close()
    result = subprocess.run(
        [*vnu_command, "--format", "json", "--errors-only", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Unlike tests/browser/test_html_validity.py, no message is left out for the admin's markup.
    errors = [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
        for m in json.loads(result.stderr)["messages"]
    ]
    assert errors == []
