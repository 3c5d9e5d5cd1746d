"""The only place that writes sessions. Every write bumps Session.version in its transaction."""

import enum
import secrets
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from casebank.models import Case, ClarificationFact
from interviews import checklist, digest
from interviews.models import (
    FactReveal,
    Hint,
    Mark,
    MarkSource,
    MarkValue,
    Session,
    SessionMode,
    SessionState,
    SessionStep,
)
from rubrics import scoring
from rubrics.models import RubricVersion

# The PostgreSQL channel on which every write announces "<session id> <new version>".
NOTIFY_CHANNEL = "spar_session"
INVITE_TOKEN_BYTES = 32  # 256 bits: unguessable, and short enough for a chat message
LENGTHS = (45, 60)


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


def bump(session: Session, *stamps: str) -> None:
    """Advance the session's version, and the named stamps to the new version, in one UPDATE.

    The only way a version or a stamp moves: every write calls it in its transaction, so a poll
    can tell in one indexed read whether anything changed, and which parts. `session` must have
    been read under the row lock in this transaction (`lock`), so its version plus one is the new
    version and nothing needs reading back. On PostgreSQL it also tells every app server's
    stream hub (interviews/stream.py): a NOTIFY is delivered at commit, and only if it commits.
    """
    new_version = F("version") + 1
    Session.objects.filter(pk=session.pk).update(
        version=new_version, **dict.fromkeys(stamps, new_version)
    )
    session.version += 1
    for stamp in stamps:
        setattr(session, stamp, session.version)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_notify(%s, %s)", [NOTIFY_CHANNEL, f"{session.pk} {session.version}"]
            )


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


def new_invite_token() -> str:
    return secrets.token_urlsafe(INVITE_TOKEN_BYTES)


@transaction.atomic
def create_session(
    *,
    host: AbstractBaseUser,
    case: Case,
    rubric_version: RubricVersion,
    length_minutes: int,
    mode: SessionMode,
    budgets: dict[int, int] | None = None,
) -> Session:
    """A new session with its steps; peer sessions get an invite link for the candidate."""
    if length_minutes not in LENGTHS:
        raise SessionError(f"An interview lasts {' or '.join(map(str, LENGTHS))} minutes.")
    solo = mode == SessionMode.SOLO
    session = Session.objects.create(
        case=case,
        rubric_version=rubric_version,
        mode=mode,
        interviewer=None if solo else host,
        candidate=host if solo else None,
        length_minutes=length_minutes,
        state=SessionState.READY if solo else SessionState.WAITING,
        invite_token=None if solo else new_invite_token(),
    )
    budgets = budgets or {}
    SessionStep.objects.bulk_create(
        SessionStep(
            session=session,
            number=step.number,
            rubric_step=step,
            budget_minutes=budgets.get(step.number, step.budget_minutes(length_minutes)),
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
def join_session(*, token: str, user: AbstractBaseUser) -> Session:
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
    session.save(update_fields=["candidate", "state"])
    bump(session, "flow_stamp")
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


def control_session(
    *, session: Session, action: ControlAction, step: int | None = None, now: datetime | None = None
) -> Session:
    """Apply one flow control; `step` is the target of JUMP."""
    match action:
        case ControlAction.START:
            return start_session(session=session, now=now)
        case ControlAction.PAUSE:
            return pause_session(session=session, now=now)
        case ControlAction.RESUME:
            return resume_session(session=session, now=now)
        case ControlAction.FINISH:
            return finish_session(session=session, now=now)
        case ControlAction.NEXT:
            return go_to_step(session=session, number=session.current_step + 1, now=now)
        case ControlAction.PREVIOUS:
            return go_to_step(session=session, number=session.current_step - 1, now=now)
        case ControlAction.JUMP:
            if step is None:
                raise SessionError("Say which step to go to.")
            return go_to_step(session=session, number=step, now=now)


def _step(session: Session, number: int) -> SessionStep:
    step = session.steps.filter(number=number).first()
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
def start_session(*, session: Session, now: datetime | None = None) -> Session:
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
    bump(session, "flow_stamp")
    return session


@transaction.atomic
def go_to_step(*, session: Session, number: int, now: datetime | None = None) -> Session:
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
    session.current_step = number
    session.running_since = now if running else None
    session.save(update_fields=["current_step", "running_since"])
    bump(session, "flow_stamp")
    return session


@transaction.atomic
def pause_session(*, session: Session, now: datetime | None = None) -> Session:
    now = now or timezone.now()
    session = lock(session)
    if session.state != SessionState.RUNNING:
        raise SessionError("Only a running interview can be paused.")
    _stop_clock(session, now)
    session.state = SessionState.PAUSED
    session.save(update_fields=["state", "running_since"])
    bump(session, "flow_stamp")
    return session


@transaction.atomic
def resume_session(*, session: Session, now: datetime | None = None) -> Session:
    now = now or timezone.now()
    session = lock(session)
    if session.state != SessionState.PAUSED:
        raise SessionError("Only a paused interview can be resumed.")
    session.state = SessionState.RUNNING
    session.running_since = now
    session.save(update_fields=["state", "running_since"])
    bump(session, "flow_stamp")
    return session


@transaction.atomic
def finish_session(*, session: Session, now: datetime | None = None) -> Session:
    """Stop the clock, freeze the marks and store the score computed from them."""
    now = now or timezone.now()
    session = lock(session)
    if not session.is_live:
        raise SessionError("Only a running or paused interview can be finished.")
    _stop_clock(session, now)
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


_RED_FLAG_MARKS = {MarkValue.OBSERVED, ""}
_EXPECTED_MARKS = {MarkValue.COVERED, MarkValue.PARTIAL, MarkValue.MISSED, ""}


@transaction.atomic
def set_mark(
    *,
    session: Session,
    item_key: str,
    mark: str,
    after_hint: bool,
    by: AbstractBaseUser,
    source: MarkSource = MarkSource.INTERVIEWER,
    now: datetime | None = None,
) -> Mark:
    """Record (or clear, with mark="") a checklist mark, timestamped."""
    now = now or timezone.now()
    session = lock(session)
    item = checklist.find_session_item(session, item_key)
    if item is None:
        raise SessionError("That checklist item is not part of this session.")
    allowed = _RED_FLAG_MARKS if item.kind == scoring.Kind.RED_FLAG else _EXPECTED_MARKS
    if mark not in allowed:
        raise SessionError("That mark does not fit this kind of item.")
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
    result, _ = Mark.objects.update_or_create(
        session=session,
        source=source,
        item_key=item_key,
        defaults={
            "step_number": item.step,
            "mark": mark,
            "after_hint": after_hint and mark != MarkValue.OBSERVED,
            "marked_at": now,
            "marked_by": by,
        },
    )
    if session.is_finished and source == checklist.result_source(session):
        _store_result(session)
    bump(session, "marks_stamp")
    return result


@transaction.atomic
def save_notes(
    *,
    session: Session,
    step_number: int,
    text: str,
    base_version: int,
    now: datetime | None = None,
) -> SessionStep:
    """Save the candidate's notes for a step unless they changed since base_version."""
    now = now or timezone.now()
    lock(session)
    if session.state in {SessionState.WAITING}:
        raise SessionError("Notes open once the candidate has joined.")
    step = _step(session, step_number)
    # Compare-and-set in one UPDATE: safe against a concurrent save from another tab.
    updated = SessionStep.objects.filter(pk=step.pk, notes_version=base_version).update(
        notes=text, notes_version=F("notes_version") + 1, notes_updated_at=now
    )
    step.refresh_from_db()
    if not updated:
        if step.notes == text:
            return step  # the same text arrived twice (a retried request): nothing is lost
        raise NotesConflict(step)
    bump(session, "notes_stamp")
    return step


@transaction.atomic
def save_comment(*, session: Session, step_number: int, text: str) -> SessionStep:
    lock(session)
    if session.is_finished:
        raise SessionError("The interview is finished; comments are frozen.")
    step = _step(session, step_number)
    step.comment = text
    step.save(update_fields=["comment"])
    bump(session, "marks_stamp")
    return step


@transaction.atomic
def add_hint(*, session: Session, step_number: int, text: str, now: datetime | None = None) -> Hint:
    lock(session)
    if not session.is_live:
        raise SessionError("Hints can only be logged while the interview runs.")
    _step(session, step_number)
    hint = Hint.objects.create(
        session=session, step_number=step_number, text=text, created_at=now or timezone.now()
    )
    bump(session, "marks_stamp")
    return hint


@transaction.atomic
def set_fact_revealed(
    *, session: Session, fact: ClarificationFact, revealed: bool, now: datetime | None = None
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
    bump(session, "facts_stamp")
