"""Writes for accounts."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts.models import MailKind, MailRequest


@transaction.atomic
def claim_account_mails(
    *,
    kind: MailKind,
    accounts: Iterable[User],
    ip_address: str | None,
    now: datetime | None = None,
) -> list[User]:
    """Record one request from `ip_address` and return the accounts it may mail now.

    None when the address has made ACCOUNT_MAIL_LIMIT_PER_IP requests in the window (and then
    nothing is recorded, so a flood leaves at most that many rows); otherwise those of
    `accounts` that have had fewer than ACCOUNT_MAIL_LIMIT mails in the window.
    """
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.ACCOUNT_MAIL_WINDOW_SECONDS)
    MailRequest.objects.filter(created_at__lt=since).delete()
    recent = MailRequest.objects.filter(created_at__gte=since)
    if recent.filter(ip_address=ip_address).count() >= settings.ACCOUNT_MAIL_LIMIT_PER_IP:
        return []
    # Locking the accounts' rows makes concurrent requests for one account count one by one.
    candidates = User.objects.select_for_update().filter(pk__in=[a.pk for a in accounts])
    allowed = [
        account
        for account in candidates.order_by("pk")
        if recent.filter(account=account).count() < settings.ACCOUNT_MAIL_LIMIT
    ]
    MailRequest.objects.bulk_create(
        [
            MailRequest(kind=kind, ip_address=ip_address, account=account, created_at=now)
            for account in allowed or [None]
        ]
    )
    return allowed
