"""The group progress page's maths: pure Python, no Django import.

Each member sharing their progress counts once in the group's average for a concept (the mean
of the members' own averages), so one member with many sessions does not outweigh the others.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from rubrics.scoring import decimal_text
from scorecards.stats import Average

CASE_LIMIT = 5


def group_average(member_averages: Iterable[Average | None]) -> Average | None:
    """The mean of the members' averages; `count` is the number of members who have one."""
    means = [average.mean for average in member_averages if average is not None]
    if not means:
        return None
    return Average(sum(means, Fraction(0)) / len(means), len(means))


def change(series: Sequence[Fraction | None]) -> Fraction | None:
    """Latest score minus first, over the sessions with a score; None below two of them."""
    scores = [value for value in series if value is not None]
    if len(scores) < 2:
        return None
    return scores[-1] - scores[0]


def latest(series: Sequence[Fraction | None]) -> Fraction | None:
    return next((value for value in reversed(series) if value is not None), None)


def week_of(day: date) -> date:
    """The Monday that starts the day's week."""
    return day - timedelta(days=day.weekday())


def recent_weeks(today: date, count: int) -> list[date]:
    """The Mondays of the last `count` weeks, this one included, oldest first."""
    this_week = week_of(today)
    return [this_week - timedelta(weeks=n) for n in range(count - 1, -1, -1)]


def per_week(days: Iterable[date], weeks: Sequence[date]) -> list[int]:
    """How many of the days fall in each of the weeks."""
    counts = Counter(week_of(day) for day in days)
    return [counts[week] for week in weeks]


@dataclass(frozen=True, slots=True)
class CaseCount:
    title: str
    count: int


def case_counts(
    practised: Iterable[str], titles: Iterable[str], limit: int = CASE_LIMIT
) -> tuple[list[CaseCount], list[CaseCount]]:
    """The most and the least practised of the published cases (titles), by how often their
    titles appear in `practised`; ties by title. The least include cases nobody practised."""
    counts = Counter(practised)
    every = [CaseCount(title, counts[title]) for title in sorted(set(titles))]
    most = sorted((c for c in every if c.count), key=lambda c: (-c.count, c.title))[:limit]
    least = sorted(every, key=lambda c: (c.count, c.title))[:limit]
    return most, least


def percent_points(value: Fraction | None) -> str:
    """A change in percentage points with its sign: "+12", "−3", "0"; "—" for none."""
    if value is None:
        return "—"
    size = decimal_text(abs(value), 0)  # Spar's one rounding, on the size: halves away from zero
    if size == "0":
        return "0"
    return f"+{size}" if value > 0 else f"−{size}"


def by_member[K, T](rows: Iterable[tuple[K, T]]) -> Mapping[K, list[T]]:
    grouped: dict[K, list[T]] = {}
    for member, value in rows:
        grouped.setdefault(member, []).append(value)
    return grouped
