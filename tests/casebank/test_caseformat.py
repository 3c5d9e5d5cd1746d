"""Case files: parsing, validation messages and canonical round trips (no database)."""

from pathlib import Path

import pytest

from casebank.caseformat import SECTIONS, CaseFormatError, parse_case, serialize_case

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


def _body(**overrides: str) -> str:
    texts = {name: f"Text of {name.lower()}." for name in SECTIONS} | overrides
    return "\n\n".join(f"# {name}\n\n{text}" for name, text in texts.items())


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
    assert serialize_case(case) == text


def test_fenced_code_may_contain_hash_lines():
    prompt = "Look:\n\n```python\n# not a section\nprint(1)\n```"
    case = parse_case(MINIMAL.format(body=_body(**{"Candidate prompt": prompt})))
    assert case.candidate_prompt == prompt


def test_windows_line_endings_are_accepted():
    text = MINIMAL.format(body=_body()).replace("\n", "\r\n")
    assert parse_case(text).slug == "tiny-case"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter", "must start with a '---' line"),
        ("---\nslug: x\n", "not closed"),
        ("---\nslug: [unclosed\n---\n", "not valid YAML"),
        ("---\n- a list\n---\n", "must be a mapping"),
        (
            MINIMAL.replace("domain: ads", "domain: astrology").format(body=_body()),
            "'domain' is 'astrology'; it must be one of: ads,",
        ),
        (
            MINIMAL.replace("difficulty: junior", "difficulty: easy").format(body=_body()),
            "'difficulty' is 'easy'",
        ),
        (
            MINIMAL.replace("slug: tiny-case", "slug: Tiny Case").format(body=_body()),
            "slug 'Tiny Case' must be lowercase",
        ),
        (
            MINIMAL.replace("title: A tiny case", "title: " + "t" * 121).format(body=_body()),
            "'title' has 121 characters; the limit is 120",
        ),
        (
            MINIMAL.replace("status: draft", "status: draft\ncolour: red").format(body=_body()),
            "unknown front matter key(s): colour",
        ),
        (
            MINIMAL.replace("  answer: About 10 million a day.\n", "").format(body=_body()),
            "fact 1: each fact needs exactly 'question' and 'answer'",
        ),
        (
            MINIMAL.format(body=_body().replace("# Model answer outline", "# Model answer")),
            "unknown section '# Model answer'",
        ),
        (
            MINIMAL.format(body=_body().split("# Model answer outline")[0]),
            "missing section(s): '# Model answer outline'",
        ),
        (
            MINIMAL.format(body=_body(**{"Candidate prompt": ""})),
            "section '# Candidate prompt' is empty",
        ),
        (
            MINIMAL.format(body=_body(**{"Interviewer brief": "x" * 20_001})),
            "has 20,001 characters; the limit is 20,000",
        ),
        (MINIMAL.format(body="Stray text\n\n" + _body()), "text before the first section"),
    ],
)
def test_broken_files_explain_the_problem(text, message):
    with pytest.raises(CaseFormatError) as excinfo:
        parse_case(text)
    assert message in str(excinfo.value)


def _with_item(item_yaml: str) -> str:
    return MINIMAL.replace("---\n\n{body}", f"extra_items:\n{item_yaml}---\n\n{{body}}").format(
        body=_body()
    )


GOOD_ITEM = """- key: twist
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
    case = parse_case(_with_item(GOOD_ITEM))
    (item,) = case.extra_items
    assert (item.key, item.step, item.points, item.categories, item.keywords) == (
        "twist",
        5,
        2,
        ("metrics",),
        ("calibration",),
    )
    assert serialize_case(parse_case(serialize_case(case))) == serialize_case(case)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("step: 5", "step: 9"), "'step' must be a whole number from 1 to 7"),
        (("points: 2", "points: 0"), "'points' must be a whole number from 1 to 5"),
        (("kind: expected", "kind: bonus"), "'kind' is 'bonus'"),
        (("required: false", "required: maybe"), "'required' must be true or false"),
        (("  keywords:\n  - calibration\n", "  colour: red\n"), "unknown key(s): colour"),
    ],
)
def test_broken_extra_items_explain_the_problem(change, message):
    with pytest.raises(CaseFormatError, match="extra item 1: ") as excinfo:
        parse_case(_with_item(GOOD_ITEM.replace(*change)))
    assert message in str(excinfo.value)
