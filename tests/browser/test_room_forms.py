"""The interviewer's small forms in the room, in real Chromium, served as production serves them
(uvicorn, config.asgi), so updates from elsewhere arrive by the push stream.

Two things meet in these forms: room.js keeps updates off a text field the user is typing in,
and Enter submits a form without a click. The hint log must show a hint logged with Enter (and
clear its field) without letting updates from elsewhere destroy text being typed; Enter in the
"Does not apply?" reason must mark the item not applicable, not covered.
"""

import re
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, BrowserContext, Page, expect

from interviews import services
from interviews.models import Hint, Mark, Session
from tests.browser.asgi_server import AsgiLiveServer, asgi_live_server  # noqa: F401 -- fixture
from tests.browser.conftest import PageProblems, close_before_flush
from tests.browser.pages import log_in, running_interview

OTHER_SCREEN_MS = 10_000
ITEM = "#item-business-objective"  # a step-1 item that is not a red flag
REASON = "An internal batch job: nobody waits for it."


@pytest.fixture(scope="module")
def live_server(asgi_live_server: AsgiLiveServer) -> AsgiLiveServer:  # noqa: F811 -- on purpose
    """This module's pages are served by the ASGI server, streams and all."""
    return asgi_live_server


@pytest.fixture
def session(transactional_db: None, django_user_model: type[User]) -> Session:
    return running_interview(django_user_model)


@pytest.fixture
def room_page(
    chromium: Browser, live_server: AsgiLiveServer, transactional_db: None
) -> Iterator[Callable[[User, Session], Page]]:
    """A signed-in page in its own context, in the room with its stream open; any console error
    or warning fails the test."""
    contexts: list[BrowserContext] = []
    problems = PageProblems()

    def make(user: User, session: Session) -> Page:
        context = chromium.new_context(base_url=live_server.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        log_in(context, user, live_server.url)
        page = context.new_page()
        problems.watch(page)
        page.goto(f"/sessions/{session.pk}/")
        # The stream is open: updates from elsewhere now arrive by it, not by a poll.
        expect(page.locator("#live")).to_have_attribute("data-state", "live")
        return page

    yield make
    close_before_flush(contexts, live_server)
    assert problems.messages == [], "\n".join(problems.messages)


def _hints(session: Session) -> list[tuple[int, str]]:
    return list(Hint.objects.filter(session=session).values_list("step_number", "text"))


def _has_version(page: Page, session: Session) -> None:
    """Wait until the page shows the session's current version: the stream brought the update."""
    version = Session.objects.get(pk=session.pk).version
    expect(page.locator("#poller")).to_have_attribute(
        "data-version", str(version), timeout=OTHER_SCREEN_MS
    )


def test_a_hint_logged_with_enter_shows_in_the_log_and_clears_its_field(room_page, session):
    host = room_page(session.interviewer, session)
    field = host.locator("#hint-1")
    field.fill("Think about the p99, not the mean")
    field.press("Enter")  # the focus stays in the field

    expect(host.locator("#step-tools .hint-log")).to_contain_text(
        "gave hint: Think about the p99, not the mean"
    )
    expect(field).to_have_value("")
    expect(field).to_be_focused()  # ready for the next hint
    assert _hints(session) == [(1, "Think about the p99, not the mean")]


def test_an_update_from_elsewhere_keeps_the_hint_being_typed(room_page, session):
    host = room_page(session.interviewer, session)
    field = host.locator("#hint-1")
    field.fill("Ask how fresh the features")

    # The interviewer's other device logs a hint: the stream brings the re-rendered hint section.
    services.add_hint(session=session, step_number=1, text="Suggested a baseline")
    _has_version(host, session)
    expect(field).to_have_value("Ask how fresh the features")
    expect(field).to_be_focused()

    field.press_sequentially(" must be")
    field.press("Enter")
    log = host.locator("#step-tools .hint-log li")
    expect(log).to_have_count(2)
    expect(log.nth(0)).to_contain_text("gave hint: Suggested a baseline")
    expect(log.nth(1)).to_contain_text("gave hint: Ask how fresh the features must be")
    expect(field).to_have_value("")
    assert _hints(session) == [
        (1, "Suggested a baseline"),
        (1, "Ask how fresh the features must be"),
    ]


def test_an_update_from_elsewhere_keeps_the_comment_being_typed(room_page, session):
    host = room_page(session.interviewer, session)
    comment = host.locator("#comment-1")
    comment.fill("Clear on the objective")

    services.add_hint(session=session, step_number=1, text="Suggested a baseline")
    _has_version(host, session)
    expect(comment).to_have_value("Clear on the objective")
    expect(comment).to_be_focused()


def test_a_hint_typed_while_the_step_moved_on_is_not_logged_for_the_old_step(room_page, session):
    """The other device moves the interview to step 2 while a hint is typed: the step's section
    is held off the field, so its form still logs for step 1. Enter logs nothing, says why, and
    brings in step 2's form with the text; Enter again logs it for step 2."""
    host = room_page(session.interviewer, session)
    field = host.locator("#hint-1")
    field.fill("Start from a simple baseline")

    services.go_to_step(session=Session.objects.get(pk=session.pk), number=2)
    _has_version(host, session)
    expect(host.locator("#flow")).to_have_attribute("data-current-step", "2")
    expect(field).to_have_value("Start from a simple baseline")

    field.press("Enter")
    expect(host.locator("#room-error [role=alert]")).to_have_text(
        "The interview moved on to step 2 while you typed, so this hint was not logged for "
        "step 1. It is still in the box: press Enter to log it for step 2, or clear it."
    )
    moved = host.locator("#hint-2")
    expect(moved).to_have_value("Start from a simple baseline")
    expect(moved).to_be_focused()
    expect(host.locator("#step-tools-heading")).to_have_text("Hints and comment — step 2")
    assert _hints(session) == []

    moved.press("Enter")
    expect(host.locator("#step-tools .hint-log")).to_contain_text(
        "gave hint: Start from a simple baseline"
    )
    expect(moved).to_have_value("")
    expect(host.locator("#room-error")).to_be_empty()
    assert _hints(session) == [(2, "Start from a simple baseline")]


def test_enter_in_the_reason_marks_the_item_not_applicable(room_page, session):
    host = room_page(session.interviewer, session)
    item = host.locator(ITEM)
    item.get_by_text("Does not apply?").click()
    reason = item.get_by_label("Why it does not apply to this case (one line)")
    # Typed key by key: the reason's letters (n, b, c, …) are shortcuts outside a field.
    reason.press_sequentially(REASON)
    with host.expect_request(re.compile(r"/marks/$")) as sent:
        reason.press("Enter")

    request = sent.value
    assert request.headers.get("hx-request") == "true"  # htmx's, not a page load
    fields = parse_qs(request.post_data or "")
    assert (fields["mark"], fields["reason"]) == (["not_applicable"], [REASON])
    expect(item.locator(".item-na")).to_have_text(f"Not applicable: {REASON}")
    expect(item.get_by_role("button", name="Not applicable")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(item.get_by_role("button", name="Covered")).to_have_attribute("aria-pressed", "false")
    expect(host.locator("#flow")).to_have_attribute("data-current-step", "1")
    mark = Mark.objects.get(session=session, item_key="business-objective")
    assert (mark.mark, mark.reason) == ("not_applicable", REASON)

    # The item's keyboard shortcuts still work once the focus is back on the item.
    item.focus()
    host.keyboard.press("c")
    expect(item.get_by_role("button", name="Covered")).to_have_attribute("aria-pressed", "true")
    expect(item.locator(".item-na")).to_have_count(0)


def test_logging_a_hint_keeps_a_comment_typed_and_not_yet_saved(room_page, session):
    """The hint's answer replaces its whole section, comment form included."""
    host = room_page(session.interviewer, session)
    host.locator("#comment-1").fill("Clear on the objective")
    host.locator("#hint-1").fill("Ask about the p99")
    host.get_by_role("button", name="Log hint").click()

    expect(host.locator("#step-tools .hint-log")).to_contain_text("gave hint: Ask about the p99")
    expect(host.locator("#hint-1")).to_have_value("")
    expect(host.locator("#comment-1")).to_have_value("Clear on the objective")
    with host.expect_response(lambda response: "/comment" in response.url):
        host.get_by_role("button", name="Save comment").click()
    expect(host.locator("#comment-1")).to_have_value("Clear on the objective")
    assert session.steps.get(number=1).comment == "Clear on the objective"
