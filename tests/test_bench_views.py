"""The floors the benchmarks measure Spar's requests against (bench/urls.py)."""

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.urls("bench.urls")]


def test_bare_view_answers_anyone_with_nothing() -> None:
    response = Client().get("/bench/bare/")

    assert response.status_code == 204
    assert response.content == b""


def test_signed_in_view_answers_a_signed_in_user(client: Client, user: User) -> None:
    client.force_login(user)

    assert client.get("/bench/signed-in/").status_code == 204


def test_signed_in_view_sends_anyone_else_to_sign_in(client: Client) -> None:
    response = client.get("/bench/signed-in/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_signed_in_view_refuses_a_post(client: Client, user: User) -> None:
    client.force_login(user)

    assert client.post("/bench/signed-in/").status_code == 405


def test_one_update_stamps_the_users_own_row_and_no_other(
    client: Client, user: User, outsider: User
) -> None:
    client.force_login(user)
    before = User.objects.get(pk=user.pk).last_login
    untouched = User.objects.get(pk=outsider.pk).last_login

    response = client.post("/bench/one-update/")

    assert response.status_code == 204
    assert User.objects.get(pk=user.pk).last_login > before
    assert User.objects.get(pk=outsider.pk).last_login == untouched


def test_one_update_writes_nothing_for_anyone_signed_out(client: Client, user: User) -> None:
    before = User.objects.get(pk=user.pk).last_login

    response = client.post("/bench/one-update/")

    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).last_login == before


def test_one_update_goes_through_the_csrf_check(user: User) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)

    assert strict.post("/bench/one-update/").status_code == 403


def test_one_update_refuses_a_get(client: Client, user: User) -> None:
    client.force_login(user)

    assert client.get("/bench/one-update/").status_code == 405


@override_settings(ROOT_URLCONF="config.urls")
def test_the_floors_are_not_served_outside_the_benchmark(client: Client, user: User) -> None:
    client.force_login(user)

    assert client.get("/bench/signed-in/").status_code == 404
    assert client.post("/bench/one-update/").status_code == 404
