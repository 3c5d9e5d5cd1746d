"""`setup_demo` seeds finished sessions between the demo accounts, once."""

import io
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from interviews.models import Hint, Mark, Session, SessionState
from scorecards import progress as overview

pytestmark = pytest.mark.django_db


def _setup_demo() -> str:
    out = io.StringIO()
    # Tests run with DEBUG off, where the command refuses unless forced.
    call_command("setup_demo", force=True, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def _seeded_once(django_db_setup: None, django_db_blocker: object) -> Iterator[str]:
    # The demo takes seconds to seed: once for the module, committed, and flushed after it.
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        output = _setup_demo()
    yield output
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def seeded(db: None, _seeded_once: str) -> str:
    return _seeded_once


def test_setup_demo_seeds_finished_sessions_between_the_demo_accounts(seeded):
    assert "Demo sessions: 6 finished sessions created." in seeded
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


def test_setup_demo_sessions_have_varied_marks_notes_and_times(seeded):
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


def test_setup_demo_gives_the_progress_page_real_content(seeded):
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


def test_setup_demo_twice_does_not_duplicate(seeded):
    counts = (Session.objects.count(), Mark.objects.count(), Hint.objects.count())
    again = _setup_demo()
    assert "Demo sessions: already there." in again
    assert (Session.objects.count(), Mark.objects.count(), Hint.objects.count()) == counts
