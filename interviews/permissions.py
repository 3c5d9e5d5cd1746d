"""Who may do what in a session. Views call the get_* helpers, which raise 404 or 403.

Outsiders get 404 for everything, so a session's existence does not leak. Participants who call
an endpoint of the other role get 403. Staff may look at every session but change nothing.
"""

import contextlib
import enum
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404

from casebank.models import Case
from core.queries import single
from interviews.models import SelfAssessment, Session, SessionState

logger = logging.getLogger("spar.permissions")

AnyUser = User | AnonymousUser


class Role(enum.StrEnum):
    INTERVIEWER = "interviewer"
    CANDIDATE = "candidate"
    OBSERVER = "observer"  # staff looking on, read-only


def role_in(user: AnyUser, session: Session) -> Role | None:
    if not user.is_authenticated:
        return None
    if session.interviewer_id == user.pk:
        return Role.INTERVIEWER
    if session.candidate_id == user.pk:
        return Role.CANDIDATE
    if user.is_staff:
        return Role.OBSERVER
    return None


def controls_flow(role: Role | None, session: Session) -> bool:
    """The interviewer drives a peer session; in solo practice the candidate drives."""
    if session.is_solo:
        return role == Role.CANDIDATE
    return role == Role.INTERVIEWER


def sees_interviewer_material(role: Role | None) -> bool:
    """Checklist, probes, brief, facts' answers and live scores: never the candidate's."""
    return role in {Role.INTERVIEWER, Role.OBSERVER}


CANDIDATE_ON_CASE = (
    "You are the candidate on this case right now: its checklist, brief and answers stay hidden "
    "from you until you have finished that interview and assessed yourself. Pick another case."
)


def candidacies(user: User | int) -> QuerySet[Session]:
    """The user's sessions as candidate that are not over for them: not finished, or finished
    with the self-assessment still pending. Meanwhile their cases' interviewer material must
    reach the user nowhere, their own interviewer sessions included, and a case picked for
    them to interview must not be one of these."""
    return Session.objects.filter(candidate=user).exclude(
        state=SessionState.FINISHED,
        self_assessment__in=[SelfAssessment.SUBMITTED, SelfAssessment.SKIPPED],
    )


def candidate_on_case(user: AnyUser | None, case: Case | int) -> bool:
    """None, an empty seat, is on no case."""
    if user is None or not user.is_authenticated:
        return False
    return candidacies(user).filter(case=case).exists()


def interviewer_on_case(session: Session) -> bool:
    """Whether the session's interviewer is meanwhile its case's candidate elsewhere (see
    candidate_on_case), asked by id: the session need not bring its people or case along."""
    if session.interviewer_id is None:
        return False
    return candidacies(session.interviewer_id).filter(case=session.case_id).exists()


def sees_case_material(user: AnyUser, case: Case) -> bool:
    """Whether a case's interviewer material (brief, answers, probes, case items, model answer)
    may reach this user outside a room: staff; the interviewer of a session using the case and
    who finished it as candidate and assessed themselves, unless they are its candidate right
    now. Anyone else may still be its candidate one day, and sending it to them would spoil the
    case."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    if candidate_on_case(user, case):
        return False
    return case.sessions.filter(
        Q(interviewer=user)
        | Q(
            candidate=user,
            state=SessionState.FINISHED,
            self_assessment__in=[SelfAssessment.SUBMITTED, SelfAssessment.SKIPPED],
        )
    ).exists()


def writes_notes(role: Role | None) -> bool:
    return role == Role.CANDIDATE


def _denied(user: AnyUser, session_id: int, what: str) -> None:
    logger.warning(
        "denied: user %s tried %s on session %s",
        getattr(user, "pk", None) or "anonymous",
        what,
        session_id,
    )


def read_session(session_id: int) -> Session | None:
    """The session with its case, rubric version and both people, as the room shows it."""
    return single(
        Session.objects.select_related("case", "rubric_version", "interviewer", "candidate").filter(
            pk=session_id
        )
    )


def read_session_for_stream(session_id: int) -> Session | None:
    """The session for a stream's update: with when its case was last edited (the key of the
    case's kept items, interviews.checklist.case_edited_at), but not the case or the people,
    which only the rarer changes show (a step change, a fact, the presence line) and read when
    they do, nor the rubric version, whose score bands the process keeps with its items
    (interviews.checklist.session_thresholds). Most updates follow a notes save or a mark, and
    joining the four tables (some 80 columns) cost more than the rest of such an update's reads;
    the rubric version alone cost a quarter of a millisecond to join."""
    sessions = Session.objects.annotate(case_edited_at=F("case__updated_at"))
    return single(sessions.filter(pk=session_id))


def get_session_for_user(user: AnyUser, session_id: int) -> tuple[Session, Role]:
    """The session and the user's role in it; 404 for anyone without a role."""
    session = read_session(session_id)
    role = role_in(user, session) if session is not None else None
    if session is None or role is None:
        _denied(user, session_id, "to open")
        raise Http404("No such session.")
    return session, role


def _require(user: AnyUser, session_id: int, allowed: bool, role: Role, what: str) -> None:
    if not allowed:
        _denied(user, session_id, what)
        raise PermissionDenied(f"Your role in this session ({role.value}) may not {what}.")


def keeps_role(user: AnyUser, session_id: int, session: Session | None, role: Role) -> bool:
    """For a stream already open: whether its viewer still has the role it opened with (signed
    in, and staff for an observer). Roles never change in place, so any other answer means
    they may no longer see the room."""
    if session is not None and role_in(user, session) == role:
        return True
    _denied(user, session_id, "to keep streaming")
    return False


def get_session_to_control(user: AnyUser, session_id: int) -> tuple[Session, Role]:
    session, role = get_session_for_user(user, session_id)
    _require(user, session_id, controls_flow(role, session), role, "run the interview")
    return session, role


def get_session_for_interviewer(user: AnyUser, session_id: int) -> tuple[Session, Role]:
    session, role = get_session_for_user(user, session_id)
    _require(user, session_id, role == Role.INTERVIEWER, role, "use the interviewer's tools")
    if candidate_on_case(user, session.case):
        _denied(user, session_id, "to use the interviewer's tools while candidate on the case")
        raise PermissionDenied(CANDIDATE_ON_CASE)
    return session, role


def get_session_for_candidate(user: AnyUser, session_id: int) -> tuple[Session, Role]:
    session, role = get_session_for_user(user, session_id)
    _require(user, session_id, writes_notes(role), role, "write the candidate's notes")
    return session, role


@contextlib.contextmanager
def locked_session(
    user: AnyUser,
    session_id: int,
    *,
    may: Callable[[Role], bool],
    what: str,
    with_checklist: bool = False,
) -> Iterator[tuple[Session, Role]]:
    """For a write: the session read once, under its row lock, in a transaction that lasts the
    with-block, and the user's role, which `may` must allow (404 without a role, 403 otherwise).
    The services' `lock` then finds it current and does not read it again.

    `with_checklist`, for a write whose answer shows the checklist (a mark): the same read also
    brings when the case was last edited (the key of the case's kept items,
    interviews.checklist.case_edited_at). Other writes leave the join out. The rubric version
    is not joined: the process keeps its score bands with its items."""
    # The session's own row only: a write needs none of the case's long texts, and locks
    # neither the case nor the rubric version.
    sessions = Session.objects.select_for_update(of=("self",))
    if with_checklist:
        sessions = sessions.annotate(case_edited_at=F("case__updated_at"))
    with transaction.atomic():
        session = single(sessions.filter(pk=session_id))
        role = role_in(user, session) if session is not None else None
        if session is None or role is None:
            _denied(user, session_id, "to open")
            raise Http404("No such session.")
        _require(user, session_id, may(role), role, what)
        session.locked_for_write = True
        try:
            yield session, role
        finally:
            session.locked_for_write = False


def get_poll_row(user: AnyUser, session_id: int) -> Mapping[str, Any]:
    """The session's version, participants and their "last seen" in one read, for the poll;
    404 like the room."""
    row = (
        Session.objects.filter(pk=session_id)
        .values(
            "id",
            "version",
            "interviewer_id",
            "candidate_id",
            "state",
            "interviewer_seen_at",
            "candidate_seen_at",
        )
        .first()
    )
    if (
        row is None
        or not user.is_authenticated
        or not (user.is_staff or user.pk in {row["interviewer_id"], row["candidate_id"]})
    ):
        _denied(user, session_id, "to poll")
        raise Http404("No such session.")
    return row


class InviteRefused(Exception):
    """An invite link that cannot be used; the message says why."""


def get_invited_session(user: AnyUser, token: str) -> Session:
    """The session an invite link leads to, if the link can still be used by this user: it
    exists, and the session has no candidate yet or already has this user as candidate."""
    session = (
        Session.objects.select_related("case", "interviewer").filter(invite_token=token).first()
    )
    if session is None:
        raise InviteRefused(
            "This invite link is not valid any more: it was used, revoked or mistyped."
        )
    if session.candidate_id not in {None, user.pk}:
        raise InviteRefused("This session already has a candidate.")
    return session


def swaps_roles(role: Role | None) -> bool:
    """Either participant may swap roles after a session; staff looking on may not."""
    return role in {Role.INTERVIEWER, Role.CANDIDATE}


def offers_swap(role: Role | None, session: Session) -> bool:
    """Whether to show the "Swap roles" button: to a participant of a finished peer session."""
    return swaps_roles(role) and not session.is_solo and session.is_finished


def get_session_to_swap(user: AnyUser, session_id: int) -> tuple[Session, Role]:
    session, role = get_session_for_user(user, session_id)
    _require(user, session_id, swaps_roles(role), role, "swap roles")
    return session, role


def takes_part(role: Role | None) -> bool:
    """The interviewer or the candidate: who may schedule, set the call link, mark a no-show
    and download the calendar file. Staff looking on may not."""
    return role in {Role.INTERVIEWER, Role.CANDIDATE}


def get_session_for_participant(user: AnyUser, session_id: int) -> tuple[Session, Role]:
    session, role = get_session_for_user(user, session_id)
    _require(user, session_id, takes_part(role), role, "schedule this session")
    return session, role


def draws_on_board(role: Role | None) -> bool:
    """The interviewer and the candidate both draw on the board (the interviewer to point at
    something); staff looking on only watch."""
    return role in {Role.INTERVIEWER, Role.CANDIDATE}


def board_read_only(role: Role | None, session: Session) -> bool:
    """Whether the board opens in view mode: for staff, and for everyone from the finish."""
    return not draws_on_board(role) or session.is_finished


def get_session_to_draw(user: AnyUser, session_id: int) -> tuple[Session, Role]:
    session, role = get_session_for_user(user, session_id)
    _require(user, session_id, draws_on_board(role), role, "draw on the board")
    return session, role
