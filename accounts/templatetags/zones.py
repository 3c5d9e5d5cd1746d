"""`{{ moment|in_zone:zone }}`: a moment written in a viewer's zone, with the zone named."""

from datetime import UTC, datetime

from django import template

from accounts.profile import ViewerZone, format_moment

register = template.Library()


@register.filter(name="in_zone")
def in_zone(moment: datetime | None, zone: ViewerZone) -> str:
    return format_moment(moment, zone) if moment is not None else ""


@register.filter(name="machine_time")
def machine_time(moment: datetime | None) -> str:
    """For <time datetime="…">: UTC to the second, a form every HTML checker accepts."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else ""
