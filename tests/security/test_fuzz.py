"""Hypothesis throws random, oversized, malformed and unicode-heavy input at every form and htmx
endpoint: the answer is never a 500, and nothing changes that the sender may not change."""

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.profile import all_zone_names
from accounts.profile_models import Profile
from groups.models import Membership, Slot, StudyGroup
from interviews.board import validate_elements
from interviews.board_svg import render_svg
from interviews.models import FactReveal, Hint, Mark, Session, SessionBoard, SessionStep
from tests.security.conftest import World

pytestmark = pytest.mark.django_db

# Surrogates cannot be encoded as UTF-8 by any client, so they never reach the server.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
# Over every length limit; built by repetition because Hypothesis draws strings of ≤ ~8k chars.
HUGE = st.builds(
    lambda chunk, length: (chunk * length)[:length],
    st.text(st.sampled_from("[]()*_`<>!|#&\\ \nxé🙂"), min_size=1, max_size=12),
    st.integers(20_001, 25_000),
)
NUMBERISH = st.one_of(st.integers(-(2**70), 2**70).map(str), TEXT, st.just(""))
VALUE = st.one_of(TEXT, NUMBERISH, HUGE)

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _form(fields: list[str]) -> st.SearchStrategy[dict[str, str]]:
    """Some of the real fields (maybe missing), with hostile values, plus stray keys."""
    known = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, VALUE))
    extra = st.dictionaries(st.text(min_size=1, max_size=20), TEXT, max_size=3)
    return st.builds(lambda a, b: {**b, **a}, known, extra)


def _snapshot(session: Session) -> tuple[Any, ...]:
    session.refresh_from_db()
    return (
        session.version,
        session.state,
        session.current_step,
        session.invite_token,
        list(SessionStep.objects.filter(session=session).values_list("notes", "comment")),
        list(Mark.objects.filter(session=session).values_list("item_key", "mark")),
        FactReveal.objects.filter(session=session).count(),
        Hint.objects.filter(session=session).count(),
    )


# (URL name, kwargs, fields, the role that may write there)
ENDPOINTS: list[tuple[str, Callable[[World], dict[str, Any]], list[str], str]] = [
    (
        "interviews:control",
        lambda w: {"session_id": w.running.pk},
        ["action", "step"],
        "interviewer",
    ),
    ("interviews:invite", lambda w: {"session_id": w.running.pk}, ["action"], "interviewer"),
    (
        "interviews:change_case",
        lambda w: {"session_id": w.waiting.pk},
        ["case", "surprise"],
        "interviewer",
    ),
    (
        "interviews:notes",
        lambda w: {"session_id": w.running.pk, "step": 1},
        ["text", "base_version"],
        "candidate",
    ),
    (
        "interviews:mark",
        lambda w: {"session_id": w.running.pk},
        ["item", "mark", "after_hint"],
        "interviewer",
    ),
    (
        "interviews:fact",
        lambda w: {"session_id": w.running.pk, "fact_id": w.fact_id},
        ["revealed"],
        "interviewer",
    ),
    (
        "interviews:comment",
        lambda w: {"session_id": w.running.pk, "step": 1},
        ["text"],
        "interviewer",
    ),
    ("interviews:hint", lambda w: {"session_id": w.running.pk, "step": 1}, ["text"], "interviewer"),
]


def _client(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


@pytest.mark.parametrize(
    ("name", "kwargs", "fields", "writer"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS]
)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_session_endpoints_survive_garbage(world, name, kwargs, fields, writer, htmx):
    url = reverse(name, kwargs=kwargs(world))
    headers = {"HX-Request": "true"} if htmx else {}
    if name == "interviews:notes" and htmx:
        headers = {"Accept": "application/json"}
    allowed = _client(world, writer)
    others = [
        _client(world, role)
        for role in ("outsider", "staff")
        + (("candidate",) if writer == "interviewer" else ("interviewer",))
    ]

    @FUZZ
    @given(data=_form(fields))
    def check(data: dict[str, str]) -> None:
        before = _snapshot(world.running)
        for client in others:
            response = client.post(url, data, headers=headers)
            assert response.status_code in {403, 404}, response.status_code
        assert _snapshot(world.running) == before
        response = allowed.post(url, data, headers=headers)
        assert response.status_code < 500

    check()


# The board takes JSON, not a form: hostile JSON values, elements that look nearly right, and
# bytes that are not JSON at all.
JSON_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
ELEMENT = st.fixed_dictionaries(
    {
        "id": st.one_of(st.sampled_from(["a", "b", "c"]), TEXT, JSON_VALUE),
        "type": st.one_of(
            st.sampled_from(["rectangle", "text", "arrow", "freedraw", "image", "embeddable"]),
            JSON_VALUE,
        ),
        "version": st.one_of(st.integers(-3, 2**54), JSON_VALUE),
        "versionNonce": st.one_of(st.integers(-(2**54), 2**54), JSON_VALUE),
    },
    optional={
        "text": st.one_of(TEXT, JSON_VALUE),
        "link": st.one_of(
            st.sampled_from(["javascript:alert(1)", "https://example.org", " data:,x", "//x"]),
            JSON_VALUE,
        ),
        "points": JSON_VALUE,
        "x": JSON_VALUE,
        "isDeleted": JSON_VALUE,
        "customData": JSON_VALUE,
        "strokeColor": st.one_of(TEXT, JSON_VALUE),
    },
)
BOARD_BODY = st.one_of(
    st.binary(max_size=300),
    JSON_VALUE.map(json.dumps),
    st.builds(
        lambda base, elements: json.dumps({"base_version": base, "elements": elements}),
        st.one_of(st.integers(-3, 2**60), JSON_VALUE),
        st.lists(ELEMENT, max_size=5),
    ),
    st.sampled_from(['{"base_version": 0, "elements": [{"id": "\\ud800"}]}', "[" * 100_000]),
)


def _board_state(session: Session) -> tuple[Any, ...]:
    row = SessionBoard.objects.filter(session=session).first()
    stamp = Session.objects.values_list("board_stamp", flat=True).get(pk=session.pk)
    return (row.version, row.elements, stamp) if row else (0, {}, stamp)


def test_board_survives_garbage(world):
    url = reverse("interviews:board", args=[world.running.pk])
    candidate = _client(world, "candidate")
    others = {"outsider": 404, "staff": 403}
    clients = {role: _client(world, role) for role in others}

    @FUZZ
    @given(body=BOARD_BODY)
    def check(body: str | bytes) -> None:
        before = _board_state(world.running)
        for role, status in others.items():
            response = clients[role].post(url, body, content_type="application/json")
            assert response.status_code == status
        assert _board_state(world.running) == before
        response = candidate.post(url, body, content_type="application/json")
        assert response.status_code in {200, 400}, response.status_code
        if response.status_code == 400:
            assert response.json()["error"]
            assert _board_state(world.running) == before
        # Whatever was kept reads back, passes the rules again and draws as a picture.
        stored = candidate.get(url).json()["elements"]
        assert validate_elements(stored) == stored
        assert render_svg(stored).startswith("<?xml")

    check()


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(
            ["v", "q", "domain", "difficulty", "tag", "unpractised", "hide_done", "case"]
        ),
        VALUE,
        max_size=4,
    )
)
def test_get_pages_survive_garbage_query_strings(world, query):
    client = _client(world, "candidate")
    for url in (
        reverse("interviews:state", args=[world.running.pk]),
        reverse("casebank:library"),
        reverse("interviews:create"),
    ):
        assert client.get(url, query).status_code < 500


@FUZZ
@given(
    data=_form(
        [
            "case",
            "rubric_version",
            "length_minutes",
            "mode",
            "surprise",
            *[f"budget_{n}" for n in range(1, 8)],
        ]
    )
)
def test_create_session_survives_garbage(world, data):
    before = Session.objects.count()
    response = _client(world, "outsider").post(reverse("interviews:create"), data)
    assert response.status_code in {302, 400}
    assert Session.objects.count() - before == (1 if response.status_code == 302 else 0)


@FUZZ
@given(
    token=st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters="/"), min_size=1, max_size=200
    )
)
def test_join_survives_bad_tokens(world, token):
    client = _client(world, "outsider")
    url = f"/join/{quote(token, safe='')}/"
    for send in (client.get, client.post):
        # 404 when it cannot be a token at all (the URL pattern refuses it), else 410.
        assert send(url).status_code in {404, 410}
    world.waiting.refresh_from_db()
    assert world.waiting.candidate_id is None


@FUZZ
@given(data=_form(["username", "password", "email", "password1", "password2"]))
def test_account_forms_survive_garbage(db, data):
    for name in ("accounts:login", "accounts:signup", "accounts:password_reset"):
        assert Client().post(reverse(name), data).status_code < 500


# Hosting, groups and the profile.


def _schedule_snapshot(session: Session) -> tuple[Any, ...]:
    session.refresh_from_db()
    return (
        session.version,
        session.call_url,
        session.scheduled_at,
        session.schedule_status,
        session.proposed_by_id,
        session.no_show_id,
    )


SCHEDULE_ENDPOINTS = [
    ("interviews:call_link", ["call_url"]),
    ("interviews:propose_time", ["starts_at"]),
    ("interviews:accept_time", ["x"]),
    ("interviews:no_show", ["x"]),
]


@pytest.mark.parametrize(
    ("name", "fields"), SCHEDULE_ENDPOINTS, ids=[e[0] for e in SCHEDULE_ENDPOINTS]
)
def test_schedule_endpoints_survive_garbage(world, name, fields):
    url = reverse(name, args=[world.scheduled.pk])
    participants = [_client(world, role) for role in ("interviewer", "candidate")]
    others = [_client(world, role) for role in ("outsider", "staff", "other_group")]

    @FUZZ
    @given(data=_form(fields))
    def check(data: dict[str, str]) -> None:
        before = _schedule_snapshot(world.scheduled)
        for client in others:
            assert client.post(url, data).status_code in {403, 404}
        assert _schedule_snapshot(world.scheduled) == before
        for client in participants:
            assert client.post(url, data).status_code < 500
        session = Session.objects.get(pk=world.scheduled.pk)
        # Whatever was accepted is well-formed: an https link, a start in the future.
        assert session.call_url == "" or session.call_url.startswith("https://")
        assert session.scheduled_at is not None

    check()


@FUZZ
@given(query=st.dictionaries(st.sampled_from(["v", "starts_at", "x"]), VALUE, max_size=3))
def test_calendar_survives_garbage_query_strings(world, query):
    response = _client(world, "candidate").get(
        reverse("interviews:calendar", args=[world.scheduled.pk]), query
    )
    assert response.status_code == 200


GROUP_ENDPOINTS = [
    (
        "groups:offer",
        lambda w: [w.group.pk],
        ["starts_at", "length_minutes", "role", "level", "domain", "call_url"],
        "candidate",
    ),
    (
        "groups:claim",
        lambda w: [w.group.pk, w.slot.pk],
        ["as_role", "case", "surprise"],
        "candidate",
    ),
    ("groups:share", lambda w: [w.group.pk], ["shares_progress"], "candidate"),
    ("groups:invite", lambda w: [w.group.pk], ["action"], "interviewer"),
    ("groups:withdraw", lambda w: [w.group.pk, w.slot.pk], ["x"], "interviewer"),
]


def _group_snapshot(world: World) -> tuple[Any, ...]:
    world.group.refresh_from_db()
    return (
        world.group.invite_token,
        list(Slot.objects.values_list("pk", "claimed_by_id", "starts_at")),
        list(Membership.objects.values_list("group_id", "user_id", "shares_progress")),
        Session.objects.count(),
    )


@pytest.mark.parametrize(
    ("name", "args", "fields", "writer"), GROUP_ENDPOINTS, ids=[e[0] for e in GROUP_ENDPOINTS]
)
def test_group_endpoints_survive_garbage(world, name, args, fields, writer):
    url = reverse(name, args=args(world))
    allowed = _client(world, writer)
    outsiders = [_client(world, role) for role in ("outsider", "staff", "other_group")]

    @FUZZ
    @given(data=_form(fields))
    def check(data: dict[str, str]) -> None:
        before = _group_snapshot(world)
        for client in outsiders:
            assert client.post(url, data).status_code == 404
        assert _group_snapshot(world) == before
        assert allowed.post(url, data).status_code < 500

    check()


@FUZZ
@given(data=_form(["name", "description"]))
def test_create_group_survives_garbage(world, data):
    before = StudyGroup.objects.count()
    response = _client(world, "outsider").post(reverse("groups:list"), data)
    assert response.status_code in {302, 400}
    assert StudyGroup.objects.count() - before == (1 if response.status_code == 302 else 0)


@FUZZ
@given(data=_form(["time_zone", "email", "current_password"]))
def test_profile_forms_survive_garbage(world, data):
    user = world.users["outsider"]
    client = _client(world, "outsider")
    email = User.objects.get(pk=user.pk).email
    response = client.post(reverse("profile:edit"), data)
    assert response.status_code in {302, 400}
    if response.status_code == 400:
        # Nothing saved half: a refused form changes neither the zone nor the address.
        assert User.objects.get(pk=user.pk).email == email
    assert client.post(reverse("profile:guess_zone"), data).status_code in {204, 400}
    zone = Profile.objects.filter(user=user).values_list("time_zone", flat=True).first()
    assert zone is None or zone in all_zone_names()
