"""Finished demo sessions between the demo accounts, so that a newcomer's first look at the
progress page and the scorecards shows real content (used by `setup_demo`).

Every session runs through interviews.services with explicit times spread over the past weeks,
exactly as a live one would, so the stored results are the real scoring of the marks below.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import User

from casebank.checklist import CASE_ITEM_PREFIX
from casebank.models import Case
from interviews import board, checklist, services
from interviews.models import MarkSource, Session, SessionMode
from rubrics import scoring
from rubrics.models import RubricVersion
from scorecards import services as scorecard_services

COVERED, PARTIAL, MISSED = "covered", "partial", "missed"


@dataclass(frozen=True)
class DemoSession:
    """One finished session. Marks: an item tagged with a weak category is missed or partial, one
    tagged with a strong category covered, any other follows `pattern` by its place in the step;
    `marks` overrides all that. `hints` are logged on the item's step and the item is marked after
    the hint; `red_flags` are observed."""

    case_slug: str
    days_ago: int
    swapped: bool  # True: the demo interviewer is the candidate this time
    minutes: tuple[int, int, int, int, int, int, int]
    notes: dict[int, str]
    strong: frozenset[str] = frozenset()
    weak: frozenset[str] = frozenset()
    pattern: tuple[str, ...] = (COVERED, PARTIAL, COVERED)
    marks: dict[str, str] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)  # item key → the hint given
    red_flags: tuple[str, ...] = ()
    comments: dict[int, str] = field(default_factory=dict)
    # What the candidate draws on the board during a step, by step number.
    drawing: dict[int, list[board.Element]] = field(default_factory=dict)


# --- demo diagrams: Excalidraw elements as the browser sends them -------------------------------

_INDEX_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BOX_WIDTH, _BOX_HEIGHT, _FONT_SIZE = 180, 70, 20
_CHAR_WIDTH = 0.55  # an average character's width, in font sizes


def _wrap(label: str, width: int) -> list[str]:
    lines = [""]
    for word in label.split():
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return lines


def _base(key: str, kind: str, position: int, **fields: object) -> board.Element:
    # Fractional indices as Excalidraw writes them ("a0", "a1", …) keep the drawing order.
    return {
        "id": f"demo-{key}",
        "type": kind,
        "angle": 0,
        "strokeColor": "#1e1e1e",
        "backgroundColor": "transparent",
        "fillStyle": "solid",
        "strokeWidth": 2,
        "strokeStyle": "solid",
        "roughness": 1,
        "opacity": 100,
        "groupIds": [],
        "frameId": None,
        "index": "a" + _INDEX_DIGITS[position],
        "roundness": None,
        "seed": 1000 + position,
        "version": 1,
        "versionNonce": 7919 * (position + 1),
        "isDeleted": False,
        "boundElements": None,
        "updated": 1735689600000,
        "link": None,
        "locked": False,
    } | fields


def _box(
    key: str, position: int, x: float, y: float, label: str, colour: str = "#a5d8ff"
) -> list[board.Element]:
    """A rounded box with a label bound to it: the box at `position`, its text just after. A
    label too wide for the box wraps onto more lines, as Excalidraw wraps it."""
    lines = _wrap(label, int((_BOX_WIDTH - 20) / (_FONT_SIZE * _CHAR_WIDTH)))
    text_width = max(len(line) for line in lines) * _FONT_SIZE * _CHAR_WIDTH
    text_height = len(lines) * _FONT_SIZE * 1.25
    shape = _base(
        key,
        "rectangle",
        position,
        x=x,
        y=y,
        width=_BOX_WIDTH,
        height=_BOX_HEIGHT,
        backgroundColor=colour,
        roundness={"type": 3},
        boundElements=[{"id": f"demo-{key}-label", "type": "text"}],
    )
    text = _base(
        f"{key}-label",
        "text",
        position + 1,
        x=x + (_BOX_WIDTH - text_width) / 2,
        y=y + (_BOX_HEIGHT - text_height) / 2,
        width=text_width,
        height=text_height,
        text="\n".join(lines),
        originalText=label,
        fontSize=_FONT_SIZE,
        fontFamily=5,
        textAlign="center",
        verticalAlign="middle",
        lineHeight=1.25,
        containerId=f"demo-{key}",
        autoResize=True,
    )
    return [shape, text]


def _arrow(
    key: str, position: int, start: tuple[float, float], end: tuple[float, float]
) -> board.Element:
    dx, dy = end[0] - start[0], end[1] - start[1]
    return _base(
        key,
        "arrow",
        position,
        x=start[0],
        y=start[1],
        width=abs(dx),
        height=abs(dy),
        points=[[0, 0], [dx, dy]],
        startBinding=None,
        endBinding=None,
        startArrowhead=None,
        endArrowhead="arrow",
        elbowed=False,
    )


# The ad-click pipeline drawn over three steps: data, model, serving.
_AD_CLICK_BOARD = {
    3: [
        *_box("impressions", 0, 0, 0, "Impression log", "#ffec99"),
        *_box("clicks", 2, 0, 120, "Click log", "#ffec99"),
        *_box("join", 4, 260, 60, "Join (30 min)"),
        _arrow("impressions-join", 6, (180, 35), (260, 80)),
        _arrow("clicks-join", 7, (180, 155), (260, 110)),
        *_box("features", 8, 520, 60, "Feature store"),
        _arrow("join-features", 10, (440, 95), (520, 95)),
    ],
    4: [
        *_box("ranker", 11, 520, 220, "Ranker (DCN)", "#b2f2bb"),
        _arrow("features-ranker", 13, (610, 130), (610, 220)),
    ],
    6: [
        *_box("auction", 14, 520, 380, "Auction"),
        _arrow("ranker-auction", 16, (610, 290), (610, 380)),
        *_box("ab-test", 17, 260, 380, "A/B test", "#ffc9c9"),
        _arrow("auction-ab", 19, (520, 415), (440, 415)),
    ],
}

# Product search's funnel, drawn in one go while framing the problem.
_SEARCH_BOARD = {
    2: [
        *_box("query", 0, 0, 100, "Query understanding", "#ffec99"),
        *_box("lexical", 2, 260, 0, "Lexical retrieval"),
        *_box("embedding", 4, 260, 200, "ANN index"),
        _arrow("query-lexical", 6, (180, 120), (260, 35)),
        _arrow("query-embedding", 7, (180, 150), (260, 235)),
        *_box("ltr", 8, 520, 100, "LambdaMART", "#b2f2bb"),
        _arrow("lexical-ltr", 10, (440, 35), (520, 120)),
        _arrow("embedding-ltr", 11, (440, 235), (520, 150)),
        *_box("rerank", 12, 780, 100, "Cross-encoder top 50", "#b2f2bb"),
        _arrow("ltr-rerank", 14, (700, 135), (780, 135)),
    ],
}


DEMO_SESSIONS: tuple[DemoSession, ...] = (
    DemoSession(
        case_slug="ad-click-prediction",
        days_ago=26,
        swapped=False,
        minutes=(7, 4, 10, 11, 5, 5, 3),
        strong=frozenset({"requirements", "framing"}),
        weak=frozenset({"data-leakage", "monitoring", "experimentation"}),
        pattern=(COVERED, PARTIAL, MISSED),
        hints={"calibration-check": "What does the auction do with the number the model outputs?"},
        red_flags=("random-split-time-ordered",),
        drawing=_AD_CLICK_BOARD,
        notes={
            1: "- Goal: maximise ad revenue without hurting feed engagement\n"
            "- 750M DAU x 4 sessions x 4 slots = 12B auctions/day, ~140k/s, ~350k/s at peak\n"
            "- 150 ms end to end incl. auction\n"
            "- CTR 1-2 %: heavy imbalance; hides are a negative signal",
            2: "Binary classification: P(click | user, ad, context).\n"
            "Label: click within 30 min of impression; hide = negative.",
            3: "- Impression log joined with clicks\n"
            "- Features: user demographics, ad/advertiser IDs (hashed), historical CTR counters\n"
            "- Downsample negatives to 10 %",
            4: "Start with logistic regression + feature crosses, then DCN / DeepFM.\n"
            "Train/test: random 80/20 split of last month's impressions.",
            5: "- Log loss, normalized entropy, ROC AUC\n"
            "- Calibration (after the hint): expected/actual clicks per segment",
            6: "A/B test on revenue per 1000 impressions; guardrail: hide rate.",
            7: "Retrain daily.",
        },
        comments={
            1: "Strong start: numbers on the table before any design.",
            4: "The random split leaks future behaviour into training; split by time instead.",
            7: "Ran out of time here: no drift detection or rollback.",
        },
    ),
    DemoSession(
        case_slug="delivery-eta",
        days_ago=19,
        swapped=False,
        minutes=(5, 5, 9, 10, 5, 7, 4),
        strong=frozenset({"requirements", "features"}),
        weak=frozenset({"data-leakage", "experimentation"}),
        marks={"time-aware-split": PARTIAL},
        red_flags=("offline-only-validation",),
        notes={
            1: "- Estimate shown on restaurant list, checkout and order tracking\n"
            "- Late is worse than early for customers\n- p99 under 100 ms at checkout",
            2: "Regression on minutes from order to doorstep; maybe predict quantiles "
            "so we can show a range.",
            3: "- Orders, restaurant prep history, courier GPS pings, weather, traffic\n"
            "- Real-time: open orders at the restaurant, couriers nearby",
            4: "Gradient boosted trees on tabular features; baseline = current rules.\n"
            "Hold out the last two weeks.",
            5: "MAE, and % of orders later than the estimate by > 10 min.",
            6: "Ship it once offline MAE beats the rules.",
            7: "Watch MAE per city daily; retrain weekly.",
        },
        comments={
            3: "Good split between precomputed and real-time features.",
            6: "Offline MAE is not proof: an A/B test on orders and complaints was missing.",
        },
    ),
    DemoSession(
        case_slug="event-recommendation",
        days_ago=15,
        swapped=True,
        minutes=(5, 4, 8, 9, 5, 7, 4),
        strong=frozenset({"requirements", "framing", "modelling", "data-leakage"}),
        weak=frozenset({"latency"}),
        notes={
            1: "- Goal: more registrations that turn into attendance\n"
            "- Events expire: the whole catalogue turns over every few weeks",
            2: "Rank events per user: pointwise P(register | user, event); "
            "retrieval by location + time window first.",
            3: "- Features as of impression time only (registrations so far, not final)\n"
            "- Negatives: impressed but not registered",
            4: "Two-tower for retrieval, GBDT ranker. Permanent cold start: content "
            "features of the event and the host's history.",
            5: "NDCG@10 on a time-based holdout; coverage of new events.",
            6: "Nightly batch candidates + online ranking.",
            7: "Track registrations per session; drift on event categories.",
        },
        comments={
            4: "Excellent handling of events that never get history.",
            6: "No latency budget stated for online ranking.",
        },
    ),
    DemoSession(
        case_slug="product-search-ranking",
        days_ago=11,
        swapped=False,
        minutes=(5, 4, 8, 12, 5, 6, 3),
        strong=frozenset({"requirements", "framing", "metrics", "features"}),
        weak=frozenset({"data-leakage", "monitoring"}),
        marks={"drift-detection": PARTIAL},
        hints={"search-query-understanding": "What happens to a misspelt query today?"},
        red_flags=("random-split-time-ordered",),
        drawing=_SEARCH_BOARD,
        notes={
            1: "- Goal: purchases per search session; zero-result rate as guardrail\n"
            "- 60M products (300M listings); 50M shoppers x 5 searches a day\n"
            "- ~7k queries/s at peak, ~22k on sale days; 200 ms budget",
            2: "Multi-stage: lexical + embedding retrieval → learning-to-rank on "
            "P(purchase | query, product).",
            3: "- Clicks, add-to-cart, purchases from search logs\n"
            "- Query spell correction and category classifier",
            4: "LambdaMART baseline, then a cross-encoder re-ranker for the top 50.\n"
            "Shuffle all logged sessions into train/validation/test.",
            5: "NDCG@20 and MRR offline; slice by head vs tail queries.",
            6: "Interleaving before a full A/B test on purchases.",
            7: "Dashboards for zero-result rate and latency.",
        },
        comments={
            2: "Clear funnel with a reason for each stage.",
            4: "Random split again: the same shopper's later sessions end up in training.",
        },
    ),
    DemoSession(
        case_slug="query-autocomplete",
        days_ago=6,
        swapped=True,
        minutes=(6, 4, 8, 9, 5, 7, 4),
        strong=frozenset({"latency", "serving", "requirements"}),
        weak=frozenset({"class-imbalance", "monitoring"}),
        red_flags=("unjustified-complex-model",),
        notes={
            1: "- p99 < 50 ms per keystroke, global traffic\n"
            "- Block offensive completions; trending topics within minutes",
            2: "Rank completions for a prefix; objective: accepted suggestion rate.",
            3: "- Query logs aggregated per prefix, streaming counts for trends\n"
            "- Blocklist and classifier for unsafe completions",
            4: "Transformer language model to generate completions.",
            5: "Acceptance rate and keystrokes saved on held-out days.",
            6: "Precomputed prefix index (trie) at the edge; model re-ranks top 10.",
            7: "Alert on p99 latency.",
        },
        comments={
            4: "A generative model without a reason, when a ranked prefix index would do.",
            6: "Precomputing the prefix index was exactly right.",
        },
    ),
    DemoSession(
        case_slug="card-fraud-detection",
        days_ago=3,
        swapped=False,
        minutes=(5, 4, 9, 9, 5, 7, 4),
        strong=frozenset({"requirements", "framing", "metrics", "class-imbalance", "monitoring"}),
        weak=frozenset({"data-leakage"}),
        pattern=(COVERED, COVERED, PARTIAL),
        hints={"time-aware-split": "Chargebacks arrive weeks later: what does that do to a split?"},
        notes={
            1: "- Decide during authorisation: ~100 ms\n"
            "- Cost of a missed fraud vs a declined good customer\n"
            "- 0.1 % fraud rate",
            2: "Score P(fraud); thresholds → approve / review / decline.",
            3: "- Labels from chargebacks (up to 90 days late) and analyst reviews\n"
            "- Velocity features per card and merchant from a stream",
            4: "GBDT with class weights; compare with the rules as a baseline.\n"
            "Split by time, leaving a gap for late chargebacks.",
            5: "Precision/recall at the review queue's capacity; dollar-weighted recall.",
            6: "Shadow mode first, then a holdout that skips the model.",
            7: "Drift on score distribution (PSI > 0.2 alerts); fraudsters adapt, retrain weekly.",
        },
        comments={
            4: "Needed a nudge on late labels, then got the gap right.",
            7: "Good monitoring plan with a concrete threshold.",
        },
    ),
)


def seed_demo_sessions(
    *, interviewer: User, candidate: User, version: RubricVersion, now: datetime
) -> list[Session]:
    """Create the demo sessions, oldest first; cases missing from the library are skipped.

    Every candidate but the newest session's has assessed themselves, a little generously, so
    the scorecards show a calibration; the newest waits, so a newcomer meets that step too.
    """
    cases = Case.objects.in_bulk([demo.case_slug for demo in DEMO_SESSIONS], field_name="slug")
    sessions = [
        _run(demo, cases[demo.case_slug], interviewer, candidate, version, now)
        for demo in DEMO_SESSIONS
        if demo.case_slug in cases
    ]
    for session in sessions[:-1]:
        _self_assess(session)
    return sessions


# A candidate's usual bias: a partial feels covered, a miss feels half-done.
_GENEROUS = {PARTIAL: COVERED, MISSED: PARTIAL}


def _self_assess(session: Session) -> None:
    marks = {}
    rows = session.marks.filter(source=MarkSource.INTERVIEWER).order_by("item_key")
    for index, row in enumerate(rows):
        mark = _GENEROUS.get(row.mark, row.mark) if index % 3 == 0 else row.mark
        marks[row.item_key] = (mark, row.after_hint)
    assert session.candidate is not None  # a finished peer session
    scorecard_services.submit_self_assessment(
        session=session, by=session.candidate, marks=marks, now=session.finished_at
    )


def _run(
    demo: DemoSession,
    case: Case,
    interviewer: User,
    candidate: User,
    version: RubricVersion,
    now: datetime,
) -> Session:
    if demo.swapped:
        interviewer, candidate = candidate, interviewer
    start = (now - timedelta(days=demo.days_ago)).replace(minute=0, second=0, microsecond=0)
    session = services.create_session(
        host=interviewer,
        case=case,
        rubric_version=version,
        length_minutes=45,
        mode=SessionMode.PEER,
    )
    assert session.invite_token is not None  # a peer session opens with its invite link
    session = services.join_session(token=session.invite_token, user=candidate)
    session = services.start_session(session=session, now=start)
    items = [item.scoring_item for item in checklist.session_checklist(session)]
    at = start
    for number, minutes in enumerate(demo.minutes, start=1):
        if number > 1:
            session = services.go_to_step(session=session, number=number, now=at)
        if number in demo.notes:
            services.save_notes(
                session=session,
                step_number=number,
                text=demo.notes[number],
                base_version=0,
                now=at + timedelta(minutes=minutes - 1),
            )
        if number in demo.drawing:
            services.save_board(
                session=session,
                update=board.BoardUpdate(0, board.validate_elements(demo.drawing[number])),
                by=candidate,
                now=at + timedelta(minutes=minutes - 1),
            )
        step_items = [item for item in items if item.step == number]
        for key, text in demo.hints.items():
            if any(item.key == _key(key, step_items) for item in step_items):
                services.add_hint(
                    session=session, step_number=number, text=text, now=at + timedelta(minutes=1)
                )
        for key, mark, after_hint in _marks(demo, step_items):
            services.set_mark(
                session=session,
                item_key=key,
                mark=mark,
                after_hint=after_hint,
                by=interviewer,
                source=MarkSource.INTERVIEWER,
                now=at + timedelta(minutes=2),
            )
        if number in demo.comments:
            services.save_comment(session=session, step_number=number, text=demo.comments[number])
        at += timedelta(minutes=minutes)
    return services.finish_session(session=session, now=at)


def _key(key: str, items: Iterable[scoring.Item]) -> str:
    """A demo refers to case items by their own key; the session knows them as case:<key>."""
    keys = {item.key for item in items}
    return key if key in keys else f"{CASE_ITEM_PREFIX}{key}"


def _marks(demo: DemoSession, items: list[scoring.Item]) -> list[tuple[str, str, bool]]:
    marks = {_key(key, items): mark for key, mark in demo.marks.items()}
    hinted = {_key(key, items) for key in demo.hints}
    result = []
    expected = [item for item in items if item.kind == scoring.Kind.EXPECTED]
    for index, item in enumerate(expected):
        if item.key in marks:
            mark = marks[item.key]
        elif item.key in hinted:
            mark = COVERED
        elif demo.weak.intersection(item.categories):
            mark = MISSED if index % 2 == 0 else PARTIAL
        elif demo.strong.intersection(item.categories):
            mark = COVERED
        else:
            mark = demo.pattern[index % len(demo.pattern)]
        result.append((item.key, mark, item.key in hinted))
    observed = {_key(key, items) for key in demo.red_flags}
    result += [(item.key, "observed", False) for item in items if item.key in observed]
    return result
