"""A session's checklist and its marks, read for the room, the scorecard and the stored result.

The join of rubric and case items is casebank.checklist's; this module adds what belongs to a
session: whose marks make the result, and stored Mark rows turned into the scoring engine's marks.
"""

from collections.abc import Iterable
from datetime import datetime

from django.utils.safestring import SafeString

from casebank.checklist import (
    ChecklistItem,
    ItemRef,
    case_checklist,
    find_item,
    probe_html,
    rubric_thresholds,
)
from interviews.models import Mark, MarkSource, Session
from rubrics import scoring


def case_edited_at(session: Session) -> datetime | None:
    """When the session's case was last edited, if that was read with the session (its case
    joined, or the `case_edited_at` of permissions.locked_session): then the case's own items
    come from the process's cache (casebank.checklist.case_parts)."""
    if Session.case.is_cached(session):
        return session.case.updated_at
    edited_at: datetime | None = getattr(session, "case_edited_at", None)
    return edited_at


def session_checklist(session: Session, *, step: int | None = None) -> list[ChecklistItem]:
    return case_checklist(
        session.rubric_version_id, session.case_id, step=step, edited_at=case_edited_at(session)
    )


def find_session_item(session: Session, key: str) -> ItemRef | None:
    return find_item(
        session.rubric_version_id, session.case_id, key, edited_at=case_edited_at(session)
    )


def step_probes(session: Session) -> SafeString:
    """The case's probes for the session's current step, rendered."""
    return probe_html(session.case_id, session.current_step, edited_at=case_edited_at(session))


def result_source(session: Session) -> MarkSource:
    """Whose marks make the session's score: the interviewer's, or the candidate's when solo."""
    return MarkSource.SELF if session.is_solo else MarkSource.INTERVIEWER


def item_marks(rows: Iterable[Mark], known: Iterable[str]) -> dict[str, scoring.ItemMark]:
    """Stored Mark rows as the scoring engine's marks. Keys the checklist no longer has are left
    out: versions never change, but an author may delete a case item after a session used it,
    and that must not break the session's score."""
    keys = set(known)
    return {
        row.item_key: scoring.ItemMark(scoring.Mark(row.mark) if row.mark else None, row.after_hint)
        for row in rows
        if row.item_key in keys
    }


_EXCLUDED = scoring.ItemMark(scoring.Mark.NOT_APPLICABLE)


def checklist_marks(
    rows: Iterable[Mark], items: Iterable[ChecklistItem]
) -> dict[str, scoring.ItemMark]:
    """Stored marks for a checklist, with the case's own not-applicable items marked so whatever
    was ticked: the author's judgement of the case holds for every session on it."""
    items = list(items)
    marks = item_marks(rows, (item.key for item in items))
    marks.update({item.key: _EXCLUDED for item in items if item.excluded_reason})
    return marks


def score_items(
    session: Session, items: list[ChecklistItem], rows: Iterable[Mark]
) -> scoring.Scorecard:
    """Score stored marks over (part of) the session's checklist, at the session's level."""
    return scoring.score(
        [item.scoring_item for item in items],
        checklist_marks(rows, items),
        session_thresholds(session),
        target_level=scoring.Level(session.target_level),
    )


def session_thresholds(session: Session) -> scoring.Thresholds:
    """The score bands of the session's rubric version: from the version if it was read with the
    session, else as the process keeps them (the room's writes and updates do not join it)."""
    if Session.rubric_version.is_cached(session):
        return session.rubric_version.thresholds
    return rubric_thresholds(session.rubric_version_id)


def score_session(
    session: Session, *, source: MarkSource, items: list[ChecklistItem] | None = None
) -> scoring.Scorecard:
    """The scorecard of the session's marks of one source, by its rubric version's rules."""
    items = items if items is not None else session_checklist(session)
    return score_items(session, items, session.marks.filter(source=source))
