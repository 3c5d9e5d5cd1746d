import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from casebank import permissions
from casebank.models import CaseStatus
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


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
