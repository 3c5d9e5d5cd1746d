"""Chart geometry, without a database."""

import ast
import itertools
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scorecards import charts
from scorecards.charts import AxisLabel, ChartPoint


def test_charts_module_imports_no_django():
    tree = ast.parse(Path(charts.__file__).read_text())
    modules = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not any(name.startswith("django") for name in modules)


def test_line_chart_places_points_on_a_fixed_scale():
    chart = charts.line_chart(
        [Fraction(0), Fraction(50), Fraction(100)], ["d1", "d2", "d3"], title="Latency"
    )
    # Plot area: x from 48 to 308, y from 10 (100 %) to 124 (0 %).
    assert chart.points == (
        ChartPoint(48.0, 124.0, Fraction(0), "d1"),
        ChartPoint(178.0, 67.0, Fraction(50), "d2"),
        ChartPoint(308.0, 10.0, Fraction(100), "d3"),
    )
    assert chart.segments == ("48.0,124.0 178.0,67.0 308.0,10.0",)
    assert [(g.y_text, g.label) for g in chart.gridlines] == [
        ("124.0", "0 %"),
        ("95.5", ""),
        ("67.0", "50 %"),
        ("38.5", ""),
        ("10.0", "100 %"),
    ]
    assert chart.x_labels == (AxisLabel(48, "d1", "start"), AxisLabel(308, "d3", "end"))
    assert chart.view_box == "0 0 320 150"
    assert chart.title == "Latency"
    assert chart.description == (
        "3 sessions: from 0.0 % on d1 to 100.0 % on d3; lowest 0.0 %, highest 100.0 %."
    )


def test_line_chart_breaks_the_line_at_missing_values():
    chart = charts.line_chart([10, None, 20, 30, None, 40], list("abcdef"), title="t")
    assert [p.label for p in chart.points] == ["a", "c", "d", "f"]
    # "a" and "f" stand alone: dots without a line.
    assert len(chart.segments) == 1
    assert chart.segments[0].count(",") == 2


def test_line_chart_with_one_point_centres_it():
    chart = charts.line_chart([Fraction(125, 3)], ["2025-03-01"], title="t")
    assert chart.points[0].x == 178.0
    assert chart.segments == ()
    assert chart.x_labels == (AxisLabel(178.0, "2025-03-01", "middle"),)
    assert chart.description == "1 session: 41.7 % on 2025-03-01."


def test_line_chart_without_values():
    chart = charts.line_chart([None, None], ["a", "b"], title="t")
    assert chart.points == ()
    assert chart.segments == ()
    assert chart.description == "No scores yet."
    assert charts.line_chart([], [], title="t").x_labels == ()


def test_line_chart_needs_a_label_per_value():
    with pytest.raises(ValueError, match="one label per value"):
        charts.line_chart([1, 2], ["a"], title="t")


def test_scale_y_clamps_out_of_range_values():
    assert charts.scale_y(-5, 10, 124) == 124.0
    assert charts.scale_y(250, 10, 124) == 10.0


values = st.lists(
    st.one_of(
        st.none(),
        st.fractions(min_value=-50, max_value=200),
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    ),
    max_size=60,
)


@given(values=values, width=st.integers(min_value=80, max_value=2000))
def test_every_point_stays_inside_the_plot_area(values, width):
    labels = [f"s{i}" for i in range(len(values))]
    chart = charts.line_chart(values, labels, title="t", width=width)
    assert len(chart.points) == sum(v is not None for v in values)
    xs = [p.x for p in chart.points]
    assert xs == sorted(xs)
    for point in chart.points:
        assert chart.left <= point.x <= chart.right
        assert chart.top <= point.y <= chart.bottom
    for line in chart.gridlines:
        assert chart.top <= line.y <= chart.bottom


@given(st.lists(st.fractions(min_value=0, max_value=100), min_size=2, max_size=30))
def test_higher_scores_never_sit_lower(values):
    chart = charts.line_chart(values, [str(i) for i in range(len(values))], title="t")
    for a, b in itertools.combinations(chart.points, 2):
        if a.value == b.value:
            assert a.y == b.y
        elif a.value < b.value:
            assert a.y >= b.y  # equal only when the difference is below float precision


@given(st.lists(st.integers(min_value=0, max_value=100_000), min_size=2, max_size=30))
def test_digest_percentages_order_the_points_strictly(thousandths):
    # Digests store three decimals, far above float precision: distinct values, distinct heights.
    values = [Fraction(n, 1000) for n in thousandths]
    chart = charts.line_chart(values, [str(i) for i in range(len(values))], title="t")
    for a, b in itertools.combinations(chart.points, 2):
        assert (a.value < b.value) == (a.y > b.y)
