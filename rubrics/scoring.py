"""The scoring maths: checklist marks in, a scorecard where every point is traceable out.

Pure Python on purpose, with no Django import (tests/rubrics/test_scoring.py enforces it): the rules
are product rules, so they must be readable and testable without a database. Arithmetic is exact
(fractions.Fraction); only `format_percent` rounds, and only for display.
"""

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

FIRST_STEP = 1
LAST_STEP = 7
NO_PERCENT = "—"


class Kind(enum.StrEnum):
    EXPECTED = "expected"
    RED_FLAG = "red_flag"


class Mark(enum.StrEnum):
    COVERED = "covered"
    PARTIAL = "partial"
    MISSED = "missed"
    OBSERVED = "observed"
    # The item does not fit this case or this conversation; it leaves the score altogether.
    NOT_APPLICABLE = "not_applicable"


class Level(enum.StrEnum):
    """The lowest seniority at which an item is expected: core items of everyone, senior items of
    senior and staff candidates, staff items of staff candidates only."""

    CORE = "core"
    SENIOR = "senior"
    STAFF = "staff"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def rank(self) -> int:
        """0 for core up to 2 for staff; compare levels by rank, never by value."""
        return _LEVEL_RANKS[self]


_LEVEL_RANKS = {Level.CORE: 0, Level.SENIOR: 1, Level.STAFF: 2}


class Band(enum.StrEnum):
    STRONG_HIRE = "strong_hire"
    HIRE = "hire"
    LEAN_NO_HIRE = "lean_no_hire"
    NO_HIRE = "no_hire"

    @property
    def label(self) -> str:
        """The band as a person reads it: "Strong hire", "Hire", "Lean no hire", "No hire"."""
        return _BAND_LABELS[self]

    @property
    def rank(self) -> int:
        """0 for no hire up to 3 for strong hire; compare bands by rank, never by value."""
        return _BAND_RANKS[self]


_BAND_LABELS = {
    Band.STRONG_HIRE: "Strong hire",
    Band.HIRE: "Hire",
    Band.LEAN_NO_HIRE: "Lean no hire",
    Band.NO_HIRE: "No hire",
}
_BAND_RANKS = {Band.NO_HIRE: 0, Band.LEAN_NO_HIRE: 1, Band.HIRE: 2, Band.STRONG_HIRE: 3}

# A missed required item caps the band here, whatever the total.
CAP_BAND = Band.LEAN_NO_HIRE

_SHARES = {Mark.COVERED: Fraction(1), Mark.PARTIAL: Fraction(1, 2), Mark.MISSED: Fraction(0)}
_HINT_FACTOR = Fraction(1, 2)
_ZERO = Fraction(0)
_SHARE_GLYPHS = {Fraction(1, 2): "½", Fraction(1, 4): "¼"}


@dataclass(frozen=True, slots=True)
class Item:
    """One checklist item. `key` is its stable identity; marks refer to items by key."""

    key: str
    step: int
    title: str
    points: int
    kind: Kind = Kind.EXPECTED
    # Only meaningful on expected items: a red flag is never "missed", so it cannot cap the band.
    required: bool = False
    categories: tuple[str, ...] = ()
    level: Level = Level.CORE

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("An item needs a non-empty key.")
        if not FIRST_STEP <= self.step <= LAST_STEP:
            raise ValueError(f"Item {self.key!r}: step {self.step} is not in 1..7.")
        if isinstance(self.points, bool) or not isinstance(self.points, int) or self.points < 1:
            raise ValueError(f"Item {self.key!r}: points must be a whole number ≥ 1.")
        # Callers pass model values (plain strings, lists); store the domain types.
        object.__setattr__(self, "kind", Kind(self.kind))
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "level", Level(self.level))


@dataclass(frozen=True, slots=True)
class ItemMark:
    """The interviewer's mark on one item; `mark=None` means not marked yet."""

    mark: Mark | None
    after_hint: bool = False

    def __post_init__(self) -> None:
        if self.mark is not None:
            object.__setattr__(self, "mark", Mark(self.mark))


UNMARKED = ItemMark(None)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Lowest total percent for each band; strictly descending, each within 0..100."""

    strong_hire: Fraction | int = 80
    hire: Fraction | int = 65
    lean_no_hire: Fraction | int = 50

    def __post_init__(self) -> None:
        values = (self.strong_hire, self.hire, self.lean_no_hire)
        for value in values:
            # Floats and Decimals are rejected rather than converted: a threshold must be exact
            # for "≥ 80" to mean what it says. Convert a Decimal with Fraction(value).
            if isinstance(value, bool) or not isinstance(value, int | Fraction):
                raise TypeError(f"A threshold must be an int or a Fraction, not {value!r}.")
        if not 100 >= self.strong_hire > self.hire > self.lean_no_hire >= 0:
            raise ValueError(
                "Thresholds must be strictly descending and within 0..100: "
                f"strong hire {self.strong_hire}, hire {self.hire}, "
                f"lean no hire {self.lean_no_hire}."
            )

    def band_for(self, percent: Fraction | None) -> Band:
        """The band a total percent falls in; no percent (nothing to score) is no hire."""
        if percent is None:
            return Band.NO_HIRE
        if percent >= self.strong_hire:
            return Band.STRONG_HIRE
        if percent >= self.hire:
            return Band.HIRE
        if percent >= self.lean_no_hire:
            return Band.LEAN_NO_HIRE
        return Band.NO_HIRE

    def describe(self) -> str:
        """The bands in one sentence, for printing next to RULES."""
        strong_hire, hire, lean_no_hire = (
            _format_threshold(value) for value in (self.strong_hire, self.hire, self.lean_no_hire)
        )
        return (
            f"Bands: Strong hire from {strong_hire} %, Hire from {hire} %, "
            f"Lean no hire from {lean_no_hire} %, otherwise No hire."
        )


DEFAULT_THRESHOLDS = Thresholds()

RULES: tuple[str, ...] = (
    "Each expected item earns its full points when covered, half when partly covered and nothing "
    "when missed; an item not marked counts as missed.",
    "An item covered or partly covered only after a hint earns half of that: half the points for "
    "covered, a quarter for partly covered.",
    "Each red flag observed takes its points away; a red flag not marked counts as not observed.",
    "An item marked not applicable is left out: an expected item adds nothing to the points earned "
    "or available, and a red flag takes nothing away.",
    "An expected item above the target level of the session (a senior item for a junior target, a "
    "staff item for a junior or senior target) is a stretch item: covered or partly covered, what "
    "it earns is added both to the points earned and to the points available; missed or not "
    "marked, it is left out. So a stretch item can raise a score but never lower it.",
    "Red flags count whatever their level.",
    "A score is the points earned minus the red-flag points, never below zero, divided by the "
    "points available, as a percentage.",
    "The same rule gives the score of each step, of each category (over the items tagged with it) "
    "and the total (over all items).",
    "Percentages are worked out exactly and shown to one decimal place, halves rounded up; a score "
    "with no points available shows a dash.",
    "The band comes from the total percentage.",
    "If any required item is missed or not marked, the band is at most Lean no hire; a required "
    "item that is not applicable or a stretch item never caps the band.",
)


@dataclass(frozen=True, slots=True)
class Score:
    """Points for a group of items (a step, a category, or all of them)."""

    earned: Fraction
    deducted: Fraction
    possible: Fraction

    @property
    def net(self) -> Fraction:
        """Earned minus deducted, floored at zero."""
        return max(Fraction(0), self.earned - self.deducted)

    @property
    def percent(self) -> Fraction | None:
        """Exact percent in 0..100, or None when the group has no points available (no expected
        items, or only ones left out)."""
        if self.possible == 0:
            return None
        return self.net / self.possible * 100

    @property
    def display(self) -> str:
        """The percent as shown on the scorecard: "72.5", or "—" without points available."""
        return format_percent(self.percent)


@dataclass(frozen=True, slots=True)
class Line:
    """How one item contributed, with an explanation a person can check by hand."""

    item: Item
    mark: Mark | None
    after_hint: bool
    earned: Fraction
    deducted: Fraction
    # What the item adds to the points available: its points for an expected item at or below the
    # target level, what it earned for a stretch item, nothing for red flags and left-out items.
    possible: Fraction
    stretch: bool
    explanation: str

    @property
    def not_applicable(self) -> bool:
        return self.mark is Mark.NOT_APPLICABLE


@dataclass(frozen=True, slots=True)
class Scorecard:
    """The result of `score`: per-step, per-category and total scores, the band, and one line per
    item so every point can be traced."""

    steps: dict[int, Score]
    categories: dict[str, Score]
    total: Score
    band: Band
    uncapped_band: Band
    capped: bool
    missed_required: tuple[Item, ...]
    lines: tuple[Line, ...]
    target_level: Level
    # Items marked not applicable, and expected items above the target level, in input order.
    not_applicable: tuple[Item, ...]
    stretch: tuple[Item, ...]


def format_percent(percent: Fraction | None) -> str:
    """Show a percent with one decimal, halves rounded up ("72.45" → "72.5"); None shows "—"."""
    if percent is None:
        return NO_PERCENT
    return decimal_text(percent, 1)


def percent_label(percent: Fraction | None) -> str:
    """A percent as every page and file shows it: "72.5 %", or "—" when there is none."""
    return NO_PERCENT if percent is None else f"{format_percent(percent)} %"


def score(
    items: Sequence[Item],
    marks: Mapping[str, ItemMark],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    target_level: Level = Level.STAFF,
) -> Scorecard:
    """Score a checklist.

    `marks` maps item keys to marks; an item without one is unmarked. Expected items above
    `target_level` are stretch items (see RULES); at the default, staff, there are none. Raises
    ValueError for duplicate item keys, marks on unknown keys, and marks that do not fit the
    item's kind.
    """
    target_level = Level(target_level)
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        raise ValueError(f"Duplicate item keys: {', '.join(duplicates)}.")
    unknown = sorted(set(marks) - set(keys))
    if unknown:
        raise ValueError(f"Marks for unknown items: {', '.join(unknown)}.")

    lines = tuple(_line(item, marks.get(item.key, UNMARKED), target_level) for item in items)
    steps = {
        step: _sum(line for line in lines if line.item.step == step)
        for step in sorted({item.step for item in items})
    }
    categories = {
        slug: _sum(line for line in lines if slug in line.item.categories)
        for slug in sorted({slug for item in items for slug in item.categories})
    }
    total = _sum(lines)
    missed_required = tuple(
        line.item
        for line in lines
        if line.item.required
        and line.item.kind is Kind.EXPECTED
        and not line.stretch
        and line.mark in (None, Mark.MISSED)
    )
    uncapped_band = thresholds.band_for(total.percent)
    band = uncapped_band
    if missed_required and uncapped_band.rank > CAP_BAND.rank:
        band = CAP_BAND
    return Scorecard(
        steps=steps,
        categories=categories,
        total=total,
        band=band,
        uncapped_band=uncapped_band,
        capped=band is not uncapped_band,
        missed_required=missed_required,
        lines=lines,
        target_level=target_level,
        not_applicable=tuple(line.item for line in lines if line.not_applicable),
        stretch=tuple(line.item for line in lines if line.stretch),
    )


def _line(item: Item, item_mark: ItemMark, target_level: Level) -> Line:
    mark, after_hint = item_mark.mark, item_mark.after_hint
    points = Fraction(item.points)

    def line(
        explanation: str,
        *,
        earned: Fraction = _ZERO,
        deducted: Fraction = _ZERO,
        possible: Fraction = _ZERO,
        stretch: bool = False,
    ) -> Line:
        return Line(item, mark, after_hint, earned, deducted, possible, stretch, explanation)

    if item.kind is Kind.RED_FLAG:
        if mark is Mark.OBSERVED:
            return line(f"red flag observed: −{decimal_text(points)} pt", deducted=points)
        if mark is Mark.NOT_APPLICABLE:
            return line("red flag not applicable: left out")
        if mark is None:
            return line("red flag not observed: 0 pt")
        raise ValueError(f"Red flag {item.key!r} can only be observed, not {mark}.")

    if mark is Mark.OBSERVED:
        raise ValueError(f"Expected item {item.key!r} cannot be observed; that is for red flags.")
    stretch = item.level.rank > target_level.rank
    if mark is Mark.NOT_APPLICABLE:
        return line("not applicable: left out", stretch=stretch)
    share = _SHARES[mark] if mark is not None else _ZERO
    if after_hint:
        share *= _HINT_FACTOR
    earned = share * points
    explanation = _explain(mark, after_hint, share, item)
    if not stretch:
        return line(explanation, earned=earned, possible=points)
    # A stretch item adds what it earned to both sides of the fraction, so it can only pull a
    # score towards 100 %: (e + x) / (p + x) ≥ e / p whenever e ≤ p, which always holds.
    if earned:
        explanation = f"stretch, {explanation}, added to earned and available"
    else:
        explanation = f"stretch, {_label(mark, after_hint)}: not counted"
    return line(explanation, earned=earned, possible=earned, stretch=True)


def _explain(mark: Mark | None, after_hint: bool, share: Fraction, item: Item) -> str:
    points = decimal_text(Fraction(item.points))
    if mark is None:
        return f"not marked, counts as missed: 0 of {points} pt"
    label = _label(mark, after_hint)
    if share in (0, 1):
        return f"{label}: {decimal_text(share * item.points)} of {points} pt"
    earned = decimal_text(share * item.points)
    return f"{label}: {_SHARE_GLYPHS[share]} × {points} pt = {earned} pt"


def _label(mark: Mark | None, after_hint: bool) -> str:
    if mark is None:
        return "not marked"
    return f"{mark}, after a hint" if after_hint else str(mark)


def _sum(lines: Iterable[Line]) -> Score:
    earned = deducted = possible = Fraction(0)
    for line in lines:
        earned += line.earned
        deducted += line.deducted
        possible += line.possible
    return Score(earned=earned, deducted=deducted, possible=possible)


def _format_threshold(value: Fraction | int) -> str:
    return str(value) if isinstance(value, int) or value.denominator == 1 else format_percent(value)


def decimal_text(value: Fraction, places: int | None = None) -> str:
    """A Fraction as a decimal string, the one way Spar writes exact numbers out.

    With `places` None the value must have a finite decimal expansion (points are whole numbers
    times ½ or ¼: "1", "0.5", "2.25") and is written exactly; otherwise it is rounded half up to
    `places` places ("66.667"), as `format_percent` rounds. Never negative in Spar's use.
    """
    if places is None:
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return f"{exact.normalize():f}"
    scaled = value * 10**places
    rounded = int(scaled) + (1 if scaled - int(scaled) >= Fraction(1, 2) else 0)
    return f"{Decimal(rounded).scaleb(-places):f}"
