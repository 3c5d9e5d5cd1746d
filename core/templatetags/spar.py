"""Template helpers available in every template (registered as a builtin in settings)."""

from django import template
from django.utils.safestring import SafeString

from core.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str | None) -> SafeString:
    """User and author text becomes HTML only through this filter (see core/markdown.py)."""
    return render_markdown(text or "")


@register.filter(name="clock")
def clock(seconds: int | float | None) -> str:
    """Seconds as m:ss (or h:mm:ss), for timers."""
    total = max(0, int(seconds or 0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
