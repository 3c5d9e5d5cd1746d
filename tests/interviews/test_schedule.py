"""Hosting a session: call links, proposed and agreed starts, no-shows, the calendar file and
the reminders (interviews.services, interviews.schedule, send_reminders)."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.utils import timezone
from icalendar import Calendar

from accounts import profile_services
from config.settings import envbaseurl
from interviews import schedule, services
from interviews.models import ScheduleStatus, Session, SessionMode, validate_call_url
from interviews.permissions import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
START = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
CALL = "https://meet.example.org/spar-practice?pwd=abc123"


def _host(interviewer, case, rubric_version, **extra) -> Session:
    return services.host_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=extra.pop("mode", SessionMode.PEER),
        now=NOW,
        **extra,
    )


def _agreed(interviewer, candidate, case, rubric_version, start=START) -> Session:
    session = _host(interviewer, case, rubric_version, scheduled_at=start, call_url=CALL)
    services.join_session(token=session.invite_token, user=candidate)
    return services.accept_time(session=session, by=candidate, now=NOW)


# call links


@pytest.mark.parametrize(
    "url",
    [
        "https://meet.example.org/spar-1",
        "https://zoom.example.com/j/123456?pwd=abcdef",
        "https://meet.jit.si/SomeRoom#config.startWithVideoMuted=true",
    ],
)
def test_validate_call_url_accepts_https_links(url):
    validate_call_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://meet.example.org/room", "starting with https://"),
        ("javascript:alert(1)", "starting with https://"),
        ("ftp://files.example.org/room", "starting with https://"),
        ("https://alice:secret@meet.example.org/room", "user name and password"),
        ("https://alice@meet.example.org/room", "user name and password"),
        ("not a link", "starting with https://"),
    ],
)
def test_validate_call_url_refuses_other_schemes_and_credentials(url, message):
    with pytest.raises(ValidationError, match=message):
        validate_call_url(url)


def test_new_sessions_get_a_room_on_the_configured_call_server(
    settings, interviewer, case, rubric_version
):
    settings.CALL_LINK_BASE_URL = "https://meet.example.org/rooms"
    first = _host(interviewer, case, rubric_version)
    second = _host(interviewer, case, rubric_version)
    pattern = r"https://meet\.example\.org/rooms/spar-[0-9a-f]{32}"
    assert re.fullmatch(pattern, first.call_url)
    assert re.fullmatch(pattern, second.call_url)
    assert first.call_url != second.call_url
    # Solo practice has nobody to call.
    solo = _host(interviewer, case, rubric_version, mode=SessionMode.SOLO)
    assert solo.call_url == ""


def test_without_a_call_server_sessions_have_no_link(settings, interviewer, case, rubric_version):
    settings.CALL_LINK_BASE_URL = ""
    assert _host(interviewer, case, rubric_version).call_url == ""


def test_host_session_keeps_an_explicit_call_link_and_clears_on_empty(
    settings, interviewer, case, rubric_version
):
    settings.CALL_LINK_BASE_URL = "https://meet.example.org"
    assert _host(interviewer, case, rubric_version, call_url=CALL).call_url == CALL
    assert _host(interviewer, case, rubric_version, call_url="").call_url == ""


def test_host_session_refuses_a_past_start_and_saves_nothing(interviewer, case, rubric_version):
    before = Session.objects.count()
    with pytest.raises(services.SessionError, match="already passed"):
        _host(interviewer, case, rubric_version, scheduled_at=NOW - timedelta(minutes=1))
    with pytest.raises(services.SessionError, match="https://"):
        _host(interviewer, case, rubric_version, call_url="http://meet.example.org/x")
    assert Session.objects.count() == before


def test_set_call_link_by_either_participant_until_the_start(
    interviewer, candidate, case, rubric_version
):
    session = _agreed(interviewer, candidate, case, rubric_version)
    version = Session.objects.get(pk=session.pk).version
    services.set_call_link(session=session, by=candidate, call_url="https://meet.example.org/b")
    fresh = Session.objects.get(pk=session.pk)
    assert (fresh.call_url, fresh.version) == ("https://meet.example.org/b", version + 1)
    with pytest.raises(services.SessionError, match="https://"):
        services.set_call_link(session=session, by=interviewer, call_url="http://x.example")
    services.start_session(session=session)
    with pytest.raises(services.SessionError, match="has started"):
        services.set_call_link(session=session, by=interviewer, call_url="")
    assert Session.objects.get(pk=session.pk).call_url == "https://meet.example.org/b"


def test_set_call_link_refuses_outsiders(interviewer, candidate, outsider, case, rubric_version):
    session = _agreed(interviewer, candidate, case, rubric_version)
    with pytest.raises(services.SessionError, match="Only the two people"):
        services.set_call_link(session=session, by=outsider, call_url="")


# proposals


def test_a_start_set_at_creation_is_the_hosts_proposal(
    interviewer, candidate, case, rubric_version
):
    session = _host(interviewer, case, rubric_version, scheduled_at=START)
    assert (session.scheduled_at, session.schedule_status, session.proposed_by_id) == (
        START,
        ScheduleStatus.PROPOSED,
        interviewer.pk,
    )
    with pytest.raises(services.SessionError, match="You proposed this time"):
        services.accept_time(session=session, by=interviewer, now=NOW)
    services.join_session(token=session.invite_token, user=candidate)
    session = services.accept_time(session=session, by=candidate, now=NOW)
    assert session.schedule_status == ScheduleStatus.AGREED
    # Accepting again (a second tab) changes nothing.
    assert services.accept_time(session=session, by=interviewer, now=NOW).schedule_status == (
        ScheduleStatus.AGREED
    )


def test_solo_practice_time_stands_as_agreed(candidate, case, rubric_version):
    session = _host(candidate, case, rubric_version, mode=SessionMode.SOLO, scheduled_at=START)
    assert (session.schedule_status, session.proposed_by_id) == (ScheduleStatus.AGREED, None)


def test_a_counter_proposal_waits_for_the_other_person(
    interviewer, candidate, case, rubric_version
):
    session = _agreed(interviewer, candidate, case, rubric_version)
    later = START + timedelta(days=1)
    session = services.propose_time(session=session, by=candidate, starts_at=later, now=NOW)
    assert (session.scheduled_at, session.schedule_status, session.proposed_by_id) == (
        later,
        ScheduleStatus.PROPOSED,
        candidate.pk,
    )
    with pytest.raises(services.SessionError, match="You proposed this time"):
        services.accept_time(session=session, by=candidate, now=NOW)
    assert services.accept_time(session=session, by=interviewer, now=NOW).schedule_status == (
        ScheduleStatus.AGREED
    )


def test_propose_time_refuses_the_past_and_a_started_interview(
    interviewer, candidate, case, rubric_version
):
    session = _agreed(interviewer, candidate, case, rubric_version)
    with pytest.raises(services.SessionError, match="already passed"):
        services.propose_time(session=session, by=candidate, starts_at=NOW, now=NOW)
    services.start_session(session=session)
    with pytest.raises(services.SessionError, match="has started"):
        services.propose_time(session=session, by=candidate, starts_at=START, now=NOW)
    assert Session.objects.get(pk=session.pk).scheduled_at == START


def test_accept_time_refuses_a_proposal_that_has_passed(
    interviewer, candidate, case, rubric_version
):
    session = _host(interviewer, case, rubric_version, scheduled_at=START)
    services.join_session(token=session.invite_token, user=candidate)
    with pytest.raises(services.SessionError, match="has passed"):
        services.accept_time(session=session, by=candidate, now=START)
    assert Session.objects.get(pk=session.pk).schedule_status == ScheduleStatus.PROPOSED


# no-shows


def test_no_show_opens_fifteen_minutes_after_the_agreed_start(
    interviewer, candidate, case, rubric_version
):
    session = _agreed(interviewer, candidate, case, rubric_version)
    with pytest.raises(services.SessionError, match="15 minutes after"):
        services.mark_no_show(
            session=session, by=interviewer, now=START + timedelta(minutes=14, seconds=59)
        )
    marked_at = START + timedelta(minutes=15)
    session = services.mark_no_show(session=session, by=interviewer, now=marked_at)
    assert (session.no_show_id, session.no_show_marked_at) == (candidate.pk, marked_at)
    # The first mark stands: the absent person cannot turn it around.
    with pytest.raises(services.SessionError, match="already recorded"):
        services.mark_no_show(session=session, by=candidate, now=marked_at)


def test_no_show_needs_an_agreed_time_and_an_interview_that_did_not_start(
    interviewer, candidate, case, rubric_version
):
    later = START + timedelta(hours=1)
    proposed = _host(interviewer, case, rubric_version, scheduled_at=START)
    services.join_session(token=proposed.invite_token, user=candidate)
    with pytest.raises(services.SessionError, match="agreed time"):
        services.mark_no_show(session=proposed, by=candidate, now=later)
    started = _agreed(interviewer, candidate, case, rubric_version)
    services.start_session(session=started)
    with pytest.raises(services.SessionError, match="took place"):
        services.mark_no_show(session=started, by=candidate, now=later)
    waiting = _host(interviewer, case, rubric_version, scheduled_at=START)
    with pytest.raises(services.SessionError, match="nobody else"):
        services.mark_no_show(session=waiting, by=interviewer, now=later)
    assert not Session.objects.filter(no_show__isnull=False).exists()


# the calendar file


def _event(body: bytes):
    calendar = Calendar.from_ical(body)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_calendar_file_has_uid_times_call_link_and_alarm(
    settings, interviewer, candidate, case, rubric_version
):
    settings.SITE_URL = "https://spar.example.org"
    session = _agreed(interviewer, candidate, case, rubric_version)
    calendar, event = _event(schedule.calendar_file(session, Role.INTERVIEWER, now=NOW))
    assert str(calendar["version"]) == "2.0"
    assert str(event["uid"]) == f"spar-session-{session.pk}@spar.example.org"
    assert event.decoded("dtstart") == START
    assert event.decoded("dtend") == START + timedelta(minutes=45)
    assert str(event["location"]) == CALL
    assert str(event["url"]) == CALL
    assert str(event["status"]) == "CONFIRMED"
    assert case.title in str(event["summary"])
    assert f"https://spar.example.org/sessions/{session.pk}/" in str(event["description"])
    (alarm,) = event.walk("VALARM")
    assert str(alarm["action"]) == "DISPLAY"
    assert alarm.decoded("trigger") == -timedelta(minutes=15)


def test_calendar_uid_stays_when_the_time_moves(interviewer, candidate, case, rubric_version):
    session = _agreed(interviewer, candidate, case, rubric_version)
    _, before = _event(schedule.calendar_file(session, Role.CANDIDATE, now=NOW))
    later = START + timedelta(hours=2)
    session = services.propose_time(session=session, by=candidate, starts_at=later, now=NOW)
    _, after = _event(schedule.calendar_file(session, Role.CANDIDATE, now=NOW))
    assert str(after["uid"]) == str(before["uid"])
    assert int(after["sequence"]) > int(before["sequence"])
    assert after.decoded("dtstart") == later
    assert str(after["status"]) == "TENTATIVE"


def test_candidates_calendar_file_never_names_the_case(
    interviewer, candidate, case, rubric_version
):
    session = _agreed(interviewer, candidate, case, rubric_version)
    body = schedule.calendar_file(session, Role.CANDIDATE, now=NOW)
    _, event = _event(body)
    assert case.title not in body.decode()
    assert case.slug not in body.decode()
    assert str(event["summary"]) == (
        f"Spar mock interview with {interviewer.username} (you are the candidate)"
    )


# reminders


def _run_reminders() -> str:
    out = io.StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue()


def test_send_reminders_sends_each_reminder_exactly_once(
    interviewer, candidate, case, rubric_version
):
    # The command reads the clock, so this session starts 50 minutes from the real now.
    start = timezone.now().replace(microsecond=0) + timedelta(minutes=50)
    session = services.host_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.PEER,
        scheduled_at=start,
    )
    services.join_session(token=session.invite_token, user=candidate)
    services.accept_time(session=session, by=candidate)
    assert _run_reminders() == "Reminders: 2 sent.\n"
    assert sorted(m.to[0] for m in mail.outbox) == sorted([interviewer.email, candidate.email])
    assert _run_reminders() == "Reminders: 0 sent.\n"
    assert len(mail.outbox) == 2
    assert Session.objects.get(pk=session.pk).reminded_for == start


def test_reminders_wait_for_the_window_and_a_new_time_gets_a_new_one(
    interviewer, candidate, case, rubric_version
):
    session = _agreed(interviewer, candidate, case, rubric_version)
    assert services.send_reminders(now=START - timedelta(minutes=61)) == 0
    assert services.send_reminders(now=START - timedelta(minutes=59)) == 2
    later = START + timedelta(days=1)
    services.propose_time(session=session, by=candidate, starts_at=later, now=NOW)
    # Proposed, not agreed: no reminder for a time the other has not accepted.
    assert services.send_reminders(now=later - timedelta(minutes=30)) == 0
    services.accept_time(session=session, by=interviewer, now=NOW)
    assert services.send_reminders(now=later - timedelta(minutes=30)) == 2
    assert services.send_reminders(now=later - timedelta(minutes=20)) == 0
    assert len(mail.outbox) == 4


def test_reminders_skip_started_sessions_and_people_without_email(
    interviewer, case, rubric_version
):
    no_mail = UserFactory(username="nomail", email="")
    session = _agreed(interviewer, no_mail, case, rubric_version)
    assert services.send_reminders(now=START - timedelta(minutes=30)) == 1
    assert [m.to for m in mail.outbox] == [[interviewer.email]]
    other = _agreed(interviewer, UserFactory(username="early"), case, rubric_version)
    services.start_session(session=other)
    assert services.send_reminders(now=START - timedelta(minutes=20)) == 0
    assert Session.objects.get(pk=session.pk).reminded_for == START


def test_reminders_speak_each_persons_zone_and_keep_the_case_from_the_candidate(
    interviewer, candidate, case, rubric_version
):
    profile_services.set_time_zone(user=interviewer, time_zone="Europe/Berlin")
    profile_services.set_time_zone(user=candidate, time_zone="America/New_York")
    _agreed(interviewer, candidate, case, rubric_version)
    services.send_reminders(now=START - timedelta(minutes=30))
    by_person = {m.to[0]: m for m in mail.outbox}
    to_interviewer, to_candidate = by_person[interviewer.email], by_person[candidate.email]
    assert "Tue 3 Mar 2026, 18:00 (Europe/Berlin)" in to_interviewer.body
    assert "Tue 3 Mar 2026, 12:00 (America/New_York)" in to_candidate.body
    assert case.title in to_interviewer.subject
    assert CALL in to_candidate.body
    for part in (to_candidate.subject, to_candidate.body):
        assert case.title not in part
    ((name, body, mimetype),) = to_candidate.attachments
    assert (name, mimetype) == ("spar-session.ics", "text/calendar")
    assert case.title not in (body if isinstance(body, str) else body.decode())


def test_claim_reminder_is_won_once(interviewer, candidate, case, rubric_version):
    session = _agreed(interviewer, candidate, case, rubric_version)
    stale = Session.objects.get(pk=session.pk)  # a second cron run read the same row
    assert services.claim_reminder(session=session) is True
    assert services.claim_reminder(session=stale) is False


# the settings helper


def test_envbaseurl_accepts_and_trims_a_base(monkeypatch):
    monkeypatch.setenv("SPAR_TEST_URL", " https://meet.example.org/rooms/ ")
    assert envbaseurl("SPAR_TEST_URL", "") == "https://meet.example.org/rooms"
    monkeypatch.delenv("SPAR_TEST_URL")
    assert envbaseurl("SPAR_TEST_URL", "") == ""


@pytest.mark.parametrize(
    "raw",
    [
        "http://meet.example.org",
        "meet.example.org",
        "https://user:pw@meet.example.org",
        "https://meet.example.org/?room=1",
        "https://",
    ],
)
def test_envbaseurl_refuses_malformed_values(monkeypatch, raw):
    monkeypatch.setenv("SPAR_TEST_URL", raw)
    with pytest.raises(ImproperlyConfigured, match="SPAR_TEST_URL"):
        envbaseurl("SPAR_TEST_URL", "")
