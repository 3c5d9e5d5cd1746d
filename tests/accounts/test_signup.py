"""Sign-up does not reveal which e-mail addresses have accounts.

A sign-up with an address already in use goes through like any other, without the address; its
owner gets a mail saying so (within the mail limits), and nothing on the page differs.
"""

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NOTICE_SUBJECT = "Someone tried to sign up to Spar with your address"


def _sign_up(username: str, email: str, address: str = "203.0.113.7", client=None):
    client = client or Client()
    response = client.post(
        reverse("accounts:signup"),
        {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
        REMOTE_ADDR=address,
    )
    return client, response


def test_taken_address_answers_like_a_fresh_one(user):
    fresh_client, fresh = _sign_up("fresh", "fresh@example.org")
    taken_client, taken = _sign_up("copycat", "MEMBER@example.org")
    assert (taken.status_code, taken["Location"]) == (fresh.status_code, fresh["Location"])
    assert (taken.status_code, taken["Location"]) == (302, reverse("core:home"))
    # The page after it differs only by the name each chose.
    assert _home(taken_client).replace("copycat", "NAME") == _home(fresh_client).replace(
        "fresh", "NAME"
    )


def _home(client: Client) -> str:
    html = client.get(reverse("core:home")).content.decode()
    return html[html.index("<main") : html.index("</main>")]


def test_taken_address_is_not_attached_to_the_new_account(user):
    _sign_up("copycat", "member@example.org")
    assert User.objects.get(username="copycat").email == ""
    assert User.objects.filter(email__iexact="member@example.org").get() == user


def test_owner_of_a_taken_address_is_told_by_mail(user):
    _sign_up("copycat", "Member@Example.org")
    [message] = mail.outbox
    assert message.to == ["member@example.org"]
    assert message.subject == NOTICE_SUBJECT
    assert '"member"' in message.body  # the owner's own account, to sign in with
    assert "http://testserver/accounts/password/reset/" in message.body
    # The name the stranger chose is theirs to write: it stays out of the mail.
    assert "copycat" not in message.body


def test_fresh_address_is_attached_and_sends_no_mail():
    _sign_up("newbie", "newbie@example.org")
    assert User.objects.get(username="newbie").email == "newbie@example.org"
    assert mail.outbox == []


def test_notices_of_a_taken_address_are_limited_per_account(user, settings):
    settings.ACCOUNT_MAIL_LIMIT = 3
    for n in range(5):
        _sign_up(f"copycat{n}", "member@example.org", address=f"198.51.100.{n}")
    assert len(mail.outbox) == 3
    assert User.objects.filter(username__startswith="copycat").count() == 5
    # Counted apart from password resets: sign-up notices cannot use up the owner's resets.
    Client().post(reverse("accounts:password_reset"), {"email": "member@example.org"})
    assert len(mail.outbox) == 4
    assert mail.outbox[-1].subject == "Reset your Spar password"


def test_notices_of_a_taken_address_count_towards_the_address_limit(user, settings):
    settings.ACCOUNT_MAIL_LIMIT_PER_IP = 2
    UserFactory(username="other")
    _sign_up("copycat1", "member@example.org")
    _sign_up("copycat2", "other@example.org")
    Client().post(
        reverse("accounts:password_reset"),
        {"email": "member@example.org"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert [m.subject for m in mail.outbox] == [NOTICE_SUBJECT] * 2
