"""What a change in a session looks like to each person watching it: the synchronous half of the
room's live updates, shared by the push stream (interviews/stream.py), the poll and the writes.

Every write bumps Session.version and the stamp of the part it changed (interviews.services.bump),
so "what changed since version v" is a comparison of stamps, and the answer is the room's
`poll-update` partial with only those parts. The stream renders it once per change per role and
sends the same text to every viewer with that role; none of it depends on who asks beyond the
role, so its forms carry no CSRF token field (htmx sends the page's token in a header).
"""

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.sessions.backends.base import SessionBase
from django.db import connection
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from interviews import permissions, services
from interviews.models import COMMENT_LIMIT, HINT_LIMIT, NOTE_LIMIT, REASON_LIMIT, Session
from interviews.permissions import Role
from interviews.room import RoomState

ROOM = "interviews/room.html"
# The limits the room's text fields show (maxlength) are the ones the forms enforce.
LIMITS = {"note": NOTE_LIMIT, "comment": COMMENT_LIMIT, "hint": HINT_LIMIT, "reason": REASON_LIMIT}
# The stream is served by the ASGI router in config/asgi.py, before Django's URL resolver.
# The ASGI entry point's mark on the requests it serves: this server also serves streams.
STREAMS_SERVED = "spar.streams_served"
STREAM_PATH = re.compile(r"/sessions/(?P<session_id>[0-9]{1,18})/stream/")
STAMPS = {
    "flow": "flow_stamp",
    "notes": "notes_stamp",
    "facts": "facts_stamp",
    "marks": "marks_stamp",
    "presence": "presence_stamp",
    "swap": "swap_stamp",
    "board": "board_stamp",
}
# Shared renders must not carry anyone's CSRF token: the forms get this one, and it is taken out.
SHARED_TOKEN = "shared-render"  # noqa: S105 -- a placeholder, not a secret
SHARED_TOKEN_INPUT = f'<input type="hidden" name="csrfmiddlewaretoken" value="{SHARED_TOKEN}">'


# Each room page has an id of its own, sent with its writes (PAGE_HEADER) and on its stream
# (?page=): the stream then knows which change that page already has from its own write's
# answer, and does not render it again. Not a secret: a wrong id only costs a redundant update.
PAGE_HEADER = "X-Spar-Page"
PAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,32}")
VERSION_TEXT = re.compile(r"[0-9]{1,18}")  # fits a 64-bit integer


def stream_path(session_id: int) -> str:
    return f"/sessions/{session_id}/stream/"


def stream_for(request: HttpRequest, session: Session) -> dict[str, object] | None:
    """Where the room's page listens, if this server holds streams: config/asgi.py marks the
    requests it serves. Under plain WSGI (runserver, the test client) the page polls."""
    if not request.META.get(STREAMS_SERVED):
        return None
    return {
        "url": stream_path(session.pk),
        "page": secrets.token_urlsafe(12),
        "heartbeat_ms": settings.LIVE_HEARTBEAT_SECONDS * 1000,
    }


def page_id(raw: str) -> str:
    """A page id as the page sent it, or "" when it is not one."""
    return raw if PAGE_ID.fullmatch(raw) else ""


def version_number(raw: str) -> int | None:
    """A room version as a page or its stream sent it (a header, a query), or None when it is
    not one. ASCII digits only: str.isdigit() also accepts "²", which int() refuses, and "١٢",
    which it reads."""
    return int(raw) if VERSION_TEXT.fullmatch(raw) else None


def has_own_change(echo: str, version: int, page: str, sent: int) -> bool:
    """Whether a stream whose page is `page`, and which was sent everything up to `sent`, is
    missing nothing but the change that page made itself and already has from the answer."""
    return bool(echo) and page == echo and sent == version - 1


def changed_since(session: Session, since: int | None) -> dict[str, bool]:
    """Which parts of the room changed after version `since` (all of them when it is unknown)."""
    return {
        part: since is None or getattr(session, stamp) > since for part, stamp in STAMPS.items()
    }


def update_context(
    session: Session, role: Role, since: int | None, *, interviewer_on_case: bool | None = None
) -> dict[str, Any]:
    """The context of the room's `poll-update` partial: the parts changed after `since`."""
    changed = changed_since(session, since)
    # Only the flow and the checklist show the steps whole; without them the update shows the
    # notes that changed and the current step's evidence, and reads only those steps.
    notes_only = since is not None and not (changed["flow"] or changed["marks"])
    state = RoomState(
        session,
        role,
        timezone.now(),
        interviewer_on_case=interviewer_on_case,
        notes_since=since if notes_only else None,
    )
    return {
        "session": session,
        "state": state,
        "role": role,
        "version": session.version,
        "limits": LIMITS,
        "changed": changed,
        # Steps whose notes were saved after this version are the ones a notes change resends.
        "since": -1 if since is None else since,
    }


def scorecard_url(session: Session) -> str:
    return reverse("scorecards:scorecard", args=[session.pk])


@dataclass(frozen=True)
class Update:
    """What one change means for each role: the HTML to swap in, or the end of the interview."""

    version: int
    html: dict[Role, str] = field(default_factory=dict)
    finished_url: str = ""
    echo_page: str = ""
    # The participants whose presence no open stream holds any more (see
    # services.record_stream_presence): a page of theirs still streaming should say it is here.
    unheld: frozenset[int] = frozenset()

    def needed_by(self, role: Role, page: str, sent: int) -> bool:
        """Whether a stream of this role and page, sent everything up to `sent`, needs it."""
        if self.finished_url:
            return True
        return role in self.html and not has_own_change(self.echo_page, self.version, page, sent)


def render_update(session: Session, since: int, roles: set[Role]) -> Update | None:
    """The room's changed parts after version `since`, rendered once per role; None when nothing
    changed. `session` must be freshly read: its stamps say what to render."""
    if session.version <= since:
        return None
    if session.is_finished:
        return Update(session.version, finished_url=scorecard_url(session))
    html = {}
    for role in roles:
        context = update_context(session, role, since)
        context["poller_oob"] = True
        context["csrf_token"] = SHARED_TOKEN
        html[role] = render_to_string(f"{ROOM}#poll-update", context).replace(
            SHARED_TOKEN_INPUT, ""
        )
    return Update(session.version, html, echo_page=session.echo_page, unheld=_unheld(session))


def _unheld(session: Session) -> frozenset[int]:
    """The participants whose "last seen" is not ahead of now: no stream holds it."""
    now = timezone.now()
    seats = (
        (session.interviewer_id, session.interviewer_seen_at),
        (session.candidate_id, session.candidate_seen_at),
    )
    return frozenset(
        user_id for user_id, seen in seats if user_id is not None and (seen is None or seen <= now)
    )


@dataclass(frozen=True)
class Viewer:
    """One open stream, as the render needs to know it."""

    role: Role
    page: str = ""
    sent: int = 0  # the version it was sent everything up to


def render_changes(session_id: int, since: int, viewers: Iterable[Viewer]) -> Update | None:
    """Read the session and render what changed after `since`, once for each role that has a
    viewer still missing something: a page that made the latest change itself (and was up to
    date before it) has it from its own write's answer."""
    session = permissions.read_session_for_stream(session_id)
    if session is None:
        return None
    roles = {
        viewer.role
        for viewer in viewers
        if not has_own_change(session.echo_page, session.version, viewer.page, viewer.sent)
    }
    return render_update(session, since, roles)


@dataclass(frozen=True)
class Opened:
    """A stream that may open: the viewer's role, and what they missed since `since`."""

    role: Role
    version: int
    catch_up: Update | None
    user_id: int | None = None


class _SessionOnly(HttpRequest):
    """Just enough of a request for django.contrib.auth.get_user: its session."""

    def __init__(self, session: SessionBase) -> None:
        super().__init__()
        self.session = session


def open_stream(session_store: SessionBase, session_id: int, since: int | None) -> Opened:
    """Authenticate the viewer from their login session and check their role, once per stream;
    raises Http404 for anyone without a role, like the room. `since` is the version the page
    has; the changes after it are rendered now, so nothing is missed across a reconnect."""
    user = get_user(_SessionOnly(session_store))
    session, role = permissions.get_session_for_user(user, session_id)
    if since is None or since > session.version:
        since = session.version  # unknown, or a version this database never had
    return Opened(role, session.version, render_update(session, since, {role}), user.pk)


def still_viewing(session_store: SessionBase, session_id: int, role: Role) -> bool:
    """Whether an open stream's viewer still has the role it opened with: still signed in (not
    logged out, not deactivated, password unchanged) and, for an observer, still staff.
    `session_store` must be freshly made: a store keeps what it has read."""
    user = get_user(_SessionOnly(session_store))
    session = permissions.read_session_for_stream(session_id)
    return permissions.keeps_role(user, session_id, session, role)


def note_stream_presence(session_id: int, user_id: int | None, *, connected: bool) -> None:
    """The viewer's stream opened, is still open, or closed: their partner's presence line."""
    if user_id is not None:
        services.record_stream_presence(session_id=session_id, user_id=user_id, connected=connected)


def versions(session_ids: list[int]) -> dict[int, tuple[int, str]]:
    """The current version of each session and the page that made its latest change (see
    has_own_change), in as few reads as SQLite's variable limit allows."""
    found: dict[int, tuple[int, str]] = {}
    for start in range(0, len(session_ids), 500):
        chunk = session_ids[start : start + 500]
        # No ORDER BY: Session's ordering would sort the rows by their creation for nothing.
        rows = Session.objects.filter(pk__in=chunk).order_by()
        found.update(
            (pk, (v, page)) for pk, v, page in rows.values_list("pk", "version", "echo_page")
        )
    return found


def data_version() -> int:
    """SQLite's change counter for this connection: it moves when any other connection commits,
    so a watcher can tell with no table read that nothing at all was written."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA data_version")
        version: int = cursor.fetchone()[0]
        return version
