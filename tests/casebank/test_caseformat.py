"""Case files: parsing, every problem with its line, and canonical round trips (no database)."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from casebank import rules
from casebank.caseformat import (
    SECTIONS,
    CaseData,
    CaseFormatError,
    ExclusionData,
    ExtraItemData,
    FactData,
    Problem,
    References,
    parse_case,
    serialize_case,
)

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "casebank" / "cases").glob("*.md"))

MINIMAL = """---
slug: tiny-case
title: A tiny case
summary: Small but complete.
domain: ads
difficulty: junior
status: draft
tags:
- ranking
facts:
- question: How many users?
  answer: About 10 million a day.
---

{body}
"""
# The front matter above ends on line 13; the body starts on line 15.
BODY_LINE = 15


def line_of(text: str, line: str) -> int:
    """The number of the first line of `text` that is exactly `line`."""
    return text.split("\n").index(line) + 1


def _body(**overrides: str) -> str:
    texts = {name: f"Text of {name.lower()}." for name in SECTIONS} | overrides
    return "\n\n".join(f"# {name}\n\n{text}" for name, text in texts.items())


def _problems(text: str, references: References | None = None) -> list[Problem]:
    with pytest.raises(CaseFormatError) as excinfo:
        parse_case(text, references)
    return excinfo.value.problems


def test_shipped_library_has_fifteen_complete_cases():
    assert len(SHIPPED) >= 15
    for path in SHIPPED:
        case = parse_case(path.read_text())
        assert case.slug == path.stem
        assert case.status == "published"
        assert len(case.facts) >= 5, path.name
        assert all(case.probes), f"{path.name} lacks probes for a step"
        assert any(ch.isdigit() for fact in case.facts for ch in fact.answer), path.name


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_files_are_canonical(path):
    text = path.read_text()
    assert serialize_case(parse_case(text)) == text


def test_minimal_case_round_trips():
    text = MINIMAL.format(body=_body())
    case = parse_case(text)
    assert case.tags == ("ranking",)
    assert case.probes[6] == "Text of step 7 probes."
    assert (case.not_applicable, case.step_budgets) == ((), ())
    assert serialize_case(case) == text
    # Optional keys with no value are not written at all.
    assert "extra_items" not in text
    assert "not_applicable" not in text
    assert "step_budgets" not in text


def test_fenced_code_may_contain_hash_lines():
    prompt = "Look:\n\n```python\n# not a section\nprint(1)\n```"
    case = parse_case(MINIMAL.format(body=_body(**{"Candidate prompt": prompt})))
    assert case.candidate_prompt == prompt


def test_windows_line_endings_are_read_as_lf():
    text = MINIMAL.format(body=_body(**{"Model answer outline": "One.\n\nTwo."}))
    case = parse_case(text.replace("\n", "\r\n"))
    assert case.model_answer == "One.\n\nTwo."
    assert serialize_case(case) == text


def test_unicode_line_separators_in_the_body_become_lf():
    case = parse_case(MINIMAL.format(body=_body(**{"Interviewer brief": "One.\u2028Two."})))
    assert case.interviewer_brief == "One.\nTwo."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no front matter", [(1, "the file must start with a '---' line")]),
        ("---\nslug: x\n", [(1, "the YAML front matter is not closed by a '---' line")]),
        (
            "---\nslug: [unclosed\n---\n",
            [(3, "missing section(s): "), (3, "the front matter is not valid YAML: ")],
        ),
        (
            "---\n- a list\n---\n",
            [(1, "the front matter must be a mapping of keys to values"), (3, "missing section")],
        ),
        (
            MINIMAL.replace("domain: ads", "domain: astrology").format(body=_body()),
            [(5, "'domain' is 'astrology'; it must be one of: ads, recommendations,")],
        ),
        (
            MINIMAL.replace("slug: tiny-case", "slug: Tiny Case").format(body=_body()),
            [(2, "slug 'Tiny Case': use lowercase letters, digits and single hyphens only, like")],
        ),
        (
            MINIMAL.replace("title: A tiny case", "title: " + "t" * 121).format(body=_body()),
            [(3, "'title' has 121 characters; the limit is 120")],
        ),
        (
            MINIMAL.replace("title: A tiny case", 'title: "Two\\nlines"').format(body=_body()),
            [(3, "'title' must be one line")],
        ),
        (
            MINIMAL.replace("status: draft", "status: draft\ncolour: red").format(body=_body()),
            [(8, "unknown front matter key 'colour'; the keys are: slug, title,")],
        ),
        (
            MINIMAL.replace("summary: Small but complete.\n", "").format(body=_body()),
            [(1, "the front matter has no 'summary'")],
        ),
        (
            MINIMAL.replace("  answer: About 10 million a day.\n", "").format(body=_body()),
            [(11, "fact 1: each fact needs exactly 'question' and 'answer'")],
        ),
        (
            MINIMAL.replace("- ranking", "- Grocery_Items").format(body=_body()),
            [(9, "tag 'Grocery_Items': use lowercase letters, digits and single hyphens only")],
        ),
        (
            MINIMAL.format(body=_body().replace("# Model answer outline", "# Model answer")),
            [
                (BODY_LINE + 36, "'# Model answer' is not a section; the sections are"),
                (BODY_LINE + 38, "missing section(s): '# Model answer outline'"),
            ],
        ),
        (
            MINIMAL.format(body=_body(**{"Interviewer brief": "x" * 20_001})),
            [(BODY_LINE + 4, "section '# Interviewer brief' has 20,001 characters; the limit")],
        ),
        (
            MINIMAL.format(body="Stray text\n\n" + _body()),
            [(BODY_LINE, "text before the first section '# Candidate prompt'")],
        ),
        (
            MINIMAL.format(body=_body(**{"Candidate prompt": "```\ncode"})),
            [
                (BODY_LINE + 2, "The code block opened on line 17 is never closed"),
                (BODY_LINE + 39, "missing section(s): '# Interviewer brief', '# Step 1 probes'"),
            ],
        ),
    ],
)
def test_broken_files_explain_each_problem_at_its_line(text, expected):
    problems = _problems(text)
    assert [
        (p.line, p.message[: len(message)])
        for p, (_, message) in zip(problems, expected, strict=True)
    ] == expected


def test_a_heading_line_inside_a_section_is_named_with_its_fix():
    answer = "Intro.\n\n# Outline\n\n- one"
    (problem,) = _problems(MINIMAL.format(body=_body(**{"Model answer outline": answer})))
    assert problem == Problem(
        BODY_LINE + 40,
        "'# Outline' is not a section; the sections are '# Candidate prompt', "
        "'# Interviewer brief', '# Step 1 probes', '# Step 2 probes', '# Step 3 probes', "
        "'# Step 4 probes', '# Step 5 probes', '# Step 6 probes', '# Step 7 probes', "
        "'# Model answer outline'. For a heading inside a section use two hashes: '## Outline'",
    )


def test_every_problem_of_a_file_is_reported_in_one_run():
    text = (
        MINIMAL.replace("slug: tiny-case", "slug: Tiny_Case")
        .replace("difficulty: junior", "difficulty: easy")
        .replace("- ranking", "- ranking\n- ranking")
        .replace("  answer: About 10 million a day.", "  answer: ''")
        .format(body=_body(**{"Interviewer brief": "# Twist\n\nHolidays."}))
    )
    problems = _problems(text)
    assert [(p.line, p.message.split(":")[0].split(";")[0]) for p in problems] == [
        (2, "slug 'Tiny_Case'"),
        (6, "'difficulty' is 'easy'"),
        (10, "tag 'ranking' is listed twice"),
        (13, "fact 1"),
        (BODY_LINE + 1 + 6, "'# Twist' is not a section"),
    ]


def _with_front(extra: str, **overrides: str) -> str:
    return MINIMAL.replace("---\n\n{body}", f"{extra}---\n\n{{body}}").format(
        body=_body(**overrides)
    )


GOOD_ITEM = """extra_items:
- key: twist
  step: 5
  title: Handles the twist
  candidate_text: Expected to handle it.
  probe: Ask about it.
  points: 2
  kind: expected
  required: false
  categories:
  - metrics
  keywords:
  - calibration
"""


def test_extra_items_parse():
    case = parse_case(_with_front(GOOD_ITEM))
    (item,) = case.extra_items
    assert (item.key, item.step, item.points, item.categories, item.keywords) == (
        "twist",
        5,
        2,
        ("metrics",),
        ("calibration",),
    )
    assert serialize_case(case) == _with_front(GOOD_ITEM)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("step: 5", "step: 9"), (15, "extra item 1: 'step' must be a whole number from 1 to 7")),
        (("points: 2", "points: 0"), (19, "extra item 1: 'points' must be a whole number from 1")),
        (("kind: expected", "kind: bonus"), (20, "extra item 1: 'kind' is 'bonus'; it must be")),
        (("required: false", "required: maybe"), (21, "extra item 1: 'required' must be true")),
        (("key: twist", "key: The_Twist"), (14, "extra item 1: key 'The_Twist': use lowercase")),
        (("  keywords:\n  - calibration\n", "  colour: red\n"), (24, "extra item 1: unknown key")),
    ],
)
def test_broken_extra_items_explain_the_problem(change, expected):
    (problem,) = _problems(_with_front(GOOD_ITEM.replace(*change)))
    assert (problem.line, problem.message[: len(expected[1])]) == expected


def test_two_extra_items_with_one_key_are_refused():
    second = GOOD_ITEM.removeprefix("extra_items:\n").replace("step: 5", "step: 6")
    (problem,) = _problems(_with_front(GOOD_ITEM + second))
    assert problem == Problem(26, "extra item 2: key 'twist' is also used by extra item 1")


def test_references_check_categories_and_rubric_keys():
    text = _with_front(
        GOOD_ITEM.replace("  - metrics", "  - metrics\n  - astrology")
        + "not_applicable:\n- key: ab-test\n  reason: A batch system.\n"
        + "- key: no-such-item\n  reason: Nothing to test.\n"
    )
    references = References(
        categories=frozenset({"metrics", "latency"}),
        rubric_item_keys=frozenset({"ab-test"}),
        rubric_name="ML system design v1",
    )
    assert _problems(text, references) == [
        Problem(
            24, "extra item 1: unknown category 'astrology'; the categories are: latency, metrics"
        ),
        Problem(
            30, "not_applicable 2: ML system design v1 has no item with the key 'no-such-item'"
        ),
    ]
    # Without a rubric loaded the keys are not checked; the categories still are.
    without_rubric = References(categories=frozenset({"metrics", "astrology"}))
    assert len(parse_case(text, without_rubric).not_applicable) == 2


def test_not_applicable_round_trips_sorted_by_key():
    text = _with_front(
        "not_applicable:\n- key: online-ab-test\n  reason: A batch job; there is no live test.\n"
        "- key: latency-budget\n  reason: Runs nightly, no request path.\n"
    )
    case = parse_case(text)
    assert case.not_applicable == (
        ExclusionData("latency-budget", "Runs nightly, no request path."),
        ExclusionData("online-ab-test", "A batch job; there is no live test."),
    )
    canonical = serialize_case(case)
    assert canonical.index("latency-budget") < canonical.index("online-ab-test")
    assert serialize_case(parse_case(canonical)) == canonical


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("- key: ab-test\n", "not_applicable 1: each entry needs exactly 'key' and 'reason'"),
        ("- key: AB test\n  reason: No.\n", "not_applicable 1: key 'AB test': use lowercase"),
        ("- key: ab-test\n  reason: '" + "r" * 201 + "'\n", "not_applicable 1: 'reason' has 201"),
        ('- key: ab-test\n  reason: "One\\nTwo"\n', "not_applicable 1: 'reason' must be one"),
        (
            "- key: ab-test\n  reason: One.\n- key: ab-test\n  reason: Two.\n",
            "not_applicable 2: rubric item 'ab-test' is listed twice",
        ),
    ],
)
def test_broken_not_applicable_entries(entries, message):
    (problem,) = _problems(_with_front("not_applicable:\n" + entries))
    assert problem.message.startswith(message)


def test_step_budgets_round_trip_on_one_line_each():
    text = _with_front(
        "step_budgets:\n  45: [5, 6, 8, 8, 6, 6, 6]\n  60: [7, 8, 10, 10, 8, 9, 8]\n"
    )
    case = parse_case(text)
    assert case.step_budgets == ((45, (5, 6, 8, 8, 6, 6, 6)), (60, (7, 8, 10, 10, 8, 9, 8)))
    assert serialize_case(case) == text


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        (
            "  45: [5, 6, 8, 8, 6, 6]\n",
            "step_budgets 45: give 7 numbers, one per step (this has 6)",
        ),
        ("  45: [9, 9, 9, 9, 9, 9, 9]\n", "step_budgets 45: the steps add up to 63 minutes; a 45"),
        ("  45: [0, 6, 8, 8, 6, 6, 6]\n", "step_budgets 45: each step needs a whole number of"),
        ("  45: [5, 6, 8, 8, 6, 6, 1.5]\n", "step_budgets 45: each step needs a whole number of"),
        ("  30: [4, 4, 4, 4, 4, 4, 4]\n", "step_budgets: 30 is not an interview length (45, 60)"),
        ("  45: 40\n", "step_budgets 45: give a list of 7 whole numbers"),
    ],
)
def test_broken_step_budgets(budgets, message):
    (problem,) = _problems(_with_front("step_budgets:\n" + budgets))
    assert problem.message.startswith(message)
    assert problem.line == 14


def test_a_draft_may_be_incomplete():
    text = _with_front(
        GOOD_ITEM.replace("  categories:\n  - metrics\n", "  categories: []\n"),
        **{"Candidate prompt": "", "Step 4 probes": "", "Model answer outline": ""},
    )
    case = parse_case(text)
    assert (case.candidate_prompt, case.probes[3], case.model_answer) == ("", "", "")
    assert case.extra_items[0].categories == ()


def test_a_published_case_must_be_ready():
    text = _with_front(
        GOOD_ITEM.replace("  categories:\n  - metrics\n", "  categories: []\n"),
        **{"Candidate prompt": "", "Step 4 probes": "", "Model answer outline": ""},
    ).replace("status: draft", "status: published")
    draft = " (or set status: draft)"
    assert _problems(text) == [
        Problem(10, "To publish, add at least 4 clarification facts (there is 1)." + draft),
        Problem(22, "extra item 1 ('twist'): to publish, give it at least one category." + draft),
        Problem(
            line_of(text, "# Candidate prompt"), "To publish, write the candidate prompt." + draft
        ),
        Problem(
            line_of(text, "# Step 4 probes"), "To publish, write the probes for step 4." + draft
        ),
        Problem(
            line_of(text, "# Model answer outline"),
            "To publish, write the model answer outline." + draft,
        ),
    ]


# --- one set of rules: whatever passes them reads back exactly as written -----------------------

_TRICKY = "a b\n#`~-:'\"é\t>*1|%@!?[{,&\u2028\r"
_texts = st.text(alphabet=_TRICKY, max_size=60).map(rules.normalise_text)
_lines = _texts.map(lambda t: " ".join(t.split("\n")).strip()).filter(bool)


def _section_text() -> st.SearchStrategy[str]:
    return _texts.filter(lambda t: not rules.section_text_problems(t))


_facts = st.builds(FactData, question=_lines, answer=_texts.filter(bool))
_items = st.builds(
    ExtraItemData,
    key=st.from_regex(r"\A[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}\Z"),
    step=st.integers(1, 7),
    title=_lines,
    candidate_text=_texts.filter(bool),
    probe=_texts,
    points=st.integers(1, 5),
    kind=st.sampled_from(["expected", "red_flag"]),
    required=st.booleans(),
    categories=st.lists(st.sampled_from(["metrics", "data", "latency"]), unique=True).map(
        lambda c: tuple(sorted(c))
    ),
    keywords=st.lists(_lines, max_size=3).map(tuple),
)


# No deadline: an example takes milliseconds, but a busy two-core machine once took longer than
# Hypothesis's default 200 ms; this test is about what reads back, not how fast.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    title=_lines,
    summary=_lines,
    facts=st.lists(_facts, max_size=3).map(tuple),
    items=st.lists(_items, max_size=2, unique_by=lambda i: i.key).map(tuple),
    texts=st.lists(_section_text(), min_size=10, max_size=10),
    tags=st.lists(st.from_regex(r"\A[a-z]{1,6}(-[a-z]{1,6})?\Z"), unique=True, max_size=3),
)
def test_data_that_passes_the_rules_reads_back_exactly(title, summary, facts, items, texts, tags):
    assume(all(len(t) <= rules.LONG_TEXT_LIMIT for t in texts))
    case = CaseData(
        slug="tricky-case",
        title=title[: rules.TITLE_LIMIT].strip(),
        summary=summary[: rules.SUMMARY_LIMIT].strip(),
        domain="ads",
        difficulty="staff",
        status="draft",
        tags=tuple(sorted(tags)),
        facts=facts,
        extra_items=items,
        candidate_prompt=texts[0],
        interviewer_brief=texts[1],
        probes=tuple(texts[2:9]),
        model_answer=texts[9],
        not_applicable=(ExclusionData("ab-test", summary[:200].strip()),),
        step_budgets=((45, (5, 6, 8, 8, 6, 6, 6)),),
    )
    assume(case.title and case.summary)
    text = serialize_case(case)
    assert parse_case(text) == case
    assert serialize_case(parse_case(text)) == text
