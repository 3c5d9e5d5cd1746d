"""The board kept with the session: the scorecard shows the final diagram and the per-step
snapshots, served as sandboxed SVG images drawn on the server; the JSON carries the final scene
and the Markdown links to its image. Who sees it follows the scorecard's rules."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from interviews import services
from interviews.board import BoardUpdate
from interviews.models import BoardSnapshot, Session, SessionBoard
from scorecards import services as scorecard_services
from tests.builders import T0, make_peer_session
from tests.interviews.test_board_merge import rect, text

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


def draw(session: Session, by, *elements: dict) -> None:
    row = SessionBoard.objects.filter(session=session).first()
    update = BoardUpdate(row.version if row else 0, list(elements))
    services.save_board(session=session, update=update, by=by)


@pytest.fixture
def drawn(interviewer, candidate, case, rubric_version) -> Session:
    """A finished session whose board grew over steps 1 and 3: three snapshots."""
    session = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    draw(session, candidate, rect("store"), text("store-t", "Feature store", containerId="store"))
    services.go_to_step(session=session, number=2, now=T0 + timedelta(minutes=5))
    services.go_to_step(session=session, number=3, now=T0 + timedelta(minutes=9))
    draw(session, candidate, rect("ranker", index="a2"), text("ranker-t", HOSTILE, index="a3"))
    services.go_to_step(session=session, number=4, now=T0 + timedelta(minutes=17))
    draw(session, interviewer, rect("arrow", type="arrow", points=[[0, 0], [9, 9]], index="a4"))
    return services.finish_session(session=session, now=T0 + timedelta(minutes=30))


@pytest.fixture
def running(interviewer, candidate, case, rubric_version) -> Session:
    return make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )


def snapshot_ids(session: Session) -> list[int]:
    return list(BoardSnapshot.objects.filter(session=session).values_list("pk", flat=True))


def diagram_url(session: Session, snapshot_id: int) -> str:
    return reverse("scorecards:diagram", args=[session.pk, snapshot_id])


def section(html: str) -> str:
    start = html.index('<section class="panel diagram" id="diagram"')
    return html[start : html.index("</section>", start)]


def test_the_scorecard_shows_the_final_diagram_and_each_step_in_order(client, interviewer, drawn):
    first, second, final = snapshot_ids(drawn)
    client.force_login(interviewer)

    html = section(client.get(reverse("scorecards:scorecard", args=[drawn.pk])).content.decode())

    images = re.findall(r'<img src="([^"]+)" alt="([^"]*)">', html)
    assert [src for src, _ in images] == [
        diagram_url(drawn, final),
        diagram_url(drawn, first),
        diagram_url(drawn, second),
        diagram_url(drawn, final),
    ]
    assert images[0][1] == (
        "A diagram of 5 elements, labelled: Feature store; "
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;."
    )
    assert images[1][1] == "A diagram of 2 elements, labelled: Feature store."
    assert re.findall(r"<figcaption>([^<]+)</figcaption>", html) == [
        "After step 1",
        "After step 3",
        "At the finish (step 4)",
    ]
    assert "The board at the finish (step 4)." in html
    assert "<script>" not in html


def test_a_session_without_a_board_has_no_diagram_section(client, interviewer, light):
    client.force_login(interviewer)

    html = client.get(reverse("scorecards:scorecard", args=[light.pk])).content.decode()

    assert 'id="diagram"' not in html


def test_the_print_view_keeps_the_diagram() -> None:
    # The printout is the scorecard page under its print stylesheet: the section must be in none
    # of the rules that hide parts of the page when printing.
    css = (Path(__file__).resolve().parents[2] / "static/css/scorecard.css").read_text()
    template = Path(__file__).resolve().parents[2] / "templates/scorecards/diagram.html"
    hidden = [
        rule.split("{")[0]
        for rule in re.findall(r"[^{}]+\{[^}]*display: none", css.split("@media print")[1])
    ]

    assert not any("diagram" in selector for selector in hidden)
    assert 'class="panel diagram"' in template.read_text()
    assert "no-print" not in template.read_text().split("<figure")[0]


# --- the image ------------------------------------------------------------------------------------


def test_a_snapshot_is_an_svg_image_in_a_sandbox(client, interviewer, drawn):
    final = snapshot_ids(drawn)[-1]
    client.force_login(interviewer)

    response = client.get(diagram_url(drawn, final))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; frame-ancestors 'none'; sandbox"
    )
    assert response["Content-Disposition"] == (
        f'inline; filename="spar-diagram-{drawn.pk}-{final}.svg"'
    )
    svg = response.content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in svg
    assert "<script" not in svg
    assert "<b>" not in svg
    assert "<title>Ride ETA: the board at the finish (step 4)</title>" in svg


def test_each_snapshot_shows_the_board_as_it_was(client, interviewer, drawn):
    first = snapshot_ids(drawn)[0]
    client.force_login(interviewer)

    svg = client.get(diagram_url(drawn, first)).content.decode()

    assert ">Feature store<" in svg
    assert "bold" not in svg
    assert "polyline" not in svg


@pytest.mark.parametrize(
    ("role", "assessed", "status"),
    [
        ("interviewer", False, 200),
        ("staff", False, 200),
        # The candidate sees it with their results, once they have assessed themselves.
        ("candidate", False, 403),
        ("candidate", True, 200),
        ("outsider", False, 404),
        ("outsider", True, 404),
    ],
)
def test_who_may_see_the_diagram(client, users, drawn, role, assessed, status):
    if assessed:
        scorecard_services.submit_self_assessment(session=drawn, by=users["candidate"])
    client.force_login(users[role])

    assert client.get(diagram_url(drawn, snapshot_ids(drawn)[-1])).status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(drawn):
    response = Client().get(diagram_url(drawn, snapshot_ids(drawn)[-1]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_snapshot_of_another_session_is_404(client, interviewer, drawn, light):
    client.force_login(interviewer)

    assert client.get(diagram_url(light, snapshot_ids(drawn)[0])).status_code == 404
    assert client.get(diagram_url(drawn, 999_999)).status_code == 404


def test_no_diagram_before_the_finish(client, interviewer, candidate, running):
    draw(running, candidate, rect("r"))
    services.go_to_step(session=running, number=2, now=T0 + timedelta(minutes=5))
    client.force_login(interviewer)

    response = client.get(diagram_url(running, snapshot_ids(running)[0]))

    assert response.status_code == 404


# --- the downloads ------------------------------------------------------------------------------


def test_the_json_export_carries_the_final_scene(client, interviewer, drawn):
    client.force_login(interviewer)

    data = client.get(reverse("scorecards:json", args=[drawn.pk])).json()["diagram"]

    assert [e["id"] for e in data["elements"]] == [
        "store",
        "store-t",
        "ranker",
        "ranker-t",
        "arrow",
    ]
    assert data["elements"][3]["text"] == HOSTILE
    assert data["labels"] == ["Feature store", HOSTILE]
    assert [(s["step"], s["at_finish"], s["element_count"]) for s in data["snapshots"]] == [
        (1, False, 2),
        (3, False, 4),
        (4, True, 5),
    ]
    assert data["snapshots"][0]["taken_at"] == "2025-03-01T12:05:00+00:00"


def test_the_json_export_of_a_session_without_a_board(client, interviewer, light):
    client.force_login(interviewer)

    data = client.get(reverse("scorecards:json", args=[light.pk])).json()["diagram"]

    assert data == {"elements": [], "labels": [], "snapshots": []}


def test_the_markdown_links_to_the_final_image_and_names_the_labels(client, interviewer, drawn):
    client.force_login(interviewer)

    text_md = client.get(reverse("scorecards:markdown", args=[drawn.pk])).content.decode()

    url = f"http://testserver{diagram_url(drawn, snapshot_ids(drawn)[-1])}"
    assert (
        f"## Diagram\n\n[The final diagram (SVG image)]({url}), at the finish (step 4); sign in "
        'to Spar to open it.\n\nLabels on the board: Feature store, &lt;script&gt;alert("x")'
        "&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;\n"
    ) in text_md


def test_the_markdown_of_a_session_without_a_board_has_no_diagram(client, interviewer, light):
    client.force_login(interviewer)

    assert (
        "## Diagram"
        not in client.get(reverse("scorecards:markdown", args=[light.pk])).content.decode()
    )


# --- query counts -------------------------------------------------------------------------------


def _count(client, url: str) -> int:
    # Once before counting: the first read of a case's own items fills the process's cache.
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("name", ["scorecard", "json", "markdown"])
def test_a_diagram_costs_the_same_queries_however_many_snapshots(
    client, interviewer, drawn, light, name
):
    client.force_login(interviewer)

    without = _count(client, reverse(f"scorecards:{name}", args=[light.pk]))
    with_diagram = _count(client, reverse(f"scorecards:{name}", args=[drawn.pk]))

    assert with_diagram == without


def test_an_image_takes_four_queries(client, interviewer, drawn, django_assert_num_queries):
    client.force_login(interviewer)
    url = diagram_url(drawn, snapshot_ids(drawn)[-1])

    # The login's two, the session with its case and people, the snapshot.
    with django_assert_num_queries(4):
        assert client.get(url).status_code == 200
