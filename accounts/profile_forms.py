"""The profile page's form, the browser's zone guess, and a date-time field read in a member's
own zone (used by every form that asks for a time: scheduling, group slots)."""

from datetime import datetime, timedelta, tzinfo
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from accounts.profile import all_zone_names

UNKNOWN_ZONE = "“%(value)s” is not a time zone Spar knows. Choose one from the list."
# How far ahead a time may be booked: further out is almost always a typo in the year.
LATEST_AHEAD = timedelta(days=366)


class ZoneField(forms.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid_choice": UNKNOWN_ZONE})
        super().__init__(choices=[(name, name) for name in all_zone_names()], **kwargs)


class ProfileForm(forms.Form):
    time_zone = ZoneField(
        label="Time zone",
        help_text="Every time in Spar is shown in this zone, with its name.",
    )
    email = forms.EmailField(
        required=False,
        label="E-mail address",
        help_text="Reminders before scheduled sessions and password resets go here.",
    )
    current_password = forms.CharField(
        required=False,
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Needed only to change the e-mail address.",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        return email.strip()

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        email = cleaned.get("email")
        # The address decides where password resets go: someone at an unlocked screen must not
        # be able to redirect them without the password.
        changed = email is not None and email != self.user.email
        if changed and not self.user.check_password(cleaned.get("current_password") or ""):
            self.add_error(
                "current_password", "Enter your current password to change the e-mail address."
            )
        return cleaned

    @property
    def email_changed(self) -> bool:
        email: str = self.cleaned_data["email"]
        return email != self.user.email


class GuessZoneForm(forms.Form):
    """The browser's zone (Intl's resolvedOptions().timeZone), sent once by timezone.js."""

    time_zone = ZoneField()


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed in the member's own zone (an <input type="datetime-local">).

    Django reads a date-time without a zone in the active zone; this field reads it in `zone`,
    set by the form, and refuses a time that does not exist there (the hour skipped when clocks
    go forward) with a message naming the zone.
    """

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.zone: tzinfo = timezone.get_default_timezone()

    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(self.zone):
            return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        with timezone.override(self.zone):
            return super().prepare_value(value)


def check_future(moment: datetime, *, now: datetime | None = None) -> datetime:
    """A start time must lie ahead, and within a year."""
    now = now or timezone.now()
    if moment <= now:
        raise forms.ValidationError("That time has already passed. Choose a time in the future.")
    if moment > now + LATEST_AHEAD:
        raise forms.ValidationError("Choose a time within the next twelve months.")
    return moment
