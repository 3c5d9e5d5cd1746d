"""The whiteboard bundle in real Chromium, under the project's exact CSP.

The page and the board endpoint come from tests/browser/board_harness.py (ROOT_URLCONF), so the
responses carry config/settings.py's CSP header; the board merges with interviews/board.py. The
bundle is the committed static/vendor/excalidraw/, loaded through static/js/board.js.
"""

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Response, expect
from pytest_django.live_server_helper import LiveServer

from interviews.board import labels
from tests.browser import board_harness
from tests.browser.conftest import PageProblems

BUNDLE_PATH = "/static/vendor/excalidraw/"
FONTS_PATH = BUNDLE_PATH + "fonts/"
SERVER_WAIT_S = 10
# Collected before any page script runs (init scripts are not subject to the page's CSP).
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


class Watched:
    """One page with every request, every response and every CSP violation it saw."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.requests: list[str] = []
        self.responses: list[tuple[int, str]] = []
        page.context.on("request", self._on_request)
        page.context.on("response", self._on_response)
        page.add_init_script(RECORD_CSP_VIOLATIONS)

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _on_response(self, response: Response) -> None:
        self.responses.append((response.status, response.url))

    def csp_violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations")

    def bundle_requests(self) -> list[str]:
        return [url for url in self.requests if urlsplit(url).path.startswith(BUNDLE_PATH)]


@pytest.fixture
def harness(settings) -> board_harness.HarnessState:
    settings.ROOT_URLCONF = "tests.browser.board_harness"
    return board_harness.reset()


@pytest.fixture
def watched_page(
    chromium: Browser, live_server: LiveServer, harness: board_harness.HarnessState
) -> Iterator[Callable[..., Watched]]:
    """Pages in fresh contexts; like conftest's `new_page`, any console error, warning or page
    error fails the test, except the patterns a test declares (each must then be seen)."""
    contexts: list[BrowserContext] = []
    problems = PageProblems()
    expected: list[re.Pattern[str]] = []

    def make(*patterns: str, **context_options: object) -> Watched:
        expected.extend(re.compile(p) for p in patterns)
        context = chromium.new_context(base_url=live_server.url, **context_options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return Watched(page)

    yield make
    for context in contexts:
        context.close()
    unexpected = [m for m in problems.messages if not any(p.search(m) for p in expected)]
    assert unexpected == [], "\n".join(unexpected)
    for pattern in expected:
        assert any(pattern.search(m) for m in problems.messages), f"never seen: {pattern.pattern}"


def wait_until(page: Page, condition: Callable[[], bool], what: str) -> None:
    """Poll a server-side condition while the browser keeps running."""
    deadline = time.monotonic() + SERVER_WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(100)


def wait_in_page(page: Page, function: str, *args: object) -> None:
    """Poll a JavaScript function until it returns true. (wait_for_function would evaluate a
    string, which the CSP forbids; evaluate() goes through the DevTools protocol instead.)"""
    deadline = time.monotonic() + SERVER_WAIT_S
    while not page.evaluate(function, *args):
        assert time.monotonic() < deadline, f"timed out waiting for {function}"
        page.wait_for_timeout(100)


def open_board(page: Page) -> None:
    page.evaluate(
        """() => {
          const board = document.getElementById("board");
          board.hidden = false;
          board.dispatchEvent(new CustomEvent("spar:board-open", {bubbles: true}));
        }"""
    )
    expect(page.locator("#board .excalidraw canvas.interactive")).to_be_visible()
    expect(page.locator("#board .excalidraw .LoadingMessage")).to_have_count(0)


def draw_rectangle(page: Page, x: int, y: int, width: int = 160, height: int = 80) -> None:
    """Pick the rectangle tool with its key, then drag it out with the mouse."""
    canvas = page.locator("#board canvas.interactive")
    box = canvas.bounding_box()
    assert box is not None
    # Excalidraw takes keys only while it has focus (handleKeyboardGlobally is off).
    page.locator("#board .excalidraw").focus()
    page.keyboard.press("r")
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.down()
    page.mouse.move(box["x"] + x + width / 2, box["y"] + y + height / 2, steps=4)
    page.mouse.move(box["x"] + x + width, box["y"] + y + height, steps=4)
    page.mouse.up()


def label_shape(page: Page, x: int, y: int, words: str) -> None:
    box = page.locator("#board canvas.interactive").bounding_box()
    assert box is not None
    page.keyboard.press("Escape")
    page.mouse.dblclick(box["x"] + x, box["y"] + y)
    editor = page.locator("#board textarea.excalidraw-wysiwyg")
    expect(editor).to_be_visible()
    editor.press_sequentially(words)
    page.keyboard.press("Escape")


def write_text(page: Page, x: int, y: int, words: str) -> None:
    box = page.locator("#board canvas.interactive").bounding_box()
    assert box is not None
    page.locator("#board .excalidraw").focus()
    page.keyboard.press("t")
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.locator("#board textarea.excalidraw-wysiwyg").press_sequentially(words)
    page.keyboard.press("Escape")


def scene_types(page: Page) -> list[str]:
    return page.evaluate(
        "document.getElementById('board').sparBoard.elements().map((e) => e.type).sort()"
    )


def live_types(state: board_harness.HarnessState) -> list[str]:
    return sorted(e["type"] for e in state.board.elements.values() if not e.get("isDeleted"))


def test_board_loads_on_opening_and_draws_under_the_csp(watched_page, harness) -> None:
    watched = watched_page(permissions=["clipboard-read", "clipboard-write"])
    page = watched.page

    page.goto("/board-harness/?hidden=1")
    page.wait_for_load_state("networkidle")
    # The loader is all the page has fetched: nothing of the bundle before the board is opened.
    assert watched.bundle_requests() == []

    open_board(page)
    draw_rectangle(page, 320, 120)
    wait_until(page, lambda: live_types(harness) == ["rectangle"], "the rectangle on the server")
    label_shape(page, 400, 160, "Feature store")
    # CJK text: its font (Xiaolai) is left out of the bundle, so nothing may be requested for it.
    write_text(page, 700, 250, "特征存储 Kafka")
    wait_until(
        page,
        lambda: labels(harness.board.elements) == ["Feature store", "特征存储 Kafka"],
        "both labels on the server",
    )
    # The eraser's and the laser's cursors were data: images before the build patched them.
    for tool in ("e", "k"):
        page.keyboard.press(tool)
        page.mouse.move(500, 300, steps=3)
    page.keyboard.press("v")
    # Copying text as SVG embeds its font: whole, since subsetting (WebAssembly) is stubbed.
    box = page.locator("#board canvas.interactive").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 760, box["y"] + 260)
    page.mouse.click(box["x"] + 760, box["y"] + 260, button="right")
    page.get_by_text("Copy to clipboard as SVG").click()
    wait_in_page(page, "() => navigator.clipboard.readText().then((t) => t.startsWith('<svg'))")
    svg = page.evaluate("navigator.clipboard.readText()")

    assert live_types(harness) == ["rectangle", "text", "text"]
    assert scene_types(page) == ["rectangle", "text", "text"]
    assert "data:font/woff2;base64," in svg
    assert watched.csp_violations() == []
    origin = page.url.split("/board-harness/")[0]
    assert [url for url in watched.requests if not url.startswith(origin + "/")] == []
    assert [(status, url) for status, url in watched.responses if status >= 400] == []
    fonts = sorted(
        {
            urlsplit(url).path.removeprefix(FONTS_PATH).split("/")[0]
            for status, url in watched.responses
            if urlsplit(url).path.startswith(FONTS_PATH) and status == 200
        }
    )
    # The UI font from the stylesheet and the hand-drawn font of the labels, from our folder.
    assert fonts == ["Assistant", "Excalifont"]


def test_board_loads_when_it_becomes_visible(watched_page, harness) -> None:
    watched = watched_page()
    page = watched.page
    page.goto("/board-harness/?hidden=1")
    page.wait_for_load_state("networkidle")
    assert watched.bundle_requests() == []

    page.evaluate("document.getElementById('board').hidden = false")

    expect(page.locator("#board .excalidraw canvas.interactive")).to_be_visible()
    assert watched.csp_violations() == []


def test_board_merges_what_the_other_screen_drew(watched_page, harness) -> None:
    harness.other_screen_draws([_shape("theirs-1", "ellipse", index="a0")])
    page = watched_page().page
    page.goto("/board-harness/")
    expect(page.locator("#board .excalidraw canvas.interactive")).to_be_visible()
    wait_in_page(page, "() => document.getElementById('board').sparBoard?.elements().length === 1")

    version = harness.other_screen_draws([_shape("theirs-2", "diamond", index="a1")])
    page.evaluate(
        """(version) => document.getElementById("board").dispatchEvent(
             new CustomEvent("spar:board-changed", {detail: {version}}))""",
        version,
    )

    wait_in_page(page, "() => document.getElementById('board').sparBoard.elements().length === 2")
    assert scene_types(page) == ["diamond", "ellipse"]
    # Both screens drawing: this screen's rectangle joins the other two on the server.
    draw_rectangle(page, 600, 200)
    wait_until(
        page,
        lambda: live_types(harness) == ["diamond", "ellipse", "rectangle"],
        "all three shapes",
    )
    assert harness.posts[0].base_version == version


def test_board_keeps_unsent_changes_through_a_refusal_and_a_failure(watched_page, harness) -> None:
    watched = watched_page(
        r"status of 400 \(Bad Request\)", r"status of 503 \(Service Unavailable\)"
    )
    page = watched.page
    harness.canned = [
        (400, {"error": "A link on the board must be a web address."}),
        (503, {"error": "busy"}),
    ]
    page.goto("/board-harness/")
    expect(page.locator("#board .excalidraw canvas.interactive")).to_be_visible()

    draw_rectangle(page, 320, 120)
    status = page.locator("#board [role=status]")
    expect(status).to_have_text(
        "Not saved: A link on the board must be a web address. "
        "Your drawing is kept here; change it to try again."
    )
    assert live_types(harness) == []

    # The next change sends both rectangles; the server fails once, the client tries again.
    draw_rectangle(page, 600, 220)
    wait_until(page, lambda: live_types(harness) == ["rectangle", "rectangle"], "both rectangles")
    expect(status).to_have_text("")
    assert watched.csp_violations() == []


def test_read_only_board_shows_the_drawing_and_sends_nothing(watched_page, harness) -> None:
    harness.other_screen_draws([_shape("final", "rectangle", index="a0")])
    harness.read_only = True
    page = watched_page().page
    page.goto("/board-harness/?read_only=1")
    expect(page.locator("#board .excalidraw canvas.interactive")).to_be_visible()
    wait_in_page(page, "() => document.getElementById('board').sparBoard?.elements().length === 1")

    expect(page.locator("#board [data-testid='toolbar-rectangle']")).to_have_count(0)
    draw_rectangle(page, 600, 200)
    page.wait_for_timeout(600)

    assert harness.posts == []
    assert scene_types(page) == ["rectangle"]


def test_board_shows_the_drawing_on_a_phone(watched_page, harness) -> None:
    harness.other_screen_draws([_shape("box", "rectangle", index="a0")])
    watched = watched_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = watched.page

    page.goto("/board-harness/")

    expect(page.locator("#board .excalidraw--mobile canvas.interactive")).to_be_visible()
    wait_in_page(page, "() => document.getElementById('board').sparBoard?.elements().length === 1")
    assert watched.csp_violations() == []


def test_board_has_no_serious_accessibility_violations(
    watched_page, harness, axe_script: Path
) -> None:
    # axe is injected as a script file, which the CSP forbids: this context bypasses it.
    page = watched_page(bypass_csp=True).page
    harness.other_screen_draws([_shape("box", "rectangle", index="a0")])
    page.goto("/board-harness/")
    expect(page.locator("#board .excalidraw canvas.interactive")).to_be_visible()
    expect(page.locator("#board .reset-zoom-button")).to_be_visible()
    page.add_script_tag(path=str(axe_script))

    results = page.evaluate(
        """axe.run(document, {
             resultTypes: ["violations"],
             rules: {"label-content-name-mismatch": {enabled: true}},
           })"""
    )

    found = [
        f"{v['id']} ({v['impact']}): " + ", ".join(" ".join(n["target"]) for n in v["nodes"])
        for v in results["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert found == []
    trigger = page.locator("#board .main-menu-trigger")
    expect(trigger).to_have_accessible_name("Board menu")
    expect(page.locator("#board .reset-zoom-button")).to_have_accessible_name("100%")


def _shape(element_id: str, kind: str, *, index: str) -> dict:
    return {
        "id": element_id,
        "type": kind,
        "x": 40,
        "y": 40,
        "width": 100,
        "height": 60,
        "angle": 0,
        "strokeColor": "#1e1e1e",
        "backgroundColor": "transparent",
        "fillStyle": "solid",
        "strokeWidth": 2,
        "strokeStyle": "solid",
        "roughness": 1,
        "opacity": 100,
        "groupIds": [],
        "frameId": None,
        "index": index,
        "roundness": None,
        "seed": 1,
        "version": 1,
        "versionNonce": 1,
        "isDeleted": False,
        "boundElements": None,
        "updated": 1,
        "link": None,
        "locked": False,
    }
