"""Builders for study-group tests (also used by the security world): times and slots."""

from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from groups import services
from groups.models import Slot, SlotRole, StudyGroup


def in_days(days: int, hour: int = 17) -> datetime:
    day = (timezone.now() + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def offer(group: StudyGroup, by: User, role: str = SlotRole.EITHER, **extra: object) -> Slot:
    return services.offer_slot(
        group=group,
        by=by,
        starts_at=extra.pop("starts_at", in_days(2)),
        length_minutes=extra.pop("length_minutes", 45),
        role=SlotRole(role),
        **extra,
    )
