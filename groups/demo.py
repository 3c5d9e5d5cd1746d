"""The demo study group (used by `setup_demo_group`, which `setup_demo` runs): the two demo
accounts, sharing their progress, with one claimed upcoming slot and one open slot, so that a
newcomer's first look at the Groups page shows the board, a scheduled session and the group's
progress. Everything goes through groups.services, as a member's clicks would."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User

from groups import services
from groups.models import Membership, Slot, SlotRole, StudyGroup
from interviews.models import default_call_link

DEMO_GROUP = "ML system design study group"
# A placeholder on a reserved domain: the demo shows where the call link goes without sending
# anyone to a real call service. With CALL_LINK_BASE_URL set, the demo uses that server instead.
DEMO_CALL_URL = "https://meet.example.org/spar-demo-study-group"
DEMO_DESCRIPTION = (
    "Two mocks a week before the interview season. Offer a time on the board; whoever claims it "
    "gets the session, the call link and a calendar file."
)


@dataclass(frozen=True)
class DemoGroup:
    group: StudyGroup
    created: bool
    claimed: Slot | None  # None when an upcoming claimed slot was there already
    open: Slot | None


def _at(now: datetime, days: int, hour: int) -> datetime:
    return (now + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def seed_demo_group(*, owner: User, member: User, now: datetime) -> DemoGroup:
    """The demo group, created once; on later runs only what time has made stale is renewed:
    an upcoming claimed slot and an open slot, each added when none lies ahead any more."""
    group = StudyGroup.objects.filter(owner=owner, name=DEMO_GROUP).first()
    created = group is None
    if group is None:
        group = services.create_group(
            owner=owner, name=DEMO_GROUP, description=DEMO_DESCRIPTION, now=now
        )
    if not Membership.objects.filter(group=group, user=member).exists():
        if group.invite_token is None:
            group = services.regenerate_invite(group=group)
        assert group.invite_token is not None
        services.join_group(token=group.invite_token, user=member, now=now)
    for person in (owner, member):
        membership = Membership.objects.filter(group=group, user=person).first()
        if membership is not None and not membership.shares_progress:
            services.set_sharing(membership=membership, shares_progress=True)

    ahead = Slot.objects.filter(group=group, starts_at__gt=now)
    claimed = None
    if not ahead.filter(claimed_by__isnull=False).exists():
        claimed = services.offer_slot(
            group=group,
            by=owner,
            starts_at=_at(now, 1, 18),
            length_minutes=45,
            role=SlotRole.INTERVIEWER,
            call_url=default_call_link() or DEMO_CALL_URL,
            now=now,
        )
        services.claim_slot(group=group, slot_id=claimed.pk, by=member, now=now)
        claimed.refresh_from_db()
    open_slot = None
    if not ahead.filter(claimed_by__isnull=True).exists():
        open_slot = services.offer_slot(
            group=group,
            by=member,
            starts_at=_at(now, 3, 17),
            length_minutes=60,
            role=SlotRole.CANDIDATE,
            domain="search",
            now=now,
        )
    return DemoGroup(group, created, claimed, open_slot)
