"""On PostgreSQL every change of a session's version is announced to the stream hubs by the
session table's trigger (migration 0011): once, at commit, with the page that made it."""

import psycopg
import pytest
from django.db import connection, transaction

from interviews import services
from interviews.models import Session
from interviews.services import NOTIFY_CHANNEL, Writer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="NOTIFY is PostgreSQL's"),
]


@pytest.fixture
def listener():
    params = connection.get_connection_params()
    for synchronous_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(synchronous_only, None)
    with psycopg.connect(**params, autocommit=True) as listening:
        listening.execute(f"LISTEN {NOTIFY_CHANNEL}")
        yield listening


def _heard(listening: psycopg.Connection, timeout: float = 1.0) -> list[str]:
    return [notice.payload for notice in listening.notifies(timeout=timeout)]


def test_a_write_is_announced_at_commit_with_its_page(listener, running_session):
    session = running_session
    assert _heard(listener) == [f"{session.pk} 2", f"{session.pk} 3"]  # the session's making
    with transaction.atomic():
        services.save_notes(
            session=session,
            step_number=1,
            text="Latency budget first.",
            base_version=0,
            writer=Writer("page-1", session.version),
        )
        assert _heard(listener, timeout=0.3) == []  # not before the commit
    assert _heard(listener) == [f"{session.pk} {session.version} page-1"]
    services.save_comment(session=session, step_number=1, text="Good start.")
    assert _heard(listener) == [f"{session.pk} {session.version}"]


def test_no_announcement_without_a_new_version(listener, running_session):
    _heard(listener)  # the session's making
    Session.objects.filter(pk=running_session.pk).update(echo_page="page-2")
    with pytest.raises(RuntimeError):
        _comment_then_fail(running_session)
    assert _heard(listener, timeout=0.5) == []


@transaction.atomic
def _comment_then_fail(session: Session) -> None:
    services.save_comment(session=session, step_number=1, text="Rolled back.")
    raise RuntimeError
