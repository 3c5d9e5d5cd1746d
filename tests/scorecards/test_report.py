"""The scorecard's numbers are rubrics.scoring's numbers for the stored marks, everywhere."""

import json
from decimal import Decimal
from fractions import Fraction

import pytest
from django.urls import reverse

from interviews import checklist
from interviews.models import MarkSource
from interviews.permissions import Role
from rubrics import scoring
from scorecards import exports, report
from scorecards.serialize import scores_data
from tests.builders import CYCLE, play_session, scoring_items, varied_marks

pytestmark = pytest.mark.django_db


def _expected_card(session, wanted: dict[str, tuple[str, bool]]) -> scoring.Scorecard:
    """What the rules give for the marks the test asked for, computed without the database's
    copy of the marks."""
    items = scoring_items(session)
    marks = {key: scoring.ItemMark(scoring.Mark(m), after_hint=h) for key, (m, h) in wanted.items()}
    return scoring.score(
        items,
        marks,
        session.rubric_version.thresholds,
        target_level=scoring.Level(session.target_level),
    )


def _all(mark: str, after_hint: bool = False):
    def pick(items):
        return {i.key: (mark, after_hint) for i in items if i.kind is scoring.Kind.EXPECTED}

    return pick


MARK_SETS = {
    **{
        f"varied-{shift}": (lambda s: lambda items: varied_marks(items, s))(shift)
        for shift in range(len(CYCLE))
    },
    "all-covered": _all("covered"),
    "all-partial-after-hint": _all("partial", after_hint=True),
    "nothing": lambda items: {},
    "flags-only": lambda items: {
        i.key: ("observed", False) for i in items if i.kind is scoring.Kind.RED_FLAG
    },
}


@pytest.mark.parametrize("name", MARK_SETS)
def test_scorecard_equals_scoring_for_stored_marks(
    client, interviewer, candidate, case, rubric_version, name
):
    picker = MARK_SETS[name]
    session = play_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        marks=picker,
    )
    expected = _expected_card(session, picker(scoring_items(session)))

    built = report.build_report(session, Role.INTERVIEWER)
    assert built.card == expected
    assert built.card == checklist.score_session(session, source=MarkSource.INTERVIEWER)
    assert [row.line for row in built.rows] == list(expected.lines)
    assert [step.score for step in built.steps] == list(expected.steps.values())
    assert {c.slug: c.score for c in built.categories} == expected.categories

    client.force_login(interviewer)
    data = client.get(reverse("scorecards:json", args=[session.pk])).json()
    assert data["scores"] == scores_data(expected)
    total = expected.total.percent
    if total is not None:
        assert Fraction(data["scores"]["total"]["percent_exact"]) == total
        assert abs(
            Decimal(data["scores"]["total"]["percent"])
            - Decimal(total.numerator) / total.denominator
        ) <= Decimal("0.0005")
    assert [(i["key"], i["earned"], i["deducted"]) for i in data["items"]] == [
        (line.item.key, _dec(line.earned), _dec(line.deducted)) for line in expected.lines
    ]
    html = client.get(reverse("scorecards:scorecard", args=[session.pk])).content.decode()
    percent = " %" if total is not None else ""
    assert f"Total: <strong>{expected.total.display}{percent}</strong>" in html
    assert f"Band: <strong>{expected.band.label}</strong>" in html
    markdown = client.get(reverse("scorecards:markdown", args=[session.pk])).content.decode()
    assert (
        f"**Total: {expected.total.display}{percent}** · **Band: {expected.band.label}**"
        in markdown
    )


def _dec(value: Fraction) -> str:
    return f"{(Decimal(value.numerator) / value.denominator).normalize():f}"


def test_the_stored_digest_agrees_with_the_scorecard(finished):
    built = report.build_report(finished, Role.INTERVIEWER)
    assert Fraction(finished.result["total"]) == built.card.total.percent
    assert scores_data(built.card)["total"]["percent"] == "27.273"
    assert finished.band == built.card.band.value


def test_json_carries_items_times_and_budgets(client, interviewer, finished):
    client.force_login(interviewer)
    response = client.get(reverse("scorecards:json", args=[finished.pk]))
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="spar-scorecard-{finished.pk}.json"'
    )
    data = json.loads(response.content)
    first = data["items"][0]
    assert first == {
        "key": "business-objective",
        "title": "Names the business objective",
        "step": 1,
        "categories": ["requirements"],
        "points": 2,
        "kind": "expected",
        "required": True,
        "mark": "covered",
        "after_hint": False,
        "marked_at": "2025-03-01T12:00:10+00:00",
        "earned": "2",
        "deducted": "0",
        "explanation": "covered: 2 of 2 pt",
        "level": "core",
        "stretch": False,
        "not_applicable": None,
    }
    twist = next(i for i in data["items"] if i["key"] == "case:twist")
    assert (twist["step"], twist["categories"], twist["points"]) == (5, ["data-leakage"], 2)
    unmarked = next(i for i in data["items"] if i["mark"] is None and i["kind"] == "expected")
    assert (unmarked["marked_at"], unmarked["explanation"]) == (
        None,
        f"not marked, counts as missed: 0 of {unmarked['points']} pt",
    )
    steps = {s["number"]: s for s in data["steps"]}
    assert {
        n: (s["elapsed_seconds"], s["budget_seconds"], s["overrun_seconds"], s["overrun_minutes"])
        for n, s in steps.items()
    } == {
        1: (390.0, 300, 90, "1.5"),
        2: (240.0, 240, 0, "0.0"),
        3: (511.0, 480, 31, "0.5"),
        4: (300.0, 540, 0, "0.0"),
        5: (300.0, 300, 0, "0.0"),
        6: (420.0, 420, 0, "0.0"),
        7: (200.0, 240, 0, "0.0"),
    }
    assert steps[1]["hints"] == [
        {"text": "HINT-SECRET: think about QPS", "created_at": "2025-03-01T12:00:20+00:00"}
    ]
    assert data["session"]["self_assessment"] == "pending"
    assert data["self_assessment"] is None
    assert data["marks_from"] == "interviewer"


# --- strengths and "work on next"

HIGHLIGHT_MARKS = {
    "product-surface": ("covered", False),
    "business-objective": ("covered", False),
    "scale-estimates": ("covered", False),
    "latency-budget": ("covered", True),  # after a hint: not a strength, not missed
    "ml-objective": ("covered", False),
    "feature-groups": ("covered", False),
    "case:twist": ("covered", False),
    "drift-detection": ("covered", False),
    "cold-start": ("partial", False),
    "success-metrics-early": ("missed", False),
}


def test_strengths_and_work_on_next_are_deterministic(interviewer, candidate, case, rubric_version):
    session = play_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        marks=lambda items: HIGHLIGHT_MARKS,
    )
    built = report.build_report(session, Role.INTERVIEWER)
    # 2-point items covered without a hint, by step; the 1-point ones do not make the five.
    assert [row.key for row in built.strengths] == [
        "business-objective",
        "ml-objective",
        "feature-groups",
        "case:twist",
        "drift-detection",
    ]
    # Required items missed (or not marked) first, then 2-point items in checklist order.
    assert [row.key for row in built.work_on_next] == [
        "time-aware-split",
        "task-appropriate-metrics",
        "success-metrics-early",
        "point-in-time-features",
        "training-serving-skew",
    ]


def test_highlights_are_at_most_five_and_empty_when_nothing_fits(
    interviewer, candidate, case, rubric_version
):
    session = play_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        marks=_all("covered"),
    )
    built = report.build_report(session, Role.INTERVIEWER)
    assert len(built.strengths) == report.HIGHLIGHTS == 5
    assert built.work_on_next == []
    assert "- Nothing was missed." in exports.scorecard_markdown(built)


def test_build_report_refuses_a_role_that_may_not_see_results(finished):
    with pytest.raises(ValueError, match="may not see"):
        report.build_report(finished, Role.CANDIDATE)


def test_capped_band_names_the_required_items(client, interviewer, candidate, case, rubric_version):
    covered_but_two = lambda items: {  # noqa: E731 -- a one-line picker
        i.key: ("covered", False)
        for i in items
        if i.kind is scoring.Kind.EXPECTED and i.key not in {"time-aware-split", "drift-detection"}
    }
    session = play_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        marks=covered_but_two,
    )
    client.force_login(interviewer)
    html = client.get(reverse("scorecards:scorecard", args=[session.pk])).content.decode()
    assert "Total: <strong>94.8 %</strong> · Band: <strong>Lean no hire</strong>" in html
    assert (
        "The band is capped at Lean no hire (the score alone gives Strong hire) because required "
        "items were missed: <strong>Splits data in a leakage-safe way</strong>, "
        "<strong>Detects data and prediction drift with a stated test and threshold</strong>."
    ) in html
    data = client.get(reverse("scorecards:json", args=[session.pk])).json()["scores"]
    assert (data["band"], data["uncapped_band"], data["capped"], data["missed_required"]) == (
        "lean_no_hire",
        "strong_hire",
        True,
        ["time-aware-split", "drift-detection"],
    )
