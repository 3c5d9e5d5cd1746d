"""The only writes of members' profiles (time zone) and of their e-mail address from the profile
page."""

from django.contrib.auth.models import User
from django.db import transaction

from accounts.profile import is_known_zone
from accounts.profile_models import Profile


class ProfileError(Exception):
    """A value the profile cannot take; the message is shown to the member."""


def _check_zone(name: str) -> None:
    if not is_known_zone(name):
        raise ProfileError(f"“{name}” is not a time zone Spar knows. Choose one from the list.")


@transaction.atomic
def set_time_zone(*, user: User, time_zone: str) -> Profile:
    """The member's own choice; it replaces any guess."""
    _check_zone(time_zone)
    profile, _ = Profile.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone, "zone_guessed": False}
    )
    return profile


@transaction.atomic
def guess_time_zone(*, user: User, time_zone: str) -> bool:
    """Store the browser's zone unless the member already has one; True when it was stored.

    The browser guesses once: a zone the member chose (or an earlier guess) is never overwritten
    by a laptop that travelled, so the conditional UPDATE only touches an empty zone.
    """
    _check_zone(time_zone)
    profile, created = Profile.objects.get_or_create(
        user=user, defaults={"time_zone": time_zone, "zone_guessed": True}
    )
    if created:
        return True
    updated = Profile.objects.filter(pk=profile.pk, time_zone="").update(
        time_zone=time_zone, zone_guessed=True
    )
    return bool(updated)


@transaction.atomic
def set_email(*, user: User, email: str) -> User:
    """The address reminders (and password resets) go to; empty removes it."""
    user.email = email
    user.save(update_fields=["email"])
    return user
