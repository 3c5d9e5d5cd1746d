"""Items that do not apply and items above the session's level (issue 15): from the case's list
or the interviewer's live judgement, into every score the session shows."""

import io
from fractions import Fraction

import pytest
from django.core.management import call_command

from casebank.models import Case, CaseExclusion
from interviews import checklist, services
from interviews.models import MarkSource, MarkValue, Session, SessionMode
from rubrics import scoring
from rubrics.models import Item
from rubrics.services import latest_published_version
from tests.builders import T0, make_peer_session
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _mark(session, key, mark, *, by, reason=""):
    return services.set_mark(
        session=session, item_key=key, mark=mark, after_hint=False, by=by, reason=reason, now=T0
    )


def test_an_item_marked_not_applicable_leaves_the_score(running_session, interviewer):
    _mark(running_session, "business-objective", "covered", by=interviewer)
    before = checklist.score_session(running_session, source=MarkSource.INTERVIEWER)
    mark = _mark(
        running_session,
        "product-surface",
        MarkValue.NOT_APPLICABLE,
        by=interviewer,
        reason="A back-office model: no product surface.",
    )
    assert (mark.mark, mark.reason) == (
        "not_applicable",
        "A back-office model: no product surface.",
    )
    after = checklist.score_session(running_session, source=MarkSource.INTERVIEWER)
    assert after.total.possible == before.total.possible - 1
    assert after.total.earned == before.total.earned
    assert [item.key for item in after.not_applicable] == ["product-surface"]


def test_not_applicable_needs_a_reason_and_a_reason_needs_it(running_session, interviewer):
    with pytest.raises(services.SessionError, match="Say in one line why"):
        _mark(running_session, "product-surface", MarkValue.NOT_APPLICABLE, by=interviewer)
    mark = _mark(running_session, "product-surface", "covered", by=interviewer, reason="ignored")
    assert mark.reason == ""


def test_a_candidate_cannot_mark_an_item_not_applicable(running_session, interviewer, candidate):
    session = services.finish_session(session=running_session, now=T0)
    with pytest.raises(services.SessionError, match="does not fit"):
        services.set_mark(
            session=session,
            item_key="product-surface",
            mark=MarkValue.NOT_APPLICABLE,
            after_hint=False,
            by=candidate,
            reason="not for me",
            source=MarkSource.SELF,
        )


def test_the_cases_own_list_makes_items_not_applicable_whatever_is_marked(
    running_session, interviewer
):
    CaseExclusion.objects.create(
        case=running_session.case, item_key="product-surface", reason="Runs in batch."
    )
    _mark(running_session, "product-surface", "missed", by=interviewer)
    items = checklist.session_checklist(running_session, step=1)
    excluded = [item for item in items if item.excluded_reason]
    assert [(item.key, item.excluded_reason) for item in excluded] == [
        ("product-surface", "Runs in batch.")
    ]
    card = checklist.score_session(running_session, source=MarkSource.INTERVIEWER)
    line = next(line for line in card.lines if line.item.key == "product-surface")
    assert line.not_applicable
    finished = services.finish_session(session=running_session, now=T0)
    assert "product-surface" not in finished.result["missed"]


def test_the_target_level_follows_the_case_and_makes_stretch_items(
    interviewer, candidate, rubric_version
):
    junior = CaseFactory(difficulty="junior")
    session = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=junior, rubric_version=rubric_version
    )
    assert session.target_level == scoring.Level.CORE
    staff_item = Item.objects.filter(step__version=rubric_version).first()
    Item.objects.filter(pk=staff_item.pk).update(level=scoring.Level.STAFF)
    card = checklist.score_session(session, source=MarkSource.INTERVIEWER)
    assert card.target_level == scoring.Level.CORE
    assert staff_item.key in {item.key for item in card.stretch}
    # Unmarked, the stretch item is left out of what is available: no loss.
    line = next(line for line in card.lines if line.item.key == staff_item.key)
    assert line.possible == Fraction(0)


def test_create_session_takes_a_target_level(interviewer, case, rubric_version):
    session = services.create_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.PEER,
        target_level=scoring.Level.STAFF,
    )
    assert Session.objects.get(pk=session.pk).target_level == scoring.Level.STAFF


@pytest.fixture
def library(db: None) -> None:
    call_command("load_casebank", stdout=io.StringIO())


def test_a_perfect_answer_on_the_blurring_case_is_a_strong_hire(library, interviewer, candidate):
    """Issue 15: on the street-imagery blurring case (a batch system) about 12 of 78 points could
    not be earned and the required latency item could not be met, so a perfect answer topped out
    near 85 % and Lean no hire. The case now lists what does not apply."""
    case = Case.objects.get(slug="street-imagery-blurring")
    version = latest_published_version()
    session = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=version
    )
    items = checklist.session_checklist(session)
    for number in range(1, 8):
        services.go_to_step(session=session, number=number, now=T0)
        for item in items:
            if item.step == number and not item.is_red_flag and not item.excluded_reason:
                _mark(session, item.key, "covered", by=interviewer)
    finished = services.finish_session(session=session, now=T0)
    assert finished.band == scoring.Band.STRONG_HIRE
    assert finished.exact_total == 100


def test_create_session_takes_the_cases_own_step_budgets(library, interviewer):
    case = Case.objects.get(slug="street-imagery-blurring")
    assert case.step_budgets  # the case sets its own minutes
    session = services.create_session(
        host=interviewer,
        case=case,
        rubric_version=latest_published_version(),
        length_minutes=60,
        mode=SessionMode.PEER,
        budgets={2: 9},
    )
    budgets = dict(session.steps.values_list("number", "budget_minutes"))
    expected = {n: case.budget_minutes(n, 60) for n in range(1, 8)}
    assert budgets == expected | {2: 9}  # what the form overrides wins
