"""Password-reset mail is limited per account and per client address, and the answer never says
whether an account uses the address or whether a limit was reached."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STRANGER = "203.0.113.7"


def _ask(email: str, address: str = STRANGER, client: Client | None = None):
    client = client or Client()
    return client.post(reverse("accounts:password_reset"), {"email": email}, REMOTE_ADDR=address)


@pytest.fixture
def limits(settings):
    settings.ACCOUNT_MAIL_LIMIT = 3
    settings.ACCOUNT_MAIL_LIMIT_PER_IP = 10
    return settings


def test_mails_per_account_stop_at_the_limit(user, limits):
    for n in range(6):  # from six addresses: only the account's limit applies
        response = _ask("member@example.org", address=f"198.51.100.{n}")
        assert response["Location"] == reverse("accounts:password_reset_done")
    assert [m.to for m in mail.outbox] == [["member@example.org"]] * 3


def test_requests_per_address_stop_at_the_limit(limits):
    for n in range(12):
        UserFactory(username=f"person{n}")
    for n in range(12):
        _ask(f"person{n}@example.org")
    assert len(mail.outbox) == 10
    # Another address is not held back by this one.
    _ask("person11@example.org", address="198.51.100.1")
    assert len(mail.outbox) == 11


def test_unknown_addresses_count_towards_the_address_limit(user, limits):
    for n in range(10):
        _ask(f"nobody{n}@example.org")
    _ask("member@example.org")
    assert mail.outbox == []


def test_the_limit_held_is_the_one_of_the_last_hour(user, limits):
    from accounts.models import MailRequest

    for _ in range(3):
        _ask("member@example.org")
    assert len(mail.outbox) == 3
    MailRequest.objects.update(created_at=timezone.now() - timedelta(hours=1, seconds=5))
    _ask("member@example.org")
    assert len(mail.outbox) == 4


def test_answer_is_the_same_for_an_account_a_stranger_and_a_limit(user, limits):
    def answer(email: str):
        client = Client()
        response = _ask(email, client=client)
        page = client.get(response["Location"])
        return response.status_code, response["Location"], page.status_code, _main(page)

    known = answer("member@example.org")
    unknown = answer("nobody@example.org")
    for _ in range(3):
        _ask("member@example.org", address="198.51.100.9")
    limited = answer("member@example.org")
    assert known == unknown == limited
    assert known[:3] == (302, reverse("accounts:password_reset_done"), 200)


def _main(response) -> str:
    # The page minus its CSRF token and CSP nonce, which differ on every response.
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def test_reset_link_from_a_limited_mail_still_works(client, user, limits):
    _ask("member@example.org")
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line)
    response = client.get(link.split("testserver", 1)[1], follow=True)
    assert "Choose a new password" in response.content.decode()
