"""After a two-person session: the scorecard for both, the candidate's self-assessment and its
comparison, the progress page, and the swap that opens the next room."""

import re

from django.contrib.auth.models import User
from playwright.sync_api import expect

from interviews import services
from interviews.models import Mark, MarkSource, Session, SessionState
from scorecards.report import dom_id
from tests.browser.test_room import (  # noqa: F401 -- fixtures are found by name
    CASE_TITLE,
    _log_in,
    _running_session,
    cai,
    casebank,
    ines,
)


def test_scorecard_self_assessment_progress_and_swap(new_page, ines: User, cai: User):  # noqa: F811 -- pytest fixtures imported above
    session = _running_session(ines, cai)
    services.set_mark(
        session=session, item_key="business-objective", mark="covered", after_hint=False, by=ines
    )
    services.finish_session(session=session)

    guest = new_page()
    guest.goto(f"/accounts/login/?next=/sessions/{session.pk}/scorecard/")
    _log_in(guest, "cai")
    expect(guest.get_by_role("heading", level=1)).to_contain_text("mark yourself")
    # No score is on the page before the candidate has assessed themselves.
    expect(guest.get_by_role("heading", name="Result")).to_have_count(0)

    item = guest.locator(f"#{dom_id('business-objective')}")
    item.get_by_label("Partial").check()
    expect(guest.locator(f"#{dom_id('business-objective')}-status")).to_have_text("Saved.")
    mark = Mark.objects.get(session=session, source=MarkSource.SELF, item_key="business-objective")
    assert mark.mark == "partial"

    guest.get_by_role("button", name="Submit self-assessment").click()
    expect(guest.get_by_role("heading", name="Result")).to_be_visible()
    expect(guest.get_by_text(re.compile(r"Agreement: \d"))).to_be_visible()

    host = new_page()
    host.goto(f"/accounts/login/?next=/sessions/{session.pk}/scorecard/")
    _log_in(host, "ines")
    expect(host.get_by_role("heading", name="Result")).to_be_visible()
    expect(host.get_by_role("heading", name="Self-assessment")).to_be_visible()

    guest.goto("/progress/")
    history = guest.get_by_role("table", name=re.compile("finished sessions as candidate"))
    expect(history).to_contain_text(CASE_TITLE)

    guest.goto(f"/sessions/{session.pk}/scorecard/")
    guest.get_by_role("button", name="Swap roles for the next round").click()
    expect(guest).to_have_url(re.compile(r"/sessions/\d+/$"))
    swapped = Session.objects.exclude(pk=session.pk).get()
    assert (swapped.interviewer, swapped.candidate, swapped.state) == (
        cai,
        ines,
        SessionState.READY,
    )
    assert guest.url.endswith(f"/sessions/{swapped.pk}/")
    expect(guest.locator(".role-chip")).to_have_text("Interviewer")
