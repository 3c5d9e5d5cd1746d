"""Case files: Markdown with YAML front matter (docs/case-format.md), parsed and written here.

Parsing and writing are exact inverses for files in canonical form, which is what
`export_casebank` writes: export → import → export is byte-identical. The rules each value follows
are casebank.rules, the same the admin forms use; a file's problems are all collected, each with the
line it is on, so an author fixes a folder in one round.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from casebank import rules
from casebank.models import CaseStatus, Difficulty, Domain
from core import yamltext
from rubrics.models import ItemKind

SECTIONS = (
    "Candidate prompt",
    "Interviewer brief",
    *(f"Step {n} probes" for n in range(1, rules.STEP_COUNT + 1)),
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
    "not_applicable",
    "step_budgets",
)
REQUIRED_KEYS = FRONT_MATTER_KEYS[:8]
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


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a case file, at a line of the file (counted from 1)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.line}: {self.message}"


class CaseFormatError(ValueError):
    """Every problem found in one case file."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(map(str, self.problems)))


@dataclass(frozen=True)
class References:
    """What a case file may refer to in the database, for checks that need it."""

    categories: frozenset[str]
    # The item keys of the default rubric's latest published version; None when none is loaded.
    rubric_item_keys: frozenset[str] | None = None
    rubric_name: str = "the rubric"


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
class ExclusionData:
    key: str
    reason: str


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
    not_applicable: tuple[ExclusionData, ...] = ()  # by key
    step_budgets: tuple[tuple[int, tuple[int, ...]], ...] = ()  # (length, minutes), by length


# --- parsing ----------------------------------------------------------------------------------

Path = tuple[str | int, ...]  # where a value sits in the front matter: ("facts", 2, "answer")


@dataclass
class _Collector:
    """Problems found so far, and the file line of each front matter value and section."""

    lines: dict[Path, int] = field(default_factory=dict)
    sections: dict[str, int] = field(default_factory=dict)
    end_line: int = 1
    problems: list[Problem] = field(default_factory=list)

    def line(self, path: Path) -> int:
        # A missing value is reported where its parent is: an item's line, else the first line.
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1

    def add(self, path: Path, message: str) -> None:
        self.problems.append(Problem(self.line(path), message))

    def add_at(self, line: int, message: str) -> None:
        self.problems.append(Problem(line, message))


def parse_case(text: str, references: References | None = None) -> CaseData:
    """Parse one case file's text; raise CaseFormatError listing every problem.

    With `references`, category slugs and not-applicable rubric keys are checked as well.
    """
    # Only CR here: YAML itself reads the Unicode line separators inside quoted values.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    found = _Collector(end_line=text.rstrip("\n").count("\n") + 1)
    if not text.startswith("---\n"):
        found.add_at(1, "the file must start with a '---' line opening the YAML front matter")
        raise CaseFormatError(found.problems)
    end = text.find("\n---\n", 3)
    if end == -1:
        found.add_at(1, "the YAML front matter is not closed by a '---' line")
        raise CaseFormatError(found.problems)
    meta = _load_front_matter(text[4 : end + 1], found)
    body_start = text.count("\n", 0, end + 5) + 1
    sections = _split_sections(rules.normalise_line_breaks(text[end + 5 :]), body_start, found)
    if meta is None:
        raise CaseFormatError(found.problems)
    data = _build(meta, sections, found, references)
    if found.problems or data is None:
        raise CaseFormatError(found.problems)
    return data


def _load_front_matter(front: str, found: _Collector) -> dict[str, Any] | None:
    try:
        node = yamltext.compose(front)
        meta = yamltext.load(front)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        detail = getattr(exc, "problem", None) or str(exc)
        found.add_at(line, f"the front matter is not valid YAML: {detail}")
        return None
    if not isinstance(meta, dict) or node is None:
        found.add_at(1, "the front matter must be a mapping of keys to values")
        return None
    _record_lines(node, (), found)
    return meta


def _record_lines(node: yaml.Node, path: Path, found: _Collector) -> None:
    # The front matter starts on the file's second line; PyYAML counts lines from 0.
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 2
            if key in seen:
                found.add_at(line, f"{_describe(path)}key '{key}' appears twice")
            seen.add(key)
            found.lines[(*path, key)] = line
            _record_lines(value_node, (*path, key), found)
    elif isinstance(node, yaml.SequenceNode):
        for index, value_node in enumerate(node.value):
            found.lines[(*path, index)] = value_node.start_mark.line + 2
            _record_lines(value_node, (*path, index), found)


def _describe(path: Path) -> str:
    if not path:
        return ""
    names = {"facts": "fact", "extra_items": "extra item", "not_applicable": "not_applicable"}
    if len(path) >= 2 and isinstance(path[1], int) and path[0] in names:
        return f"{names[str(path[0])]} {path[1] + 1}: "
    return f"{path[0]}: "


def _split_sections(body: str, first_line: int, found: _Collector) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    scanned = rules.scan_markdown(body)
    for number, line, fenced in scanned.lines:
        line_number = first_line + number - 1
        if not fenced and rules.is_section_heading(line):
            name = line[2:].strip()
            if name not in SECTIONS:
                found.add_at(
                    line_number,
                    f"'# {name}' is not a section; the sections are "
                    + ", ".join(f"'# {s}'" for s in SECTIONS)
                    + f". For a heading inside a section use two hashes: '## {name}'",
                )
                if current is not None:
                    current.append(line)
                continue
            if name in sections:
                found.add_at(line_number, f"section '# {name}' appears twice")
                current = None
                continue
            found.sections[name] = line_number
            current = sections[name] = []
            continue
        if current is None:
            if line.strip() and not sections:
                found.add_at(line_number, f"text before the first section '# {SECTIONS[0]}'")
            continue
        current.append(line)
    if scanned.unclosed_fence is not None:
        fence_line = first_line + scanned.unclosed_fence - 1
        found.add_at(fence_line, rules.unclosed_fence_problem(fence_line))
    missing = [name for name in SECTIONS if name not in sections]
    if missing:
        found.add_at(
            found.end_line, "missing section(s): " + ", ".join(f"'# {m}'" for m in missing)
        )
    elif list(sections) != list(SECTIONS):
        found.add_at(
            found.sections[next(n for n, s in zip(sections, SECTIONS, strict=True) if n != s)],
            "sections are out of order; expected: " + ", ".join(f"'# {s}'" for s in SECTIONS),
        )
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}


def _build(
    meta: Mapping[str, Any],
    sections: Mapping[str, str],
    found: _Collector,
    references: References | None,
) -> CaseData | None:
    for key in meta:
        if key not in FRONT_MATTER_KEYS:
            found.add(
                (str(key),),
                f"unknown front matter key '{key}'; the keys are: {', '.join(FRONT_MATTER_KEYS)}",
            )
    for key in REQUIRED_KEYS:
        if key not in meta:
            found.add((), f"the front matter has no '{key}'")
    values = _Values(meta, (), found)
    slug = values.slug("slug", rules.SLUG_LIMIT)
    title = values.line_of_text("title", rules.TITLE_LIMIT)
    summary = values.line_of_text("summary", rules.SUMMARY_LIMIT)
    domain = values.choice("domain", Domain.values)
    difficulty = values.choice("difficulty", Difficulty.values)
    status = values.choice("status", CaseStatus.values)
    tags = _tags(values)
    facts = tuple(
        fact
        for n, raw in enumerate(values.list("facts", required=True))
        if (fact := _fact(_Values(raw, ("facts", n), found))) is not None
    )
    items = _items(values, references)
    exclusions = _exclusions(values, references)
    budgets = _budgets(values)
    texts = _texts(sections, found)
    data = CaseData(
        slug=slug,
        title=title,
        summary=summary,
        domain=domain,
        difficulty=difficulty,
        status=status,
        tags=tags,
        facts=facts,
        extra_items=items,
        candidate_prompt=texts.get("Candidate prompt", ""),
        interviewer_brief=texts.get("Interviewer brief", ""),
        probes=tuple(texts.get(f"Step {n} probes", "") for n in range(1, rules.STEP_COUNT + 1)),
        model_answer=texts.get("Model answer outline", ""),
        not_applicable=exclusions,
        step_budgets=budgets,
    )
    if status == CaseStatus.PUBLISHED and len(sections) == len(SECTIONS):
        for where, message in publish_problems(data):
            found.add_at(_readiness_line(where, found), f"{message} (or set status: draft)")
    return data


def _readiness_line(where: Path, found: _Collector) -> int:
    kind = where[0]
    if kind == "probes":
        return found.sections[f"Step {where[1]} probes"]
    if kind in SECTION_OF_FIELD:
        return found.sections[SECTION_OF_FIELD[str(kind)]]
    return found.line(where)


SECTION_OF_FIELD = {
    "candidate_prompt": "Candidate prompt",
    "interviewer_brief": "Interviewer brief",
    "model_answer": "Model answer outline",
}


def _texts(sections: Mapping[str, str], found: _Collector) -> dict[str, str]:
    texts = {}
    for name, text in sections.items():
        if len(text) > rules.LONG_TEXT_LIMIT:
            found.add_at(
                found.sections[name],
                f"section '# {name}' has {len(text):,} characters; "
                f"the limit is {rules.LONG_TEXT_LIMIT:,}",
            )
        texts[name] = text
    return texts


class _Values:
    """Reads the values of one mapping in the front matter, recording each problem found.

    A wrong value is recorded and replaced by a harmless one, so that checking goes on and every
    problem of the file is reported in one run.
    """

    def __init__(self, raw: object, path: Path, found: _Collector) -> None:
        self.path = path
        self.found = found
        self.ok = isinstance(raw, dict)
        self.raw: Mapping[str, Any] = raw if isinstance(raw, dict) else {}

    def problem(self, key: str | None, message: str) -> None:
        path = self.path if key is None else (*self.path, key)
        self.found.add(path, _describe(self.path) + message)

    def get(self, key: str, default: object = None) -> object:
        return self.raw.get(key, default)

    def text(self, key: str, limit: int, *, required: bool = True) -> str:
        value = self.raw.get(key)
        if not required and (value is None or value == ""):
            return ""
        if not isinstance(value, str) or not value.strip():
            if key in self.raw or self.path:  # a missing top-level key is reported once, apart
                self.problem(key, f"'{key}' is missing or not text")
            return ""
        value = rules.normalise_text(value)
        if len(value) > limit:
            self.problem(key, f"'{key}' has {len(value)} characters; the limit is {limit}")
        return value

    def line_of_text(self, key: str, limit: int) -> str:
        value = self.text(key, limit)
        if rules.one_line_problem(value):
            self.problem(key, f"'{key}' must be one line")
        return value

    def slug(self, key: str, limit: int) -> str:
        value = self.raw.get(key)
        if value is None and key not in self.raw and not self.path:
            return ""  # reported as a missing key
        if not isinstance(value, str):
            self.problem(key, f"'{key}' is missing or not text")
            return ""
        problem = rules.slug_problem(value, limit=limit)
        if problem:
            self.problem(key, f"{key} '{value}': {_lower_first(problem)}")
        return value

    def choice(self, key: str, allowed: list[str]) -> str:
        value = self.raw.get(key)
        if value is None and key not in self.raw and not self.path:
            return ""
        if value not in allowed:
            self.problem(key, f"'{key}' is {value!r}; it must be one of: {', '.join(allowed)}")
            return ""
        return str(value)

    def whole_number(self, key: str, low: int, high: int, default: int | None = None) -> int:
        value = self.raw.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.problem(key, f"'{key}' must be a whole number from {low} to {high}")
            return low
        return value

    def list(self, key: str, *, required: bool = False) -> list[Any]:
        value = self.raw.get(key)
        if value is None and not required:
            return []
        if value is None and key not in self.raw and not self.path:
            return []  # reported as a missing key
        if not isinstance(value, list):
            self.problem(key, f"'{key}' must be a list")
            return []
        return value


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _tags(values: _Values) -> tuple[str, ...]:
    tags = values.list("tags", required=True)
    good = []
    for n, tag in enumerate(tags):
        problem = (
            rules.slug_problem(tag, limit=rules.TAG_LIMIT)
            if isinstance(tag, str)
            else "a tag must be text"
        )
        if problem:
            values.found.add(("tags", n), f"tag {tag!r}: {_lower_first(problem)}")
        elif tag in good:
            values.found.add(("tags", n), f"tag '{tag}' is listed twice")
        else:
            good.append(tag)
    return tuple(sorted(good))


def _fact(values: _Values) -> FactData | None:
    if not values.ok or set(values.raw) != {"question", "answer"}:
        values.problem(None, "each fact needs exactly 'question' and 'answer'")
        return None
    question = values.line_of_text("question", rules.QUESTION_LIMIT)
    answer = values.text("answer", rules.ANSWER_LIMIT)
    return FactData(question=question, answer=answer)


def _items(values: _Values, references: References | None) -> tuple[ExtraItemData, ...]:
    items = []
    keys: dict[str, int] = {}
    for n, raw in enumerate(values.list("extra_items")):
        item_values = _Values(raw, ("extra_items", n), values.found)
        if not item_values.ok:
            item_values.problem(None, "must be a mapping of the item's fields")
            continue
        item = _item(item_values, references)
        if item.key in keys:
            item_values.problem(
                "key", f"key '{item.key}' is also used by extra item {keys[item.key]}"
            )
        keys.setdefault(item.key, n + 1)
        items.append(item)
    return tuple(items)


def _item(values: _Values, references: References | None) -> ExtraItemData:
    for key in values.raw:
        if key not in ITEM_KEYS:
            values.problem(str(key), f"unknown key '{key}'; the keys are: {', '.join(ITEM_KEYS)}")
    required = values.get("required", False)
    if not isinstance(required, bool):
        values.problem("required", "'required' must be true or false")
        required = False
    categories = values.list("categories")
    if not all(isinstance(c, str) for c in categories):
        values.problem("categories", "'categories' must be a list of category slugs")
        categories = [c for c in categories if isinstance(c, str)]
    if references is not None:
        for n, slug in enumerate(categories):
            if slug not in references.categories:
                values.found.add(
                    (*values.path, "categories", n),
                    f"{_describe(values.path)}unknown category '{slug}'; the categories are: "
                    + ", ".join(sorted(references.categories)),
                )
    keywords = values.list("keywords")
    if not all(isinstance(k, str) and k.strip() and "\n" not in k for k in keywords):
        values.problem("keywords", "'keywords' must be a list of one-line phrases")
        keywords = []
    return ExtraItemData(
        key=values.slug("key", rules.KEY_LIMIT),
        step=values.whole_number("step", 1, rules.STEP_COUNT),
        title=values.line_of_text("title", rules.TITLE_LIMIT),
        candidate_text=values.text("candidate_text", rules.ITEM_TEXT_LIMIT),
        probe=values.text("probe", rules.ITEM_TEXT_LIMIT, required=False),
        points=values.whole_number("points", 1, 5, default=1),
        kind=values.choice("kind", ItemKind.values),
        required=required,
        categories=tuple(sorted(set(categories))),
        keywords=tuple(k.strip() for k in keywords),
    )


def _exclusions(values: _Values, references: References | None) -> tuple[ExclusionData, ...]:
    exclusions: dict[str, ExclusionData] = {}
    for n, raw in enumerate(values.list("not_applicable")):
        entry = _Values(raw, ("not_applicable", n), values.found)
        if not entry.ok or set(entry.raw) != {"key", "reason"}:
            entry.problem(None, "each entry needs exactly 'key' and 'reason'")
            continue
        key = entry.slug("key", rules.KEY_LIMIT)
        reason = entry.line_of_text("reason", rules.REASON_LIMIT)
        if key in exclusions:
            entry.problem("key", f"rubric item '{key}' is listed twice")
        elif (
            key
            and references is not None
            and references.rubric_item_keys is not None
            and key not in references.rubric_item_keys
        ):
            entry.problem("key", f"{references.rubric_name} has no item with the key '{key}'")
        exclusions.setdefault(key, ExclusionData(key=key, reason=reason))
    return tuple(exclusions[key] for key in sorted(exclusions))


def _budgets(values: _Values) -> tuple[tuple[int, tuple[int, ...]], ...]:
    raw = values.get("step_budgets")
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        values.problem("step_budgets", "'step_budgets' must map 45 and/or 60 to lists of minutes")
        return ()
    budgets = []
    for length, minutes in raw.items():
        path = ("step_budgets", str(length))
        if length not in rules.LENGTHS:
            values.found.add(path, f"step_budgets: {length!r} is not an interview length (45, 60)")
            continue
        problem = (
            rules.budgets_problem(length, minutes)
            if isinstance(minutes, list)
            else f"give a list of {rules.STEP_COUNT} whole numbers"
        )
        if problem:
            values.found.add(path, f"step_budgets {length}: {_lower_first(problem)}")
            continue
        budgets.append((length, tuple(minutes)))
    return tuple(sorted(budgets))


# --- publishing readiness ---------------------------------------------------------------------


def publish_problems(case: CaseData) -> list[tuple[Path, str]]:
    """What `case` lacks to be published, each with where it is missing; [] when ready."""
    problems: list[tuple[Path, str]] = []
    for field_name, message in (
        ("candidate_prompt", rules.PUBLISH_NEEDS_PROMPT),
        ("interviewer_brief", rules.PUBLISH_NEEDS_BRIEF),
    ):
        if not getattr(case, field_name):
            problems.append(((field_name,), message))
    for step, text in enumerate(case.probes, start=1):
        if not text:
            problems.append((("probes", step), rules.publish_needs_probe(step)))
    if not case.model_answer:
        problems.append((("model_answer",), rules.PUBLISH_NEEDS_ANSWER))
    facts = rules.publish_needs_facts(len(case.facts))
    if facts:
        problems.append((("facts",), facts))
    for n, item in enumerate(case.extra_items):
        if not item.categories:
            message = (
                f"extra item {n + 1} ('{item.key}'): to publish, give it at least one category."
            )
            problems.append((("extra_items", n, "categories"), message))
    return problems


# --- writing ----------------------------------------------------------------------------------


class _FlowList(list[int]):
    """A list written on one line, as in `45: [7, 6, 8, 6, 7, 6, 5]`."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _FlowList,
    lambda dumper, data: dumper.represent_sequence(
        "tag:yaml.org,2002:seq", list(data), flow_style=True
    ),
)


def serialize_case(case: CaseData) -> str:
    """The canonical file text for a case; optional keys with no value are left out."""
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
    if case.not_applicable:
        meta["not_applicable"] = [{"key": e.key, "reason": e.reason} for e in case.not_applicable]
    if case.step_budgets:
        meta["step_budgets"] = {length: _FlowList(minutes) for length, minutes in case.step_budgets}
    front = yaml.dump(
        meta,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    texts = (
        case.candidate_prompt,
        case.interviewer_brief,
        *case.probes,
        case.model_answer,
    )
    body = "\n\n".join(f"# {name}\n\n{text}" for name, text in zip(SECTIONS, texts, strict=True))
    return f"---\n{front}---\n\n{body}\n"
