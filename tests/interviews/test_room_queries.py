"""The room page and the poll take a fixed number of queries, whatever the session holds.

Each count is the one measured with the small session; the big session must take the same.
"""

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casebank.checklist import rubric_items
from interviews import live, services
from interviews.board import BoardUpdate
from interviews.models import Mark, Session, SessionMode, SessionStep
from interviews.permissions import Role
from rubrics import scoring
from rubrics.models import Category, RubricVersion
from tests.builders import T0, make_peer_session, scoring_items
from tests.factories import (
    CaseFactory,
    CaseItemFactory,
    ClarificationFactFactory,
    StepProbeFactory,
    UserFactory,
)
from tests.interviews.test_board_merge import rect, text

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}

# django_session, auth_user, the session with its case, rubric version and people, its steps with
# their rubric steps, the revealed fact ids, the case's facts.
ROOM_QUERIES_CANDIDATE = 6
# The above, plus whether the interviewer is meanwhile this case's candidate elsewhere (then the
# material is withheld), the interviewer's marks, the board's labels (evidence from the diagram;
# the scene itself is never read), the step's hints. The rubric's items come from the process's
# cache (casebank.checklist.rubric_items), and so do the case's own items and exclusions
# (case_parts) and the step's rendered probes (probe_html), as on every request after the
# process's first read since the case's last edit: that first read takes CASE_PARTS_QUERIES more.
ROOM_QUERIES_INTERVIEWER = 10
# The case's items, their categories, the case's not-applicable items; the step's probes.
CASE_PARTS_QUERIES = 4
# The cheap read of version and participants comes first, then the room's queries (minus the
# login's two, already done).
STATE_CHANGED_CANDIDATE = 1 + ROOM_QUERIES_CANDIDATE
STATE_CHANGED_INTERVIEWER = 1 + ROOM_QUERIES_INTERVIEWER
# After a notes change only the notes and their evidence are rendered: the candidate's poll reads
# the session and nothing else; the interviewer's reads the steps (the notes and the evidence
# found in them for the current step's items), but no board labels (the diagram's part of each
# evidence line stays as it is), marks, facts, probe or hints.
NOTES_CHANGED_CANDIDATE = 4
NOTES_CHANGED_INTERVIEWER = 6
# django_session, auth_user, and one read of the session row's version and participants.
STATE_UNCHANGED = 3
# The same, plus the one UPDATE of the poller's "last seen" when it is due (every 5 s at most).
STATE_UNCHANGED_RECORDING_PRESENCE = 4


@pytest.fixture(autouse=True)
def _rubric_items_read(rubric_version) -> None:
    rubric_items(rubric_version.pk)


def _poll_once(client, session: Session) -> Session:
    """One poll, so the person's "last seen" is fresh and the measured polls record nothing."""
    client.get(reverse("interviews:state", args=[session.pk]), {"v": 0}, headers=HX)
    return Session.objects.get(pk=session.pk)


def _build(interviewer, candidate, rubric_version, *, facts, case_items, noted_steps, marks):
    case = CaseFactory()
    data = Category.objects.get(slug="data")
    for n in range(facts):
        ClarificationFactFactory(case=case, answer=f"Answer {n}")
    for step in range(1, 8):
        StepProbeFactory(case=case, step=step, text=f"Probe for step {step}")
    for n in range(case_items):
        # The first items land on step 1, where the checklist is shown; the rest spread out.
        CaseItemFactory(
            case=case, step=1 if n < 3 else 2 + n % 6, key=f"extra-{n}", categories=[data]
        )
    session = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    for fact in case.facts.all()[: (facts + 1) // 2]:
        services.set_fact_revealed(session=session, fact=fact, revealed=True)
    for number in noted_steps:
        services.save_notes(
            session=session,
            step_number=number,
            text=f"Step {number}: business goal, latency budget, data sources, drift.",
            base_version=0,
        )
    items = scoring_items(session)
    for item in items[:marks]:
        services.go_to_step(session=session, number=item.step, now=T0)
        services.set_mark(
            session=session,
            item_key=item.key,
            mark="observed" if item.kind == scoring.Kind.RED_FLAG else "partial",
            after_hint=False,
            by=interviewer,
        )
        services.add_hint(session=session, step_number=item.step, text=f"Hint for {item.key}")
    services.go_to_step(session=session, number=1, now=T0)
    assert Mark.objects.filter(session=session).count() == marks
    return Session.objects.get(pk=session.pk)


@pytest.fixture
def small(interviewer, candidate, rubric_version) -> Session:
    return _build(
        interviewer, candidate, rubric_version, facts=1, case_items=1, noted_steps=[1], marks=1
    )


@pytest.fixture
def big(interviewer, candidate, rubric_version) -> Session:
    return _build(
        interviewer,
        candidate,
        rubric_version,
        facts=20,
        case_items=10,
        noted_steps=range(1, 8),
        marks=30,
    )


def test_big_session_is_big(big):
    assert big.case.facts.count() == 20
    assert big.case.extra_items.count() == 10
    assert big.case.extra_items.filter(step=1).count() == 3
    assert big.reveals.count() == 10
    assert big.steps.exclude(notes="").count() == 7
    # 30 marks: all 13 of step 1 (10 rubric + 3 case items), all 8 of step 2, 9 of step 3.
    assert sorted(set(big.marks.values_list("step_number", flat=True))) == [1, 2, 3]
    assert big.marks.filter(step_number=1).count() == 13


@pytest.mark.parametrize("size", ["small", "big"])
@pytest.mark.parametrize(
    ("role", "queries"),
    [
        ("interviewer", ROOM_QUERIES_INTERVIEWER),
        # Staff look on: no check whether they are the case's candidate elsewhere.
        ("staff", ROOM_QUERIES_INTERVIEWER - 1),
        ("candidate", ROOM_QUERIES_CANDIDATE),
    ],
)
def test_room_query_count(client, request, django_assert_num_queries, size, role, queries):
    session = request.getfixturevalue(size)
    client.force_login(request.getfixturevalue(role))
    url = reverse("interviews:room", args=[session.pk])
    client.get(url)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("role", ["interviewer", "candidate"])
def test_the_rows_of_a_session_and_its_case_are_read_without_joining_their_table(
    client, request, big, role
):
    # The session is read once, with its case; its steps, marks, reveals and hints are read by
    # its id alone, and the case's facts, probes and items by the case's id (their orderings once
    # joined the sessions and cases tables, only to sort them).
    client.force_login(request.getfixturevalue(role))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("interviews:room", args=[big.pk])).status_code == 200
        poll = client.get(reverse("interviews:state", args=[big.pk]), {"v": 0}, headers=HX)
        assert poll.status_code == 200
    rows = [
        q["sql"] for q in queries.captured_queries if 'FROM "interviews_session"' not in q["sql"]
    ]
    assert any('FROM "interviews_sessionstep"' in sql for sql in rows)
    assert [sql for sql in rows if 'JOIN "interviews_session"' in sql] == []
    if role == "interviewer":
        assert any('FROM "casebank_clarificationfact"' in sql for sql in rows)
        assert any('FROM "casebank_stepprobe"' in sql for sql in rows)
    assert [sql for sql in rows if 'JOIN "casebank_case"' in sql] == []


@pytest.mark.parametrize("size", ["small", "big"])
def test_the_first_room_after_an_edit_of_the_case_reads_its_items(
    client, request, django_assert_num_queries, interviewer, size
):
    session = request.getfixturevalue(size)
    client.force_login(interviewer)
    url = reverse("interviews:room", args=[session.pk])
    with django_assert_num_queries(ROOM_QUERIES_INTERVIEWER + CASE_PARTS_QUERIES):
        assert client.get(url).status_code == 200
    session.case.save()  # what the admin and the import do before they change its items
    with django_assert_num_queries(ROOM_QUERIES_INTERVIEWER + CASE_PARTS_QUERIES):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(ROOM_QUERIES_INTERVIEWER):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("size", ["small", "big"])
@pytest.mark.parametrize(
    ("role", "queries", "notes_queries"),
    [
        ("interviewer", STATE_CHANGED_INTERVIEWER, NOTES_CHANGED_INTERVIEWER),
        ("candidate", STATE_CHANGED_CANDIDATE, NOTES_CHANGED_CANDIDATE),
    ],
)
def test_state_changed_query_count(
    client, request, django_assert_num_queries, size, role, queries, notes_queries
):
    session = request.getfixturevalue(size)
    client.force_login(request.getfixturevalue(role))
    session = _poll_once(client, session)
    url = reverse("interviews:state", args=[session.pk])
    with django_assert_num_queries(queries):
        response = client.get(url, {"v": 0}, headers=HX)
    assert response.status_code == 200
    # A notes change alone: fewer fragments, and only the queries they need.
    before = session.version
    services.save_notes(session=session, step_number=1, text="changed", base_version=1, now=T0)
    with django_assert_num_queries(notes_queries):
        response = client.get(url, {"v": before}, headers=HX)
    assert response.status_code == 200
    assert 'id="flow"' not in response.content.decode()


# A mark: the login's two; the session read under its row lock, with its rubric version and when its
# case was last edited; whether the interviewer is this case's candidate elsewhere (asked once: the
# answer's room state reuses it); the mark in one upsert and the version bump, inside the view's
# transaction (here a savepoint in the test's: two; the service opens none of its own, see
# services.joins_locked_write); then the answer, the marked item and the step's score: the marks.
# The item's evidence line stays on the page as it was (a mark changes no evidence), so neither
# the notes nor the board's labels are read: they were two more. The case's own items are kept by
# the process (case_parts), read by the room before. Before the upsert and the reused check it was
# 25; before the cached case items 17. (On PostgreSQL the version bump's NOTIFY comes from a
# trigger: no statement of its own.)
MARK_QUERIES = 2 + 1 + 1 + 2 + 2 + 1


@pytest.mark.parametrize("size", ["small", "big"])
def test_mark_query_count(client, request, django_assert_num_queries, interviewer, size):
    session = request.getfixturevalue(size)
    client.force_login(interviewer)
    assert client.get(reverse("interviews:room", args=[session.pk])).status_code == 200
    url = reverse("interviews:mark", args=[session.pk])
    with django_assert_num_queries(MARK_QUERIES):
        response = client.post(url, {"item": "scale-estimates", "mark": "covered"}, headers=HX)
    assert response.status_code == 200
    assert Mark.objects.get(session=session, item_key="scale-estimates").mark == "covered"


def test_a_mark_and_the_updates_of_a_mark_and_a_save_build_no_rubric_version(
    client, interviewer, small
):
    # The step score's bands come from the process's keep (casebank.checklist.rubric_thresholds),
    # so neither the mark's locked read nor a stream's read joins the rubric version.
    built = []

    def count(sender, instance, **kwargs):
        built.append(instance.pk)

    client.force_login(interviewer)
    assert client.get(reverse("interviews:room", args=[small.pk])).status_code == 200
    before = Session.objects.get(pk=small.pk).version
    post_init.connect(count, sender=RubricVersion)
    try:
        response = client.post(
            reverse("interviews:mark", args=[small.pk]),
            {"item": "scale-estimates", "mark": "covered"},
            headers=HX,
        )
        for_candidate = live.render_changes(small.pk, before, [live.Viewer(Role.CANDIDATE)])
        services.save_notes(
            session=Session.objects.get(pk=small.pk),
            step_number=1,
            text="Step 1: the business goal and a latency budget.",
            base_version=1,
        )
        for_interviewer = live.render_changes(small.pk, before + 1, [live.Viewer(Role.INTERVIEWER)])
    finally:
        post_init.disconnect(count, sender=RubricVersion)
    assert built == []
    assert response.status_code == 200
    assert 'id="step-score"' in response.content.decode()
    assert for_candidate is not None
    assert for_candidate.version == before + 1
    assert "a latency budget" in for_interviewer.html[Role.INTERVIEWER]


@pytest.mark.parametrize("size", ["small", "big"])
@pytest.mark.parametrize("role", ["interviewer", "candidate", "staff"])
def test_state_unchanged_query_count(client, request, django_assert_num_queries, size, role):
    session = request.getfixturevalue(size)
    client.force_login(request.getfixturevalue(role))
    session = _poll_once(client, session)
    url = reverse("interviews:state", args=[session.pk])
    with django_assert_num_queries(STATE_UNCHANGED):
        response = client.get(url, {"v": session.version}, headers=HX)
    assert response.status_code == 204


@pytest.mark.parametrize("size", ["small", "big"])
def test_state_records_presence_in_one_update_then_not_again(
    client, request, django_assert_num_queries, size, interviewer
):
    session = request.getfixturevalue(size)
    assert session.interviewer_seen_at is None
    client.force_login(interviewer)
    url = reverse("interviews:state", args=[session.pk])
    with django_assert_num_queries(STATE_UNCHANGED_RECORDING_PRESENCE):
        response = client.get(url, {"v": session.version}, headers=HX)
    # Its own write makes the version move on: the next poll brings the presence line.
    assert response.status_code == 204
    session = Session.objects.get(pk=session.pk)
    assert session.interviewer_seen_at is not None
    assert session.presence_stamp == session.version
    with django_assert_num_queries(STATE_UNCHANGED):
        response = client.get(url, {"v": session.version}, headers=HX)
    assert response.status_code == 204


# django_session, auth_user, the user's sessions with their cases and people.
SESSION_LIST_QUERIES = 3


@pytest.mark.parametrize("count", [1, 12])
def test_session_list_query_count(
    client, django_assert_num_queries, interviewer, candidate, rubric_version, count
):
    for n in range(count):
        # Cases per round and role: nobody interviews on a case while being its candidate.
        case, other_case = CaseFactory(), CaseFactory()
        partner = UserFactory()
        as_interviewer = make_peer_session(
            interviewer=interviewer, candidate=partner, case=case, rubric_version=rubric_version
        )
        if n % 2:
            services.finish_session(session=as_interviewer, now=T0)
        make_peer_session(
            interviewer=partner,
            candidate=interviewer,
            case=other_case,
            rubric_version=rubric_version,
        )
        services.create_session(
            host=interviewer,
            case=case,
            rubric_version=rubric_version,
            length_minutes=45,
            mode=SessionMode.SOLO,
        )
    client.force_login(interviewer)
    with django_assert_num_queries(SESSION_LIST_QUERIES):
        response = client.get(reverse("interviews:list"))
    assert response.status_code == 200
    assert response.content.decode().count("<tr>") == 2 + 3 * count  # 2 header rows


# A notes save: the login's two; the session read under its row lock; the notes in one
# compare-and-set UPDATE, which finds the step by its number (it read the step first: one more;
# its new values are known, not read back: one more before that) and the version bump, inside
# the view's transaction (a savepoint in the test's: two).
NOTES_SAVE_QUERIES = 2 + 1 + 2 + 2


@pytest.mark.parametrize("size", ["small", "big"])
def test_notes_save_query_count(client, request, django_assert_num_queries, candidate, size):
    session = request.getfixturevalue(size)
    client.force_login(candidate)
    step = session.steps.get(number=1)
    url = reverse("interviews:notes", args=[session.pk, 1])
    with django_assert_num_queries(NOTES_SAVE_QUERIES):
        response = client.post(
            url,
            {"text": "Latency budget first.", "base_version": step.notes_version},
            headers={"Accept": "application/json"},
        )
    assert response.status_code == 200
    step.refresh_from_db()
    assert response.json()["version"] == step.notes_version
    assert step.notes == "Latency budget first."


# The stream's render of one change (interviews.live.render_changes, once per role): the session
# with when its case was last edited (not the case, the people or the rubric version: see
# permissions.read_session_for_stream); then only what the changed parts show, and for the
# interviewer whether they are this case's candidate elsewhere (then the material is withheld).
# After a notes change the candidate, who wrote them, is sent the new version alone; the
# interviewer the notes, read with the steps, and the notes' part of the evidence lines, not the
# board's labels (the case's own items come from the process's cache, as on every change after
# its first read since the case's last edit).
STREAM_NOTES_CANDIDATE = 1
STREAM_NOTES_INTERVIEWER = 3
# After a drawing, the interviewer's update reads the board's labels for the diagram's part of
# the evidence lines, and no steps or notes.
STREAM_BOARD_INTERVIEWER = 3
# After a mark, the candidate's screen changes only in its version: the session read alone.
STREAM_MARK_CANDIDATE = 1
# A step change shows the new step whole, and reads the case and the partner for it: for the
# candidate the session, the steps, the partner, the revealed facts, the case and its facts; for
# the interviewer besides whether they are the case's candidate elsewhere, the marks, the board's
# labels, the step's probes (read again for a step not shown before) and its hints.
STREAM_STEP_CANDIDATE = 6
STREAM_STEP_INTERVIEWER = 11


@pytest.mark.parametrize("size", ["small", "big"])
def test_stream_render_query_count(request, django_assert_num_queries, interviewer, size):
    session = request.getfixturevalue(size)
    before = session.version
    live.render_changes(session.pk, 0, [live.Viewer(Role.INTERVIEWER)])  # fills case_parts
    services.save_notes(session=session, step_number=1, text="changed", base_version=1, now=T0)
    for role, queries in (
        (Role.CANDIDATE, STREAM_NOTES_CANDIDATE),
        (Role.INTERVIEWER, STREAM_NOTES_INTERVIEWER),
    ):
        with django_assert_num_queries(queries):
            update = live.render_changes(session.pk, before, [live.Viewer(role)])
        assert ("changed" in update.html[role]) is (role == Role.INTERVIEWER)
    before = Session.objects.get(pk=session.pk).version
    services.set_mark(
        session=session,
        item_key="scale-estimates",
        mark="covered",
        after_hint=False,
        by=interviewer,
    )
    with django_assert_num_queries(STREAM_MARK_CANDIDATE):
        update = live.render_changes(session.pk, before, [live.Viewer(Role.CANDIDATE)])
    assert update.version == before + 1


@pytest.mark.parametrize("size", ["small", "big"])
def test_stream_render_of_a_drawing_query_count(request, django_assert_num_queries, size):
    session = request.getfixturevalue(size)
    live.render_changes(session.pk, 0, [live.Viewer(Role.INTERVIEWER)])  # fills case_parts
    before = session.version
    elements = [rect("box", index="a0"), text("label", "KPI", containerId="box", index="a0V")]
    services.save_board(session=session, update=BoardUpdate(0, elements), by=session.candidate)
    with django_assert_num_queries(STREAM_BOARD_INTERVIEWER):
        update = live.render_changes(session.pk, before, [live.Viewer(Role.INTERVIEWER)])
    assert "evidence-diagram-" in update.html[Role.INTERVIEWER]


@pytest.mark.parametrize("size", ["small", "big"])
def test_stream_render_of_a_step_change_query_count(request, django_assert_num_queries, size):
    session = request.getfixturevalue(size)
    live.render_changes(session.pk, 0, [live.Viewer(Role.INTERVIEWER)])  # fills case_parts
    before = session.version
    services.go_to_step(session=session, number=2, now=T0)
    for role, queries in (
        (Role.CANDIDATE, STREAM_STEP_CANDIDATE),
        (Role.INTERVIEWER, STREAM_STEP_INTERVIEWER),
    ):
        with django_assert_num_queries(queries):
            update = live.render_changes(session.pk, before, [live.Viewer(role)])
        assert 'id="flow"' in update.html[role]


def test_a_notes_update_builds_only_the_steps_it_shows(big):
    # Every step of the big session has notes; the session is on step 1. A late save to step 3
    # is shown with step 1's evidence: the other five steps are neither read nor built.
    built = []

    def count(sender, instance, **kwargs):
        built.append(instance.number)

    before = big.version
    services.save_notes(
        session=big, step_number=3, text="Step 3: drift and a feature store.", base_version=1
    )
    post_init.connect(count, sender=SessionStep)
    try:
        update = live.render_changes(big.pk, before, [live.Viewer(Role.INTERVIEWER)])
    finally:
        post_init.disconnect(count, sender=SessionStep)
    html = update.html[Role.INTERVIEWER]
    assert sorted(built) == [1, 3]
    assert 'id="candidate-notes-step-3"' in html
    assert "drift and a feature store" in html
    assert 'id="candidate-notes-step-1"' not in html
    assert 'id="candidate-notes-step-2"' not in html
    assert 'class="evidence-notes"' in html  # step 1's items, with what its notes mention
