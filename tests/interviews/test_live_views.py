"""The room's transport seen from the views: the page listens to the stream when served by ASGI,
and a write's answer carries exactly what changed since the version the page shows."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.asgi import application
from interviews import services
from interviews.models import Session
from tests.interviews.live_harness import cookie_of, fetch, run

HX = {"HX-Request": "true"}


def _version(session: Session) -> int:
    return Session.objects.get(pk=session.pk).version


def _page_version(html: str) -> int:
    return int(re.search(r'id="poller"[^>]* data-version="(\d+)"', html).group(1))


def _oob_ids(html: str) -> set[str]:
    return set(re.findall(r'<\w+ id="([\w-]+)"[^>]*hx-swap-oob="true"', html))


@pytest.mark.django_db(transaction=True)
def test_room_served_by_asgi_listens_to_the_stream(interviewer, running_session):
    version = _version(running_session)
    cookie = cookie_of(interviewer)
    page: dict[str, str] = {}

    async def scenario() -> None:
        status, page["html"] = await fetch(
            reverse("interviews:room", args=[running_session.pk]), cookie
        )
        assert status == 200

    run(scenario)
    html = page["html"]
    connect = re.search(
        rf'data-sse-connect="/sessions/{running_session.pk}/stream/\?v={version}&amp;page=([\w-]+)"',
        html,
    )
    assert connect is not None
    # The page's id: on its stream and on its writes (static/js/live.js), one per page.
    assert f'data-heartbeat-ms="10000" data-page="{connect.group(1)}"' in html
    assert 'data-sse-swap="update" hx-swap="none"' in html
    assert "vendor/htmx-ext-sse/sse.js" in html
    assert 'hx-trigger="spar:poll"' in html  # the poll stays, for when the stream fails


@pytest.mark.django_db
def test_room_served_by_wsgi_polls(client, candidate, running_session):
    client.force_login(candidate)
    html = client.get(reverse("interviews:room", args=[running_session.pk])).content.decode()
    assert "sse-connect" not in html
    assert "htmx-ext-sse" not in html
    assert '<div id="live" hidden></div>' in html
    assert "js/live.js" in html
    assert 'id="live-status" class="connection-status" role="status" hidden' in html


@pytest.mark.django_db
def test_write_answer_renders_only_what_changed_since_the_page(
    client, interviewer, running_session
):
    client.force_login(interviewer)
    fact = running_session.case.facts.get()
    url = reverse("interviews:fact", args=[running_session.pk, fact.pk])
    page = _version(running_session)
    response = client.post(url, {"revealed": "on"}, headers={**HX, "X-Spar-Version": str(page)})
    html = response.content.decode()
    assert _oob_ids(html) == {"room-error", "facts"}
    assert _page_version(html) == page + 1


@pytest.mark.django_db
def test_write_answer_brings_what_the_page_missed(client, interviewer, running_session):
    client.force_login(interviewer)
    page = _version(running_session)
    services.save_notes(
        session=running_session, step_number=1, text="missed by the page", base_version=0
    )
    fact = running_session.case.facts.get()
    response = client.post(
        reverse("interviews:fact", args=[running_session.pk, fact.pk]),
        {"revealed": "on"},
        headers={**HX, "X-Spar-Version": str(page)},
    )
    html = response.content.decode()
    assert {"facts", "candidate-notes-step-1"} <= _oob_ids(html)
    assert "flow" not in _oob_ids(html)
    assert "candidate-notes-step-2" not in _oob_ids(html)  # only the step whose notes changed
    assert "missed by the page" in html
    assert _page_version(html) == page + 2


@pytest.mark.django_db
def test_write_answer_without_page_version_renders_everything(client, interviewer, running_session):
    client.force_login(interviewer)
    fact = running_session.case.facts.get()
    response = client.post(
        reverse("interviews:fact", args=[running_session.pk, fact.pk]),
        {"revealed": "on"},
        headers=HX,
    )
    ids = _oob_ids(response.content.decode())
    assert {"flow", "facts", "checklist", "step-tools", "candidate-notes"} <= ids


@pytest.mark.django_db
@pytest.mark.parametrize("missed_a_change", [False, True])
def test_mark_answer_moves_the_page_version_only_if_nothing_was_missed(
    client, interviewer, running_session, missed_a_change
):
    client.force_login(interviewer)
    page = _version(running_session)
    if missed_a_change:
        services.save_notes(session=running_session, step_number=1, text="new", base_version=0)
    response = client.post(
        reverse("interviews:mark", args=[running_session.pk]),
        {"item": "business-objective", "mark": "covered"},
        headers={**HX, "X-Spar-Version": str(page)},
    )
    html = response.content.decode()
    assert 'id="item-business-objective-covered" aria-pressed="true"' in html
    # A page that missed a change keeps its version: the stream or the poll brings the rest.
    assert _page_version(html) == (page if missed_a_change else page + 1)


PAGE = "page-id-0123"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page_header", "missed_a_change", "htmx", "recorded"),
    [
        (PAGE, False, True, PAGE),  # the answer brings the page up to date: its stream skips it
        (PAGE, True, True, ""),  # the page is behind: its stream must bring the whole change
        ("", False, True, ""),  # no page id
        ("bad id!", False, True, ""),  # not a page id
        ("x" * 33, False, True, ""),  # too long for one
        (PAGE, False, False, ""),  # without htmx the answer is a redirect to a fresh page
    ],
)
def test_mark_records_the_page_whose_answer_carries_it(
    client, interviewer, running_session, page_header, missed_a_change, htmx, recorded
):
    client.force_login(interviewer)
    page = _version(running_session)
    if missed_a_change:
        services.save_notes(session=running_session, step_number=1, text="new", base_version=0)
    headers = {"X-Spar-Version": str(page), "X-Spar-Page": page_header, **(HX if htmx else {})}
    response = client.post(
        reverse("interviews:mark", args=[running_session.pk]),
        {"item": "business-objective", "mark": "covered"},
        headers=headers,
    )
    assert response.status_code == (200 if htmx else 302)
    assert Session.objects.get(pk=running_session.pk).echo_page == recorded


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page_header", "missed_a_change", "as_json", "recorded"),
    [
        (PAGE, False, True, PAGE),  # the answer brings the page up to date: its stream skips it
        (PAGE, True, True, ""),  # the page is behind: its stream must bring the whole change
        ("", False, True, ""),  # no page id
        ("bad id!", False, True, ""),  # not a page id
        (PAGE, False, False, ""),  # without JavaScript the answer is a redirect to a fresh page
    ],
)
def test_notes_save_records_the_page_whose_answer_carries_it(
    client, candidate, running_session, page_header, missed_a_change, as_json, recorded
):
    client.force_login(candidate)
    page = _version(running_session)
    if missed_a_change:
        services.go_to_step(session=running_session, number=2)
    headers = {"X-Spar-Version": str(page), "X-Spar-Page": page_header}
    if as_json:
        headers["Accept"] = "application/json"
    response = client.post(
        reverse("interviews:notes", args=[running_session.pk, 1]),
        {"text": "first words", "base_version": 0},
        headers=headers,
    )
    saved = Session.objects.get(pk=running_session.pk)
    assert saved.echo_page == recorded
    if as_json:
        # The page takes its new version from the answer only when the answer brings it there.
        assert response.json()["page_version"] == (saved.version if recorded else None)
    else:
        assert response.status_code == 302


def _room_writes(session: Session) -> dict[str, tuple[str, dict[str, object]]]:
    """The interviewer's other htmx writes in the room, each answered with the changed parts."""
    fact = session.case.facts.order_by("pk").first()
    return {
        "next step": (
            reverse("interviews:control", args=[session.pk]),
            {"action": "next", "at_step": session.current_step},
        ),
        "fact": (reverse("interviews:fact", args=[session.pk, fact.pk]), {"revealed": "on"}),
        "comment": (reverse("interviews:comment", args=[session.pk, 1]), {"text": "clear"}),
        "hint": (reverse("interviews:hint", args=[session.pk, 1]), {"text": "ask about SLAs"}),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("write", ["next step", "fact", "comment", "hint"])
@pytest.mark.parametrize(
    ("missed_a_change", "htmx", "recorded"),
    [
        (False, True, PAGE),  # the answer brings the page up to date: its stream skips it
        (True, True, ""),  # the page is behind: its stream must bring the whole change
        (False, False, ""),  # without htmx the answer is a redirect to a fresh page
    ],
)
def test_room_writes_record_the_page_whose_answer_carries_them(
    client, interviewer, running_session, write, missed_a_change, htmx, recorded
):
    client.force_login(interviewer)
    page = _version(running_session)
    if missed_a_change:
        services.save_notes(session=running_session, step_number=1, text="new", base_version=0)
    url, data = _room_writes(running_session)[write]
    headers = {"X-Spar-Version": str(page), "X-Spar-Page": PAGE, **(HX if htmx else {})}
    response = client.post(url, data, headers=headers)
    assert response.status_code == (200 if htmx else 302)
    saved = Session.objects.get(pk=running_session.pk)
    assert saved.version == page + 1 + missed_a_change
    assert saved.echo_page == recorded
    if htmx:
        # The answer brings the page to the new version, so its stream can skip the change.
        assert _page_version(response.content.decode()) == saved.version


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["\u00b2", "\u0661\u0662", "12\u00b2"])
def test_a_page_version_that_is_not_ascii_digits_counts_as_unknown(
    client, interviewer, running_session, version
):
    # str.isdigit() says yes to these, and int() refuses "²": the header must not give a 500.
    client.force_login(interviewer)
    url, data = _room_writes(running_session)["hint"]
    response = client.post(
        url, data, headers={**HX, "X-Spar-Version": version, "X-Spar-Page": PAGE}
    )
    assert response.status_code == 200
    saved = Session.objects.get(pk=running_session.pk)
    assert saved.echo_page == ""  # an unknown version: the page's stream brings the change
    assert _page_version(response.content.decode()) == saved.version


@pytest.mark.django_db
def test_a_repeated_notes_save_moves_no_version(client, candidate, running_session):
    client.force_login(candidate)
    url = reverse("interviews:notes", args=[running_session.pk, 1])
    headers = {"Accept": "application/json", "X-Spar-Page": PAGE}
    first = client.post(
        url,
        {"text": "first words", "base_version": 0},
        headers={**headers, "X-Spar-Version": str(_version(running_session))},
    )
    assert first.json()["page_version"] == _version(running_session)
    # The same request again (a retry after a lost answer): kept, nothing written.
    again = client.post(
        url,
        {"text": "first words", "base_version": 0},
        headers={**headers, "X-Spar-Version": str(_version(running_session))},
    )
    assert again.status_code == 200
    assert again.json()["page_version"] is None


@pytest.mark.django_db
def test_any_other_write_clears_the_recorded_page(client, interviewer, running_session):
    client.force_login(interviewer)
    page = _version(running_session)
    client.post(
        reverse("interviews:mark", args=[running_session.pk]),
        {"item": "business-objective", "mark": "covered"},
        headers={**HX, "X-Spar-Version": str(page), "X-Spar-Page": PAGE},
    )
    assert Session.objects.get(pk=running_session.pk).echo_page == PAGE
    services.save_notes(session=running_session, step_number=1, text="next", base_version=0)
    assert Session.objects.get(pk=running_session.pk).echo_page == ""


def _session_reads(queries: CaptureQueriesContext) -> list[str]:
    """Reads of the session's own row (not the check of the user's other sessions as candidate,
    which reads other rows of the table)."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and 'FROM "interviews_session"' in q["sql"]
        and '"interviews_session"."candidate_id" =' not in q["sql"]
    ]


@pytest.mark.django_db
def test_mark_reads_and_locks_the_session_once(client, interviewer, running_session):
    client.force_login(interviewer)
    url = reverse("interviews:mark", args=[running_session.pk])
    client.post(url, {"item": "latency-budget", "mark": "covered"}, headers=HX)  # warm caches
    page = _version(running_session)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            url,
            {"item": "business-objective", "mark": "covered"},
            headers={**HX, "X-Spar-Version": str(page)},
        )
    assert response.status_code == 200
    reads = _session_reads(queries)
    assert len(reads) == 1, reads
    if connection.vendor == "postgresql":
        # The session's row alone: the rubric version and the case it joins stay unlocked.
        assert reads[0].endswith('FOR UPDATE OF "interviews_session"')


@pytest.mark.django_db
def test_notes_save_reads_and_locks_the_session_once(client, candidate, running_session):
    client.force_login(candidate)
    url = reverse("interviews:notes", args=[running_session.pk, 1])
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            url, {"text": "first words", "base_version": 0}, headers={"Accept": "application/json"}
        )
    assert response.status_code == 200
    reads = _session_reads(queries)
    assert len(reads) == 1, reads
    if connection.vendor == "postgresql":
        assert reads[0].endswith('FOR UPDATE OF "interviews_session"')


def test_asgi_server_refuses_an_oversized_body():
    sent: list[dict[str, object]] = []
    chunk = b"x" * 1_000_000

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/accounts/login/",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "http_version": "1.1",
    }
    run(lambda: application(scope, receive, send))
    assert sent[0]["status"] == 413
