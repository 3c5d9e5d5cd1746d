from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from casebank.checklist import forget_kept
from tests.builders import Kit, committed_for_module, make_kit, setup_demo
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # The cache holds rendered notes and the notes-save counters, the process keeps checklist
    # items by database id (casebank.checklist); each test starts with none of them.
    cache.clear()
    forget_kept()
    yield
    cache.clear()
    forget_kept()


def pytest_configure(config: pytest.Config) -> None:
    # Full-strength PBKDF2 costs ~0.3 s per password on a 2-core machine and the tests do not need
    # it. Set for the whole run, not per test, so that fixtures shared by a module or the session
    # (the security world, the demo data, the browser pages' users) are fast too.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture
def kit(db: None) -> Kit:
    """A tiny two-step rubric whose scores are easy to work out by hand (tests.builders)."""
    return make_kit()


@pytest.fixture(scope="module")
def _demo_seeded_once(django_db_setup: None, django_db_blocker: object) -> Iterator[str]:
    # The demo takes seconds to seed: once per module that asks for it.
    yield from committed_for_module(django_db_blocker, setup_demo)


@pytest.fixture
def demo(db: None, _demo_seeded_once: str) -> str:
    """The demo data as `setup_demo` seeds it; the value is the command's output."""
    return _demo_seeded_once
