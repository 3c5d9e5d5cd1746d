"""The rules of a case, shared by the admin, the files and publishing (no database)."""

import pytest
from django.core.exceptions import ValidationError

from casebank import rules
from casebank.models import Case


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("a\u2028b\u2029c\x85d", "a\nb\nc\nd"),
        ("\r\n  padded  \r\n", "padded"),
        ("keeps  inner\tspaces", "keeps  inner\tspaces"),
    ],
)
def test_text_is_normalised_to_lf_and_trimmed(text, expected):
    assert rules.normalise_text(text) == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("grocery-items", None),
        ("a1-b2", None),
        (
            "Grocery_Items",
            "Use lowercase letters, digits and single hyphens only, like “grocery-items”.",
        ),
        ("in stock", "Use lowercase letters, digits and single hyphens only, like “in-stock”."),
        (
            "double--hyphen",
            "Use lowercase letters, digits and single hyphens only, like “double-hyphen”.",
        ),
        ("-edge", "Use lowercase letters, digits and single hyphens only, like “edge”."),
        ("___", "Use lowercase letters, digits and single hyphens only, like “grocery-items”."),
    ],
)
def test_slugs_tags_and_keys_share_one_rule(value, problem):
    assert rules.slug_problem(value) == problem


def test_a_limit_is_checked_only_when_given():
    assert rules.slug_problem("a" * 41, limit=40) == "Use at most 40 characters (this has 41)."
    assert rules.slug_problem("a" * 41) is None


def test_heading_lines_outside_code_are_refused_with_the_fix():
    text = "Intro\r\n# Outline\r\n```\r\n# a comment in code\r\n```\r\n## Fine\r\n#Fine too"
    assert rules.section_text_problems(text) == [
        (
            2,
            "Line 2, “# Outline”, would start a new section of the case file. For a heading "
            "inside this text use two hashes: “## Outline”.",
        )
    ]


def test_an_unclosed_code_block_is_refused():
    assert rules.section_text_problems("Look:\n~~~\ncode") == [
        (
            2,
            "The code block opened on line 2 is never closed: end it with a line of three "
            "backticks (```) or tildes (~~~), or the rest of the case file reads as code.",
        )
    ]


def test_a_fence_of_the_other_kind_does_not_close_a_block():
    scanned = rules.scan_markdown("~~~\n```\n# inside\n~~~\n# outside")
    assert [fenced for _, _, fenced in scanned.lines] == [True, True, True, True, False]
    assert scanned.unclosed_fence is None


@pytest.mark.parametrize(
    ("length", "minutes", "problem"),
    [
        (45, [5, 6, 8, 8, 6, 6, 6], None),
        (60, [8, 8, 8, 9, 9, 9, 9], None),
        (45, [5, 6, 8], "Give 7 numbers, one per step (this has 3)."),
        (45, [5, 6, 8, 8, 6, 6, 0], "Each step needs a whole number of minutes, at least 1."),
        (45, [5, 6, 8, 8, 6, 6, True], "Each step needs a whole number of minutes, at least 1."),
        (
            45,
            [7, 7, 7, 7, 7, 7, 7],
            "The steps add up to 49 minutes; a 45-minute interview has 45.",
        ),
    ],
)
def test_step_budgets(length, minutes, problem):
    assert rules.budgets_problem(length, minutes) == problem


def test_publishing_needs_four_facts():
    assert rules.publish_needs_facts(4) is None
    assert rules.publish_needs_facts(1) == (
        "To publish, add at least 4 clarification facts (there is 1)."
    )


def test_the_validators_raise_the_same_sentences():
    with pytest.raises(ValidationError) as excinfo:
        rules.validate_slug("In_Stock")
    assert excinfo.value.messages == [
        "Use lowercase letters, digits and single hyphens only, like “in-stock”."
    ]
    with pytest.raises(ValidationError, match=r"Keep this to one line\."):
        rules.validate_one_line("two\nlines")
    rules.validate_section_text("## Fine\n\ntext")


def test_case_budgets_replace_the_rubrics_when_set():
    case = Case(step_budgets={"45": [5, 6, 8, 8, 6, 6, 6]})
    assert [case.budget_minutes(step, 45) for step in range(1, 8)] == [5, 6, 8, 8, 6, 6, 6]
    assert case.budget_minutes(1, 60) is None  # no 60-minute budgets: the rubric's apply
    assert case.budget_minutes(8, 45) is None
    assert Case().budget_minutes(1, 45) is None
    assert Case(step_budgets={"60": [7] * 7}).budget_minutes(2, 75) == 7
