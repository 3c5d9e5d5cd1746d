"""Which rubric items a case item may duplicate: a warning for authors, never a verdict.

A case item adds points on top of the rubric's items of its step; if it asks for what a rubric
item of that step already asks for, the candidate earns (or loses) the same points twice. Pure
Python with no Django import, deterministic: the same texts give the same warnings in the same
order, so an author can tell why a warning appears and how to make it go away.

A case item is similar to a rubric item of the same step when:
- a keyword phrase of either item occurs in the other's title, candidate text or keywords, under
  the evidence matcher's rules (rubrics/evidence.py: case, accents, hyphens and plurals ignored);
- or their titles and candidate texts share a run of three words in a row once the small words
  ("the", "of", "you", "expected", …) are left out: "features as of the prediction timestamp" and
  "every feature, as of the prediction timestamp" share "feature prediction timestamp";
- or their titles share two such words in a row ("business objective");
and what they share weighs at least two: a shared phrase of two or more such words weighs two, a
single word one. One shared word ("recall") is too common to mean much; two are not.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rubrics import evidence

RUN_LENGTH = 3
TITLE_RUN_LENGTH = 2
MIN_WEIGHT = 2
# Only to find where words are, for quoting; evidence.normalise decides what a word is.
_TOKEN_RE = re.compile(r"\w+")

# Words that carry no topic: function words, and the phrasing every checklist text shares.
STOP_WORDS = frozenset(
    """
    a about after again all also an and any are as at be because been before being both but by
    can could did do does doing each either for from had has have having how i if in into is it
    its itself just may might more most much must no nor not of off on once only or other our out
    over own same should so some such than that the their them then there these they this those
    through to too under until up us very via was we were what when where whether which while who
    whom why will with within without would you your
    candidate candidates expected explains mentions names says asks ask tick covered
    adds builds checks chooses computes defines designs handles keeps makes plans ranks relies
    runs sets targets ties tracks treats uses
    """.split()  # noqa: SIM905 (a word list reads better as text than as 150 quoted strings)
)


@dataclass(frozen=True)
class ItemText:
    """The parts of a checklist item that the comparison reads."""

    key: str
    step: int
    title: str
    candidate_text: str
    keywords: tuple[str, ...]
    points: int = 1


@dataclass(frozen=True)
class Overlap:
    rubric_item: ItemText
    shared: tuple[str, ...]  # what both mention, as the rubric item or the case item words it

    def describe(self) -> str:
        item = self.rubric_item
        return f"Similar to rubric item ‹{item.title}› (step {item.step}, {item.points} pt)"


def find_overlaps(case_item: ItemText, rubric_items: Sequence[ItemText]) -> list[Overlap]:
    """The rubric items of the case item's step that it may duplicate, in the rubric's order."""
    overlaps = []
    for rubric_item in rubric_items:
        if rubric_item.step != case_item.step:
            continue
        shared = _shared(case_item, rubric_item)
        if sum(min(2, len(_content_words(phrase))) for phrase in shared) >= MIN_WEIGHT:
            overlaps.append(Overlap(rubric_item, shared))
    return overlaps


def _shared(a: ItemText, b: ItemText) -> tuple[str, ...]:
    found: list[str] = []
    found += _keyword_hits(a.keywords, b)
    found += _keyword_hits(b.keywords, a)
    found += _common_runs(_texts(a), _texts(b), RUN_LENGTH)
    found += _common_runs([a.title], [b.title], TITLE_RUN_LENGTH)
    # Each phrase once, in the order found, and not when a longer one found contains it
    # ("b test" inside "a/b test").
    words = [evidence.normalise(phrase) for phrase in found]
    kept: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for phrase, these in zip(found, words, strict=True):
        if these in seen or any(
            len(other) > len(these) and _contains(other, these) for other in words
        ):
            continue
        seen.add(these)
        kept.append(phrase)
    return tuple(kept)


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    size = len(shorter)
    return any(longer[i : i + size] == shorter for i in range(len(longer) - size + 1))


def _texts(item: ItemText) -> list[str]:
    return [item.title, item.candidate_text]


def _keyword_hits(keywords: Sequence[str], other: ItemText) -> list[str]:
    phrases = [k for k in keywords if evidence.normalise(k)]
    if not phrases:
        return []
    index = evidence.compile_phrases([evidence.EvidenceItem("k", tuple(phrases))])
    hits: list[str] = []
    # Each text on its own, so a phrase never runs from the end of one into the next.
    for text in (other.title, other.candidate_text, *other.keywords):
        for match in evidence.find_evidence(text, index).get("k", ()):
            hits.append(match.phrase)
    return hits


def _content_words(text: str) -> tuple[str, ...]:
    return tuple(word for word, _, _ in _content_tokens(text))


def _content_tokens(text: str) -> list[tuple[str, int, int]]:
    """The content words of `text`, normalised as the evidence matcher does, with their spans."""
    tokens = []
    for match in _TOKEN_RE.finditer(text):
        for word in evidence.normalise(match.group()):
            if word not in STOP_WORDS:
                tokens.append((word, match.start(), match.end()))
    return tokens


def _common_runs(texts_a: Sequence[str], texts_b: Sequence[str], length: int) -> list[str]:
    """Runs of `length` content words of texts_b that also occur in texts_a, plurals ignored.

    Each run is reported in texts_b's own words, small words included: "at least half of the
    video", not "least half video".
    """
    wording: dict[str, str] = {}
    for text_b in texts_b:
        tokens = _content_tokens(text_b)
        for i in range(len(tokens) - length + 1):
            run = tokens[i : i + length]
            wording.setdefault(" ".join(word for word, _, _ in run), text_b[run[0][1] : run[-1][2]])
    if not wording:
        return []
    index = evidence.compile_phrases([evidence.EvidenceItem("r", tuple(wording))])
    hits: list[str] = []
    for text_a in texts_a:
        content = " ".join(_content_words(text_a))
        hits += [wording[m.phrase] for m in evidence.find_evidence(content, index).get("r", ())]
    return hits
