"""One sign-in throttle for every login form: per (account, address), with a per-address backstop.

The addresses come from the documentation ranges (RFC 5737): a stranger guessing passwords, and
the account's owner signing in from elsewhere.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRANGER = "203.0.113.7"
OWNER = "198.51.100.20"
SITE_LOGIN = "accounts:login"
ADMIN_LOGIN = "admin:login"
WRONG = "not-the-password"


def _sign_in(client, username, password, address, url=SITE_LOGIN):
    return client.post(
        reverse(url), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def _signed_in_as(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


@pytest.fixture
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 5
    return settings


def test_failures_below_the_limit_explain_and_allow_retrying(client, user, limits):
    for _ in range(2):
        response = _sign_in(client, "member", WRONG, STRANGER)
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    response = _sign_in(client, "member", PASSWORD, STRANGER)
    assert response.status_code == 302
    assert _signed_in_as(client) == user.pk


def test_reaching_the_limit_pauses_signing_in_with_a_friendly_429(client, user, limits):
    for _ in range(2):
        _sign_in(client, "member", WRONG, STRANGER)
    response = _sign_in(client, "member", WRONG, STRANGER)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed sign-in attempts" in html
    assert "try again in 15 minutes" in html
    assert 'name="username"' in html  # still the login page: another account may sign in
    # Even the right password is refused now: otherwise guessing would just go on.
    response = _sign_in(client, "MEMBER", PASSWORD, STRANGER)
    assert response.status_code == 429
    response = _sign_in(client, "member", PASSWORD, STRANGER)
    assert response.status_code == 429
    assert _signed_in_as(client) is None


def test_stranger_cannot_lock_the_owner_out(user, limits):
    stranger = Client()
    for _ in range(10):
        _sign_in(stranger, "member", WRONG, STRANGER)
    assert _sign_in(stranger, "member", PASSWORD, STRANGER).status_code == 429
    owner = Client()
    response = _sign_in(owner, "member", PASSWORD, OWNER)
    assert response.status_code == 302
    assert _signed_in_as(owner) == user.pk


def test_many_accounts_from_one_address_trip_the_address_backstop(user, limits):
    stranger = Client()
    for n in range(5):  # 1 failure on each of 5 names: no account reaches 3, the address reaches 5
        _sign_in(stranger, f"someone{n}", WRONG, STRANGER)
    response = _sign_in(stranger, "member", PASSWORD, STRANGER)
    assert response.status_code == 429
    assert _signed_in_as(stranger) is None
    owner = Client()
    assert _sign_in(owner, "member", PASSWORD, OWNER).status_code == 302


def test_lockout_ends_after_the_window(client, user, limits):
    from axes.models import AccessAttempt

    for _ in range(3):
        _sign_in(client, "member", WRONG, STRANGER)
    assert _sign_in(client, "member", PASSWORD, STRANGER).status_code == 429
    window = timedelta(seconds=limits.LOGIN_FAILURE_WINDOW_SECONDS)
    AccessAttempt.objects.update(attempt_time=timezone.now() - window - timedelta(seconds=5))
    response = _sign_in(client, "member", PASSWORD, STRANGER)
    assert response.status_code == 302
    assert _signed_in_as(client) == user.pk


def test_minutes_left_count_from_the_latest_failure(client, user, limits):
    from axes.models import AccessAttempt

    for _ in range(3):
        _sign_in(client, "member", WRONG, STRANGER)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14, seconds=10))
    response = _sign_in(client, "member", PASSWORD, STRANGER)
    assert response.status_code == 429
    assert "try again in 1 minute." in response.content.decode()


def test_successful_sign_in_forgives_earlier_failures(client, user, limits):
    for _ in range(2):
        _sign_in(client, "member", WRONG, STRANGER)
    assert _sign_in(client, "member", PASSWORD, STRANGER).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(2):
        assert _sign_in(client, "member", WRONG, STRANGER).status_code == 200
    assert _sign_in(client, "member", PASSWORD, STRANGER).status_code == 302


def test_admin_login_is_throttled(client, staff):
    # The probe's case, with the default limits: 12 wrong passwords, then the right one.
    for _ in range(12):
        _sign_in(client, "staffer", WRONG, STRANGER, url=ADMIN_LOGIN)
    response = _sign_in(client, "staffer", PASSWORD, STRANGER, url=ADMIN_LOGIN)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert _signed_in_as(client) is None


def test_address_locked_out_on_the_site_is_locked_out_of_the_admin(client, staff, limits):
    for n in range(5):
        _sign_in(client, f"someone{n}", WRONG, STRANGER)
    response = _sign_in(client, "staffer", PASSWORD, STRANGER, url=ADMIN_LOGIN)
    assert response.status_code == 429
    assert _signed_in_as(client) is None


def test_admin_failures_count_towards_the_site_login(client, staff, limits):
    for _ in range(3):
        _sign_in(client, "staffer", WRONG, STRANGER, url=ADMIN_LOGIN)
    assert _sign_in(client, "staffer", PASSWORD, STRANGER).status_code == 429


def test_admin_login_still_works(client, staff):
    response = _sign_in(client, "staffer", PASSWORD, OWNER, url=ADMIN_LOGIN)
    assert response.status_code == 302
    assert _signed_in_as(client) == staff.pk


def test_spelling_of_the_name_does_not_reset_the_count(client, limits):
    UserFactory(username="member")
    for name in ("member", "MEMBER", "Member"):
        _sign_in(client, name, WRONG, STRANGER)
    assert _sign_in(client, "member", PASSWORD, STRANGER).status_code == 429


def test_forwarded_for_header_does_not_choose_the_address(client, user, limits):
    # X-Forwarded-For comes from the client unless a proxy overwrites it: a forged one must not
    # give every guess a fresh address.
    for n in range(3):
        client.post(
            reverse(SITE_LOGIN),
            {"username": "member", "password": WRONG},
            REMOTE_ADDR=STRANGER,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    assert _sign_in(client, "member", PASSWORD, STRANGER).status_code == 429


def _through_proxy(client, username, password, forwarded_for, proxy="127.0.0.1"):
    return client.post(
        reverse(SITE_LOGIN),
        {"username": username, "password": password},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_behind_a_named_proxy_the_owner_is_told_apart_from_the_stranger(user, limits):
    limits.FORWARDED_ALLOW_IPS = ["127.0.0.1"]
    stranger = Client()
    for _ in range(3):
        _through_proxy(stranger, "member", WRONG, STRANGER)
    assert _through_proxy(stranger, "member", PASSWORD, STRANGER).status_code == 429
    owner = Client()
    assert _through_proxy(owner, "member", PASSWORD, OWNER).status_code == 302


def test_behind_a_named_proxy_only_the_address_it_appended_counts(user, limits):
    # The proxy appends the address it saw; whatever the client put before it is not believed.
    limits.FORWARDED_ALLOW_IPS = ["127.0.0.0/8"]
    stranger = Client()
    for n in range(3):
        _through_proxy(stranger, "member", WRONG, f"192.0.2.{n}, {STRANGER}")
    assert _through_proxy(stranger, "member", PASSWORD, STRANGER).status_code == 429


def test_behind_a_proxy_on_a_unix_socket_the_owner_is_told_apart(user, limits):
    # gunicorn gives a UNIX-socket peer an empty REMOTE_ADDR; only the proxy can be that peer.
    stranger = Client()
    for _ in range(3):
        _through_proxy(stranger, "member", WRONG, STRANGER, proxy="")
    assert _through_proxy(stranger, "member", PASSWORD, STRANGER, proxy="").status_code == 429
    owner = Client()
    assert _through_proxy(owner, "member", PASSWORD, OWNER, proxy="").status_code == 302


def test_forwarded_for_from_an_unnamed_peer_is_ignored(user, limits):
    stranger = Client()
    for n in range(3):
        _through_proxy(stranger, "member", WRONG, f"192.0.2.{n}", proxy="198.51.100.99")
    owner = Client()
    assert (
        _through_proxy(owner, "member", PASSWORD, OWNER, proxy="198.51.100.99").status_code == 429
    )
