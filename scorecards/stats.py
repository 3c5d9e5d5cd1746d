"""Progress maths over finished sessions' result digests: pure Python, no Django import.

The progress page never re-scores a session: it reads each session's stored digest
(`Session.result`, written and read by interviews.digest) and turns a list of digests into
averages, tallies and the next-case recommendation here, where the rules are plain to read and
testable without a database.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from interviews.digest import read_digest
from rubrics.scoring import format_percent

# Difficulty order for the no-history default: start gently.
DIFFICULTY_ORDER = {"junior": 0, "senior": 1, "staff": 2}
UNKNOWN_POSITION = 10_000  # a category slug missing from the categories table sorts last
MOST_MISSED_LIMIT = 10


@dataclass(frozen=True, slots=True)
class Digest:
    """One finished session as the progress page sees it."""

    session_id: int
    finished_at: datetime
    case_title: str
    domain: str
    total: Fraction | None
    band: str
    steps: dict[int, Fraction | None] = field(default_factory=dict)
    categories: dict[str, Fraction | None] = field(default_factory=dict)
    missed: tuple[str, ...] = ()
    red_flags: tuple[str, ...] = ()
    titles: dict[str, str] = field(default_factory=dict)
    overrun_seconds: dict[int, int] = field(default_factory=dict)

    @property
    def total_overrun_seconds(self) -> int:
        return sum(self.overrun_seconds.values())


def digest_from_result(
    *,
    session_id: int,
    finished_at: datetime,
    case_title: str,
    domain: str,
    total: Fraction | None,
    band: str,
    result: object,
) -> Digest:
    """A Digest from a session's stored `result`. The digest's exact total wins over `total`
    (the session's three-place decimal, which would round twice); sessions finished before the
    digest existed, or with a digest that does not parse, count with their total and band."""
    stored = read_digest(result)
    return Digest(
        session_id=session_id,
        finished_at=finished_at,
        case_title=case_title,
        domain=domain,
        total=stored.total if stored.total is not None else total,
        band=band,
        steps=stored.steps,
        categories=stored.categories,
        missed=stored.missed,
        red_flags=stored.red_flags,
        titles=stored.titles,
        overrun_seconds=stored.overrun_seconds,
    )


# --- averages and trends ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Average:
    mean: Fraction
    count: int

    @property
    def display(self) -> str:
        return format_percent(self.mean)


def _averages[K](values: Iterable[tuple[K, Fraction | None]]) -> dict[K, Average]:
    sums: dict[K, Fraction] = {}
    counts: Counter[K] = Counter()
    for key, value in values:
        if value is None:
            continue  # a group without expected items in that session has no score
        sums[key] = sums.get(key, Fraction(0)) + value
        counts[key] += 1
    return {key: Average(sums[key] / counts[key], counts[key]) for key in sums}


def category_averages(digests: Sequence[Digest]) -> dict[str, Average]:
    """Mean percentage per category over the sessions where the category had a score."""
    return _averages((slug, value) for d in digests for slug, value in d.categories.items())


def step_averages(digests: Sequence[Digest]) -> dict[int, Average]:
    return _averages((number, value) for d in digests for number, value in d.steps.items())


def category_series(digests: Sequence[Digest], slug: str) -> list[Fraction | None]:
    """The category's percentage in each session, oldest first; None where it had no score."""
    return [d.categories.get(slug) for d in digests]


def step_series(digests: Sequence[Digest], number: int) -> list[Fraction | None]:
    return [d.steps.get(number) for d in digests]


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    slug: str
    name: str
    position: int


def category_order(
    slugs: Iterable[str], categories: Mapping[str, CategoryInfo]
) -> list[CategoryInfo]:
    """The given category slugs as CategoryInfo, by position then slug; unknown slugs last."""
    infos = {
        slug: categories.get(slug) or CategoryInfo(slug, slug, UNKNOWN_POSITION) for slug in slugs
    }
    return sorted(infos.values(), key=lambda info: (info.position, info.slug))


def weakest_category(
    averages: Mapping[str, Average], categories: Mapping[str, CategoryInfo]
) -> str | None:
    """The category with the lowest average; ties by category position, then slug."""
    if not averages:
        return None

    def rank(slug: str) -> tuple[Fraction, int, str]:
        info = categories.get(slug)
        return (averages[slug].mean, info.position if info else UNKNOWN_POSITION, slug)

    return min(averages, key=rank)


# --- items missed and red flags ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemTally:
    key: str
    title: str
    count: int
    last_seen: datetime


def _tally(digests: Sequence[Digest], keys_of: str) -> list[ItemTally]:
    counts: Counter[str] = Counter()
    last_seen: dict[str, datetime] = {}
    titles: dict[str, str] = {}
    for d in sorted(digests, key=lambda d: (d.finished_at, d.session_id)):
        for key in set(getattr(d, keys_of)):
            counts[key] += 1
            last_seen[key] = d.finished_at
            # The newest session's title wins: a later rubric version may have reworded it.
            titles[key] = d.titles.get(key, key)
    tallies = [ItemTally(key, titles[key], counts[key], last_seen[key]) for key in counts]
    # Most often first; then the most recent; then by title for a stable order.
    return sorted(tallies, key=lambda t: (-t.count, -t.last_seen.timestamp(), t.title, t.key))


def most_missed(digests: Sequence[Digest], limit: int = MOST_MISSED_LIMIT) -> list[ItemTally]:
    """Expected items missed (or not earned), counted once per session."""
    return _tally(digests, "missed")[:limit]


def repeated_red_flags(digests: Sequence[Digest]) -> list[ItemTally]:
    """Red flags observed in more than one session."""
    return [tally for tally in _tally(digests, "red_flags") if tally.count > 1]


# --- time discipline ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepOverrun:
    number: int
    sessions: int  # sessions that recorded this step's time
    overrun_sessions: int  # of those, how many went over the budget
    average_seconds: Fraction  # mean overrun over all those sessions, on-time ones counting 0

    @property
    def average_minutes(self) -> Fraction:
        return self.average_seconds / 60


def overrun_by_step(digests: Sequence[Digest]) -> list[StepOverrun]:
    totals: Counter[int] = Counter()
    sessions: Counter[int] = Counter()
    over: Counter[int] = Counter()
    for d in digests:
        for number, seconds in d.overrun_seconds.items():
            totals[number] += seconds
            sessions[number] += 1
            over[number] += seconds > 0
    return [
        StepOverrun(
            number, sessions[number], over[number], Fraction(totals[number], sessions[number])
        )
        for number in sorted(sessions)
    ]


def most_overrun_step(overruns: Sequence[StepOverrun]) -> StepOverrun | None:
    """The step over budget in the most sessions; ties by the larger average overrun, then the
    earlier step. None when no step ever overran."""
    candidates = [o for o in overruns if o.overrun_sessions]
    if not candidates:
        return None
    return min(candidates, key=lambda o: (-o.overrun_sessions, -o.average_seconds, o.number))


def minutes(seconds: int | Fraction) -> str:
    """Seconds as minutes with one decimal, halves rounded up: 90 → "1.5"."""
    return format_percent(Fraction(seconds) / 60)


# --- the next case -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseOption:
    """A published case the user has not done as candidate, with its extra items' categories."""

    case_id: int
    title: str
    slug: str
    domain: str
    domain_label: str
    difficulty: str
    item_categories: tuple[tuple[str, ...], ...] = ()  # one tuple of slugs per extra item

    def items_on(self, slug: str) -> int:
        return sum(slug in categories for categories in self.item_categories)


@dataclass(frozen=True, slots=True)
class Recommendation:
    case_id: int
    title: str
    explanation: str
    category: str | None = None  # the targeted category's slug; None for the no-history default
    items: int = 0


def recommend_case(
    digests: Sequence[Digest],
    options: Sequence[CaseOption],
    categories: Mapping[str, CategoryInfo],
) -> Recommendation | None:
    """The next case to practise as candidate, deterministically.

    With history: target the weakest category (lowest average percentage; ties by category
    position, then slug). Among the cases not yet done, pick the one with the most extra checklist
    items tagged with it (the rubric's own items are the same for every case, so only a case's
    extra items tell cases apart), then the domain practised least, then title and slug.
    Without history: the least difficult case (junior first), then title and slug.
    None when every published case is done.
    """
    if not options:
        return None
    averages = category_averages(digests)
    weakest = weakest_category(averages, categories)
    if weakest is None:
        return _default_pick(options)
    average = averages[weakest]
    domains = Counter(d.domain for d in digests)
    pick = min(options, key=lambda o: (-o.items_on(weakest), domains[o.domain], o.title, o.slug))
    name = categories[weakest].name if weakest in categories else weakest
    items = pick.items_on(weakest)
    sessions = _count(average.count, "session")
    reason = f"Your weakest concept is {name} ({average.display} % average over {sessions})."
    domain = (
        f"Its domain, {pick.domain_label}, came up in {domains[pick.domain]} of your "
        f"{_count(len(digests), 'session')}."
    )
    if items:
        added = f"This case adds {_count(items, 'checklist item')} on it."
    else:
        added = (
            "No case you have not done adds checklist items on it, but every case's rubric "
            "checks it."
        )
    return Recommendation(pick.case_id, pick.title, f"{reason} {added} {domain}", weakest, items)


def _default_pick(options: Sequence[CaseOption]) -> Recommendation:
    pick = min(options, key=lambda o: (DIFFICULTY_ORDER.get(o.difficulty, 99), o.title, o.slug))
    explanation = (
        "You have no finished sessions as candidate yet, so there is nothing to target: Spar "
        f"suggests the least difficult case you have not done ({pick.difficulty} level), "
        "alphabetically first among equals. After your first session, the suggestion targets "
        "your weakest concept."
    )
    return Recommendation(pick.case_id, pick.title, explanation)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
