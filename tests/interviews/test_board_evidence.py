"""Evidence hints from the diagram: the labels on the board go through the notes' matcher, and
the interviewer's checklist says which hints come from the diagram. The room reads the labels
only where the checklist is shown, and never the scene itself."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from interviews import live, services
from interviews.board import BoardUpdate
from interviews.models import Session
from interviews.permissions import Role
from interviews.room import ChecklistEntry, RoomState
from tests.builders import T0
from tests.interviews.test_board_merge import rect, text

pytestmark = pytest.mark.django_db

ITEM = "batch-streaming-features"  # step 3; its phrases include "feature store" and "kafka"
EVIDENCE_LINE = f'<p id="evidence-item-{ITEM}" class="evidence">'
NOTES_PART = f'<span id="evidence-notes-item-{ITEM}" class="evidence-notes"'
DIAGRAM_PART = f'<span id="evidence-diagram-item-{ITEM}" class="evidence-diagram"'


def box(element_id: str, label: str, index: str) -> list[dict]:
    return [
        rect(element_id, index=index),
        text(f"{element_id}-label", label, containerId=element_id, index=index + "V"),
    ]


def draw(session: Session, by, elements: list[dict], base: int = 0) -> None:
    services.save_board(session=session, update=BoardUpdate(base, elements), by=by)


@pytest.fixture
def on_step_3(running_session) -> Session:
    return services.go_to_step(session=running_session, number=3, now=T0 + timedelta(minutes=9))


def _evidence_of(state: RoomState, key: str) -> ChecklistEntry:
    return next(entry for entry in state.evidence if entry.key == key)


def evidence_line(html: str) -> str:
    start = html.index(EVIDENCE_LINE) + len(EVIDENCE_LINE)
    return html[start : html.index("</p>", start)]


def part(html: str, opening: str) -> str:
    """What one part of the evidence line says; the opening tag may carry hx-swap-oob."""
    start = html.index(">", html.index(opening)) + 1
    return html[start : html.index("</span>", start)]


def parts(html: str) -> tuple[str, str]:
    """The notes' and the diagram's part of the item's evidence line in a page."""
    line = evidence_line(html)
    return part(line, NOTES_PART), part(line, DIAGRAM_PART)


def test_a_labelled_box_suggests_the_item_as_coming_from_the_diagram(
    client, interviewer, candidate, on_step_3
):
    draw(on_step_3, candidate, [*box("store", "feature store", "a0"), *box("bus", "Kafka", "a1")])

    client.force_login(interviewer)
    response = client.get(reverse("interviews:room", args=[on_step_3.pk]))

    assert parts(response.content.decode()) == (
        "",
        "Diagram mentions: <mark>feature store</mark>, <mark>Kafka</mark>",
    )


def test_notes_and_diagram_hints_show_side_by_side(client, interviewer, candidate, on_step_3):
    services.save_notes(
        session=on_step_3, step_number=3, text="Flink jobs for fresh counters.", base_version=0
    )
    draw(on_step_3, candidate, box("store", "Online store", "a0"))
    client.force_login(interviewer)

    html = client.get(reverse("interviews:room", args=[on_step_3.pk])).content.decode()

    # One line, a part for each source (room.css puts " · " between two parts with text).
    assert parts(html) == (
        "Notes mention: <mark>Flink</mark>",
        "Diagram mentions: <mark>Online store</mark>",
    )


def test_a_marks_answer_keeps_the_pages_evidence_line_and_shows_the_rooms_score(
    client, interviewer, candidate, on_step_3
):
    # A mark changes no evidence: its answer leaves the line on the page (htmx's hx-preserve
    # keeps the element of the same id) instead of finding it again, and scores the step from
    # the items and marks alone, as the whole room does.
    services.save_notes(
        session=on_step_3, step_number=3, text="Flink jobs for fresh counters.", base_version=0
    )
    draw(on_step_3, candidate, box("store", "Online store", "a0"))
    client.force_login(interviewer)
    room = reverse("interviews:room", args=[on_step_3.pk])
    before = client.get(room).content.decode()

    answer = client.post(
        reverse("interviews:mark", args=[on_step_3.pk]),
        {"item": ITEM, "mark": "partial"},
        headers={"HX-Request": "true"},
    ).content.decode()
    html = client.get(room).content.decode()

    kept = f'<p id="evidence-item-{ITEM}" class="evidence" hx-preserve="true"></p>'
    assert kept in answer
    assert EVIDENCE_LINE not in answer
    line = ("Notes mention: <mark>Flink</mark>", "Diagram mentions: <mark>Online store</mark>")
    assert parts(before) == parts(html) == line
    assert "hx-preserve" not in html
    assert f'id="item-{ITEM}"' in answer
    assert 'aria-pressed="true">Partial' in answer
    scores = [
        re.findall(r"Step score: <strong>([^<]+)</strong>", h) for h in (before, answer, html)
    ]
    assert scores[1] == scores[2] != scores[0]  # the partial mark counts


def test_words_on_two_different_boxes_are_not_one_phrase(interviewer, candidate, on_step_3):
    draw(on_step_3, candidate, [*box("a", "Feature", "a0"), *box("b", "store", "a1")])

    state = RoomState(Session.objects.get(pk=on_step_3.pk), Role.INTERVIEWER, T0)

    assert _evidence_of(state, ITEM).diagram_matches == ()


def test_a_deleted_label_is_no_longer_evidence(interviewer, candidate, on_step_3):
    draw(on_step_3, candidate, box("store", "feature store", "a0"))
    draw(on_step_3, candidate, [text("store-label", "", version=2, isDeleted=True)], 1)

    state = RoomState(Session.objects.get(pk=on_step_3.pk), Role.INTERVIEWER, T0)

    assert _evidence_of(state, ITEM).diagram_matches == ()


def test_the_candidate_never_gets_the_checklist_or_its_diagram_hints(client, candidate, on_step_3):
    draw(on_step_3, candidate, box("store", "feature store", "a0"))
    client.force_login(candidate)

    html = client.get(reverse("interviews:room", args=[on_step_3.pk])).content.decode()

    assert "Diagram mentions" not in html
    assert f"evidence-item-{ITEM}" not in html


def test_the_poll_after_a_drawing_updates_only_the_evidence_lines(
    client, interviewer, candidate, on_step_3
):
    before = Session.objects.get(pk=on_step_3.pk).version
    draw(on_step_3, candidate, box("store", "feature store", "a0"))
    client.force_login(interviewer)

    response = client.get(
        reverse("interviews:state", args=[on_step_3.pk]),
        {"v": before},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="flow"' not in html
    assert 'id="checklist"' not in html
    # The diagram's part of the line alone: the notes' part stays as the page has it.
    assert f'{DIAGRAM_PART} hx-swap-oob="true">' in html
    assert part(html, DIAGRAM_PART) == "Diagram mentions: <mark>feature store</mark>"
    assert "evidence-notes-" not in html
    assert EVIDENCE_LINE not in html


def test_a_notes_update_swaps_the_notes_part_and_reads_no_labels(interviewer, candidate, on_step_3):
    draw(on_step_3, candidate, box("store", "feature store", "a0"))
    before = Session.objects.get(pk=on_step_3.pk).version
    services.save_notes(
        session=on_step_3, step_number=3, text="Flink jobs for fresh counters.", base_version=0
    )

    with CaptureQueriesContext(connection) as captured:
        update = live.render_changes(on_step_3.pk, before, [live.Viewer(Role.INTERVIEWER)])

    html = update.html[Role.INTERVIEWER]
    assert f'{NOTES_PART} hx-swap-oob="true">' in html
    assert part(html, NOTES_PART) == "Notes mention: <mark>Flink</mark>"
    assert "evidence-diagram-" not in html
    assert all("interviews_sessionboard" not in q["sql"] for q in captured.captured_queries)


def test_a_board_update_swaps_the_diagram_part_and_reads_no_notes(
    interviewer, candidate, on_step_3
):
    services.save_notes(
        session=on_step_3, step_number=3, text="Flink jobs for fresh counters.", base_version=0
    )
    before = Session.objects.get(pk=on_step_3.pk).version
    draw(on_step_3, candidate, box("store", "feature store", "a0"), base=0)

    with CaptureQueriesContext(connection) as captured:
        update = live.render_changes(on_step_3.pk, before, [live.Viewer(Role.INTERVIEWER)])

    html = update.html[Role.INTERVIEWER]
    assert part(html, DIAGRAM_PART) == "Diagram mentions: <mark>feature store</mark>"
    assert "evidence-notes-" not in html
    assert "Flink" not in html
    assert all("interviews_sessionstep" not in q["sql"] for q in captured.captured_queries)


def _big_board(session: Session, by) -> None:
    elements = []
    for n in range(1_000):
        elements += box(f"b{n}", f"component {n} feature store", f"a{n:04d}")
    draw(session, by, elements)


def _room_queries(client, session: Session) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("interviews:room", args=[session.pk]))
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize(("role", "board_reads"), [("interviewer", 1), ("candidate", 0)])
def test_the_room_reads_the_same_queries_whatever_the_board_holds(
    client, request, candidate, on_step_3, role, board_reads
):
    client.force_login(request.getfixturevalue(role))
    _room_queries(client, on_step_3)  # the process keeps the rubric's items from now on
    without = _room_queries(client, on_step_3)
    _big_board(on_step_3, candidate)

    with_board = _room_queries(client, on_step_3)

    assert len(with_board) == len(without)
    board_queries = [sql for sql in with_board if "interviews_sessionboard" in sql]
    # The interviewer's checklist reads the labels; the scene (megabytes, maybe) is never read.
    assert len(board_queries) == board_reads
    assert all('"elements"' not in sql for sql in board_queries)
