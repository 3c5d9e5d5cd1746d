"""The interviewer runs the room with the keyboard alone: Tab, Enter and the room's shortcuts."""

import re

from django.contrib.auth.models import User
from playwright.sync_api import Locator, Page, expect

from casebank.models import Case
from interviews import services
from interviews.models import FactReveal, Mark, Session, SessionMode, SessionState
from rubrics.services import latest_published_version
from tests.browser.pages import CASE_SLUG, log_in

MAX_TABS = 60
SETTLING = re.compile(r"\bhtmx-(added|settling|swapping)\b")

# What the focused element looks like: enough to name it in a message and to judge its focus ring.
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const previous = window.__sparPreviousFocus;
  window.__sparPreviousFocus = el;
  return {
    name: `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} `
      + `"${el.innerText.trim().slice(0, 40)}"`,
    id: el.id,
    text: el.innerText.trim(),
    item: el.closest("[data-item]")?.id ?? null,
    inMain: el.closest("main") !== null,
    ring: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
      || style.boxShadow !== "none",
    visible: box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < innerHeight,
    // Tab order should follow the page: nothing positive-tabindexed jumps ahead.
    follows: !previous || !previous.isConnected || previous === el
      || Boolean(previous.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING),
  };
}"""


def _tab(page: Page) -> dict:
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert focused["ring"], f"no visible focus indicator on {focused['name']}"
    assert focused["visible"], f"focus went to something off screen: {focused['name']}"
    assert focused["follows"], f"Tab jumped backwards to {focused['name']}"
    return focused


def _tab_until(page: Page, element_id: str, what: str, limit: int = MAX_TABS) -> list[dict]:
    """Tab forward until `element_id` has the focus; every stop on the way is checked."""
    stops: list[dict] = []
    while not stops or stops[-1]["id"] != element_id:
        assert len(stops) < limit, f"never reached {what}:\n" + "\n".join(
            stop["name"] for stop in stops
        )
        stops.append(_tab(page))
    return stops


def _settled(swapped: Locator) -> None:
    # htmx wires up swapped-in content only when it settles (20 ms later); a key pressed before
    # then would click a control that has no htmx handler yet.
    expect(swapped).not_to_have_class(SETTLING)


def _ready_session(interviewer: User, candidate: User) -> Session:
    session = services.create_session(
        host=interviewer,
        case=Case.objects.get(slug=CASE_SLUG),
        rubric_version=latest_published_version(),
        length_minutes=45,
        mode=SessionMode.PEER,
    )
    return services.join_session(token=session.invite_token, user=candidate)


def test_interviewer_runs_the_room_from_the_keyboard(world, new_page, live_server):
    ines, cai = world.users["ines"], world.users["cai"]
    session = _ready_session(ines, cai)
    page = new_page()
    log_in(page.context, ines, live_server.url)
    page.goto(f"/sessions/{session.pk}/")
    page.wait_for_load_state()  # the deferred room.js listens before any key is pressed

    # The skip link comes first, shows itself when focused and lands on the main content.
    skip = _tab(page)
    assert skip["text"] == "Skip to content"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    assert page.evaluate("document.activeElement.id") == "main"

    # From the content, the first stop is the interview's control.
    start = _tab(page)
    assert start["id"] == "control-start", start["name"]
    page.keyboard.press("Enter")
    expect(page.locator("#flow .state-badge")).to_have_text("Running")
    session.refresh_from_db()
    assert session.state == SessionState.RUNNING

    # Start gave way to the running controls; the focus went to the first one that works
    # ("Previous step" is disabled on step 1) instead of falling back to the top of the page.
    expect(page.locator("#control-next")).to_be_focused()

    # On through the page, in order: the controls, the panes, the checklist's first mark button.
    first_item = page.locator("[data-item]").first
    item_id = first_item.get_attribute("id")
    mark_button = first_item.locator("button[data-mark]").first
    button_id = mark_button.get_attribute("id")
    stops = _tab_until(page, button_id, "the checklist")
    # Start's controls are swapped out under the focus; Tab must carry on from there, not restart
    # at the top of the page.
    assert all(stop["inMain"] for stop in stops), [stop["name"] for stop in stops]
    assert mark_button.get_attribute("data-mark") == "covered"

    # "c" marks the focused item covered; focus stays in that item after the swap.
    item_key = item_id.removeprefix("item-")
    page.keyboard.press("c")
    expect(mark_button).to_have_attribute("aria-pressed", "true")
    _settled(first_item)
    mark = Mark.objects.get(session=session, item_key=item_key)
    assert (mark.mark, mark.after_hint) == ("covered", False)
    assert page.evaluate(FOCUSED)["item"] == item_id

    # "h" adds "after a hint" to the same mark.
    page.keyboard.press("h")
    # The box ticks at once; the server's answer brings the stamp.
    expect(first_item.locator(".item-stamp")).to_contain_text("covered, after a hint")
    _settled(first_item)
    mark.refresh_from_db()
    assert (mark.mark, mark.after_hint) == ("covered", True)
    assert page.evaluate(FOCUSED)["item"] == item_id

    # After the checklist come the facts: Enter reveals the first; focus stays on its button
    # through the swap.
    fact_button = page.locator("#facts button").first
    fact_id = fact_button.get_attribute("id")
    _tab_until(page, fact_id, "the facts", limit=MAX_TABS * 3)
    page.keyboard.press("Enter")
    expect(page.locator(f"#{fact_id}")).to_have_text("Revealed — hide")
    _settled(page.locator("#facts"))
    assert page.evaluate(FOCUSED)["id"] == fact_id
    assert FactReveal.objects.filter(session=session).count() == 1

    # "n" and "b" move between steps.
    current_step = page.locator("#steps [aria-current=step]")
    page.keyboard.press("n")
    expect(current_step).to_contain_text("2. ")
    _settled(page.locator("#flow"))
    session.refresh_from_db()
    assert session.current_step == 2
    page.keyboard.press("b")
    expect(current_step).to_contain_text("1. ")
    session.refresh_from_db()
    assert session.current_step == 1
