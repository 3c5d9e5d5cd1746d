"""interviews.services and the board: save_board's rules, and the snapshots kept at each step
change and at the finish."""

from datetime import timedelta

import pytest

from interviews import services
from interviews.board import BoardError, BoardUpdate
from interviews.models import BoardSnapshot, Session, SessionBoard
from tests.builders import T0
from tests.interviews.test_board_merge import rect, text

pytestmark = pytest.mark.django_db


def draw(session: Session, by, *elements: dict, now=T0) -> None:
    row = SessionBoard.objects.filter(session=session).first()
    base = row.version if row else 0
    services.save_board(session=session, update=BoardUpdate(base, list(elements)), by=by, now=now)


def snapshots(session: Session) -> list[tuple[int, bool, int, list[str], list[str]]]:
    return [
        (s.step_number, s.at_finish, s.element_count, s.labels, [e["id"] for e in s.elements])
        for s in BoardSnapshot.objects.filter(session=session)
    ]


def test_save_board_keeps_labels_and_who_saved_last(running_session, candidate, interviewer):
    draw(running_session, candidate, rect("box"), text("t", "Kafka  stream", containerId="box"))
    draw(
        running_session, interviewer, rect("arrow", type="arrow", index="a5"), now=T0 + timedelta(1)
    )

    row = SessionBoard.objects.get(session=running_session)
    assert row.version == 2
    assert row.labels == ["Kafka stream"]
    assert row.updated_by == interviewer
    assert row.updated_at == T0 + timedelta(1)
    assert row.changed_at == {"box": 1, "t": 1, "arrow": 2}


def test_save_board_refuses_someone_outside_the_session(running_session, outsider, staff):
    for user in (outsider, staff):
        with pytest.raises(services.SessionError, match="Only the two people"):
            draw(running_session, user, rect("r1"))
    assert not SessionBoard.objects.filter(session=running_session).exists()


def test_save_board_refuses_after_the_finish_and_keeps_the_board(running_session, candidate):
    draw(running_session, candidate, rect("r1"))
    services.finish_session(session=running_session, now=T0)

    with pytest.raises(services.BoardClosed, match="read-only"):
        draw(running_session, candidate, rect("r2", index="a2"))

    assert list(SessionBoard.objects.get(session=running_session).elements) == ["r1"]


def test_a_save_over_the_limits_stores_nothing(running_session, candidate):
    draw(running_session, candidate, rect("r1"))
    stamp = Session.objects.get(pk=running_session.pk).board_stamp
    too_many = [rect(f"e{n}", index=f"b{n:04d}") for n in range(2_000)]

    with pytest.raises(BoardError, match="at most 2,000 shapes"):
        draw(running_session, candidate, *too_many)

    assert list(SessionBoard.objects.get(session=running_session).elements) == ["r1"]
    assert Session.objects.get(pk=running_session.pk).board_stamp == stamp


def test_a_snapshot_is_taken_at_each_step_change_when_the_board_changed(running_session, candidate):
    session = running_session
    draw(session, candidate, rect("box"), text("t", "Feature store", containerId="box"))
    services.go_to_step(session=session, number=2, now=T0 + timedelta(minutes=5))
    # Unchanged during step 2: no second snapshot when leaving it.
    services.go_to_step(session=session, number=3, now=T0 + timedelta(minutes=9))
    draw(session, candidate, rect("ranker", index="a5"), rect("box", version=2, isDeleted=True))
    services.go_to_step(session=session, number=2, now=T0 + timedelta(minutes=15))

    assert snapshots(session) == [
        (1, False, 2, ["Feature store"], ["box", "t"]),
        # Deleted shapes are not part of the picture.
        (3, False, 2, ["Feature store"], ["t", "ranker"]),
    ]
    times = list(BoardSnapshot.objects.filter(session=session).values_list("taken_at", flat=True))
    assert times == [T0 + timedelta(minutes=5), T0 + timedelta(minutes=15)]


def test_a_snapshot_is_taken_at_the_finish_when_the_board_changed(running_session, candidate):
    session = running_session
    draw(session, candidate, rect("box"))
    services.go_to_step(session=session, number=2, now=T0 + timedelta(minutes=5))
    draw(session, candidate, rect("store", index="a3"))
    services.finish_session(session=session, now=T0 + timedelta(minutes=20))

    assert snapshots(session) == [
        (1, False, 1, [], ["box"]),
        (2, True, 2, [], ["box", "store"]),
    ]
    final = BoardSnapshot.objects.filter(session=session).last()
    assert final.board_version == SessionBoard.objects.get(session=session).version == 2


def test_no_snapshot_at_the_finish_when_nothing_changed_since_the_last(running_session, candidate):
    session = running_session
    draw(session, candidate, rect("box"))
    services.go_to_step(session=session, number=2, now=T0 + timedelta(minutes=5))
    services.finish_session(session=session, now=T0 + timedelta(minutes=20))

    assert snapshots(session) == [(1, False, 1, [], ["box"])]


def test_a_session_without_a_board_takes_no_snapshots(running_session):
    services.go_to_step(session=running_session, number=2, now=T0 + timedelta(minutes=5))
    services.finish_session(session=running_session, now=T0 + timedelta(minutes=9))

    assert not BoardSnapshot.objects.filter(session=running_session).exists()
    assert not SessionBoard.objects.filter(session=running_session).exists()
