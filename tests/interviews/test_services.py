import re
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from interviews import services
from interviews.models import Mark, MarkSource, Session, SessionMode, SessionState, SessionStep
from rubrics import scoring
from rubrics.services import create_draft_version, publish_version
from tests.builders import T0, make_peer_session, scoring_items
from tests.factories import CaseFactory, CaseItemFactory, ClarificationFactFactory, UserFactory

pytestmark = pytest.mark.django_db

BUDGETS_45 = [5, 4, 8, 9, 5, 7, 4]
BUDGETS_60 = [7, 5, 11, 12, 6, 9, 5]
STAMPS = ("flow_stamp", "notes_stamp", "facts_stamp", "marks_stamp")


def _budgets(session: Session) -> list[int]:
    return list(session.steps.order_by("number").values_list("budget_minutes", flat=True))


def _elapsed(session: Session) -> dict[int, float]:
    return dict(session.steps.values_list("number", "elapsed_seconds"))


def _fresh(session: Session) -> Session:
    return Session.objects.get(pk=session.pk)


# create_session


def test_create_session_peer_waits_for_candidate_with_invite_token(
    interviewer, case, rubric_version
):
    session = services.create_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.PEER,
    )
    session = _fresh(session)
    assert session.state == SessionState.WAITING
    assert session.interviewer == interviewer
    assert session.candidate is None
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", session.invite_token)
    assert session.version == 1
    assert session.current_step == 1
    assert session.running_since is None
    assert list(session.steps.values_list("number", flat=True)) == [1, 2, 3, 4, 5, 6, 7]
    assert [s.rubric_step.version_id for s in session.steps.all()] == [rubric_version.pk] * 7


def test_create_session_tokens_differ(interviewer, case, rubric_version):
    tokens = {
        services.create_session(
            host=interviewer,
            case=case,
            rubric_version=rubric_version,
            length_minutes=45,
            mode=SessionMode.PEER,
        ).invite_token
        for _ in range(3)
    }
    assert len(tokens) == 3


def test_create_session_solo_is_ready_with_host_as_candidate(candidate, case, rubric_version):
    session = services.create_session(
        host=candidate,
        case=case,
        rubric_version=rubric_version,
        length_minutes=60,
        mode=SessionMode.SOLO,
    )
    session = _fresh(session)
    assert session.state == SessionState.READY
    assert session.candidate == candidate
    assert session.interviewer is None
    assert session.invite_token is None


@pytest.mark.parametrize(("length", "budgets"), [(45, BUDGETS_45), (60, BUDGETS_60)])
def test_create_session_budgets_come_from_rubric(
    interviewer, case, rubric_version, length, budgets
):
    session = services.create_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=length,
        mode=SessionMode.PEER,
    )
    assert session.length_minutes == length
    assert _budgets(session) == budgets


def test_create_session_budget_overrides_replace_only_named_steps(
    interviewer, case, rubric_version
):
    session = services.create_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=60,
        mode=SessionMode.PEER,
        budgets={2: 10, 7: 1},
    )
    assert _budgets(session) == [7, 10, 11, 12, 6, 9, 1]


def test_create_session_rejects_other_lengths(interviewer, case, rubric_version):
    with pytest.raises(services.SessionError, match=r"^An interview lasts 45 or 60 minutes\.$"):
        services.create_session(
            host=interviewer,
            case=case,
            rubric_version=rubric_version,
            length_minutes=30,
            mode=SessionMode.PEER,
        )
    assert Session.objects.count() == 0


# invites and joining


@pytest.fixture
def waiting_session(interviewer, candidate, case, rubric_version) -> Session:
    return make_peer_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        start=False,
    )


def _new_waiting(interviewer, case, rubric_version) -> Session:
    return services.create_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.PEER,
    )


def test_join_session_first_user_becomes_candidate(interviewer, candidate, case, rubric_version):
    session = _new_waiting(interviewer, case, rubric_version)
    joined = services.join_session(token=session.invite_token, user=candidate)
    joined = _fresh(joined)
    assert joined.pk == session.pk
    assert joined.candidate == candidate
    assert joined.state == SessionState.READY


def test_join_session_second_user_gets_invite_unavailable(
    interviewer, candidate, outsider, case, rubric_version
):
    session = _new_waiting(interviewer, case, rubric_version)
    token = session.invite_token
    services.join_session(token=token, user=candidate)
    with pytest.raises(services.InviteUnavailable, match="already has a candidate"):
        services.join_session(token=token, user=outsider)
    assert _fresh(session).candidate == candidate


def test_join_session_interviewer_cannot_join_own_session(interviewer, case, rubric_version):
    session = _new_waiting(interviewer, case, rubric_version)
    with pytest.raises(services.SessionError, match="You are this session's interviewer") as exc:
        services.join_session(token=session.invite_token, user=interviewer)
    assert not isinstance(exc.value, services.InviteUnavailable)
    session = _fresh(session)
    assert session.candidate is None
    assert session.state == SessionState.WAITING


def test_join_session_unknown_token_is_unavailable(candidate, db):
    with pytest.raises(services.InviteUnavailable, match="not valid"):
        services.join_session(token="no-such-token", user=candidate)


def test_revoked_invite_cannot_be_used(interviewer, candidate, case, rubric_version):
    session = _new_waiting(interviewer, case, rubric_version)
    token = session.invite_token
    services.revoke_invite(session=session)
    assert _fresh(session).invite_token is None
    with pytest.raises(services.InviteUnavailable, match="not valid"):
        services.join_session(token=token, user=candidate)
    assert _fresh(session).candidate is None


def test_regenerate_invite_gives_new_token_and_old_stops_working(
    interviewer, candidate, case, rubric_version
):
    session = _new_waiting(interviewer, case, rubric_version)
    old = session.invite_token
    new = services.regenerate_invite(session=session).invite_token
    assert new != old
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", new)
    with pytest.raises(services.InviteUnavailable):
        services.join_session(token=old, user=candidate)
    assert services.join_session(token=new, user=candidate).candidate == candidate


def test_regenerate_invite_after_revoke_works(interviewer, candidate, case, rubric_version):
    session = _new_waiting(interviewer, case, rubric_version)
    services.revoke_invite(session=session)
    token = services.regenerate_invite(session=session).invite_token
    assert services.join_session(token=token, user=candidate).candidate == candidate


def test_regenerate_invite_refused_once_candidate_joined(waiting_session):
    with pytest.raises(services.SessionError, match="already has a candidate"):
        services.regenerate_invite(session=waiting_session)


# the timer


def test_start_session_needs_a_candidate(interviewer, case, rubric_version):
    session = _new_waiting(interviewer, case, rubric_version)
    with pytest.raises(services.SessionError, match="has not joined yet"):
        services.start_session(session=session, now=T0)


def test_start_session_starts_step_one_clock(waiting_session):
    session = services.start_session(session=waiting_session, now=T0)
    session = _fresh(session)
    assert session.state == SessionState.RUNNING
    assert session.started_at == T0
    assert session.running_since == T0
    assert session.current_step == 1
    with pytest.raises(services.SessionError, match="already started"):
        services.start_session(session=session, now=T0)


def test_go_to_step_stops_the_clock_of_the_step_left(running_session):
    session = services.go_to_step(session=running_session, number=2, now=T0 + timedelta(seconds=90))
    assert session.current_step == 2
    assert session.running_since == T0 + timedelta(seconds=90)
    assert _elapsed(session) == {1: 90.0, 2: 0.0, 3: 0.0, 4: 0.0, 5: 0.0, 6: 0.0, 7: 0.0}


def test_pause_and_resume_exclude_paused_time(running_session):
    session = services.pause_session(session=running_session, now=T0 + timedelta(seconds=30))
    assert session.state == SessionState.PAUSED
    assert session.running_since is None
    session = services.resume_session(session=session, now=T0 + timedelta(seconds=100))
    assert session.running_since == T0 + timedelta(seconds=100)
    session = services.go_to_step(session=session, number=2, now=T0 + timedelta(seconds=130))
    # 30 s before the pause and 30 s after it; the 70 s paused do not count.
    assert _elapsed(session)[1] == 60.0


def test_returning_to_a_step_accumulates_its_time(running_session):
    session = services.go_to_step(session=running_session, number=3, now=T0 + timedelta(seconds=90))
    session = services.go_to_step(session=session, number=1, now=T0 + timedelta(seconds=150))
    session = services.go_to_step(session=session, number=3, now=T0 + timedelta(seconds=160))
    assert _elapsed(session) == {1: 100.0, 2: 0.0, 3: 60.0, 4: 0.0, 5: 0.0, 6: 0.0, 7: 0.0}


def test_go_to_step_while_paused_keeps_the_clock_stopped(running_session):
    session = services.pause_session(session=running_session, now=T0 + timedelta(seconds=40))
    session = services.go_to_step(session=session, number=2, now=T0 + timedelta(seconds=100))
    assert session.state == SessionState.PAUSED
    assert session.running_since is None
    session = services.resume_session(session=session, now=T0 + timedelta(seconds=200))
    session = services.finish_session(session=session, now=T0 + timedelta(seconds=210))
    assert _elapsed(session)[1] == 40.0
    assert _elapsed(session)[2] == 10.0


def test_finish_session_stops_the_clock(running_session):
    session = services.go_to_step(session=running_session, number=2, now=T0 + timedelta(seconds=60))
    session = services.finish_session(session=session, now=T0 + timedelta(seconds=105))
    session = _fresh(session)
    assert session.state == SessionState.FINISHED
    assert session.finished_at == T0 + timedelta(seconds=105)
    assert session.running_since is None
    step2 = session.steps.get(number=2)
    assert step2.elapsed_seconds == 45.0
    assert session.step_elapsed(step2, T0 + timedelta(hours=5)) == 45.0


def test_step_elapsed_includes_the_open_stretch_of_the_running_step(running_session):
    session = services.go_to_step(session=running_session, number=2, now=T0 + timedelta(seconds=90))
    steps = {s.number: s for s in session.steps.all()}
    later = T0 + timedelta(seconds=125)
    assert session.step_elapsed(steps[2], later) == 35.0
    assert session.step_elapsed(steps[1], later) == 90.0
    assert session.step_elapsed(steps[3], later) == 0.0


@pytest.mark.parametrize("number", [0, 8])
def test_go_to_step_outside_the_interview_is_an_error(running_session, number):
    with pytest.raises(services.SessionError, match=rf"^This interview has no step {number}\.$"):
        services.go_to_step(session=running_session, number=number, now=T0)
    assert _fresh(running_session).current_step == 1


def test_controls_refused_in_the_wrong_state(running_session):
    with pytest.raises(services.SessionError, match=r"Only a paused interview can be resumed\."):
        services.resume_session(session=running_session, now=T0)
    services.finish_session(session=running_session, now=T0 + timedelta(seconds=5))
    with pytest.raises(services.SessionError, match=r"Only a running interview can be paused\."):
        services.pause_session(session=running_session, now=T0)
    with pytest.raises(services.SessionError, match="only change while the interview is running"):
        services.go_to_step(session=running_session, number=2, now=T0)
    with pytest.raises(services.SessionError, match="Only a running or paused interview"):
        services.finish_session(session=running_session, now=T0)


# version and stamps


def _regenerate(session, **_):
    services.revoke_invite(session=session)
    return services.regenerate_invite(session=session)


WRITES = {
    "start": (lambda s, **_: services.start_session(session=s, now=T0), ["flow_stamp"], False),
    "go_to_step": (
        lambda s, **_: services.go_to_step(session=s, number=2, now=T0),
        ["flow_stamp"],
        True,
    ),
    "pause": (lambda s, **_: services.pause_session(session=s, now=T0), ["flow_stamp"], True),
    "finish": (
        lambda s, **_: services.finish_session(session=s, now=T0),
        ["flow_stamp", "marks_stamp"],
        True,
    ),
    "set_mark": (
        lambda s, by, **_: services.set_mark(
            session=s, item_key="business-objective", mark="covered", after_hint=False, by=by
        ),
        ["marks_stamp"],
        True,
    ),
    "save_notes": (
        lambda s, **_: services.save_notes(session=s, step_number=3, text="hi", base_version=0),
        ["notes_stamp"],
        True,
    ),
    "save_comment": (
        lambda s, **_: services.save_comment(session=s, step_number=1, text="Good start."),
        ["marks_stamp"],
        True,
    ),
    "add_hint": (
        lambda s, **_: services.add_hint(session=s, step_number=1, text="Think of scale."),
        ["marks_stamp"],
        True,
    ),
    "set_fact_revealed": (
        lambda s, **_: services.set_fact_revealed(
            session=s, fact=s.case.facts.get(), revealed=True
        ),
        ["facts_stamp"],
        True,
    ),
    "revoke_invite": (lambda s, **_: services.revoke_invite(session=s), ["flow_stamp"], None),
}


@pytest.mark.parametrize("write", WRITES)
def test_every_write_bumps_version_and_its_stamps(
    write, interviewer, candidate, case, rubric_version
):
    action, stamps, started = WRITES[write]
    if started is None:
        session = _new_waiting(interviewer, case, rubric_version)
    else:
        session = make_peer_session(
            interviewer=interviewer,
            candidate=candidate,
            case=case,
            rubric_version=rubric_version,
            start=started,
        )
    before = _fresh(session)
    action(session, by=interviewer)
    after = _fresh(session)
    assert after.version == before.version + 1
    for stamp in STAMPS:
        expected = after.version if stamp in stamps else getattr(before, stamp)
        assert getattr(after, stamp) == expected, stamp


def test_join_and_regenerate_bump_flow_stamp(interviewer, candidate, case, rubric_version):
    session = _new_waiting(interviewer, case, rubric_version)
    session = services.regenerate_invite(session=session)
    assert (session.version, _fresh(session).flow_stamp) == (2, 2)
    session = services.join_session(token=session.invite_token, user=candidate)
    fresh = _fresh(session)
    assert (fresh.version, fresh.flow_stamp, fresh.notes_stamp, fresh.marks_stamp) == (3, 3, 1, 1)


def test_go_to_current_step_writes_nothing(running_session):
    version = _fresh(running_session).version
    services.go_to_step(session=running_session, number=1, now=T0 + timedelta(seconds=10))
    session = _fresh(running_session)
    assert session.version == version
    assert _elapsed(session)[1] == 0.0


# notes


def test_save_notes_increments_notes_version(running_session):
    step = services.save_notes(
        session=running_session, step_number=2, text="Users: 10M", base_version=0, now=T0
    )
    assert (step.number, step.notes, step.notes_version) == (2, "Users: 10M", 1)
    assert step.notes_updated_at == T0
    step = services.save_notes(
        session=running_session, step_number=2, text="Users: 20M", base_version=1
    )
    assert (step.notes, step.notes_version) == ("Users: 20M", 2)


def test_save_notes_stale_version_is_a_conflict_carrying_server_text(running_session):
    services.save_notes(session=running_session, step_number=1, text="tab one", base_version=0)
    version = _fresh(running_session).version
    with pytest.raises(services.NotesConflict) as exc:
        services.save_notes(session=running_session, step_number=1, text="tab two", base_version=0)
    assert exc.value.step.notes == "tab one"
    assert exc.value.step.notes_version == 1
    assert str(exc.value) == (
        "These notes were changed elsewhere (another tab or device) since you loaded them."
    )
    step = running_session.steps.get(number=1)
    assert (step.notes, step.notes_version) == ("tab one", 1)
    assert _fresh(running_session).version == version


def test_save_notes_retried_identical_text_is_not_a_conflict(running_session):
    services.save_notes(session=running_session, step_number=1, text="same", base_version=0)
    version = _fresh(running_session).version
    step = services.save_notes(session=running_session, step_number=1, text="same", base_version=0)
    assert (step.notes, step.notes_version) == ("same", 1)
    assert _fresh(running_session).version == version


def test_save_notes_refused_before_candidate_joined(interviewer, case, rubric_version):
    session = _new_waiting(interviewer, case, rubric_version)
    with pytest.raises(services.SessionError, match=r"Notes open once the candidate has joined\."):
        services.save_notes(session=session, step_number=1, text="x", base_version=0)


# marks


def _mark(session, key, mark, *, by, after_hint=False, source=MarkSource.INTERVIEWER, now=T0):
    return services.set_mark(
        session=session,
        item_key=key,
        mark=mark,
        after_hint=after_hint,
        by=by,
        source=source,
        now=now,
    )


@pytest.mark.parametrize(
    ("key", "mark"),
    [
        ("business-objective", "covered"),
        ("business-objective", "partial"),
        ("business-objective", "missed"),
        ("business-objective", ""),
        ("jumps-into-modelling", "observed"),
        ("jumps-into-modelling", ""),
        ("case:twist", "covered"),
    ],
)
def test_set_mark_accepts_marks_that_fit_the_kind(running_session, interviewer, key, mark):
    result = _mark(running_session, key, mark, by=interviewer)
    stored = Mark.objects.get(session=running_session)
    assert (stored.pk, stored.item_key, stored.mark, stored.step_number) == (
        result.pk,
        key,
        mark,
        1,
    )
    assert (stored.source, stored.marked_by, stored.marked_at) == (
        MarkSource.INTERVIEWER,
        interviewer,
        T0,
    )


@pytest.mark.parametrize(
    ("key", "mark"),
    [
        ("business-objective", "observed"),
        ("jumps-into-modelling", "covered"),
        ("jumps-into-modelling", "partial"),
        ("jumps-into-modelling", "missed"),
        ("business-objective", "brilliant"),
    ],
)
def test_set_mark_rejects_marks_of_the_wrong_kind(running_session, interviewer, key, mark):
    with pytest.raises(
        services.SessionError, match=r"^That mark does not fit this kind of item\.$"
    ):
        _mark(running_session, key, mark, by=interviewer)
    assert Mark.objects.count() == 0


def test_set_mark_updates_the_one_mark_of_an_item(running_session, interviewer):
    first = _mark(running_session, "business-objective", "missed", by=interviewer)
    later = T0 + timedelta(seconds=30)
    second = _mark(
        running_session, "business-objective", "covered", by=interviewer, after_hint=True, now=later
    )
    stored = Mark.objects.get(session=running_session)
    assert (stored.mark, stored.after_hint, stored.marked_at) == ("covered", True, later)
    # The row is updated in place: the answer of both calls is that one row.
    assert first.pk == second.pk == stored.pk


def test_set_mark_red_flag_never_after_hint(running_session, interviewer):
    _mark(running_session, "jumps-into-modelling", "observed", by=interviewer, after_hint=True)
    assert Mark.objects.get(session=running_session).after_hint is False


def test_set_mark_of_another_step_is_refused(running_session, interviewer):
    with pytest.raises(services.SessionError) as exc:
        _mark(running_session, "ml-objective", "covered", by=interviewer)
    assert str(exc.value) == (
        "That item belongs to step 2; the interview is on step 1. Go to that step to mark it."
    )
    assert Mark.objects.count() == 0


def test_set_mark_case_item_follows_its_step(running_session, interviewer, case):
    CaseItemFactory(case=case, step=5, key="late")
    with pytest.raises(services.SessionError, match="belongs to step 5"):
        _mark(running_session, "case:late", "covered", by=interviewer)
    services.go_to_step(session=running_session, number=5, now=T0)
    assert _mark(running_session, "case:late", "covered", by=interviewer).step_number == 5


@pytest.mark.parametrize("key", ["no-such-item", "case:no-such-item", "case:", "twist", ""])
def test_set_mark_unknown_items_are_refused(running_session, interviewer, key):
    with pytest.raises(services.SessionError, match="not part of this session"):
        _mark(running_session, key, "covered", by=interviewer)


def test_set_mark_item_of_another_case_is_refused(running_session, interviewer):
    CaseItemFactory(case=CaseFactory(), step=1, key="elsewhere")
    with pytest.raises(services.SessionError, match="not part of this session"):
        _mark(running_session, "case:elsewhere", "covered", by=interviewer)


def test_set_mark_after_finish_is_refused(running_session, interviewer):
    services.finish_session(session=running_session, now=T0)
    with pytest.raises(services.SessionError, match="it is frozen now"):
        _mark(running_session, "business-objective", "covered", by=interviewer)
    assert Mark.objects.count() == 0


def test_set_mark_before_start_is_refused(waiting_session, interviewer):
    with pytest.raises(services.SessionError, match="it is frozen now"):
        _mark(waiting_session, "business-objective", "covered", by=interviewer)


def test_finish_stores_the_score_of_the_marks(running_session, interviewer):
    _mark(running_session, "business-objective", "covered", by=interviewer)
    _mark(running_session, "latency-budget", "partial", by=interviewer)
    _mark(running_session, "product-surface", "covered", after_hint=True, by=interviewer)
    _mark(running_session, "jumps-into-modelling", "observed", by=interviewer)
    _mark(running_session, "case:twist", "covered", by=interviewer)
    session = _fresh(services.finish_session(session=running_session, now=T0))

    items = scoring_items(session)
    card = scoring.score(
        items,
        {
            "business-objective": scoring.ItemMark(scoring.Mark.COVERED),
            "latency-budget": scoring.ItemMark(scoring.Mark.PARTIAL),
            "product-surface": scoring.ItemMark(scoring.Mark.COVERED, after_hint=True),
            "jumps-into-modelling": scoring.ItemMark(scoring.Mark.OBSERVED),
            "case:twist": scoring.ItemMark(scoring.Mark.COVERED),
        },
        session.rubric_version.thresholds,
    )
    # 2 + 1 + ½ + 1 earned, 2 deducted: 2.5 of the 76 expected points (75 rubric + 1 case).
    assert card.total.percent == Fraction(250, 76)
    assert session.total_percent == Decimal("3.289")
    assert session.band == card.band.value == "no_hire"


def test_finish_with_a_strong_interview_gives_a_capped_band(running_session, interviewer):
    session = running_session
    items = scoring_items(session)
    expected = [i for i in items if i.kind == scoring.Kind.EXPECTED]
    # Everything covered but one required item of step 1 missed: a hire percent, capped band.
    for number in range(1, 8):
        session = services.go_to_step(session=session, number=number, now=T0)
        for item in expected:
            if item.step == number:
                mark = "missed" if item.key == "latency-budget" else "covered"
                _mark(session, item.key, mark, by=interviewer)
    session = _fresh(services.finish_session(session=session, now=T0))
    assert session.total_percent == Decimal("97.368")  # 74 of 76 points
    assert session.band == "lean_no_hire"


def test_solo_self_marks_open_after_finish_and_update_the_result(solo_session, candidate):
    session = services.start_session(session=solo_session, now=T0)
    with pytest.raises(services.SessionError, match=r"A solo session has no interviewer marks\."):
        _mark(session, "business-objective", "covered", by=candidate)
    with pytest.raises(services.SessionError, match="opens when the interview is finished"):
        _mark(session, "business-objective", "covered", by=candidate, source=MarkSource.SELF)
    session = _fresh(services.finish_session(session=session, now=T0))
    assert (session.total_percent, session.band) == (Decimal("0.000"), "no_hire")

    # Self-assessment covers every step, whatever step the session ended on.
    _mark(session, "business-objective", "covered", by=candidate, source=MarkSource.SELF)
    _mark(session, "ml-objective", "covered", by=candidate, source=MarkSource.SELF)
    session = _fresh(session)
    assert session.total_percent == Decimal("5.263")  # 4 of 76 points
    _mark(session, "ml-objective", "", by=candidate, source=MarkSource.SELF)
    assert _fresh(session).total_percent == Decimal("2.632")  # 2 of 76


def test_interviewer_marks_do_not_count_for_solo_and_self_marks_not_for_peer(
    running_session, interviewer, candidate
):
    _mark(running_session, "business-objective", "covered", by=interviewer)
    session = services.finish_session(session=running_session, now=T0)
    assert _fresh(session).total_percent == Decimal("2.632")
    # A peer candidate's self-assessment (if any) never changes the interviewer's result.
    _mark(session, "ml-objective", "covered", by=candidate, source=MarkSource.SELF)
    assert _fresh(session).total_percent == Decimal("2.632")


# comments, hints, facts


def test_save_comment_and_add_hint(running_session):
    services.save_comment(session=running_session, step_number=3, text="Solid data plan.")
    hint = services.add_hint(
        session=running_session, step_number=1, text="Think about scale.", now=T0
    )
    assert running_session.steps.get(number=3).comment == "Solid data plan."
    assert (hint.step_number, hint.text, hint.created_at) == (1, "Think about scale.", T0)
    services.finish_session(session=running_session, now=T0)
    with pytest.raises(services.SessionError, match="comments are frozen"):
        services.save_comment(session=_fresh(running_session), step_number=3, text="x")
    with pytest.raises(services.SessionError, match="only be logged while the interview runs"):
        services.add_hint(session=_fresh(running_session), step_number=1, text="x")


def test_a_hint_is_logged_for_the_current_step_only(running_session):
    with pytest.raises(services.SessionError, match="on step 1 now, so this hint was not logged"):
        services.add_hint(session=running_session, step_number=2, text="Think about scale.")
    assert not running_session.hints.exists()
    services.go_to_step(session=running_session, number=2)
    services.add_hint(session=_fresh(running_session), step_number=2, text="Think about scale.")
    assert list(running_session.hints.values_list("step_number", flat=True)) == [2]


def test_set_fact_revealed_and_hidden(running_session, case):
    fact = case.facts.get()
    services.set_fact_revealed(session=running_session, fact=fact, revealed=True, now=T0)
    services.set_fact_revealed(session=running_session, fact=fact, revealed=True)
    assert list(running_session.reveals.values_list("fact_id", "revealed_at")) == [(fact.pk, T0)]
    services.set_fact_revealed(session=running_session, fact=fact, revealed=False)
    assert running_session.reveals.count() == 0


def test_set_fact_of_another_case_is_refused(running_session):
    other = ClarificationFactFactory(case=CaseFactory())
    with pytest.raises(services.SessionError, match=r"That fact belongs to another case\."):
        services.set_fact_revealed(session=running_session, fact=other, revealed=True)


# rubric versions


def test_new_rubric_version_leaves_existing_session_on_its_version(
    running_session, interviewer, rubric_version
):
    draft = create_draft_version(source=rubric_version)
    draft.steps.get(number=1).items.filter(key="business-objective").update(points=5)
    newer = publish_version(version=draft)
    assert newer.number == 2

    session = _fresh(running_session)
    assert session.rubric_version_id == rubric_version.pk
    step_versions = set(
        SessionStep.objects.filter(session=session).values_list(
            "rubric_step__version_id", flat=True
        )
    )
    assert step_versions == {rubric_version.pk}
    _mark(session, "business-objective", "covered", by=interviewer)
    session = _fresh(services.finish_session(session=session, now=T0))
    # Still scored with the old version's 2 points of 76, not the new version's 5.
    assert session.total_percent == Decimal("2.632")

    other = UserFactory()
    later = make_peer_session(
        interviewer=interviewer, candidate=other, case=session.case, rubric_version=newer
    )
    assert later.rubric_version_id == newer.pk
