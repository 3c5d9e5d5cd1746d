"""Writes after the interview: the candidate's self-assessment, re-scores and swapping roles.

Self marks are interviews' Mark rows with source=self, written through interviews.services.set_mark
(which checks each item and its kind, and keeps a solo session's stored result in sync). Every
change here bumps Session.version through interviews.services.bump, so an open room or scorecard
can tell that something changed.
"""

from collections.abc import Mapping
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from casebank.checklist import case_checklist
from casebank.models import Case
from interviews import checklist
from interviews import services as interview_services
from interviews.models import (
    Mark,
    MarkSource,
    MarkValue,
    SelfAssessment,
    Session,
    SessionMode,
    SessionState,
)
from interviews.services import SessionError
from rubrics import scoring
from rubrics.models import RubricVersion
from scorecards import rescoring, serialize
from scorecards.models import Rescore

# What a self-assessment form sends for one item: the mark ("" for none) and "after a hint".
SelfMark = tuple[str, bool]

_HINTABLE = {MarkValue.COVERED, MarkValue.PARTIAL}


class ScorecardError(SessionError):
    """A request that does not fit the session's state; the message is shown to the user."""


def _open_self_assessment(session: Session, by: User) -> Session:
    """The session re-read under a row lock, if `by` may still change its self-assessment."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    if session.candidate_id != by.pk:
        raise ScorecardError("Only the candidate assesses themselves.")
    if not session.is_finished:
        raise ScorecardError("Self-assessment opens when the interview is finished.")
    if session.self_assessment == SelfAssessment.SUBMITTED:
        raise ScorecardError("Your self-assessment is already submitted; it can no longer change.")
    if session.self_assessment == SelfAssessment.SKIPPED:
        raise ScorecardError("You skipped the self-assessment; it can no longer be done.")
    return session


def _normalised(mark: str, after_hint: bool) -> SelfMark:
    # "After a hint" only changes covered and partial; storing it elsewhere would make two equal
    # answers look different in the comparison.
    return mark, after_hint and mark in _HINTABLE


@transaction.atomic
def set_self_mark(
    *,
    session: Session,
    item_key: str,
    mark: str,
    after_hint: bool,
    by: User,
    now: datetime | None = None,
) -> Mark:
    """Save one item of the candidate's self-assessment (a draft until it is submitted)."""
    session = _open_self_assessment(session, by)
    mark, after_hint = _normalised(mark, after_hint)
    return interview_services.set_mark(
        session=session,
        item_key=item_key,
        mark=mark,
        after_hint=after_hint,
        by=by,
        source=MarkSource.SELF,
        now=now,
    )


@transaction.atomic
def save_self_marks(
    *,
    session: Session,
    marks: Mapping[str, SelfMark],
    by: User,
    now: datetime | None = None,
) -> int:
    """Save the candidate's marks for many items at once; returns how many changed.

    Only items whose mark differs from the stored draft are written: with JavaScript each item
    is already saved as it changes, so the whole form sent again writes nothing.
    """
    session = _open_self_assessment(session, by)
    stored = {
        row.item_key: (row.mark, row.after_hint)
        for row in session.marks.filter(source=MarkSource.SELF)
    }
    changed = 0
    for key, (mark, after_hint) in marks.items():
        wanted = _normalised(mark, after_hint)
        if stored.get(key, ("", False)) == wanted:
            continue
        interview_services.set_mark(
            session=session,
            item_key=key,
            mark=wanted[0],
            after_hint=wanted[1],
            by=by,
            source=MarkSource.SELF,
            now=now,
        )
        changed += 1
    return changed


def _close(session: Session, state: SelfAssessment) -> Session:
    session.self_assessment = state
    session.save(update_fields=["self_assessment"])
    interview_services.bump(session, "marks_stamp")
    return session


@transaction.atomic
def submit_self_assessment(
    *,
    session: Session,
    by: User,
    marks: Mapping[str, SelfMark] | None = None,
    now: datetime | None = None,
) -> Session:
    """Save any last marks and close the self-assessment, which reveals the scorecard to the
    candidate and the candidate's marks to the interviewer. Items left unmarked count as missed
    (red flags: not observed), as they do for the interviewer."""
    session = _open_self_assessment(session, by)
    if marks:
        save_self_marks(session=session, marks=marks, by=by, now=now)
    return _close(session, SelfAssessment.SUBMITTED)


@transaction.atomic
def skip_self_assessment(*, session: Session, by: User) -> Session:
    """Close the self-assessment without one: the scorecard opens, with no comparison. Draft
    marks stay stored but are never shown."""
    session = _open_self_assessment(session, by)
    if session.is_solo:
        raise ScorecardError(
            "In solo practice your own marks are the score, so there is nothing to skip to: "
            "mark what you can and submit."
        )
    return _close(session, SelfAssessment.SKIPPED)


@transaction.atomic
def rescore_session(
    *,
    session: Session,
    version: RubricVersion,
    by: User,
    now: datetime | None = None,
) -> Rescore:
    """Score a finished session's marks again under another published version of its rubric.

    Marks map by item key (rubrics.Item.key is the identity across versions; case items map to
    themselves); see rescoring.map_marks for what does not map. The result is stored as a new
    Rescore; the session, its marks and its stored result are not touched.
    """
    own = session.rubric_version
    if not session.is_finished:
        raise ScorecardError("Only a finished session can be re-scored.")
    if version.rubric_id != own.rubric_id:
        raise ScorecardError("A session can only be re-scored under a version of its own rubric.")
    if not version.is_published:
        raise ScorecardError(f"Version {version.number} is not published.")
    if version.pk == own.pk:
        raise ScorecardError(f"The session was scored under version {version.number} already.")
    old_items = [item.scoring_item for item in case_checklist(own.pk, session.case_id)]
    new_entries = case_checklist(version.pk, session.case_id)
    new_items = [item.scoring_item for item in new_entries]
    rows = session.marks.filter(source=checklist.result_source(session))
    marks = checklist.item_marks(rows, (item.key for item in old_items))
    mapped = rescoring.map_marks(old_items, new_items, marks)
    # The case's own list of items that do not apply holds under every version.
    final = mapped.marks | {
        entry.key: scoring.ItemMark(scoring.Mark.NOT_APPLICABLE)
        for entry in new_entries
        if entry.excluded_reason
    }
    card = scoring.score(
        new_items, final, version.thresholds, target_level=scoring.Level(session.target_level)
    )
    result = serialize.scores_data(card)
    unmapped = serialize.mapping_data(mapped)
    # The same marks under the same version give the same result: a second click, or someone
    # else asking again, gets the stored one instead of a twin.
    latest = session.rescores.filter(rubric_version=version).order_by("-created_at", "-pk").first()
    if latest is not None and (latest.result, latest.unmapped_keys) == (result, unmapped):
        return latest
    return Rescore.objects.create(
        session=session,
        rubric_version=version,
        created_by=by,
        created_at=now or timezone.now(),
        result=result,
        unmapped_keys=unmapped,
    )


@transaction.atomic
def swap_roles(*, session: Session, by: User, case: Case | None) -> Session:
    """The next round of the peer loop: a new session with the finished session's roles reversed.

    Same rubric version, length and step budgets; `case` is the caller's pick for the new
    candidate (the view uses the progress page's next-case rule among the cases they have
    neither done as candidate nor interviewed on), None when no such case is left. The new
    candidate is set directly: no invite link, the session is ready to start. Either participant
    may ask; when a swapped session is already waiting (a double click, or both people
    clicking), that one is returned instead of a second one, and the row lock on the finished
    session makes the later request wait for the earlier one. The finished session points to the
    new one (`next_session`) and its swap stamp moves, so the partner's page is told.
    """
    session = interview_services.lock(session)
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
        _point_to(session, waiting)
        return waiting
    if case is None:
        raise SessionError(
            f"{new_candidate.get_username()} has done or interviewed on every published case "
            "already, so there is no fresh case to swap to. Start a session from “New session” "
            "and pick a case to repeat."
        )
    swapped = interview_services.create_session(
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
    interview_services.bump(swapped, "flow_stamp")
    _point_to(session, swapped)
    return swapped


def _point_to(session: Session, swapped: Session) -> None:
    """Link the finished session to its next round and bump it, so that the partner's open
    scorecard, which listens to the finished session, learns where the next room is."""
    if session.next_session_id == swapped.pk:
        return
    session.next_session = swapped
    session.save(update_fields=["next_session"])
    interview_services.bump(session, "swap_stamp")
