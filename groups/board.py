"""Reads for a group's page: the open slots board, the group's upcoming sessions, the members
with their no-show counts, and the groups a member belongs to. Each is one query."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import Count, QuerySet

from groups import permissions
from groups.models import Membership, Slot, StudyGroup
from interviews.models import Session

# A claimed session stays on the board for a while after its start, so both can find it there.
UPCOMING_AFTER_START = timedelta(hours=2)


def open_slots(group: StudyGroup, now: datetime) -> QuerySet[Slot]:
    """Unclaimed slots still ahead; an expired slot simply stops showing."""
    return (
        Slot.objects.filter(group=group, claimed_by__isnull=True, starts_at__gt=now)
        .select_related("offered_by")
        .order_by("starts_at", "pk")
    )


def upcoming_sessions(group: StudyGroup, now: datetime) -> QuerySet[Slot]:
    return (
        Slot.objects.filter(
            group=group, claimed_by__isnull=False, starts_at__gt=now - UPCOMING_AFTER_START
        )
        .select_related("offered_by", "claimed_by", "session")
        .defer(
            "session__result",
        )
        .order_by("starts_at", "pk")
    )


@dataclass(frozen=True)
class SlotRow:
    slot: Slot
    may_claim: bool
    may_withdraw: bool


def slot_rows(user: User, slots: QuerySet[Slot]) -> list[SlotRow]:
    return [
        SlotRow(slot, permissions.may_claim(user, slot), permissions.may_withdraw(user, slot))
        for slot in slots
    ]


@dataclass(frozen=True)
class UpcomingRow:
    slot: Slot
    interviewer: str
    candidate: str
    takes_part: bool


def upcoming_rows(user: User, slots: QuerySet[Slot]) -> list[UpcomingRow]:
    rows = []
    for slot in slots:
        session = slot.session
        if session is None:
            continue  # the session was deleted (by staff); the slot stays claimed
        names = {slot.offered_by_id: slot.offered_by, slot.claimed_by_id: slot.claimed_by}
        interviewer = names.get(session.interviewer_id)
        candidate = names.get(session.candidate_id)
        rows.append(
            UpcomingRow(
                slot,
                interviewer.get_username() if interviewer else "—",
                candidate.get_username() if candidate else "—",
                user.pk in session.participant_ids(),
            )
        )
    return rows


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    no_shows: int
    is_owner: bool


def member_rows(group: StudyGroup) -> list[MemberRow]:
    """The members, oldest first, with how often each missed an agreed start of one of this
    group's sessions (no-shows elsewhere are not the group's business)."""
    memberships = Membership.objects.filter(group=group).select_related("user")
    counts = dict(
        Session.objects.filter(slot__group=group, no_show__isnull=False)
        .values_list("no_show")
        .annotate(n=Count("pk"))
        .values_list("no_show", "n")
    )
    return [
        MemberRow(m, counts.get(m.user_id, 0), m.user_id == group.owner_id) for m in memberships
    ]


def groups_of(user: User) -> QuerySet[Membership]:
    """The user's memberships with their group and its member count, by group name."""
    return (
        Membership.objects.filter(user_id=user.pk)
        .select_related("group", "group__owner")
        .annotate(members=Count("group__memberships"))
        .order_by("group__name", "group_id")
    )
