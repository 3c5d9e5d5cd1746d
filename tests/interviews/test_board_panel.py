"""templates/interviews/board_panel.html, the piece the room includes where the board sits: the
[data-board] element the lazy loader mounts, pointing at this session's board.json, read-only
where the role or the finish says so, and the signal fragment the poll swaps."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from interviews import services
from interviews.permissions import role_in
from interviews.room import RoomState
from tests.builders import T0

pytestmark = pytest.mark.django_db


def render(part: str, session, user, **extra) -> str:
    request = RequestFactory().get("/")
    request.user = user
    state = RoomState(session, role_in(user, session), T0)
    context = {"session": session, "state": state, **extra}
    return render_to_string(f"interviews/board_panel.html#{part}", context, request=request)


def attributes(html: str) -> dict[str, str]:
    tag = re.search(r"<div id=\"board\"[^>]*>", html).group(0)
    return dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', tag))


@pytest.mark.parametrize(
    ("role", "read_only"), [("candidate", "false"), ("interviewer", "false"), ("staff", "true")]
)
def test_the_panel_points_the_loader_at_this_sessions_board(
    client, request, running_session, role, read_only
):
    user = request.getfixturevalue(role)

    html = render("board-panel", running_session, user)

    found = attributes(html)
    assert found["data-board-url"] == reverse("interviews:board", args=[running_session.pk])
    assert found["data-bundle-url"] == "/static/vendor/excalidraw/mount.js"
    assert found["data-read-only"] == read_only
    assert len(found["data-csrf-token"]) == 64
    assert " data-board " in html
    client.force_login(user)
    assert client.get(found["data-board-url"]).json()["read_only"] is (read_only == "true")


def test_the_panel_is_read_only_once_the_interview_is_finished(candidate, running_session):
    finished = services.finish_session(session=running_session, now=T0)

    html = render("board-panel", finished, candidate)

    assert attributes(html)["data-read-only"] == "true"
    assert "you can look and pan, not draw" in html


def test_the_signal_carries_the_board_stamp_and_swaps_out_of_band(candidate, running_session):
    running_session.board_stamp = 42

    plain = render("board-signal", running_session, candidate)
    swapped = render("board-signal", running_session, candidate, oob=True)

    assert plain == '<div id="board-signal" hidden data-board-stamp="42"></div>'
    assert (
        swapped == '<div id="board-signal" hidden data-board-stamp="42" hx-swap-oob="true"></div>'
    )
