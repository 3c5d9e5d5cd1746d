"""Who sees what of a finished session's scorecard, and who may self-assess or re-score.

The rule that matters most: while a peer session's self-assessment is pending, the candidate
sees no score, band, interviewer mark, comment, hint or model answer, in any response, so that
their self-assessment is their own. Views pass these predicates to templates as booleans.
Seeing the session at all is interviews.permissions' rule (404 for outsiders).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from interviews.models import SelfAssessment, Session
from interviews.permissions import AnyUser, Role, get_session_for_user

# A message, not just a status: a candidate who follows a download link too early should learn
# why and what to do.
RESULTS_HIDDEN = (
    "Your scorecard opens once you submit or skip your self-assessment: "
    "mark yourself on the scorecard page first."
)


def sees_results(role: Role | None, session: Session) -> bool:
    """The scores, the interviewer's marks, comments, hints, the model answer and re-scores."""
    if role == Role.CANDIDATE:
        return session.self_assessment != SelfAssessment.PENDING
    return role in {Role.INTERVIEWER, Role.OBSERVER}


def shows_comparison(role: Role | None, session: Session) -> bool:
    """The candidate's marks beside the interviewer's: in peer sessions, once submitted (not
    skipped), for everyone who sees the results. Before that, the interviewer and staff do not
    see the candidate's draft marks. In solo practice the candidate's marks are the result."""
    return (
        not session.is_solo
        and session.self_assessment == SelfAssessment.SUBMITTED
        and sees_results(role, session)
    )


def self_assesses(role: Role | None, session: Session) -> bool:
    """The candidate of a finished session whose self-assessment is still open."""
    return (
        role == Role.CANDIDATE
        and session.is_finished
        and session.self_assessment == SelfAssessment.PENDING
    )


def may_skip(role: Role | None, session: Session) -> bool:
    # Solo practice has no one else's marks to reveal: its self-assessment is the score.
    return self_assesses(role, session) and not session.is_solo


def rescores(role: Role | None) -> bool:
    """The interviewer and staff may score a session again under another rubric version."""
    return role in {Role.INTERVIEWER, Role.OBSERVER}


def get_session_with_results(user: AnyUser, session_id: int) -> tuple[Session, Role]:
    """For the downloads: 404 for outsiders and before the session is finished (there is no
    scorecard yet), 403 with the reason while the results are hidden from the candidate."""
    session, role = get_session_for_user(user, session_id)
    if not session.is_finished:
        raise Http404("This session is not finished yet; its scorecard comes when it is.")
    if not sees_results(role, session):
        raise PermissionDenied(RESULTS_HIDDEN)
    return session, role


def get_session_to_self_assess(user: AnyUser, session_id: int) -> tuple[Session, Role]:
    """The candidate's session; 403 for the other roles. Whether it is finished and still open
    is the services' check, so a late submit (a second tab) gets a message, not an error page."""
    session, role = get_session_for_user(user, session_id)
    if role != Role.CANDIDATE:
        raise PermissionDenied("Only the candidate assesses themselves.")
    return session, role


def get_session_to_rescore(user: AnyUser, session_id: int) -> tuple[Session, Role]:
    session, role = get_session_for_user(user, session_id)
    if not rescores(role):
        raise PermissionDenied("Only the interviewer and staff may re-score a session.")
    return session, role
