"""Fixtures shared by the interview tests: the rubric, a case full of secrets, sessions.

The case texts carry markers (…-SECRET) so the leak tests can look for them in every response.
"""

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from casebank.models import Case
from interviews import services
from interviews.models import Session, SessionMode
from rubrics.models import RubricVersion
from rubrics.services import latest_published_version
from tests.factories import (
    CaseFactory,
    CaseItemFactory,
    ClarificationFactFactory,
    StepProbeFactory,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# Version 1 of the shipped rubric, frozen: these tests check session mechanics against exact
# budgets, item counts and totals, which must not move whenever the shipped rubric's content does.
FROZEN_RUBRIC_FILE = (
    Path(__file__).resolve().parents[1] / "rubrics" / "data" / "default_rubric_v1.yaml"
)

# A probe of the default rubric's first item, interviewer-only: it must never reach a candidate.
RUBRIC_PROBE = "Tick it when the candidate states a single primary goal in business terms."
RUBRIC_ITEM_TITLE = "Names the business objective"

SECRETS = (
    "INTERVIEWER-BRIEF-SECRET",
    "MODEL-ANSWER-SECRET",
    "PROBE-SECRET",
    "CASE-ITEM-PROBE-SECRET",
    "FACT-ANSWER-SECRET",
    RUBRIC_PROBE,
    RUBRIC_ITEM_TITLE,
)


@pytest.fixture
def rubric_version(db: None) -> RubricVersion:
    call_command("load_rubric", str(FROZEN_RUBRIC_FILE), stdout=io.StringIO())
    version = latest_published_version()
    assert version is not None
    return version


@pytest.fixture
def case(db: None) -> Case:
    """A published case with one fact, one step-1 probe and one step-1 case item."""
    case = CaseFactory()
    ClarificationFactFactory(
        case=case, question="How many daily users?", answer="FACT-ANSWER-SECRET: 100 million."
    )
    StepProbeFactory(case=case, step=1)
    CaseItemFactory(case=case, step=1, key="twist", title="Handles the twist", points=1)
    return case


def make_peer_session(
    *,
    interviewer: User,
    candidate: User,
    case: Case,
    rubric_version: RubricVersion,
    start: bool = True,
    length_minutes: int = 45,
) -> Session:
    """A peer session the candidate joined through the invite link, started at T0 by default."""
    session = services.create_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=length_minutes,
        mode=SessionMode.PEER,
    )
    session = services.join_session(token=session.invite_token, user=candidate)
    if start:
        session = services.start_session(session=session, now=T0)
    return session


@pytest.fixture
def running_session(
    interviewer: User, candidate: User, case: Case, rubric_version: RubricVersion
) -> Session:
    return make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )


@pytest.fixture
def solo_session(candidate: User, case: Case, rubric_version: RubricVersion) -> Session:
    return services.create_session(
        host=candidate,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.SOLO,
    )
