from datetime import timedelta
from urllib.parse import quote

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from interviews import permissions, services
from interviews.models import SelfAssessment, Session, SessionMode, SessionState
from interviews.permissions import Role
from tests.builders import SECRETS, T0, make_peer_session
from tests.factories import (
    CaseFactory,
    CaseItemFactory,
    ClarificationFactFactory,
    SessionFactory,
    StepProbeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
JSON = {"Accept": "application/json"}
ROLES = ["anonymous", "outsider", "candidate", "interviewer", "staff"]


def _login(client, role: str, users: dict[str, object]) -> None:
    if role != "anonymous":
        client.force_login(users[role])


@pytest.fixture
def users(interviewer, candidate, outsider, staff) -> dict[str, object]:
    return {
        "interviewer": interviewer,
        "candidate": candidate,
        "outsider": outsider,
        "staff": staff,
    }


# The predicates


def _session_for(mode: str, interviewer, candidate) -> Session:
    # Unsaved: the predicates read only ids and the mode.
    if mode == SessionMode.SOLO:
        return Session(mode=mode, interviewer=None, candidate=candidate)
    return Session(mode=mode, interviewer=interviewer, candidate=candidate)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", None),
        ("outsider", None),
        ("candidate", Role.CANDIDATE),
        ("interviewer", Role.INTERVIEWER),
        ("staff", Role.OBSERVER),
    ],
)
def test_role_in(users, role, expected):
    session = _session_for(SessionMode.PEER, users["interviewer"], users["candidate"])
    user = AnonymousUser() if role == "anonymous" else users[role]
    assert permissions.role_in(user, session) == expected


@pytest.mark.parametrize("user", ROLES)
@pytest.mark.parametrize("opened_as", [Role.CANDIDATE, Role.INTERVIEWER, Role.OBSERVER])
def test_an_open_stream_keeps_only_the_role_it_opened_with(users, user, opened_as, caplog):
    session = _session_for(SessionMode.PEER, users["interviewer"], users["candidate"])
    viewer = AnonymousUser() if user == "anonymous" else users[user]
    expected = permissions.role_in(viewer, session) == opened_as
    assert permissions.keeps_role(viewer, 7, session, opened_as) is expected
    assert ("to keep streaming on session 7" in caplog.text) is not expected
    # A session that is gone keeps no one.
    assert permissions.keeps_role(viewer, 7, None, opened_as) is False


def test_staff_who_is_the_interviewer_acts_as_interviewer(candidate, staff):
    session = Session(mode=SessionMode.PEER, interviewer=staff, candidate=candidate)
    assert permissions.role_in(staff, session) == Role.INTERVIEWER


@pytest.mark.parametrize(
    ("role", "peer", "solo"),
    [
        (None, False, False),
        (Role.CANDIDATE, False, True),
        (Role.INTERVIEWER, True, False),
        (Role.OBSERVER, False, False),
    ],
)
def test_controls_flow(role, peer, solo):
    assert permissions.controls_flow(role, Session(mode=SessionMode.PEER)) is peer
    assert permissions.controls_flow(role, Session(mode=SessionMode.SOLO)) is solo


@pytest.mark.parametrize(
    ("role", "material", "notes"),
    [
        (None, False, False),
        (Role.CANDIDATE, False, True),
        (Role.INTERVIEWER, True, False),
        (Role.OBSERVER, True, False),
    ],
)
def test_material_and_notes_predicates(role, material, notes):
    assert permissions.sees_interviewer_material(role) is material
    assert permissions.writes_notes(role) is notes


@pytest.mark.parametrize(
    ("role", "helper", "outcome"),
    [
        ("outsider", permissions.get_session_for_user, Http404),
        ("staff", permissions.get_session_for_user, Role.OBSERVER),
        ("candidate", permissions.get_session_to_control, PermissionDenied),
        ("interviewer", permissions.get_session_to_control, Role.INTERVIEWER),
        ("staff", permissions.get_session_to_control, PermissionDenied),
        ("candidate", permissions.get_session_for_interviewer, PermissionDenied),
        ("staff", permissions.get_session_for_interviewer, PermissionDenied),
        ("interviewer", permissions.get_session_for_candidate, PermissionDenied),
        ("candidate", permissions.get_session_for_candidate, Role.CANDIDATE),
        ("staff", permissions.get_session_for_candidate, PermissionDenied),
    ],
)
def test_fetch_and_authorise_helpers(users, running_session, role, helper, outcome):
    if isinstance(outcome, Role):
        session, got = helper(users[role], running_session.pk)
        assert (session.pk, got) == (running_session.pk, outcome)
    else:
        with pytest.raises(outcome):
            helper(users[role], running_session.pk)


def test_unknown_session_is_404_for_staff_too(staff, db):
    with pytest.raises(Http404):
        permissions.get_session_for_user(staff, 999999)
    with pytest.raises(Http404):
        permissions.get_poll_row(staff, 999999)


# The endpoints: roles × endpoints on a running peer session (summary: a finished one)


def _endpoint(name: str, session: Session) -> tuple[str, str, dict[str, object], dict[str, str]]:
    """(method, url, data, headers) of a valid request to one endpoint."""
    pk = session.pk
    fact = session.case.facts.first()
    return {
        "room": ("get", reverse("interviews:room", args=[pk]), {}, {}),
        "state": ("get", reverse("interviews:state", args=[pk]), {"v": 0}, HX),
        "summary": ("get", reverse("interviews:summary", args=[pk]), {}, {}),
        "control": ("post", reverse("interviews:control", args=[pk]), {"action": "next"}, HX),
        "invite": ("post", reverse("interviews:invite", args=[pk]), {"action": "revoke"}, {}),
        "notes": (
            "post",
            reverse("interviews:notes", args=[pk, 1]),
            {"text": "my notes", "base_version": 0},
            JSON,
        ),
        "mark": (
            "post",
            reverse("interviews:mark", args=[pk]),
            {"item": "business-objective", "mark": "covered"},
            HX,
        ),
        "fact": ("post", reverse("interviews:fact", args=[pk, fact.pk]), {"revealed": "on"}, HX),
        "comment": ("post", reverse("interviews:comment", args=[pk, 1]), {"text": "Good."}, HX),
        "hint": ("post", reverse("interviews:hint", args=[pk, 1]), {"text": "Scale?"}, HX),
    }[name]


# Expected status per endpoint and role; anonymous is always a redirect to the login page.
PEER_TABLE = {
    #           outsider, candidate, interviewer, staff
    "room": (404, 200, 200, 200),
    "state": (404, 200, 200, 200),
    "summary": (404, 302, 302, 302),  # participants go on to the scorecard
    "control": (404, 403, 200, 403),
    "invite": (404, 403, 302, 403),
    "notes": (404, 200, 403, 403),
    "mark": (404, 403, 200, 403),
    "fact": (404, 403, 200, 403),
    "comment": (404, 403, 200, 403),
    "hint": (404, 403, 200, 403),
}
WRITES = {"control", "invite", "notes", "mark", "fact", "comment", "hint"}


@pytest.mark.parametrize("endpoint", PEER_TABLE)
@pytest.mark.parametrize("role", ROLES)
def test_peer_session_truth_table(client, users, running_session, endpoint, role):
    session = running_session
    if endpoint == "summary":
        session = services.finish_session(session=session, now=T0 + timedelta(minutes=1))
    version = Session.objects.get(pk=session.pk).version
    method, url, data, headers = _endpoint(endpoint, session)
    _login(client, role, users)
    response = getattr(client, method)(url, data, headers=headers)

    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(
            f"{reverse('accounts:login')}?next={quote(url, safe='/')}"
        )
    else:
        expected = PEER_TABLE[endpoint][
            ["outsider", "candidate", "interviewer", "staff"].index(role)
        ]
        assert response.status_code == expected
    allowed = role in {"candidate", "interviewer"} and response.status_code in {200, 302}
    if endpoint in WRITES and not allowed:
        assert Session.objects.get(pk=session.pk).version == version, "a denied write wrote"
    if endpoint in WRITES and allowed:
        assert Session.objects.get(pk=session.pk).version == version + 1


SOLO_TABLE = {
    #           outsider, candidate(host), staff
    "room": (404, 200, 200),
    "state": (404, 200, 200),
    "control": (404, 200, 403),
    "invite": (404, 403, 403),
    "notes": (404, 200, 403),
    "fact": (404, 403, 403),
    "comment": (404, 403, 403),
    "hint": (404, 403, 403),
}


@pytest.mark.parametrize("endpoint", SOLO_TABLE)
@pytest.mark.parametrize("role", ["outsider", "candidate", "staff"])
def test_solo_session_truth_table(client, users, solo_session, endpoint, role):
    session = services.start_session(session=solo_session, now=T0)
    method, url, data, headers = _endpoint(endpoint, session)
    _login(client, role, users)
    response = getattr(client, method)(url, data, headers=headers)
    expected = SOLO_TABLE[endpoint][["outsider", "candidate", "staff"].index(role)]
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "finished", "expected"),
    [
        # Candidates mark themselves on the scorecard's self-assessment, never in the room.
        ("candidate", False, 403),
        ("candidate", True, 403),
        ("staff", True, 403),
        ("outsider", True, 404),
    ],
)
def test_solo_self_marking_permissions(client, users, solo_session, role, finished, expected):
    session = services.start_session(session=solo_session, now=T0)
    if finished:
        session = services.finish_session(session=session, now=T0)
    method, url, data, headers = _endpoint("mark", session)
    _login(client, role, users)
    assert getattr(client, method)(url, data, headers=headers).status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 302), ("outsider", 200), ("staff", 200)]
)
@pytest.mark.parametrize("name", ["interviews:list", "interviews:create"])
def test_list_and_create_need_login_only(client, users, rubric_version, role, expected, name):
    _login(client, role, users)
    response = client.get(reverse(name))
    assert response.status_code == expected


def test_unknown_session_is_404_everywhere(client, outsider, staff, running_session):
    for user in (outsider, staff):
        client.force_login(user)
        for name in PEER_TABLE:
            method, url, data, headers = _endpoint(name, running_session)
            url = url.replace(f"/sessions/{running_session.pk}/", "/sessions/999999/")
            response = getattr(client, method)(url, data, headers=headers)
            assert response.status_code == 404, (user, name)


# Leaks: interviewer-only text must be absent from every response the candidate can fetch


@pytest.fixture
def secret_session(interviewer, candidate, rubric_version) -> Session:
    """A running session whose case and interviewer tools hold text the candidate must not get."""
    case = CaseFactory()
    for step in range(1, 8):
        StepProbeFactory(case=case, step=step, text=f"PROBE-SECRET of step {step}")
    CaseItemFactory(case=case, step=1, key="twist")
    CaseItemFactory(case=case, step=2, key="twist-two")
    revealed = ClarificationFactFactory(
        case=case, question="What is revealed?", answer="REVEALED-ANSWER: shown on purpose."
    )
    for n in range(3):
        ClarificationFactFactory(case=case, answer=f"FACT-ANSWER-SECRET {n}")
    session = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    services.set_fact_revealed(session=session, fact=revealed, revealed=True)
    services.save_notes(session=session, step_number=1, text="business goal first", base_version=0)
    services.set_mark(
        session=session,
        item_key="business-objective",
        mark="covered",
        after_hint=False,
        by=interviewer,
    )
    services.save_comment(session=session, step_number=1, text="COMMENT-SECRET weak on scale")
    services.add_hint(session=session, step_number=1, text="HINT-SECRET ask about QPS")
    return session


INTERVIEWER_ONLY = (*SECRETS, "COMMENT-SECRET", "HINT-SECRET")


def _candidate_responses(client, session: Session, candidate) -> dict[str, str]:
    """Every response the candidate can fetch, keyed by a label, as text."""
    client.force_login(candidate)
    pk = session.pk
    version = Session.objects.get(pk=pk).version
    room = reverse("interviews:room", args=[pk])
    state = reverse("interviews:state", args=[pk])
    notes = reverse("interviews:notes", args=[pk, 1])
    responses = {
        "room": client.get(room),
        "state v=0": client.get(state, {"v": 0}, headers=HX),
        "state v=1": client.get(state, {"v": 1}, headers=HX),
        "state behind by one": client.get(state, {"v": version - 1}, headers=HX),
        "notes json": client.post(
            notes, {"text": "business goal first, then scale", "base_version": 1}, headers=JSON
        ),
        "notes conflict json": client.post(
            notes, {"text": "stale", "base_version": 0}, headers=JSON
        ),
        "notes too long": client.post(
            notes, {"text": "x" * 20_001, "base_version": 2}, headers=JSON
        ),
        "notes form post": client.post(notes, {"text": "form", "base_version": 2}, follow=True),
        "summary": client.get(reverse("interviews:summary", args=[pk]), follow=True),
        "mark attempt": client.post(
            reverse("interviews:mark", args=[pk]),
            {"item": "business-objective", "mark": "covered"},
            headers=HX,
        ),
        "control attempt": client.post(
            reverse("interviews:control", args=[pk]), {"action": "next"}, headers=HX
        ),
        "fact attempt": client.post(
            reverse("interviews:fact", args=[pk, session.case.facts.last().pk]),
            {"revealed": "on"},
            headers=HX,
        ),
    }
    assert responses["notes json"].status_code == 200
    assert responses["notes conflict json"].status_code == 409
    assert responses["notes too long"].status_code == 400
    return {label: r.content.decode() for label, r in responses.items()}


def test_candidate_never_receives_interviewer_material(client, candidate, secret_session):
    responses = _candidate_responses(client, secret_session, candidate)
    for label, text in responses.items():
        for secret in INTERVIEWER_ONLY:
            assert secret not in text, f"{secret!r} leaked in {label}"
    room = responses["room"]
    assert "REVEALED-ANSWER: shown on purpose." in room
    assert "REVEALED-ANSWER: shown on purpose." in responses["state v=0"]
    for text in (room, responses["state v=0"], responses["summary"]):
        assert "Checklist" not in text
        for score_text in ("step-score", "Step score", "Total:", "Band:", "%"):
            assert score_text not in text


@pytest.mark.parametrize("step", [2, 5, 7])
def test_candidate_never_receives_material_on_later_steps(
    client, interviewer, candidate, secret_session, step
):
    services.go_to_step(session=secret_session, number=step)
    responses = _candidate_responses(client, secret_session, candidate)
    for label, text in responses.items():
        for secret in INTERVIEWER_ONLY:
            assert secret not in text, f"{secret!r} leaked in {label}"


def test_candidate_of_a_paused_session_sees_no_material(client, candidate, secret_session):
    services.pause_session(session=secret_session)
    responses = _candidate_responses(client, secret_session, candidate)
    for label, text in responses.items():
        for secret in INTERVIEWER_ONLY:
            assert secret not in text, f"{secret!r} leaked in {label}"


def test_interviewer_receives_the_material(client, interviewer, secret_session):
    client.force_login(interviewer)
    pk = secret_session.pk
    room = client.get(reverse("interviews:room", args=[pk])).content.decode()
    state = client.get(
        reverse("interviews:state", args=[pk]), {"v": 0}, headers=HX
    ).content.decode()
    for text in (room, state):
        # The brief does not change during the interview, so only the page carries it.
        for secret in set(INTERVIEWER_ONLY) - {"INTERVIEWER-BRIEF-SECRET"}:
            assert secret in text, secret
        assert "PROBE-SECRET of step 1" in text
        assert "PROBE-SECRET of step 2" not in text  # only the current step's probes
        assert '<h2 id="checklist-heading">Checklist</h2>' in text
        assert '<p class="checklist-step">Step 1</p>' in text
        assert "Step score: <strong>" in text
    assert "INTERVIEWER-BRIEF-SECRET" in room


def test_staff_observer_receives_the_material(client, staff, secret_session):
    client.force_login(staff)
    room = client.get(reverse("interviews:room", args=[secret_session.pk])).content.decode()
    for secret in ("INTERVIEWER-BRIEF-SECRET", "PROBE-SECRET of step 1", "FACT-ANSWER-SECRET 0"):
        assert secret in room


def test_solo_candidate_sees_no_material_while_running(client, candidate, solo_session):
    StepProbeFactory(case=solo_session.case, step=2, text="PROBE-SECRET two")
    services.start_session(session=solo_session)
    client.force_login(candidate)
    pk = solo_session.pk
    texts = [
        client.get(reverse("interviews:room", args=[pk])).content.decode(),
        client.get(reverse("interviews:state", args=[pk]), {"v": 0}, headers=HX).content.decode(),
    ]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, secret
        assert "Checklist" not in text


def test_outsider_404_reveals_nothing(client, outsider, secret_session):
    client.force_login(outsider)
    response = client.get(reverse("interviews:room", args=[secret_session.pk]))
    assert response.status_code == 404
    text = response.content.decode()
    assert secret_session.case.title not in text


# --- a case's interviewer material outside the room ---------------------------------------


def _user_in_role(role: str, case):
    """A user standing in `role` towards `case`."""
    if role == "anonymous":
        return AnonymousUser()
    if role == "staff":
        return UserFactory(is_staff=True)
    user = UserFactory()
    match role:
        case "interviewer":
            SessionFactory(case=case, interviewer=user, state=SessionState.WAITING)
        case "interviewer-finished":
            SessionFactory(case=case, interviewer=user, state=SessionState.FINISHED)
        case "candidate-waiting":
            SessionFactory(case=case, candidate=user, state=SessionState.WAITING)
        case "candidate-running":
            SessionFactory(case=case, candidate=user, state=SessionState.RUNNING)
        case "candidate-paused":
            SessionFactory(case=case, candidate=user, state=SessionState.PAUSED)
        case "candidate-finished":
            # Finished, but the self-assessment is still pending: the result and the model
            # answer stay hidden until it is submitted or skipped.
            SessionFactory(case=case, candidate=user, state=SessionState.FINISHED)
        case "candidate-finished-assessed":
            SessionFactory(
                case=case,
                candidate=user,
                state=SessionState.FINISHED,
                self_assessment=SelfAssessment.SUBMITTED,
            )
        case "candidate-finished-skipped":
            SessionFactory(
                case=case,
                candidate=user,
                state=SessionState.FINISHED,
                self_assessment=SelfAssessment.SKIPPED,
            )
        case "candidate-finished-another-case":
            SessionFactory(candidate=user, state=SessionState.FINISHED)
        case "interviewer-of-another-case":
            SessionFactory(interviewer=user, state=SessionState.RUNNING)
        case "outsider":
            # Sessions of the case exist, just not with this user in them.
            SessionFactory(case=case, state=SessionState.FINISHED)
        case _:
            raise AssertionError(f"unknown role {role}")
    return user


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", False),
        ("outsider", False),
        ("staff", True),
        ("interviewer", True),
        ("interviewer-finished", True),
        ("candidate-waiting", False),
        ("candidate-running", False),
        ("candidate-paused", False),
        ("candidate-finished", False),
        ("candidate-finished-assessed", True),
        ("candidate-finished-skipped", True),
        ("candidate-finished-another-case", False),
        ("interviewer-of-another-case", False),
    ],
)
def test_sees_case_material(role, expected):
    case = CaseFactory()
    user = _user_in_role(role, case)
    assert permissions.sees_case_material(user, case) is expected


@pytest.mark.parametrize(
    ("state", "assessment"),
    [
        (SessionState.WAITING, SelfAssessment.PENDING),
        (SessionState.RUNNING, SelfAssessment.PENDING),
        (SessionState.FINISHED, SelfAssessment.PENDING),
    ],
)
def test_a_candidate_on_the_case_never_sees_its_material_as_interviewer(state, assessment):
    """Being the interviewer of a session on the case does not open its material while the
    user is, or has not yet self-assessed as, a candidate on it (issue 11, hole 2)."""
    case = CaseFactory()
    user = UserFactory()
    SessionFactory(case=case, candidate=user, state=state, self_assessment=assessment)
    SessionFactory(case=case, interviewer=user, state=SessionState.READY)
    assert permissions.sees_case_material(user, case) is False
    assert permissions.candidate_on_case(user, case) is True


def test_once_assessed_the_former_candidate_may_interview_the_case():
    case = CaseFactory()
    user = UserFactory()
    SessionFactory(
        case=case,
        candidate=user,
        state=SessionState.FINISHED,
        self_assessment=SelfAssessment.SKIPPED,
    )
    SessionFactory(case=case, interviewer=user, state=SessionState.READY)
    assert permissions.candidate_on_case(user, case) is False
    assert permissions.sees_case_material(user, case) is True
