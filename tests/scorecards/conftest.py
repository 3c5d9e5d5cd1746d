"""Fixtures for the scorecard tests: a frozen rubric, a case, and sessions played to the end.

`play_session` runs a peer session step by step with fixed clocks, so step times, overruns and
mark timestamps are exact. Interviewer-only text carries …-SECRET markers for the leak tests.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from casebank.models import Case
from interviews import services
from interviews.models import Session, SessionMode
from rubrics import scoring
from rubrics.models import Category, Item, RubricVersion
from rubrics.services import create_draft_version, publish_version
from tests.builders import (
    COMMENT_SECRET,
    FROZEN_RUBRIC_FILE,
    HINT_SECRET,
    NOTES,
    T0,
    load_rubric,
    play_session,
)
from tests.factories import CaseFactory, CaseItemFactory, ItemFactory


@pytest.fixture
def rubric_version(db: None) -> RubricVersion:
    return load_rubric(FROZEN_RUBRIC_FILE)


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
