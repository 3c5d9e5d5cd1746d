"""The board's access rules as truth tables (interviews/permissions.py)."""

import pytest

from interviews.models import Session, SessionState
from interviews.permissions import Role, board_read_only, draws_on_board


@pytest.mark.parametrize(
    ("role", "draws"),
    [(Role.CANDIDATE, True), (Role.INTERVIEWER, True), (Role.OBSERVER, False), (None, False)],
)
def test_who_draws_on_the_board(role, draws):
    assert draws_on_board(role) is draws


@pytest.mark.parametrize(
    ("role", "state", "read_only"),
    [
        (Role.CANDIDATE, SessionState.READY, False),
        (Role.CANDIDATE, SessionState.RUNNING, False),
        (Role.CANDIDATE, SessionState.PAUSED, False),
        (Role.CANDIDATE, SessionState.FINISHED, True),
        (Role.INTERVIEWER, SessionState.WAITING, False),
        (Role.INTERVIEWER, SessionState.RUNNING, False),
        (Role.INTERVIEWER, SessionState.FINISHED, True),
        (Role.OBSERVER, SessionState.RUNNING, True),
        (Role.OBSERVER, SessionState.FINISHED, True),
        (None, SessionState.RUNNING, True),
    ],
)
def test_when_the_board_opens_read_only(role, state, read_only):
    assert board_read_only(role, Session(state=state)) is read_only
