"""The progress maths, without a database."""

import ast
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest

from scorecards import stats
from scorecards.stats import Average, CaseOption, CategoryInfo, Digest, ItemTally, StepOverrun

D1 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
D2 = datetime(2025, 3, 8, 12, 0, tzinfo=UTC)
D3 = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)

CATEGORIES = {
    "requirements": CategoryInfo("requirements", "Requirements", 1),
    "latency": CategoryInfo("latency", "Latency", 2),
    "data-leakage": CategoryInfo("data-leakage", "Data leakage", 3),
    "metrics": CategoryInfo("metrics", "Metrics", 3),
}


def digest(
    session_id: int = 1,
    finished_at: datetime = D1,
    *,
    domain: str = "ads",
    categories: dict[str, str | None] | None = None,
    steps: dict[str, str | None] | None = None,
    missed: list[str] | None = None,
    red_flags: list[str] | None = None,
    titles: dict[str, str] | None = None,
    overruns: dict[str, int] | None = None,
) -> Digest:
    return stats.digest_from_result(
        session_id=session_id,
        finished_at=finished_at,
        case_title=f"Case {session_id}",
        domain=domain,
        total=Fraction(50),
        band="lean_no_hire",
        result={
            "categories": categories or {},
            "steps": steps or {},
            "missed": missed or [],
            "red_flags": red_flags or [],
            "titles": titles or {},
            "overrun_seconds": overruns or {},
        },
    )


def option(case_id: int, title: str, *, domain: str = "ads", items=(), difficulty="senior"):
    return CaseOption(
        case_id=case_id,
        title=title,
        slug=f"slug-{case_id}",
        domain=domain,
        domain_label=domain.capitalize(),
        difficulty=difficulty,
        item_categories=tuple(tuple(item) for item in items),
    )


def test_stats_module_imports_no_django():
    tree = ast.parse(Path(stats.__file__).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not any(name.startswith("django") for name in imported)


def test_digest_from_result_reads_exact_percentages():
    d = digest(
        categories={"latency": "41.667", "metrics": None},
        steps={"1": "75.000", "2": None},
        overruns={"1": 60, "2": 0},
    )
    assert d.categories == {"latency": Fraction(41667, 1000), "metrics": None}
    assert d.steps == {1: Fraction(75), 2: None}
    assert d.overrun_seconds == {1: 60, 2: 0}
    assert d.total_overrun_seconds == 60


def test_digest_without_result_is_empty():
    d = stats.digest_from_result(
        session_id=1,
        finished_at=D1,
        case_title="Old",
        domain="ads",
        total=Fraction(40),
        band="no_hire",
        result=None,
    )
    assert (d.categories, d.steps, d.missed, d.red_flags, d.overrun_seconds) == ({}, {}, (), (), {})
    assert d.total == 40


def test_category_averages_skip_sessions_without_a_score():
    digests = [
        digest(1, categories={"latency": "50.000", "metrics": None}),
        digest(2, categories={"latency": "0.000", "metrics": "80.000"}),
        digest(3, categories={"latency": "25.000"}),
    ]
    assert stats.category_averages(digests) == {
        "latency": Average(Fraction(25), 3),
        "metrics": Average(Fraction(80), 1),
    }
    assert stats.category_averages(digests)["latency"].display == "25.0"


def test_step_averages_and_series():
    digests = [digest(1, steps={"1": "75.000", "2": "0.000"}), digest(2, steps={"1": "50.000"})]
    assert stats.step_averages(digests) == {
        1: Average(Fraction(125, 2), 2),
        2: Average(Fraction(0), 1),
    }
    assert stats.step_series(digests, 2) == [Fraction(0), None]
    assert stats.category_series(digests, "latency") == [None, None]


@pytest.mark.parametrize(
    ("averages", "expected"),
    [
        ({}, None),
        ({"latency": Fraction(40), "requirements": Fraction(30)}, "requirements"),
        # A tie goes to the lower position …
        ({"latency": Fraction(30), "requirements": Fraction(30)}, "requirements"),
        ({"data-leakage": Fraction(30), "latency": Fraction(30)}, "latency"),
        # … then to the slug, when positions are equal too.
        ({"metrics": Fraction(30), "data-leakage": Fraction(30)}, "data-leakage"),
        # A category no longer in the table sorts after the known ones on a tie.
        ({"gone": Fraction(30), "metrics": Fraction(30)}, "metrics"),
        ({"gone": Fraction(29), "metrics": Fraction(30)}, "gone"),
    ],
)
def test_weakest_category(averages, expected):
    given = {slug: Average(mean, 1) for slug, mean in averages.items()}
    assert stats.weakest_category(given, CATEGORIES) == expected


def test_category_order_by_position_then_slug_unknown_last():
    ordered = stats.category_order(["metrics", "gone", "data-leakage", "requirements"], CATEGORIES)
    assert [info.slug for info in ordered] == ["requirements", "data-leakage", "metrics", "gone"]
    assert ordered[-1] == CategoryInfo("gone", "gone", stats.UNKNOWN_POSITION)


def test_most_missed_counts_once_per_session_newest_title_wins():
    digests = [
        digest(2, D2, missed=["a", "b"], titles={"a": "A new", "b": "B"}),
        digest(1, D1, missed=["a", "a", "c"], titles={"a": "A old", "c": "C"}),
        digest(3, D3, missed=["c"], titles={"c": "C"}),
    ]
    assert stats.most_missed(digests) == [
        ItemTally("c", "C", 2, D3),  # as often as a, seen more recently
        ItemTally("a", "A new", 2, D2),
        ItemTally("b", "B", 1, D2),
    ]
    assert stats.most_missed(digests, limit=1) == [ItemTally("c", "C", 2, D3)]


def test_most_missed_ties_on_count_and_date_go_by_title():
    digests = [digest(1, D1, missed=["z", "y"], titles={"z": "Alpha", "y": "Beta"})]
    assert [t.title for t in stats.most_missed(digests)] == ["Alpha", "Beta"]


def test_repeated_red_flags_only_counts_above_one():
    digests = [
        digest(1, D1, red_flags=["rf1", "rf2"], titles={"rf1": "One", "rf2": "Two"}),
        digest(2, D2, red_flags=["rf1"], titles={"rf1": "One"}),
    ]
    assert stats.repeated_red_flags(digests) == [ItemTally("rf1", "One", 2, D2)]


def test_overrun_by_step_averages_with_on_time_sessions_as_zero():
    digests = [
        digest(1, overruns={"1": 60, "2": 0}),
        digest(2, overruns={"1": 0, "2": 120}),
        digest(3, overruns={"1": 120, "2": 0}),
    ]
    overruns = stats.overrun_by_step(digests)
    assert overruns == [
        StepOverrun(1, sessions=3, overrun_sessions=2, average_seconds=Fraction(60)),
        StepOverrun(2, sessions=3, overrun_sessions=1, average_seconds=Fraction(40)),
    ]
    assert stats.minutes(overruns[1].average_seconds) == "0.7"
    assert stats.most_overrun_step(overruns) == overruns[0]


@pytest.mark.parametrize(
    ("overruns", "expected"),
    [
        ([], None),
        ([StepOverrun(1, 2, 0, Fraction(0))], None),
        # Same number of sessions over budget: the larger average wins, then the earlier step.
        ([StepOverrun(1, 2, 1, Fraction(30)), StepOverrun(2, 2, 1, Fraction(60))], 2),
        ([StepOverrun(1, 2, 1, Fraction(30)), StepOverrun(2, 2, 1, Fraction(30))], 1),
        ([StepOverrun(1, 3, 2, Fraction(10)), StepOverrun(2, 3, 1, Fraction(600))], 1),
    ],
)
def test_most_overrun_step(overruns, expected):
    result = stats.most_overrun_step(overruns)
    assert (result.number if result else None) == expected


@pytest.mark.parametrize(("seconds", "text"), [(0, "0.0"), (90, "1.5"), (3, "0.1"), (2, "0.0")])
def test_minutes(seconds, text):
    assert stats.minutes(seconds) == text


# --- the next-case rule -------------------------------------------------------------------------

HISTORY = [
    digest(1, D1, domain="ads", categories={"latency": "50.000", "requirements": "75.000"}),
    digest(2, D2, domain="search", categories={"latency": "0.000", "requirements": "50.000"}),
    digest(3, D3, domain="ads", categories={"latency": "75.000", "requirements": "50.000"}),
]
# Averages: latency 41.667, requirements 58.333 → latency is the weakest.


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # The most extra items on the weakest category wins, whatever the title.
        (
            [
                option(1, "A", items=[["latency"]]),
                option(2, "B", items=[["latency", "metrics"], ["latency"]]),
                option(3, "C", items=[["metrics"], ["metrics"], ["metrics"]]),
            ],
            2,
        ),
        # Equal items: the domain practised least (ads twice, search once, vision never).
        (
            [
                option(1, "A", domain="ads", items=[["latency"]]),
                option(2, "B", domain="search", items=[["latency"]]),
                option(3, "C", domain="vision", items=[["latency"]]),
            ],
            3,
        ),
        (
            [
                option(1, "A", domain="ads", items=[["latency"]]),
                option(2, "B", domain="search", items=[["latency"]]),
            ],
            2,
        ),
        # Equal items and domain counts: the title, then the slug.
        ([option(2, "Beta", domain="nlp"), option(1, "Alpha", domain="vision")], 1),
        ([option(2, "Same", domain="nlp"), option(1, "Same", domain="nlp")], 1),
        # No option adds latency items: domain variety decides.
        ([option(1, "A", domain="ads"), option(2, "B", domain="search")], 2),
        ([], None),
    ],
)
def test_recommend_case_rule(options, expected):
    result = stats.recommend_case(HISTORY, options, CATEGORIES)
    assert (result.case_id if result else None) == expected


def test_recommend_case_explains_the_pick():
    options = [
        option(1, "Ad ranking", domain="ads", items=[["latency"]]),
        option(2, "Visual search", domain="vision", items=[["latency"], ["latency", "metrics"]]),
    ]
    result = stats.recommend_case(HISTORY, options, CATEGORIES)
    assert result == stats.Recommendation(
        case_id=2,
        title="Visual search",
        explanation=(
            "Your weakest concept is Latency (41.7 % average over 3 sessions). This case adds "
            "2 checklist items on it. Its domain, Vision, came up in 0 of your 3 sessions."
        ),
        category="latency",
        items=2,
    )


def test_recommend_case_explains_a_pick_without_items_on_the_category():
    history = [digest(1, D1, domain="ads", categories={"metrics": "10.000"})]
    result = stats.recommend_case(history, [option(7, "Ads again", domain="ads")], CATEGORIES)
    assert result.explanation == (
        "Your weakest concept is Metrics (10.0 % average over 1 session). No case you have not "
        "done adds checklist items on it, but every case's rubric checks it. Its domain, Ads, "
        "came up in 1 of your 1 session."
    )


def test_recommend_case_without_history_starts_with_the_easiest():
    options = [
        option(1, "Alpha", difficulty="staff"),
        option(2, "Zulu", difficulty="junior"),
        option(3, "Mike", difficulty="junior"),
        option(4, "Bravo", difficulty="senior"),
    ]
    result = stats.recommend_case([], options, CATEGORIES)
    assert result.case_id == 3
    assert result.category is None
    assert result.explanation == (
        "You have no finished sessions as candidate yet, so there is nothing to target: Spar "
        "suggests the least difficult case you have not done (junior level), alphabetically "
        "first among equals. After your first session, the suggestion targets your weakest "
        "concept."
    )


def test_recommend_case_history_without_category_scores_uses_the_default():
    result = stats.recommend_case([digest(1)], [option(1, "B"), option(2, "A")], CATEGORIES)
    assert result.case_id == 2
    assert result.category is None
