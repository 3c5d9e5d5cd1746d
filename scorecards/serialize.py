"""Scores as plain data for the JSON export and for stored re-scores.

Pure Python, no Django import. Every number is a decimal string; a percent, which can be a
repeating decimal (200/3), also comes as the exact fraction it was computed as.
"""

from fractions import Fraction

from rubrics import scoring
from rubrics.scoring import decimal_text
from scorecards import rescoring

PERCENT_PLACES = 3


def fraction_text(value: Fraction) -> str:
    return str(value)  # "145/2", or "80" for a whole number


def score_data(score: scoring.Score) -> dict[str, object]:
    percent = score.percent
    return {
        "earned": decimal_text(score.earned),
        "deducted": decimal_text(score.deducted),
        "possible": decimal_text(score.possible),
        "net": decimal_text(score.net),
        "percent": None if percent is None else decimal_text(percent, PERCENT_PLACES),
        "percent_exact": None if percent is None else fraction_text(percent),
        "display": score.display,
    }


def scores_data(card: scoring.Scorecard) -> dict[str, object]:
    """Every computed score of a scorecard; also the shape of a stored re-score's result."""
    return {
        "total": score_data(card.total),
        "band": card.band.value,
        "band_label": card.band.label,
        "uncapped_band": card.uncapped_band.value,
        "capped": card.capped,
        "missed_required": [item.key for item in card.missed_required],
        "steps": {str(number): score_data(score) for number, score in card.steps.items()},
        "categories": {slug: score_data(score) for slug, score in card.categories.items()},
    }


def mapping_data(mapped: rescoring.MappedMarks) -> dict[str, list[dict[str, object]]]:
    """What did not carry over in a re-score, with titles, for Rescore.unmapped_keys."""
    return {
        "unmapped": [
            {"key": u.item.key, "title": u.item.title, "step": u.item.step, "reason": u.reason}
            for u in mapped.unmapped
        ],
        "new": [
            {"key": item.key, "title": item.title, "step": item.step, "kind": item.kind.value}
            for item in mapped.new
        ],
    }
