"""Fixtures shared by the interview tests: the rubric, a case full of secrets, sessions.

The case texts carry markers (…-SECRET) so the leak tests can look for them in every response.
"""

import pytest
from django.contrib.auth.models import User

from casebank.models import Case
from interviews import services
from interviews.models import Session, SessionMode
from rubrics.models import RubricVersion
from tests.builders import FROZEN_RUBRIC_FILE, load_rubric, make_peer_session
from tests.factories import (
    CaseFactory,
    CaseItemFactory,
    ClarificationFactFactory,
    StepProbeFactory,
)


@pytest.fixture
def rubric_version(db: None) -> RubricVersion:
    return load_rubric(FROZEN_RUBRIC_FILE)


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
