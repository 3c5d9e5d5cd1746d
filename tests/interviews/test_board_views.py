"""The board endpoint, /sessions/<id>/board.json: who may read and draw, every bad save refused
with a clear message and nothing lost, the finish freezing the board, and both screens' saves
surviving each other."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from interviews import services
from interviews.board import MAX_BODY_BYTES, MAX_ELEMENTS, TOO_LARGE
from interviews.models import Session, SessionBoard
from tests.builders import T0, make_peer_session
from tests.interviews.test_board_merge import rect, text

pytestmark = pytest.mark.django_db


def board_url(session: Session) -> str:
    return reverse("interviews:board", args=[session.pk])


def post(client: Client, session: Session, elements: object, base_version: object = 0):
    payload = json.dumps({"base_version": base_version, "elements": elements})
    return client.post(board_url(session), payload, content_type="application/json")


def login(client: Client, user) -> Client:
    client.force_login(user)
    return client


def scene(session: Session) -> tuple[int, dict, int]:
    """What is stored: the board's version and elements, and the session's board stamp."""
    row = SessionBoard.objects.filter(session=session).first()
    stamp = Session.objects.values_list("board_stamp", flat=True).get(pk=session.pk)
    return (row.version, row.elements, stamp) if row else (0, {}, stamp)


@pytest.fixture
def drawn(client, candidate, running_session) -> Session:
    """A running session whose board holds a labelled box, drawn by the candidate."""
    response = post(
        login(client, candidate),
        running_session,
        [rect("box"), text("label", "Feature store", containerId="box", index="a1")],
    )
    assert response.status_code == 200
    return running_session


# --- reading ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "read_only"), [("candidate", False), ("interviewer", False)])
def test_board_json_starts_empty_for_both_participants(
    client, request, running_session, role, read_only
):
    login(client, request.getfixturevalue(role))

    response = client.get(board_url(running_session))

    assert response.status_code == 200
    assert response.json() == {"version": 0, "elements": [], "read_only": read_only}
    assert "no-store" in response["Cache-Control"]


def test_board_json_shows_the_other_screens_drawing_to_the_interviewer(client, interviewer, drawn):
    response = login(client, interviewer).get(board_url(drawn))

    data = response.json()
    assert data["version"] == 1
    assert [e["id"] for e in data["elements"]] == ["box", "label"]
    assert data["elements"][1]["text"] == "Feature store"
    assert data["read_only"] is False


def test_staff_watch_the_board_read_only(client, staff, drawn):
    login(client, staff)

    assert client.get(board_url(drawn)).json()["read_only"] is True
    response = post(client, drawn, [rect("staff-box", index="a5")])

    assert response.status_code == 403
    assert scene(drawn)[0] == 1


def test_outsiders_get_404_for_reading_and_drawing(client, outsider, drawn):
    before = scene(drawn)
    login(client, outsider)

    assert client.get(board_url(drawn)).status_code == 404
    assert post(client, drawn, [rect("intruder", index="a9")]).status_code == 404
    assert scene(drawn) == before


def test_anonymous_visitors_are_sent_to_sign_in(drawn):
    response = Client().get(board_url(drawn))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_missing_session_is_404(client, candidate):
    assert login(client, candidate).get(reverse("interviews:board", args=[999999])).status_code == (
        404
    )


# --- saving -------------------------------------------------------------------------------------


def test_a_save_is_stored_and_bumps_the_board_stamp(client, candidate, running_session):
    version_before = Session.objects.get(pk=running_session.pk).version

    response = post(login(client, candidate), running_session, [rect("r1")])

    assert response.status_code == 200
    # Nothing the saving browser lacks: it sent the only change.
    assert response.json() == {"version": 1, "elements": []}
    row = SessionBoard.objects.get(session=running_session)
    assert row.elements == {"r1": rect("r1")}
    assert row.updated_by == candidate
    session = Session.objects.get(pk=running_session.pk)
    assert session.version == version_before + 1
    assert session.board_stamp == session.version
    # The other stamps stay, so the room re-renders nothing else.
    assert session.notes_stamp < session.version
    assert session.flow_stamp < session.version


def test_the_interviewer_may_draw_too(client, interviewer, drawn):
    response = post(login(client, interviewer), drawn, [rect("pointer", index="a2")], 1)

    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert set(scene(drawn)[1]) == {"box", "label", "pointer"}


def test_a_retried_save_changes_nothing(client, candidate, drawn):
    before = scene(drawn)

    response = post(
        client,
        drawn,
        [rect("box"), text("label", "Feature store", containerId="box", index="a1")],
        base_version=1,
    )

    assert response.status_code == 200
    assert response.json() == {"version": 1, "elements": []}
    assert scene(drawn) == before


def test_a_save_needs_the_csrf_token(candidate, running_session):
    client = Client(enforce_csrf_checks=True)
    client.force_login(candidate)
    client.get(reverse("interviews:room", args=[running_session.pk]))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    payload = json.dumps({"base_version": 0, "elements": [rect("r1")]})
    url = board_url(running_session)

    refused = client.post(url, payload, content_type="application/json")
    accepted = client.post(
        url, payload, content_type="application/json", headers={"X-CSRFToken": token}
    )

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert set(scene(running_session)[1]) == {"r1"}


# --- bad input: 400, a clear message, nothing lost ------------------------------------------------


def _bodies() -> list:
    """(id, raw body, content type, the message) for every kind of save the board refuses."""
    minimal = [
        {"id": f"m{n}", "type": "rectangle", "version": 1, "versionNonce": n}
        for n in range(MAX_ELEMENTS + 1)
    ]
    padding = "x" * MAX_BODY_BYTES
    return [
        pytest.param(
            json.dumps({"base_version": 1, "elements": [rect("big", customData={"p": padding})]}),
            "application/json",
            TOO_LARGE,
            id="over-512-kb",
        ),
        pytest.param(
            # Beyond Django's own upload limit (2.5 MB) too: still the board's message.
            json.dumps(
                {"base_version": 1, "elements": [rect("big", customData={"p": padding * 6})]}
            ),
            "application/json",
            TOO_LARGE,
            id="over-2.5-mb",
        ),
        pytest.param(
            json.dumps({"base_version": 1, "elements": minimal}),
            "application/json",
            "The board holds at most 2,000 shapes; this change would make it 2,003. Delete some "
            "first.",
            id="over-2000-elements",
        ),
        pytest.param(
            json.dumps({"base_version": 1, "elements": [rect("x1", type="sticky-note")]}),
            "application/json",
            "Element 1 has an unknown type ('sticky-note'); the board keeps arrow, diamond, "
            "ellipse, frame, freedraw, line, rectangle, text.",
            id="unknown-type",
        ),
        pytest.param(
            json.dumps({"base_version": 1, "elements": [rect("i1", type="image", fileId="f")]}),
            "application/json",
            "Images cannot be put on the board: draw the idea instead.",
            id="image",
        ),
        pytest.param(
            json.dumps({"base_version": 1, "elements": [rect("l1", link="javascript:alert(1)")]}),
            "application/json",
            "A link on the board must be a web address starting with http:// or https:// "
            "(element 1, rectangle).",
            id="javascript-link",
        ),
        pytest.param(
            '{"base_version": 1, "elements": [',
            "application/json",
            "The board's data could not be read (malformed JSON).",
            id="malformed-json",
        ),
        pytest.param(
            "base_version=1&elements=x",
            "application/x-www-form-urlencoded",
            "Send the board as JSON (Content-Type: application/json).",
            id="not-json",
        ),
        pytest.param(
            '{"base_version": 1, "elements": [{"id": "n1", "type": "text", "version": 1, '
            '"versionNonce": 1, "text": "a\\u0000b"}]}',
            "application/json",
            "The drawing holds a character that cannot be stored (a NUL character, or half of a "
            "surrogate pair): remove it and try again.",
            id="nul-character",
        ),
        pytest.param(
            '{"base_version": 1, "elements": [{"id": "s1", "type": "text", "version": 1, '
            '"versionNonce": 1, "text": "\\ud83d"}]}',
            "application/json",
            "The drawing holds a character that cannot be stored (a NUL character, or half of a "
            "surrogate pair): remove it and try again.",
            id="lone-surrogate",
        ),
    ]


@pytest.mark.parametrize(("raw", "content_type", "message"), _bodies())
def test_every_bad_save_is_refused_with_its_message_and_nothing_is_lost(
    client, interviewer, drawn, raw, content_type, message
):
    before = scene(drawn)

    response = login(client, interviewer).post(board_url(drawn), raw, content_type=content_type)

    assert response.status_code == 400
    assert response.json() == {"error": message}
    assert scene(drawn) == before
    assert client.get(board_url(drawn)).json()["version"] == 1


def test_a_save_that_would_pass_2000_shapes_keeps_the_board_as_it_was(client, candidate, drawn):
    many = [
        {"id": f"m{n}", "type": "rectangle", "version": 1, "versionNonce": n}
        for n in range(MAX_ELEMENTS - 2)
    ]
    assert post(client, drawn, many, 1).status_code == 200  # 2,000 with the labelled box
    before = scene(drawn)

    response = post(client, drawn, [rect("one-too-many", index="b0")], 2)

    assert response.status_code == 400
    assert "at most 2,000 shapes" in response.json()["error"]
    assert scene(drawn) == before


# --- the finish ---------------------------------------------------------------------------------


def test_the_board_is_read_only_after_the_finish(client, candidate, interviewer, drawn):
    services.finish_session(session=drawn, now=T0)
    before = scene(drawn)

    for user in (candidate, interviewer):
        login(client, user)
        response = post(client, drawn, [rect("late", index="a7")], 1)
        assert response.status_code == 403
        assert response.json() == {
            "error": "The interview is finished, so the board is read-only now."
        }
        data = client.get(board_url(drawn)).json()
        assert data["read_only"] is True
        assert [e["id"] for e in data["elements"]] == ["box", "label"]
    assert scene(drawn) == before


# --- both screens at once -----------------------------------------------------------------------


def test_a_stale_save_merges_instead_of_overwriting(client, candidate, interviewer, drawn):
    # The interviewer's screen still shows version 1 while the candidate moves the box twice.
    candidate_client = login(Client(), candidate)
    assert post(candidate_client, drawn, [rect("box", version=3, x=300)], 1).status_code == 200

    # The interviewer, not having fetched, draws an arrow and nudges the old copy of the box.
    response = post(
        login(client, interviewer),
        drawn,
        [rect("arrow", type="arrow", index="a3"), rect("box", version=2, x=50)],
        1,
    )

    assert response.status_code == 200
    reply = response.json()
    assert reply["version"] == 3
    # The reply carries the candidate's newer box: the interviewer's screen takes it.
    assert reply["elements"] == [rect("box", version=3, x=300)]
    stored = scene(drawn)[1]
    assert stored["box"]["x"] == 300
    assert set(stored) == {"box", "label", "arrow"}


@pytest.mark.django_db(transaction=True)
def test_saves_from_both_screens_at_once_all_survive(interviewer, candidate, case, rubric_version):
    session = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def draw(user, prefix: str) -> None:
        client = login(Client(), user)
        barrier.wait()
        try:
            for n in range(8):
                # Every save is based on version 0: each screen ignores the other's replies.
                # Both also edit one shared element; the candidate's copies are newer.
                version = 2 * n + (2 if prefix == "c" else 1)
                response = post(
                    client, session, [rect(f"{prefix}{n}"), rect("shared", version=version)], 0
                )
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=draw, args=(user, prefix))
        for user, prefix in ((candidate, "c"), (interviewer, "i"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 16
    version, elements, stamp = scene(session)
    assert set(elements) == {"shared"} | {f"c{n}" for n in range(8)} | {f"i{n}" for n in range(8)}
    assert elements["shared"]["version"] == 16
    # One version per save that changed something; the candidate's last save always does.
    assert 9 <= version <= 16
    assert stamp == Session.objects.get(pk=session.pk).version
