import ast
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
