"""Every page of tests/browser/pages.py, loaded once: it fits a phone's width, and axe-core finds
nothing serious in the light and the dark colour scheme at a laptop's width.

axe is injected as a script file, which the CSP forbids; only these contexts bypass it.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.pages import LAPTOP, PHONE, PageSpec, World, log_in, page_params

BLOCKING = {"serious", "critical"}

# Django's own admin markup and scripts, not ours: on admin pages only, these exact rule and
# node pairs are left out. Anything else on an admin page, and everything elsewhere, still fails.
DJANGO_ADMIN_VIOLATIONS = [
    # filter_horizontal's SelectFilter2.js puts aria-label on a role-less <span> (search icon).
    ("aria-prohibited-attr", re.compile(r"> \.help-tooltip\.search-label-icon$")),
    # autocomplete_fields' select2 widget names its combobox after an empty selection.
    ("aria-input-field-name", re.compile(r"^(\.select2-selection|#select2-id_author-container)$")),
]


def _is_djangos(rule: str, target: str) -> bool:
    return any(
        rule == known and pattern.search(target) for known, pattern in DJANGO_ADMIN_VIOLATIONS
    )


# Reading a style applies the new scheme; the transitions it starts are then listed.
SETTLED_COLOURS = """() => {
    getComputedStyle(document.body).color;
    return document.getAnimations().every((animation) => !(animation instanceof CSSTransition));
}"""


def violations_in_both_schemes(page: Page, axe_script: Path, *, admin: bool) -> list[str]:
    """axe's serious and critical violations on the loaded page in the light and then the dark
    colour scheme, each line naming its scheme. Django's admin eases link colours in over
    0.15 s, so axe waits until no colour is still on its way."""
    problems = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert page.evaluate(f"matchMedia('(prefers-color-scheme: {scheme})').matches")
        page.wait_for_function(SETTLED_COLOURS)
        problems += [f"[{scheme}] {line}" for line in _violations(page, axe_script, admin=admin)]
    return problems


def _violations(page: Page, axe_script: Path, *, admin: bool) -> list[str]:
    """axe's serious and critical violations on the page, one line per rule with its nodes."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_script))
    # resultTypes skips collecting the (long) list of passes.
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for violation in results["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        if admin:
            targets = [t for t in targets if not _is_djangos(violation["id"], t)]
        if not targets:
            continue
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']}\n"
            + "\n".join(f"    {target}" for target in targets)
        )
    return lines


# The smallest chart label as drawn (font size times the SVG's scale); Infinity with no chart.
SMALLEST_CHART_LABEL = """() => Math.min(Infinity, ...Array.from(
    document.querySelectorAll("svg text"),
    (t) => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
))"""


@pytest.mark.parametrize("spec", page_params())
def test_page_fits_a_phone_and_has_no_serious_accessibility_violations(
    spec: PageSpec, world: World, new_page, live_server, axe_script: Path
) -> None:
    path = spec.path(world)
    page = new_page(bypass_csp=True, viewport=PHONE)
    log_in(page.context, spec.user(world), live_server.url)
    response = page.goto(path)
    # Not redirected (to the login page, say): the page itself is what gets checked.
    assert (response.status, page.url) == (200, live_server.url + path), spec.name
    page.wait_for_load_state()  # the deferred scripts have run

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{spec.name} is {width} px wide on a phone"
    # Chart labels stay readable: 11 px or more as drawn.
    smallest = page.evaluate(SMALLEST_CHART_LABEL)
    assert smallest >= 11, f"{spec.name}: a chart label is {smallest:.1f} px"

    page.set_viewport_size(LAPTOP)
    problems = violations_in_both_schemes(page, axe_script, admin=spec.is_admin)
    assert problems == [], f"{spec.name} ({path}):\n" + "\n".join(problems)
