import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ACCOUNT_PAGES_ANONYMOUS = [
    "accounts:signup",
    "accounts:login",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_complete",
]
ACCOUNT_PAGES_LOGGED_IN = ["accounts:password_change", "accounts:password_change_done"]


@pytest.mark.parametrize("name", ACCOUNT_PAGES_ANONYMOUS)
def test_public_account_pages_render_for_anonymous(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert "<h1>" in response.content.decode()


@pytest.mark.parametrize("name", ACCOUNT_PAGES_LOGGED_IN)
def test_password_change_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.parametrize("name", ACCOUNT_PAGES_LOGGED_IN)
def test_password_change_pages_render_for_member(client, user, name):
    client.force_login(user)
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", ["accounts:signup", "accounts:login"])
def test_signup_and_login_send_members_home(client, user, name):
    client.force_login(user)
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")


def test_signup_creates_account_and_logs_in(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "newbie",
            "email": "newbie@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    user = User.objects.get(username="newbie")
    assert user.check_password(PASSWORD)
    assert client.get(reverse("core:home")).context["user"] == user


def test_signup_follows_safe_next_only(client):
    data = {"username": "a1", "password1": PASSWORD, "password2": PASSWORD}
    response = client.post(reverse("accounts:signup"), {**data, "next": "/healthz"})
    assert response["Location"] == "/healthz"
    client.logout()
    data["username"] = "a2"
    response = client.post(reverse("accounts:signup"), {**data, "next": "https://evil.example/"})
    assert response["Location"] == reverse("core:home")


def test_signup_shows_errors_and_keeps_input(client, user):
    response = client.post(
        reverse("accounts:signup"),
        {"username": "member", "email": "x@example.org", "password1": "a", "password2": "b"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "A user with that username already exists." in html
    assert 'value="x@example.org"' in html
    assert User.objects.count() == 1


def test_signup_rejects_overlong_username(client):
    response = client.post(
        reverse("accounts:signup"),
        {"username": "u" * 500, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    assert "Ensure this value has at most 150 characters" in response.content.decode()
    assert not User.objects.exists()


def test_login_and_logout(client, user):
    response = client.post(reverse("accounts:login"), {"username": "member", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("core:home")).context["user"] == user
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert not client.get(reverse("core:home")).context["user"].is_authenticated


def test_password_change_works(client, user):
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-secret",
            "new_password2": "another-long-secret",
        },
    )
    assert response["Location"] == reverse("accounts:password_change_done")
    user.refresh_from_db()
    assert user.check_password("another-long-secret")


def test_password_reset_sends_working_link(client, user):
    response = client.post(reverse("accounts:password_reset"), {"email": "member@example.org"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Reset your Spar password"
    link = next(line for line in message.body.splitlines() if "/password/reset/" in line)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    assert "Choose a new password" in response.content.decode()
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-secret", "new_password2": "a-brand-new-secret"},
    )
    assert response["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("a-brand-new-secret")


def test_password_reset_bad_token_is_explained(client, user):
    response = client.get(reverse("accounts:password_reset_confirm", args=["MQ", "bad-token"]))
    assert response.status_code == 200
    assert "This link no longer works" in response.content.decode()


def test_login_form_without_csrf_is_refused(user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("accounts:login"), {"username": "member", "password": PASSWORD})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
