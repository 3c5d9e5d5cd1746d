import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from casebank import permissions
from casebank.models import CaseStatus
from interviews.models import SessionState
from tests.factories import CaseFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


def _user_in_role(role: str, case):
    """A user standing in `role` towards `case`."""
    if role == "anonymous":
        return AnonymousUser()
    if role == "staff":
        return UserFactory(is_staff=True)
    user = UserFactory()
    match role:
        case "interviewer":
            SessionFactory(case=case, interviewer=user, state=SessionState.WAITING)
        case "interviewer-finished":
            SessionFactory(case=case, interviewer=user, state=SessionState.FINISHED)
        case "candidate-waiting":
            SessionFactory(case=case, candidate=user, state=SessionState.WAITING)
        case "candidate-running":
            SessionFactory(case=case, candidate=user, state=SessionState.RUNNING)
        case "candidate-paused":
            SessionFactory(case=case, candidate=user, state=SessionState.PAUSED)
        case "candidate-finished":
            SessionFactory(case=case, candidate=user, state=SessionState.FINISHED)
        case "candidate-finished-another-case":
            SessionFactory(candidate=user, state=SessionState.FINISHED)
        case "interviewer-of-another-case":
            SessionFactory(interviewer=user, state=SessionState.RUNNING)
        case "outsider":
            # Sessions of the case exist, just not with this user in them.
            SessionFactory(case=case, state=SessionState.FINISHED)
        case _:
            raise AssertionError(f"unknown role {role}")
    return user


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", False),
        ("outsider", False),
        ("staff", True),
        ("interviewer", True),
        ("interviewer-finished", True),
        ("candidate-waiting", False),
        ("candidate-running", False),
        ("candidate-paused", False),
        ("candidate-finished", True),
        ("candidate-finished-another-case", False),
        ("interviewer-of-another-case", False),
    ],
)
def test_can_view_interviewer_material(role, expected):
    case = CaseFactory()
    user = _user_in_role(role, case)
    assert permissions.can_view_interviewer_material(user, case) is expected


def test_interviewer_who_was_also_candidate_before_finishing_still_sees_material():
    case = CaseFactory()
    user = UserFactory()
    SessionFactory(case=case, candidate=user, state=SessionState.RUNNING)
    SessionFactory(case=case, interviewer=user, state=SessionState.READY)
    assert permissions.can_view_interviewer_material(user, case) is True


@pytest.mark.parametrize(
    ("role", "status", "expected"),
    [
        ("anonymous", CaseStatus.PUBLISHED, False),
        ("anonymous", CaseStatus.DRAFT, False),
        ("member", CaseStatus.PUBLISHED, True),
        ("member", CaseStatus.DRAFT, False),
        ("staff", CaseStatus.PUBLISHED, True),
        ("staff", CaseStatus.DRAFT, True),
    ],
)
def test_can_view_case(role, status, expected):
    case = CaseFactory(status=status)
    user = {
        "anonymous": AnonymousUser(),
        "member": UserFactory(),
        "staff": UserFactory(is_staff=True),
    }[role]
    assert permissions.can_view_case(user, case) is expected


def test_get_case_for_user_returns_published_case(user):
    case = CaseFactory(slug="ad-click")
    assert permissions.get_case_for_user(user, "ad-click") == case


@pytest.mark.parametrize("slug", ["draft-case", "no-such-case"])
def test_get_case_for_user_hides_drafts_and_unknown_slugs_alike(user, slug):
    CaseFactory(slug="draft-case", status=CaseStatus.DRAFT)
    with pytest.raises(Http404):
        permissions.get_case_for_user(user, slug)


def test_get_case_for_user_gives_staff_drafts(staff):
    case = CaseFactory(slug="draft-case", status=CaseStatus.DRAFT)
    assert permissions.get_case_for_user(staff, "draft-case") == case
