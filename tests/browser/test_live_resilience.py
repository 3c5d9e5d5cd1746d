"""The room's client in the ways a connection lets it down, in real Chromium on the ASGI server:
the end of the interview with notes not saved yet, a save whose answer is lost, and a stream that
stays open but goes silent (static/js/live.js and notes.js)."""

import re
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from interviews import services
from interviews.models import Session, SessionStep
from tests.browser.asgi_server import AsgiLiveServer, asgi_live_server  # noqa: F401 -- fixture
from tests.browser.conftest import PageProblems, close_before_flush
from tests.browser.pages import log_in, running_interview

STREAM = re.compile(r"/stream/")
NOTES = re.compile(r"/notes/")
CONFLICT_LOGGED = r"status of 409 \(Conflict\)"
# htmx logs each stream error event, which Chromium prints as "[object Event]".
STREAM_ERROR_LOGGED = r"\[object Event\]"
LAST_WORDS = "and finally: retrain nightly, alert when the p99 error drifts"

# Records, for the test, each stream the page opens and whether one brought the end of the
# interview. An init script: it runs before the page's own scripts, outside the page's CSP.
RECORD_STREAMS = """
(() => {
  const Original = window.EventSource;
  window.sparStreams = [];
  window.EventSource = class extends Original {
    constructor(url, init) {
      super(url, init);
      window.sparStreams.push(this);
      this.addEventListener("finished", () => { window.sparFinished = true; });
    }
  };
})();
"""


@pytest.fixture(scope="module")
def live_server(asgi_live_server: AsgiLiveServer) -> AsgiLiveServer:  # noqa: F811 -- on purpose
    """This module's pages are served by the ASGI server, streams and all."""
    return asgi_live_server


@pytest.fixture
def session(transactional_db: None, django_user_model: type[User]) -> Session:
    return running_interview(django_user_model)


@pytest.fixture
def candidate_page(
    chromium: Browser, live_server: AsgiLiveServer, session: Session
) -> Iterator[Callable[..., Page]]:
    """The candidate's page in the room. Only console lines matching `patterns` may appear, and
    each must (proof that the path was taken); `before` runs before the room opens."""
    contexts: list[BrowserContext] = []
    problems = PageProblems()
    expected: list[re.Pattern[str]] = []

    def make(*patterns: str, before: Callable[[Page], None] | None = None) -> Page:
        expected.extend(re.compile(p) for p in patterns)
        context = chromium.new_context(base_url=live_server.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        log_in(context, session.candidate, live_server.url)
        page = context.new_page()
        problems.watch(page)
        page.add_init_script(RECORD_STREAMS)
        page.clock.install()  # flows with real time until a test pauses it
        if before is not None:
            before(page)
        page.goto(f"/sessions/{session.pk}/")
        page.wait_for_load_state()  # the deferred scripts listen before anyone types
        return page

    yield make
    close_before_flush(contexts, live_server)
    unexpected = [m for m in problems.messages if not any(p.search(m) for p in expected)]
    assert unexpected == [], "\n".join(unexpected)
    for pattern in expected:
        assert any(pattern.search(m) for m in problems.messages), f"never seen: {pattern.pattern}"


def _is_live(page: Page) -> None:
    expect(page.locator("#live")).to_have_attribute("data-state", "live")


def _pause(page: Page) -> None:
    """Stop the page's timers (the notes' debounce, live.js's checks). A second ahead: the
    page's clock runs on meanwhile, and pausing at a time it has passed fails (on a busy machine
    10 ms was not enough). Each test pauses before typing or once its save is on its way, so
    no debounce is due within that second."""
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 1)  # Python's clock: seconds


def _finish(session: Session) -> None:
    services.finish_session(session=Session.objects.get(pk=session.pk))


def _notes(session: Session) -> tuple[str, int]:
    step = SessionStep.objects.get(session=session, number=1)
    return step.notes, step.notes_version


def _drafts(page: Page) -> list[str]:
    """The texts of the notes drafts this browser keeps (until the server acknowledges them)."""
    return page.evaluate(
        """() => Object.keys(localStorage).filter((k) => k.startsWith('spar:notes:'))
            .map((k) => JSON.parse(localStorage.getItem(k)).text)"""
    )


def _wait_for_one(page: Page, held: list[Route]) -> None:
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1


def _scorecard(session: Session) -> re.Pattern[str]:
    return re.compile(rf"/sessions/{session.pk}/scorecard/$")


def _abort_stream(page: Page) -> None:
    page.route(STREAM, lambda route: route.abort())


def _poll(page: Page) -> None:
    page.evaluate("() => htmx.trigger(document.getElementById('poller'), 'spar:poll')")


# --- the end of the interview waits for the candidate's last words ------------------------------


@pytest.mark.parametrize("path", ["stream", "poll"])
def test_finishing_saves_the_notes_typed_just_before(candidate_page, session, path):
    """The interviewer finishes while the candidate's last words wait for the autosave's
    debounce: the page leaves for the scorecard only once they are saved."""
    if path == "stream":
        page = candidate_page()
        _is_live(page)
    else:
        # No stream: the end comes as the answer to a poll (286 with HX-Redirect).
        page = candidate_page(r"net::ERR_FAILED", STREAM_ERROR_LOGGED, before=_abort_stream)
    _pause(page)  # the debounce never fires: only the end of the interview can save the text
    text = f"Label: actual delivery minutes; {LAST_WORDS}"
    page.locator("#notes-1").fill(text)
    assert _notes(session) == ("", 0)

    _finish(session)
    if path == "poll":
        _poll(page)
    expect(page).to_have_url(_scorecard(session))
    assert _notes(session) == (text, 1)
    assert _drafts(page) == []


@pytest.mark.parametrize("answer", ["answered", "never-answered"])
def test_the_end_of_the_interview_waits_for_the_save_on_its_way(candidate_page, session, answer):
    """A save is on its way when the interview ends: the page stays until it is answered,
    or for two seconds at most (a dead network must not keep the candidate in the room)."""
    page = candidate_page()
    _is_live(page)
    held: list[Route] = []
    page.route(NOTES, lambda route: held.append(route))
    page.locator("#notes-1").fill(LAST_WORDS)
    _wait_for_one(page, held)
    _pause(page)

    _finish(session)
    page.wait_for_function("() => window.sparFinished === true")
    page.wait_for_timeout(500)  # time enough to leave, if the page did not wait
    expect(page).to_have_url(re.compile(rf"/sessions/{session.pk}/$"))

    if answer == "answered":
        held[0].continue_()
        expect(page).to_have_url(_scorecard(session))
        assert _notes(session) == (LAST_WORDS, 1)
    else:
        page.clock.fast_forward(2_000)
        expect(page).to_have_url(_scorecard(session))
        assert _drafts(page) == [LAST_WORDS]  # never acknowledged: kept in this browser


def test_the_words_typed_after_the_save_on_its_way_are_kept_too(candidate_page, session):
    """A save is on its way at the finish and the candidate typed on after sending it: both
    arrive after the finish, one after the other, and the server keeps both."""
    page = candidate_page()
    _is_live(page)
    held: list[Route] = []
    page.route(NOTES, lambda route: route.continue_() if held else held.append(route))
    notes = page.locator("#notes-1")
    notes.fill("Label: actual delivery minutes")
    _wait_for_one(page, held)
    _pause(page)  # the words below wait for the end of the interview
    notes.fill(f"Label: actual delivery minutes; {LAST_WORDS}")

    _finish(session)
    page.wait_for_function("() => window.sparFinished === true")
    held[0].continue_()
    expect(page).to_have_url(_scorecard(session))
    assert _notes(session) == (f"Label: actual delivery minutes; {LAST_WORDS}", 2)
    assert _drafts(page) == []


# --- a save whose answer was lost is not a conflict ---------------------------------------------


def test_a_save_kept_but_unanswered_is_not_taken_for_a_conflict(candidate_page, session):
    """The first save reaches the server and is kept, but a proxy answers 502. The candidate
    types on: the next save, still based on the old version, meets the page's own text on the
    server. That is no conflict: the page takes the version and saves again, silently."""
    page = candidate_page(r"status of 502 \(Bad Gateway\)", CONFLICT_LOGGED)
    answers: list[int] = []

    def lose_the_first_answer(route: Route) -> None:
        if answers:
            route.continue_()
            return
        answers.append(route.fetch().status)  # the server keeps the save
        route.fulfill(status=502, body="Bad gateway")  # and the page hears a proxy's error

    page.route(NOTES, lose_the_first_answer)
    notes = page.locator("#notes-1")
    status = page.locator("#notes-status-1")
    notes.fill("Label: actual delivery minutes")
    expect(status).to_contain_text("error 502")
    assert answers == [200]
    assert _notes(session) == ("Label: actual delivery minutes", 1)

    # Before the retry (2 s after the error) sends the first text again.
    typed_on = "Label: actual delivery minutes, from the courier's drop-off scan"
    notes.fill(typed_on)
    notes.press("Tab")  # leaving the field saves at once
    expect(status).to_contain_text("Saved at")
    expect(page.locator("form[data-step='1'] [data-conflict]")).to_be_hidden()
    assert _notes(session) == (typed_on, 2)
    assert _drafts(page) == []


# --- a stream that stays open but says nothing is reopened --------------------------------------


class SilentStream:
    """An event stream that opens (its headers, then one heartbeat) and then says nothing while
    it holds the connection open: what a page has after a laptop's sleep or a change of network,
    when the connection is gone but nothing closed it. Playwright cannot hold a response open
    half-sent, so the test routes the page's stream here."""

    OPENING = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\r\n"
        b"retry: 1000\n\nevent: heartbeat\ndata: \n\n"
    )

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/silent/"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                request += chunk
            connection.sendall(self.OPENING)
            self.held.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def silent_stream() -> Iterator[SilentStream]:
    server = SilentStream()
    yield server
    server.close()


def test_a_stream_gone_silent_is_reopened(candidate_page, session, silent_stream):
    """The page's stream opens and then goes silent without closing. After 2.5 heartbeats of
    silence the page opens a new stream, from the version it shows, and once heartbeats flow
    again it is back on the stream, without the "delayed" notice."""
    streams: list[str] = []

    def first_one_silent(route: Route) -> None:
        streams.append(route.request.url)
        if len(streams) == 1:
            route.continue_(url=silent_stream.url)
        else:
            route.continue_()

    page = candidate_page(STREAM_ERROR_LOGGED, before=lambda p: p.route(STREAM, first_one_silent))
    _is_live(page)  # the silent stream's one heartbeat
    heartbeat_ms = int(page.locator("#live").get_attribute("data-heartbeat-ms"))
    version = page.locator("#poller").get_attribute("data-version")

    # Over the page's timers, a second at a time, as its checks run every second.
    for _ in range(heartbeat_ms * 4 // 1000):
        if len(streams) > 1:
            break
        page.clock.fast_forward(1_000)
        page.wait_for_timeout(50)
    assert len(streams) == 2, streams
    assert re.search(rf"[?&]v={version}(&|$)", streams[1]), streams[1]

    for _ in range(10):
        if page.locator("#live").get_attribute("data-state") == "live":
            break
        page.clock.fast_forward(1_000)
        page.wait_for_timeout(50)
    _is_live(page)
    expect(page.locator("#live-status")).to_be_hidden()
    assert page.evaluate("() => window.sparStreams.map((s) => s.readyState)") == [2, 1]

    # And changes come by the new stream.
    fact = session.case.facts.order_by("pk").first()
    services.set_fact_revealed(session=Session.objects.get(pk=session.pk), fact=fact, revealed=True)
    expect(page.locator("#facts")).to_contain_text(fact.question)
