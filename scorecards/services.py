"""Writes for scorecards: the candidate's self-assessment and re-scores.

Self marks are interviews' Mark rows with source=self, written through interviews.services.set_mark
(which checks each item and its kind, and keeps a solo session's stored result in sync). Every
change here bumps Session.version in its transaction, as interviews.services does, so an open
room or scorecard can tell that something changed.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from interviews import services as interview_services
from interviews.models import Mark, MarkSource, MarkValue, SelfAssessment, Session
from interviews.services import SessionError
from rubrics import scoring
from rubrics.models import RubricVersion
from rubrics.services import scoring_items
from scorecards import rescoring, serialize
from scorecards.models import Rescore

# What a self-assessment form sends for one item: the mark ("" for none) and "after a hint".
SelfMark = tuple[str, bool]

_HINTABLE = {MarkValue.COVERED, MarkValue.PARTIAL}


class ScorecardError(SessionError):
    """A request that does not fit the session's state; the message is shown to the user."""


def item_marks(rows: Iterable[Mark], known: Iterable[str]) -> dict[str, scoring.ItemMark]:
    """Stored Mark rows as the scoring engine's marks, leaving out keys it does not know (a case
    item deleted since), as interviews.services.score_session does."""
    keys = set(known)
    return {
        row.item_key: scoring.ItemMark(scoring.Mark(row.mark) if row.mark else None, row.after_hint)
        for row in rows
        if row.item_key in keys
    }


def _open_self_assessment(session: Session, by: AbstractBaseUser) -> Session:
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
    by: AbstractBaseUser,
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
    by: AbstractBaseUser,
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
    new_version = F("version") + 1
    Session.objects.filter(pk=session.pk).update(
        self_assessment=state, version=new_version, marks_stamp=new_version
    )
    session.refresh_from_db(fields=["self_assessment", "version", "marks_stamp"])
    return session


@transaction.atomic
def submit_self_assessment(
    *,
    session: Session,
    by: AbstractBaseUser,
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
def skip_self_assessment(*, session: Session, by: AbstractBaseUser) -> Session:
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
    by: AbstractBaseUser,
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
    case_items = list(session.case.extra_items.prefetch_related("categories"))
    old_items = scoring_items(own, case_items)
    new_items = scoring_items(version, case_items)
    rows = session.marks.filter(source=interview_services.result_source(session))
    marks = item_marks(rows, (item.key for item in old_items))
    mapped = rescoring.map_marks(old_items, new_items, marks)
    card = scoring.score(new_items, mapped.marks, version.thresholds)
    return Rescore.objects.create(
        session=session,
        rubric_version=version,
        created_by=by,
        created_at=now or timezone.now(),
        result=serialize.scores_data(card),
        unmapped_keys=serialize.mapping_data(mapped),
    )
