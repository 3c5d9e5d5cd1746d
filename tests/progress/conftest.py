"""A tiny rubric whose scores are easy to work out by hand, and finished sessions built on it
through the real services, so the progress page reads the digests finish_session stores."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from casebank.models import Case
from interviews import services
from interviews.models import MarkSource, Session, SessionMode
from rubrics.models import Category, RubricVersion
from scorecards import services as scorecard_services
from tests.factories import (
    CaseFactory,
    CategoryFactory,
    ItemFactory,
    RubricVersionFactory,
    StepFactory,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Kit:
    version: RubricVersion
    requirements: Category
    latency: Category
    leakage: Category


@pytest.fixture
def kit(db: None) -> Kit:
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


def finished(
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
