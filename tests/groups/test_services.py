"""Study groups, their link, and the slots board: groups.services."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from groups import matching, services
from groups.models import Membership, Slot, SlotRole
from interviews import permissions
from interviews.models import ScheduleStatus, Session, SessionState
from tests.builders import finish_on_kit, make_kit
from tests.factories import CaseFactory, UserFactory
from tests.groups.builders import in_days, offer

pytestmark = pytest.mark.django_db


def test_create_group_makes_the_owner_its_first_member(interviewer):
    group = services.create_group(owner=interviewer, name="Cohort 7", description="Evenings.")
    assert list(Membership.objects.filter(group=group).values_list("user_id", flat=True)) == [
        interviewer.pk
    ]
    assert len(group.invite_token) >= 40


def test_join_group_by_link_once_and_harmlessly_twice(group, outsider):
    services.join_group(token=group.invite_token, user=outsider)
    services.join_group(token=group.invite_token, user=outsider)
    assert Membership.objects.filter(group=group, user=outsider).count() == 1


def test_a_new_link_retires_the_old_one_and_revoking_closes_the_group(group, outsider):
    old = group.invite_token
    services.regenerate_invite(group=group)
    with pytest.raises(services.GroupError, match="not valid any more"):
        services.join_group(token=old, user=outsider)
    services.revoke_invite(group=group)
    assert group.invite_token is None
    assert not Membership.objects.filter(user=outsider).exists()


def test_offer_slot_refuses_the_past(group, interviewer):
    with pytest.raises(services.GroupError, match="already passed"):
        offer(group, interviewer, starts_at=timezone.now() - timedelta(minutes=1))
    assert not Slot.objects.exists()


@pytest.mark.parametrize(
    ("slot_role", "as_role", "claimer_interviews"),
    [
        (SlotRole.INTERVIEWER, None, False),
        (SlotRole.CANDIDATE, None, True),
        (SlotRole.EITHER, SlotRole.INTERVIEWER, True),
        (SlotRole.EITHER, SlotRole.CANDIDATE, False),
    ],
)
def test_claim_slot_makes_an_agreed_session_with_the_right_roles(
    settings, group, interviewer, candidate, cases, slot_role, as_role, claimer_interviews
):
    settings.CALL_LINK_BASE_URL = "https://meet.example.org"
    slot = offer(group, interviewer, slot_role)
    session = services.claim_slot(group=group, slot_id=slot.pk, by=candidate, as_role=as_role)
    expected = (candidate, interviewer) if claimer_interviews else (interviewer, candidate)
    assert (session.interviewer, session.candidate) == expected
    assert session.state == SessionState.READY
    assert (session.scheduled_at, session.schedule_status) == (
        slot.starts_at,
        ScheduleStatus.AGREED,
    )
    assert session.call_url.startswith("https://meet.example.org/spar-")
    slot.refresh_from_db()
    assert (slot.claimed_by, slot.session) == (candidate, session)


def test_claim_uses_the_slots_own_call_link(group, interviewer, candidate, cases):
    slot = offer(group, interviewer, SlotRole.INTERVIEWER, call_url="https://zoom.example.com/j/1")
    session = services.claim_slot(group=group, slot_id=slot.pk, by=candidate)
    assert session.call_url == "https://zoom.example.com/j/1"


def test_either_slot_needs_a_role(group, interviewer, candidate, cases):
    slot = offer(group, interviewer, SlotRole.EITHER)
    with pytest.raises(services.GroupError, match="which role"):
        services.claim_slot(group=group, slot_id=slot.pk, by=candidate)
    assert not Session.objects.exists()


def test_claimed_case_is_one_the_candidate_has_not_done(group, interviewer, candidate):
    kit = make_kit()
    practised = CaseFactory(title="Practised", domain="ads")
    fresh = CaseFactory(title="Fresh", domain="ads")
    finish_on_kit(version=kit.version, candidate=candidate, interviewer=interviewer, case=practised)
    slot = offer(group, interviewer, SlotRole.INTERVIEWER, domain="ads")
    session = services.claim_slot(group=group, slot_id=slot.pk, by=candidate)
    assert session.case == fresh


def test_claim_narrows_to_the_slots_domain_and_level(group, interviewer, candidate, cases):
    slot = offer(group, interviewer, SlotRole.INTERVIEWER, domain="ads", level="staff")
    session = services.claim_slot(group=group, slot_id=slot.pk, by=candidate)
    assert session.case.title == "Ads conversion"


def test_the_candidate_never_chooses_their_own_case(group, interviewer, candidate, cases):
    slot = offer(group, interviewer, SlotRole.EITHER, domain="vision")
    session = services.claim_slot(
        group=group, slot_id=slot.pk, by=candidate, as_role=SlotRole.CANDIDATE, case=cases[0]
    )
    assert session.case.title == "Visual search"


def test_an_interviewer_who_claims_may_choose_the_case(group, interviewer, candidate, cases):
    slot = offer(group, interviewer, SlotRole.CANDIDATE)
    session = services.claim_slot(group=group, slot_id=slot.pk, by=candidate, case=cases[2])
    assert (session.interviewer, session.case) == (candidate, cases[2])


def test_surprise_picks_among_the_cases_the_candidate_has_not_done(
    group, interviewer, candidate, cases
):
    slot = offer(group, interviewer, SlotRole.INTERVIEWER, domain="search")
    session = services.claim_slot(group=group, slot_id=slot.pk, by=candidate, surprise=True)
    assert session.case.title == "Product search"
    options = matching.case_options(candidate, interviewer=None, domain="nlp")
    # Nothing fits "nlp": every case the candidate has not done (now all but the one just
    # claimed) is offered instead.
    assert sorted(o.title for o in options) == [
        "Ad click prediction",
        "Ads conversion",
        "Visual search",
    ]


def test_claim_refuses_own_taken_expired_and_outsiders_slots(
    group, interviewer, candidate, outsider, cases
):
    slot = offer(group, interviewer, SlotRole.INTERVIEWER)
    with pytest.raises(services.GroupError, match="your own slot"):
        services.claim_slot(group=group, slot_id=slot.pk, by=interviewer)
    with pytest.raises(services.GroupError, match="Only members"):
        services.claim_slot(group=group, slot_id=slot.pk, by=outsider)
    first = services.claim_slot(group=group, slot_id=slot.pk, by=candidate)
    # The same member submitting twice gets the same session back.
    assert services.claim_slot(group=group, slot_id=slot.pk, by=candidate) == first
    third = UserFactory(username="third")
    services.join_group(token=group.invite_token, user=third)
    with pytest.raises(services.GroupError, match="Someone else claimed this slot first"):
        services.claim_slot(group=group, slot_id=slot.pk, by=third)
    expired = offer(group, interviewer, SlotRole.INTERVIEWER)
    Slot.objects.filter(pk=expired.pk).update(starts_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(services.GroupError, match="time has passed"):
        services.claim_slot(group=group, slot_id=expired.pk, by=candidate)
    assert Session.objects.count() == 1


def test_claim_when_the_candidate_has_done_every_case(group, interviewer, candidate):
    kit = make_kit()
    only = CaseFactory(title="The only case")
    finish_on_kit(version=kit.version, candidate=candidate, interviewer=interviewer, case=only)
    slot = offer(group, interviewer, SlotRole.INTERVIEWER)
    before = Session.objects.count()
    with pytest.raises(services.GroupError, match="has done every published case"):
        services.claim_slot(group=group, slot_id=slot.pk, by=candidate)
    assert Session.objects.count() == before
    assert Slot.objects.get(pk=slot.pk).claimed_by is None


def test_withdraw_only_own_unclaimed_slots(group, interviewer, candidate, cases):
    slot = offer(group, interviewer, SlotRole.INTERVIEWER)
    with pytest.raises(services.GroupError, match="Only the member who offered"):
        services.withdraw_slot(group=group, slot_id=slot.pk, by=candidate)
    services.withdraw_slot(group=group, slot_id=slot.pk, by=interviewer)
    assert not Slot.objects.exists()
    claimed = offer(group, interviewer, SlotRole.INTERVIEWER)
    services.claim_slot(group=group, slot_id=claimed.pk, by=candidate)
    with pytest.raises(services.GroupError, match="claimed already"):
        services.withdraw_slot(group=group, slot_id=claimed.pk, by=interviewer)


@pytest.mark.django_db(transaction=True)
def test_two_members_claiming_at_once_get_one_session(interviewer, candidate):
    call_command("load_rubric", stdout=StringIO())
    CaseFactory(title="Race case")
    group = services.create_group(owner=interviewer, name="Race")
    services.join_group(token=group.invite_token, user=candidate)
    third = UserFactory(username="third")
    services.join_group(token=group.invite_token, user=third)
    slot = offer(group, interviewer, SlotRole.INTERVIEWER, starts_at=in_days(1))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def claim(user) -> None:
        barrier.wait()
        try:
            services.claim_slot(group=group, slot_id=slot.pk, by=user)
            outcomes.append("won")
        except services.GroupError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(user,)) for user in (candidate, third)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["Someone else claimed this slot first.", "won"]
    assert Session.objects.count() == 1
    assert Slot.objects.get(pk=slot.pk).session == Session.objects.get()


def test_a_claim_never_gives_the_interviewer_a_case_they_are_candidate_on(
    group, interviewer, candidate, cases
):
    """Once both people are known, the case must suit both: new to the candidate, and not one
    the interviewer is a candidate on right now (they could not see its material)."""
    for _ in range(len(cases) - 1):
        first = offer(group, interviewer, SlotRole.INTERVIEWER)
        services.claim_slot(group=group, slot_id=first.pk, by=candidate)
    # The candidate is now candidate on every case but one; reversed, they interview on it.
    reversed_slot = offer(group, candidate, SlotRole.INTERVIEWER)
    session = services.claim_slot(group=group, slot_id=reversed_slot.pk, by=interviewer)
    assert session.interviewer == candidate
    assert not permissions.candidate_on_case(candidate, session.case)
