"""The digest of a finished session's result (Session.result): written and read only here.

Pure Python, no Django import. The progress page reads one digest per session instead of
re-scoring every session on every view. Percentages are stored as exact fractions ("145/2"), so
that what the progress page shows is rounded once, from the exact value, exactly as the scorecard
rounds it; digests written before that held three-place decimals ("72.650"), which still read.

Reading never raises: a digest edited by hand (the admin shows it read-only, but a database is
a database) loses only the parts that do not parse.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from rubrics import scoring


@dataclass(frozen=True, slots=True)
class StepTime:
    number: int
    elapsed_seconds: float
    budget_minutes: int

    @property
    def overrun_seconds(self) -> int:
        return max(0, round(self.elapsed_seconds - self.budget_minutes * 60))


@dataclass(frozen=True, slots=True)
class Digest:
    total: Fraction | None = None
    band: str = ""
    capped: bool = False
    steps: dict[int, Fraction | None] = field(default_factory=dict)
    categories: dict[str, Fraction | None] = field(default_factory=dict)
    missed: tuple[str, ...] = ()
    red_flags: tuple[str, ...] = ()
    titles: dict[str, str] = field(default_factory=dict)
    overrun_seconds: dict[int, int] = field(default_factory=dict)


def _exact(percent: Fraction | None) -> str | None:
    return None if percent is None else str(percent)


def write_digest(card: scoring.Scorecard, steps: Iterable[StepTime]) -> dict[str, object]:
    """The plain-data digest of a scorecard and the steps' times, for Session.result."""
    return {
        "total": _exact(card.total.percent),
        "band": card.band.value,
        "capped": card.capped,
        "steps": {str(number): _exact(score.percent) for number, score in card.steps.items()},
        "categories": {slug: _exact(score.percent) for slug, score in card.categories.items()},
        # Items that do not apply, and stretch items, are never a loss: not "missed" either.
        "missed": [
            line.item.key
            for line in card.lines
            if line.item.kind is scoring.Kind.EXPECTED
            and not line.earned
            and not line.not_applicable
            and not line.stretch
        ],
        "red_flags": [line.item.key for line in card.lines if line.deducted],
        "titles": {line.item.key: line.item.title for line in card.lines},
        "overrun_seconds": {str(step.number): step.overrun_seconds for step in steps},
    }


def _percent(value: object) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    try:
        percent = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None
    return percent if 0 <= percent <= 100 else None


def _mapping(value: object) -> Mapping[object, object]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def read_digest(result: object) -> Digest:
    """The digest stored on a session; an empty Digest for None or anything malformed."""
    data = _mapping(result)
    steps = {}
    for number, value in _mapping(data.get("steps")).items():
        step = _int(number)
        if step is not None:
            steps[step] = _percent(value)
    overruns = {}
    for number, value in _mapping(data.get("overrun_seconds")).items():
        step, seconds = _int(number), _int(value)
        if step is not None and seconds is not None:
            overruns[step] = max(0, seconds)
    band = data.get("band")
    return Digest(
        total=_percent(data.get("total")),
        band=band if isinstance(band, str) else "",
        capped=data.get("capped") is True,
        steps=steps,
        categories={
            slug: _percent(value)
            for slug, value in _mapping(data.get("categories")).items()
            if isinstance(slug, str)
        },
        missed=_strings(data.get("missed")),
        red_flags=_strings(data.get("red_flags")),
        titles={
            key: title
            for key, title in _mapping(data.get("titles")).items()
            if isinstance(key, str) and isinstance(title, str)
        },
        overrun_seconds=overruns,
    )
