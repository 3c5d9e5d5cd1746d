"""Who may see and do what in a study group. Views call the get_* helpers, which raise 404 or 403.

Only members see a group: everyone else, staff and members of other groups included, gets 404,
so a group's existence does not leak. Members who try an owner's action get 403.
"""

import logging

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404

from groups.models import Membership, Slot, StudyGroup

logger = logging.getLogger("spar.permissions")

AnyUser = User | AnonymousUser


def _denied(user: AnyUser, what: str, group_id: int) -> None:
    logger.warning(
        "denied: user %s tried %s in group %s",
        getattr(user, "pk", None) or "anonymous",
        what,
        group_id,
    )


def get_membership(user: AnyUser, group_id: int) -> Membership:
    """The user's membership with its group (and owner) in one query; 404 for non-members."""
    membership = None
    if user.is_authenticated:
        membership = (
            Membership.objects.select_related("group", "group__owner")
            .filter(group_id=group_id, user_id=user.pk)
            .first()
        )
    if membership is None:
        _denied(user, "to open", group_id)
        raise Http404("No such group.")
    return membership


def owns(user: AnyUser, group: StudyGroup) -> bool:
    return user.is_authenticated and group.owner_id == user.pk


def get_membership_as_owner(user: AnyUser, group_id: int) -> Membership:
    membership = get_membership(user, group_id)
    if not owns(user, membership.group):
        _denied(user, "an owner's action", group_id)
        raise PermissionDenied("Only the group's owner may do that.")
    return membership


def get_slot(group: StudyGroup, slot_id: int) -> Slot:
    """A slot of this group (with who offered and claimed it); 404 for another group's."""
    slot = (
        Slot.objects.select_related("offered_by", "claimed_by")
        .filter(pk=slot_id, group=group)
        .first()
    )
    if slot is None:
        raise Http404("No such slot in this group.")
    return slot


def may_withdraw(user: AnyUser, slot: Slot) -> bool:
    """Who offered a slot may take it back while nobody has claimed it."""
    return user.is_authenticated and slot.offered_by_id == user.pk and not slot.is_claimed


def may_claim(user: AnyUser, slot: Slot) -> bool:
    """Any other member, while the slot is unclaimed (the claim itself re-checks under a lock)."""
    return user.is_authenticated and slot.offered_by_id != user.pk and not slot.is_claimed


class GroupInviteRefused(Exception):
    """A group link that cannot be used; the message says why."""


def get_group_by_token(token: str) -> StudyGroup:
    group = StudyGroup.objects.select_related("owner").filter(invite_token=token).first()
    if group is None:
        raise GroupInviteRefused(
            "This group link is not valid any more: the owner revoked or replaced it, or it "
            "was mistyped."
        )
    return group
