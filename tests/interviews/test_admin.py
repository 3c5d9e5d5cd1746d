"""The session admin: a record of what happened in an interview, viewable but not rewritable."""

from decimal import Decimal

import pytest
from django.urls import reverse

from interviews.models import Session, SessionState
from tests.builders import finish_on_kit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(kit, candidate, interviewer) -> Session:
    return finish_on_kit(
        version=kit.version,
        candidate=candidate,
        interviewer=interviewer,
        marks={"goal": "covered", "split": "partial"},
    )


def test_the_admin_cannot_rewrite_a_session(client, finished):
    """Issue 11, hole 14: the admin exposed every field, so a finished session could be set
    running again and re-marked, and its stored result replaced."""
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:interviews_session_change", args=[finished.pk])
    page = client.get(url)
    assert page.status_code == 200
    before = Session.objects.values().get(pk=finished.pk)
    response = client.post(
        url,
        {
            "state": SessionState.RUNNING,
            "result": '"x"',
            "total_percent": "NaN",
            "band": "strong_hire",
            "version": 1,
            "current_step": 1,
        },
    )
    assert response.status_code in {302, 403}
    assert Session.objects.values().get(pk=finished.pk) == before


@pytest.mark.parametrize(
    ("result", "total"),
    [
        ("x", Decimal("12.5")),
        ({"total": "NaN", "steps": {"1": "lots"}, "missed": "goal"}, Decimal("12.5")),
        ({"total": "1/0", "categories": ["latency"], "overrun_seconds": {"x": "y"}}, None),
        ([1, 2, 3], Decimal("0")),
        ({"total": "Infinity", "band": 7, "titles": {"goal": 3}}, Decimal("12.5")),
    ],
)
def test_a_damaged_stored_result_never_breaks_the_pages(
    client, candidate, interviewer, finished, result, total
):
    """Reading the digest never raises: whatever a database edit left, the progress page, its
    CSV and the session lists still answer, showing what they can."""
    Session.objects.filter(pk=finished.pk).update(result=result, total_percent=total)
    for user in (candidate, interviewer):
        client.force_login(user)
        for name in ("scorecards:progress", "scorecards:progress_csv", "interviews:list"):
            assert client.get(reverse(name)).status_code == 200, (name, user)


def test_session_list_total_is_rounded_once_from_the_exact_value(client, candidate, finished):
    """Issue 15's rounding bug: 72.6496…% was stored as 72.650 and shown as 72.7."""
    Session.objects.filter(pk=finished.pk).update(
        result={"total": "726496/10000"}, total_percent=Decimal("72.650")
    )
    client.force_login(candidate)
    html = client.get(reverse("interviews:list")).content.decode()
    assert "72.6 %" in html
    assert "72.7 %" not in html
    progress = client.get(reverse("scorecards:progress")).content.decode()
    assert "72.6 %" in progress
    assert "72.7" not in progress
    csv = client.get(reverse("scorecards:progress_csv")).content.decode()
    assert ",72.6," in csv
