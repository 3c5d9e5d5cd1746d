"""Who sees what of a scorecard, as truth tables: the predicates, then every endpoint."""

from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from interviews.models import SelfAssessment, Session, SessionMode, SessionState
from interviews.permissions import Role
from scorecards import permissions, services
from tests.builders import make_peer_session

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
ROLES = ["anonymous", "outsider", "candidate", "interviewer", "staff"]
STATES = [SelfAssessment.PENDING, SelfAssessment.SUBMITTED, SelfAssessment.SKIPPED]


def _session(mode: str, state: str) -> Session:
    # Unsaved: the predicates read the mode and the states only.
    return Session(mode=mode, state=SessionState.FINISHED, self_assessment=state)


# (role, self-assessment) → (sees results, shows comparison, self-assesses)
PEER = {
    (None, SelfAssessment.PENDING): (False, False, False),
    (None, SelfAssessment.SUBMITTED): (False, False, False),
    (Role.CANDIDATE, SelfAssessment.PENDING): (False, False, True),
    (Role.CANDIDATE, SelfAssessment.SUBMITTED): (True, True, False),
    (Role.CANDIDATE, SelfAssessment.SKIPPED): (True, False, False),
    (Role.INTERVIEWER, SelfAssessment.PENDING): (True, False, False),
    (Role.INTERVIEWER, SelfAssessment.SUBMITTED): (True, True, False),
    (Role.INTERVIEWER, SelfAssessment.SKIPPED): (True, False, False),
    (Role.OBSERVER, SelfAssessment.PENDING): (True, False, False),
    (Role.OBSERVER, SelfAssessment.SUBMITTED): (True, True, False),
    (Role.OBSERVER, SelfAssessment.SKIPPED): (True, False, False),
}
SOLO = {
    (Role.CANDIDATE, SelfAssessment.PENDING): (False, False, True),
    (Role.CANDIDATE, SelfAssessment.SUBMITTED): (True, False, False),
    (Role.OBSERVER, SelfAssessment.PENDING): (True, False, False),
    (Role.OBSERVER, SelfAssessment.SUBMITTED): (True, False, False),
}


@pytest.mark.parametrize(
    ("mode", "key", "expected"),
    [
        *[(SessionMode.PEER, key, value) for key, value in PEER.items()],
        *[(SessionMode.SOLO, key, value) for key, value in SOLO.items()],
    ],
)
def test_visibility_predicates(mode, key, expected):
    role, state = key
    session = _session(mode, state)
    assert (
        permissions.sees_results(role, session),
        permissions.shows_comparison(role, session),
        permissions.self_assesses(role, session),
    ) == expected


def test_self_assessment_needs_a_finished_session():
    session = Session(mode=SessionMode.PEER, state=SessionState.RUNNING)
    assert not permissions.self_assesses(Role.CANDIDATE, session)


@pytest.mark.parametrize(
    ("mode", "state", "skip"),
    [
        (SessionMode.PEER, SelfAssessment.PENDING, True),
        (SessionMode.PEER, SelfAssessment.SUBMITTED, False),
        (SessionMode.SOLO, SelfAssessment.PENDING, False),
    ],
)
def test_may_skip(mode, state, skip):
    assert permissions.may_skip(Role.CANDIDATE, _session(mode, state)) is skip
    assert permissions.may_skip(Role.INTERVIEWER, _session(mode, state)) is False


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(None, False), (Role.CANDIDATE, False), (Role.INTERVIEWER, True), (Role.OBSERVER, True)],
)
def test_rescores(role, allowed):
    assert permissions.rescores(role) is allowed


@pytest.mark.parametrize(
    ("role", "helper", "outcome"),
    [
        ("outsider", permissions.get_session_with_results, Http404),
        ("candidate", permissions.get_session_with_results, PermissionDenied),
        ("interviewer", permissions.get_session_with_results, Role.INTERVIEWER),
        ("staff", permissions.get_session_with_results, Role.OBSERVER),
        ("outsider", permissions.get_session_to_self_assess, Http404),
        ("candidate", permissions.get_session_to_self_assess, Role.CANDIDATE),
        ("interviewer", permissions.get_session_to_self_assess, PermissionDenied),
        ("staff", permissions.get_session_to_self_assess, PermissionDenied),
        ("outsider", permissions.get_session_to_rescore, Http404),
        ("candidate", permissions.get_session_to_rescore, PermissionDenied),
        ("interviewer", permissions.get_session_to_rescore, Role.INTERVIEWER),
        ("staff", permissions.get_session_to_rescore, Role.OBSERVER),
    ],
)
def test_fetch_and_authorise_helpers(users, light, role, helper, outcome):
    if isinstance(outcome, Role):
        session, got = helper(users[role], light.pk)
        assert (session.pk, got) == (light.pk, outcome)
    else:
        with pytest.raises(outcome):
            helper(users[role], light.pk)


def test_downloads_of_an_unfinished_session_are_404(interviewer, candidate, case, rubric_version):
    running = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    with pytest.raises(Http404):
        permissions.get_session_with_results(interviewer, running.pk)


# --- every endpoint, for every role


def _request(name: str, session: Session, v2) -> tuple[str, str, dict[str, object], dict[str, str]]:
    pk = session.pk
    return {
        "scorecard": ("get", reverse("scorecards:scorecard", args=[pk]), {}, {}),
        "json": ("get", reverse("scorecards:json", args=[pk]), {}, {}),
        "markdown": ("get", reverse("scorecards:markdown", args=[pk]), {}, {}),
        "self_assessment": (
            "post",
            reverse("scorecards:self_assessment", args=[pk]),
            {"action": "save", "business-objective-mark": "covered"},
            {},
        ),
        "self_mark": (
            "post",
            reverse("scorecards:self_mark", args=[pk]),
            {"item": "business-objective", "business-objective-mark": "covered"},
            HX,
        ),
        "skip": ("post", reverse("scorecards:skip_self_assessment", args=[pk]), {}, {}),
        "rescore": ("post", reverse("scorecards:rescore", args=[pk]), {"version": v2.pk}, {}),
    }[name]


# Status per endpoint for outsider, candidate, interviewer, staff, while the self-assessment is
# pending and once it is submitted. Anonymous visitors always go to the login page.
TABLE = {
    "scorecard": ((404, 200, 200, 200), (404, 200, 200, 200)),
    "json": ((404, 403, 200, 200), (404, 200, 200, 200)),
    "markdown": ((404, 403, 200, 200), (404, 200, 200, 200)),
    # After submitting, a late save is told so on the scorecard (a redirect with a message).
    "self_assessment": ((404, 302, 403, 403), (404, 302, 403, 403)),
    "self_mark": ((404, 200, 403, 403), (404, 409, 403, 403)),
    "skip": ((404, 302, 403, 403), (404, 302, 403, 403)),
    "rescore": ((404, 403, 302, 302), (404, 403, 302, 302)),
}


@pytest.mark.parametrize("submitted", [False, True], ids=["pending", "submitted"])
@pytest.mark.parametrize("endpoint", TABLE)
@pytest.mark.parametrize("role", ROLES)
def test_endpoint_truth_table(client, users, candidate, light, v2, endpoint, role, submitted):
    if submitted:
        services.submit_self_assessment(session=light, by=candidate)
    method, url, data, headers = _request(endpoint, light, v2)
    if role != "anonymous":
        client.force_login(users[role])
    response = getattr(client, method)(url, data, headers=headers)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('accounts:login')}?next={quote(url, safe='/')}"
        return
    expected = TABLE[endpoint][submitted][
        ["outsider", "candidate", "interviewer", "staff"].index(role)
    ]
    assert response.status_code == expected


@pytest.mark.parametrize("role", ["candidate", "interviewer", "staff"])
def test_unfinished_session_scorecard_redirects_to_the_room(
    client, users, interviewer, candidate, case, rubric_version, role
):
    running = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    client.force_login(users[role])
    response = client.get(reverse("scorecards:scorecard", args=[running.pk]))
    assert (response.status_code, response["Location"]) == (
        302,
        reverse("interviews:room", args=[running.pk]),
    )
    assert client.get(reverse("scorecards:json", args=[running.pk])).status_code == 404
