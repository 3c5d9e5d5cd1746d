"""`setup_demo` seeds finished sessions between the demo accounts, once, with diagrams on two
scorecards."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from interviews.models import Hint, Mark, Session, SessionBoard, SessionState
from scorecards import progress as overview
from tests.builders import setup_demo

pytestmark = pytest.mark.django_db


def test_setup_demo_seeds_finished_sessions_between_the_demo_accounts(demo):
    assert "Demo sessions: 6 finished sessions created." in demo
    # The demo group's scheduled session (tests/groups/test_demo.py) is not finished.
    sessions = Session.objects.filter(state=SessionState.FINISHED).select_related(
        "case", "candidate", "interviewer"
    )
    assert sessions.count() == 6
    assert {s.state for s in sessions} == {SessionState.FINISHED}
    pairs = sorted((s.candidate.username, s.interviewer.username) for s in sessions)
    assert pairs == [("candidate", "interviewer")] * 4 + [("interviewer", "candidate")] * 2
    assert len({s.case_id for s in sessions}) == 6
    # Spread over the past weeks, each with the digest the progress page reads.
    days = sorted(s.finished_at.date() for s in sessions)
    assert len(set(days)) == 6
    assert (days[-1] - days[0]).days >= 21
    assert all(s.result and s.result["total"] for s in sessions)


def test_setup_demo_sessions_have_varied_marks_notes_and_times(demo):
    marks = set(Mark.objects.values_list("mark", flat=True))
    assert marks == {"covered", "partial", "missed", "observed"}
    assert Mark.objects.filter(after_hint=True).count() >= 3
    assert Hint.objects.count() >= 3
    for session in Session.objects.filter(state=SessionState.FINISHED):
        assert session.steps.exclude(notes="").count() == 7
        assert session.steps.exclude(comment="").exists()
    bands = set(Session.objects.exclude(band="").values_list("band", flat=True))
    assert len(bands) >= 3
    assert Session.objects.filter(result__capped=True).exists()


def test_setup_demo_gives_the_progress_page_real_content(demo):
    page = overview.build_overview(User.objects.get(username="candidate"))
    # The newest session waits for the candidate's self-assessment; its result is not shown yet.
    assert (len(page.history), len(page.awaiting_self_assessment)) == (3, 1)
    assert page.red_flags  # a red flag seen more than once
    assert page.most_overrun is not None
    assert page.recommendation is not None
    assert page.recommendation.category == "data-leakage"
    assert len(page.conducted) == 2  # the swapped rounds
    ines = overview.build_overview(User.objects.get(username="interviewer"))
    assert (len(ines.history), len(ines.conducted)) == (2, 4)


def test_setup_demo_twice_does_not_duplicate(demo):
    counts = (Session.objects.count(), Mark.objects.count(), Hint.objects.count())
    again = setup_demo()
    assert "Demo sessions: already there." in again
    assert (Session.objects.count(), Mark.objects.count(), Hint.objects.count()) == counts


def test_the_demo_has_diagrams_on_two_scorecards(demo, client):
    drawn_sessions = Session.objects.filter(board_snapshots__isnull=False).distinct()
    slugs = sorted(drawn_sessions.values_list("case__slug", flat=True))
    assert slugs == ["ad-click-prediction", "product-search-ranking"]
    ad_click = drawn_sessions.get(case__slug="ad-click-prediction")
    steps = list(ad_click.board_snapshots.values_list("step_number", "at_finish", "element_count"))
    assert steps == [(3, False, 11), (4, False, 14), (6, False, 20)]
    assert SessionBoard.objects.get(session=ad_click).labels[:3] == [
        "Impression log",
        "Click log",
        "Join (30 min)",
    ]
    client.force_login(ad_click.interviewer)

    html = client.get(reverse("scorecards:scorecard", args=[ad_click.pk])).content.decode()

    assert 'id="diagram"' in html
    final = ad_click.board_snapshots.last()
    svg = client.get(reverse("scorecards:diagram", args=[ad_click.pk, final.pk])).content.decode()
    assert ">Feature store<" in svg
    assert ">A/B test<" in svg
