"""Geometry for the server-rendered SVG charts: the scorecard's bars and the progress page's lines.

Pure Python, no Django import; the templates draw what this computes. The CSP forbids inline
styles, so a chart is positioned with SVG presentation attributes only and coloured by classes in
the static CSS. Coordinates are pre-formatted with a dot as the decimal separator, because SVG needs
one whatever the page's locale.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from rubrics import scoring

# --- bar charts (the scorecard's categories) ---------------------------------------------------
BAR_CHART_WIDTH = 640
LABEL_WIDTH = 190  # room for the longest category name, "Class imbalance", at the chart's size
BAR_X = LABEL_WIDTH + 10
BAR_SPACE = 360  # 100 % is this wide
VALUE_X = BAR_X + BAR_SPACE + 10
ROW_HEIGHT = 28
BAR_HEIGHT = 18
BAR_TOP = 24  # room for the axis labels


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
            y=BAR_TOP + index * ROW_HEIGHT,
            width=_number(BAR_SPACE * (percent or Fraction(0)) / 100),
            text_y=BAR_TOP + index * ROW_HEIGHT + BAR_HEIGHT - 4,
        )
        for index, (label, percent) in enumerate(rows)
    )
    ticks = tuple(Tick(x=_number(BAR_X + BAR_SPACE * p / 100), label=str(p)) for p in (0, 50, 100))
    height = BAR_TOP + len(bars) * ROW_HEIGHT
    return BarChart(
        bars=bars,
        ticks=ticks,
        width=BAR_CHART_WIDTH,
        height=height,
        bar_x=BAR_X,
        bar_space=BAR_SPACE,
        bar_height=BAR_HEIGHT,
        value_x=VALUE_X,
        label_x=LABEL_WIDTH,
        axis_bottom=height,
    )


def _number(value: Fraction | float) -> str:
    # One decimal is finer than a pixel at any size the chart is drawn.
    return scoring.format_percent(Fraction(value))


# --- line charts (the progress page's trends) --------------------------------------------------
#
# A chart plots percentages (0 to 100) of successive sessions, evenly spaced left to right, on a
# fixed 0–100 scale, so that charts side by side compare at a glance.
LINE_WIDTH = 320
LINE_HEIGHT = 150
LINE_LEFT = 48  # room for the y-axis labels
LINE_RIGHT = 12
LINE_TOP = 10
LINE_BOTTOM = 26  # room for the x-axis labels
GRID_VALUES = (0, 25, 50, 75, 100)
LABELLED_GRID_VALUES = (0, 50, 100)


def _fmt(number: float) -> str:
    return f"{number:.1f}"


@dataclass(frozen=True, slots=True)
class Gridline:
    y: float
    label: str  # empty for an unlabelled line

    @property
    def y_text(self) -> str:
        return _fmt(self.y)


@dataclass(frozen=True, slots=True)
class ChartPoint:
    x: float
    y: float
    value: Fraction
    label: str

    @property
    def x_text(self) -> str:
        return _fmt(self.x)

    @property
    def y_text(self) -> str:
        return _fmt(self.y)


@dataclass(frozen=True, slots=True)
class AxisLabel:
    x: float
    text: str
    anchor: str  # SVG text-anchor: start, middle or end

    @property
    def x_text(self) -> str:
        return _fmt(self.x)


@dataclass(frozen=True, slots=True)
class LineChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    gridlines: tuple[Gridline, ...]
    points: tuple[ChartPoint, ...]
    segments: tuple[str, ...]  # polyline "x,y x,y …" for each unbroken run of two or more points
    x_labels: tuple[AxisLabel, ...]
    title: str
    description: str

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def left_text(self) -> str:
        return _fmt(self.left)

    @property
    def right_text(self) -> str:
        return _fmt(self.right)

    @property
    def label_y_text(self) -> str:
        return _fmt(self.height - 6)

    @property
    def axis_label_x_text(self) -> str:
        return _fmt(self.left - 6)


def scale_x(index: int, count: int, left: float, right: float) -> float:
    """The x of the index-th of count points spread over [left, right]; one point is centred."""
    if count <= 1:
        return (left + right) / 2
    return left + (right - left) * index / (count - 1)


def scale_y(value: Fraction | float, top: float, bottom: float) -> float:
    """The y of a percentage on a 0–100 scale (100 at the top); out-of-range values are clamped."""
    clamped = min(max(Fraction(value), Fraction(0)), Fraction(100))
    return float(bottom - (bottom - top) * clamped / 100)


def line_chart(
    values: Sequence[Fraction | float | None],
    labels: Sequence[str],
    *,
    title: str,
    width: int = LINE_WIDTH,
    height: int = LINE_HEIGHT,
) -> LineChart:
    """A chart of values (None: no score in that session, a gap in the line) labelled by labels."""
    if len(values) != len(labels):
        raise ValueError("A chart needs one label per value.")
    left, right, top, bottom = LINE_LEFT, width - LINE_RIGHT, LINE_TOP, height - LINE_BOTTOM
    count = len(values)
    points: list[ChartPoint] = []
    segments: list[str] = []
    run: list[ChartPoint] = []
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        if value is None:
            segments += _segment(run)
            run = []
            continue
        point = ChartPoint(
            scale_x(index, count, left, right),
            scale_y(value, top, bottom),
            Fraction(value),
            label,
        )
        points.append(point)
        run.append(point)
    segments += _segment(run)
    gridlines = tuple(
        Gridline(scale_y(v, top, bottom), f"{v} %" if v in LABELLED_GRID_VALUES else "")
        for v in GRID_VALUES
    )
    return LineChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        gridlines=gridlines,
        points=tuple(points),
        segments=tuple(segments),
        x_labels=_x_labels(labels, left, right),
        title=title,
        description=describe(values, labels),
    )


def _segment(run: list[ChartPoint]) -> list[str]:
    # A lone point has no line; its dot is drawn from `points`.
    if len(run) < 2:
        return []
    return [" ".join(f"{p.x_text},{p.y_text}" for p in run)]


def _x_labels(labels: Sequence[str], left: float, right: float) -> tuple[AxisLabel, ...]:
    # Only the first and the last label fit under a small chart; the data table has them all.
    if not labels:
        return ()
    if len(labels) == 1:
        return (AxisLabel((left + right) / 2, labels[0], "middle"),)
    return (AxisLabel(left, labels[0], "start"), AxisLabel(right, labels[-1], "end"))


def describe(values: Sequence[Fraction | float | None], labels: Sequence[str]) -> str:
    """The chart in one sentence, for its <desc>: what a sighted reader takes from the line."""
    scored = [
        (Fraction(v), label) for v, label in zip(values, labels, strict=True) if v is not None
    ]
    if not scored:
        return "No scores yet."
    first, last = scored[0], scored[-1]
    if len(scored) == 1:
        return f"1 session: {scoring.format_percent(first[0])} % on {first[1]}."
    low = min(value for value, _ in scored)
    high = max(value for value, _ in scored)
    shown = scoring.format_percent
    return (
        f"{len(scored)} sessions: from {shown(first[0])} % on {first[1]} "
        f"to {shown(last[0])} % on {last[1]}; lowest {shown(low)} %, highest {shown(high)} %."
    )
