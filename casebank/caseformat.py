"""Case files: Markdown with YAML front matter (docs/case-format.md), parsed and written here.

Parsing and writing are exact inverses for files in canonical form, which is what
`export_casebank` writes: export → import → export is byte-identical.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from casebank.models import LONG_TEXT_LIMIT, STEP_COUNT, CaseStatus, Difficulty, Domain
from rubrics.models import ItemKind

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SECTIONS = (
    "Candidate prompt",
    "Interviewer brief",
    *(f"Step {n} probes" for n in range(1, STEP_COUNT + 1)),
    "Model answer outline",
)
FRONT_MATTER_KEYS = (
    "slug",
    "title",
    "summary",
    "domain",
    "difficulty",
    "status",
    "tags",
    "facts",
    "extra_items",
)
ITEM_KEYS = (
    "key",
    "step",
    "title",
    "candidate_text",
    "probe",
    "points",
    "kind",
    "required",
    "categories",
    "keywords",
)
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


class CaseFormatError(ValueError):
    """A problem in one case file; the message says what and where."""


@dataclass(frozen=True)
class FactData:
    question: str
    answer: str


@dataclass(frozen=True)
class ExtraItemData:
    key: str
    step: int
    title: str
    candidate_text: str
    probe: str
    points: int
    kind: str
    required: bool
    categories: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class CaseData:
    slug: str
    title: str
    summary: str
    domain: str
    difficulty: str
    status: str
    tags: tuple[str, ...]
    facts: tuple[FactData, ...]
    extra_items: tuple[ExtraItemData, ...]
    candidate_prompt: str
    interviewer_brief: str
    probes: tuple[str, ...]  # one text per step, step 1 first
    model_answer: str


def parse_case(text: str) -> CaseData:
    """Parse one case file's text; raise CaseFormatError on any problem."""
    text = text.replace("\r\n", "\n")
    if not text.startswith("---\n"):
        raise CaseFormatError("the file must start with a '---' line opening the YAML front matter")
    end = text.find("\n---\n", 3)
    if end == -1:
        raise CaseFormatError("the YAML front matter is not closed by a '---' line")
    try:
        meta = yaml.safe_load(text[4 : end + 1])
    except yaml.YAMLError as exc:
        raise CaseFormatError(f"the front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise CaseFormatError("the front matter must be a mapping of keys to values")
    sections = _split_sections(text[end + 5 :])
    return _build(meta, sections)


def _split_sections(body: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    fence: str | None = None
    for number, line in enumerate(body.split("\n"), start=1):
        marker = _FENCE_RE.match(line)
        if marker:
            token = marker.group(1)
            if fence is None:
                fence = token[0] * 3
            elif token.startswith(fence):
                fence = None
        if fence is None and line.startswith("# "):
            name = line[2:].strip()
            if name not in SECTIONS:
                raise CaseFormatError(
                    f"line {number} of the body: unknown section '# {name}'. Sections are: "
                    + ", ".join(SECTIONS)
                    + ". Inside a section use '##' or deeper headings."
                )
            if name in sections:
                raise CaseFormatError(f"section '# {name}' appears twice")
            current = sections[name] = []
            continue
        if current is None:
            if line.strip():
                raise CaseFormatError(
                    f"line {number} of the body: text before the first section '# {SECTIONS[0]}'"
                )
            continue
        current.append(line)
    missing = [name for name in SECTIONS if name not in sections]
    if missing:
        raise CaseFormatError("missing section(s): " + ", ".join(f"'# {m}'" for m in missing))
    order = list(sections)
    if order != list(SECTIONS):
        raise CaseFormatError("sections are out of order; expected: " + ", ".join(SECTIONS))
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}


def _build(meta: Mapping[str, Any], sections: Mapping[str, str]) -> CaseData:
    unknown = sorted(set(meta) - set(FRONT_MATTER_KEYS))
    if unknown:
        raise CaseFormatError("unknown front matter key(s): " + ", ".join(unknown))
    slug = _string(meta, "slug", 80)
    if not SLUG_RE.match(slug):
        raise CaseFormatError(f"slug {slug!r} must be lowercase letters, digits and hyphens")
    domain = _choice(meta, "domain", Domain.values)
    difficulty = _choice(meta, "difficulty", Difficulty.values)
    status = _choice(meta, "status", CaseStatus.values)
    tags = _list(meta, "tags")
    for tag in tags:
        if not isinstance(tag, str) or not SLUG_RE.match(tag) or len(tag) > 40:
            raise CaseFormatError(f"tag {tag!r} must be a lowercase word or hyphenated phrase")
    if len(set(tags)) != len(tags):
        raise CaseFormatError("a tag is listed twice")
    facts = tuple(_fact(n, raw) for n, raw in enumerate(_list(meta, "facts"), start=1))
    items = tuple(_item(n, raw) for n, raw in enumerate(meta.get("extra_items") or [], start=1))
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise CaseFormatError("two extra_items share a key")
    for name, text in sections.items():
        # Probes may be left for later; the texts every session shows may not.
        if not text and not name.startswith("Step "):
            raise CaseFormatError(f"section '# {name}' is empty")
        if len(text) > LONG_TEXT_LIMIT:
            raise CaseFormatError(
                f"section '# {name}' has {len(text):,} characters; the limit is {LONG_TEXT_LIMIT:,}"
            )
    return CaseData(
        slug=slug,
        title=_string(meta, "title", 120),
        summary=_string(meta, "summary", 240),
        domain=domain,
        difficulty=difficulty,
        status=status,
        tags=tuple(sorted(tags)),
        facts=facts,
        extra_items=items,
        candidate_prompt=sections["Candidate prompt"],
        interviewer_brief=sections["Interviewer brief"],
        probes=tuple(sections[f"Step {n} probes"] for n in range(1, STEP_COUNT + 1)),
        model_answer=sections["Model answer outline"],
    )


def _string(meta: Mapping[str, Any], key: str, limit: int, *, where: str = "") -> str:
    value = meta.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CaseFormatError(f"{where}{key!r} is missing or not text")
    value = value.strip()
    if len(value) > limit:
        raise CaseFormatError(f"{where}{key!r} has {len(value)} characters; the limit is {limit}")
    return value


def _choice(meta: Mapping[str, Any], key: str, allowed: list[str], *, where: str = "") -> str:
    value = meta.get(key)
    if value not in allowed:
        raise CaseFormatError(
            f"{where}{key!r} is {value!r}; it must be one of: {', '.join(allowed)}"
        )
    return str(value)


def _list(meta: Mapping[str, Any], key: str, *, where: str = "") -> list[Any]:
    value = meta.get(key)
    if not isinstance(value, list):
        raise CaseFormatError(f"{where}{key!r} must be a list")
    return value


def _fact(number: int, raw: object) -> FactData:
    where = f"fact {number}: "
    if not isinstance(raw, dict) or set(raw) != {"question", "answer"}:
        raise CaseFormatError(f"{where}each fact needs exactly 'question' and 'answer'")
    return FactData(
        question=_string(raw, "question", 300, where=where),
        answer=_string(raw, "answer", 1000, where=where),
    )


def _item(number: int, raw: object) -> ExtraItemData:
    where = f"extra item {number}: "
    if not isinstance(raw, dict):
        raise CaseFormatError(f"{where}must be a mapping")
    unknown = sorted(set(raw) - set(ITEM_KEYS))
    if unknown:
        raise CaseFormatError(f"{where}unknown key(s): {', '.join(unknown)}")
    key = _string(raw, "key", 80, where=where)
    if not SLUG_RE.match(key):
        raise CaseFormatError(f"{where}key {key!r} must be lowercase letters, digits and hyphens")
    step = raw.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or not 1 <= step <= STEP_COUNT:
        raise CaseFormatError(f"{where}'step' must be a whole number from 1 to {STEP_COUNT}")
    points = raw.get("points", 1)
    if not isinstance(points, int) or isinstance(points, bool) or not 1 <= points <= 5:
        raise CaseFormatError(f"{where}'points' must be a whole number from 1 to 5")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise CaseFormatError(f"{where}'required' must be true or false")
    categories = _list(raw, "categories", where=where)
    if not categories or not all(isinstance(c, str) for c in categories):
        raise CaseFormatError(f"{where}'categories' must list at least one category slug")
    keywords = raw.get("keywords") or []
    if not isinstance(keywords, list) or not all(
        isinstance(k, str) and k.strip() and "\n" not in k for k in keywords
    ):
        raise CaseFormatError(f"{where}'keywords' must be a list of phrases")
    probe = raw.get("probe") or ""
    if not isinstance(probe, str) or len(probe) > 2000:
        raise CaseFormatError(f"{where}'probe' must be text of at most 2000 characters")
    return ExtraItemData(
        key=key,
        step=step,
        title=_string(raw, "title", 120, where=where),
        candidate_text=_string(raw, "candidate_text", 2000, where=where),
        probe=probe.strip(),
        points=points,
        kind=_choice(raw, "kind", ItemKind.values, where=where),
        required=required,
        categories=tuple(sorted(categories)),
        keywords=tuple(k.strip() for k in keywords),
    )


def serialize_case(case: CaseData) -> str:
    """The canonical file text for a case."""
    meta: dict[str, Any] = {
        "slug": case.slug,
        "title": case.title,
        "summary": case.summary,
        "domain": case.domain,
        "difficulty": case.difficulty,
        "status": case.status,
        "tags": list(case.tags),
        "facts": [{"question": f.question, "answer": f.answer} for f in case.facts],
    }
    if case.extra_items:
        meta["extra_items"] = [
            {
                "key": item.key,
                "step": item.step,
                "title": item.title,
                "candidate_text": item.candidate_text,
                "probe": item.probe,
                "points": item.points,
                "kind": item.kind,
                "required": item.required,
                "categories": list(item.categories),
                "keywords": list(item.keywords),
            }
            for item in case.extra_items
        ]
    front = yaml.safe_dump(
        meta, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )
    texts = (
        case.candidate_prompt,
        case.interviewer_brief,
        *case.probes,
        case.model_answer,
    )
    body = "\n\n".join(f"# {name}\n\n{text}" for name, text in zip(SECTIONS, texts, strict=True))
    return f"---\n{front}---\n\n{body}\n"
