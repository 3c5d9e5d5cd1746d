"""The only place that writes sessions. Every write bumps Session.version in its transaction."""

import enum
import functools
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.profile import zones_of
from casebank.models import Case, ClarificationFact
from core.markdown import render_markdown
from core.queries import single
from interviews import board, checklist, digest, permissions, schedule
from interviews.models import (
    NO_SHOW_GRACE,
    BoardSnapshot,
    FactReveal,
    Hint,
    Mark,
    MarkSource,
    MarkValue,
    ScheduleStatus,
    Session,
    SessionBoard,
    SessionMode,
    SessionState,
    SessionStep,
    TargetLevel,
    validate_call_url,
)
from interviews.permissions import Role
from rubrics import scoring
from rubrics.models import RubricVersion

logger = logging.getLogger("spar.reminders")

# The PostgreSQL channel on which every change of a session's version is announced, as
# "<session id> <new version>[ <page>]": by a trigger on the session's table (migration 0011).
NOTIFY_CHANNEL = "spar_session"

INVITE_TOKEN_BYTES = 32  # 256 bits: unguessable, and short enough for a chat message
LENGTHS = (45, 60)
# A save that was typed before the finish may arrive just after it: in flight, or a draft from
# a dropped connection. It is kept (once per step after the first few seconds, see below; and
# marked as saved after the finish) when it arrives within this many seconds; later, the record
# stays what was written in the room.
NOTES_GRACE_SECONDS = 60
# Within this many seconds of the finish every save is kept, not only one: the page leaving the
# room (static/js/live.js waits 2 s at most) sends the save that was on its way, then the words
# typed after it, one after the other.
NOTES_LEAVING_SECONDS = 5
NOTES_CLOSED = (
    "The interview is finished, so its notes can no longer change. Your text is still here: "
    "copy it if you want to keep it."
)
# A participant's "last seen" moves at most this often: polls come every 2 s, and writing on each
# would turn every poll into a write. The room calls someone present for three times as long.
PRESENCE_WRITE_EVERY = timedelta(seconds=5)
_SEEN_FIELDS = {Role.INTERVIEWER: "interviewer_seen_at", Role.CANDIDATE: "candidate_seen_at"}


class SessionError(Exception):
    """A request that does not fit the session's state; the message is shown to the user."""


class NotesConflict(SessionError):
    """A notes save based on an outdated version (for example, a second tab)."""

    def __init__(self, step: SessionStep) -> None:
        self.step = step
        super().__init__(
            "These notes were changed elsewhere (another tab or device) since you loaded them."
        )


class InviteUnavailable(SessionError):
    """The invite link was spent, revoked or never existed."""


class BoardClosed(SessionError):
    """A save to the board of a finished interview: the board is read-only from the finish."""


@dataclass(frozen=True)
class Writer:
    """The room page a write comes from, when the write's answer brings that page every change
    since the version it shows: its id (interviews.live.PAGE_HEADER) and that version."""

    page: str
    version: int


def bump(session: Session, *stamps: str, writer: Writer | None = None) -> None:
    """Advance the session's version, and the named stamps to the new version, in one UPDATE.

    The only way a version or a stamp moves: every write calls it in its transaction, so a poll
    can tell in one indexed read whether anything changed, and which parts. `session` must have
    been read under the row lock in this transaction (`lock`), so its version plus one is the new
    version and nothing needs reading back. On PostgreSQL the UPDATE also tells every app
    server's stream hub (interviews/stream.py): the table's trigger sends a NOTIFY, delivered at
    commit and only if it commits.
    When the `writer` page showed the version just before this one, the session records it
    (`echo_page`): the answer to its write carries this change, so its stream need not send it
    again (interviews.live.has_own_change). A page that was behind gets it on its stream too.
    """
    echo_page = writer.page if writer is not None and writer.version == session.version else ""
    Session.objects.filter(pk=session.pk).update(**_bumped(*stamps, echo_page=echo_page))
    session.version += 1
    session.echo_page = echo_page
    for stamp in stamps:
        setattr(session, stamp, session.version)


def _bumped(*stamps: str, echo_page: str = "") -> dict[str, Any]:
    """The fields of an UPDATE that moves a session's version, and the named stamps with it.
    Every such UPDATE also says which page made the change, or that none did: a page's stream
    skips a change recorded as its own (interviews.live.has_own_change)."""
    new_version = F("version") + 1
    return {"version": new_version, "echo_page": echo_page, **dict.fromkeys(stamps, new_version)}


def lock(session: Session) -> Session:
    """Re-read the session, in place, under a row lock, so that concurrent writes to one session
    apply one after another (SQLite: the IMMEDIATE transaction already holds the write lock).

    A session that permissions.locked_session read under the lock in this same transaction is
    current already and is not read again.
    """
    if getattr(session, "locked_for_write", False) and connection.in_atomic_block:
        return session
    session.refresh_from_db(from_queryset=Session.objects.select_for_update())
    return session


def joins_locked_write[**P, T](service: Callable[P, T]) -> Callable[P, T]:
    """`transaction.atomic` for a service that a view may call inside the transaction in which
    it read the session under its lock (permissions.locked_session): there the service joins
    that transaction instead of opening a savepoint of its own (two statements fewer on the two
    busiest writes, a round trip each on PostgreSQL). An exception out of the service still
    undoes all of its writes: Django then rolls the whole transaction back when the view's
    block ends, even if the view caught the exception, and refuses further queries meanwhile."""

    @functools.wraps(service)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        session = kwargs.get("session")
        joined = getattr(session, "locked_for_write", False) and connection.in_atomic_block
        with transaction.atomic(savepoint=not joined):
            return service(*args, **kwargs)

    return wrapper


def new_invite_token() -> str:
    return secrets.token_urlsafe(INVITE_TOKEN_BYTES)


@transaction.atomic
def create_session(
    *,
    host: User,
    case: Case,
    rubric_version: RubricVersion,
    length_minutes: int,
    mode: SessionMode,
    budgets: dict[int, int] | None = None,
    target_level: str | None = None,
) -> Session:
    """A new session with its steps; peer sessions get an invite link for the candidate. The
    session is judged at `target_level`, by default the level of the case's difficulty."""
    if length_minutes not in LENGTHS:
        raise SessionError(f"An interview lasts {' or '.join(map(str, LENGTHS))} minutes.")
    solo = mode == SessionMode.SOLO
    if not solo and permissions.candidate_on_case(host, case):
        raise SessionError(permissions.CANDIDATE_ON_CASE)
    session = Session.objects.create(
        case=case,
        rubric_version=rubric_version,
        mode=mode,
        interviewer=None if solo else host,
        candidate=host if solo else None,
        length_minutes=length_minutes,
        target_level=target_level or TargetLevel.for_difficulty(case.difficulty),
        state=SessionState.READY if solo else SessionState.WAITING,
        invite_token=None if solo else new_invite_token(),
    )
    budgets = budgets or {}
    SessionStep.objects.bulk_create(
        SessionStep(
            session=session,
            number=step.number,
            rubric_step=step,
            # What the host chose, else the case's own plan (a batch- or serving-heavy case
            # moves minutes between steps), else the rubric's.
            budget_minutes=budgets.get(step.number)
            or case.budget_minutes(step.number, length_minutes)
            or step.budget_minutes(length_minutes),
        )
        for step in rubric_version.steps.order_by("number")
    )
    return session


@transaction.atomic
def regenerate_invite(*, session: Session) -> Session:
    session = lock(session)
    if session.candidate_id is not None:
        raise SessionError("This session already has a candidate; the invite link is spent.")
    session.invite_token = new_invite_token()
    session.save(update_fields=["invite_token"])
    bump(session, "flow_stamp")
    return session


@transaction.atomic
def revoke_invite(*, session: Session) -> Session:
    session = lock(session)
    session.invite_token = None
    session.save(update_fields=["invite_token"])
    bump(session, "flow_stamp")
    return session


@transaction.atomic
def join_session(*, token: str, user: User) -> Session:
    """Make the user the candidate of the session this link invites to. First come, only one.

    The token stays on the session once spent, so a second visitor is told the session already
    has a candidate (not that the link is invalid), and the candidate's own second click (a
    double submit, or the link opened again) just leads back to their session.
    """
    session = Session.objects.select_for_update().filter(invite_token=token).first()
    if session is None:
        raise InviteUnavailable("This invite link is not valid: it was revoked or mistyped.")
    if session.interviewer_id == user.pk:
        raise SessionError(
            "You are this session's interviewer. Send the link to your partner instead."
        )
    if session.candidate_id == user.pk:
        return session
    if session.candidate_id is not None:
        raise InviteUnavailable("This session already has a candidate.")
    session.candidate = user
    session.state = SessionState.READY
    # Joining is being there: the interviewer sees the candidate present at once.
    session.candidate_seen_at = timezone.now()
    session.save(update_fields=["candidate", "state", "candidate_seen_at"])
    bump(session, "flow_stamp", "presence_stamp")
    return session


def presence_due(seen_at: datetime | None, now: datetime) -> bool:
    """Whether a participant's "last seen" is old enough to be written again."""
    return seen_at is None or now - seen_at >= PRESENCE_WRITE_EVERY


def record_presence(
    *, poll_row: Mapping[str, Any], user_id: int, now: datetime | None = None
) -> bool:
    """Note that a participant's page is open, for the partner's presence line; True if written.

    `poll_row` is the read the poll makes anyway (permissions.get_poll_row), so a poll whose
    "last seen" is recent issues no statement at all. The write is one conditional UPDATE
    without a row lock: a concurrent poll of the same person that also found the stamp old
    writes nothing. Finished sessions and staff looking on are not recorded.
    """
    if poll_row["state"] == SessionState.FINISHED:
        return False
    now = now or timezone.now()
    for role, field in _SEEN_FIELDS.items():
        if poll_row[f"{role.value}_id"] != user_id:
            continue
        if not presence_due(poll_row[field], now):
            return False
        due = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lte": now - PRESENCE_WRITE_EVERY})
        return bool(
            Session.objects.filter(due, pk=poll_row["id"])
            .exclude(state=SessionState.FINISHED)
            .update(**{field: now}, **_bumped("presence_stamp"))
        )
    return False


# A participant whose page holds a push stream is "seen" until this far ahead, renewed while the
# stream stays open, and seen last when it closes (so "here" for a few seconds more, as after a
# poll): an open stream costs a write every few minutes, not one per heartbeat. Another page of
# theirs that still streams hears of the close and holds their presence again (interviews.
# stream), so closing one of two tabs does not show them away. A server that dies without closing
# its streams leaves them "seen" until the hold runs out, or until the browser reconnects to
# another server and says so again.
STREAM_PRESENCE_HOLD = timedelta(minutes=10)
STREAM_PRESENCE_RENEW = timedelta(minutes=5)


@transaction.atomic
def record_stream_presence(
    *, session_id: int, user_id: int, connected: bool, now: datetime | None = None
) -> bool:
    """A participant's push stream opened (or is still open) or closed; True if written."""
    now = now or timezone.now()
    session = single(Session.objects.select_for_update().filter(pk=session_id))
    if session is None or session.is_finished:
        return False
    field = next(
        (f for role, f in _SEEN_FIELDS.items() if getattr(session, f"{role.value}_id") == user_id),
        None,
    )
    if field is None:
        return False
    seen = getattr(session, field)
    if connected and seen is not None and seen - now > STREAM_PRESENCE_HOLD - STREAM_PRESENCE_RENEW:
        return False  # held long enough already: nothing to renew yet
    setattr(session, field, now + STREAM_PRESENCE_HOLD if connected else now)
    session.save(update_fields=[field])
    bump(session, "presence_stamp")
    return True


@transaction.atomic
def change_case(*, session: Session, case: Case) -> Session:
    """Put another case on a session that has not started yet.

    Facts revealed for the old case are withdrawn (they answer another case's questions); the
    candidate's notes and the interviewer's comments are per step and stay. Both rooms reload
    on the flow change, because the prompt, the facts and the checklist all change with it.
    """
    session = lock(session)
    if not session.is_before_start:
        raise SessionError("The interview has started: its case can no longer change.")
    if not case.is_published:
        raise SessionError("Only a published case can be chosen.")
    if case.pk == session.case_id:
        return session
    FactReveal.objects.filter(session=session).delete()
    session.case = case
    session.save(update_fields=["case"])
    bump(session, "flow_stamp", "facts_stamp")
    return session


class ControlAction(enum.StrEnum):
    """What the interviewer's flow controls ask for (the candidate's, in solo practice)."""

    START = "start"
    NEXT = "next"
    PREVIOUS = "previous"
    JUMP = "jump"
    PAUSE = "pause"
    RESUME = "resume"
    FINISH = "finish"

    @property
    def label(self) -> str:
        return {"jump": "Go to step", "next": "Next step", "previous": "Previous step"}.get(
            self.value, self.value.capitalize()
        )


@transaction.atomic
def control_session(
    *,
    session: Session,
    action: ControlAction,
    step: int | None = None,
    at_step: int | None = None,
    now: datetime | None = None,
    writer: Writer | None = None,
) -> Session:
    """Apply one flow control; `step` is the target of JUMP, `at_step` the step the page showed
    when the control was pressed. Controls are idempotent: a double click, or a second tab that
    had not caught up, asks for what has already happened and changes nothing. `writer`: see
    bump() (the end of the interview is sent to every page, its own included)."""
    lock(session)
    state = session.state
    match action:
        case ControlAction.START if state in _STARTED:
            return session
        case ControlAction.START:
            return start_session(session=session, now=now, writer=writer)
        case ControlAction.PAUSE if state == SessionState.PAUSED:
            return session
        case ControlAction.PAUSE:
            return pause_session(session=session, now=now, writer=writer)
        case ControlAction.RESUME if state == SessionState.RUNNING:
            return session
        case ControlAction.RESUME:
            return resume_session(session=session, now=now, writer=writer)
        case ControlAction.FINISH if state == SessionState.FINISHED:
            return session
        case ControlAction.FINISH:
            return finish_session(session=session, now=now)
        case ControlAction.NEXT | ControlAction.PREVIOUS if (
            at_step is not None and at_step != session.current_step
        ):
            return session
        case ControlAction.NEXT:
            return go_to_step(
                session=session, number=session.current_step + 1, now=now, writer=writer
            )
        case ControlAction.PREVIOUS:
            return go_to_step(
                session=session, number=session.current_step - 1, now=now, writer=writer
            )
        case ControlAction.JUMP:
            if step is None:
                raise SessionError("Say which step to go to.")
            return go_to_step(session=session, number=step, now=now, writer=writer)


_STARTED = {SessionState.RUNNING, SessionState.PAUSED, SessionState.FINISHED}


def _step(session: Session, number: int) -> SessionStep:
    step = single(session.steps.filter(number=number))
    if step is None:
        raise SessionError(f"This interview has no step {number}.")
    return step


def _stop_clock(session: Session, now: datetime) -> None:
    if session.running_since is not None:
        seconds = (now - session.running_since).total_seconds()
        SessionStep.objects.filter(session=session, number=session.current_step).update(
            elapsed_seconds=F("elapsed_seconds") + max(0.0, seconds)
        )
        session.running_since = None


@transaction.atomic
def start_session(
    *, session: Session, now: datetime | None = None, writer: Writer | None = None
) -> Session:
    now = now or timezone.now()
    session = lock(session)
    if session.state == SessionState.WAITING:
        raise SessionError("The candidate has not joined yet: send them the invite link first.")
    if session.state != SessionState.READY:
        raise SessionError("This interview has already started.")
    session.state = SessionState.RUNNING
    session.started_at = session.running_since = now
    session.current_step = 1
    session.save(update_fields=["state", "started_at", "running_since", "current_step"])
    bump(session, "flow_stamp", writer=writer)
    return session


@transaction.atomic
def go_to_step(
    *, session: Session, number: int, now: datetime | None = None, writer: Writer | None = None
) -> Session:
    """Move to another step; the clock of the step left stops, the new one's runs."""
    now = now or timezone.now()
    session = lock(session)
    if not session.is_live:
        raise SessionError("Steps can only change while the interview is running or paused.")
    _step(session, number)
    if number == session.current_step:
        return session
    running = session.state == SessionState.RUNNING
    _stop_clock(session, now)
    _snapshot_board(session, now=now, at_finish=False)
    session.current_step = number
    session.running_since = now if running else None
    session.save(update_fields=["current_step", "running_since"])
    bump(session, "flow_stamp", writer=writer)
    return session


@transaction.atomic
def pause_session(
    *, session: Session, now: datetime | None = None, writer: Writer | None = None
) -> Session:
    now = now or timezone.now()
    session = lock(session)
    if session.state != SessionState.RUNNING:
        raise SessionError("Only a running interview can be paused.")
    _stop_clock(session, now)
    session.state = SessionState.PAUSED
    session.save(update_fields=["state", "running_since"])
    bump(session, "flow_stamp", writer=writer)
    return session


@transaction.atomic
def resume_session(
    *, session: Session, now: datetime | None = None, writer: Writer | None = None
) -> Session:
    now = now or timezone.now()
    session = lock(session)
    if session.state != SessionState.PAUSED:
        raise SessionError("Only a paused interview can be resumed.")
    session.state = SessionState.RUNNING
    session.running_since = now
    session.save(update_fields=["state", "running_since"])
    bump(session, "flow_stamp", writer=writer)
    return session


@transaction.atomic
def finish_session(*, session: Session, now: datetime | None = None) -> Session:
    """Stop the clock, freeze the marks and store the score computed from them."""
    now = now or timezone.now()
    session = lock(session)
    if not session.is_live:
        raise SessionError("Only a running or paused interview can be finished.")
    _stop_clock(session, now)
    _snapshot_board(session, now=now, at_finish=True)
    session.state = SessionState.FINISHED
    session.finished_at = now
    session.invite_token = None
    session.save(update_fields=["state", "finished_at", "running_since", "invite_token"])
    _store_result(session)
    bump(session, "flow_stamp", "marks_stamp")
    return session


def _store_result(session: Session) -> None:
    card = checklist.score_session(session, source=checklist.result_source(session))
    percent = card.total.percent
    session.total_percent = None if percent is None else Decimal(scoring.decimal_text(percent, 3))
    session.band = card.band.value
    session.result = digest.write_digest(
        card,
        (
            digest.StepTime(step.number, step.elapsed_seconds, step.budget_minutes)
            for step in session.steps.all()
        ),
    )
    session.save(update_fields=["total_percent", "band", "result"])


def _snapshot_board(session: Session, *, now: datetime, at_finish: bool) -> None:
    """Keep the board as it stands at the end of the current step (or at the finish), when it
    changed since the last snapshot. A board left alone costs one indexed read, scene unread."""
    row = single(
        SessionBoard.objects.filter(session=session).exclude(version=F("snapshot_version"))
    )
    if row is None:
        return
    visible = [e for e in board.ordered(row.elements.values()) if not e.get("isDeleted")]
    BoardSnapshot.objects.create(
        session=session,
        step_number=session.current_step,
        at_finish=at_finish,
        board_version=row.version,
        elements=visible,
        element_count=len(visible),
        labels=row.labels,
        taken_at=now,
    )
    SessionBoard.objects.filter(pk=row.pk).update(snapshot_version=row.version)


BOARD_CLOSED = "The interview is finished, so the board is read-only now."


@transaction.atomic
def save_board(
    *,
    session: Session,
    update: board.BoardUpdate,
    by: User,
    now: datetime | None = None,
) -> tuple[board.Board, list[board.Element]]:
    """Merge one save from a browser into the session's board (board.apply_update): return the
    board as it now stands and the elements the saving browser lacks, for its reply.

    Either participant may draw until the finish. Raises BoardClosed after it, SessionError for
    anyone else, and board.BoardError for a save the board refuses; then nothing is stored.
    Saves from both screens apply one after another under the session's row lock, and merge per
    element, so neither overwrites the other. Only a save that changed something moves the
    board's version and the room's board stamp, which tells the other screen to fetch.
    """
    now = now or timezone.now()
    lock(session)
    if by.pk not in session.participant_ids():
        raise SessionError("Only the two people in this session may draw on its board.")
    if session.is_finished:
        raise BoardClosed(BOARD_CLOSED)
    row = single(SessionBoard.objects.filter(session=session))
    current = row.as_board() if row is not None else board.Board()
    merged, reply = board.apply_update(current, update)
    if merged.version == current.version:
        return merged, reply  # nothing new: a retried save, or only copies that lost the merge
    fields = {
        "version": merged.version,
        "elements": merged.elements,
        "changed_at": merged.changed_at,
        "labels": board.labels(merged.elements),
        "updated_at": now,
        "updated_by": by,
    }
    if row is None:
        SessionBoard.objects.create(session=session, **fields)
    else:
        for name, value in fields.items():
            setattr(row, name, value)
        row.save(update_fields=list(fields))
    bump(session, "board_stamp")
    return merged, reply


_RED_FLAG_MARKS = {MarkValue.OBSERVED, ""}
_EXPECTED_MARKS = {MarkValue.COVERED, MarkValue.PARTIAL, MarkValue.MISSED, ""}
# Only the interviewer judges that an item does not apply; a candidate marks what they did.
_JUDGED = {MarkValue.NOT_APPLICABLE}


@joins_locked_write
def set_mark(
    *,
    session: Session,
    item_key: str,
    mark: str,
    after_hint: bool,
    by: User,
    source: MarkSource = MarkSource.INTERVIEWER,
    reason: str = "",
    now: datetime | None = None,
    writer: Writer | None = None,
) -> Mark:
    """Record (or clear, with mark="") a checklist mark, timestamped. "Not applicable" is the
    interviewer's judgement and needs a one-line `reason`. `writer`: see bump()."""
    now = now or timezone.now()
    session = lock(session)
    item = checklist.find_session_item(session, item_key)
    if item is None:
        raise SessionError("That checklist item is not part of this session.")
    allowed = _RED_FLAG_MARKS if item.kind == scoring.Kind.RED_FLAG else _EXPECTED_MARKS
    if source == MarkSource.INTERVIEWER:
        allowed = allowed | _JUDGED
    if mark not in allowed:
        raise SessionError("That mark does not fit this kind of item.")
    reason = " ".join(reason.split()) if mark == MarkValue.NOT_APPLICABLE else ""
    if mark == MarkValue.NOT_APPLICABLE and not reason:
        raise SessionError("Say in one line why this item does not apply to this case.")
    if source == MarkSource.INTERVIEWER:
        if session.is_solo:
            raise SessionError("A solo session has no interviewer marks.")
        if not session.is_live:
            raise SessionError("Marks can only change while the interview runs; it is frozen now.")
        if item.step != session.current_step:
            raise SessionError(
                f"That item belongs to step {item.step}; the interview is on step "
                f"{session.current_step}. Go to that step to mark it."
            )
    elif not session.is_finished:
        raise SessionError("Self-assessment opens when the interview is finished.")
    result = Mark(
        session=session,
        source=source,
        item_key=item_key,
        step_number=item.step,
        mark=mark,
        after_hint=after_hint and mark not in {MarkValue.OBSERVED, MarkValue.NOT_APPLICABLE},
        reason=reason,
        marked_at=now,
        marked_by=by,
    )
    # One INSERT … ON CONFLICT DO UPDATE (the row keeps its id) where update_or_create would
    # read the row, then write it, inside a savepoint of its own: a mark is the room's most
    # frequent write.
    Mark.objects.bulk_create(
        [result],
        update_conflicts=True,
        unique_fields=["session", "source", "item_key"],
        update_fields=["step_number", "mark", "after_hint", "reason", "marked_at", "marked_by"],
    )
    if session.is_finished and source == checklist.result_source(session):
        _store_result(session)
    bump(session, "marks_stamp", writer=writer)
    return result


@dataclass(frozen=True)
class SavedNotes:
    """A step's notes as a save left them: what its answer shows."""

    number: int
    notes: str
    notes_html: SafeString
    notes_version: int
    notes_updated_at: datetime | None

    @classmethod
    def of(cls, step: SessionStep) -> "SavedNotes":
        return cls(
            step.number, step.notes, step.notes_html, step.notes_version, step.notes_updated_at
        )


@joins_locked_write
def save_notes(
    *,
    session: Session,
    step_number: int,
    text: str,
    base_version: int,
    now: datetime | None = None,
    writer: Writer | None = None,
    rendered: str | None = None,
) -> SavedNotes:
    """Save the candidate's notes for a step unless they changed since base_version.

    After the finish a save is kept only within NOTES_GRACE_SECONDS and only if nothing was saved
    to the step after the finish yet (the base version then predates the finish), or any number
    of them within NOTES_LEAVING_SECONDS.
    `writer`: see bump(). `rendered`: `text` through render_markdown, stored with it (see
    SessionStep.notes_rendered), if the caller rendered it before taking the session's write
    lock (the view does: a long text takes milliseconds, and other writes wait meanwhile);
    else it is rendered here."""
    now = now or timezone.now()
    html = SafeString(render_markdown(text) if rendered is None else rendered)
    lock(session)
    if session.state in {SessionState.WAITING}:
        raise SessionError("Notes open once the candidate has joined.")
    steps = session.steps.filter(number=step_number)
    if session.is_finished:
        # Only a late save may still be kept, which the step's last save decides.
        step = _step(session, step_number)
        if not _late_save_allowed(session, step, now):
            if step.notes == text:
                return SavedNotes.of(step)  # a retried request of a save that was already kept
            raise SessionError(NOTES_CLOSED)
    # Compare-and-set in one UPDATE: safe against a concurrent save from another tab. While the
    # interview runs (nearly every save) the step is not read first: the UPDATE finds it by its
    # number, and only a refused one reads it to tell why.
    # The row lock makes session.version + 1 the version this save's bump gives the session.
    updated = steps.filter(notes_version=base_version).update(
        notes=text,
        notes_rendered=html,
        notes_version=F("notes_version") + 1,
        notes_updated_at=now,
        notes_stamp=session.version + 1,
    )
    if not updated:
        step = _step(session, step_number)
        if step.notes == text:
            # The same text arrived twice (a retried request): nothing is lost.
            return SavedNotes.of(step)
        raise NotesConflict(step)
    bump(session, "notes_stamp", writer=writer)
    # What the UPDATE wrote, known without reading it back.
    return SavedNotes(step_number, text, html, base_version + 1, now)


def _late_save_allowed(session: Session, step: SessionStep, now: datetime) -> bool:
    finished_at = session.finished_at
    if finished_at is None or now - finished_at > timedelta(seconds=NOTES_GRACE_SECONDS):
        return False
    if now - finished_at <= timedelta(seconds=NOTES_LEAVING_SECONDS):
        return True
    return step.notes_updated_at is None or step.notes_updated_at <= finished_at


@transaction.atomic
def save_comment(
    *, session: Session, step_number: int, text: str, writer: Writer | None = None
) -> SessionStep:
    lock(session)
    if session.is_finished:
        raise SessionError("The interview is finished; comments are frozen.")
    step = _step(session, step_number)
    step.comment = text
    step.save(update_fields=["comment"])
    bump(session, "marks_stamp", writer=writer)
    return step


@transaction.atomic
def add_hint(
    *,
    session: Session,
    step_number: int,
    text: str,
    now: datetime | None = None,
    writer: Writer | None = None,
) -> Hint:
    lock(session)
    if not session.is_live:
        raise SessionError("Hints can only be logged while the interview runs.")
    _step(session, step_number)
    # A hint is given in the step on screen; a form left open on an earlier step (the
    # interview moved on from another device) must not file it where nobody looks.
    if step_number != session.current_step:
        raise SessionError(
            f"The interview is on step {session.current_step} now, so this hint was not logged "
            f"for step {step_number}. Give it again on this step if it still applies."
        )
    hint = Hint.objects.create(
        session=session, step_number=step_number, text=text, created_at=now or timezone.now()
    )
    bump(session, "marks_stamp", writer=writer)
    return hint


@transaction.atomic
def set_fact_revealed(
    *,
    session: Session,
    fact: ClarificationFact,
    revealed: bool,
    now: datetime | None = None,
    writer: Writer | None = None,
) -> None:
    if fact.case_id != session.case_id:
        raise SessionError("That fact belongs to another case.")
    lock(session)
    if session.is_finished:
        raise SessionError("The interview is finished.")
    if revealed:
        FactReveal.objects.get_or_create(
            session=session, fact=fact, defaults={"revealed_at": now or timezone.now()}
        )
    else:
        FactReveal.objects.filter(session=session, fact=fact).delete()
    bump(session, "facts_stamp", writer=writer)


# --- hosting: call link, scheduled start, no-shows, reminders ----------------------------------


def _check_start(starts_at: datetime, now: datetime) -> None:
    if starts_at <= now:
        raise SessionError("That time has already passed. Choose a time in the future.")


def _check_call_url(call_url: str) -> None:
    if call_url:
        try:
            validate_call_url(call_url)
        except ValidationError as exc:
            raise SessionError(" ".join(exc.messages)) from None


@transaction.atomic
def host_session(
    *,
    host: User,
    case: Case,
    rubric_version: RubricVersion,
    length_minutes: int,
    mode: SessionMode,
    budgets: dict[int, int] | None = None,
    call_url: str | None = None,
    scheduled_at: datetime | None = None,
    target_level: str | None = None,
    now: datetime | None = None,
) -> Session:
    """create_session with a call link and a proposed start, all or nothing.

    call_url=None keeps the default (a fresh room on CALL_LINK_BASE_URL, if set); "" means no
    link. A peer session's start is the host's proposal until the candidate accepts it; solo
    practice has nobody to ask, so its time stands as agreed.
    """
    now = now or timezone.now()
    if scheduled_at is not None:
        _check_start(scheduled_at, now)
    if call_url is not None:
        _check_call_url(call_url)
    session = create_session(
        host=host,
        case=case,
        rubric_version=rubric_version,
        length_minutes=length_minutes,
        mode=mode,
        budgets=budgets,
        target_level=target_level,
    )
    if session.is_solo:
        session.call_url = ""
    elif call_url is not None:
        session.call_url = call_url
    if scheduled_at is not None:
        session.scheduled_at = scheduled_at
        session.schedule_status = (
            ScheduleStatus.AGREED if session.is_solo else ScheduleStatus.PROPOSED
        )
        session.proposed_by = None if session.is_solo else host
    session.save(update_fields=["call_url", "scheduled_at", "schedule_status", "proposed_by"])
    return session


def _check_participant(session: Session, by: User) -> None:
    if by.pk not in session.participant_ids():
        raise SessionError("Only the two people in this session may change its schedule.")


def _check_not_started(session: Session) -> None:
    if session.has_started:
        raise SessionError("The interview has started; its time and call link are fixed now.")


@transaction.atomic
def set_call_link(*, session: Session, by: User, call_url: str) -> Session:
    """Either participant may set or clear the call link until the interview starts."""
    session = lock(session)
    _check_participant(session, by)
    _check_not_started(session)
    _check_call_url(call_url)
    session.call_url = call_url
    session.save(update_fields=["call_url"])
    bump(session)
    return session


@transaction.atomic
def propose_time(
    *, session: Session, by: User, starts_at: datetime, now: datetime | None = None
) -> Session:
    """A new start proposed by one participant; the other accepts it (solo: it stands)."""
    now = now or timezone.now()
    session = lock(session)
    _check_participant(session, by)
    _check_not_started(session)
    _check_start(starts_at, now)
    session.scheduled_at = starts_at
    if session.is_solo:
        session.schedule_status, session.proposed_by = ScheduleStatus.AGREED, None
    else:
        session.schedule_status, session.proposed_by = ScheduleStatus.PROPOSED, by
    session.save(update_fields=["scheduled_at", "schedule_status", "proposed_by"])
    bump(session)
    return session


@transaction.atomic
def accept_time(*, session: Session, by: User, now: datetime | None = None) -> Session:
    """The other participant agrees to the proposed start; from then on reminders are due."""
    now = now or timezone.now()
    session = lock(session)
    _check_participant(session, by)
    _check_not_started(session)
    if session.schedule_status == ScheduleStatus.AGREED:
        return session  # a double click, or both accepting from two tabs
    if session.schedule_status != ScheduleStatus.PROPOSED or session.scheduled_at is None:
        raise SessionError("No time has been proposed yet.")
    if session.proposed_by_id == by.pk:
        raise SessionError("You proposed this time: your partner accepts it.")
    if session.scheduled_at <= now:
        raise SessionError("The proposed time has passed. Propose a new one.")
    session.schedule_status = ScheduleStatus.AGREED
    session.save(update_fields=["schedule_status"])
    bump(session)
    return session


@transaction.atomic
def mark_no_show(*, session: Session, by: User, now: datetime | None = None) -> Session:
    """Record that the other participant did not come: allowed once the agreed start is
    NO_SHOW_GRACE past and the interview has not started. The first mark stands."""
    now = now or timezone.now()
    session = lock(session)
    _check_participant(session, by)
    others = session.participant_ids() - {by.pk}
    if not others:
        raise SessionError("There is nobody else in this session to mark as absent.")
    if session.no_show_id is not None:
        raise SessionError("A no-show is already recorded for this session.")
    if session.schedule_status != ScheduleStatus.AGREED or session.scheduled_at is None:
        raise SessionError("Only a session with an agreed time can have a no-show.")
    if session.has_started:
        raise SessionError("The interview took place: nobody was absent.")
    if now < session.scheduled_at + NO_SHOW_GRACE:
        minutes = int(NO_SHOW_GRACE.total_seconds() // 60)
        raise SessionError(
            f"Wait until {minutes} minutes after the agreed start before marking a no-show."
        )
    session.no_show_id = others.pop()
    session.no_show_marked_at = now
    session.save(update_fields=["no_show", "no_show_marked_at"])
    bump(session)
    return session


def claim_reminder(*, session: Session) -> bool:
    """Note that the reminder for the session's current start is going out; False when another
    run already did. One conditional UPDATE, so two overlapping cron runs cannot both claim it:
    the reminder goes out at most once per agreed start."""
    claimed = (
        Session.objects.filter(
            pk=session.pk,
            scheduled_at=session.scheduled_at,
            schedule_status=ScheduleStatus.AGREED,
        )
        .exclude(reminded_for=session.scheduled_at)
        .update(reminded_for=session.scheduled_at, **_bumped())
    )
    return bool(claimed)


def send_reminders(*, now: datetime | None = None) -> int:
    """E-mail both participants of every session due a reminder; the number of mails sent.

    Each session's reminder is claimed (committed) before its mails go out, so a crash or an
    overlapping run loses a reminder rather than sending it twice. Participants without an
    e-mail address get none; the room tells them so.
    """
    now = now or timezone.now()
    sent = 0
    for session in schedule.due_reminders(now):
        if not claim_reminder(session=session):
            continue
        people = [p for p in (session.interviewer, session.candidate) if p is not None]
        for reminder in schedule.reminders_for(session, zones_of(people), now=now):
            message = EmailMessage(reminder.subject, reminder.body, to=[reminder.to])
            message.attach("spar-session.ics", reminder.calendar, "text/calendar")
            try:
                message.send()
            except OSError:
                logger.exception("reminder for session %s to %s failed", session.pk, reminder.to)
                continue
            sent += 1
    return sent
