"""Writes and queries for sign-in throttling."""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from accounts.models import LoginFailure


def normalise_username(username: str) -> str:
    # Throttle "Alice" and "alice" together: the attacker picks the spelling.
    return username.strip().lower()[:150]


def lockout_remaining(*, username: str, ip_address: str | None, now: datetime | None = None) -> int:
    """Seconds until a sign-in may be tried again, or 0 when it may be tried now."""
    now = now or timezone.now()
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    since = now - window
    remaining = 0
    checks = [
        (
            LoginFailure.objects.filter(username=normalise_username(username)),
            settings.LOGIN_FAILURE_LIMIT,
        )
    ]
    if ip_address:
        checks.append(
            (
                LoginFailure.objects.filter(ip_address=ip_address),
                settings.LOGIN_FAILURE_LIMIT_PER_IP,
            )
        )
    for queryset, limit in checks:
        recent = queryset.filter(created_at__gt=since)
        stats = recent.aggregate(latest=Max("created_at"))
        if stats["latest"] is None:
            continue
        if recent.count() >= limit:
            # Locked until the window has passed since the latest failure.
            seconds = (stats["latest"] + window - now).total_seconds()
            remaining = max(remaining, math.ceil(seconds))
    return remaining


def record_login_failure(
    *, username: str, ip_address: str | None, now: datetime | None = None
) -> LoginFailure:
    """Store one failed attempt; old rows beyond the window are pruned on the way."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    LoginFailure.objects.filter(created_at__lt=cutoff).delete()
    return LoginFailure.objects.create(
        username=normalise_username(username), ip_address=ip_address, created_at=now
    )


def clear_login_failures(*, username: str) -> None:
    """A successful sign-in forgives the account's earlier failures."""
    LoginFailure.objects.filter(username=normalise_username(username)).delete()
