"""The profile page (time zone, e-mail address), the browser's one-time zone guess, and the
date-time field read in a member's zone."""

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.core.management import call_command
from django.urls import reverse

from accounts import profile_services
from accounts.profile import ViewerZone, all_zone_names, format_moment, viewer_zone, zones_of
from accounts.profile_forms import LocalDateTimeField
from accounts.profile_models import Profile
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_profile_page_sets_the_zone(client, user):
    client.force_login(user)
    response = client.get(reverse("profile:edit"))
    assert response.status_code == 200
    assert "You have not chosen a time zone yet" in response.content.decode()
    response = client.post(
        reverse("profile:edit"), {"time_zone": "Asia/Kolkata", "email": user.email}
    )
    assert response.status_code == 302
    assert viewer_zone(user).name == "Asia/Kolkata"
    assert "Times are shown in <strong>Asia/Kolkata</strong>" in (
        client.get(reverse("profile:edit")).content.decode()
    )


def test_profile_refuses_an_unknown_zone_and_saves_nothing(client, user):
    profile_services.set_time_zone(user=user, time_zone="Europe/Paris")
    client.force_login(user)
    response = client.post(
        reverse("profile:edit"),
        {
            "time_zone": "Mars/Olympus_Mons",
            "email": "new@example.org",
            "current_password": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "“Mars/Olympus_Mons” is not a time zone Spar knows" in response.content.decode()
    user.refresh_from_db()
    assert (viewer_zone(user).name, user.email) == ("Europe/Paris", "member@example.org")


def test_changing_the_email_needs_the_password_and_keeps_the_zone_unsaved(client, user):
    client.force_login(user)
    response = client.post(
        reverse("profile:edit"),
        {"time_zone": "Europe/Rome", "email": "thief@example.org", "current_password": "wrong"},
    )
    assert response.status_code == 400
    assert "Enter your current password" in response.content.decode()
    user.refresh_from_db()
    assert user.email == "member@example.org"
    assert not Profile.objects.filter(user=user).exists()
    response = client.post(
        reverse("profile:edit"),
        {"time_zone": "Europe/Rome", "email": "me@example.org", "current_password": PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.email, viewer_zone(user).name) == ("me@example.org", "Europe/Rome")


def test_profile_says_clearly_when_there_is_no_email(client):
    user = UserFactory(username="nomail", email="")
    client.force_login(user)
    html = client.get(reverse("profile:edit")).content.decode()
    assert "You have no e-mail address." in html
    assert "cannot send you reminders" in html


def test_profile_needs_login(client):
    response = client.get(reverse("profile:edit"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_browser_guess_is_kept_once_and_never_replaces_a_zone(client, user):
    client.force_login(user)
    url = reverse("profile:guess_zone")
    assert client.post(url, {"time_zone": "America/Chicago"}).status_code == 204
    assert viewer_zone(user) == ViewerZone("America/Chicago", is_set=True, guessed=True)
    # A second guess (a laptop that travelled) changes nothing.
    assert client.post(url, {"time_zone": "Asia/Tokyo"}).status_code == 204
    assert viewer_zone(user).name == "America/Chicago"
    profile_services.set_time_zone(user=user, time_zone="Europe/Oslo")
    assert client.post(url, {"time_zone": "Asia/Tokyo"}).status_code == 204
    zone = viewer_zone(user)
    assert (zone.name, zone.guessed) == ("Europe/Oslo", False)


@pytest.mark.parametrize("value", ["", "Nowhere/Land", "../../etc/passwd", "x" * 500])
def test_browser_guess_refuses_what_is_not_a_zone(client, user, value):
    client.force_login(user)
    response = client.post(reverse("profile:guess_zone"), {"time_zone": value})
    assert response.status_code == 400
    assert not Profile.objects.filter(user=user).exists()


def test_zone_guess_script_only_for_members_without_a_zone(client, user):
    call_command("load_rubric", stdout=io.StringIO())  # the new-session page needs one
    client.force_login(user)
    guess = "data-zone-guess"
    page = reverse("interviews:create")
    html = client.get(page).content.decode()
    assert guess in html
    assert "js/timezone.js" in html
    profile_services.set_time_zone(user=user, time_zone="Europe/Oslo")
    html = client.get(page).content.decode()
    assert guess not in html
    assert "js/timezone.js" not in html


def test_viewer_zone_falls_back_to_the_site_zone(settings, user):
    settings.TIME_ZONE = "UTC"
    zone = viewer_zone(user)
    assert (zone.name, zone.is_set) == ("UTC", False)


def test_zones_of_reads_several_members_in_one_query(django_assert_num_queries):
    people = [UserFactory() for _ in range(3)]
    profile_services.set_time_zone(user=people[0], time_zone="Africa/Lagos")
    with django_assert_num_queries(1):
        zones = zones_of(people)
    assert [zones[p.pk].name for p in people] == ["Africa/Lagos", "UTC", "UTC"]


def test_format_moment_names_the_zone():
    moment = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    assert format_moment(moment, ViewerZone("Europe/Berlin", True)) == (
        "Wed 1 Jul 2026, 14:30 (Europe/Berlin)"
    )
    assert format_moment(moment, ViewerZone("UTC", False)) == "Wed 1 Jul 2026, 12:30 (UTC)"


def test_zone_list_reads_as_places():
    names = all_zone_names()
    assert {"Europe/Berlin", "UTC"} <= set(names)
    assert not [n for n in names if n.startswith(("Etc/", "US/"))]
    assert list(names) == sorted(names)


class _WhenForm(forms.Form):
    def __init__(self, *args, zone, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["when"] = LocalDateTimeField()
        self.fields["when"].zone = zone


def test_local_datetime_field_reads_and_shows_the_members_zone():
    form = _WhenForm({"when": "2026-07-01T14:30"}, zone=ZoneInfo("Europe/Berlin"))
    assert form.is_valid()
    assert form.cleaned_data["when"] == datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    shown = _WhenForm(
        initial={"when": datetime(2026, 7, 1, 12, 30, tzinfo=UTC)},
        zone=ZoneInfo("America/New_York"),
    )
    assert 'value="2026-07-01T08:30"' in str(shown["when"])


def test_local_datetime_field_refuses_a_time_skipped_by_the_clock_change():
    form = _WhenForm({"when": "2026-03-29T02:30"}, zone=ZoneInfo("Europe/Berlin"))
    assert not form.is_valid()
    assert "Europe/Berlin" in form.errors["when"][0]
