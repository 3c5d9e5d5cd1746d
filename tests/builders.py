"""Session builders shared by the test folders: sessions played through the real services with
fixed clocks, so step times, overruns and mark timestamps are exact.

Interviewer-only texts carry …-SECRET markers so the leak tests can look for them in responses.
Fixtures live in the conftest files; what they build comes from here.
"""

import functools
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection
from django.db.models import DateTimeField, Model
from django.utils import timezone

from casebank.models import Case
from core import yamltext
from interviews import checklist, services
from interviews.models import MarkSource, Session, SessionMode
from rubrics import scoring
from rubrics.models import Category, Item, Rubric, RubricVersion, Step
from rubrics.services import DEFAULT_RUBRIC_FILE, latest_published_version, load_rubric_data
from scorecards import services as scorecard_services
from tests.factories import (
    CaseFactory,
    CategoryFactory,
    ItemFactory,
    RubricVersionFactory,
    StepFactory,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# Version 1 of the shipped rubric, frozen: tests of session mechanics check exact budgets, item
# counts and totals, which must not move whenever the shipped rubric's content does.
FROZEN_RUBRIC_FILE = Path(__file__).resolve().parent / "rubrics" / "data" / "default_rubric_v1.yaml"


@functools.cache
def _rubric_document(path: Path) -> object:
    return yamltext.load(path.read_text(encoding="utf-8"))


# What a rubric file writes, in an order where every row's references come before it.
_RUBRIC_MODELS: tuple[type[Model], ...] = (
    Category,
    Rubric,
    RubricVersion,
    Step,
    Item,
    Item.categories.through,
)
# Per test process and file: the rows its first load wrote into empty tables.
_rubric_rows: dict[Path, list[list[dict[str, object]]]] = {}


def load_rubric(path: Path = DEFAULT_RUBRIC_FILE) -> RubricVersion:
    """What `manage.py load_rubric` does. Hundreds of tests need a real rubric in their database:
    the first load into empty tables runs the loader and keeps the rows it wrote; later loads into
    empty tables insert those rows again, with the same ids (a few milliseconds instead of about
    forty). A database that already holds rubric rows always goes through the loader."""
    empty = not any(model._default_manager.exists() for model in _RUBRIC_MODELS)
    rows = _rubric_rows.get(path)
    if empty and rows is not None:
        now = timezone.now()
        for model, model_rows in zip(_RUBRIC_MODELS, rows, strict=True):
            # Timestamps are the copy's, as a load now would write them.
            stamped = [
                f.attname for f in model._meta.concrete_fields if isinstance(f, DateTimeField)
            ]
            copies = [
                model(**{**row, **{name: now for name in stamped if row[name] is not None}})
                for row in model_rows
            ]
            model._default_manager.bulk_create(copies)
        # PostgreSQL's id sequences do not move for rows inserted with their ids.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(_RUBRIC_MODELS)):
                cursor.execute(sql)
    else:
        load_rubric_data(_rubric_document(path), source=str(path))
        if empty:
            _rubric_rows[path] = [
                list(model._default_manager.order_by("pk").values()) for model in _RUBRIC_MODELS
            ]
    version = latest_published_version()
    assert version is not None
    return version


# A probe of the default rubric's first item, interviewer-only: it must never reach a candidate.
RUBRIC_PROBE = "Tick it when the candidate states a single primary goal in business terms."
RUBRIC_ITEM_TITLE = "Names the business objective"

SECRETS = (
    "INTERVIEWER-BRIEF-SECRET",
    "MODEL-ANSWER-SECRET",
    "PROBE-SECRET",
    "CASE-ITEM-PROBE-SECRET",
    "FACT-ANSWER-SECRET",
    RUBRIC_PROBE,
    RUBRIC_ITEM_TITLE,
)


def scoring_items(session: Session) -> list[scoring.Item]:
    """The session's checklist as the scoring engine's items."""
    return [item.scoring_item for item in checklist.session_checklist(session)]


def make_peer_session(
    *,
    interviewer: User,
    candidate: User,
    case: Case,
    rubric_version: RubricVersion,
    start: bool = True,
    length_minutes: int = 45,
) -> Session:
    """A peer session the candidate joined through the invite link, started at T0 by default."""
    session = services.create_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=length_minutes,
        mode=SessionMode.PEER,
    )
    session = services.join_session(token=session.invite_token, user=candidate)
    if start:
        session = services.start_session(session=session, now=T0)
    return session


# Seconds on each step. Budgets (45 minutes): 5, 4, 8, 9, 5, 7, 4 minutes; step 1 runs over
# by 90 s (1.5 min) and step 3 by 31 s (0.5 min); the others finish in time.
STEP_SECONDS = {1: 390, 2: 240, 3: 511, 4: 300, 5: 300, 6: 420, 7: 200}

COMMENT_SECRET = "COMMENT-SECRET: good framing, *weak* on scale."
HINT_SECRET = "HINT-SECRET: think about QPS"
NOTES = {1: "Goal: **bookings**. p99 under 100 ms.", 2: "Binary classification of clicks."}

# Every way an expected item can be marked, cycled over the items; None leaves it unmarked.
CYCLE: tuple[tuple[str, bool] | None, ...] = (
    ("covered", False),
    ("partial", False),
    ("missed", False),
    ("covered", True),
    ("partial", True),
    None,
)

SelfMarks = Mapping[str, tuple[str, bool]]


def varied_marks(items: Sequence[scoring.Item], shift: int = 0) -> dict[str, tuple[str, bool]]:
    """A mark for most items, of every kind: the CYCLE on expected items, every third red flag
    observed. `shift` moves the cycle, to get a different but equally varied set."""
    marks = {}
    for index, item in enumerate(items):
        if item.kind is scoring.Kind.RED_FLAG:
            if (index + shift) % 3 == 0:
                marks[item.key] = ("observed", False)
            continue
        choice = CYCLE[(index + shift) % len(CYCLE)]
        if choice is not None:
            marks[item.key] = choice
    return marks


def play_session(
    *,
    interviewer: User,
    candidate: User,
    case: Case,
    rubric_version: RubricVersion,
    marks: Callable[[list[scoring.Item]], SelfMarks] = varied_marks,
    hints: Mapping[int, Sequence[str]] | None = None,
    comments: Mapping[int, str] | None = None,
    notes: Mapping[int, str] | None = None,
) -> Session:
    """A peer session started at T0, walked through steps 1–7 with STEP_SECONDS on each, marked,
    hinted and commented as given, then finished."""
    session = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    items = scoring_items(session)
    wanted = marks(items)
    clock = T0
    for number in range(1, 8):
        if number > 1:
            session = services.go_to_step(session=session, number=number, now=clock)
        for item in items:
            if item.step == number and item.key in wanted:
                mark, after_hint = wanted[item.key]
                services.set_mark(
                    session=session,
                    item_key=item.key,
                    mark=mark,
                    after_hint=after_hint,
                    by=interviewer,
                    now=clock + timedelta(seconds=10),
                )
        for text in (hints or {}).get(number, ()):
            services.add_hint(
                session=session, step_number=number, text=text, now=clock + timedelta(seconds=20)
            )
        if comments and number in comments:
            services.save_comment(session=session, step_number=number, text=comments[number])
        if notes and number in notes:
            services.save_notes(
                session=session, step_number=number, text=notes[number], base_version=0
            )
        clock += timedelta(seconds=STEP_SECONDS[number])
    return services.finish_session(session=session, now=clock)


@dataclass
class Kit:
    version: RubricVersion
    requirements: Category
    latency: Category
    leakage: Category


def make_kit() -> Kit:
    """Two steps (5 and 4 minutes in 45). Step 1: goal (2 pt, requirements), latency (2 pt,
    latency + requirements). Step 2: split (2 pt, data leakage) and the red flag random-split
    (1 pt, data leakage)."""
    requirements = CategoryFactory(slug="requirements", name="Requirements", position=1)
    latency = CategoryFactory(slug="latency", name="Latency", position=2)
    leakage = CategoryFactory(slug="data-leakage", name="Data leakage", position=3)
    version = RubricVersionFactory()
    one = StepFactory(version=version, number=1, name="Clarify requirements", budget_45=5)
    two = StepFactory(version=version, number=2, name="Frame the problem", budget_45=4)
    ItemFactory(step=one, key="goal", title="Names the goal", points=2, categories=[requirements])
    ItemFactory(
        step=one,
        key="latency",
        title="States a latency budget",
        points=2,
        categories=[latency, requirements],
    )
    ItemFactory(step=two, key="split", title="Splits by time", points=2, categories=[leakage])
    ItemFactory(
        step=two,
        key="random-split",
        title="Splits at random",
        points=1,
        kind="red_flag",
        categories=[leakage],
    )
    return Kit(version, requirements, latency, leakage)


def finish_on_kit(
    *,
    version: RubricVersion,
    candidate: User,
    interviewer: User | None,
    case: Case | None = None,
    marks: Mapping[str, str] | None = None,
    minutes: tuple[int, int] = (5, 4),
    start: datetime = T0,
    released: bool = True,
) -> Session:
    """A finished session; marks map item keys to "covered", "partial", "missed", "observed",
    with a "+hint" suffix for after a hint. interviewer=None makes it solo practice. Unless
    released=False, the candidate has closed the self-assessment, so the result counts."""
    case = case or CaseFactory()
    solo = interviewer is None
    session = services.create_session(
        host=candidate if solo else interviewer,
        case=case,
        rubric_version=version,
        length_minutes=45,
        mode=SessionMode.SOLO if solo else SessionMode.PEER,
    )
    if not solo:
        session = services.join_session(token=session.invite_token, user=candidate)
    session = services.start_session(session=session, now=start)
    steps = {"goal": 1, "latency": 1, "split": 2, "random-split": 2}
    marks = marks or {}

    def mark(step: int, source: MarkSource, by: User) -> None:
        for key, value in marks.items():
            if steps[key] == step:
                services.set_mark(
                    session=session,
                    item_key=key,
                    mark=value.removesuffix("+hint"),
                    after_hint=value.endswith("+hint"),
                    by=by,
                    source=source,
                    now=start,
                )

    if not solo:
        mark(1, MarkSource.INTERVIEWER, interviewer)
    second = start + timedelta(minutes=minutes[0])
    services.go_to_step(session=session, number=2, now=second)
    if not solo:
        mark(2, MarkSource.INTERVIEWER, interviewer)
    session = services.finish_session(session=session, now=second + timedelta(minutes=minutes[1]))
    if solo:
        mark(1, MarkSource.SELF, candidate)
        mark(2, MarkSource.SELF, candidate)
    if released and solo:
        scorecard_services.submit_self_assessment(session=session, by=candidate)
    elif released:
        scorecard_services.skip_self_assessment(session=session, by=candidate)
    return Session.objects.get(pk=session.pk)


def setup_demo() -> str:
    """`manage.py setup_demo`'s output. Tests run with DEBUG off, where it refuses unless forced."""
    out = io.StringIO()
    call_command("setup_demo", force=True, stdout=out)
    return out.getvalue()


def committed_for_module[T](django_db_blocker: object, build: Callable[[], T]) -> Iterator[T]:
    """The body of a module-scoped fixture: what `build()` writes is committed once, for every
    test of the module (each test's own writes are rolled back), and flushed after the module."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        built = build()
    yield built
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        call_command("flush", interactive=False, verbosity=0)
