"""Who may open a group, act as its owner, claim and withdraw slots: truth tables over roles."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from groups import permissions, services
from groups.models import SlotRole, StudyGroup
from tests.groups.builders import offer

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "staff", "other_member", "member", "owner"]


@pytest.fixture
def people(interviewer, candidate, outsider, staff, other_member):
    return {
        "anonymous": AnonymousUser(),
        "outsider": outsider,
        "staff": staff,
        "other_member": other_member,
        "member": candidate,
        "owner": interviewer,
    }


@pytest.mark.parametrize(
    ("role", "opens", "owns"),
    [
        ("anonymous", 404, 404),
        ("outsider", 404, 404),
        ("staff", 404, 404),
        ("other_member", 404, 404),
        ("member", "ok", 403),
        ("owner", "ok", "ok"),
    ],
)
def test_group_access_truth_table(group, people, role, opens, owns):
    user = people[role]
    for getter, expected in (
        (permissions.get_membership, opens),
        (permissions.get_membership_as_owner, owns),
    ):
        if expected == 404:
            with pytest.raises(Http404):
                getter(user, group.pk)
        elif expected == 403:
            with pytest.raises(PermissionDenied):
                getter(user, group.pk)
        else:
            assert getter(user, group.pk).group == group


@pytest.mark.parametrize(
    ("role", "claims", "withdraws"),
    [
        ("anonymous", False, False),
        ("member", True, False),
        ("owner", False, True),
    ],
)
def test_slot_truth_table(group, people, cases, role, claims, withdraws):
    slot = offer(group, people["owner"], SlotRole.INTERVIEWER)
    user = people[role]
    assert (permissions.may_claim(user, slot), permissions.may_withdraw(user, slot)) == (
        claims,
        withdraws,
    )


def test_a_claimed_slot_can_be_neither_claimed_nor_withdrawn(group, people, cases):
    slot = offer(group, people["owner"], SlotRole.INTERVIEWER)
    services.claim_slot(group=group, slot_id=slot.pk, by=people["member"])
    slot.refresh_from_db()
    for role in ("member", "owner"):
        user = people[role]
        assert (permissions.may_claim(user, slot), permissions.may_withdraw(user, slot)) == (
            False,
            False,
        )


def test_a_slot_of_another_group_is_404(group, people, other_member, cases):
    elsewhere = StudyGroup.objects.get(owner=other_member)
    slot = offer(elsewhere, other_member, SlotRole.INTERVIEWER)
    with pytest.raises(Http404):
        permissions.get_slot(group, slot.pk)
    assert permissions.get_slot(elsewhere, slot.pk) == slot


def test_refusals_are_logged(group, outsider, caplog):
    with caplog.at_level("WARNING", logger="spar.permissions"), pytest.raises(Http404):
        permissions.get_membership(outsider, group.pk)
    assert caplog.messages == [f"denied: user {outsider.pk} tried to open in group {group.pk}"]
