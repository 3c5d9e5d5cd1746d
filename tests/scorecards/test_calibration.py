"""The pure modules: agreement maths, mark mapping, chart geometry, serialisation. No database."""

import ast
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rubrics.scoring import Item, ItemMark, Kind, Mark, score
from scorecards import calibration, charts, rescoring, serialize

REPO = Path(__file__).resolve().parents[2]
PURE_MODULES = (
    "scorecards/calibration.py",
    "scorecards/rescoring.py",
    "scorecards/charts.py",
    "scorecards/serialize.py",
)


def expected(key: str, points: int = 1, step: int = 1, **kwargs: object) -> Item:
    return Item(key=key, step=step, title=key.title(), points=points, **kwargs)


def red_flag(key: str, points: int = 1, step: int = 1) -> Item:
    return Item(key=key, step=step, title=key.title(), points=points, kind=Kind.RED_FLAG)


COVERED = ItemMark(Mark.COVERED)
PARTIAL = ItemMark(Mark.PARTIAL)
MISSED = ItemMark(Mark.MISSED)
OBSERVED = ItemMark(Mark.OBSERVED)
HINTED_COVERED = ItemMark(Mark.COVERED, after_hint=True)
HINTED_PARTIAL = ItemMark(Mark.PARTIAL, after_hint=True)
HINTED_MISSED = ItemMark(Mark.MISSED, after_hint=True)


@pytest.mark.parametrize("path", PURE_MODULES)
def test_pure_module_does_not_import_django(path: str) -> None:
    tree = ast.parse((REPO / path).read_text(), filename=path)
    modules = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ] + [node.module or "." for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert modules
    assert [m for m in modules if m == "django" or m.startswith("django.")] == []


# --- labels and outcomes


@pytest.mark.parametrize(
    ("item", "item_mark", "label"),
    [
        (expected("a"), COVERED, "Covered"),
        (expected("a"), HINTED_COVERED, "Covered after a hint"),
        (expected("a"), PARTIAL, "Partial"),
        (expected("a"), HINTED_PARTIAL, "Partial after a hint"),
        (expected("a"), MISSED, "Missed"),
        (expected("a"), HINTED_MISSED, "Missed"),
        (expected("a"), ItemMark(None), "Not marked (counts as missed)"),
        (red_flag("r"), OBSERVED, "Red flag observed"),
        (red_flag("r"), ItemMark(None), "Not observed"),
    ],
)
def test_mark_label(item, item_mark, label):
    line = score([item], {item.key: item_mark}).lines[0]
    assert calibration.mark_label(line) == label


def _compare(items, theirs, mine):
    return calibration.compare(score(items, theirs), score(items, mine))


@pytest.mark.parametrize(
    ("theirs", "mine", "agrees"),
    [
        (COVERED, COVERED, True),
        (MISSED, ItemMark(None), True),  # not marked counts as missed
        (HINTED_MISSED, MISSED, True),  # a hint changes nothing on a miss
        (HINTED_COVERED, COVERED, False),
        (HINTED_COVERED, PARTIAL, False),  # worth the same, still a different mark
        (PARTIAL, MISSED, False),
    ],
)
def test_agreement_of_one_expected_item(theirs, mine, agrees):
    result = _compare([expected("a", points=2)], {"a": theirs}, {"a": mine})
    assert result.comparisons[0].agrees is agrees
    assert result.agreement == (100 if agrees else 0)


def test_red_flag_observed_by_one_disagrees_and_one_neither_marked_is_left_out():
    items = [red_flag("r1"), red_flag("r2")]
    result = _compare(items, {"r1": OBSERVED}, {})
    assert [(c.item.key, c.agrees) for c in result.comparisons] == [("r1", False)]
    assert result.unmarked == 1
    assert [c.item.key for c in result.over_rated] == ["r1"]  # self said "not observed"
    assert result.over_rated[0].difference == 1


def test_agreement_counts_only_items_at_least_one_marked():
    # The candidate marked 5 of 20 items, every one differently from the interviewer; the 15
    # items neither marked used to count as agreeing and showed 75 % agreement.
    items = [expected(f"i{n:02}") for n in range(20)]
    theirs = {f"i{n:02}": COVERED for n in range(5)}
    mine = {f"i{n:02}": MISSED for n in range(5)}
    result = _compare(items, theirs, mine)
    assert (result.agreed, len(result.comparisons), result.unmarked) == (0, 5, 15)
    assert result.agreement == 0
    assert result.agreement_display == "0.0"


def test_an_item_only_the_interviewer_marked_counts():
    items = [expected("a"), expected("b"), expected("c")]
    # a: missed by the interviewer, left alone by the candidate: both mean missed, so they agree.
    result = _compare(items, {"a": MISSED, "b": COVERED}, {})
    assert [(c.item.key, c.agrees) for c in result.comparisons] == [("a", True), ("b", False)]
    assert (result.agreement, result.unmarked) == (50, 1)


def test_agreement_is_an_exact_share():
    items = [expected(k) for k in "abc"]
    result = _compare(items, {"a": COVERED, "b": COVERED, "c": COVERED}, {"a": COVERED})
    assert (result.agreed, len(result.comparisons)) == (1, 3)
    assert result.agreement == Fraction(100, 3)
    assert result.agreement_display == "33.3"


def test_agreement_without_items_is_none():
    result = calibration.compare(score([], {}), score([], {}))
    assert result.agreement is None
    assert result.agreement_display == "—"


def test_over_and_under_rated_biggest_difference_first_then_checklist_order():
    items = [
        expected("a", points=1),
        expected("b", points=2),
        expected("c", points=2),
        expected("d", points=1, step=2),
        expected("e", points=2, step=2),
        expected("f", points=1, step=2),
    ]
    theirs = {
        "a": MISSED,
        "b": MISSED,
        "c": COVERED,
        "d": COVERED,
        "e": HINTED_COVERED,
        "f": PARTIAL,
    }
    mine = {"a": COVERED, "b": COVERED, "c": PARTIAL, "d": MISSED, "e": PARTIAL, "f": COVERED}
    result = _compare(items, theirs, mine)
    assert [(c.item.key, c.difference) for c in result.over_rated] == [
        ("b", 2),
        ("a", 1),
        ("f", Fraction(1, 2)),
    ]
    assert [(c.item.key, c.difference) for c in result.under_rated] == [("c", -1), ("d", -1)]
    # e: covered after a hint and partial are worth the same: neither list, but not agreeing.
    assert result.agreed == 0


def test_compare_needs_the_same_items():
    with pytest.raises(ValueError, match="same items"):
        calibration.compare(score([expected("a")], {}), score([expected("b")], {}))


marks = st.sampled_from(
    [COVERED, PARTIAL, MISSED, HINTED_COVERED, HINTED_PARTIAL, HINTED_MISSED, ItemMark(None)]
)


@given(st.lists(st.tuples(marks, marks), min_size=1, max_size=20))
def test_agreement_invariants(pairs):
    items = [expected(f"i{n}", points=n % 3 + 1) for n in range(len(pairs))]
    theirs = {item.key: pair[0] for item, pair in zip(items, pairs, strict=True)}
    mine = {item.key: pair[1] for item, pair in zip(items, pairs, strict=True)}
    result = _compare(items, theirs, mine)
    marked = [
        item.key for item, pair in zip(items, pairs, strict=True) if pair != (ItemMark(None),) * 2
    ]
    assert [c.item.key for c in result.comparisons] == marked
    assert result.unmarked == len(items) - len(marked)
    if not marked:
        assert result.agreement is None
        return
    assert 0 <= result.agreement <= 100
    assert result.agreement == Fraction(result.agreed * 100, len(marked))
    # Agreeing items are in neither list; every listed item is a disagreement.
    listed = {c.item.key for c in result.over_rated + result.under_rated}
    assert not listed & {c.item.key for c in result.comparisons if c.agrees}
    # The self total minus the interviewer's equals the sum of the differences (no red flags,
    # so nothing is floored at zero).
    assert sum(c.difference for c in result.comparisons) == (
        score(items, mine).total.net - score(items, theirs).total.net
    )
    anything_marked = any(mark.mark is not None for mark in theirs.values())
    same = calibration.compare(score(items, theirs), score(items, theirs))
    assert same.agreement == (100 if anything_marked else None)


# --- mapping marks onto another version


def test_map_marks_by_key():
    old = [expected("a"), expected("gone", step=2), red_flag("flag"), expected("turned")]
    new = [
        expected("a", points=3, step=4),  # moved and re-weighted: still the same item
        expected("fresh"),
        red_flag("flag"),
        red_flag("turned"),
    ]
    marks = {"a": HINTED_COVERED, "gone": COVERED, "flag": OBSERVED, "turned": PARTIAL}
    mapped = rescoring.map_marks(old, new, marks)
    assert mapped.marks == {"a": HINTED_COVERED, "flag": OBSERVED}
    assert [(u.item.key, u.reason) for u in mapped.unmapped] == [
        ("gone", rescoring.NOT_IN_VERSION),
        ("turned", rescoring.NOW_A_RED_FLAG),
    ]
    assert [item.key for item in mapped.new] == ["fresh"]
    card = score(new, mapped.marks)
    assert (card.total.earned, card.total.deducted, card.total.possible) == (
        Fraction(3, 2),
        Fraction(1),
        Fraction(4),
    )


def test_map_marks_unmarked_item_whose_kind_changed_maps_quietly():
    mapped = rescoring.map_marks([red_flag("x")], [expected("x")], {})
    assert (mapped.marks, mapped.unmapped, mapped.new) == ({}, (), ())


def test_map_marks_observed_flag_that_became_expected_is_unmapped():
    mapped = rescoring.map_marks([red_flag("x")], [expected("x")], {"x": OBSERVED})
    assert [(u.item.key, u.reason) for u in mapped.unmapped] == [
        ("x", rescoring.NO_LONGER_A_RED_FLAG)
    ]


# --- chart geometry


def test_bar_chart_geometry():
    chart = charts.bar_chart([("Metrics", Fraction(145, 2)), ("Latency", None), ("Data", 100)])
    assert [(b.label, b.value, b.y, b.width, b.text_y) for b in chart.bars] == [
        ("Metrics", "72.5 %", 24, "261.0", 38),
        ("Latency", "—", 52, "0.0", 66),
        ("Data", "100.0 %", 80, "360.0", 94),
    ]
    assert [(t.x, t.label) for t in chart.ticks] == [
        ("200.0", "0"),
        ("380.0", "50"),
        ("560.0", "100"),
    ]
    assert (chart.width, chart.height, chart.bar_x, chart.value_x) == (640, 108, 200, 570)


# --- serialisation


def test_scores_data_carries_every_score_exactly():
    items = [
        expected("a", points=2, categories=("metrics",)),
        expected("b", step=2, required=True),
        red_flag("r", step=2),
    ]
    card = score(items, {"a": HINTED_PARTIAL, "r": OBSERVED})
    data = serialize.scores_data(card)
    assert data["total"] == {
        "earned": "0.5",
        "deducted": "1",
        "possible": "3",
        "net": "0",
        "percent": "0.000",
        "percent_exact": "0",
        "display": "0.0",
    }
    assert data["steps"]["1"]["percent_exact"] == "25"
    assert data["categories"]["metrics"]["percent"] == "25.000"
    assert (data["band"], data["capped"], data["missed_required"]) == ("no_hire", False, ["b"])
