"""The scorecard, its downloads and the self-assessment take a fixed number of queries, whatever
the session holds: one mark and no hints, or every item marked, hints, comments, notes, extra case
items and several re-scores."""

import pytest
from django.urls import reverse

from interviews.models import Session
from rubrics.models import Category
from scorecards import services
from tests.builders import play_session, varied_marks
from tests.factories import CaseFactory, CaseItemFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def small(light: Session) -> Session:
    return light


@pytest.fixture
def big(interviewer, candidate, rubric_version, v2) -> Session:
    case = CaseFactory()
    data = Category.objects.get(slug="data")
    for n in range(10):
        CaseItemFactory(case=case, step=n % 7 + 1, key=f"extra-{n}", categories=[data])
    session = play_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        marks=varied_marks,
        hints={n: [f"Hint {n}.{k}" for k in range(4)] for n in range(1, 8)},
        comments={n: f"Comment on step {n}." for n in range(1, 8)},
        notes={n: f"Notes for step {n}: **business goal**, latency." for n in range(1, 8)},
    )
    for _ in range(3):
        services.rescore_session(session=session, version=v2, by=interviewer)
    assert session.marks.count() > 50
    assert session.hints.count() == 28
    return session


# django_session and auth_user come first in every request. Then: the session with its case,
# version and people; the version's rubric (its name); the checklist: the case items, their
# categories, the case's not-applicable items (the rubric's items come from the process's cache,
# as on every request after a process's first: casebank.checklist.rubric_items); all marks; the
# hints; the steps with their rubric steps; the re-scores with their versions and authors; the
# category names; the board's snapshots (without their scenes).
REPORT = 2 + 1 + 1 + 3 + 1 + 1 + 1 + 1 + 1 + 1
EXPECTED = {
    # … plus the other published versions, for the re-score form.
    ("scorecard", "interviewer"): REPORT + 1,
    ("scorecard", "staff"): REPORT + 1,
    ("scorecard", "candidate"): REPORT,
    # … plus the final diagram's scene.
    ("json", "interviewer"): REPORT + 1,
    ("markdown", "interviewer"): REPORT,
    # The self-assessment: the session, the checklist (three), the candidate's marks, the steps.
    ("scorecard", "pending-candidate"): 2 + 1 + 3 + 1 + 1,
}


@pytest.mark.parametrize("size", ["small", "big"])
@pytest.mark.parametrize(("endpoint", "role"), list(EXPECTED))
def test_query_counts(client, request, django_assert_num_queries, users, size, endpoint, role):
    session = request.getfixturevalue(size)
    if role == "candidate":
        services.submit_self_assessment(session=session, by=users["candidate"])
    client.force_login(users[role.removeprefix("pending-")])
    with django_assert_num_queries(EXPECTED[endpoint, role]):
        response = client.get(reverse(f"scorecards:{endpoint}", args=[session.pk]))
    assert response.status_code == 200


# The per-item save: the login's two; the session; the service's row lock, then interviews'
# set_mark (its own lock, the upsert in one statement, the version bump), with the savepoints of
# the two nested transactions (four); the three counts for the progress line. The item's kind, which
# the view and set_mark both check, comes from the rubric's items in the process's cache.
SELF_MARK = 2 + 1 + 1 + 3 + 4 + 3


@pytest.mark.parametrize("size", ["small", "big"])
def test_self_mark_query_count(client, request, django_assert_num_queries, candidate, size):
    session = request.getfixturevalue(size)
    client.force_login(candidate)
    with django_assert_num_queries(SELF_MARK):
        response = client.post(
            reverse("scorecards:self_mark", args=[session.pk]),
            {"item": "business-objective", "business-objective-mark": "covered"},
            headers=HX,
        )
    assert response.status_code == 200
