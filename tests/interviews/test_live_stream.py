"""The room's push stream (interviews/stream.py), driven through the ASGI application in-process.

Writes go through the real services in a worker thread, as a request would make them; the hub
hears of them from the database (SQLite's watcher, or PostgreSQL's NOTIFY on the PostgreSQL lane).
"""

import asyncio
import threading
from datetime import datetime, timedelta

import pytest
from django.contrib.sessions.models import Session as DjangoSession
from django.db import OperationalError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from interviews import live, permissions, services, stream
from interviews.models import ScheduleStatus, Session, SessionState
from interviews.permissions import Role
from tests.builders import SECRETS, make_peer_session
from tests.factories import (
    CaseFactory,
    CaseItemFactory,
    ClarificationFactFactory,
    SessionFactory,
    StepProbeFactory,
    UserFactory,
)
from tests.interviews.live_harness import StreamClient, cookie_of, in_thread, run

pytestmark = pytest.mark.django_db(transaction=True)

INTERVIEWER_ONLY = (*SECRETS, "COMMENT-SECRET", "HINT-SECRET")


async def _soon(condition, seconds: float = 2) -> None:
    """A render already under way finishes before the hub forgets a session."""
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


async def _joined(session: Session, streams: int) -> stream.Hub:
    """This process's hub once `streams` tabs have joined the session's watch, it hears changes
    and it has nothing left to send: a tab has its first bytes (the opening heartbeat) before
    its stream joins, and a test that counts the hub's reads or renders must start after."""
    hub = stream.hub()

    def ready() -> bool:
        watch = hub.watches.get(session.pk)
        joined = watch is not None and len(watch.streams) == streams and not watch.busy
        return hub.listening and joined

    await _soon(ready)
    return hub


def _save_notes_again(session: Session, text: str) -> None:
    step = session.steps.get(number=1)
    services.save_notes(session=session, step_number=1, text=text, base_version=step.notes_version)


async def _save_notes(session: Session, text: str) -> None:
    await in_thread(services.save_notes, session=session, step_number=1, text=text, base_version=0)


def _path(session: Session) -> str:
    return f"/sessions/{session.pk}/stream/"


def _client(
    session: Session, user, *, since: int | None = None, page: str = "", **options
) -> StreamClient:
    # Both people already count as here, so opening a stream announces nothing and the versions
    # below are those of the changes each test makes (presence: its own test at the end).
    held = timezone.now() + services.STREAM_PRESENCE_HOLD
    Session.objects.filter(pk=session.pk).update(interviewer_seen_at=held, candidate_seen_at=held)
    version = Session.objects.get(pk=session.pk).version if since is None else since
    query = f"v={version}&page={page}" if page else f"v={version}"
    return StreamClient(_path(session), cookie_of(user), query=query, **options)


@pytest.fixture
def secret_session(interviewer, candidate, rubric_version) -> Session:
    """A running session whose case holds text the candidate must never receive."""
    case = CaseFactory()
    for step in range(1, 8):
        StepProbeFactory(case=case, step=step, text=f"PROBE-SECRET of step {step}")
    CaseItemFactory(case=case, step=1, key="twist")
    CaseItemFactory(case=case, step=2, key="twist-two")
    ClarificationFactFactory(case=case, question="Revealed?", answer="REVEALED-ANSWER: on purpose.")
    for n in range(3):
        ClarificationFactFactory(case=case, answer=f"FACT-ANSWER-SECRET {n}")
    return make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_stream_of_someone_elses_session_is_404(who, outsider, running_session):
    client = _client(running_session, None if who == "anonymous" else outsider)

    async def scenario() -> None:
        assert await client.open() == 404
        assert client.ended
        assert b"No such session." in client.body

    run(scenario)


def test_stream_of_unknown_session_is_404(candidate, db):
    client = StreamClient("/sessions/999999/stream/", cookie_of(candidate), query="v=1")

    async def scenario() -> None:
        assert await client.open() == 404

    run(scenario)


def test_stream_refuses_other_methods_and_hosts(candidate, running_session):
    post = _client(running_session, candidate, method="POST")
    elsewhere = _client(running_session, candidate, host=b"evil.example")

    async def scenario() -> None:
        assert await post.open() == 405
        assert await elsewhere.open() == 400

    run(scenario)


def test_a_head_request_opens_no_stream(candidate, running_session):
    """A HEAD would be answered with a stream that never ends, for a client that reads nothing:
    it would hold a place in the hub and write its viewer present, then absent. Nothing is
    written."""
    head = _client(running_session, candidate, method="HEAD")
    seen = Session.objects.get(pk=running_session.pk).candidate_seen_at

    async def scenario() -> None:
        assert await head.open() == 405
        assert (b"allow", b"GET") in head.response_headers

    run(scenario)
    assert Session.objects.get(pk=running_session.pk).candidate_seen_at == seen


@pytest.mark.parametrize("who", ["interviewer", "candidate", "staff"])
def test_stream_opens_for_each_role_with_a_heartbeat(who, request, running_session):
    client = _client(running_session, request.getfixturevalue(who))

    async def scenario() -> None:
        assert await client.open() == 200
        first = await client.next_event()
        assert (first.name, first.id) == ("heartbeat", None)
        await client.close()

    run(scenario)


def test_a_change_reaches_the_other_participant(interviewer, candidate, running_session):
    watcher = _client(running_session, interviewer)
    before = Session.objects.get(pk=running_session.pk).version

    async def scenario() -> None:
        await watcher.open()
        await _save_notes(running_session, "Start with the business objective")
        update = await watcher.next_update()
        assert (update.name, update.id) == ("update", before + 1)
        assert 'id="candidate-notes-step-1"' in update.data
        assert "Start with the business objective" in update.data
        assert f'data-version="{before + 1}" hx-swap-oob="true"' in update.data
        # Rendered for everyone with this role, so no one's CSRF token is in it.
        assert "csrfmiddlewaretoken" not in update.data
        await watcher.close()

    run(scenario)


def test_changes_to_several_sessions_reach_each_ones_stream(
    interviewer, candidate, rubric_version, running_session
):
    # One hub watches both sessions: each change reaches its own session's stream, after a
    # change to the other one and to a session that no stream here watches.
    other = make_peer_session(
        interviewer=interviewer,
        candidate=candidate,
        case=CaseFactory(),
        rubric_version=rubric_version,
    )
    unwatched = make_peer_session(
        interviewer=interviewer,
        candidate=candidate,
        case=CaseFactory(),
        rubric_version=rubric_version,
    )
    first, second = _client(running_session, interviewer), _client(other, interviewer)

    async def scenario() -> None:
        await first.open()
        await second.open()
        await _save_notes(other, "The other session's goal")
        update = await second.next_update()
        assert "The other session's goal" in update.data
        await _save_notes(unwatched, "Nobody watches this one")
        await _save_notes(running_session, "This session's goal")
        update = await first.next_update()
        assert "This session's goal" in update.data
        assert "Nobody watches" not in update.data
        await first.close()
        await second.close()

    run(scenario)


def test_one_render_per_change_per_role(interviewer, candidate, running_session):
    tabs = [_client(running_session, candidate) for _ in range(3)]
    interviewer_tab = _client(running_session, interviewer)

    async def scenario() -> None:
        for tab in [*tabs, interviewer_tab]:
            await tab.open()
        hub = await _joined(running_session, 4)
        renders = hub.renders
        await in_thread(services.go_to_step, session=running_session, number=2)
        updates = [await tab.next_update() for tab in tabs]
        interviewer_update = await interviewer_tab.next_update()
        assert hub.renders == renders + 2  # once for the candidates, once for the interviewer
        assert len({u.data for u in updates}) == 1  # the same text for every candidate tab
        assert 'data-current-step="2"' in updates[0].data
        assert interviewer_update.data != updates[0].data
        assert 'id="checklist"' in interviewer_update.data
        for tab in [*tabs, interviewer_tab]:
            await tab.close()

    run(scenario)


PAGE_A, PAGE_B = "page-a-0123456", "page-b-0123456"


def _up_to_date(session: Session, page: str) -> services.Writer | None:
    """A write from `page`, which shows the session's current version (None: from no page)."""
    if not page:
        return None
    return services.Writer(
        page, Session.objects.values_list("version", flat=True).get(pk=session.pk)
    )


def _mark_now(session: Session, interviewer, page: str) -> None:
    services.set_mark(
        session=session,
        item_key="business-objective",
        mark="covered",
        after_hint=False,
        by=interviewer,
        writer=_up_to_date(session, page),
    )


async def _mark(session: Session, interviewer, page: str) -> None:
    await in_thread(_mark_now, session, interviewer, page)


def test_a_page_is_not_sent_its_own_mark_again(interviewer, candidate, running_session):
    """The page that marked has the mark from its write's answer; its other tab and the
    candidate still hear of it, and the page's next update starts after its own mark."""
    marking = _client(running_session, interviewer, page=PAGE_A)
    other_tab = _client(running_session, interviewer, page=PAGE_B)
    candidate_tab = _client(running_session, candidate, page=PAGE_B)
    before = Session.objects.get(pk=running_session.pk).version

    async def scenario() -> None:
        for tab in (marking, other_tab, candidate_tab):
            await tab.open()
            await tab.next_event()  # the opening heartbeat
        await _mark(running_session, interviewer, PAGE_A)
        update = await other_tab.next_update()
        assert update.id == before + 1
        assert 'id="item-business-objective-covered" aria-pressed="true"' in update.data
        assert (await candidate_tab.next_update()).id == before + 1
        await _save_notes(running_session, "Then the notes")
        update = await marking.next_update()
        assert update.id == before + 2  # the mark's version was never sent to this page
        assert "Then the notes" in update.data
        assert 'id="checklist"' not in update.data  # nor its checklist, in this update
        for tab in (marking, other_tab, candidate_tab):
            await tab.close()

    run(scenario)


def _poll_as_candidate(session: Session, candidate) -> None:
    """The candidate's poll, last seen long ago: it notes them here."""
    Session.objects.filter(pk=session.pk).update(candidate_seen_at=None)
    row = permissions.get_poll_row(candidate, session.pk)
    assert services.record_presence(poll_row=row, user_id=candidate.pk)


def test_a_poll_noting_the_partner_here_reaches_the_page_that_made_the_last_change(
    interviewer, candidate, running_session
):
    """The candidate's page polls (its stream blocked) and says every few seconds that they are
    here. That write is not the marking page's: its stream must send it, however recently that
    page made the change before it."""
    marking = _client(running_session, interviewer, page=PAGE_A)
    before = Session.objects.get(pk=running_session.pk).version

    async def scenario() -> None:
        await marking.open()
        await marking.next_event()  # the opening heartbeat
        hub = await _joined(running_session, 1)
        await _mark(running_session, interviewer, PAGE_A)
        # The hub heard of the mark (and sent the page nothing: it has it) before the poll.
        await _soon(lambda: hub.watches[running_session.pk].version == before + 1)
        # The candidate was last seen long ago: their poll now notes them here.
        await in_thread(_poll_as_candidate, running_session, candidate)
        update = await marking.next_update()
        assert update.id == before + 2
        assert 'id="presence"' in update.data
        assert "here now" in update.data
        await marking.close()

    run(scenario)


def test_writes_that_move_the_version_outside_bump_forget_the_page_of_the_last_change(
    interviewer, candidate, running_session
):
    """A page's own change is skipped only while it is the latest (interviews.live.
    has_own_change): the two writes that move the version without bump() must clear it too."""
    _mark_now(running_session, interviewer, PAGE_A)
    assert Session.objects.get(pk=running_session.pk).echo_page == PAGE_A
    _poll_as_candidate(running_session, candidate)
    assert Session.objects.get(pk=running_session.pk).echo_page == ""

    _mark_now(running_session, interviewer, PAGE_A)
    session = Session.objects.get(pk=running_session.pk)
    Session.objects.filter(pk=session.pk).update(
        scheduled_at=timezone.now() + timedelta(hours=1), schedule_status=ScheduleStatus.AGREED
    )
    session.refresh_from_db()
    assert services.claim_reminder(session=session)
    assert Session.objects.get(pk=running_session.pk).echo_page == ""


def test_a_role_whose_only_page_made_the_change_is_not_rendered(
    interviewer, candidate, running_session
):
    marking = _client(running_session, interviewer, page=PAGE_A)
    candidate_tab = _client(running_session, candidate)
    before = Session.objects.get(pk=running_session.pk).version

    async def scenario() -> None:
        for tab in (marking, candidate_tab):
            await tab.open()
            await tab.next_event()
        hub = await _joined(running_session, 2)
        renders = hub.renders
        await _mark(running_session, interviewer, PAGE_A)
        assert (await candidate_tab.next_update()).id == before + 1
        assert hub.renders == renders + 1  # the candidate's update only
        for tab in (marking, candidate_tab):
            await tab.close()

    run(scenario)


def test_a_change_whose_only_viewer_here_made_it_is_not_read(interviewer, running_session):
    """The process that serves the marking page hears of the mark, and the page has it from its
    write's answer: the hub neither reads the session nor renders; a later change is read."""
    marking = _client(running_session, interviewer, page=PAGE_A)
    before = Session.objects.get(pk=running_session.pk).version

    async def scenario() -> None:
        await marking.open()
        await marking.next_event()
        # After the look a newly watched session gets, and on PostgreSQL the one the listener
        # takes at every watched session when its LISTEN is up, which may come later.
        hub = await _joined(running_session, 1)
        watch = hub.watches[running_session.pk]
        reads, renders = hub.reads, hub.renders
        await _mark(running_session, interviewer, PAGE_A)
        await _soon(lambda: watch.version == before + 1)
        assert (hub.reads, hub.renders) == (reads, renders)
        await _save_notes(running_session, "Then the notes")
        update = await marking.next_update()
        assert update.id == before + 2
        assert "Then the notes" in update.data
        assert hub.reads == reads + 1
        await marking.close()

    run(scenario)


def test_a_page_is_not_sent_its_own_notes(interviewer, candidate, running_session):
    """The candidate's page that saved has the new version from the save's answer: only the
    interviewer is rendered the notes, and the page's next update is the next change."""
    writing = _client(running_session, candidate, page=PAGE_A)
    interviewer_tab = _client(running_session, interviewer)
    before = Session.objects.get(pk=running_session.pk).version

    async def scenario() -> None:
        for tab in (writing, interviewer_tab):
            await tab.open()
            await tab.next_event()
        hub = await _joined(running_session, 2)
        renders = hub.renders
        await in_thread(
            services.save_notes,
            session=running_session,
            step_number=1,
            text="Clarified the goal",
            base_version=0,
            writer=services.Writer(PAGE_A, before),
        )
        update = await interviewer_tab.next_update()
        assert update.id == before + 1
        assert "Clarified the goal" in update.data
        assert hub.renders == renders + 1  # the interviewer's update only
        await _mark(running_session, interviewer, "")
        assert (await writing.next_update()).id == before + 2
        for tab in (writing, interviewer_tab):
            await tab.close()

    run(scenario)


@pytest.mark.parametrize("behind", [True, False])
def test_a_page_gets_its_own_mark_when_it_lacks_more_than_that(
    interviewer, running_session, behind
):
    """The answer carries the mark only to a page that was up to date; a stream that was not
    sent everything before it, or whose page is another, sends the whole change."""
    tab = _client(running_session, interviewer, page=PAGE_A if behind else PAGE_B)
    before = Session.objects.get(pk=running_session.pk).version

    async def scenario() -> None:
        await tab.open()
        await tab.next_event()
        if behind:
            # Made and marked in one go, before the hub hears of either: the stream lacks both.
            def comment_then_mark() -> None:
                with transaction.atomic():
                    services.save_comment(session=running_session, step_number=1, text="c")
                    _mark_now(running_session, interviewer, PAGE_A)

            await in_thread(comment_then_mark)
        else:
            await _mark(running_session, interviewer, PAGE_A)
        update = await tab.next_update()
        assert update.id == (before + 2 if behind else before + 1)
        assert 'id="item-business-objective-covered" aria-pressed="true"' in update.data
        await tab.close()

    run(scenario)


def test_a_joining_stream_that_skips_its_own_mark_is_counted_as_having_it(
    interviewer, running_session
):
    """A stream that joins after others were sent its page's own mark is not sent the mark, and
    counts as having it: the next change is then checked against the mark's version."""

    async def scenario() -> None:
        await _mark(running_session, interviewer, PAGE_A)
        marked = (await in_thread(Session.objects.get, pk=running_session.pk)).version
        hub = stream.hub()
        # Others in this process were sent the mark before this stream joined.
        hub.watches[running_session.pk] = stream.Watch(marked)
        joining = stream.Stream(Role.INTERVIEWER, marked - 1, PAGE_A)
        await hub.join(running_session.pk, joining)
        assert joining.queue.empty()
        assert joining.version == marked
        hub.leave(running_session.pk, joining)

    run(scenario)


def test_a_stream_joining_while_the_last_other_one_leaves_still_hears_changes(
    interviewer, running_session, monkeypatch
):
    """A joining stream's catch-up is rendered while the session's last other stream here
    leaves, and the hub forgets that watch: the joining stream must end up in the watch that
    hears the next change, not in the forgotten one (heartbeats and no updates, for good)."""
    # Our own render, slowed: the race needs a leave to land while it runs.
    rendering, release = threading.Event(), threading.Event()
    render = live.render_changes

    def slow_render(*args):
        rendering.set()
        release.wait(5)
        return render(*args)

    monkeypatch.setattr(live, "render_changes", slow_render)

    async def scenario() -> None:
        await _mark(running_session, interviewer, PAGE_A)
        marked = (await in_thread(Session.objects.get, pk=running_session.pk)).version
        hub = stream.hub()
        leaving = stream.Stream(Role.INTERVIEWER, marked)
        hub.watches[running_session.pk] = stream.Watch(marked, {leaving})
        joining = stream.Stream(Role.CANDIDATE, marked - 1)
        join = asyncio.create_task(hub.join(running_session.pk, joining))
        await _soon(rendering.is_set)
        hub.leave(running_session.pk, leaving)
        release.set()
        await join
        assert joining in hub.watches[running_session.pk].streams
        hub.leave(running_session.pk, joining)

    run(scenario)


def test_candidate_stream_never_carries_interviewer_material(
    interviewer, candidate, secret_session
):
    session = secret_session
    candidate_tab = _client(session, candidate)
    interviewer_tab = _client(session, interviewer)
    revealed = session.case.facts.get(question="Revealed?")

    async def scenario() -> None:
        await candidate_tab.open()
        await interviewer_tab.open()
        writes = [
            (services.set_fact_revealed, {"fact": revealed, "revealed": True}),
            (services.save_notes, {"step_number": 1, "text": "goal first", "base_version": 0}),
            (
                services.set_mark,
                {"item_key": "business-objective", "mark": "covered", "after_hint": False},
            ),
            (services.save_comment, {"step_number": 1, "text": "COMMENT-SECRET weak on scale"}),
            (services.add_hint, {"step_number": 1, "text": "HINT-SECRET ask about QPS"}),
            (services.go_to_step, {"number": 2}),
            (services.pause_session, {}),
        ]
        seen_by_candidate, seen_by_interviewer = [], []
        for write, arguments in writes:
            if write is services.set_mark:
                arguments = {**arguments, "by": interviewer}
            await in_thread(write, session=session, **arguments)
            seen_by_candidate.append((await candidate_tab.next_update()).data)
            seen_by_interviewer.append((await interviewer_tab.next_update()).data)
        for text in seen_by_candidate:
            for secret in INTERVIEWER_ONLY:
                assert secret not in text
            assert "Checklist" not in text
        assert "REVEALED-ANSWER: on purpose." in seen_by_candidate[0]
        interviewer_text = "\n".join(seen_by_interviewer)
        for expected in ("COMMENT-SECRET", "HINT-SECRET", "PROBE-SECRET of step 2"):
            assert expected in interviewer_text
        await candidate_tab.close()
        await interviewer_tab.close()

    run(scenario)


def test_a_candidate_reconnecting_after_everything_catches_up_without_interviewer_material(
    interviewer, candidate, secret_session
):
    """The catch-up a stream opens with (a reconnect's Last-Event-ID far behind) is rendered
    for the candidate like any update: every change since, and no interviewer material."""
    session = secret_session
    before = Session.objects.get(pk=session.pk).version
    revealed = session.case.facts.get(question="Revealed?")
    services.set_fact_revealed(session=session, fact=revealed, revealed=True)
    services.save_comment(session=session, step_number=1, text="COMMENT-SECRET weak on scale")
    services.add_hint(session=session, step_number=1, text="HINT-SECRET ask about QPS")
    _mark_now(session, interviewer, page="")
    services.go_to_step(session=session, number=2)
    tab = _client(session, candidate, headers=[(b"last-event-id", str(before).encode())])
    now = Session.objects.get(pk=session.pk).version

    async def scenario() -> None:
        await tab.open()
        catch_up = await tab.next_update()
        assert catch_up.id == now
        for secret in INTERVIEWER_ONLY:
            assert secret not in catch_up.data
        assert "Checklist" not in catch_up.data
        assert "REVEALED-ANSWER: on purpose." in catch_up.data
        await tab.close()

    run(scenario)


def test_an_interviewer_who_is_the_cases_candidate_elsewhere_is_streamed_no_material(
    interviewer, candidate, secret_session
):
    """Once the interviewer becomes this case's candidate in another session, the updates their
    stream carries withhold the case's material, as their room page does."""
    session = secret_session
    case = session.case
    interviewer_tab = _client(session, interviewer)

    async def scenario() -> None:
        await interviewer_tab.open()
        await in_thread(services.go_to_step, session=session, number=2)
        assert "PROBE-SECRET of step 2" in (await interviewer_tab.next_update()).data
        await in_thread(
            SessionFactory, case=case, candidate=interviewer, state=SessionState.WAITING
        )
        await in_thread(services.go_to_step, session=session, number=3)
        update = (await interviewer_tab.next_update()).data
        assert 'data-current-step="3"' in update
        for secret in INTERVIEWER_ONLY:
            assert secret not in update
        await interviewer_tab.close()

    run(scenario)


def test_reconnect_resumes_from_last_event_id(interviewer, candidate, running_session):
    seen = Session.objects.get(pk=running_session.pk).version
    cookie = cookie_of(interviewer)

    async def scenario() -> None:
        await _save_notes(running_session, "written while the interviewer was reconnecting")
        await in_thread(services.go_to_step, session=running_session, number=2)
        # The browser's own reconnect: the page's ?v= is old, Last-Event-ID says what it has.
        client = StreamClient(
            _path(running_session),
            cookie,
            query="v=1",
            headers=[(b"last-event-id", str(seen).encode())],
        )
        assert await client.open() == 200
        catch_up = await client.next_update()
        assert catch_up.id == seen + 2
        assert "written while the interviewer was reconnecting" in catch_up.data
        assert 'data-current-step="2"' in catch_up.data
        await client.close()

    run(scenario)


def test_up_to_date_stream_sends_no_catch_up(interviewer, running_session):
    client = _client(running_session, interviewer)

    async def scenario() -> None:
        await client.open()
        assert (await client.next_event()).name == "heartbeat"
        with pytest.raises(TimeoutError):
            await client.next_event(timeout=0.5)
        await client.close()

    run(scenario)


def test_finishing_sends_the_scorecard_and_ends_the_stream(interviewer, candidate, running_session):
    client = _client(running_session, candidate)
    scorecard = reverse("scorecards:scorecard", args=[running_session.pk])

    async def scenario() -> None:
        await client.open()
        await in_thread(services.finish_session, session=running_session)
        finished = await client.next_update()
        assert finished.name == "finished"
        assert finished.data == scorecard
        await asyncio.wait_for(client._task, 5)
        assert client.ended

    run(scenario)


def test_stream_of_a_finished_session_says_so_at_once(candidate, running_session):
    services.finish_session(session=running_session)
    client = _client(running_session, candidate, since=1)

    async def scenario() -> None:
        assert await client.open() == 200
        assert (await client.next_update()).name == "finished"
        assert client.ended

    run(scenario)


def test_leaving_streams_are_forgotten(interviewer, candidate, running_session):
    client = _client(running_session, candidate)

    async def scenario() -> None:
        await client.open()
        await client.next_event()
        hub = await _joined(running_session, 1)
        await client.close()
        await _soon(lambda: running_session.pk not in hub.watches)

    run(scenario)


def test_event_sends_each_line_of_the_data():
    assert stream.event("update", "<p>\r\none</p>\ntwo", 7) == (
        b"event: update\nid: 7\ndata: <p>\ndata: one</p>\ndata: two\n\n"
    )
    assert stream.event("heartbeat") == b"event: heartbeat\ndata: \n\n"


@pytest.mark.parametrize(
    ("headers", "query", "since"),
    [
        ({}, b"v=12", 12),
        ({b"last-event-id": b"15"}, b"v=12", 15),  # the browser's own reconnect knows better
        ({b"last-event-id": b"junk"}, b"v=12", 12),
        ({}, b"v=-1", None),
        ({}, b"", None),
        ({}, b"v=" + b"9" * 30, None),
        # Characters that str.isdigit() calls digits: int() refuses "²" and reads "١٢" as 12.
        ({b"last-event-id": "\u00b2".encode("latin-1")}, b"v=12", 12),
        ({}, b"v=%C2%B2", None),
        ({}, b"v=%D9%A1%D9%A2", None),
    ],
)
def test_stream_resumes_from_last_event_id_or_the_page_version(headers, query, since):
    assert stream._since(headers, query) == since


def test_event_keeps_unicode_line_separators_in_the_text():
    assert (
        stream.event("update", "a\u2028b", 1) == "event: update\nid: 1\ndata: a\u2028b\n\n".encode()
    )


def test_a_stream_too_far_behind_is_closed_to_reconnect(interviewer, running_session):
    client = _client(running_session, interviewer)

    async def scenario() -> None:
        await client.open()
        await client.next_event()
        hub = await _joined(running_session, 1)
        (open_stream,) = hub.watches[running_session.pk].streams
        for _ in range(stream.MAX_QUEUED + 1):
            open_stream.send(b"event: update\nid: 1\ndata: \n\n")
        await asyncio.wait_for(client._task, 5)  # ended: the browser reconnects and catches up
        assert client.ended  # the response was finished, not dropped
        await _soon(lambda: running_session.pk not in hub.watches)

    run(scenario)


def test_a_stalled_stream_queues_no_more_than_its_limit():
    # The browser reads nothing: the stream ends instead of keeping every later update.
    stalled = stream.Stream(Role.CANDIDATE, 0)
    for _ in range(3 * stream.MAX_QUEUED):
        stalled.send(b"event: update\nid: 1\ndata: \n\n")
    assert stalled.ended
    assert stalled.queue.qsize() <= stream.MAX_QUEUED + 1


def test_a_stream_whose_update_cannot_be_rendered_ends_so_that_its_page_reconnects(
    interviewer, running_session, monkeypatch, caplog
):
    """Heartbeats alone would keep the page looking live while it misses the change; ended, it
    reconnects from its Last-Event-ID and the opening read renders what it lacks."""
    client = _client(running_session, interviewer)

    # Our own render made to fail: no input makes it fail today, a future bug might.
    def broken(*args):
        raise RuntimeError("a template that cannot render")

    async def scenario() -> None:
        await client.open()
        await client.next_event()
        await _joined(running_session, 1)
        monkeypatch.setattr(live, "render_changes", broken)
        await _save_notes(running_session, "drift and retraining")
        await asyncio.wait_for(client._task, 5)
        assert client.ended

    run(scenario)
    assert "live update of session" in caplog.text
    # The page reconnects within seconds: its owner is not written away meanwhile.
    assert Session.objects.get(pk=running_session.pk).interviewer_seen_at > timezone.now()


def test_a_stream_that_cannot_reach_the_database_is_refused_for_a_moment(
    interviewer, running_session, monkeypatch
):
    # The database going away, where the stream first needs it.
    def no_database(*args):
        raise OperationalError("the database is restarting")

    monkeypatch.setattr(live, "open_stream", no_database)
    client = _client(running_session, interviewer)

    async def scenario() -> None:
        assert await client.open() == 503
        await asyncio.wait_for(client._task, 5)
        assert b"unavailable for a moment" in client.body

    run(scenario)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="NOTIFY is PostgreSQL's")
def test_a_notice_that_is_not_ours_does_not_stop_the_listener(interviewer, running_session, caplog):
    client = _client(running_session, interviewer)

    def notify(payload: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [services.NOTIFY_CHANNEL, payload])

    async def scenario() -> None:
        await client.open()
        await client.next_event()
        await _joined(running_session, 1)
        for payload in ("garbage", f"{running_session.pk} \u00b2", ""):
            await in_thread(notify, payload)
        await _save_notes(running_session, "still heard")
        assert "still heard" in (await client.next_update()).data
        await client.close()

    run(scenario)
    assert "ignored a notice that is not ours" in caplog.text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN is PostgreSQL's")
def test_a_listener_that_stops_hearing_is_noticed_and_its_streams_are_read_meanwhile(
    interviewer, running_session, settings, monkeypatch, caplog
):
    """A LISTEN connection that a firewall dropped without a word, or that a pooler in
    transaction mode never passes a notice to, raises nothing: heartbeats would go on while the
    page missed every change. The listener checks that it hears itself; until it listens
    again, the hub reads the sessions' versions."""
    import psycopg

    settings.LIVE_LISTEN_CHECK_MS = 300
    client = _client(running_session, interviewer)
    connect = psycopg.AsyncConnection.connect

    async def refused(*args: object, **kwargs: object) -> None:
        raise psycopg.OperationalError("refused by the test")

    async def scenario() -> None:
        await client.open()
        await client.next_event()
        hub = await _joined(running_session, 1)
        # From now on no new connection can be made, and the open one hears nothing.
        monkeypatch.setattr(psycopg.AsyncConnection, "connect", refused)
        await hub.listen_connection.execute("UNLISTEN *")
        await _soon(lambda: not hub.listening)
        await _save_notes(running_session, "read, not heard")
        assert "read, not heard" in (await client.next_update()).data
        # Connections can be made again: the hub listens again, and hears.
        monkeypatch.setattr(psycopg.AsyncConnection, "connect", connect)
        await _soon(lambda: hub.listening, seconds=15)
        await _joined(running_session, 1)  # its catch-up read is done
        reads = hub.reads
        await in_thread(_save_notes_again, running_session, "heard again")
        assert "heard again" in (await client.next_update()).data
        assert hub.reads == reads + 1
        await client.close()

    run(scenario)
    assert "stopped listening (ListenerDeaf)" in caplog.text


@pytest.mark.parametrize("change", ["loses staff rights", "logs out", "is deactivated"])
def test_a_viewer_who_may_no_longer_see_the_room_is_not_streamed_to_for_long(
    running_session, settings, monkeypatch, change
):
    """Checked when the stream opens, and again each time it renews the viewer's presence."""
    settings.LIVE_HEARTBEAT_SECONDS = 1
    monkeypatch.setattr(stream, "RENEW_PRESENCE_SECONDS", 0.2)
    observer = UserFactory(is_staff=True)
    tab = _client(running_session, observer)

    def lose_access() -> None:
        if change == "loses staff rights":
            type(observer).objects.filter(pk=observer.pk).update(is_staff=False)
        elif change == "logs out":
            DjangoSession.objects.all().delete()
        else:
            type(observer).objects.filter(pk=observer.pk).update(is_active=False)

    async def scenario() -> None:
        assert await tab.open() == 200
        await tab.next_event()
        await _joined(running_session, 1)
        await in_thread(lose_access)
        await asyncio.wait_for(tab._task, 5)
        assert tab.ended

    run(scenario)


def test_events_do_not_wait_for_a_renewal(settings, monkeypatch):
    """A renewal reads the database (the viewer, the session, the presence write): the events
    that come meanwhile go out without waiting for it."""
    settings.LIVE_HEARTBEAT_SECONDS = 1
    monkeypatch.setattr(stream, "RENEW_PRESENCE_SECONDS", 0)
    busy = stream.Stream(Role.INTERVIEWER, 0)
    renewing = asyncio.Event()
    sent: list[bytes] = []

    async def slow_renew() -> None:
        renewing.set()
        await asyncio.sleep(3600)  # a database that takes its time

    async def send(message: dict[str, object]) -> None:
        sent.append(message["body"])

    async def scenario() -> None:
        pump = asyncio.create_task(stream._pump(busy, send, slow_renew))
        busy.send(b"event: update\nid: 1\ndata: \n\n")
        await asyncio.wait_for(renewing.wait(), 2)
        busy.send(b"event: update\nid: 2\ndata: \n\n")
        await _soon(lambda: len(sent) == 2)
        busy.send(None)
        assert await asyncio.wait_for(pump, 2) is True

    run(scenario)


def test_a_busy_stream_renews_its_presence(settings, monkeypatch):
    """Updates every moment, so the stream never waits a whole heartbeat: it still renews."""
    settings.LIVE_HEARTBEAT_SECONDS = 1
    monkeypatch.setattr(stream, "RENEW_PRESENCE_SECONDS", 0.1)
    busy = stream.Stream(Role.INTERVIEWER, 0)
    renewals: list[float] = []

    async def renew() -> None:
        renewals.append(asyncio.get_running_loop().time())

    async def send(message: dict[str, object]) -> None:
        pass

    async def changes() -> None:
        for n in range(25):
            busy.send(b"event: update\nid: %d\ndata: \n\n" % n)
            await asyncio.sleep(0.02)
        busy.send(None)

    async def scenario() -> None:
        await asyncio.gather(stream._pump(busy, send, renew), changes())
        assert len(renewals) >= 2

    run(scenario)


def test_a_change_made_while_a_stream_was_opening_is_not_missed(interviewer, running_session):
    # The stream's opening read saw `before`; the change came (and, on PostgreSQL, its NOTIFY
    # went by) before this process watched the session.
    before = Session.objects.get(pk=running_session.pk).version
    services.save_notes(session=running_session, step_number=1, text="in between", base_version=0)

    async def scenario() -> None:
        opening = stream.Stream(Role.INTERVIEWER, before)
        await stream.hub().join(running_session.pk, opening)
        message = await asyncio.wait_for(opening.queue.get(), 5)
        assert message.startswith(f"event: update\nid: {before + 1}\n".encode())
        assert b"in between" in message
        stream.hub().leave(running_session.pk, opening)

    run(scenario)


def test_closing_one_of_two_pages_leaves_their_owner_here(candidate, running_session):
    """The candidate has the room open twice (two tabs, or a laptop and a tablet) and closes
    one: the other, still streaming, holds their presence again at once, not minutes later at
    its next renewal."""
    tabs = [_client(running_session, candidate, page=page) for page in (PAGE_A, PAGE_B)]

    def presence() -> tuple[int, datetime]:
        session = Session.objects.get(pk=running_session.pk)
        return session.presence_stamp, session.candidate_seen_at

    async def scenario() -> None:
        for tab in tabs:
            await tab.open()
            await tab.next_event()
        await _joined(running_session, 2)
        before, _ = await in_thread(presence)
        await tabs[0].close()
        # Written twice: last seen now, as the first page closed; then held by the second.
        async with asyncio.timeout(5):
            while True:
                stamp, seen = await in_thread(presence)
                if stamp >= before + 2 and seen > timezone.now():
                    break
                await asyncio.sleep(0.05)
        await tabs[1].close()

    run(scenario)
    _, seen = presence()
    assert seen <= timezone.now()  # the last page closed: no longer held


@pytest.mark.django_db
def test_a_stream_shows_its_owner_present_until_it_closes(interviewer, candidate, running_session):
    """With push there is no poll to say who is here: the stream says it, once when it opens,
    renewed every few minutes (not per heartbeat), and once more when it closes."""
    now = timezone.now()
    assert services.record_stream_presence(
        session_id=running_session.pk, user_id=candidate.pk, connected=True, now=now
    )
    session = Session.objects.get(pk=running_session.pk)
    assert session.candidate_seen_at == now + services.STREAM_PRESENCE_HOLD
    assert session.presence_stamp == session.version
    # A renewal soon after writes nothing; polls in between write nothing either.
    later = now + timedelta(minutes=1)
    assert not services.record_stream_presence(
        session_id=running_session.pk, user_id=candidate.pk, connected=True, now=later
    )
    row = permissions.get_poll_row(candidate, running_session.pk)
    assert not services.record_presence(poll_row=row, user_id=candidate.pk, now=later)
    assert services.record_stream_presence(
        session_id=running_session.pk, user_id=candidate.pk, connected=False, now=later
    )
    closed = Session.objects.get(pk=running_session.pk)
    assert closed.candidate_seen_at == later  # last seen as it closed: away once that is old
    # Staff looking on are nobody's partner: nothing is written for them.
    assert not services.record_stream_presence(
        session_id=running_session.pk, user_id=UserFactory(is_staff=True).pk, connected=True
    )
