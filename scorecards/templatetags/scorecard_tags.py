"""Small display filters for the scorecard templates."""

from fractions import Fraction

from django import template

from interviews.room import dom_id
from rubrics.scoring import decimal_text

register = template.Library()


@register.filter
def points(value: Fraction | int) -> str:
    """Points exactly, as the scoring rules give them: "2.25", "3"."""
    return decimal_text(Fraction(value))


@register.filter
def item_dom_id(key: str) -> str:
    """The id of an item's row on the scorecard, for links to it."""
    return dom_id(key)
