"""The hosting views: creating with a time and a call link, the room's time-and-call block,
proposing, accepting, no-shows and the calendar download."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts import profile_services
from interviews import services
from interviews.models import ScheduleStatus, Session, SessionMode

pytestmark = pytest.mark.django_db

CALL = "https://meet.example.org/spar-abc"


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _future(days: int = 3, hour: int = 17) -> datetime:
    """A whole hour some days ahead, in UTC."""
    day = (timezone.now() + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _scheduled(interviewer, candidate, case, rubric_version, *, agreed=True) -> Session:
    session = services.host_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.PEER,
        scheduled_at=_future(),
        call_url=CALL,
    )
    services.join_session(token=session.invite_token, user=candidate)
    if agreed:
        session = services.accept_time(session=session, by=candidate)
    return session


def _create(client, case, rubric_version, **extra):
    data = {
        "case": case.pk,
        "rubric_version": rubric_version.pk,
        "length_minutes": 45,
        "mode": SessionMode.PEER,
        **extra,
    }
    return client.post(reverse("interviews:create"), data)


def test_create_reads_the_start_in_the_hosts_zone(client, interviewer, case, rubric_version):
    profile_services.set_time_zone(user=interviewer, time_zone="Asia/Tokyo")
    client.force_login(interviewer)
    local = _future().astimezone(timezone.get_fixed_timezone(9 * 60))
    response = _create(
        client,
        case,
        rubric_version,
        scheduled_at=local.strftime("%Y-%m-%dT%H:%M"),
        call_url=CALL,
    )
    session = Session.objects.get()
    assert response.status_code == 302
    assert (session.scheduled_at, session.call_url) == (_future(), CALL)
    assert session.schedule_status == ScheduleStatus.PROPOSED


def test_create_offers_the_default_call_room(settings, client, interviewer, rubric_version):
    settings.CALL_LINK_BASE_URL = "https://meet.example.org"
    client.force_login(interviewer)
    html = client.get(reverse("interviews:create")).content.decode()
    assert 'value="https://meet.example.org/spar-' in html
    assert "When and where (optional)" in html


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"scheduled_at": "2020-01-01T10:00"}, "That time has already passed"),
        ({"scheduled_at": "next tuesday"}, "Enter a valid date/time."),
        ({"call_url": "http://meet.example.org/x"}, "Enter a call link starting with https://"),
        ({"call_url": "https://bob:pw@meet.example.org/x"}, "Leave the user name and password"),
    ],
)
def test_create_refuses_bad_times_and_links_and_saves_nothing(
    client, interviewer, case, rubric_version, extra, message
):
    client.force_login(interviewer)
    response = _create(client, case, rubric_version, **extra)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Session.objects.count() == 0


def test_create_refuses_a_time_that_does_not_exist_in_the_zone(
    client, interviewer, case, rubric_version
):
    profile_services.set_time_zone(user=interviewer, time_zone="Europe/Berlin")
    client.force_login(interviewer)
    # Clocks in Berlin jump from 02:00 to 03:00 on the last Sunday of March.
    year = timezone.now().year + 1
    last_sunday = max(
        datetime(year, 3, day) for day in range(25, 32) if datetime(year, 3, day).weekday() == 6
    )
    response = _create(client, case, rubric_version, scheduled_at=f"{last_sunday:%Y-%m-%d}T02:30")
    assert response.status_code == 400
    assert "Europe/Berlin" in response.content.decode()
    assert Session.objects.count() == 0


def test_room_shows_time_in_each_viewers_zone_and_the_call_link(
    client, interviewer, candidate, case, rubric_version
):
    profile_services.set_time_zone(user=interviewer, time_zone="Europe/Berlin")
    profile_services.set_time_zone(user=candidate, time_zone="America/Los_Angeles")
    session = _scheduled(interviewer, candidate, case, rubric_version)
    start = _future()
    for user, zone in ((interviewer, "Europe/Berlin"), (candidate, "America/Los_Angeles")):
        client.force_login(user)
        html = client.get(session.get_absolute_url()).content.decode()
        local = start.astimezone(timezone.zoneinfo.ZoneInfo(zone))
        assert f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({zone})" in html
        assert (
            f'<a class="call-link" href="{CALL}" target="_blank" rel="noopener noreferrer">' in html
        )
        assert "<iframe" not in html
        assert reverse("interviews:calendar", args=[session.pk]) in html


def test_room_offers_accept_to_the_other_person_only(
    client, interviewer, candidate, case, rubric_version
):
    session = _scheduled(interviewer, candidate, case, rubric_version, agreed=False)
    client.force_login(interviewer)
    html = client.get(session.get_absolute_url()).content.decode()
    assert 'id="accept-time"' not in html
    assert f"waiting for {candidate.username} to accept" in html
    client.force_login(candidate)
    html = client.get(session.get_absolute_url()).content.decode()
    assert 'id="accept-time"' in html
    assert f"proposed by {interviewer.username}" in html


def test_room_says_when_the_viewer_or_partner_has_no_email(
    client, interviewer, candidate, case, rubric_version
):
    candidate.email = ""
    candidate.save()
    session = _scheduled(interviewer, candidate, case, rubric_version)
    client.force_login(candidate)
    assert "You have no e-mail address" in client.get(session.get_absolute_url()).content.decode()
    client.force_login(interviewer)
    html = client.get(session.get_absolute_url()).content.decode()
    assert f"{candidate.username} has no e-mail address and will get no reminder" in html


def test_waiting_room_gives_the_host_a_message_with_time_and_call(
    client, interviewer, case, rubric_version
):
    profile_services.set_time_zone(user=interviewer, time_zone="UTC")
    session = services.host_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=60,
        mode=SessionMode.PEER,
        scheduled_at=_future(),
        call_url=CALL,
    )
    client.force_login(interviewer)
    html = client.get(session.get_absolute_url()).content.decode()
    join = reverse("interviews:join", args=[session.invite_token])
    assert "Join me for a 60-minute mock interview on Spar" in html
    assert f"Accept the invite: http://testserver{join}" in html
    assert f"Call: {CALL}" in html


def test_propose_accept_and_call_link_views(client, interviewer, candidate, case, rubric_version):
    profile_services.set_time_zone(user=candidate, time_zone="America/New_York")
    session = _scheduled(interviewer, candidate, case, rubric_version)
    client.force_login(candidate)
    new_local = _future(days=5).astimezone(timezone.zoneinfo.ZoneInfo("America/New_York"))
    response = client.post(
        reverse("interviews:propose_time", args=[session.pk]),
        {"starts_at": new_local.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    assert _messages(response) == ["Your proposed time is saved; your partner can accept it."]
    session.refresh_from_db()
    assert (session.scheduled_at, session.proposed_by_id) == (_future(days=5), candidate.pk)
    client.force_login(interviewer)
    response = client.post(reverse("interviews:accept_time", args=[session.pk]))
    # The message cookie still holds the candidate's message: this client is one browser.
    assert _messages(response)[-1] == "You accepted the time. See you then!"
    response = client.post(
        reverse("interviews:call_link", args=[session.pk]), {"call_url": "meet.example.org/z"}
    )
    session.refresh_from_db()
    assert (session.schedule_status, session.call_url) == (
        ScheduleStatus.AGREED,
        "https://meet.example.org/z",
    )


def test_bad_proposals_and_links_keep_the_old_values(
    client, interviewer, candidate, case, rubric_version
):
    session = _scheduled(interviewer, candidate, case, rubric_version)
    client.force_login(candidate)
    for url, data, message in (
        ("interviews:propose_time", {"starts_at": "2001-01-01T10:00"}, "already passed"),
        ("interviews:propose_time", {"starts_at": ""}, "This field is required."),
        ("interviews:call_link", {"call_url": "javascript:alert(1)"}, "https://"),
    ):
        response = client.post(reverse(url, args=[session.pk]), data)
        assert response.status_code == 302
        assert message in _messages(response)[-1]
    fresh = Session.objects.get(pk=session.pk)
    assert (fresh.scheduled_at, fresh.call_url, fresh.version) == (
        session.scheduled_at,
        CALL,
        session.version,
    )


def test_no_show_button_and_view(client, interviewer, candidate, case, rubric_version):
    session = services.host_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.PEER,
        scheduled_at=timezone.now() + timedelta(minutes=1),
    )
    services.join_session(token=session.invite_token, user=candidate)
    services.accept_time(session=session, by=candidate)
    client.force_login(interviewer)
    url = reverse("interviews:no_show", args=[session.pk])
    response = client.post(url)
    assert "Wait until 15 minutes" in _messages(response)[0]
    html = client.get(session.get_absolute_url()).content.decode()
    assert 'id="mark-no-show"' not in html
    assert "you can mark a no-show from" in html
    # Later than the grace period: the button shows and the mark is recorded.
    Session.objects.filter(pk=session.pk).update(
        scheduled_at=timezone.now() - timedelta(minutes=16)
    )
    assert 'id="mark-no-show"' in client.get(session.get_absolute_url()).content.decode()
    response = client.post(url)
    assert _messages(response) == ["The no-show is recorded."]
    assert Session.objects.get(pk=session.pk).no_show_id == candidate.pk
    html = client.get(session.get_absolute_url()).content.decode()
    assert f"{candidate.username} did not come to the agreed start." in html


def test_calendar_download_per_role(client, interviewer, candidate, case, rubric_version):
    session = _scheduled(interviewer, candidate, case, rubric_version)
    url = reverse("interviews:calendar", args=[session.pk])
    client.force_login(candidate)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert f'filename="spar-session-{session.pk}.ics"' in response["Content-Disposition"]
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert case.title not in response.content.decode()
    assert event.decoded("dtstart") == _future()
    client.force_login(interviewer)
    (event,) = Calendar.from_ical(client.get(url).content).walk("VEVENT")
    assert case.title in str(event["summary"])


def test_calendar_is_404_without_a_time_and_for_outsiders(
    client, interviewer, candidate, outsider, staff, case, rubric_version
):
    unscheduled = services.create_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.PEER,
    )
    client.force_login(interviewer)
    assert client.get(reverse("interviews:calendar", args=[unscheduled.pk])).status_code == 404
    scheduled = _scheduled(interviewer, candidate, case, rubric_version)
    url = reverse("interviews:calendar", args=[scheduled.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(staff)
    assert client.get(url).status_code == 403


def test_room_of_an_unscheduled_started_session_reads_no_zone(
    client, interviewer, candidate, case, rubric_version
):
    # The room's query budget (tests/interviews/test_room_queries.py) holds: the block reads
    # the viewer's zone only when a time is shown or can be typed.
    session = services.create_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.PEER,
    )
    services.join_session(token=session.invite_token, user=candidate)
    services.start_session(session=session)
    client.force_login(candidate)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(session.get_absolute_url()).status_code == 200
    assert [q["sql"] for q in queries if "accounts_profile" in q["sql"]] == []
    scheduled = _scheduled(interviewer, candidate, case, rubric_version)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(scheduled.get_absolute_url()).status_code == 200
    assert len([q for q in queries if "accounts_profile" in q["sql"]]) == 1
