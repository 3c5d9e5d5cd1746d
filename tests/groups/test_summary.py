"""groups/summary.py: the group progress maths, without a database."""

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groups import summary
from scorecards.stats import Average

PERCENT = st.fractions(min_value=0, max_value=100, max_denominator=1000)


def test_group_average_counts_each_member_once():
    averages = [Average(Fraction(20), 10), None, Average(Fraction(80), 1)]
    assert summary.group_average(averages) == Average(Fraction(50), 2)
    assert summary.group_average([None, None]) is None


@given(st.lists(PERCENT, min_size=1, max_size=20))
def test_group_average_lies_between_the_members(means):
    result = summary.group_average(Average(m, 1) for m in means)
    assert min(means) <= result.mean <= max(means)
    assert result.count == len(means)


def test_change_and_latest_skip_sessions_without_a_score():
    series = [None, Fraction(40), None, Fraction(65), None]
    assert summary.change(series) == Fraction(25)
    assert summary.latest(series) == Fraction(65)
    assert summary.change([Fraction(40), None]) is None
    assert summary.latest([None]) is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        (Fraction(0), "0"),
        (Fraction(1, 3), "0"),
        (Fraction(1, 2), "+1"),
        (Fraction(-1, 2), "−1"),
        (Fraction(25), "+25"),
        (Fraction(-149, 10), "−15"),
    ],
)
def test_percent_points(value, shown):
    assert summary.percent_points(value) == shown


def test_weeks_start_on_monday_and_count_back():
    thursday = date(2026, 3, 5)
    assert summary.week_of(thursday) == date(2026, 3, 2)
    assert summary.recent_weeks(thursday, 3) == [
        date(2026, 2, 16),
        date(2026, 2, 23),
        date(2026, 3, 2),
    ]
    days = [date(2026, 2, 16), date(2026, 2, 22), date(2026, 3, 8), date(2026, 1, 1)]
    assert summary.per_week(days, summary.recent_weeks(thursday, 3)) == [2, 0, 1]


def test_case_counts_most_and_least_with_ties_by_title():
    practised = ["B", "A", "B", "C", "Not published"]
    most, least = summary.case_counts(practised, ["A", "B", "C", "D", "E"], limit=3)
    assert most == [summary.CaseCount("B", 2), summary.CaseCount("A", 1), summary.CaseCount("C", 1)]
    assert least == [
        summary.CaseCount("D", 0),
        summary.CaseCount("E", 0),
        summary.CaseCount("A", 1),
    ]


def test_by_member_groups_in_order():
    assert summary.by_member([(1, "a"), (2, "b"), (1, "c")]) == {1: ["a", "c"], 2: ["b"]}
