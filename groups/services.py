"""The only place that writes study groups, memberships and slots."""

import secrets
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from casebank.models import Case
from groups import matching
from groups.models import Membership, Slot, SlotRole, StudyGroup
from interviews import services as interview_services
from interviews.models import Session, SessionMode, default_call_link
from rubrics.services import latest_published_version

INVITE_TOKEN_BYTES = 32


class GroupError(Exception):
    """A request that does not fit the group's or slot's state; the message is shown."""


def _new_token() -> str:
    return secrets.token_urlsafe(INVITE_TOKEN_BYTES)


@transaction.atomic
def create_group(
    *, owner: User, name: str, description: str = "", now: datetime | None = None
) -> StudyGroup:
    """A group with its owner as first member and a fresh invite link."""
    group = StudyGroup.objects.create(
        name=name, description=description, owner=owner, invite_token=_new_token()
    )
    Membership.objects.create(group=group, user=owner, joined_at=now or timezone.now())
    return group


@transaction.atomic
def regenerate_invite(*, group: StudyGroup) -> StudyGroup:
    """A new group link; the old one stops working."""
    group.invite_token = _new_token()
    group.save(update_fields=["invite_token"])
    return group


@transaction.atomic
def revoke_invite(*, group: StudyGroup) -> StudyGroup:
    group.invite_token = None
    group.save(update_fields=["invite_token"])
    return group


@transaction.atomic
def join_group(*, token: str, user: User, now: datetime | None = None) -> StudyGroup:
    """Make the user a member of the group whose link this is; joining twice is harmless."""
    group = StudyGroup.objects.select_for_update().filter(invite_token=token).first()
    if group is None:
        raise GroupError("This group link is not valid any more: it was revoked or mistyped.")
    Membership.objects.get_or_create(
        group=group, user=user, defaults={"joined_at": now or timezone.now()}
    )
    return group


@transaction.atomic
def set_sharing(*, membership: Membership, shares_progress: bool) -> Membership:
    membership.shares_progress = shares_progress
    membership.save(update_fields=["shares_progress"])
    return membership


@transaction.atomic
def offer_slot(
    *,
    group: StudyGroup,
    by: User,
    starts_at: datetime,
    length_minutes: int,
    role: SlotRole,
    level: str = "",
    domain: str = "",
    call_url: str = "",
    now: datetime | None = None,
) -> Slot:
    now = now or timezone.now()
    if starts_at <= now:
        raise GroupError("That time has already passed. Choose a time in the future.")
    if length_minutes not in interview_services.LENGTHS:
        raise GroupError("An interview lasts 45 or 60 minutes.")
    return Slot.objects.create(
        group=group,
        offered_by=by,
        starts_at=starts_at,
        length_minutes=length_minutes,
        role=role,
        level=level,
        domain=domain,
        call_url=call_url,
    )


@transaction.atomic
def withdraw_slot(*, group: StudyGroup, slot_id: int, by: User) -> None:
    slot = Slot.objects.select_for_update().filter(pk=slot_id, group=group).first()
    if slot is None:
        return  # already withdrawn (a second click)
    if slot.offered_by_id != by.pk:
        raise GroupError("Only the member who offered a slot may withdraw it.")
    if slot.is_claimed:
        raise GroupError("This slot was claimed already: it is a session now.")
    slot.delete()


def claimer_interviews(slot: Slot, as_role: SlotRole | None) -> bool:
    """Whether the member claiming the slot plays the interviewer."""
    if slot.role == SlotRole.INTERVIEWER:
        return False
    if slot.role == SlotRole.CANDIDATE:
        return True
    if as_role not in {SlotRole.INTERVIEWER, SlotRole.CANDIDATE}:
        raise GroupError("Say which role you want to play in this slot.")
    return as_role == SlotRole.INTERVIEWER


@transaction.atomic
def claim_slot(
    *,
    group: StudyGroup,
    slot_id: int,
    by: User,
    as_role: SlotRole | None = None,
    case: Case | None = None,
    surprise: bool = False,
    now: datetime | None = None,
) -> Session:
    """Claim an open slot: a peer session at the slot's time, agreed by both, with a case the
    candidate has not done (`case`, or chosen from their history).

    The slot row is locked first, like the session invite, so of two members claiming at once
    exactly one gets the session and the other a message.
    """
    now = now or timezone.now()
    slot = Slot.objects.select_for_update().filter(pk=slot_id, group=group).first()
    if slot is None:
        raise GroupError("This slot was withdrawn.")
    if slot.claimed_by_id == by.pk and slot.session is not None:
        return slot.session  # a double submit: the claim already went through
    if slot.is_claimed:
        raise GroupError("Someone else claimed this slot first.")
    if slot.offered_by_id == by.pk:
        raise GroupError("This is your own slot: another member claims it.")
    if slot.starts_at <= now:
        raise GroupError("This slot's time has passed.")
    if not Membership.objects.filter(group=group, user=by).exists():
        raise GroupError("Only members of the group may claim its slots.")
    if claimer_interviews(slot, as_role):
        interviewer, candidate = by, slot.offered_by
    else:
        interviewer, candidate = slot.offered_by, by
        case = None  # the candidate never chooses their own case
    if case is None:
        case = matching.pick_case(
            candidate,
            interviewer=interviewer,
            domain=slot.domain,
            level=slot.level,
            surprise=surprise,
        )
    if case is None:
        raise GroupError(
            f"{candidate.get_username()} has done every published case as candidate already."
        )
    version = latest_published_version()
    if version is None:
        raise GroupError("No rubric is published yet; ask a staff member to publish one.")
    session = interview_services.host_session(
        host=interviewer,
        case=case,
        rubric_version=version,
        length_minutes=slot.length_minutes,
        mode=SessionMode.PEER,
        call_url=slot.call_url or default_call_link(),
        scheduled_at=slot.starts_at,
        now=now,
    )
    assert session.invite_token is not None  # a peer session opens with its invite link
    session = interview_services.join_session(token=session.invite_token, user=candidate)
    # The offer was the proposal and the claim its acceptance: the time is agreed.
    session = interview_services.accept_time(session=session, by=candidate, now=now)
    slot.claimed_by = by
    slot.claimed_at = now
    slot.session = session
    slot.save(update_fields=["claimed_by", "claimed_at", "session"])
    return session
