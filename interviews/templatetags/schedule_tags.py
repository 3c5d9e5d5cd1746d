"""`{% schedule_block as schedule %}`: the room's call-link and time block for the viewer.

A tag rather than a key in the room view's context, so the block stays one include line in
room.html and the room's view and layout can change without it.
"""

from typing import Any

from django import template
from django.utils import timezone

from interviews.schedule import ScheduleBlock

register = template.Library()


@register.simple_tag(takes_context=True)
def schedule_block(context: dict[str, Any]) -> ScheduleBlock:
    return ScheduleBlock(context["session"], context["role"], context["user"], timezone.now())
