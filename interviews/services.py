"""The only place that writes sessions. Every write bumps Session.version in its transaction."""

import random
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from casebank.models import Case, CaseItem, ClarificationFact
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
from rubrics.models import Item, RubricVersion
from rubrics.services import CASE_ITEM_PREFIX, scoring_items

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


def _bump(session: Session, *stamps: str) -> None:
    """Advance the session's version, and the named stamps to the new version, in one UPDATE."""
    new_version = F("version") + 1
    Session.objects.filter(pk=session.pk).update(
        version=new_version, **dict.fromkeys(stamps, new_version)
    )
    session.refresh_from_db(fields=["version", *stamps])


def _locked(session: Session) -> Session:
    """Re-read the session under a row lock, so concurrent controls apply one after another."""
    return Session.objects.select_for_update().get(pk=session.pk)


def pick_unseen_case(user: AbstractBaseUser) -> Case | None:
    """ "Surprise me": a random published case the user has not had as candidate."""
    unseen = list(
        Case.objects.published().exclude(sessions__candidate=user).values_list("pk", flat=True)
    )
    if not unseen:
        return None
    return Case.objects.get(pk=random.choice(unseen))  # noqa: S311 -- variety, not security


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
    session = _locked(session)
    if session.candidate_id is not None:
        raise SessionError("This session already has a candidate; the invite link is spent.")
    session.invite_token = new_invite_token()
    session.save(update_fields=["invite_token"])
    _bump(session, "flow_stamp")
    return session


@transaction.atomic
def revoke_invite(*, session: Session) -> Session:
    session = _locked(session)
    session.invite_token = None
    session.save(update_fields=["invite_token"])
    _bump(session, "flow_stamp")
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
    _bump(session, "flow_stamp")
    return session


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
    session = _locked(session)
    if session.state == SessionState.WAITING:
        raise SessionError("The candidate has not joined yet: send them the invite link first.")
    if session.state != SessionState.READY:
        raise SessionError("This interview has already started.")
    session.state = SessionState.RUNNING
    session.started_at = session.running_since = now
    session.current_step = 1
    session.save(update_fields=["state", "started_at", "running_since", "current_step"])
    _bump(session, "flow_stamp")
    return session


@transaction.atomic
def go_to_step(*, session: Session, number: int, now: datetime | None = None) -> Session:
    """Move to another step; the clock of the step left stops, the new one's runs."""
    now = now or timezone.now()
    session = _locked(session)
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
    _bump(session, "flow_stamp")
    return session


@transaction.atomic
def pause_session(*, session: Session, now: datetime | None = None) -> Session:
    now = now or timezone.now()
    session = _locked(session)
    if session.state != SessionState.RUNNING:
        raise SessionError("Only a running interview can be paused.")
    _stop_clock(session, now)
    session.state = SessionState.PAUSED
    session.save(update_fields=["state", "running_since"])
    _bump(session, "flow_stamp")
    return session


@transaction.atomic
def resume_session(*, session: Session, now: datetime | None = None) -> Session:
    now = now or timezone.now()
    session = _locked(session)
    if session.state != SessionState.PAUSED:
        raise SessionError("Only a paused interview can be resumed.")
    session.state = SessionState.RUNNING
    session.running_since = now
    session.save(update_fields=["state", "running_since"])
    _bump(session, "flow_stamp")
    return session


@transaction.atomic
def finish_session(*, session: Session, now: datetime | None = None) -> Session:
    """Stop the clock, freeze the marks and store the score computed from them."""
    now = now or timezone.now()
    session = _locked(session)
    if not session.is_live:
        raise SessionError("Only a running or paused interview can be finished.")
    _stop_clock(session, now)
    session.state = SessionState.FINISHED
    session.finished_at = now
    session.invite_token = None
    session.save(update_fields=["state", "finished_at", "running_since", "invite_token"])
    _store_result(session)
    _bump(session, "flow_stamp", "marks_stamp")
    return session


def result_source(session: Session) -> MarkSource:
    """Whose marks make the session's score: the interviewer's, or the candidate's when solo."""
    return MarkSource.SELF if session.is_solo else MarkSource.INTERVIEWER


def _store_result(session: Session) -> None:
    card = score_session(session, source=result_source(session))
    session.total_percent = _decimal(card.total.percent)
    session.band = card.band.value
    session.result = result_summary(session, card)
    session.save(update_fields=["total_percent", "band", "result"])


def _decimal(percent: Fraction | None) -> Decimal | None:
    if percent is None:
        return None
    return (Decimal(percent.numerator) / Decimal(percent.denominator)).quantize(Decimal("0.001"))


def _text(percent: Fraction | None) -> str | None:
    value = _decimal(percent)
    return None if value is None else str(value)


def result_summary(session: Session, card: scoring.Scorecard) -> dict[str, object]:
    """The plain-data digest of a finished session that the progress page reads (see
    Session.result). Percentages are decimal strings with three places, exact enough to chart."""
    steps = list(session.steps.all())
    return {
        "total": _text(card.total.percent),
        "band": card.band.value,
        "capped": card.capped,
        "steps": {str(number): _text(score.percent) for number, score in card.steps.items()},
        "categories": {slug: _text(score.percent) for slug, score in card.categories.items()},
        "missed": [
            line.item.key
            for line in card.lines
            if line.item.kind == scoring.Kind.EXPECTED and not line.earned
        ],
        "red_flags": [line.item.key for line in card.lines if line.deducted],
        "titles": {line.item.key: line.item.title for line in card.lines},
        "overrun_seconds": {
            str(step.number): max(0, round(step.elapsed_seconds - step.budget_minutes * 60))
            for step in steps
        },
    }


def session_items(session: Session) -> list[scoring.Item]:
    return scoring_items(session.rubric_version, session.case.extra_items.all())


def score_session(
    session: Session, *, source: MarkSource, items: list[scoring.Item] | None = None
) -> scoring.Scorecard:
    """The scorecard for the session's marks of one source, by the rubric's rules."""
    items = items if items is not None else session_items(session)
    marks = {
        mark.item_key: scoring.ItemMark(
            scoring.Mark(mark.mark) if mark.mark else None, after_hint=mark.after_hint
        )
        for mark in session.marks.filter(source=source)
    }
    known = {item.key for item in items}
    # Marks of items no longer in the version cannot happen (versions never change), but a
    # case item deleted by an author must not break an old session's score.
    marks = {key: value for key, value in marks.items() if key in known}
    return scoring.score(items, marks, session.rubric_version.thresholds)


@dataclass(frozen=True)
class ItemRef:
    key: str
    step: int
    kind: str


def find_item(session: Session, key: str) -> ItemRef | None:
    """The rubric or case item behind a scoring key, if it belongs to this session."""
    if key.startswith(CASE_ITEM_PREFIX):
        row = (
            CaseItem.objects.filter(case_id=session.case_id, key=key[len(CASE_ITEM_PREFIX) :])
            .values("step", "kind")
            .first()
        )
        return row and ItemRef(key=key, step=row["step"], kind=row["kind"])
    row = (
        Item.objects.filter(step__version_id=session.rubric_version_id, key=key)
        .values("step__number", "kind")
        .first()
    )
    return row and ItemRef(key=key, step=row["step__number"], kind=row["kind"])


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
    session = _locked(session)
    item = find_item(session, item_key)
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
    if session.is_finished and source == result_source(session):
        _store_result(session)
    _bump(session, "marks_stamp")
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
    _bump(session, "notes_stamp")
    return step


@transaction.atomic
def save_comment(*, session: Session, step_number: int, text: str) -> SessionStep:
    if session.is_finished:
        raise SessionError("The interview is finished; comments are frozen.")
    step = _step(session, step_number)
    step.comment = text
    step.save(update_fields=["comment"])
    _bump(session, "marks_stamp")
    return step


@transaction.atomic
def add_hint(*, session: Session, step_number: int, text: str, now: datetime | None = None) -> Hint:
    if not session.is_live:
        raise SessionError("Hints can only be logged while the interview runs.")
    _step(session, step_number)
    hint = Hint.objects.create(
        session=session, step_number=step_number, text=text, created_at=now or timezone.now()
    )
    _bump(session, "marks_stamp")
    return hint


@transaction.atomic
def set_fact_revealed(
    *, session: Session, fact: ClarificationFact, revealed: bool, now: datetime | None = None
) -> None:
    if fact.case_id != session.case_id:
        raise SessionError("That fact belongs to another case.")
    if session.is_finished:
        raise SessionError("The interview is finished.")
    if revealed:
        FactReveal.objects.get_or_create(
            session=session, fact=fact, defaults={"revealed_at": now or timezone.now()}
        )
    else:
        FactReveal.objects.filter(session=session, fact=fact).delete()
    _bump(session, "facts_stamp")


def step_elapsed(session: Session, step: SessionStep, now: datetime) -> float:
    """Seconds spent on a step, including the stretch running right now."""
    seconds = step.elapsed_seconds
    if session.running_since is not None and step.number == session.current_step:
        seconds += max(0.0, (now - session.running_since).total_seconds())
    return seconds


@transaction.atomic
def swap_roles(*, session: Session, by: AbstractBaseUser, case: Case | None) -> Session:
    """The next round of the peer loop: a new session with the finished session's roles reversed.

    Same rubric version, length and step budgets; `case` is the caller's pick for the new
    candidate (the view uses the progress page's next-case rule among the cases they have
    neither done as candidate nor interviewed on), None when no such case is left. The new
    candidate is set directly: no invite link, the session is ready to start. Either participant
    may ask; when a swapped session is already waiting (a double click, or both people
    clicking), that one is returned instead of a second one, and the row lock on the finished
    session makes the later request wait for the earlier one.
    """
    session = _locked(session)
    if session.is_solo:
        raise SessionError("Solo practice has no partner to swap roles with.")
    if not session.is_finished:
        raise SessionError("Roles can be swapped once the interview is finished.")
    if by.pk not in {session.interviewer_id, session.candidate_id}:
        raise SessionError("Only the interviewer and the candidate can swap roles.")
    new_interviewer, new_candidate = session.candidate, session.interviewer
    if new_interviewer is None or new_candidate is None:
        raise SessionError("This session has no candidate to swap roles with.")
    waiting = (
        Session.objects.filter(
            interviewer=new_interviewer,
            candidate=new_candidate,
            rubric_version=session.rubric_version,
            length_minutes=session.length_minutes,
            state=SessionState.READY,
            created_at__gte=session.finished_at,
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if waiting is not None:
        return waiting
    if case is None:
        raise SessionError(
            f"{new_candidate.get_username()} has done or interviewed on every published case "
            "already, so there is no fresh case to swap to. Start a session from “New session” "
            "and pick a case to repeat."
        )
    swapped = create_session(
        host=new_interviewer,
        case=case,
        rubric_version=session.rubric_version,
        length_minutes=session.length_minutes,
        mode=SessionMode.PEER,
        budgets=dict(session.steps.values_list("number", "budget_minutes")),
    )
    swapped.candidate = new_candidate
    swapped.state = SessionState.READY
    swapped.invite_token = None
    swapped.save(update_fields=["candidate", "state", "invite_token"])
    _bump(swapped, "flow_stamp")
    return swapped
