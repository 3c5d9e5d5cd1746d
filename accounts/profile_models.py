"""A member's own settings beyond Django's User: the time zone every time is shown in.

Kept apart from accounts/models.py (which imports it, so Django finds the model) so that this
file and the sign-in and mail-limit models can change independently.
"""

from django.conf import settings
from django.db import models

ZONE_NAME_LIMIT = 64  # the longest IANA name is 32 characters; room for future ones


class Profile(models.Model):
    """Written only by accounts.profile_services; a member without a row has no zone yet."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    # An IANA zone name ("Europe/Berlin"); empty until the browser's guess or the member sets it.
    time_zone = models.CharField(max_length=ZONE_NAME_LIMIT, blank=True)
    # True while the zone is the browser's guess, so the profile page can say where it came from.
    zone_guessed = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.user} ({self.time_zone or 'no time zone'})"
