from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from casebank.checklist import case_checklist
from interviews import services as interview_services
from interviews.models import Mark, MarkSource, SelfAssessment, Session
from rubrics import scoring
from rubrics.services import create_draft_version
from scorecards import rescoring, services
from scorecards.models import Rescore
from scorecards.serialize import scores_data
from scorecards.services import ScorecardError
from tests.builders import T0, make_peer_session, play_session
from tests.factories import RubricVersionFactory, StepFactory

pytestmark = pytest.mark.django_db


def _fresh(session: Session) -> Session:
    return Session.objects.get(pk=session.pk)


def _self_marks(session: Session) -> dict[str, tuple[str, bool]]:
    return {
        m.item_key: (m.mark, m.after_hint)
        for m in Mark.objects.filter(session=session, source=MarkSource.SELF)
    }


# --- self-assessment


def test_set_self_mark_stores_a_draft_and_bumps_the_version(candidate, finished):
    version = finished.version
    mark = services.set_self_mark(
        session=finished,
        item_key="business-objective",
        mark="partial",
        after_hint=True,
        by=candidate,
        now=T0 + timedelta(hours=1),
    )
    assert (mark.source, mark.mark, mark.after_hint, mark.marked_by) == (
        MarkSource.SELF,
        "partial",
        True,
        candidate,
    )
    assert mark.marked_at == T0 + timedelta(hours=1)
    fresh = _fresh(finished)
    assert fresh.version == version + 1
    assert fresh.self_assessment == SelfAssessment.PENDING


@pytest.mark.parametrize(("mark", "stored"), [("missed", False), ("", False), ("covered", True)])
def test_after_a_hint_is_kept_only_on_covered_and_partial(candidate, finished, mark, stored):
    services.set_self_mark(
        session=finished, item_key="scale-estimates", mark=mark, after_hint=True, by=candidate
    )
    assert _self_marks(finished) == {"scale-estimates": (mark, stored)}


def test_self_marks_leave_the_interviewers_marks_and_result_alone(candidate, finished):
    before = list(Mark.objects.filter(session=finished, source=MarkSource.INTERVIEWER).values())
    total, band = finished.total_percent, finished.band
    services.set_self_mark(
        session=finished,
        item_key="business-objective",
        mark="missed",
        after_hint=False,
        by=candidate,
    )
    assert (
        list(Mark.objects.filter(session=finished, source=MarkSource.INTERVIEWER).values())
        == before
    )
    fresh = _fresh(finished)
    assert (fresh.total_percent, fresh.band) == (total, band)


def test_save_self_marks_writes_only_what_changed(candidate, finished):
    marks = {"business-objective": ("covered", False), "scale-estimates": ("partial", True)}
    assert services.save_self_marks(session=finished, marks=marks, by=candidate) == 2
    version = _fresh(finished).version
    # The same form sent again (as after per-item saves) writes nothing.
    assert services.save_self_marks(session=finished, marks=marks, by=candidate) == 0
    assert _fresh(finished).version == version
    # Not marked and never stored: nothing to write either.
    assert (
        services.save_self_marks(
            session=finished, marks={"product-surface": ("", False)}, by=candidate
        )
        == 0
    )
    changed = {"business-objective": ("", False), "scale-estimates": ("partial", True)}
    assert services.save_self_marks(session=finished, marks=changed, by=candidate) == 1
    assert _self_marks(finished) == {
        "business-objective": ("", False),
        "scale-estimates": ("partial", True),
    }


def test_save_self_marks_rejects_unknown_items_and_wrong_kinds(candidate, finished):
    with pytest.raises(interview_services.SessionError, match="not part of this session"):
        services.save_self_marks(session=finished, marks={"nope": ("covered", False)}, by=candidate)
    with pytest.raises(interview_services.SessionError, match="does not fit"):
        services.save_self_marks(
            session=finished, marks={"jumps-into-modelling": ("covered", False)}, by=candidate
        )
    assert _self_marks(finished) == {}


def test_submit_closes_the_self_assessment(candidate, finished):
    version = finished.version
    session = services.submit_self_assessment(
        session=finished, by=candidate, marks={"business-objective": ("covered", False)}
    )
    assert session.self_assessment == SelfAssessment.SUBMITTED
    fresh = _fresh(finished)
    assert fresh.self_assessment == SelfAssessment.SUBMITTED
    assert fresh.version == version + 2  # the mark, then the submission
    assert fresh.marks_stamp == fresh.version
    assert _self_marks(finished) == {"business-objective": ("covered", False)}
    with pytest.raises(ScorecardError, match="already submitted"):
        services.set_self_mark(
            session=finished,
            item_key="business-objective",
            mark="missed",
            after_hint=False,
            by=candidate,
        )
    with pytest.raises(ScorecardError, match="already submitted"):
        services.skip_self_assessment(session=finished, by=candidate)


def test_skip_closes_it_without_marks(candidate, finished):
    services.set_self_mark(
        session=finished,
        item_key="business-objective",
        mark="covered",
        after_hint=False,
        by=candidate,
    )
    version = _fresh(finished).version
    services.skip_self_assessment(session=finished, by=candidate)
    fresh = _fresh(finished)
    assert (fresh.self_assessment, fresh.version) == (SelfAssessment.SKIPPED, version + 1)
    with pytest.raises(ScorecardError, match="skipped"):
        services.submit_self_assessment(session=finished, by=candidate)


def test_only_the_candidate_assesses_themselves(interviewer, staff, finished):
    for user in (interviewer, staff):
        with pytest.raises(ScorecardError, match="Only the candidate"):
            services.submit_self_assessment(session=finished, by=user)
    assert _fresh(finished).self_assessment == SelfAssessment.PENDING


def test_self_assessment_waits_for_the_end(interviewer, candidate, case, rubric_version):
    running = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    with pytest.raises(ScorecardError, match="opens when the interview is finished"):
        services.submit_self_assessment(session=running, by=candidate)


def test_solo_self_marks_are_the_result(candidate, solo_finished):
    services.set_self_mark(
        session=solo_finished,
        item_key="business-objective",
        mark="covered",
        after_hint=False,
        by=candidate,
    )
    fresh = _fresh(solo_finished)
    # 2 of 77 expected points.
    assert fresh.total_percent == Decimal("2.597")
    with pytest.raises(ScorecardError, match="solo practice"):
        services.skip_self_assessment(session=solo_finished, by=candidate)
    services.submit_self_assessment(session=solo_finished, by=candidate)
    assert _fresh(solo_finished).self_assessment == SelfAssessment.SUBMITTED


# --- re-scoring


def _mapping_session(interviewer, candidate, case, rubric_version):
    marks = {
        "business-objective": ("covered", False),
        "product-surface": ("covered", False),
        "scale-estimates": ("partial", False),
        "summarize-assumptions": ("covered", False),
        "latency-budget": ("partial", True),
        "case:twist": ("covered", False),
        "jumps-into-modelling": ("observed", False),
    }
    return play_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        marks=lambda items: marks,
    )


def test_rescore_maps_by_key_and_stores_an_additional_result(
    interviewer, candidate, case, rubric_version, v2
):
    session = _mapping_session(interviewer, candidate, case, rubric_version)
    before = (session.total_percent, session.band, session.result, session.version)
    marks_before = list(Mark.objects.filter(session=session).values())
    now = timezone.now()

    rescore = services.rescore_session(session=session, version=v2, by=interviewer, now=now)

    assert rescore.unmapped_keys == {
        "unmapped": [
            {
                "key": "product-surface",
                "title": "Asks where and how predictions appear in the product",
                "step": 1,
                "reason": rescoring.NOT_IN_VERSION,
            },
            {
                "key": "scale-estimates",
                "title": "Establishes scale with numbers",
                "step": 1,
                "reason": rescoring.NOT_IN_VERSION,
            },
            {
                "key": "summarize-assumptions",
                "title": "Summarises requirements and assumptions before designing",
                "step": 1,
                "reason": rescoring.NOW_A_RED_FLAG,
            },
        ],
        "new": [
            {
                "key": "product-surfaces",
                "title": "Asks where predictions show",
                "step": 1,
                "kind": "expected",
            },
            {
                "key": "stakeholders",
                "title": "Names the stakeholders",
                "step": 1,
                "kind": "expected",
            },
        ],
    }
    # The case item maps to itself; the new items count as missed.
    new_items = [item.scoring_item for item in case_checklist(v2.pk, case.pk)]
    expected = scoring.score(
        new_items,
        {
            "business-objective": scoring.ItemMark(scoring.Mark.COVERED),
            "latency-budget": scoring.ItemMark(scoring.Mark.PARTIAL, after_hint=True),
            "case:twist": scoring.ItemMark(scoring.Mark.COVERED),
            "jumps-into-modelling": scoring.ItemMark(scoring.Mark.OBSERVED),
        },
        v2.thresholds,
    )
    assert rescore.result == scores_data(expected)
    # 3 + 0.5 + 2 earned less 2 deducted, of v1's 77 points − 1 (removed) + 1 (re-weighted)
    # − 1 (now a red flag) + 2 (new); the renamed item is worth what it was.
    assert (rescore.result["total"]["net"], rescore.result["total"]["possible"]) == ("3.5", "78")
    assert (rescore.rubric_version, rescore.created_by, rescore.created_at) == (
        v2,
        interviewer,
        now,
    )

    fresh = _fresh(session)
    assert (fresh.total_percent, fresh.band, fresh.result, fresh.version) == before
    assert list(Mark.objects.filter(session=session).values()) == marks_before


def test_rescore_label(interviewer, finished, v2):
    rescore = services.rescore_session(
        session=finished, version=v2, by=interviewer, now=T0 + timedelta(days=1)
    )
    rescore = Rescore.objects.select_related("rubric_version__rubric", "created_by").get()
    assert rescore.label == (
        "Re-scored under ML system design — 7 steps v2 by ines on 2025-03-02 12:00 UTC"
    )


def test_rescore_uses_the_self_marks_of_a_solo_session(candidate, solo_finished, v2):
    services.set_self_mark(
        session=solo_finished,
        item_key="business-objective",
        mark="covered",
        after_hint=False,
        by=candidate,
    )
    rescore = services.rescore_session(session=solo_finished, version=v2, by=candidate)
    # 3 of 78 expected points under v2.
    assert rescore.result["total"]["percent_exact"] == "50/13"


def test_rescore_refuses_versions_that_do_not_fit(interviewer, finished, rubric_version, v2):
    other_rubric = StepFactory(version=RubricVersionFactory(number=2)).version
    draft = create_draft_version(source=v2)
    for version, message in [
        (rubric_version, "scored under version 1 already"),
        (draft, "Version 3 is not published"),
        (other_rubric, "a version of its own rubric"),
    ]:
        with pytest.raises(ScorecardError, match=message):
            services.rescore_session(session=finished, version=version, by=interviewer)
    assert Rescore.objects.count() == 0


def test_rescore_needs_a_finished_session(interviewer, candidate, case, rubric_version, v2):
    running = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    with pytest.raises(ScorecardError, match="finished"):
        services.rescore_session(session=running, version=v2, by=interviewer)
