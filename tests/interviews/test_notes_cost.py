"""What one member can cost the server with notes (issue 11, hole 16): a note is rendered once
per saved version, a poll after a notes change sends only the step that changed, and saves are
limited per user with a clear message."""

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from interviews import services
from interviews.models import SessionStep
from interviews.views import NOTE_SAVES_PER_WINDOW, NOTE_SAVES_WINDOW_SECONDS

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
JSON = {"Accept": "application/json"}


def test_a_note_is_rendered_once_by_its_save(running_session, monkeypatch):
    services.save_notes(
        session=running_session, step_number=2, text="**bold** plan", base_version=0
    )
    step = SessionStep.objects.get(session=running_session, number=2)
    assert step.notes_rendered == "<p><strong>bold</strong> plan</p>"
    # Readers in any process take the stored HTML: none renders it again.
    monkeypatch.setattr("interviews.models.render_markdown", _must_not_render)
    assert step.notes_html == "<p><strong>bold</strong> plan</p>"
    assert cache.get(step.notes_cache_key) is None
    services.save_notes(session=running_session, step_number=2, text="new plan", base_version=1)
    step.refresh_from_db()
    assert step.notes_html == "<p>new plan</p>"


@pytest.mark.django_db(transaction=True)
def test_the_saving_view_renders_the_note_before_it_takes_the_lock(
    client, candidate, running_session, monkeypatch
):
    rendered_in_transaction = []

    def render(text: str) -> str:
        rendered_in_transaction.append(connection.in_atomic_block)
        return f"<p>{text}</p>"

    monkeypatch.setattr("interviews.views.render_markdown", render)
    monkeypatch.setattr("interviews.services.render_markdown", render)
    client.force_login(candidate)
    url = reverse("interviews:notes", args=[running_session.pk, 1])
    response = client.post(url, {"text": "plan", "base_version": 0}, headers=JSON)
    assert response.status_code == 200
    assert response.json()["preview"] == "<p>plan</p>"
    assert rendered_in_transaction == [False]
    assert SessionStep.objects.get(session=running_session, number=1).notes_rendered == (
        "<p>plan</p>"
    )


def test_a_note_saved_before_its_html_was_kept_is_rendered_once_per_version(running_session):
    SessionStep.objects.filter(session=running_session, number=2).update(
        notes="**old** plan", notes_version=3
    )
    step = SessionStep.objects.get(session=running_session, number=2)
    assert step.notes_rendered == ""
    assert cache.get(step.notes_cache_key) is None
    assert step.notes_html == "<p><strong>old</strong> plan</p>"
    assert cache.get(step.notes_cache_key) == "<p><strong>old</strong> plan</p>"


def _must_not_render(text: str) -> str:
    raise AssertionError("rendered again")


def test_a_poll_after_a_notes_change_sends_only_that_step(client, interviewer, running_session):
    for number in range(1, 8):
        services.save_notes(
            session=running_session,
            step_number=number,
            text=f"NOTES-OF-STEP-{number}",
            base_version=0,
        )
    client.force_login(interviewer)
    before = running_session.version
    services.save_notes(
        session=running_session, step_number=4, text="NOTES-OF-STEP-4, again", base_version=1
    )
    html = client.get(
        reverse("interviews:state", args=[running_session.pk]), {"v": before}, headers=HX
    ).content.decode()
    assert "NOTES-OF-STEP-4, again" in html
    assert 'id="candidate-notes-step-4"' in html
    for number in (1, 2, 3, 5, 6, 7):
        assert f"NOTES-OF-STEP-{number}" not in html


def test_a_slow_typist_is_never_told_to_save_less_often(
    client, candidate, running_session, monkeypatch
):
    """static/js/notes.js saves DEBOUNCE_MS after the last key, one save at a time: someone who
    pauses just longer than that before every key saves that often for as long as they type,
    and must never see "Saving too often"."""
    debounce_ms = int(
        re.search(
            r"const DEBOUNCE_MS = (\d+);", (settings.BASE_DIR / "static/js/notes.js").read_text()
        )[1]
    )
    monkeypatch.setattr("interviews.views._save_window", lambda: 1)
    client.force_login(candidate)
    url = reverse("interviews:notes", args=[running_session.pk, 1])
    version = 0
    for n in range(NOTE_SAVES_WINDOW_SECONDS * 1000 // debounce_ms):
        response = client.post(url, {"text": f"word {n}", "base_version": version}, headers=JSON)
        assert response.status_code == 200, n
        version = response.json()["version"]


def test_saving_too_often_is_refused_with_a_clear_message(
    client, candidate, running_session, monkeypatch
):
    # One window for the whole test, however long the saves take.
    monkeypatch.setattr("interviews.views._save_window", lambda: 1)
    client.force_login(candidate)
    url = reverse("interviews:notes", args=[running_session.pk, 1])
    version = 0
    for n in range(NOTE_SAVES_PER_WINDOW):
        response = client.post(url, {"text": f"draft {n}", "base_version": version}, headers=JSON)
        assert response.status_code == 200
        version = response.json()["version"]
    refused = client.post(url, {"text": "one more", "base_version": version}, headers=JSON)
    assert refused.status_code == 429
    assert "Saving too often" in refused.json()["error"]
    assert SessionStep.objects.get(session=running_session, number=1).notes == (
        f"draft {NOTE_SAVES_PER_WINDOW - 1}"
    )
