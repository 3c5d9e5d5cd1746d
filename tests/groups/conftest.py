"""Fixtures for the study-group tests: the shipped rubric, a few cases, a group of two.

`ines` owns the group and `cai` is a member; `olly` (the outsider) is in no group and `otto` is
in another group, which must not open this one either.
"""

import pytest
from django.contrib.auth.models import User

from casebank.models import Case
from groups import services
from groups.models import StudyGroup
from rubrics.models import RubricVersion
from tests.builders import load_rubric
from tests.factories import CaseFactory, UserFactory


@pytest.fixture
def rubric_version(db: None) -> RubricVersion:
    return load_rubric()


@pytest.fixture
def cases(rubric_version: RubricVersion) -> list[Case]:
    """Four published cases: two ads (senior, staff), one search, one vision (junior)."""
    return [
        CaseFactory(title="Ad click prediction", domain="ads", difficulty="senior"),
        CaseFactory(title="Ads conversion", domain="ads", difficulty="staff"),
        CaseFactory(title="Product search", domain="search", difficulty="senior"),
        CaseFactory(title="Visual search", domain="vision", difficulty="junior"),
    ]


@pytest.fixture
def group(interviewer: User, candidate: User) -> StudyGroup:
    group = services.create_group(owner=interviewer, name="Tuesday mocks")
    services.join_group(token=group.invite_token, user=candidate)
    return group


@pytest.fixture
def other_member(db: None) -> User:
    """A member of another group."""
    otto = UserFactory(username="otto")
    services.create_group(owner=otto, name="Another group")
    return otto
