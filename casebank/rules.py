"""The rules a case follows, wherever it is written: the admin forms, case files and publishing.

Each rule is a small function that returns the problem as a sentence (or nothing), so the admin can
show it at a field and the loader can print it after a file name and line. The Django validators
at the end wrap the same functions for model fields.

Line breaks: browsers send textareas with CRLF and files may come from any editor, so every text is
normalised to LF before it is checked or stored; otherwise a case written in the admin would export
CR bytes that the loader then drops, and export → import → export would not be byte-identical.

A line starting with "# " in a long text would start a new section of the case file. Such a line is
refused with the reason, not escaped on export: an escape would make the file differ from what the
author typed, and anyone editing the file would have to know to undo it. Refusing keeps the admin,
the file and the rendered page saying the same thing.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeGuard

from django.core.exceptions import ValidationError

STEP_COUNT = 7
LENGTHS = (45, 60)
MIN_FACTS_TO_PUBLISH = 4

SLUG_LIMIT = 80
TAG_LIMIT = 40
KEY_LIMIT = 80
TITLE_LIMIT = 120
SUMMARY_LIMIT = 240
QUESTION_LIMIT = 300
ANSWER_LIMIT = 1000
ITEM_TEXT_LIMIT = 2000
REASON_LIMIT = 200
LONG_TEXT_LIMIT = 20_000

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# Every character Python or YAML treats as ending a line; YAML reads U+0085 back differently.
_LINE_BREAKS_RE = re.compile("\r\n|[\r\x85\u2028\u2029]")


def normalise_line_breaks(text: str) -> str:
    return _LINE_BREAKS_RE.sub("\n", text)


def normalise_text(text: str) -> str:
    """Text with every line break as LF and no surrounding whitespace, as stored and exported."""
    return normalise_line_breaks(text).strip()


def suggest_slug(text: str) -> str:
    """The nearest valid slug: "Grocery_Items" becomes "grocery-items"."""
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


def slug_problem(value: str, *, limit: int | None = None) -> str | None:
    """Why `value` cannot be a slug, tag or item key; None when it can.

    Model fields check the length themselves, so they pass no `limit`.
    """
    if limit is not None and len(value) > limit:
        return f"Use at most {limit} characters (this has {len(value)})."
    if SLUG_RE.match(value):
        return None
    suggestion = suggest_slug(value)[: limit or SLUG_LIMIT].strip("-")
    example = f"“{suggestion}”" if suggestion else "“grocery-items”"
    return f"Use lowercase letters, digits and single hyphens only, like {example}."


def one_line_problem(value: str) -> str | None:
    if "\n" in normalise_text(value):
        return "Keep this to one line."
    return None


@dataclass(frozen=True)
class ScannedText:
    """The lines of a Markdown text, each with whether it lies in a fenced code block."""

    lines: tuple[tuple[int, str, bool], ...]  # (number from 1, line, fenced)
    unclosed_fence: int | None  # the line that opened a code block never closed


def scan_markdown(text: str) -> ScannedText:
    """Split `text` into lines and follow its fenced code blocks.

    The case-file parser finds section headings with exactly this scan, so a text that passes
    `section_text_problems` always reads back as one whole section.
    """
    lines = []
    fence: str | None = None
    opened = 0
    for number, line in enumerate(text.split("\n"), start=1):
        marker = FENCE_RE.match(line)
        if marker:
            token = marker.group(1)
            if fence is None:
                fence, opened = token[0] * 3, number
                lines.append((number, line, True))
                continue
            if token.startswith(fence):
                fence = None
                lines.append((number, line, True))
                continue
        lines.append((number, line, fence is not None))
    return ScannedText(tuple(lines), opened if fence is not None else None)


def is_section_heading(line: str) -> bool:
    return line.startswith("# ")


def section_text_problems(text: str) -> list[tuple[int, str]]:
    """(line number in the text, problem) for lines that would break the case file's sections."""
    scanned = scan_markdown(normalise_text(text))
    problems = [
        (
            number,
            f"Line {number}, “{line.strip()}”, would start a new section of the case file. "
            f"For a heading inside this text use two hashes: “## {line[2:].strip()}”.",
        )
        for number, line, fenced in scanned.lines
        if not fenced and is_section_heading(line)
    ]
    if scanned.unclosed_fence is not None:
        problems.append((scanned.unclosed_fence, unclosed_fence_problem(scanned.unclosed_fence)))
    return problems


def unclosed_fence_problem(line: int) -> str:
    return (
        f"The code block opened on line {line} is never closed: end it with a line of three "
        "backticks (```) or tildes (~~~), or the rest of the case file reads as code."
    )


def _all_whole_minutes(minutes: Sequence[object]) -> TypeGuard[Sequence[int]]:
    return all(isinstance(m, int) and not isinstance(m, bool) and m >= 1 for m in minutes)


def budgets_problem(length: int, minutes: Sequence[object]) -> str | None:
    """Why `minutes` cannot be the per-step budgets of a `length`-minute interview."""
    if len(minutes) != STEP_COUNT:
        return f"Give {STEP_COUNT} numbers, one per step (this has {len(minutes)})."
    if not _all_whole_minutes(minutes):
        return "Each step needs a whole number of minutes, at least 1."
    total = sum(minutes)
    if total > length:
        return f"The steps add up to {total} minutes; a {length}-minute interview has {length}."
    return None


# --- publishing -------------------------------------------------------------------------------
# What a published case needs; a draft may lack any of it. One message per missing piece, worded
# to make sense at an admin field and after a file name alike.

PUBLISH_NEEDS_PROMPT = "To publish, write the candidate prompt."
PUBLISH_NEEDS_BRIEF = "To publish, write the interviewer brief."
PUBLISH_NEEDS_ANSWER = "To publish, write the model answer outline."
PUBLISH_NEEDS_CATEGORY = "To publish, give this case item at least one category."
# The checklist entry a category feeds: say why it is required, where the field is.
CATEGORY_HELP = (
    "At least one before publishing: scores per concept and the progress page are built from "
    "categories."
)


def publish_needs_probe(step: int) -> str:
    return f"To publish, write the probes for step {step}."


def publish_needs_facts(count: int) -> str | None:
    if count >= MIN_FACTS_TO_PUBLISH:
        return None
    return (
        f"To publish, add at least {MIN_FACTS_TO_PUBLISH} clarification facts "
        f"(there {'is' if count == 1 else 'are'} {count})."
    )


# --- Django validators over the same rules -----------------------------------------------------


def _raise(problem: str | None) -> None:
    if problem is not None:
        raise ValidationError(problem, code="invalid")


def validate_slug(value: str) -> None:
    """For case slugs, tags and item keys alike: the same characters are allowed in all three."""
    _raise(slug_problem(value))


def validate_one_line(value: str) -> None:
    _raise(one_line_problem(value))


def validate_section_text(value: str) -> None:
    problems = section_text_problems(value)
    if problems:
        raise ValidationError([message for _, message in problems], code="section")
