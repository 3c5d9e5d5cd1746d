"""The study-group pages: list and create, the board, offering, claiming, withdrawing, sharing,
the owner's link, joining, and their query counts."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts import profile_services
from accounts.profile import ViewerZone, format_moment
from groups import services
from groups.models import Membership, Slot, SlotRole, StudyGroup
from interviews.models import Session
from tests.factories import UserFactory
from tests.groups.builders import in_days, offer

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _detail(group: StudyGroup) -> str:
    return reverse("groups:detail", args=[group.pk])


def test_list_shows_my_groups_and_creates_one(client, interviewer, group, other_member):
    client.force_login(interviewer)
    html = client.get(reverse("groups:list")).content.decode()
    assert "Tuesday mocks" in html
    assert "Another group" not in html
    response = client.post(reverse("groups:list"), {"name": "Weekend cohort", "description": ""})
    created = StudyGroup.objects.get(name="Weekend cohort")
    assert response.status_code == 302
    assert response["Location"] == _detail(created)
    assert created.owner == interviewer


def test_create_group_refuses_an_empty_or_long_name(client, interviewer):
    client.force_login(interviewer)
    for name in ("", "x" * 81):
        response = client.post(reverse("groups:list"), {"name": name})
        assert response.status_code == 400
    assert not StudyGroup.objects.exists()


def test_board_shows_open_slots_in_the_viewers_zone(client, group, interviewer, candidate, cases):
    profile_services.set_time_zone(user=candidate, time_zone="Australia/Sydney")
    slot = offer(group, interviewer, SlotRole.INTERVIEWER, domain="ads", level="senior")
    expired = offer(group, interviewer, SlotRole.CANDIDATE)
    Slot.objects.filter(pk=expired.pk).update(starts_at=timezone.now() - timedelta(minutes=5))
    client.force_login(candidate)
    html = client.get(_detail(group)).content.decode()
    local = format_moment(slot.starts_at, ViewerZone("Australia/Sydney", True))
    assert local in html
    assert f'id="slot-{slot.pk}"' in html
    assert f'id="slot-{expired.pk}"' not in html  # expired slots disappear
    assert reverse("groups:claim", args=[group.pk, slot.pk]) in html
    assert "Senior · Ads" in html


def test_offer_a_slot_read_in_the_members_zone(client, group, candidate):
    profile_services.set_time_zone(user=candidate, time_zone="America/Sao_Paulo")
    client.force_login(candidate)
    start = in_days(3)
    local = start.astimezone(ZoneInfo("America/Sao_Paulo"))
    response = client.post(
        reverse("groups:offer", args=[group.pk]),
        {
            "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
            "length_minutes": 60,
            "role": "candidate",
            "level": "",
            "domain": "search",
            "call_url": "",
        },
    )
    assert response.status_code == 302
    slot = Slot.objects.get()
    assert (slot.starts_at, slot.length_minutes, slot.role, slot.domain, slot.offered_by) == (
        start,
        60,
        SlotRole.CANDIDATE,
        "search",
        candidate,
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"starts_at": "2019-05-05T10:00"}, "That time has already passed"),
        ({"starts_at": ""}, "This field is required."),
        ({"role": "boss"}, "Select a valid choice"),
        ({"length_minutes": "90"}, "Select a valid choice"),
        ({"level": "wizard"}, "Select a valid choice"),
        ({"call_url": "http://meet.example.org/x"}, "starting with https://"),
    ],
)
def test_offer_refuses_bad_input_with_a_message_and_saves_nothing(
    client, group, candidate, data, message
):
    client.force_login(candidate)
    valid = {
        "starts_at": in_days(2).strftime("%Y-%m-%dT%H:%M"),
        "length_minutes": 45,
        "role": "either",
    }
    response = client.post(reverse("groups:offer", args=[group.pk]), valid | data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Slot.objects.exists()


def test_claim_page_and_claim(client, group, interviewer, candidate, cases):
    slot = offer(group, interviewer, SlotRole.CANDIDATE, domain="ads")
    client.force_login(candidate)
    url = reverse("groups:claim", args=[group.pk, slot.pk])
    html = client.get(url).content.decode()
    # The interviewer-to-be chooses among the ads cases the candidate (ines) has not done.
    assert "Ad click prediction" in html
    assert "Product search" not in html
    assert "suggested for their weakest concept" in html
    response = client.post(url, {"case": cases[1].pk})
    session = Session.objects.get()
    assert response["Location"] == session.get_absolute_url()
    assert (session.interviewer, session.candidate, session.case) == (
        candidate,
        interviewer,
        cases[1],
    )
    # Opening the claim page again leads to the session.
    assert client.get(url)["Location"] == session.get_absolute_url()


def test_claim_page_for_a_future_candidate_names_no_case(
    client, group, interviewer, candidate, cases
):
    slot = offer(group, interviewer, SlotRole.INTERVIEWER)
    client.force_login(candidate)
    html = client.get(reverse("groups:claim", args=[group.pk, slot.pk])).content.decode()
    for case in cases:
        assert case.title not in html
    assert "stays hidden from you until the interview" in html


def test_claim_refusals_are_messages_not_errors(client, group, interviewer, candidate, cases):
    slot = offer(group, interviewer, SlotRole.EITHER)
    client.force_login(candidate)
    url = reverse("groups:claim", args=[group.pk, slot.pk])
    response = client.post(url, {"as_role": "boss"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    third = UserFactory(username="third")
    services.join_group(token=group.invite_token, user=third)
    services.claim_slot(group=group, slot_id=slot.pk, by=third, as_role=SlotRole.CANDIDATE)
    response = client.post(url, {"as_role": "candidate"})
    assert response.status_code == 302
    assert _messages(response) == ["Someone else claimed this slot first."]
    client.force_login(interviewer)
    response = client.get(url)
    assert response.status_code == 302
    assert Session.objects.count() == 1


def test_withdraw(client, group, interviewer, candidate, cases):
    slot = offer(group, interviewer)
    url = reverse("groups:withdraw", args=[group.pk, slot.pk])
    client.force_login(candidate)
    assert client.post(url).status_code == 403
    client.force_login(interviewer)
    response = client.post(url)
    assert _messages(response) == ["Your slot is withdrawn."]
    assert not Slot.objects.exists()


def test_sharing_toggle(client, group, candidate):
    client.force_login(candidate)
    url = reverse("groups:share", args=[group.pk])
    client.post(url, {"shares_progress": "on"})
    assert Membership.objects.get(group=group, user=candidate).shares_progress is True
    client.post(url, {})
    assert Membership.objects.get(group=group, user=candidate).shares_progress is False


def test_owner_manages_the_link_and_members_may_not(client, group, interviewer, candidate):
    url = reverse("groups:invite", args=[group.pk])
    client.force_login(candidate)
    assert client.post(url, {"action": "revoke"}).status_code == 403
    assert "Invite members" not in client.get(_detail(group)).content.decode()
    client.force_login(interviewer)
    old = group.invite_token
    client.post(url, {"action": "regenerate"})
    group.refresh_from_db()
    assert group.invite_token not in {None, old}
    html = client.get(_detail(group)).content.decode()
    assert reverse("groups:join", args=[group.invite_token]) in html
    client.post(url, {"action": "revoke"})
    group.refresh_from_db()
    assert group.invite_token is None
    client.post(url, {"action": "explode"})
    group.refresh_from_db()
    assert group.invite_token is None


def test_join_page(client, group, outsider):
    client.force_login(outsider)
    url = reverse("groups:join", args=[group.invite_token])
    html = client.get(url).content.decode()
    assert "Join Tuesday mocks" in html
    assert client.post(url)["Location"] == _detail(group)
    assert Membership.objects.filter(group=group, user=outsider).exists()
    assert client.get(url)["Location"] == _detail(group)
    bad = client.get(reverse("groups:join", args=["no-such-token"]))
    assert bad.status_code == 410
    assert "not valid any more" in bad.content.decode()
    assert client.post(reverse("groups:join", args=["no-such-token"])).status_code == 410


@pytest.mark.parametrize(
    "name", ["groups:detail", "groups:progress", "groups:share", "groups:invite", "groups:offer"]
)
def test_group_urls_are_404_for_non_members(client, group, outsider, other_member, staff, name):
    url = reverse(name, args=[group.pk])
    send = client.get if name in {"groups:detail", "groups:progress"} else client.post
    for user in (outsider, other_member, staff):
        client.force_login(user)
        assert send(url).status_code == 404


def test_member_rows_count_no_shows_in_this_group_only(
    client, group, interviewer, candidate, cases
):
    slot = offer(group, interviewer, SlotRole.INTERVIEWER, starts_at=in_days(1))
    session = services.claim_slot(group=group, slot_id=slot.pk, by=candidate)
    Session.objects.filter(pk=session.pk).update(no_show=candidate)
    client.force_login(interviewer)
    html = client.get(_detail(group)).content.decode()
    assert f'<tr><td>{candidate.username}</td><td class="num">1</td></tr>' in html
    assert (
        f'{interviewer.username} <span class="muted">(owner)</span></td><td class="num">0' in html
    )


# query counts: the same with 1 and with 50 slots, members and upcoming sessions


def _grow(group, owner, *, slots: int, members: int) -> None:
    for _ in range(members):
        services.join_group(token=group.invite_token, user=UserFactory())
    for n in range(slots):
        offer(group, owner, SlotRole.EITHER, starts_at=in_days(1 + n % 20, hour=n % 24))


def _count_detail(client, django_assert_num_queries, user, group, expected) -> None:
    client.force_login(user)
    with django_assert_num_queries(expected):
        assert client.get(_detail(group)).status_code == 200


# django_session, auth_user, the membership with its group and owner, the viewer's zone, the
# open slots with who offered them, the claimed slots with both people and the session, the
# members with their users, the no-show counts.
DETAIL_QUERIES = 8


def test_detail_queries_do_not_grow_with_slots_and_members(
    client, group, interviewer, candidate, cases, django_assert_num_queries
):
    _grow(group, interviewer, slots=1, members=1)
    claimed = offer(group, interviewer, SlotRole.INTERVIEWER)
    services.claim_slot(group=group, slot_id=claimed.pk, by=candidate)
    _count_detail(client, django_assert_num_queries, candidate, group, DETAIL_QUERIES)
    _grow(group, interviewer, slots=49, members=49)
    for n in range(3):
        extra = offer(group, candidate, SlotRole.INTERVIEWER, starts_at=in_days(4, hour=n))
        services.claim_slot(group=group, slot_id=extra.pk, by=interviewer)
    assert Membership.objects.filter(group=group).count() == 52
    _count_detail(client, django_assert_num_queries, candidate, group, DETAIL_QUERIES)


# django_session, auth_user, the memberships with group, owner and member count.
LIST_QUERIES = 3


def test_list_queries_do_not_grow_with_groups(client, interviewer, django_assert_num_queries):
    services.create_group(owner=interviewer, name="One")
    client.force_login(interviewer)
    with django_assert_num_queries(LIST_QUERIES):
        client.get(reverse("groups:list"))
    for n in range(49):
        group = services.create_group(owner=UserFactory(username=f"o{n}"), name=f"G{n}")
        services.join_group(token=group.invite_token, user=interviewer)
    with django_assert_num_queries(LIST_QUERIES):
        html = client.get(reverse("groups:list")).content.decode()
    assert "G48" in html
