"""Score display for every template (registered as a builtin in settings): one way to show a
percentage, rounded once from the exact value."""

from decimal import Decimal
from fractions import Fraction

from django import template

from rubrics import scoring

register = template.Library()


@register.filter
def percent(value: scoring.Score | Fraction | Decimal | int | None) -> str:
    """ "72.5 %" from a Score or an exact percentage; "—" when there is nothing to score."""
    if isinstance(value, scoring.Score):
        value = value.percent
    if value is None:
        return scoring.NO_PERCENT
    return f"{scoring.format_percent(Fraction(value))} %"
