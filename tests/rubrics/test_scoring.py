import ast
import html
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rubrics.scoring import (
    DEFAULT_THRESHOLDS,
    RULES,
    Band,
    Item,
    ItemMark,
    Kind,
    Level,
    Mark,
    Score,
    Scorecard,
    Thresholds,
    decimal_text,
    format_percent,
    score,
)

REPO = Path(__file__).resolve().parents[2]
PURE_MODULES = ("rubrics/scoring.py", "rubrics/evidence.py")


def expected(key: str, points: int = 1, step: int = 1, **kwargs: object) -> Item:
    return Item(key=key, step=step, title=key.title(), points=points, **kwargs)


def red_flag(key: str, points: int = 1, step: int = 1, **kwargs: object) -> Item:
    return Item(key=key, step=step, title=key.title(), points=points, kind=Kind.RED_FLAG, **kwargs)


COVERED = ItemMark(Mark.COVERED)
PARTIAL = ItemMark(Mark.PARTIAL)
MISSED = ItemMark(Mark.MISSED)
OBSERVED = ItemMark(Mark.OBSERVED)
HINTED_COVERED = ItemMark(Mark.COVERED, after_hint=True)
HINTED_PARTIAL = ItemMark(Mark.PARTIAL, after_hint=True)
HINTED_MISSED = ItemMark(Mark.MISSED, after_hint=True)
NOT_APPLICABLE = ItemMark(Mark.NOT_APPLICABLE)


# --- Lines: what each item earns, and the explanation the scorecard prints.


@pytest.mark.parametrize(
    ("item_mark", "points", "earned", "explanation"),
    [
        (COVERED, 2, Fraction(2), "covered: 2 of 2 pt"),
        (HINTED_COVERED, 2, Fraction(1), "covered, after a hint: ½ × 2 pt = 1 pt"),
        (HINTED_COVERED, 3, Fraction(3, 2), "covered, after a hint: ½ × 3 pt = 1.5 pt"),
        (PARTIAL, 1, Fraction(1, 2), "partial: ½ × 1 pt = 0.5 pt"),
        (PARTIAL, 4, Fraction(2), "partial: ½ × 4 pt = 2 pt"),
        (HINTED_PARTIAL, 2, Fraction(1, 2), "partial, after a hint: ¼ × 2 pt = 0.5 pt"),
        (HINTED_PARTIAL, 1, Fraction(1, 4), "partial, after a hint: ¼ × 1 pt = 0.25 pt"),
        (MISSED, 2, Fraction(0), "missed: 0 of 2 pt"),
        (HINTED_MISSED, 2, Fraction(0), "missed, after a hint: 0 of 2 pt"),
        (ItemMark(None), 2, Fraction(0), "not marked, counts as missed: 0 of 2 pt"),
        (
            ItemMark(None, after_hint=True),
            2,
            Fraction(0),
            "not marked, counts as missed: 0 of 2 pt",
        ),
    ],
)
def test_line_expected_item_earns_exact_share(
    item_mark: ItemMark, points: int, earned: Fraction, explanation: str
) -> None:
    card = score([expected("a", points=points)], {"a": item_mark})

    (line,) = card.lines
    assert (line.earned, line.deducted, line.explanation) == (earned, Fraction(0), explanation)
    assert (line.mark, line.after_hint) == (item_mark.mark, item_mark.after_hint)


@pytest.mark.parametrize(
    ("marks", "deducted", "explanation"),
    [
        ({"flag": OBSERVED}, Fraction(3), "red flag observed: −3 pt"),
        ({"flag": ItemMark(Mark.OBSERVED, True)}, Fraction(3), "red flag observed: −3 pt"),
        ({"flag": ItemMark(None)}, Fraction(0), "red flag not observed: 0 pt"),
        ({}, Fraction(0), "red flag not observed: 0 pt"),
    ],
)
def test_line_red_flag_deducts_only_when_observed(
    marks: dict[str, ItemMark], deducted: Fraction, explanation: str
) -> None:
    card = score([expected("a", points=5), red_flag("flag", points=3)], marks | {"a": COVERED})

    line = card.lines[1]
    assert (line.earned, line.deducted, line.explanation) == (Fraction(0), deducted, explanation)
    assert card.total.deducted == deducted


def test_line_unmarked_item_has_no_mark() -> None:
    card = score([expected("a"), red_flag("flag")], {})

    assert [(line.item.key, line.mark, line.after_hint) for line in card.lines] == [
        ("a", None, False),
        ("flag", None, False),
    ]


def test_line_keeps_input_order() -> None:
    items = [expected("z", step=3), expected("a", step=1), red_flag("m", step=2)]

    card = score(items, {})

    assert [line.item for line in card.lines] == items


# --- Scores per step, per category and in total, on one worked example.

WORKED_ITEMS = (
    expected("objective", points=2, step=1, required=True, categories=("requirements",)),
    expected("assumptions", points=1, step=1, categories=("requirements", "communication")),
    expected("time-split", points=3, step=2, categories=("data", "data-leakage")),
    red_flag("random-split", points=1, step=2, categories=("data-leakage",)),
    expected("offline-metric", points=2, step=5, categories=("metrics",)),
)
WORKED_MARKS = {
    "objective": COVERED,  # 2
    "assumptions": HINTED_PARTIAL,  # ¼
    "time-split": PARTIAL,  # 3/2
    "random-split": OBSERVED,  # −1
    # offline-metric unmarked: 0
}


@pytest.fixture
def worked() -> Scorecard:
    return score(WORKED_ITEMS, WORKED_MARKS)


@pytest.mark.parametrize(
    ("step", "earned", "deducted", "possible", "percent", "display"),
    [
        (1, Fraction(9, 4), Fraction(0), Fraction(3), Fraction(75), "75.0"),
        (2, Fraction(3, 2), Fraction(1), Fraction(3), Fraction(50, 3), "16.7"),
        (5, Fraction(0), Fraction(0), Fraction(2), Fraction(0), "0.0"),
    ],
)
def test_score_steps_exact(
    worked: Scorecard,
    step: int,
    earned: Fraction,
    deducted: Fraction,
    possible: Fraction,
    percent: Fraction,
    display: str,
) -> None:
    result = worked.steps[step]

    assert result == Score(earned=earned, deducted=deducted, possible=possible)
    assert (result.percent, result.display) == (percent, display)


def test_score_steps_only_steps_with_items_sorted(worked: Scorecard) -> None:
    assert list(worked.steps) == [1, 2, 5]


@pytest.mark.parametrize(
    ("slug", "earned", "deducted", "possible", "percent", "display"),
    [
        ("communication", Fraction(1, 4), Fraction(0), Fraction(1), Fraction(25), "25.0"),
        ("data", Fraction(3, 2), Fraction(0), Fraction(3), Fraction(50), "50.0"),
        ("data-leakage", Fraction(3, 2), Fraction(1), Fraction(3), Fraction(50, 3), "16.7"),
        ("metrics", Fraction(0), Fraction(0), Fraction(2), Fraction(0), "0.0"),
        ("requirements", Fraction(9, 4), Fraction(0), Fraction(3), Fraction(75), "75.0"),
    ],
)
def test_score_categories_exact(
    worked: Scorecard,
    slug: str,
    earned: Fraction,
    deducted: Fraction,
    possible: Fraction,
    percent: Fraction,
    display: str,
) -> None:
    result = worked.categories[slug]

    assert result == Score(earned=earned, deducted=deducted, possible=possible)
    assert (result.percent, result.display) == (percent, display)


def test_score_categories_sorted_by_slug(worked: Scorecard) -> None:
    assert list(worked.categories) == sorted(worked.categories)


def test_score_total_exact(worked: Scorecard) -> None:
    # (2 + ¼ + 3/2 − 1) / 8 = 11/32.
    assert worked.total == Score(earned=Fraction(15, 4), deducted=Fraction(1), possible=Fraction(8))
    assert (worked.total.net, worked.total.percent) == (Fraction(11, 4), Fraction(275, 8))
    assert worked.total.display == "34.4"
    assert (worked.band, worked.uncapped_band, worked.capped) == (Band.NO_HIRE, Band.NO_HIRE, False)
    assert worked.missed_required == ()


def test_score_red_flags_floor_at_zero() -> None:
    items = [expected("a", points=1, step=1), red_flag("flag", points=3, step=1), expected("b")]

    card = score(items, {"a": COVERED, "flag": OBSERVED})

    assert card.steps[1] == Score(earned=Fraction(1), deducted=Fraction(3), possible=Fraction(2))
    assert (card.steps[1].net, card.steps[1].percent, card.steps[1].display) == (0, 0, "0.0")


def test_score_red_flag_deducts_only_in_its_own_step_and_categories() -> None:
    items = [
        expected("a", points=2, step=1, categories=("data",)),
        expected("b", points=2, step=2, categories=("metrics",)),
        red_flag("flag", points=1, step=2, categories=("metrics",)),
    ]

    card = score(items, {"a": COVERED, "b": COVERED, "flag": OBSERVED})

    assert card.steps[1].percent == 100
    assert card.steps[2].percent == 50
    assert card.categories["data"].percent == 100
    assert card.categories["metrics"].percent == 50
    assert card.total.percent == 75


def test_score_after_hint_halves() -> None:
    items = [expected("a", points=4), expected("b", points=4)]

    plain = score(items, {"a": COVERED, "b": PARTIAL})
    hinted = score(
        items,
        {"a": HINTED_COVERED, "b": HINTED_PARTIAL},
    )

    assert (plain.total.earned, plain.total.percent) == (Fraction(6), Fraction(75))
    assert (hinted.total.earned, hinted.total.percent) == (Fraction(3), Fraction(75, 2))
    assert hinted.total.display == "37.5"


def test_score_possible_zero_has_no_percent() -> None:
    items = [
        expected("a", step=1, categories=("data",)),
        red_flag("flag", step=4, categories=("x",)),
    ]

    card = score(items, {"a": COVERED, "flag": OBSERVED})

    assert card.steps[4] == Score(earned=Fraction(0), deducted=Fraction(1), possible=Fraction(0))
    assert (card.steps[4].percent, card.steps[4].display) == (None, "—")
    assert (card.categories["x"].percent, card.categories["x"].display) == (None, "—")
    assert card.total.percent == 0


def test_score_no_items_is_no_hire_without_percent() -> None:
    card = score([], {})

    assert (card.steps, card.categories, card.lines) == ({}, {}, ())
    assert (card.total.percent, card.total.display) == (None, "—")
    assert (card.band, card.capped) == (Band.NO_HIRE, False)


def test_score_item_category_listed_twice_counts_once() -> None:
    card = score([expected("a", points=2, categories=("data", "data"))], {"a": PARTIAL})

    assert card.categories["data"] == Score(Fraction(1), Fraction(0), Fraction(2))


# --- Bands and the required-item cap.


@pytest.mark.parametrize(
    ("percent", "band"),
    [
        (Fraction(100), Band.STRONG_HIRE),
        (Fraction(80), Band.STRONG_HIRE),
        (Fraction(7999, 100), Band.HIRE),
        (Fraction(65), Band.HIRE),
        (Fraction(6499, 100), Band.LEAN_NO_HIRE),
        (Fraction(50), Band.LEAN_NO_HIRE),
        (Fraction(4999, 100), Band.NO_HIRE),
        (Fraction(0), Band.NO_HIRE),
        (None, Band.NO_HIRE),
    ],
)
def test_thresholds_band_for_boundaries_inclusive(percent: Fraction | None, band: Band) -> None:
    assert DEFAULT_THRESHOLDS.band_for(percent) == band


def test_thresholds_custom_fractions() -> None:
    thresholds = Thresholds(strong_hire=Fraction(145, 2), hire=60, lean_no_hire=0)

    assert thresholds.band_for(Fraction(145, 2)) == Band.STRONG_HIRE
    assert thresholds.band_for(Fraction(72)) == Band.HIRE
    assert thresholds.band_for(Fraction(0)) == Band.LEAN_NO_HIRE
    assert thresholds.describe() == (
        "Bands: Strong hire from 72.5 %, Hire from 60 %, Lean no hire from 0 %, otherwise No hire."
    )
    assert DEFAULT_THRESHOLDS.describe() == (
        "Bands: Strong hire from 80 %, Hire from 65 %, Lean no hire from 50 %, otherwise No hire."
    )
    assert (
        Thresholds(strong_hire=Fraction(200, 3))
        .describe()
        .startswith("Bands: Strong hire from 66.7 %,")
    )


@pytest.mark.parametrize(
    ("strong_hire", "hire", "lean_no_hire"),
    [
        (80, 80, 50),
        (80, 65, 65),
        (65, 80, 50),
        (80, 50, 65),
        (101, 65, 50),
        (Fraction(201, 2), 65, 50),
        (80, 65, -1),
        (80, 65, Fraction(-1, 2)),
    ],
)
def test_thresholds_invalid_order_or_range_raises(
    strong_hire: int | Fraction, hire: int | Fraction, lean_no_hire: int | Fraction
) -> None:
    with pytest.raises(ValueError, match="strictly descending"):
        Thresholds(strong_hire=strong_hire, hire=hire, lean_no_hire=lean_no_hire)


@pytest.mark.parametrize("value", [80.0, Decimal(80), True, "80"])
def test_thresholds_inexact_type_raises(value: object) -> None:
    with pytest.raises(TypeError, match="int or a Fraction"):
        Thresholds(strong_hire=value)  # type: ignore[arg-type]


def test_thresholds_default_values() -> None:
    assert (DEFAULT_THRESHOLDS.strong_hire, DEFAULT_THRESHOLDS.hire) == (80, 65)
    assert DEFAULT_THRESHOLDS.lean_no_hire == 50


def test_band_labels_and_ranks() -> None:
    assert [(band.label, band.rank) for band in Band] == [
        ("Strong hire", 3),
        ("Hire", 2),
        ("Lean no hire", 1),
        ("No hire", 0),
    ]


def _cap_items(required_kind: Kind = Kind.EXPECTED) -> list[Item]:
    required = Item(key="must", step=1, title="Must", points=1, kind=required_kind, required=True)
    return [required, expected("rest", points=9, step=2)]


@pytest.mark.parametrize("must", [MISSED, ItemMark(None), HINTED_MISSED])
def test_cap_lowers_band_when_required_item_missed(must: ItemMark) -> None:
    items = _cap_items()

    card = score(items, {"must": must, "rest": COVERED})

    assert card.total.percent == 90
    assert (card.uncapped_band, card.band, card.capped) == (
        Band.STRONG_HIRE,
        Band.LEAN_NO_HIRE,
        True,
    )
    assert card.missed_required == (items[0],)


def test_cap_required_item_missed_when_unmarked_in_mapping() -> None:
    items = _cap_items()

    card = score(items, {"rest": COVERED})

    assert (card.band, card.capped, card.missed_required) == (Band.LEAN_NO_HIRE, True, (items[0],))


def test_cap_not_capped_when_already_no_hire_but_lists_item() -> None:
    items = _cap_items()

    card = score(items, {"must": MISSED, "rest": HINTED_PARTIAL})

    assert card.total.percent == Fraction(45, 2)
    assert (card.uncapped_band, card.band, card.capped) == (Band.NO_HIRE, Band.NO_HIRE, False)
    assert card.missed_required == (items[0],)


def test_cap_not_capped_when_already_lean_no_hire() -> None:
    items = [expected("must", step=1, required=True), expected("rest", step=2)]

    card = score(items, {"rest": COVERED})

    assert card.total.percent == 50
    assert (card.uncapped_band, card.band, card.capped) == (
        Band.LEAN_NO_HIRE,
        Band.LEAN_NO_HIRE,
        False,
    )
    assert card.missed_required == (items[0],)


@pytest.mark.parametrize("must", [COVERED, PARTIAL, HINTED_COVERED, HINTED_PARTIAL])
def test_cap_not_applied_when_required_item_earned_something(must: ItemMark) -> None:
    card = score(_cap_items(), {"must": must, "rest": COVERED})

    assert (card.band, card.capped, card.missed_required) == (Band.STRONG_HIRE, False, ())


def test_cap_ignores_required_on_red_flag() -> None:
    card = score(_cap_items(Kind.RED_FLAG), {"rest": COVERED})

    assert (card.band, card.capped, card.missed_required) == (Band.STRONG_HIRE, False, ())


def test_cap_lists_every_missed_required_item_in_input_order() -> None:
    items = [
        expected("b", required=True, step=2),
        expected("a", required=True, step=1),
        expected("c", required=True, step=1),
    ]

    card = score(items, {"a": COVERED, "c": MISSED})

    assert [item.key for item in card.missed_required] == ["b", "c"]


def test_cap_uses_given_thresholds() -> None:
    thresholds = Thresholds(strong_hire=95, hire=90, lean_no_hire=85)
    items = _cap_items()

    card = score(items, {"must": MISSED, "rest": COVERED}, thresholds)

    assert (card.uncapped_band, card.band, card.capped) == (Band.HIRE, Band.LEAN_NO_HIRE, True)


# --- Display rounding.


@pytest.mark.parametrize(
    ("percent", "shown"),
    [
        (Fraction(7245, 100), "72.5"),
        (Fraction(7245, 100) - Fraction(1, 10**30), "72.4"),
        (Fraction(7244, 100), "72.4"),
        (Fraction(7255, 100), "72.6"),
        (Fraction(200, 3), "66.7"),
        (Fraction(100, 3), "33.3"),
        (Fraction(1, 20), "0.1"),
        (Fraction(1, 21), "0.0"),
        (Fraction(99999, 1000), "100.0"),
        (Fraction(0), "0.0"),
        (Fraction(100), "100.0"),
        (None, "—"),
    ],
)
def test_format_percent_rounds_half_up_to_one_decimal(percent: Fraction | None, shown: str) -> None:
    assert format_percent(percent) == shown


# --- Invalid input.


@pytest.mark.parametrize("mark", [Mark.COVERED, Mark.PARTIAL, Mark.MISSED])
def test_score_rejects_expected_mark_on_red_flag(mark: Mark) -> None:
    with pytest.raises(ValueError, match="can only be observed"):
        score([red_flag("flag")], {"flag": ItemMark(mark)})


def test_score_rejects_observed_on_expected_item() -> None:
    with pytest.raises(ValueError, match="cannot be observed"):
        score([expected("a")], {"a": OBSERVED})


def test_score_rejects_mark_for_unknown_item() -> None:
    with pytest.raises(ValueError, match="unknown items: ghost"):
        score([expected("a")], {"a": COVERED, "ghost": COVERED})


def test_score_rejects_duplicate_item_keys() -> None:
    with pytest.raises(ValueError, match="Duplicate item keys: a"):
        score([expected("a", step=1), expected("a", step=2)], {})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key": ""},
        {"step": 0},
        {"step": 8},
        {"points": 0},
        {"points": True},
        {"kind": "bonus"},
    ],
)
def test_item_invalid_raises(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {"key": "a", "step": 1, "title": "A", "points": 1} | kwargs

    with pytest.raises(ValueError):  # noqa: PT011 (each case has its own message)
        Item(**fields)  # type: ignore[arg-type]


def test_item_and_mark_accept_plain_strings() -> None:
    item = Item(key="a", step=1, title="A", points=1, kind="red_flag", categories=["data"])  # type: ignore[arg-type]

    assert (item.kind, item.categories) == (Kind.RED_FLAG, ("data",))
    assert ItemMark("covered").mark is Mark.COVERED  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bogus"):
        ItemMark("bogus")  # type: ignore[arg-type]


def test_rules_are_sentences() -> None:
    assert len(RULES) >= 5
    assert all(rule[0].isupper() and rule.endswith(".") for rule in RULES)
    # Pages print them verbatim, and tests look for them in the HTML: nothing to escape.
    assert [rule for rule in RULES if html.escape(rule) != rule] == []


# --- Properties.

CATEGORIES = ("data", "metrics", "serving", "latency")


@st.composite
def checklists(draw: st.DrawFn) -> tuple[list[Item], dict[str, ItemMark]]:
    items = []
    for number in range(draw(st.integers(min_value=0, max_value=12))):
        items.append(
            Item(
                key=f"item-{number}",
                step=draw(st.integers(min_value=1, max_value=7)),
                title=f"Item {number}",
                points=draw(st.integers(min_value=1, max_value=5)),
                kind=draw(st.sampled_from(Kind)),
                required=draw(st.booleans()),
                categories=tuple(draw(st.lists(st.sampled_from(CATEGORIES), max_size=3))),
            )
        )
    marks = {}
    for item in items:
        if draw(st.booleans()):
            continue
        if item.kind is Kind.EXPECTED:
            choices = [Mark.COVERED, Mark.PARTIAL, Mark.MISSED, None]
        else:
            choices = [Mark.OBSERVED, None]
        marks[item.key] = ItemMark(draw(st.sampled_from(choices)), after_hint=draw(st.booleans()))
    return items, marks


def _all_scores(card: Scorecard) -> dict[str, Score]:
    return (
        {f"step {step}": result for step, result in card.steps.items()}
        | {f"category {slug}": result for slug, result in card.categories.items()}
        | {"total": card.total}
    )


@given(checklists())
def test_property_every_percent_within_0_and_100(
    checklist: tuple[list[Item], dict[str, ItemMark]],
) -> None:
    card = score(*checklist)

    for result in _all_scores(card).values():
        assert result.percent is None or 0 <= result.percent <= 100
        assert (result.percent is None) == (result.possible == 0)
    assert card.band.rank <= card.uncapped_band.rank
    assert card.capped == (card.band != card.uncapped_band)


@given(checklists(), st.data())
def test_property_covering_one_more_item_never_lowers_a_score(
    checklist: tuple[list[Item], dict[str, ItemMark]], data: st.DataObject
) -> None:
    items, marks = checklist
    open_items = [
        item.key
        for item in items
        if item.kind is Kind.EXPECTED
        and marks.get(item.key, ItemMark(None)).mark in (None, Mark.MISSED)
    ]
    if not open_items:
        return
    key = data.draw(st.sampled_from(open_items))
    after_hint = data.draw(st.booleans())

    before = score(items, marks)
    after = score(items, marks | {key: ItemMark(Mark.COVERED, after_hint=after_hint)})

    scores_before, scores_after = _all_scores(before), _all_scores(after)
    assert scores_before.keys() == scores_after.keys()
    for name, old in scores_before.items():
        new = scores_after[name]
        assert (old.percent is None) == (new.percent is None)
        assert old.percent is None or new.percent >= old.percent, name
    assert after.band.rank >= before.band.rank


@given(checklists(), st.data())
def test_property_observing_a_red_flag_never_raises_a_score(
    checklist: tuple[list[Item], dict[str, ItemMark]], data: st.DataObject
) -> None:
    items, marks = checklist
    unobserved = [
        item.key
        for item in items
        if item.kind is Kind.RED_FLAG and marks.get(item.key, ItemMark(None)).mark is None
    ]
    if not unobserved:
        return
    key = data.draw(st.sampled_from(unobserved))

    before = score(items, marks)
    after = score(items, marks | {key: OBSERVED})

    scores_before, scores_after = _all_scores(before), _all_scores(after)
    for name, old in scores_before.items():
        new = scores_after[name]
        assert old.percent is None or new.percent <= old.percent, name
    assert after.band.rank <= before.band.rank


@given(checklists(), st.data())
def test_property_item_order_changes_nothing(
    checklist: tuple[list[Item], dict[str, ItemMark]], data: st.DataObject
) -> None:
    items, marks = checklist
    shuffled = data.draw(st.permutations(items))

    original, permuted = score(items, marks), score(shuffled, marks)

    assert _all_scores(permuted) == _all_scores(original)
    assert list(permuted.steps) == list(original.steps)
    assert list(permuted.categories) == list(original.categories)
    assert (permuted.band, permuted.uncapped_band, permuted.capped) == (
        original.band,
        original.uncapped_band,
        original.capped,
    )
    assert set(permuted.missed_required) == set(original.missed_required)
    assert {line.item.key: line for line in permuted.lines} == {
        line.item.key: line for line in original.lines
    }


@given(checklists())
def test_property_total_equals_recomputation_from_lines(
    checklist: tuple[list[Item], dict[str, ItemMark]],
) -> None:
    card = score(*checklist)

    earned = sum((line.earned for line in card.lines), Fraction(0))
    deducted = sum((line.deducted for line in card.lines), Fraction(0))
    possible = sum(line.item.points for line in card.lines if line.item.kind is Kind.EXPECTED)
    assert card.total == Score(earned=earned, deducted=deducted, possible=Fraction(possible))
    if possible:
        assert card.total.percent == max(Fraction(0), earned - deducted) / possible * 100
    for line in card.lines:
        assert line.earned >= 0
        assert line.deducted >= 0
        if line.item.kind is Kind.EXPECTED:
            assert line.deducted == 0
            assert line.earned <= line.item.points
        else:
            assert line.earned == 0
            assert line.deducted in (0, line.item.points)


# --- Not applicable.


@pytest.mark.parametrize(
    ("item", "item_mark", "explanation"),
    [
        (expected("a", points=3), NOT_APPLICABLE, "not applicable: left out"),
        (expected("a", points=3), ItemMark(Mark.NOT_APPLICABLE, True), "not applicable: left out"),
        (expected("a", required=True), NOT_APPLICABLE, "not applicable: left out"),
        (red_flag("a", points=2), NOT_APPLICABLE, "red flag not applicable: left out"),
    ],
)
def test_not_applicable_line_earns_deducts_and_offers_nothing(
    item: Item, item_mark: ItemMark, explanation: str
) -> None:
    card = score([item], {"a": item_mark})

    (line,) = card.lines
    assert (line.earned, line.deducted, line.possible) == (0, 0, 0)
    assert (line.explanation, line.not_applicable, line.stretch) == (explanation, True, False)
    assert card.not_applicable == (item,)


# Three steps: step 1 keeps one item not applicable, step 2 is entirely not applicable.
NA_ITEMS = (
    expected("goal", points=2, step=1, required=True, categories=("requirements",)),
    expected("latency", points=2, step=1, required=True, categories=("latency",)),
    expected("ann", points=1, step=2, categories=("latency",)),
    red_flag("no-budget", points=2, step=2, categories=("latency",)),
    expected("split", points=3, step=3, categories=("data-leakage",)),
)
NA_MARKS = {
    "goal": COVERED,
    "latency": NOT_APPLICABLE,
    "ann": NOT_APPLICABLE,
    "no-budget": NOT_APPLICABLE,
    "split": PARTIAL,
}


@pytest.mark.parametrize(
    ("group", "earned", "deducted", "possible", "display"),
    [
        ("step 1", Fraction(2), Fraction(0), Fraction(2), "100.0"),
        ("step 2", Fraction(0), Fraction(0), Fraction(0), "—"),
        ("step 3", Fraction(3, 2), Fraction(0), Fraction(3), "50.0"),
        ("category latency", Fraction(0), Fraction(0), Fraction(0), "—"),
        ("category requirements", Fraction(2), Fraction(0), Fraction(2), "100.0"),
        ("total", Fraction(7, 2), Fraction(0), Fraction(5), "70.0"),
    ],
)
def test_not_applicable_items_leave_every_group(
    group: str, earned: Fraction, deducted: Fraction, possible: Fraction, display: str
) -> None:
    card = score(NA_ITEMS, NA_MARKS)

    result = _all_scores(card)[group]
    assert result == Score(earned=earned, deducted=deducted, possible=possible)
    assert result.display == display


def test_not_applicable_required_item_never_caps() -> None:
    card = score(NA_ITEMS, NA_MARKS | {"split": COVERED})

    assert card.total.percent == 100
    assert (card.band, card.capped, card.missed_required) == (Band.STRONG_HIRE, False, ())
    assert [item.key for item in card.not_applicable] == ["latency", "ann", "no-budget"]


def test_not_applicable_compared_with_missed() -> None:
    # Missed, the latency item costs 2 of 7 points and caps the band; not applicable, neither.
    missed = score(NA_ITEMS, NA_MARKS | {"latency": MISSED, "split": COVERED})
    left_out = score(NA_ITEMS, NA_MARKS | {"split": COVERED})

    assert (missed.total.percent, missed.band) == (Fraction(500, 7), Band.LEAN_NO_HIRE)
    assert (left_out.total.percent, left_out.band) == (Fraction(100), Band.STRONG_HIRE)


def test_not_applicable_red_flag_deducts_nothing() -> None:
    items = [expected("a", points=2), red_flag("flag", points=2)]

    observed = score(items, {"a": COVERED, "flag": OBSERVED})
    left_out = score(items, {"a": COVERED, "flag": NOT_APPLICABLE})

    assert (observed.total.percent, left_out.total.percent) == (0, 100)
    assert left_out.lines[1].deducted == 0


# --- Levels and stretch items.


def test_level_order_labels_and_plain_strings() -> None:
    assert [(level.value, level.label, level.rank) for level in Level] == [
        ("core", "Core", 0),
        ("senior", "Senior", 1),
        ("staff", "Staff", 2),
    ]
    assert expected("a").level is Level.CORE
    assert expected("a", level="staff").level is Level.STAFF
    with pytest.raises(ValueError, match="principal"):
        expected("a", level="principal")


@pytest.mark.parametrize(
    ("level", "target", "stretch"),
    [
        (Level.CORE, Level.CORE, False),
        (Level.CORE, Level.STAFF, False),
        (Level.SENIOR, Level.CORE, True),
        (Level.SENIOR, Level.SENIOR, False),
        (Level.SENIOR, Level.STAFF, False),
        (Level.STAFF, Level.CORE, True),
        (Level.STAFF, Level.SENIOR, True),
        (Level.STAFF, Level.STAFF, False),
    ],
)
def test_stretch_means_above_the_target_level(level: Level, target: Level, stretch: bool) -> None:
    item = expected("a", level=level)

    card = score([item], {}, target_level=target)

    assert card.lines[0].stretch is stretch
    assert card.stretch == ((item,) if stretch else ())
    assert card.target_level is target


@pytest.mark.parametrize(
    ("item_mark", "earned", "explanation"),
    [
        (COVERED, Fraction(2), "stretch, covered: 2 of 2 pt, added to earned and available"),
        (
            PARTIAL,
            Fraction(1),
            "stretch, partial: ½ × 2 pt = 1 pt, added to earned and available",
        ),
        (
            HINTED_COVERED,
            Fraction(1),
            "stretch, covered, after a hint: ½ × 2 pt = 1 pt, added to earned and available",
        ),
        (
            HINTED_PARTIAL,
            Fraction(1, 2),
            "stretch, partial, after a hint: ¼ × 2 pt = 0.5 pt, added to earned and available",
        ),
        (MISSED, Fraction(0), "stretch, missed: not counted"),
        (HINTED_MISSED, Fraction(0), "stretch, missed, after a hint: not counted"),
        (ItemMark(None), Fraction(0), "stretch, not marked: not counted"),
        (NOT_APPLICABLE, Fraction(0), "not applicable: left out"),
    ],
)
def test_stretch_line_adds_what_it_earns_to_both_sides(
    item_mark: ItemMark, earned: Fraction, explanation: str
) -> None:
    card = score(
        [expected("a", points=2, level=Level.STAFF)], {"a": item_mark}, target_level=Level.SENIOR
    )

    (line,) = card.lines
    assert (line.earned, line.deducted, line.possible) == (earned, 0, earned)
    assert (line.explanation, line.stretch) == (explanation, True)


# A junior session: two core items (4 points), a senior item and a staff item.
STRETCH_ITEMS = (
    expected("core-a", points=2, step=1, categories=("metrics",)),
    expected("core-b", points=2, step=1, categories=("metrics",)),
    expected("senior", points=2, step=1, categories=("metrics",), level=Level.SENIOR),
    expected("staff", points=4, step=2, level=Level.STAFF, required=True),
)


@pytest.mark.parametrize(
    ("stretch_marks", "earned", "possible", "percent"),
    [
        # Core: 2 + 1 of 4 = 75 %. Stretch items missed or unmarked change nothing.
        ({}, Fraction(3), Fraction(4), Fraction(75)),
        ({"senior": MISSED, "staff": MISSED}, Fraction(3), Fraction(4), Fraction(75)),
        # Senior covered: (3 + 2) / (4 + 2).
        ({"senior": COVERED}, Fraction(5), Fraction(6), Fraction(250, 3)),
        # Senior partial: (3 + 1) / (4 + 1) = 80 %.
        ({"senior": PARTIAL}, Fraction(4), Fraction(5), Fraction(80)),
        # Both covered: (3 + 2 + 4) / (4 + 2 + 4) = 90 %.
        ({"senior": COVERED, "staff": COVERED}, Fraction(9), Fraction(10), Fraction(90)),
    ],
)
def test_stretch_items_only_raise_the_total(
    stretch_marks: dict[str, ItemMark], earned: Fraction, possible: Fraction, percent: Fraction
) -> None:
    marks = {"core-a": COVERED, "core-b": PARTIAL} | stretch_marks

    card = score(STRETCH_ITEMS, marks, target_level=Level.CORE)

    assert (card.total.earned, card.total.possible, card.total.percent) == (
        earned,
        possible,
        percent,
    )


def test_stretch_only_group_has_no_score_until_covered() -> None:
    unmarked = score(STRETCH_ITEMS, {}, target_level=Level.CORE)
    covered = score(STRETCH_ITEMS, {"staff": HINTED_PARTIAL}, target_level=Level.CORE)

    assert (unmarked.steps[2].possible, unmarked.steps[2].display) == (0, "—")
    assert (covered.steps[2].possible, covered.steps[2].display) == (1, "100.0")


def test_stretch_required_item_never_caps_but_caps_at_its_own_level() -> None:
    items = [expected("core", points=6), expected("staff", level=Level.STAFF, required=True)]
    marks = {"core": COVERED, "staff": MISSED}

    senior = score(items, marks, target_level=Level.SENIOR)
    staff = score(items, marks, target_level=Level.STAFF)

    assert (senior.total.percent, senior.band, senior.missed_required) == (
        100,
        Band.STRONG_HIRE,
        (),
    )
    assert (staff.total.percent, staff.uncapped_band) == (Fraction(600, 7), Band.STRONG_HIRE)
    assert (staff.band, staff.missed_required) == (Band.LEAN_NO_HIRE, (items[1],))


def test_red_flags_count_whatever_their_level() -> None:
    items = [expected("a", points=4), red_flag("flag", points=1, level=Level.STAFF)]

    card = score(items, {"a": COVERED, "flag": OBSERVED}, target_level=Level.CORE)

    assert (card.total.deducted, card.total.percent, card.stretch) == (1, 75, ())


def test_default_target_is_staff_so_levels_change_nothing() -> None:
    marks = {"core-a": COVERED, "senior": PARTIAL}
    as_core = [
        Item(
            item.key, item.step, item.title, item.points, item.kind, item.required, item.categories
        )
        for item in STRETCH_ITEMS
    ]

    assert _all_scores(score(STRETCH_ITEMS, marks)) == _all_scores(score(as_core, marks))
    assert score(STRETCH_ITEMS, marks).stretch == ()


def test_rules_name_not_applicable_and_stretch() -> None:
    text = " ".join(RULES)

    assert "not applicable is left out" in text
    assert "stretch item" in text
    assert "never caps the band" in text


# --- Properties with levels, not-applicable marks and a target level.


@st.composite
def leveled_checklists(draw: st.DrawFn) -> tuple[list[Item], dict[str, ItemMark], Level]:
    """Like `checklists`, with item levels, not-applicable marks and a target level."""
    items, marks = draw(checklists())
    items = [
        Item(
            key=item.key,
            step=item.step,
            title=item.title,
            points=item.points,
            kind=item.kind,
            required=item.required,
            categories=item.categories,
            level=draw(st.sampled_from(Level)),
        )
        for item in items
    ]
    for item in items:
        if draw(st.integers(min_value=0, max_value=4)) == 0:
            marks[item.key] = ItemMark(Mark.NOT_APPLICABLE, after_hint=draw(st.booleans()))
    return items, marks, draw(st.sampled_from(Level))


def _never_lower(before: Scorecard, after: Scorecard) -> None:
    """Every group scored in both keeps or raises its percent; the band keeps or raises its rank.

    A group may gain a percent (its first counted points) or lose one (its last points left out),
    since "no points available" is not a number to compare."""
    scores_before, scores_after = _all_scores(before), _all_scores(after)
    assert scores_before.keys() == scores_after.keys()
    for name, old in scores_before.items():
        new = scores_after[name]
        if old.percent is not None and new.percent is not None:
            assert new.percent >= old.percent, name
    assert after.band.rank >= before.band.rank


@given(leveled_checklists(), st.data())
def test_property_not_applicable_never_changes_another_group(
    checklist: tuple[list[Item], dict[str, ItemMark], Level], data: st.DataObject
) -> None:
    """Marking an item not applicable, whatever it was marked before, leaves the score of every
    step it is not in, and of every category it is not tagged with, exactly as it was: a line
    only ever adds to the groups of its own item."""
    items, marks, target = checklist
    if not items:
        return
    item = data.draw(st.sampled_from(items))

    before = score(items, marks, target_level=target)
    after = score(items, marks | {item.key: NOT_APPLICABLE}, target_level=target)

    for step, result in before.steps.items():
        if step != item.step:
            assert after.steps[step] == result
    for slug, result in before.categories.items():
        if slug not in item.categories:
            assert after.categories[slug] == result


@given(leveled_checklists(), st.data())
def test_property_leaving_out_a_miss_or_a_red_flag_never_lowers_a_score(
    checklist: tuple[list[Item], dict[str, ItemMark], Level], data: st.DataObject
) -> None:
    """An expected item that earned nothing (missed or unmarked) or a red flag, marked not
    applicable instead, never lowers any step, category or total percent, nor the band: the
    earned points stay or grow (the deduction goes) while the points available stay or shrink."""
    items, marks, target = checklist
    candidates = [
        item.key
        for item in items
        if marks.get(item.key, ItemMark(None)).mark in (None, Mark.MISSED, Mark.OBSERVED)
    ]
    if not candidates:
        return
    key = data.draw(st.sampled_from(candidates))

    before = score(items, marks, target_level=target)
    after = score(items, marks | {key: NOT_APPLICABLE}, target_level=target)

    _never_lower(before, after)
    assert len(after.missed_required) <= len(before.missed_required)


@given(leveled_checklists(), st.data())
def test_property_marking_a_stretch_item_never_lowers_a_score(
    checklist: tuple[list[Item], dict[str, ItemMark], Level], data: st.DataObject
) -> None:
    """Any mark on a stretch item, after a hint or not, scores at least as well as leaving it
    unmarked, for every step, category and the total, and for the band: it adds the same amount x
    to earned and available, and (e − d + x) / (p + x) ≥ (e − d) / p because e ≤ p."""
    items, marks, target = checklist
    stretch = [
        item.key for item in items if item.kind is Kind.EXPECTED and item.level.rank > target.rank
    ]
    if not stretch:
        return
    key = data.draw(st.sampled_from(stretch))
    mark = data.draw(st.sampled_from([Mark.COVERED, Mark.PARTIAL, Mark.MISSED]))
    after_hint = data.draw(st.booleans())

    unmarked = {k: v for k, v in marks.items() if k != key}
    before = score(items, unmarked, target_level=target)
    after = score(items, unmarked | {key: ItemMark(mark, after_hint)}, target_level=target)

    _never_lower(before, after)
    assert after.missed_required == before.missed_required


@given(leveled_checklists(), st.sampled_from(Level))
def test_property_a_lower_target_level_never_lowers_a_score(
    checklist: tuple[list[Item], dict[str, ItemMark], Level], lower: Level
) -> None:
    """The same marks judged at a lower target level score at least as well everywhere: an item
    that becomes a stretch item keeps what it earned on both sides and drops only what it did not
    earn from the points available, and it can no longer cap the band."""
    items, marks, target = checklist
    if lower.rank > target.rank:
        lower, target = target, lower

    higher_card = score(items, marks, target_level=target)
    lower_card = score(items, marks, target_level=lower)

    _never_lower(higher_card, lower_card)
    assert set(lower_card.missed_required) <= set(higher_card.missed_required)


@given(leveled_checklists(), st.data())
def test_property_every_applicable_core_item_covered_scores_strong_hire(
    checklist: tuple[list[Item], dict[str, ItemMark], Level], data: st.DataObject
) -> None:
    """With every applicable expected item at or below the target level covered (no hint), no red
    flag observed, and stretch items marked anyhow, every group with points available scores
    exactly 100 % and the band is Strong hire for any thresholds."""
    items, marks, target = checklist
    thresholds = data.draw(
        st.sampled_from(
            [DEFAULT_THRESHOLDS, Thresholds(100, 99, 98), Thresholds(1, Fraction(1, 2), 0)]
        )
    )
    perfect = {}
    for item in items:
        current = marks.get(item.key, ItemMark(None))
        if current.mark is Mark.NOT_APPLICABLE:
            perfect[item.key] = current
        elif item.kind is Kind.RED_FLAG:
            continue
        elif item.level.rank > target.rank:
            perfect[item.key] = current
        else:
            perfect[item.key] = COVERED

    card = score(items, perfect, thresholds, target_level=target)

    if card.total.possible == 0:
        return
    for name, result in _all_scores(card).items():
        assert result.percent in (None, 100), name
    assert (card.band, card.capped, card.missed_required) == (Band.STRONG_HIRE, False, ())


@given(leveled_checklists())
def test_property_every_group_equals_the_sum_of_its_lines(
    checklist: tuple[list[Item], dict[str, ItemMark], Level],
) -> None:
    """Each step, category and the total is exactly the sum of its items' lines, and each line
    stays within its item: earned ≤ available ≤ points, and left-out lines contribute nothing."""
    items, marks, target = checklist

    card = score(items, marks, target_level=target)

    def summed(lines: list) -> Score:
        return Score(
            earned=sum((line.earned for line in lines), Fraction(0)),
            deducted=sum((line.deducted for line in lines), Fraction(0)),
            possible=sum((line.possible for line in lines), Fraction(0)),
        )

    assert card.total == summed(list(card.lines))
    for step, result in card.steps.items():
        assert result == summed([line for line in card.lines if line.item.step == step])
    for slug, result in card.categories.items():
        assert result == summed([line for line in card.lines if slug in line.item.categories])
    for line in card.lines:
        assert (
            0 <= line.earned <= line.possible <= line.item.points or line.item.kind is Kind.RED_FLAG
        )
        if line.not_applicable:
            assert (line.earned, line.deducted, line.possible) == (0, 0, 0)
        if line.stretch:
            assert line.earned == line.possible
    assert card.not_applicable == tuple(line.item for line in card.lines if line.not_applicable)
    assert card.stretch == tuple(
        item for item in items if item.kind is Kind.EXPECTED and item.level.rank > target.rank
    )


@given(checklists(), st.lists(st.sampled_from(Level), min_size=12, max_size=12))
def test_property_default_target_ignores_levels(
    checklist: tuple[list[Item], dict[str, ItemMark]], levels: list[Level]
) -> None:
    """At the default target level (staff) no item is a stretch item, so giving the items any
    levels changes no score, band or line: results from before levels existed stay identical."""
    items, marks = checklist
    leveled = [
        Item(
            item.key,
            item.step,
            item.title,
            item.points,
            item.kind,
            item.required,
            item.categories,
            level,
        )
        for item, level in zip(items, levels, strict=False)
    ]

    plain, with_levels = score(items, marks), score(leveled, marks)

    assert _all_scores(with_levels) == _all_scores(plain)
    assert (with_levels.band, with_levels.capped) == (plain.band, plain.capped)
    assert [line.explanation for line in with_levels.lines] == [
        line.explanation for line in plain.lines
    ]


# --- Purity: the scoring maths must not depend on Django.


def _imported_modules(tree: ast.AST) -> list[str]:
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # A relative import could reach models.py, and so Django, indirectly.
            modules.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if isinstance(node.func, ast.Attribute):
                name = node.func.attr
            if name in ("__import__", "import_module"):
                modules.append(str(node.args[0].value))
    return modules


@pytest.mark.parametrize("path", PURE_MODULES)
def test_pure_module_does_not_import_django(path: str) -> None:
    tree = ast.parse((REPO / path).read_text(), filename=path)

    modules = _imported_modules(tree)

    assert modules, "the parser found no imports at all; is this the right file?"
    assert [m for m in modules if m == "django" or m.startswith(("django.", "."))] == []


def test_pure_module_check_catches_django_imports() -> None:
    sources = [
        "import django",
        "import django.db.models as m",
        "from django.db import models",
        "from . import models",
        "__import__('django.conf')",
        "importlib.import_module('django')",
    ]

    for source in sources:
        modules = _imported_modules(ast.parse(source))
        assert any(m == "django" or m.startswith(("django.", ".")) for m in modules), source


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Fraction(9, 4), None, "2.25"),
        (Fraction(10), None, "10"),
        (Fraction(0), None, "0"),
        (Fraction(200, 3), 3, "66.667"),
        (Fraction(100, 3), 3, "33.333"),
        (Fraction(1, 2000), 3, "0.001"),  # half up
        (Fraction(100), 3, "100.000"),
    ],
)
def test_decimal_text(value, places, text):
    assert decimal_text(value, places) == text
