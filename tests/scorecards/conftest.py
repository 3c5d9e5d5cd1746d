"""Fixtures for the scorecard tests: a frozen rubric, a case, and sessions played to the end.

`play_session` runs a peer session step by step with fixed clocks, so step times, overruns and
mark timestamps are exact. Interviewer-only text carries …-SECRET markers for the leak tests.
"""

import io
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from casebank.models import Case
from interviews import services
from interviews.models import Session, SessionMode
from rubrics import scoring
from rubrics.models import Category, Item, RubricVersion
from rubrics.services import create_draft_version, latest_published_version, publish_version
from tests.factories import CaseFactory, CaseItemFactory, ItemFactory
from tests.interviews.conftest import FROZEN_RUBRIC_FILE, make_peer_session

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# Seconds on each step. Budgets (45 minutes): 5, 4, 8, 9, 5, 7, 4 minutes; step 1 runs over
# by 90 s (1.5 min) and step 3 by 31 s (0.5 min); the others finish in time.
STEP_SECONDS = {1: 390, 2: 240, 3: 511, 4: 300, 5: 300, 6: 420, 7: 200}

COMMENT_SECRET = "COMMENT-SECRET: good framing, *weak* on scale."
HINT_SECRET = "HINT-SECRET: think about QPS"
NOTES = {1: "Goal: **bookings**. p99 under 100 ms.", 2: "Binary classification of clicks."}

# Every way an expected item can be marked, cycled over the items; None leaves it unmarked.
CYCLE: tuple[tuple[str, bool] | None, ...] = (
    ("covered", False),
    ("partial", False),
    ("missed", False),
    ("covered", True),
    ("partial", True),
    None,
)

SelfMarks = Mapping[str, tuple[str, bool]]


def varied_marks(items: Sequence[scoring.Item], shift: int = 0) -> dict[str, tuple[str, bool]]:
    """A mark for most items, of every kind: the CYCLE on expected items, every third red flag
    observed. `shift` moves the cycle, to get a different but equally varied set."""
    marks = {}
    for index, item in enumerate(items):
        if item.kind is scoring.Kind.RED_FLAG:
            if (index + shift) % 3 == 0:
                marks[item.key] = ("observed", False)
            continue
        choice = CYCLE[(index + shift) % len(CYCLE)]
        if choice is not None:
            marks[item.key] = choice
    return marks


def play_session(
    *,
    interviewer: User,
    candidate: User,
    case: Case,
    rubric_version: RubricVersion,
    marks: Callable[[list[scoring.Item]], SelfMarks] = varied_marks,
    hints: Mapping[int, Sequence[str]] | None = None,
    comments: Mapping[int, str] | None = None,
    notes: Mapping[int, str] | None = None,
) -> Session:
    """A peer session started at T0, walked through steps 1–7 with STEP_SECONDS on each, marked,
    hinted and commented as given, then finished."""
    session = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    items = services.session_items(session)
    wanted = marks(items)
    clock = T0
    for number in range(1, 8):
        if number > 1:
            session = services.go_to_step(session=session, number=number, now=clock)
        for item in items:
            if item.step == number and item.key in wanted:
                mark, after_hint = wanted[item.key]
                services.set_mark(
                    session=session,
                    item_key=item.key,
                    mark=mark,
                    after_hint=after_hint,
                    by=interviewer,
                    now=clock + timedelta(seconds=10),
                )
        for text in (hints or {}).get(number, ()):
            services.add_hint(
                session=session, step_number=number, text=text, now=clock + timedelta(seconds=20)
            )
        if comments and number in comments:
            services.save_comment(session=session, step_number=number, text=comments[number])
        if notes and number in notes:
            services.save_notes(
                session=session, step_number=number, text=notes[number], base_version=0
            )
        clock += timedelta(seconds=STEP_SECONDS[number])
    return services.finish_session(session=session, now=clock)


@pytest.fixture
def rubric_version(db: None) -> RubricVersion:
    call_command("load_rubric", str(FROZEN_RUBRIC_FILE), stdout=io.StringIO())
    version = latest_published_version()
    assert version is not None
    return version


@pytest.fixture
def case(rubric_version: RubricVersion) -> Case:
    """A published case with one extra expected item on step 5 (2 points, data leakage)."""
    case = CaseFactory(
        title="Ride ETA", model_answer="MODEL-ANSWER-SECRET: **point-in-time** joins."
    )
    CaseItemFactory(
        case=case,
        step=5,
        key="twist",
        title="Handles the twist",
        points=2,
        categories=[Category.objects.get(slug="data-leakage")],
    )
    return case


@pytest.fixture
def finished(
    interviewer: User, candidate: User, case: Case, rubric_version: RubricVersion
) -> Session:
    """A finished peer session: varied marks, two hints, a comment and notes."""
    return play_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        hints={1: [HINT_SECRET], 3: ["Mind the label delay"]},
        comments={1: COMMENT_SECRET},
        notes=NOTES,
    )


@pytest.fixture
def light(interviewer: User, candidate: User, case: Case, rubric_version: RubricVersion) -> Session:
    """A finished peer session with a single mark, for tests that need any finished session."""
    return play_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        marks=lambda items: {"business-objective": ("covered", False)},
    )


@pytest.fixture
def solo_finished(candidate: User, case: Case, rubric_version: RubricVersion) -> Session:
    session = services.create_session(
        host=candidate,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.SOLO,
    )
    services.start_session(session=session, now=T0)
    return services.finish_session(session=session, now=T0 + timedelta(minutes=30))


@pytest.fixture
def users(interviewer: User, candidate: User, outsider: User, staff: User) -> dict[str, User]:
    return {
        "interviewer": interviewer,
        "candidate": candidate,
        "outsider": outsider,
        "staff": staff,
    }


@pytest.fixture
def v2(rubric_version: RubricVersion) -> RubricVersion:
    """v2 of the shipped rubric: one item renamed (a new key), one removed, one added, one
    re-weighted, one turned into a red flag."""
    draft = create_draft_version(source=rubric_version)
    items = Item.objects.filter(step__version=draft)
    items.filter(key="product-surface").update(
        key="product-surfaces", title="Asks where predictions show"
    )
    items.filter(key="scale-estimates").delete()
    items.filter(key="business-objective").update(points=3)
    items.filter(key="summarize-assumptions").update(kind=scoring.Kind.RED_FLAG)
    ItemFactory(
        step=draft.steps.get(number=1),
        key="stakeholders",
        title="Names the stakeholders",
        points=2,
        position=99,
    )
    return publish_version(version=draft)
