"""A study group in real Chromium: two members in different time zones. Ines (Berlin) offers a
slot, Cai (New York) claims it; both see the session with the time in their own zone and the
call link, and the calendar files parse, with the alarm, the UID and, for the candidate, no case.

Neither member has a zone to begin with: each browser's zone is guessed by static/js/timezone.js
on the first page that shows times.
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import Page, expect

from accounts import profile_services
from accounts.profile import viewer_zone
from groups import services
from groups.models import SlotRole, StudyGroup
from interviews.models import ScheduleStatus, Session
from tests.browser.pages import load_shipped_casebank, log_in
from tests.browser.test_accessibility import violations_in_both_schemes
from tests.browser.test_html_validity import _check

CALL = "https://meet.example.org/spar-tuesday-mock"
BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


@pytest.fixture
def group(transactional_db: None, django_user_model: type[User]) -> StudyGroup:
    load_shipped_casebank()
    ines = django_user_model.objects.create_user("ines", email="ines@example.org")
    cai = django_user_model.objects.create_user("cai", email="cai@example.org")
    group = services.create_group(owner=ines, name="Tuesday mocks")
    services.join_group(token=group.invite_token, user=cai)
    return group


def _member_page(new_page, live_server, username: str, zone: str) -> Page:
    page = new_page(timezone_id=zone)
    log_in(page.context, User.objects.get(username=username), live_server.url)
    return page


def _moment(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({zone.key})"


def _calendar(page: Page) -> tuple[bytes, object]:
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to calendar (.ics)").click()
    body = Path(download.value.path()).read_bytes()
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    return body, event


def test_two_members_in_different_zones_offer_and_claim_a_slot(new_page, live_server, group):
    start = (timezone.now() + timedelta(days=3)).astimezone(BERLIN)
    start = start.replace(hour=19, minute=0, second=0, microsecond=0)

    # Ines, in Berlin, opens her group: the browser tells Spar her zone once.
    host = _member_page(new_page, live_server, "ines", "Europe/Berlin")
    host.goto(f"/groups/{group.pk}/")
    expect(host.get_by_text("Times below are in Europe/Berlin")).to_be_visible()
    assert viewer_zone(group.owner).name == "Europe/Berlin"

    host.get_by_label("Start").fill(start.strftime("%Y-%m-%dT%H:%M"))
    host.get_by_label("I’ll interview").check()
    host.get_by_label("Call link").fill(CALL)
    host.get_by_role("button", name="Offer this slot").click()
    expect(host.get_by_role("status")).to_contain_text("Your slot is on the board")
    expect(host.locator(".slot-table")).to_contain_text(_moment(start, BERLIN))

    # Cai, in New York, sees the same slot at his own time, and claims it.
    guest = _member_page(new_page, live_server, "cai", "America/New_York")
    guest.goto(f"/groups/{group.pk}/")
    expect(guest.get_by_text("Times below are in America/New_York")).to_be_visible()
    expect(guest.locator(".slot-table")).to_contain_text(_moment(start, NEW_YORK))
    guest.get_by_role("link", name="Claim").click()
    guest.get_by_role("button", name="Claim the slot").click()
    expect(guest).to_have_url(re.compile(r"/sessions/\d+/$"))
    session = Session.objects.select_related("case").get()
    assert (session.interviewer.username, session.candidate.username) == ("ines", "cai")
    assert session.schedule_status == ScheduleStatus.AGREED
    assert session.scheduled_at == start.astimezone(UTC)

    # The candidate's room: his time, the call link as an external link, and no case in the
    # calendar file.
    block = guest.locator("#schedule")
    expect(block.locator("#schedule-start")).to_contain_text(_moment(start, NEW_YORK))
    expect(block.locator("#schedule-start")).to_contain_text("agreed")
    call = block.get_by_role("link", name="Join the call")
    expect(call).to_have_attribute("href", CALL)
    expect(call).to_have_attribute("rel", "noopener noreferrer")
    assert guest.locator("iframe").count() == 0
    body, event = _calendar(guest)
    assert session.case.title not in body.decode()
    assert str(event["uid"]).startswith(f"spar-session-{session.pk}@")
    assert str(event["location"]) == CALL
    assert event.decoded("dtstart") == start.astimezone(UTC)
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("trigger") == -timedelta(minutes=15)

    # The interviewer finds the session on the board and sees her time; her file names the case.
    host.goto(f"/groups/{group.pk}/")
    host.get_by_role("link", name="Open your session").click()
    expect(host.locator("#schedule-start")).to_contain_text(_moment(start, BERLIN))
    expect(host.locator("#schedule").get_by_role("link", name="Join the call")).to_have_attribute(
        "href", CALL
    )
    _, host_event = _calendar(host)
    assert str(host_event["uid"]) == str(event["uid"])
    assert session.case.title in str(host_event["summary"])
    assert host_event.walk("VALARM")


def _hosting_pages(group: StudyGroup) -> list[tuple[str, str]]:
    """(member, path) for every page this feature adds or changes, with content on each."""
    ines = group.owner
    slot = services.offer_slot(
        group=group,
        by=ines,
        starts_at=timezone.now() + timedelta(days=2),
        length_minutes=45,
        role=SlotRole.CANDIDATE,
    )
    claimed = services.offer_slot(
        group=group,
        by=ines,
        starts_at=timezone.now() + timedelta(days=1),
        length_minutes=45,
        role=SlotRole.INTERVIEWER,
        call_url=CALL,
    )
    cai = User.objects.get(username="cai")
    session = services.claim_slot(group=group, slot_id=claimed.pk, by=cai)
    services.set_sharing(membership=group.memberships.get(user=cai), shares_progress=True)
    return [
        ("ines", "/groups/"),
        ("ines", f"/groups/{group.pk}/"),
        ("cai", f"/groups/{group.pk}/progress/"),
        ("cai", f"/groups/{group.pk}/slots/{slot.pk}/claim/"),
        ("cai", f"/groups/join/{group.invite_token}/"),
        ("ines", "/profile/"),
        ("ines", "/sessions/new/"),
        ("cai", session.get_absolute_url()),
        ("ines", session.get_absolute_url()),
    ]


def test_hosting_pages_are_accessible_and_valid_html(
    new_page, live_server, group, axe_script, vnu_command
):
    pages = _hosting_pages(group)
    # Members with a zone: no guess, so no reload while axe runs.
    for who in ("ines", "cai"):
        profile_services.set_time_zone(user=User.objects.get(username=who), time_zone="Asia/Tokyo")
    newcomer = User.objects.create_user("newcomer")  # not a member, no zone yet
    problems, bodies = [], {}
    for index, (who, path) in enumerate(pages):
        user = newcomer if path.startswith("/groups/join/") else User.objects.get(username=who)
        page = new_page(bypass_csp=True)
        log_in(page.context, user, live_server.url)
        response = page.goto(path)
        assert (response.status, page.url) == (200, live_server.url + path), path
        bodies[f"page-{index}"] = response.text()
        found = violations_in_both_schemes(page, axe_script, admin=False)
        problems += [f"{path}: {line}" for line in found]
        page.context.close()
    assert problems == [], "\n".join(problems)
    # The zone note and the guess form, as a member without a zone gets them (no script run).
    context = new_page().context
    log_in(context, newcomer, live_server.url)
    guessing = context.request.get("/sessions/new/").text()
    assert "data-zone-guess" in guessing
    bodies["page-guess"] = guessing
    errors = {name: lines for name, lines in _check(vnu_command, bodies, set()).items() if lines}
    assert errors == {}, errors
