"""Reads of members' time zones, and how a moment is written for a viewer in their zone.

Pages that show times read the viewer's zone once (one small query) instead of a middleware
doing it on every request: the room's poll must stay at three queries.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User

from accounts.profile_models import Profile


@lru_cache(maxsize=1)
def all_zone_names() -> tuple[str, ...]:
    """The IANA zones a member may choose: Area/City names and UTC, sorted. Legacy aliases
    ("US/Eastern", "EST5EDT") are left out so the list reads as places."""
    names = {
        name
        for name in available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/"))
    }
    return tuple(sorted(names | {"UTC"}))


def is_known_zone(name: str) -> bool:
    return name in all_zone_names()


@dataclass(frozen=True)
class ViewerZone:
    """The zone times are shown in for one member, and where it came from."""

    name: str
    is_set: bool  # False: the member has no zone yet, and times fall back to the site's zone
    guessed: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.name)


def _fallback() -> ViewerZone:
    return ViewerZone(settings.TIME_ZONE, is_set=False)


def viewer_zone(user: User | AnonymousUser) -> ViewerZone:
    """The member's zone, or the site's zone (settings.TIME_ZONE) while they have none."""
    if not user.is_authenticated:
        return _fallback()
    row = Profile.objects.filter(user_id=user.pk).values_list("time_zone", "zone_guessed").first()
    if row is None or not is_known_zone(row[0]):
        return _fallback()
    return ViewerZone(row[0], is_set=True, guessed=row[1])


def zones_of(users: Iterable[User]) -> dict[int, ViewerZone]:
    """Several members' zones in one query (reminder mails), keyed by user id."""
    ids = [user.pk for user in users]
    rows = dict(Profile.objects.filter(user_id__in=ids).values_list("user_id", "time_zone"))
    return {
        pk: ViewerZone(rows[pk], is_set=True) if is_known_zone(rows.get(pk, "")) else _fallback()
        for pk in ids
    }


def format_moment(moment: datetime, zone: ViewerZone) -> str:
    """A moment in the viewer's zone, with the zone named: "Tue 3 Mar 2026, 14:00 (Europe/Berlin)".

    Day, month name and 24-hour clock read the same in every locale; the zone's name, not its
    abbreviation, because "CST" means three different zones."""
    local = moment.astimezone(zone.zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({zone.name})"
