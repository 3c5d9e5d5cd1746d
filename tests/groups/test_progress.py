"""The group progress page: only members who opted in are shown or counted, the numbers are
exact, and the page's queries do not grow with the group."""

from datetime import timedelta
from fractions import Fraction

import pytest
from django.urls import reverse
from django.utils import timezone

from groups import services
from groups.models import Membership
from groups.progress import build_group_progress
from scorecards.stats import Average
from tests.builders import finish_on_kit, make_kit
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET_CASE = "PRIVATE-CASE-nobody-may-see"


def _share(group, user, shares=True) -> None:
    membership = Membership.objects.get(group=group, user=user)
    services.set_sharing(membership=membership, shares_progress=shares)


@pytest.fixture
def kit(db):
    return make_kit()


def _finish(kit, candidate, interviewer, marks, *, title=None, days_ago=1, released=True):
    return finish_on_kit(
        version=kit.version,
        candidate=candidate,
        interviewer=interviewer,
        case=CaseFactory(title=title) if title else None,
        marks=marks,
        start=timezone.now() - timedelta(days=days_ago),
        released=released,
    )


def test_progress_shows_nothing_of_a_member_who_has_not_opted_in(
    client, group, interviewer, candidate, kit
):
    # Plant data that could leak: a session of the member who does not share, with a case
    # title found nowhere else and scores unlike the sharing member's.
    _share(group, interviewer)
    _finish(kit, interviewer, candidate, {"goal": "covered", "latency": "covered"})
    _finish(kit, candidate, interviewer, {"goal": "missed", "split": "covered"}, title=SECRET_CASE)
    client.force_login(interviewer)
    html = client.get(reverse("groups:progress", args=[group.pk])).content.decode()
    assert candidate.username not in html
    assert "1 member has not chosen to share" in html
    # The case is in the library, so it may be listed, but as practised by nobody.
    assert f"{SECRET_CASE} — not yet" in html
    assert f"{SECRET_CASE} — 1 time" not in html
    overview = build_group_progress(group, now=timezone.now(), zone=timezone.get_default_timezone())
    assert overview.members == [interviewer.username]
    assert [c.count for c in overview.most_practised] == [1]
    assert SECRET_CASE not in [c.title for c in overview.most_practised]
    # Only the sharing member's session counts: requirements 100 % and data leakage 0 %, where
    # the other member's session would pull them to 50 % each.
    by_slug = {row.slug: row.group_average for row in overview.concepts}
    assert by_slug["requirements"] == Average(Fraction(100), 1)
    assert by_slug["data-leakage"] == Average(Fraction(0), 1)
    assert [a.username for a in overview.activity] == [interviewer.username]


def test_progress_numbers_per_concept_member_and_week(client, group, interviewer, candidate, kit):
    _share(group, interviewer)
    _share(group, candidate)
    # cai: requirements 0 % then 50 % (goal 2 of 4 points); latency 0 %, then 0 %.
    _finish(kit, candidate, interviewer, {"goal": "missed", "latency": "missed"}, days_ago=3)
    _finish(kit, candidate, interviewer, {"goal": "covered", "latency": "missed"}, days_ago=1)
    # ines: requirements 100 %.
    _finish(kit, interviewer, candidate, {"goal": "covered", "latency": "covered"}, days_ago=2)
    # Not yet released to cai (self-assessment pending): not counted.
    _finish(kit, candidate, interviewer, {"goal": "covered", "latency": "covered"}, released=False)
    overview = build_group_progress(group, now=timezone.now(), zone=timezone.get_default_timezone())
    assert overview.members == ["cai", "ines"]
    requirements = next(row for row in overview.concepts if row.slug == "requirements")
    cai, ines = requirements.cells
    assert (cai.average.mean, cai.latest, cai.change, cai.sessions) == (
        Fraction(25),
        Fraction(50),
        Fraction(50),
        2,
    )
    assert (ines.average.mean, ines.change, ines.change_display) == (Fraction(100), None, "—")
    # Each member counts once: (25 + 100) / 2.
    assert requirements.group_average.mean == Fraction(125, 2)
    assert cai.change_display == "+50"
    # Every finished session counts in the activity, in either role, released or not.
    totals = {a.username: a.total for a in overview.activity}
    assert totals == {"cai": 4, "ines": 4}
    client.force_login(candidate)
    html = client.get(reverse("groups:progress", args=[group.pk])).content.decode()
    assert "62.5 %" in html


def test_progress_cases_most_and_least(group, interviewer, candidate, kit):
    _share(group, candidate)
    eta = CaseFactory(title="ETA")
    CaseFactory(title="Zebra untouched")
    for _ in range(2):
        finish_on_kit(version=kit.version, candidate=candidate, interviewer=interviewer, case=eta)
    overview = build_group_progress(group, now=timezone.now(), zone=timezone.get_default_timezone())
    assert [(c.title, c.count) for c in overview.most_practised] == [("ETA", 2)]
    assert ("Zebra untouched", 0) in [(c.title, c.count) for c in overview.least_practised]


def test_progress_page_is_for_members_only(client, group, outsider, other_member):
    url = reverse("groups:progress", args=[group.pk])
    for user in (outsider, other_member):
        client.force_login(user)
        assert client.get(url).status_code == 404


# django_session, auth_user, the membership with group and owner, the viewer's zone, the
# memberships with users, the released sessions with their cases, the recent sessions, the
# categories, the published case titles.
PROGRESS_QUERIES = 9


def test_progress_queries_do_not_grow_with_members(
    client, group, interviewer, candidate, kit, django_assert_num_queries
):
    _share(group, interviewer)
    _finish(kit, interviewer, candidate, {"goal": "covered"})
    client.force_login(interviewer)
    url = reverse("groups:progress", args=[group.pk])
    with django_assert_num_queries(PROGRESS_QUERIES):
        client.get(url)
    for _ in range(49):
        member = UserFactory()
        services.join_group(token=group.invite_token, user=member)
        _share(group, member)
        _finish(kit, member, interviewer, {"goal": "partial", "split": "covered"})
    with django_assert_num_queries(PROGRESS_QUERIES):
        html = client.get(url).content.decode()
    assert "Shared by 50 members." in html
