"""Template helpers available in every template (registered as a builtin in settings)."""

from django import template
from django.utils.safestring import SafeString

from core.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str | None) -> SafeString:
    """User and author text becomes HTML only through this filter (see core/markdown.py)."""
    return render_markdown(text or "")
