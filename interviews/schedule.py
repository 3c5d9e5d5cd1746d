"""Reads for hosting a session: what the room's schedule block shows each viewer, the calendar
file, and which reminders are due. The writes are in interviews/services.py.

The candidate's calendar file and reminder never name the case: calendars are shared, synced to
phones and shown on lock screens, and a candidate who knows the case can prepare for it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import F, QuerySet
from django.urls import reverse
from icalendar import Alarm, Calendar, Event

from accounts.profile import ViewerZone, format_moment, viewer_zone
from interviews import permissions
from interviews.models import (
    NO_SHOW_GRACE,
    ScheduleStatus,
    Session,
    SessionState,
)
from interviews.permissions import Role

# Reminders go out within this time before the agreed start (send_reminders runs every few
# minutes, so "about an hour before").
REMINDER_LEAD = timedelta(hours=1)
ALARM_BEFORE = timedelta(minutes=15)
PRODID = "-//Spar//Peer mock interviews//EN"
_CASE_TEXTS = ("case__candidate_prompt", "case__interviewer_brief", "case__model_answer")


def site_url(path: str) -> str:
    """An address for use outside a request: SITE_URL + path, or the path alone."""
    return f"{settings.SITE_URL}{path}"


def _uid_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "spar.invalid"


def event_uid(session: Session) -> str:
    """The same for every download and every reminder of a session, so a calendar updates the
    event when the time moves instead of adding a second one."""
    return f"spar-session-{session.pk}@{_uid_host()}"


def _username(user: User | None) -> str:
    return user.get_username() if user is not None else "your partner"


def _partner_of(session: Session, role: Role | None) -> User | None:
    if role == Role.INTERVIEWER:
        return session.candidate
    if role == Role.CANDIDATE:
        return None if session.is_solo else session.interviewer
    return None


def event_summary(session: Session, role: Role | None) -> str:
    """The calendar title. Only who may see the case's material gets its title."""
    if role == Role.CANDIDATE:
        if session.is_solo:
            return "Spar solo practice"
        return f"Spar mock interview with {_username(session.interviewer)} (you are the candidate)"
    if role == Role.INTERVIEWER:
        return (
            f"Spar mock interview: you interview {_username(session.candidate)} on "
            f"“{session.case.title}”"
        )
    return f"Spar mock interview: {session.case.title}"


def event_description(session: Session, role: Role | None) -> str:
    lines = [event_summary(session, role) + "."]
    if session.call_url:
        lines.append(f"Call: {session.call_url}")
    lines.append(f"Session: {site_url(session.get_absolute_url())}")
    lines.append(f"Length: {session.length_minutes} minutes.")
    return "\n".join(lines)


def calendar_file(session: Session, role: Role | None, *, now: datetime) -> bytes:
    """The session as an iCalendar file (RFC 5545) with one event and a display alarm."""
    if session.scheduled_at is None:
        raise ValueError("An unscheduled session has no calendar file.")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", event_uid(session))
    event.add("dtstamp", now)
    event.add("dtstart", session.scheduled_at)
    event.add("dtend", session.scheduled_at + timedelta(minutes=session.length_minutes))
    # Every write bumps the session's version, so it only grows: calendars take the newest.
    event.add("sequence", session.version)
    event.add("summary", event_summary(session, role))
    event.add("description", event_description(session, role))
    event.add(
        "status", "CONFIRMED" if session.schedule_status == ScheduleStatus.AGREED else "TENTATIVE"
    )
    if session.call_url:
        event.add("location", session.call_url)
        event.add("url", session.call_url)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"In 15 minutes: {event_summary(session, role)}")
    alarm.add("trigger", -ALARM_BEFORE)
    event.add_component(alarm)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()  # icalendar leaves to_ical unannotated
    return ical


class ScheduleBlock:
    """The room's call-link and time block for one viewer. Reads nothing for a session without
    a scheduled time; with one, the viewer's zone (one query)."""

    def __init__(self, session: Session, role: Role | None, user: User, now: datetime) -> None:
        self.session = session
        self.role = role
        self.user = user
        self.now = now
        self.takes_part = permissions.takes_part(role)
        self.shown = not session.is_finished
        self.can_edit = self.takes_part and not session.has_started
        self.partner = _partner_of(session, role)

    @cached_property
    def zone(self) -> ViewerZone:
        return viewer_zone(self.user)

    @property
    def starts(self) -> str:
        at = self.session.scheduled_at
        return format_moment(at, self.zone) if at is not None else ""

    @property
    def is_agreed(self) -> bool:
        return self.session.schedule_status == ScheduleStatus.AGREED

    @property
    def is_proposed(self) -> bool:
        return self.session.schedule_status == ScheduleStatus.PROPOSED

    @property
    def proposed_by_me(self) -> bool:
        return self.is_proposed and self.session.proposed_by_id == self.user.pk

    @property
    def proposer(self) -> str:
        session = self.session
        for person in (session.interviewer, session.candidate):
            if person is not None and person.pk == session.proposed_by_id:
                return person.get_username()
        return "your partner"

    @property
    def can_accept(self) -> bool:
        return (
            self.can_edit
            and self.is_proposed
            and not self.proposed_by_me
            and self.session.proposed_by_id is not None
        )

    @property
    def no_show(self) -> str:
        session = self.session
        for person in (session.interviewer, session.candidate):
            if person is not None and person.pk == session.no_show_id:
                return person.get_username()
        return ""

    @property
    def can_mark_no_show(self) -> bool:
        session = self.session
        return (
            self.can_edit
            and self.partner is not None
            and self.is_agreed
            and session.no_show_id is None
            and session.scheduled_at is not None
            and self.now >= session.scheduled_at + NO_SHOW_GRACE
        )

    @property
    def no_show_opens(self) -> str:
        at = self.session.scheduled_at
        return format_moment(at + NO_SHOW_GRACE, self.zone) if at is not None else ""

    @property
    def my_email_missing(self) -> bool:
        return self.takes_part and not self.user.email

    @property
    def partner_email_missing(self) -> bool:
        return self.partner is not None and not self.partner.email

    @property
    def calendar_url(self) -> str:
        if not self.takes_part or self.session.scheduled_at is None:
            return ""
        return reverse("interviews:calendar", args=[self.session.pk])


def due_reminders(now: datetime) -> QuerySet[Session]:
    """Agreed sessions that have not started, starting within REMINDER_LEAD, whose reminder
    for this start has not gone out."""
    return (
        Session.objects.filter(
            schedule_status=ScheduleStatus.AGREED,
            scheduled_at__gt=now,
            scheduled_at__lte=now + REMINDER_LEAD,
            state__in=[SessionState.WAITING, SessionState.READY],
        )
        .exclude(reminded_for=F("scheduled_at"))
        .select_related("case", "interviewer", "candidate")
        .defer(*_CASE_TEXTS)
        .order_by("scheduled_at", "pk")
    )


@dataclass(frozen=True)
class Reminder:
    to: str
    subject: str
    body: str
    calendar: bytes


def reminders_for(
    session: Session, zones: dict[int, ViewerZone], *, now: datetime
) -> list[Reminder]:
    """One reminder per participant with an e-mail address, in their own zone and words."""
    reminders = []
    for role, person in (
        (Role.INTERVIEWER, session.interviewer),
        (Role.CANDIDATE, session.candidate),
    ):
        if person is None or not person.email or session.scheduled_at is None:
            continue
        when = format_moment(session.scheduled_at, zones[person.pk])
        summary = event_summary(session, role)
        lines = [
            f"Hello {person.get_username()},",
            "",
            f"{summary} starts {when}.",
        ]
        if session.call_url:
            lines.append(f"Join the call: {session.call_url}")
        lines += [
            f"Open the session in Spar: {site_url(session.get_absolute_url())}",
            "",
            "The attached calendar file has the time and the call link.",
        ]
        reminders.append(
            Reminder(
                to=person.email,
                subject=f"Reminder: {summary}, {when}",
                body="\n".join(lines) + "\n",
                calendar=calendar_file(session, role, now=now),
            )
        )
    return reminders
