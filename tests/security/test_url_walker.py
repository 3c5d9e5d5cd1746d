"""The authorization walker: every named URL, every role, against an explicit expected table.

A new named URL pattern without a row in SAMPLES fails `test_every_named_url_has_a_sample`, so no
view can skip these checks. Each row requests the URL as anonymous, an outsider, the candidate,
the interviewer, a staff member who takes no part, and a member of another study group, on
objects that belong to the participants (the interviewer owns the world's group, the candidate is
its member). Outside the groups, a member of another group is just an outsider: rows that do not
name `other_group` expect for it what they expect for the outsider.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.groups.builders import in_days
from tests.security.conftest import World

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "outsider", "candidate", "interviewer", "staff", "other_group")
LOGIN = "login"  # a redirect to the login page
# The admin guards itself (staff only, its own login page): see test_admin_is_staff_only.
NAMESPACES_EXCLUDED = {"admin"}


@dataclass
class Sample:
    method: str
    kwargs: Callable[[World], dict[str, Any]]
    expected: dict[str, int | str]
    data: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None  # for a JSON body; a form by default


def _all(code: int | str) -> dict[str, int | str]:
    return dict.fromkeys(ROLES, code)


def _members(code: int) -> dict[str, int | str]:
    return {"anonymous": LOGIN} | dict.fromkeys(ROLES[1:], code)


# A participant's page: outsiders get 404 so the session's existence does not leak.
SESSION_PAGE = {
    "anonymous": LOGIN,
    "outsider": 404,
    "candidate": 200,
    "interviewer": 200,
    "staff": 200,
}


RUNNING = lambda w: {"session_id": w.running.pk}  # noqa: E731 -- table shorthand
FINISHED = lambda w: {"session_id": w.finished.pk}  # noqa: E731
NO_ARGS = lambda w: {}  # noqa: E731
INTERVIEWER_WRITE = {
    "anonymous": LOGIN,
    "outsider": 404,
    "candidate": 403,
    "interviewer": 302,
    "staff": 403,
}

CANDIDATE_WRITE = {
    "anonymous": LOGIN,
    "outsider": 404,
    "candidate": 302,
    "interviewer": 403,
    "staff": 403,
}
RESULTS = {"anonymous": LOGIN, "outsider": 404, "candidate": 403, "interviewer": 200, "staff": 200}

SCHEDULED = lambda w: {"session_id": w.scheduled.pk}  # noqa: E731
GROUP = lambda w: {"group_id": w.group.pk}  # noqa: E731
SLOT = lambda w: {"group_id": w.group.pk, "slot_id": w.slot.pk}  # noqa: E731
# Either participant may schedule; staff looking on may not.
PARTICIPANT_WRITE = INTERVIEWER_WRITE | {"candidate": 302}
# A group's pages: members only; everyone else, staff and other groups' members included, 404.
GROUP_PAGE = {
    "anonymous": LOGIN,
    "outsider": 404,
    "candidate": 200,
    "interviewer": 200,
    "staff": 404,
    "other_group": 404,
}
GROUP_WRITE = GROUP_PAGE | {"candidate": 302, "interviewer": 302}
OWNER_WRITE = GROUP_WRITE | {"candidate": 403}


# The board: both participants draw; staff watch; nobody draws once the interview is finished.
BOARD_DRAW = {
    "anonymous": LOGIN,
    "outsider": 404,
    "candidate": 200,
    "interviewer": 200,
    "staff": 403,
}
BOARD_FROZEN = BOARD_DRAW | {"candidate": 403, "interviewer": 403}


def _board_save(w: World) -> dict[str, Any]:
    box = {"id": "walker-box", "type": "rectangle", "version": 1, "versionNonce": 1}
    return {"base_version": 0, "elements": [box]}


def _slot_data(w: World) -> dict[str, Any]:
    start = in_days(4).strftime("%Y-%m-%dT%H:%M")
    return {"starts_at": start, "length_minutes": 45, "role": "either"}


# name → samples. Codes: the exact status; LOGIN: a redirect to the login page.
SAMPLES: dict[str, list[Sample]] = {
    "core:home": [Sample("GET", NO_ARGS, _all(200))],
    "core:healthz": [Sample("GET", NO_ARGS, _all(200))],
    "accounts:signup": [Sample("GET", NO_ARGS, {"anonymous": 200} | dict.fromkeys(ROLES[1:], 302))],
    "accounts:login": [Sample("GET", NO_ARGS, {"anonymous": 200} | dict.fromkeys(ROLES[1:], 302))],
    "accounts:logout": [Sample("POST", NO_ARGS, _all(302))],
    "accounts:password_change": [Sample("GET", NO_ARGS, _members(200))],
    "accounts:password_change_done": [Sample("GET", NO_ARGS, _members(200))],
    "accounts:password_reset": [Sample("GET", NO_ARGS, _all(200))],
    "accounts:password_reset_done": [Sample("GET", NO_ARGS, _all(200))],
    "accounts:password_reset_confirm": [
        Sample("GET", lambda w: {"uidb64": "MQ", "token": "not-a-token"}, _all(200))
    ],
    "accounts:password_reset_complete": [Sample("GET", NO_ARGS, _all(200))],
    "casebank:library": [Sample("GET", NO_ARGS, _members(200))],
    "casebank:detail": [
        Sample("GET", lambda w: {"slug": w.case.slug}, _members(200)),
        Sample(
            "GET",
            lambda w: {"slug": w.draft.slug},
            {
                "anonymous": LOGIN,
                "outsider": 404,
                "candidate": 404,
                "interviewer": 404,
                "staff": 200,
            },
        ),
    ],
    "interviews:list": [Sample("GET", NO_ARGS, _members(200))],
    "interviews:create": [Sample("GET", NO_ARGS, _members(200))],
    "interviews:room": [Sample("GET", RUNNING, SESSION_PAGE)],
    "interviews:state": [Sample("GET", RUNNING, SESSION_PAGE, query="?v=0")],
    "interviews:control": [
        Sample("POST", RUNNING, INTERVIEWER_WRITE, data=lambda w: {"action": "next"})
    ],
    "interviews:invite": [
        Sample("POST", RUNNING, INTERVIEWER_WRITE, data=lambda w: {"action": "regenerate"})
    ],
    # The running session refuses another case with a message: back to the room.
    "interviews:change_case": [
        Sample("POST", RUNNING, INTERVIEWER_WRITE, data=lambda w: {"surprise": "on"})
    ],
    "interviews:notes": [
        Sample(
            "POST",
            lambda w: {"session_id": w.running.pk, "step": 1},
            {
                "anonymous": LOGIN,
                "outsider": 404,
                "candidate": 200,
                "interviewer": 403,
                "staff": 403,
            },
            data=lambda w: {"text": "notes", "base_version": 0},
            headers={"Accept": "application/json"},
        )
    ],
    "interviews:mark": [
        Sample(
            "POST",
            RUNNING,
            INTERVIEWER_WRITE,
            data=lambda w: {"item": "business-objective", "mark": "covered"},
        )
    ],
    "interviews:fact": [
        Sample(
            "POST",
            lambda w: {"session_id": w.running.pk, "fact_id": w.fact_id},
            INTERVIEWER_WRITE,
            data=lambda w: {"revealed": "on"},
        )
    ],
    "interviews:comment": [
        Sample(
            "POST",
            lambda w: {"session_id": w.running.pk, "step": 1},
            INTERVIEWER_WRITE,
            data=lambda w: {"text": "Clear on scope."},
        )
    ],
    "interviews:hint": [
        Sample(
            "POST",
            lambda w: {"session_id": w.running.pk, "step": 1},
            INTERVIEWER_WRITE,
            data=lambda w: {"text": "Ask about the latency budget."},
        )
    ],
    # The old summary address redirects participants to the scorecard.
    "interviews:summary": [
        Sample(
            "GET",
            FINISHED,
            SESSION_PAGE | dict.fromkeys(("candidate", "interviewer", "staff"), 302),
        )
    ],
    "interviews:join": [Sample("GET", lambda w: {"token": w.waiting.invite_token}, _members(200))],
    "interviews:board": [
        Sample("GET", RUNNING, SESSION_PAGE),
        Sample("GET", FINISHED, SESSION_PAGE),
        Sample("POST", RUNNING, BOARD_DRAW, data=_board_save, content_type="application/json"),
        Sample("POST", FINISHED, BOARD_FROZEN, data=_board_save, content_type="application/json"),
    ],
    "scorecards:swap": [
        Sample(
            "POST",
            FINISHED,
            {
                "anonymous": LOGIN,
                "outsider": 404,
                "candidate": 302,
                "interviewer": 302,
                "staff": 403,
            },
        )
    ],
    "scorecards:scorecard": [Sample("GET", FINISHED, SESSION_PAGE)],
    # Downloads carry the scores: a candidate gets them only after assessing themselves.
    "scorecards:json": [Sample("GET", FINISHED, RESULTS)],
    "scorecards:markdown": [Sample("GET", FINISHED, RESULTS)],
    "scorecards:diagram": [
        Sample("GET", lambda w: {"session_id": w.finished.pk, "snapshot_id": w.diagram_id}, RESULTS)
    ],
    "scorecards:self_assessment": [
        Sample(
            "POST",
            FINISHED,
            CANDIDATE_WRITE,
            data=lambda w: {"action": "save", "business-objective-mark": "covered"},
        )
    ],
    "scorecards:self_mark": [
        Sample(
            "POST",
            FINISHED,
            CANDIDATE_WRITE | {"candidate": 200},
            data=lambda w: {"item": "business-objective", "business-objective-mark": "covered"},
            headers={"HX-Request": "true"},
        )
    ],
    "scorecards:skip_self_assessment": [Sample("POST", FINISHED, CANDIDATE_WRITE)],
    # No other published version in this world, so the form refuses with 400.
    "scorecards:rescore": [
        Sample(
            "POST",
            FINISHED,
            {
                "anonymous": LOGIN,
                "outsider": 404,
                "candidate": 403,
                "interviewer": 400,
                "staff": 400,
            },
            data=lambda w: {"version": 0},
        )
    ],
    "scorecards:progress": [Sample("GET", NO_ARGS, _members(200))],
    "scorecards:progress_csv": [Sample("GET", NO_ARGS, _members(200))],
    # Hosting a session. Refused writes (the running session has started) redirect with a
    # message, like accepted ones; the status shows who got past the permission check.
    "interviews:call_link": [
        Sample("POST", SCHEDULED, PARTICIPANT_WRITE, data=lambda w: {"call_url": ""}),
        Sample("POST", RUNNING, PARTICIPANT_WRITE, data=lambda w: {"call_url": ""}),
    ],
    "interviews:propose_time": [
        Sample(
            "POST",
            SCHEDULED,
            PARTICIPANT_WRITE,
            data=lambda w: {"starts_at": in_days(5).strftime("%Y-%m-%dT%H:%M")},
        )
    ],
    "interviews:accept_time": [Sample("POST", SCHEDULED, PARTICIPANT_WRITE)],
    "interviews:no_show": [Sample("POST", SCHEDULED, PARTICIPANT_WRITE)],
    "interviews:calendar": [
        Sample("GET", SCHEDULED, SESSION_PAGE | {"staff": 403}),
        # No time, no calendar file.
        Sample("GET", RUNNING, SESSION_PAGE | {"candidate": 404, "interviewer": 404, "staff": 403}),
    ],
    # Study groups.
    "groups:list": [Sample("GET", NO_ARGS, _members(200))],
    "groups:detail": [Sample("GET", GROUP, GROUP_PAGE)],
    "groups:progress": [Sample("GET", GROUP, GROUP_PAGE)],
    "groups:share": [Sample("POST", GROUP, GROUP_WRITE, data=lambda w: {"shares_progress": "on"})],
    "groups:invite": [Sample("POST", GROUP, OWNER_WRITE, data=lambda w: {"action": "regenerate"})],
    "groups:offer": [Sample("POST", GROUP, GROUP_WRITE, data=_slot_data)],
    # The interviewer offered the slot: claiming it sends them back to the board.
    "groups:claim": [
        Sample("GET", SLOT, GROUP_PAGE | {"interviewer": 302}),
        Sample("POST", SLOT, GROUP_WRITE),
    ],
    "groups:withdraw": [Sample("POST", SLOT, GROUP_WRITE | {"candidate": 403})],
    # Anyone signed in with the link may join; members are sent to the group.
    "groups:join": [
        Sample(
            "GET",
            lambda w: {"token": w.group.invite_token},
            _members(200) | {"candidate": 302, "interviewer": 302},
        )
    ],
    # The profile.
    "profile:edit": [Sample("GET", NO_ARGS, _members(200))],
    "profile:guess_zone": [
        Sample("POST", NO_ARGS, _members(204), data=lambda w: {"time_zone": "Europe/Berlin"})
    ],
}


def _named_patterns(patterns: list[Any], namespace: str | None = None) -> list[str]:
    names = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            if inner in NAMESPACES_EXCLUDED:
                continue
            names += _named_patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.append(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_every_named_url_has_a_sample():
    names = set(_named_patterns(get_resolver().url_patterns))
    missing = sorted(names - set(SAMPLES))
    assert missing == [], f"add rows to SAMPLES for: {missing}"
    assert sorted(set(SAMPLES) - names) == [], "SAMPLES lists URLs that no longer exist"


CASES = [
    pytest.param(name, index, role, id=f"{name}[{index}]-{role}")
    for name, samples in SAMPLES.items()
    for index in range(len(samples))
    for role in ROLES
]


@pytest.mark.parametrize(("name", "index", "role"), CASES)
def test_url_answers_as_expected_for_role(world, name, index, role):
    sample = SAMPLES[name][index]
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])
    url = reverse(name, kwargs=sample.kwargs(world)) + sample.query
    send = client.get if sample.method == "GET" else client.post
    body = {"content_type": sample.content_type} if sample.content_type else {}
    response = send(url, sample.data(world), headers=sample.headers, **body)
    expected = sample.expected.get(role, sample.expected["outsider"])
    if expected == LOGIN:
        assert response.status_code == 302, response.content[:300]
        assert response["Location"].startswith(reverse("accounts:login") + "?next=")
    else:
        assert response.status_code == expected, (response.status_code, response.content[:300])


def test_refusals_are_logged(world, caplog):
    client = Client()
    client.force_login(world.users["outsider"])
    with caplog.at_level(logging.WARNING, logger="spar.permissions"):
        assert client.get(reverse("interviews:room", args=[world.running.pk])).status_code == 404
    assert [r.getMessage() for r in caplog.records if r.name == "spar.permissions"] == [
        f"denied: user {world.users['outsider'].pk} tried to open on session {world.running.pk}"
    ]


@pytest.mark.parametrize("role", ["anonymous", "outsider", "candidate", "interviewer"])
def test_admin_is_staff_only(world, role):
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])
    for url in (
        reverse("admin:index"),
        reverse("admin:casebank_case_change", args=[world.case.pk]),
        reverse("admin:interviews_session_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_admin_opens_for_staff(world):
    client = Client()
    client.force_login(world.users["staff"])
    assert client.get(reverse("admin:index")).status_code == 200
