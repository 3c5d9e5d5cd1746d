"""`setup_demo` (through `setup_demo_group`) gives the demo accounts a study group with a
claimed upcoming slot and an open one, once, renewing only what has gone stale."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from groups.demo import DEMO_CALL_URL, DEMO_GROUP, seed_demo_group
from groups.models import Membership, Slot, StudyGroup
from groups.progress import build_group_progress
from interviews.models import ScheduleStatus, SessionState
from tests.builders import setup_demo

pytestmark = pytest.mark.django_db


def test_setup_demo_adds_the_demo_group_with_a_claimed_and_an_open_slot(demo):
    assert "Demo group: the group, a claimed upcoming slot, an open slot created." in demo
    group = StudyGroup.objects.get(name=DEMO_GROUP)
    ines, cai = User.objects.get(username="interviewer"), User.objects.get(username="candidate")
    assert group.owner == ines
    assert set(
        Membership.objects.filter(group=group).values_list("user__username", "shares_progress")
    ) == {
        ("interviewer", True),
        ("candidate", True),
    }
    now = timezone.now()
    claimed = Slot.objects.get(group=group, claimed_by__isnull=False)
    session = claimed.session
    assert claimed.starts_at > now
    assert (session.interviewer, session.candidate) == (ines, cai)
    assert (session.state, session.schedule_status) == (SessionState.READY, ScheduleStatus.AGREED)
    assert session.call_url == DEMO_CALL_URL
    # The case is one the demo candidate has not had.
    assert not session.case.sessions.filter(candidate=cai).exclude(pk=session.pk).exists()
    open_slot = Slot.objects.get(group=group, claimed_by__isnull=True)
    assert (open_slot.offered_by, open_slot.starts_at > now) == (cai, True)
    progress = build_group_progress(group, now=now, zone=timezone.get_default_timezone())
    assert progress.members == ["candidate", "interviewer"]
    assert progress.concepts


def test_setup_demo_again_changes_nothing_and_renews_stale_slots(demo):
    counts = (StudyGroup.objects.count(), Slot.objects.count())
    assert "Demo group: already there." in setup_demo()
    assert (StudyGroup.objects.count(), Slot.objects.count()) == counts
    # A week later both slots lie in the past: new ones are added, the group is kept.
    ines, cai = User.objects.get(username="interviewer"), User.objects.get(username="candidate")
    later = seed_demo_group(owner=ines, member=cai, now=timezone.now() + timedelta(days=7))
    assert (later.created, later.claimed is not None, later.open is not None) == (False, True, True)
    assert StudyGroup.objects.count() == 1
