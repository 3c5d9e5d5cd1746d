"""Geometry for the server-rendered SVG bar charts; the templates draw what this computes.

Pure Python. The CSP forbids inline styles, so a chart is positioned with SVG presentation
attributes (x, y, width, height) only and coloured by classes in static/css/scorecard.css.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from rubrics import scoring

WIDTH = 640
LABEL_WIDTH = 190  # room for the longest category name, "Class imbalance", at the chart's size
BAR_X = LABEL_WIDTH + 10
BAR_SPACE = 360  # 100 % is this wide
VALUE_X = BAR_X + BAR_SPACE + 10
ROW_HEIGHT = 28
BAR_HEIGHT = 18
TOP = 24  # room for the axis labels


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: str  # "72.5 %", or "—" for a group with no expected items
    y: int
    width: str
    text_y: int


@dataclass(frozen=True, slots=True)
class Tick:
    x: str
    label: str


@dataclass(frozen=True, slots=True)
class BarChart:
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    width: int
    height: int
    bar_x: int
    bar_space: int
    bar_height: int
    value_x: int
    label_x: int
    axis_bottom: int


def bar_chart(rows: Sequence[tuple[str, Fraction | None]]) -> BarChart:
    """One horizontal bar per (label, percent) row, 0–100 % on a common scale."""
    bars = tuple(
        Bar(
            label=label,
            value=scoring.NO_PERCENT if percent is None else f"{scoring.format_percent(percent)} %",
            y=TOP + index * ROW_HEIGHT,
            width=_number(BAR_SPACE * (percent or Fraction(0)) / 100),
            text_y=TOP + index * ROW_HEIGHT + BAR_HEIGHT - 4,
        )
        for index, (label, percent) in enumerate(rows)
    )
    ticks = tuple(Tick(x=_number(BAR_X + BAR_SPACE * p / 100), label=str(p)) for p in (0, 50, 100))
    height = TOP + len(bars) * ROW_HEIGHT
    return BarChart(
        bars=bars,
        ticks=ticks,
        width=WIDTH,
        height=height,
        bar_x=BAR_X,
        bar_space=BAR_SPACE,
        bar_height=BAR_HEIGHT,
        value_x=VALUE_X,
        label_x=LABEL_WIDTH,
        axis_bottom=height,
    )


def _number(value: Fraction | int) -> str:
    # One decimal is finer than a pixel at any size the chart is drawn.
    return scoring.format_percent(Fraction(value))
