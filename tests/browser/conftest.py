"""Real-Chromium tests. Debian's chromium is driven by Playwright; nothing is downloaded.

Off CI a missing browser skips these tests with instructions; on CI (CI set) it is an error.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

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
    "Browser tests need Debian's Chromium: `sudo apt-get install -y chromium` "
    "(or set CHROMIUM=/path/to/chromium)."
)


def _chromium_path() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    path = _chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but Chromium is missing. {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageProblems:
    """Console errors, CSP violations and uncaught exceptions seen by one page."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def watch(self, page: Page) -> None:
        page.on(
            "console",
            lambda msg: (
                self.messages.append(f"console {msg.type}: {msg.text}")
                if msg.type in {"error", "warning"}
                else None
            ),
        )
        page.on("pageerror", lambda exc: self.messages.append(f"page error: {exc}"))


@pytest.fixture
def new_page(chromium, live_server):
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
    for context in contexts:
        context.close()
    assert problems.messages == [], "\n".join(problems.messages)


@pytest.fixture
def page(new_page):
    return new_page()
