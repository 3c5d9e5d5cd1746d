"""How well a candidate judged themselves: their marks against the interviewer's, item by item.

Pure Python over rubrics.scoring's lines, no Django import (tests/scorecards/test_calibration.py
checks it), so the maths can be read and tested on its own. Both scorecards must come from the
same items in the same order, which is what scoring.score gives for one item list.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from rubrics import scoring

# A mark as the scorecard reads it; after_hint only matters on covered and partial, because a
# missed item earns nothing either way and a red flag cannot be "after a hint".
Outcome = tuple[scoring.Mark | None, bool]

_LABELS: dict[Outcome, str] = {
    (scoring.Mark.COVERED, False): "Covered",
    (scoring.Mark.COVERED, True): "Covered after a hint",
    (scoring.Mark.PARTIAL, False): "Partial",
    (scoring.Mark.PARTIAL, True): "Partial after a hint",
    (scoring.Mark.MISSED, False): "Missed",
    (scoring.Mark.OBSERVED, False): "Red flag observed",
    (scoring.Mark.NOT_APPLICABLE, False): "Not applicable",
}


def outcome(line: scoring.Line) -> Outcome:
    """The line's mark with not-marked read as the rules read it: missed, or not observed."""
    mark = line.mark
    if mark is None and line.item.kind is scoring.Kind.EXPECTED:
        mark = scoring.Mark.MISSED
    hinted = line.after_hint and mark in (scoring.Mark.COVERED, scoring.Mark.PARTIAL)
    return mark, hinted


def mark_label(line: scoring.Line) -> str:
    """The mark as a person reads it: "Covered after a hint", "Not marked (counts as missed)"."""
    if line.mark is None:
        if line.item.kind is scoring.Kind.RED_FLAG:
            return "Not observed"
        if line.stretch:
            return "Not marked (stretch: not counted)"
        return "Not marked (counts as missed)"
    return _LABELS[outcome(line)]


def value(line: scoring.Line) -> Fraction:
    """What the line adds to the score: points earned, or minus the points of a red flag."""
    return line.earned - line.deducted


@dataclass(frozen=True, slots=True)
class Comparison:
    """One item as the interviewer and the candidate marked it."""

    item: scoring.Item
    interviewer: scoring.Line
    own: scoring.Line

    @property
    def agrees(self) -> bool:
        return outcome(self.interviewer) == outcome(self.own)

    @property
    def interviewer_label(self) -> str:
        return mark_label(self.interviewer)

    @property
    def own_label(self) -> str:
        return mark_label(self.own)

    @property
    def difference(self) -> Fraction:
        """Points the candidate gave themselves beyond the interviewer's (negative: fewer)."""
        return value(self.own) - value(self.interviewer)


def marked_by_either(comparison: Comparison) -> bool:
    return comparison.interviewer.mark is not None or comparison.own.mark is not None


@dataclass(frozen=True, slots=True)
class Calibration:
    # Only the items at least one of the two marked: an item neither touched says nothing about
    # how well the candidate judged themselves, and counting it as agreement made five marks,
    # all different from the interviewer's, read as 93 % agreement.
    comparisons: tuple[Comparison, ...]
    over_rated: tuple[Comparison, ...]
    under_rated: tuple[Comparison, ...]
    unmarked: int = 0  # items neither marked, left out of the comparison

    @property
    def agreed(self) -> int:
        return sum(1 for c in self.comparisons if c.agrees)

    @property
    def agreement(self) -> Fraction | None:
        """Exact percent of the compared items marked the same by both; None without any."""
        if not self.comparisons:
            return None
        return Fraction(self.agreed, len(self.comparisons)) * 100

    @property
    def agreement_display(self) -> str:
        return scoring.format_percent(self.agreement)


def compare(interviewer: scoring.Scorecard, own: scoring.Scorecard) -> Calibration:
    """Compare the interviewer's scorecard with the candidate's own, item by item.

    Only items that at least one of the two marked are compared. Agreement is the share of those
    with the same mark (not marked counts as missed, or as not observed for a red flag; "after a
    hint" counts on covered and partial). An item is over-rated when the candidate's mark earns
    more than the interviewer's, under-rated when it earns less; two different marks worth the
    same (partial, and covered after a hint) are neither. Both lists run from the largest
    difference down, then in checklist order.
    """
    everything = _pair(interviewer.lines, own.lines)
    comparisons = tuple(c for c in everything if marked_by_either(c))
    order = {c.item.key: index for index, c in enumerate(comparisons)}

    def biggest_first(c: Comparison) -> tuple[Fraction, int]:
        return (-abs(c.difference), order[c.item.key])

    return Calibration(
        comparisons=comparisons,
        over_rated=tuple(sorted((c for c in comparisons if c.difference > 0), key=biggest_first)),
        under_rated=tuple(sorted((c for c in comparisons if c.difference < 0), key=biggest_first)),
        unmarked=len(everything) - len(comparisons),
    )


def _pair(theirs: Sequence[scoring.Line], mine: Sequence[scoring.Line]) -> tuple[Comparison, ...]:
    if [line.item.key for line in theirs] != [line.item.key for line in mine]:
        raise ValueError("Both scorecards must score the same items in the same order.")
    return tuple(Comparison(a.item, a, b) for a, b in zip(theirs, mine, strict=True))
