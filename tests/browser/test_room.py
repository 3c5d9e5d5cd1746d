"""The live interview room in real Chromium: two browser contexts are two people, served as
production serves them (uvicorn, config.asgi), so cross-screen changes travel by the push stream.

Expectations about the other screen still wait up to 10 s (a loaded CI machine); everything else
uses the context's default timeout.
"""

import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect

from accounts import profile_services
from casebank.models import Case
from interviews import services
from interviews.board import BoardUpdate
from interviews.models import Mark, Session, SessionMode, SessionState, SessionStep
from rubrics.services import latest_published_version
from tests.browser.asgi_server import AsgiLiveServer, asgi_live_server  # noqa: F401 -- fixture
from tests.browser.conftest import PageProblems, close_before_flush
from tests.browser.pages import load_shipped_casebank
from tests.interviews.test_board_merge import rect, text

PASSWORD = "a-long-and-unusual-passphrase"
CASE_TITLE = "Delivery time estimates for a food delivery app"
# Mentions two step-1 items' keywords: "business objective" and "p99 latency" / "latency budget".
STEP_1_NOTES = "First I would clarify the business objective and the p99 latency budget"
ACROSS_SCREENS_MS = 10_000
ROOM_URL = re.compile(r"/sessions/(\d+)/$")
STEP_CLOCK = "#flow .timer:not(.timer-total) [data-timer-clock]"
TOTAL_CLOCK = "#flow .timer-total [data-timer-clock]"


@pytest.fixture(scope="module")
def live_server(asgi_live_server: AsgiLiveServer) -> AsgiLiveServer:  # noqa: F811 -- on purpose
    return asgi_live_server


@pytest.fixture
def casebank(transactional_db: None) -> None:
    # live_server runs on a transactional database, flushed after each test.
    load_shipped_casebank()


@pytest.fixture
def ines(django_user_model: type[User], casebank: None) -> User:
    return django_user_model.objects.create_user("ines", password=PASSWORD)


@pytest.fixture
def cai(django_user_model: type[User], casebank: None) -> User:
    return django_user_model.objects.create_user("cai", password=PASSWORD)


@pytest.fixture
def page_expecting(
    chromium: Browser, live_server: AsgiLiveServer, transactional_db: None
) -> Iterator[Callable[..., Page]]:
    """Like conftest's `new_page`, for products that make Chromium log a known error on purpose.

    A 409 answer to a fetch, or any request while offline, makes Chromium log "Failed to load
    resource" as a console error, and htmx logs its failed polls. Those expected lines, and only
    those, are allowed; each must show up at least once (proof the path was exercised), and
    every other console error, warning or page error still fails the test. Lines in `maybe`
    are allowed but need not appear (an error that depends on timing).
    """
    contexts: list[BrowserContext] = []
    problems = PageProblems()
    expected: list[re.Pattern[str]] = []
    allowed: list[re.Pattern[str]] = []

    def make(
        *patterns: str, context: BrowserContext | None = None, maybe: tuple[str, ...] = ()
    ) -> Page:
        expected.extend(re.compile(p) for p in patterns)
        allowed.extend(re.compile(p) for p in maybe)
        if context is None:
            context = chromium.new_context(base_url=live_server.url)
            context.set_default_timeout(10_000)
            contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield make
    close_before_flush(contexts, live_server)
    unexpected = [m for m in problems.messages if not any(p.search(m) for p in expected + allowed)]
    assert unexpected == [], "\n".join(unexpected)
    for pattern in expected:
        assert any(pattern.search(m) for m in problems.messages), f"never seen: {pattern.pattern}"


def _log_in(page: Page, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _open_room_as(page: Page, username: str, session: Session) -> None:
    page.goto(f"/accounts/login/?next=/sessions/{session.pk}/")
    _log_in(page, username)
    expect(page).to_have_url(re.compile(rf"/sessions/{session.pk}/$"))
    page.wait_for_load_state()  # the deferred scripts listen before anyone types


def _running_session(interviewer: User, candidate: User, *, now: datetime | None = None) -> Session:
    session = services.create_session(
        host=interviewer,
        case=Case.objects.get(title=CASE_TITLE),
        rubric_version=latest_published_version(),
        length_minutes=45,
        mode=SessionMode.PEER,
    )
    services.join_session(token=session.invite_token, user=candidate)
    return services.start_session(session=session, now=now)


def _seconds(clock: str) -> int:
    total = 0
    for part in clock.strip().split(":"):
        total = total * 60 + int(part)
    return total


def _step(session: Session, number: int) -> SessionStep:
    return SessionStep.objects.get(session=session, number=number)


def test_two_people_run_a_whole_session(new_page, live_server, ines, cai):
    # Ines has set her time zone before: a member without one gets a one-off guess that reloads
    # the form just after it loads (tests/browser/test_groups.py), and a reload that lands
    # between choosing the case and submitting would submit an empty form.
    profile_services.set_time_zone(user=ines, time_zone="Europe/Paris")
    host = new_page(permissions=["clipboard-read", "clipboard-write"])
    guest = new_page()

    # The interviewer creates the session through the form.
    host.goto("/accounts/login/?next=/sessions/new/")
    _log_in(host, "ines")
    host.get_by_role("combobox", name="Case").select_option(label=CASE_TITLE)
    host.get_by_role("combobox", name="Length").select_option("45")
    host.get_by_label("Interviewer — I will invite a candidate").check()
    host.get_by_role("button", name="Create the session").click()
    expect(host).to_have_url(ROOM_URL)
    session = Session.objects.get(pk=ROOM_URL.search(host.url).group(1))
    assert (session.interviewer, session.state) == (ines, SessionState.WAITING)

    host.get_by_role("button", name="Copy link").click()
    expect(host.get_by_role("button", name="Copied")).to_be_visible()
    invite_url = host.evaluate("navigator.clipboard.readText()")
    assert invite_url == f"{live_server.url}/join/{session.invite_token}/"

    # The candidate is sent to log in first, then comes back to the invite.
    join_path = f"/join/{session.invite_token}/"
    guest.goto(invite_url)
    expect(guest).to_have_url(re.compile(r"/accounts/login/\?next=" + re.escape(join_path)))
    expect(guest.get_by_text("Log in to continue.")).to_be_visible()
    _log_in(guest, "cai")
    expect(guest).to_have_url(live_server.url + join_path)
    guest.get_by_role("button", name="Join the session").click()
    expect(guest).to_have_url(re.compile(rf"/sessions/{session.pk}/$"))
    expect(guest.get_by_text("Waiting for ines, your interviewer, to start.")).to_be_visible()

    # The interviewer's screen learns of the join by polling, then starts.
    expect(host.locator("#setup [data-joined]")).to_have_text(
        re.compile(r"^cai joined\."), timeout=ACROSS_SCREENS_MS
    )
    expect(host.locator("#invite-url")).to_have_count(0)
    host.locator("#control-start").click()
    expect(guest.locator("#flow .state-badge")).to_have_text("Running", timeout=ACROSS_SCREENS_MS)

    # The candidate writes; the interviewer reads along and sees the evidence hints.
    guest.locator("#notes-1").press_sequentially(STEP_1_NOTES)
    expect(guest.locator("#notes-status-1")).to_contain_text("Saved at")
    expect(host.locator("#candidate-notes")).to_contain_text(
        STEP_1_NOTES, timeout=ACROSS_SCREENS_MS
    )
    objective = host.locator("#item-business-objective")
    latency = host.locator("#item-latency-budget")
    expect(objective.locator(".evidence")).to_contain_text("Notes mention: business objective")
    expect(latency.locator(".evidence")).to_contain_text("Notes mention:")

    # One mark by click, one by the keyboard shortcut on a focused item.
    objective.get_by_role("button", name="Covered").click()
    expect(objective.get_by_role("button", name="Covered")).to_have_attribute(
        "aria-pressed", "true"
    )
    # The mark's answer replaces the item but leaves its evidence line as the page had it.
    expect(objective.locator(".evidence")).to_contain_text("Notes mention: business objective")
    latency.focus()
    host.keyboard.press("c")
    expect(latency.get_by_role("button", name="Covered")).to_have_attribute("aria-pressed", "true")
    expect(latency.locator(".evidence")).to_contain_text("Notes mention:")
    expect(host.locator("#step-score")).not_to_contain_text("—")
    marks = dict(Mark.objects.filter(session=session).values_list("item_key", "mark"))
    assert marks == {"business-objective": "covered", "latency-budget": "covered"}

    # A revealed fact appears on the candidate's screen.
    fact = host.locator(".fact").filter(has_text="How quickly must an estimate come back?")
    expect(guest.locator("#facts")).not_to_contain_text("How quickly must an estimate come back?")
    fact.get_by_role("button", name="Reveal").click()
    expect(fact.get_by_role("button", name="Revealed — hide")).to_be_visible()
    expect(guest.locator("#facts")).to_contain_text(
        "How quickly must an estimate come back?", timeout=ACROSS_SCREENS_MS
    )
    expect(guest.locator("#facts")).to_contain_text("within a few milliseconds")

    # "n" moves on; the candidate's screen follows, with step 2's editor open.
    host.keyboard.press("n")
    expect(host.locator("#steps [aria-current=step]")).to_contain_text("2. ")
    expect(guest.locator("#steps [aria-current=step]")).to_contain_text(
        "2. ", timeout=ACROSS_SCREENS_MS
    )
    expect(guest.locator("details[data-note-step='2']")).to_have_attribute("open", "")

    # A reload mid-step keeps the notes and the time.
    session.refresh_from_db()
    assert session.current_step == 2
    elapsed = session.step_elapsed(_step(session, 2), timezone.now())
    time.sleep(max(0.0, 2.2 - elapsed))
    floor = int(session.step_elapsed(_step(session, 2), timezone.now()))
    total_floor = int(sum(session.step_elapsed(s, timezone.now()) for s in session.steps.all()))
    guest.reload()
    expect(guest.locator("#notes-1")).to_have_value(STEP_1_NOTES)
    assert _step(session, 1).notes == STEP_1_NOTES
    expect(guest.locator("#steps [aria-current=step]")).to_contain_text("2. ")
    assert _seconds(guest.locator(STEP_CLOCK).text_content()) >= max(floor, 2)
    assert _seconds(guest.locator(TOTAL_CLOCK).text_content()) >= total_floor

    # Finishing takes both people to the scorecard; the candidate assesses themselves first.
    host.once("dialog", lambda dialog: dialog.accept())
    host.locator("#control-finish").click()
    expect(host).to_have_url(re.compile(rf"/sessions/{session.pk}/scorecard/$"))
    expect(host.get_by_role("heading", name="Result")).to_be_visible()
    expect(guest).to_have_url(
        re.compile(rf"/sessions/{session.pk}/scorecard/$"), timeout=ACROSS_SCREENS_MS
    )
    expect(guest.get_by_role("heading", level=1)).to_contain_text("mark yourself")
    session.refresh_from_db()
    assert session.state == SessionState.FINISHED


def _drafts(page, session, step: int) -> list[dict]:
    """The drafts of one step the browser keeps, of every tab (one key per tab)."""
    prefix = f"spar:notes:{session.pk}:{step}:"
    return page.evaluate(
        "(prefix) => Object.keys(localStorage).filter((k) => k.startsWith(prefix))"
        ".map((k) => JSON.parse(localStorage.getItem(k)))",
        prefix,
    )


def test_an_evidence_line_separates_its_two_sources_and_hides_when_empty(new_page, ines, cai):
    # Each evidence line has a part for the notes and one for the board (a change of either
    # swaps in its own part); the stylesheet puts " · " between them only when both have text.
    session = _running_session(ines, cai)
    services.save_notes(
        session=session, step_number=1, text="The business objective first.", base_version=0
    )
    label = text("kpi-label", "business objective", containerId="kpi", index="a0V")
    board = BoardUpdate(0, [rect("kpi", index="a0"), label, text("slo", "latency budget")])
    services.save_board(session=session, update=board, by=cai)
    page = new_page()
    _open_room_as(page, "ines", session)

    both = page.locator("#evidence-item-business-objective")
    diagram_only = page.locator("#evidence-item-latency-budget")
    expect(both).to_have_text(
        "Notes mention: business objective" + "Diagram mentions: business objective"
    )
    expect(diagram_only).to_have_text("Diagram mentions: latency budget")

    def before(line: str) -> str:
        return page.evaluate(
            "id => getComputedStyle(document.querySelector(id), '::before').content",
            f"{line} .evidence-diagram",
        )

    assert before("#evidence-item-business-objective") == '" · "'
    assert before("#evidence-item-latency-budget") == "none"
    expect(both).to_be_visible()
    expect(diagram_only).to_be_visible()
    # A line with nothing to say takes no room (not even its margins).
    silent = page.locator(".checklist .evidence").filter(has_not_text="mention").first
    expect(silent).to_be_attached()
    assert silent.evaluate("line => getComputedStyle(line).display") == "none"
    assert both.evaluate("line => getComputedStyle(line).display") == "block"


def test_unsaved_notes_survive_a_reload(new_page, ines, cai):
    session = _running_session(ines, cai)
    page = new_page()
    _open_room_as(page, "cai", session)
    text = "Restaurants batch orders at lunch peaks; I need the p99 latency budget."

    page.locator("#notes-1").fill(text)
    # Reloaded well before the 800 ms debounce: only the browser's draft holds the text.
    assert _step(session, 1).notes == ""
    assert [d["text"] for d in _drafts(page, session, 1)] == [text]
    page.reload()

    expect(page.locator("#notes-1")).to_have_value(text)
    expect(page.locator("#notes-status-1")).to_contain_text("Saved at")
    step = _step(session, 1)
    assert (step.notes, step.notes_version) == (text, 1)
    assert _drafts(page, session, 1) == []


def test_offline_notes_flush_when_back_online(page_expecting, ines, cai):
    session = _running_session(ines, cai)
    # htmx's stream extension logs the stream's error event ("[object Event]") if the stream
    # notices the network is gone before it is back.
    page = page_expecting(r"net::ERR_INTERNET_DISCONNECTED", maybe=(r"\[object Event\]",))
    # The page's timers run on Playwright's clock, flowing with real time: the test jumps over
    # the retry instead of sitting it out.
    page.clock.install()
    _open_room_as(page, "cai", session)
    text = "Offline for a moment: the label is the actual delivery time."
    saves: list[str] = []
    page.on("request", lambda r: saves.append(r.url) if r.method == "POST" else None)

    page.context.set_offline(True)
    page.locator("#notes-1").fill(text)
    expect(page.locator("#notes-status-1")).to_contain_text("Offline")
    expect(page.locator("#connection-status")).to_be_visible()
    assert _step(session, 1).notes == ""

    page.context.set_offline(False)
    expect(page.locator("#notes-status-1")).to_contain_text("Saved at")
    expect(page.locator("#connection-status")).to_be_hidden(timeout=ACROSS_SCREENS_MS)
    sent = len(saves)
    # Past the pending retry (2 s after the failed save): nothing more is sent, and the text
    # was saved exactly once.
    page.clock.fast_forward(3_000)
    page.wait_for_timeout(300)
    assert len(saves) == sent, saves
    step = _step(session, 1)
    assert (step.notes, step.notes_version) == (text, 1)


def test_two_tabs_conflict_shows_both_texts(page_expecting, ines, cai):
    session = _running_session(ines, cai)
    conflict_logged = r"status of 409 \(Conflict\)"
    first = page_expecting(conflict_logged)
    _open_room_as(first, "cai", session)
    second = page_expecting(context=first.context)
    second.goto(f"/sessions/{session.pk}/")

    first.locator("#notes-1").fill("Text from the first tab")
    expect(first.locator("#notes-status-1")).to_contain_text("Saved at")
    second.locator("#notes-1").fill("Text from the second tab")

    panel = second.locator("form[data-step='1'] [data-conflict]")
    expect(panel).to_be_visible()
    expect(panel.locator("[data-conflict-server]")).to_have_text("Text from the first tab")
    expect(panel.locator("[data-conflict-mine]")).to_have_text("Text from the second tab")
    assert _step(session, 1).notes == "Text from the first tab"

    panel.get_by_role("button", name="Keep mine").click()
    expect(panel).to_be_hidden()
    expect(second.locator("#notes-status-1")).to_contain_text("Saved at")
    step = _step(session, 1)
    assert (step.notes, step.notes_version) == ("Text from the second tab", 2)


def test_a_refused_draft_survives_the_other_tabs_saves_and_a_reload(page_expecting, ines, cai):
    """Issue 11, hole 3: drafts were kept under one key per session and step, shared by every
    tab, so tab A's next save overwrote tab B's refused text and a reload of B lost it."""
    session = _running_session(ines, cai)
    conflict_logged = r"status of 409 \(Conflict\)"
    first = page_expecting(conflict_logged)
    _open_room_as(first, "cai", session)
    second = page_expecting(conflict_logged, context=first.context)
    second.goto(f"/sessions/{session.pk}/")

    first.locator("#notes-1").fill("Text from the first tab")
    expect(first.locator("#notes-status-1")).to_contain_text("Saved at")
    second.locator("#notes-1").fill("Text from the second tab")
    panel = second.locator("form[data-step='1'] [data-conflict]")
    expect(panel).to_be_visible()
    # The first tab goes on writing and saving.
    first.locator("#notes-1").fill("Text from the first tab, written on")
    expect(first.locator("#notes-status-1")).to_contain_text("Saved at")
    assert _step(session, 1).notes == "Text from the first tab, written on"

    second.reload()
    panel = second.locator("form[data-step='1'] [data-conflict]")
    expect(panel).to_be_visible()
    expect(panel.locator("[data-conflict-mine]")).to_have_text("Text from the second tab")
    expect(panel.locator("[data-conflict-server]")).to_have_text(
        "Text from the first tab, written on"
    )


def test_logging_out_clears_the_drafts(page_expecting, ines, cai):
    """Issue 11, hole 18: drafts stayed in localStorage after logout, for the next person."""
    session = _running_session(ines, cai)
    page = page_expecting(r"net::ERR_FAILED")
    _open_room_as(page, "cai", session)
    page.route("**/notes/**", lambda route: route.abort())  # the save never arrives
    page.locator("#notes-1").fill("Private draft, never saved")
    expect(page.locator("#notes-status-1")).to_contain_text("Offline", timeout=5_000)
    drafts = "Object.keys(localStorage).filter(k => k.startsWith('spar:notes:')).length"
    assert page.evaluate(drafts) >= 1
    page.locator("details.menu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/$"))
    assert page.evaluate(drafts) == 0


def test_timer_survives_reload(new_page, ines, cai):
    session = _running_session(ines, cai, now=timezone.now() - timedelta(minutes=3))
    page = new_page()
    _open_room_as(page, "cai", session)

    clock = page.locator(STEP_CLOCK)
    first = _seconds(clock.text_content())
    assert first >= 180
    expect(clock).not_to_have_text(clock.text_content())  # it keeps counting
    assert _seconds(clock.text_content()) > first

    page.reload()
    after_reload = clock.text_content()
    assert _seconds(after_reload) > first
    assert _seconds(page.locator(TOTAL_CLOCK).text_content()) > first
    expect(clock).not_to_have_text(after_reload)
