"""The W3C Nu HTML checker (vnu) on the HTML the server sends for every page of pages.py.

The JVM takes seconds to start, so the first test fetches every page and runs the checker once
over all of them; each page's test then reports that page's errors.
"""

import json
import re
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

import pytest
from playwright.sync_api import Browser

from tests.browser.pages import PageSpec, World, existing_pages, log_in, page_params

# htmx is driven by hx-* attributes, which HTML does not define (its valid spelling is data-hx-*).
# Our templates and their tests use hx-* throughout, so exactly this message is left out; any other
# error about the same elements still fails.
HTMX_ATTRIBUTE = re.compile(
    r"^Attribute “hx-[a-z-]+” not allowed on element “[a-z]+” at this point\.$"
)

# Errors in Django's own admin templates and widgets, not ours: on admin pages only, these exact
# messages are left out. Anything else on an admin page, and everything elsewhere, still fails.
DJANGO_ADMIN_ERRORS = {
    # BoundField.legend_tag() reuses label_tag(), which adds for="…" (filter_horizontal fields).
    "Attribute “for” not allowed on element “legend” at this point.",
    # AutocompleteSelect (autocomplete_fields) renders an empty <option> as select2's placeholder.
    "Element “option” without attribute “label” must not be empty.",
}


def _fetch(chromium: Browser, base_url: str, world: World, pages: list[PageSpec]) -> dict[str, str]:
    """Each page's body exactly as served (not the DOM after scripts ran), by page name."""
    context = chromium.new_context(base_url=base_url)
    bodies = {}
    try:
        for spec in pages:
            log_in(context, spec.user(world), base_url)
            response = context.request.get(spec.path(world), max_redirects=0)
            assert response.status == 200, f"{spec.name}: {spec.path(world)} gave {response.status}"
            bodies[spec.name] = response.text()
    finally:
        context.close()
    return bodies


def _check(
    vnu_command: list[str], bodies: dict[str, str], admin_pages: set[str]
) -> dict[str, list[str]]:
    with tempfile.TemporaryDirectory(prefix="spar-vnu-") as folder:
        files = []
        for name, body in bodies.items():
            path = Path(folder) / f"{name}.html"
            path.write_text(body, encoding="utf-8")
            files.append(str(path))
        result = subprocess.run(
            [*vnu_command, "--format", "json", "--errors-only", *sorted(files)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    # vnu exits 1 when it found errors and writes its JSON report to stderr.
    try:
        report = json.loads(result.stderr)
    except json.JSONDecodeError:
        pytest.fail(f"vnu gave no JSON report (exit {result.returncode}):\n{result.stderr}")
    errors: dict[str, list[str]] = {name: [] for name in bodies}
    for message in report["messages"]:
        # Each message names its file as a file: URL; the file is named after its page.
        name = PurePosixPath(message.get("url", "")).stem
        if name not in errors:  # not about one of our files (an I/O error, say): fail loudly
            pytest.fail(f"vnu: {message}")
        if HTMX_ATTRIBUTE.match(message["message"]):
            continue
        if name in admin_pages and message["message"] in DJANGO_ADMIN_ERRORS:
            continue
        errors[name].append(
            f"line {message.get('lastLine', '?')}: {message['message']}\n"
            f"    {message.get('extract', '').strip()}"
        )
    return errors


@pytest.fixture(scope="module")
def _vnu_results() -> dict[str, list[str]]:
    return {}


@pytest.fixture
def vnu_errors(request, _vnu_results, vnu_command, chromium, live_server) -> dict[str, list[str]]:
    """Errors by page name, from one run of the checker over every page that exists."""
    if not _vnu_results:
        # Only the first test builds the data and fetches the pages; the rest read the results.
        world = request.getfixturevalue("world")
        pages = existing_pages()
        bodies = _fetch(chromium, live_server.url, world, pages)
        admin_pages = {spec.name for spec in pages if spec.is_admin}
        _vnu_results.update(_check(vnu_command, bodies, admin_pages))
    return _vnu_results


@pytest.mark.parametrize("spec", page_params())
def test_page_is_valid_html(spec: PageSpec, vnu_errors: dict[str, list[str]]) -> None:
    errors = vnu_errors[spec.name]
    assert errors == [], f"{spec.name}: {len(errors)} vnu errors\n" + "\n".join(errors)
