"""Time rubrics.evidence.find_evidence on the live-polling worst case: 20,000 characters of notes.

Two scenarios, both with a compiled PhraseIndex reused across calls, as the polling view does:
- "default rubric": every keyword of rubrics/data/default_rubric.yaml (1,127 in version 2, 413 in
  version 1), all items at once although the room only matches one step's, against 20,000
  characters of the rubric's own prose, so phrases occur as they would in real notes;
- "stress": 80 items × 6 phrases drawn from an 80-word vocabulary, so nearly every word of the text
  starts several phrases and every item hits its match cap.

Pure Python (PyYAML only reads the rubric); run from the repo root: python bench/bench_evidence.py
"""

import random
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rubrics.evidence import EvidenceItem, compile_phrases, find_evidence  # noqa: E402 (path above)

TEXT_CHARS = 20_000
RUNS = 200

STRESS_ITEMS = 80
STRESS_PHRASES_PER_ITEM = 6
STRESS_VOCABULARY = (
    "model",
    "data",
    "feature",
    "features",
    "label",
    "labels",
    "split",
    "splits",
    "time",
    "based",
    "chronological",
    "point",
    "in",
    "the",
    "a",
    "of",
    "to",
    "and",
    "for",
    "with",
    "we",
    "would",
    "use",
    "users",
    "user",
    "query",
    "queries",
    "latency",
    "p99",
    "ms",
    "budget",
    "training",
    "serving",
    "online",
    "offline",
    "metric",
    "metrics",
    "recall",
    "precision",
    "auc",
    "ndcg",
    "calibration",
    "candidate",
    "retrieval",
    "ranking",
    "embedding",
    "embeddings",
    "cache",
    "caches",
    "store",
    "stores",
    "batch",
    "stream",
    "drift",
    "monitoring",
    "retrain",
    "retraining",
    "leakage",
    "imbalance",
    "sampling",
    "negative",
    "negatives",
    "positive",
    "a/b",
    "test",
    "tests",
    "experiment",
    "rollout",
    "shadow",
    "canary",
    "fallback",
    "boxes",
    "index",
    "sharding",
    "replica",
)


def _default_rubric() -> tuple[list[EvidenceItem], str]:
    rubric = yaml.safe_load((ROOT / "rubrics/data/default_rubric.yaml").read_text())
    rubric_items = [item for step in rubric["steps"] for item in step["items"]]
    items = [
        EvidenceItem(key=item["key"], phrases=tuple(item.get("keywords", ())))
        for item in rubric_items
    ]
    prose = "\n".join(f"{item['candidate_text']} {item['probe']}" for item in rubric_items)
    text = (prose * (TEXT_CHARS // len(prose) + 1))[:TEXT_CHARS]
    return items, text


def _stress() -> tuple[list[EvidenceItem], str]:
    rng = random.Random(20_000)
    items = [
        EvidenceItem(
            key=f"item-{number}",
            phrases=tuple(
                " ".join(rng.choice(STRESS_VOCABULARY) for _ in range(rng.randint(1, 3)))
                for _ in range(STRESS_PHRASES_PER_ITEM)
            ),
        )
        for number in range(STRESS_ITEMS)
    ]
    separators = (" ", " ", " ", " ", ", ", ". ", "-", "\n", " (", ") ")
    parts: list[str] = []
    length = 0
    while length < TEXT_CHARS:
        word = rng.choice(STRESS_VOCABULARY)
        part = (word.capitalize() if rng.random() < 0.1 else word) + rng.choice(separators)
        parts.append(part)
        length += len(part)
    return items, "".join(parts)[:TEXT_CHARS]


def _run(name: str, items: list[EvidenceItem], text: str) -> None:
    started = time.perf_counter()
    index = compile_phrases(items)
    compile_ms = (time.perf_counter() - started) * 1000

    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        result = find_evidence(text, index)
        timings.append((time.perf_counter() - started) * 1000)

    phrases = sum(len(item.phrases) for item in items)
    matches = sum(len(found) for found in result.values())
    print(f"{name}: {len(text)} chars, {phrases} phrases in {len(items)} items")
    print(f"  compile_phrases (once): {compile_ms:.2f} ms")
    print(
        f"  find_evidence: median {statistics.median(timings):.2f} ms, "
        f"best {min(timings):.2f} ms, worst {max(timings):.2f} ms over {RUNS} runs; "
        f"{len(result)} items matched, {matches} matches"
    )


def main() -> None:
    _run("default rubric", *_default_rubric())
    _run("stress", *_stress())


if __name__ == "__main__":
    main()
