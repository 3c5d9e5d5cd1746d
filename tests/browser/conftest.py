"""Real-Chromium tests. Debian's chromium is driven by Playwright; nothing is downloaded.

Off CI a missing tool (the browser; for the accessibility checks also axe-core, the Nu HTML
checker and Java) skips these tests with instructions; on CI (CI set) it is an error.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import BrowserContext, ConsoleMessage, Page

from tests.browser.pages import World, build_world

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse the
# ORM calls that tests make between browser steps.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
INSTALL_HINT = (
    "Browser tests need Debian's Chromium headless shell: `sudo apt-get install -y "
    "chromium-headless-shell` (or chromium; or set CHROMIUM=/path/to/chromium)."
)
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
NODE_HINT = (
    "Install Node.js and npm (`sudo apt-get install -y nodejs npm`), then run `make test`, "
    "which runs `npm ci` for axe-core and the Nu HTML checker."
)


def _chromium_path() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    # The headless shell is Chromium's engine without the browser's window machinery, what
    # Playwright itself runs for headless tests: the browser folder took 90 s and 144 core-seconds
    # with it against 141 s and 258 core-seconds with the full browser, one run after the other.
    for candidate in ("chromium-headless-shell", "chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


def missing_tool(what: str, hint: str) -> NoReturn:
    """Skip off CI, with instructions; on CI a missing tool is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {what} is missing. {hint}")
    pytest.skip(f"{what} is missing. {hint}")


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    path = _chromium_path()
    if path is None:
        missing_tool("Chromium", INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# htmx reports every aborted request with console.error. The room aborts a poll in flight when
# a person clicks (its hx-sync), and closing a page aborts what it still had on the way: neither
# is a problem. The "afterRequest" report also accompanies a failed request, whose own report
# ("sendError", "timeout", ...) is still counted.
ABORTED_REQUEST = ("htmx:sendAbort,", "htmx:afterRequest,")


class PageProblems:
    """Console errors, CSP violations and uncaught exceptions seen by one page."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", self.console)
        page.on("pageerror", lambda exc: self.messages.append(f"page error: {exc}"))

    def console(self, msg: ConsoleMessage) -> None:
        if msg.type not in {"error", "warning"}:
            return
        if msg.type == "error" and msg.text.startswith(ABORTED_REQUEST):
            return
        self.messages.append(f"console {msg.type}: {msg.text}")


def close_before_flush(contexts: list[BrowserContext], live_server: object) -> None:
    """Close a test's browsers, then wait for what the server still runs for them: on the ASGI
    server a closing stream records its owner's absence, and that write must not meet the flush
    of the test database (on PostgreSQL the two deadlock). Fixtures that open pages request
    `transactional_db`, so this runs before the flush."""
    for context in contexts:
        context.close()
    wait = getattr(live_server, "wait_until_idle", None)
    if wait is not None:
        wait()


@pytest.fixture
def new_page(chromium, live_server, transactional_db):
    """Factory for pages in fresh contexts (one context per person); fails on any problem."""
    contexts = []
    problems = PageProblems()

    def make(**context_options):
        context = chromium.new_context(base_url=live_server.url, **context_options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield make
    close_before_flush(contexts, live_server)
    assert problems.messages == [], "\n".join(problems.messages)


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's browser bundle, installed from the npm registry by `make test`."""
    path = NODE_MODULES / "axe-core" / "axe.min.js"
    if not path.is_file():
        missing_tool("axe-core (node_modules/axe-core)", NODE_HINT)
    return path


@pytest.fixture(scope="session")
def vnu_command() -> list[str]:
    """The Nu HTML checker (the vnu-jar npm package) run by the machine's Java."""
    jar = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
    if not jar.is_file():
        missing_tool("the Nu HTML checker (node_modules/vnu-jar)", NODE_HINT)
    java = shutil.which("java")
    if java is None:
        missing_tool(
            "Java", "Install a Java runtime: `sudo apt-get install -y default-jre-headless`."
        )
    return [java, "-jar", str(jar)]


@pytest.fixture
def world(transactional_db: None, live_server: object, django_user_model: type[User]) -> World:
    """The shipped case bank, four people and two sessions (see tests/browser/pages.py)."""
    # transactional_db: the live server's thread sees only committed data.
    return build_world(django_user_model)
