"""The two busiest writes, a mark and a notes save, run in the one transaction in which their
view read the session under its lock: no savepoint of the service's own, and nothing half-done
when the service fails part-way."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from interviews import services
from interviews.models import Mark, Session, SessionStep

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
JSON = {"Accept": "application/json"}


def _failing_bump(session, *stamps, writer=None):
    raise services.SessionError("The database went away half-way through.")


def _mark(client, session):
    return client.post(
        reverse("interviews:mark", args=[session.pk]),
        {"item": "scale-estimates", "mark": "covered"},
        headers=HX,
    )


def _save_notes(client, session, text="Latency budget first."):
    return client.post(
        reverse("interviews:notes", args=[session.pk, session.current_step]),
        {"text": text, "base_version": 0},
        headers=JSON,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("write", ["mark", "notes"])
def test_a_room_write_takes_no_savepoint(client, interviewer, candidate, running_session, write):
    # A transactional test: the view's transaction is the outermost one, as in production.
    client.force_login(interviewer if write == "mark" else candidate)
    with CaptureQueriesContext(connection) as queries:
        response = (
            _mark(client, running_session)
            if write == "mark"
            else _save_notes(client, running_session)
        )
    assert response.status_code == 200
    statements = [q["sql"].upper() for q in queries.captured_queries]
    assert not [s for s in statements if "SAVEPOINT" in s]
    assert Session.objects.get(pk=running_session.pk).version == running_session.version + 1


def test_a_mark_that_fails_after_its_insert_leaves_nothing(
    client, interviewer, running_session, monkeypatch
):
    client.force_login(interviewer)
    monkeypatch.setattr(services, "bump", _failing_bump)
    response = _mark(client, running_session)
    assert response.status_code == 409
    assert "went away" in response.content.decode()
    # The mark's row was written before the bump failed: it went with the transaction.
    assert not Mark.objects.filter(session=running_session).exists()
    assert Session.objects.get(pk=running_session.pk).version == running_session.version


def test_notes_that_fail_after_their_update_leave_the_saved_text(
    client, candidate, running_session, monkeypatch
):
    client.force_login(candidate)
    assert _save_notes(client, running_session, "First draft.").status_code == 200
    session = Session.objects.get(pk=running_session.pk)
    monkeypatch.setattr(services, "bump", _failing_bump)
    response = client.post(
        reverse("interviews:notes", args=[session.pk, session.current_step]),
        {"text": "Second draft.", "base_version": 1},
        headers=JSON,
    )
    assert response.status_code == 409
    assert "went away" in response.json()["error"]
    step = SessionStep.objects.get(session=session, number=session.current_step)
    assert (step.notes, step.notes_version) == ("First draft.", 1)
    assert Session.objects.get(pk=session.pk).version == session.version
