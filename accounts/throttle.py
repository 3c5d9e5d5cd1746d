"""Sign-in throttling: django-axes, keyed and limited the way Spar wants (see config/settings.py).

Axes counts failures per (account, address) and locks that pair at AXES_FAILURE_LIMIT. A limit per
address alone would let one attacker lock a known user out, and one per account alone would let
an attacker lock anyone out from anywhere; so the only other limit is a larger one per address
(LOGIN_FAILURE_LIMIT_PER_IP), the backstop against one address guessing across many accounts.
"""

import ipaddress
import math
from datetime import datetime

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone

from accounts.usernames import fold_case


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        # No IP address: a peer on a UNIX socket, which only those who may open the socket can
        # be. gunicorn trusts such peers' forwarded headers too.
        return True
    allowed = settings.FORWARDED_ALLOW_IPS
    return "*" in allowed or any(ip in ipaddress.ip_network(network) for network in allowed)


def client_ip(request: HttpRequest) -> str | None:
    """The address failures are counted against (AXES_CLIENT_IP_CALLABLE).

    X-Forwarded-For is believed only from a proxy named in FORWARDED_ALLOW_IPS (or on a UNIX
    socket), and only its last entry, which that proxy appended: the entries before it are
    whatever the client sent.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if _is_trusted_proxy(remote):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return remote or None


def username_key(request: HttpRequest, credentials: dict | None) -> str | None:
    """The account name failures are counted against (AXES_USERNAME_CALLABLE).

    Folded, so that "Alice" and "ALICE" share one count: the attacker picks the spelling.
    """
    raw = (credentials if credentials is not None else request.POST).get("username")
    if not raw:
        return None
    return fold_case(raw)[:150]


class LoginThrottle(AxesDatabaseHandler):
    """Axes' database handler, plus the per-address backstop."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # Axes compares this number with AXES_FAILURE_LIMIT; an address over its own limit
        # answers as if every account on it were.
        failures: int = super().get_failures(request, credentials)
        limit: int = get_failure_limit(request, credentials)
        if failures < limit:
            total = self._from_address(request).aggregate(total=Sum("failures_since_start"))
            if (total["total"] or 0) >= settings.LOGIN_FAILURE_LIMIT_PER_IP:
                return limit
        return failures

    def locked_until(self, request: HttpRequest, credentials: dict | None) -> datetime | None:
        """When the lockout that holds this request ends, or None when none holds it."""
        from_address = self._from_address(request)
        pair = from_address.filter(username=get_client_username(request, credentials))
        ends = []
        for attempts, limit in (
            (pair, get_failure_limit(request, credentials)),
            (from_address, settings.LOGIN_FAILURE_LIMIT_PER_IP),
        ):
            stats = attempts.aggregate(
                total=Sum("failures_since_start"), latest=Max("attempt_time")
            )
            if (stats["total"] or 0) >= limit:
                ends.append(stats["latest"] + get_cool_off(request))
        return max(ends, default=None)

    def _from_address(self, request: HttpRequest) -> QuerySet[AccessAttempt]:
        attempts: QuerySet[AccessAttempt] = AccessAttempt.objects.filter(
            # Axes sets this attribute on every request it handles; axes ships no types.
            ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
            attempt_time__gte=get_cool_off_threshold(request),
        )
        return attempts


def lockout_minutes(request: HttpRequest, credentials: dict | None) -> int:
    """Whole minutes, rounded up, until the client may try again (at least 1)."""
    handler = LoginThrottle()
    ends = handler.locked_until(request, credentials)
    if ends is None:
        return 1
    return max(1, math.ceil((ends - timezone.now()).total_seconds() / 60))
