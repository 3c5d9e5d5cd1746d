import pytest
from django.contrib.auth.models import User

from tests.factories import UserFactory


@pytest.fixture
def user(db: None) -> User:
    return UserFactory(username="member")


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory(username="staffer", is_staff=True, is_superuser=True)


@pytest.fixture
def interviewer(db: None) -> User:
    return UserFactory(username="ines")


@pytest.fixture
def candidate(db: None) -> User:
    return UserFactory(username="cai")


@pytest.fixture
def outsider(db: None) -> User:
    return UserFactory(username="olly")
