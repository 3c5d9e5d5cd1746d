"""Writes for accounts."""

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import MailKind, MailRequest

logger = logging.getLogger("spar.accounts")


@transaction.atomic
def claim_account_mails(
    *,
    kind: MailKind,
    accounts: Iterable[User],
    ip_address: str | None,
    now: datetime | None = None,
) -> list[User]:
    """Record one request from `ip_address` and return the accounts it may mail now.

    None of them when the address has made ACCOUNT_MAIL_LIMIT_PER_IP requests in the window (and
    then nothing is recorded, so a flood leaves at most that many rows); otherwise those of
    `accounts` that have had fewer than ACCOUNT_MAIL_LIMIT mails of this kind in the window.
    Kinds count apart, so that notices of sign-ups cannot use up an owner's password resets.
    """
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.ACCOUNT_MAIL_WINDOW_SECONDS)
    MailRequest.objects.filter(created_at__lt=since).delete()
    recent = MailRequest.objects.filter(created_at__gte=since)
    if recent.filter(ip_address=ip_address).count() >= settings.ACCOUNT_MAIL_LIMIT_PER_IP:
        return []
    # Locking the accounts' rows makes concurrent requests for one account count one by one, so
    # its limit is exact; the address's may let a burst of concurrent requests a few past it.
    candidates = User.objects.select_for_update().filter(pk__in=[a.pk for a in accounts])
    allowed = [
        account
        for account in candidates.order_by("pk")
        if recent.filter(account=account, kind=kind).count() < settings.ACCOUNT_MAIL_LIMIT
    ]
    # A request that may mail nobody is still recorded, with no account, for its address.
    recorded: Sequence[User | None] = allowed or [None]
    MailRequest.objects.bulk_create(
        [
            MailRequest(kind=kind, ip_address=ip_address, account=account, created_at=now)
            for account in recorded
        ]
    )
    return allowed


def sign_up(
    *, username: str, email: str, password: str, ip_address: str | None, reset_url: str
) -> User:
    """Create an account and return it.

    An e-mail address that another account already uses is left off the new account, and that
    account is told by mail instead (within the mail limits). The person signing up sees the
    same either way, so sign-up reveals no account's address, as password reset does not.
    """
    owners = list(User.objects.filter(email__iexact=email)) if email else []
    user = User.objects.create_user(
        username=username, email="" if owners else email, password=password
    )
    if owners:
        for owner in claim_account_mails(
            kind=MailKind.SIGNUP_ADDRESS_TAKEN, accounts=owners, ip_address=ip_address
        ):
            _mail_account(
                owner,
                "registration/signup_address_taken",
                {"account": owner, "reset_url": reset_url},
            )
    return user


def _mail_account(account: User, template: str, context: dict) -> None:
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}_email.txt", context)
    try:
        send_mail(subject, body, None, [account.email])
    except Exception:
        # As Django's password reset does: a mail server down must not turn into an error page
        # that only appears when the address is in use.
        logger.exception("could not mail account %s", account.pk)
