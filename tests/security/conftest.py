"""A small world for security tests: a running, a finished (with a drawing on its board), a
waiting and a scheduled session,
a study group of the interviewer (owner) and the candidate with an open slot, and the cast —
including `other_group`, a member of another group.

The world is built once per test module (committed, then flushed after the module) and every
test gets fresh copies of its rows: each test still runs in its own transaction, so whatever it
writes is rolled back, and building the world for each of the walker's hundreds of requests
would cost most of the suite's time.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from casebank.models import Case
from groups import services as group_services
from groups.models import Slot, SlotRole, StudyGroup
from interviews import services
from interviews.board import BoardUpdate
from interviews.models import BoardSnapshot, Session, SessionMode
from rubrics.services import latest_published_version
from tests.builders import FROZEN_RUBRIC_FILE, committed_for_module, load_rubric
from tests.factories import CaseFactory, ClarificationFactFactory, UserFactory
from tests.groups.builders import in_days


@dataclass
class World:
    users: dict[str, User]
    case: Case
    draft: Case
    running: Session
    finished: Session
    waiting: Session
    scheduled: Session  # peer, agreed start in two days, not started
    fact_id: int
    diagram_id: int  # the finished session's board, as kept at the finish
    group: StudyGroup
    slot: Slot  # open, offered by the interviewer, who will interview


ROLES = ("outsider", "candidate", "interviewer", "staff", "other_group")


def _case(slug: str) -> Case:
    case = CaseFactory(slug=slug, title=f"Design {slug}")
    ClarificationFactFactory(case=case, question=f"How big is {slug}?")
    return case


def _build() -> World:
    load_rubric(FROZEN_RUBRIC_FILE)
    interviewer = UserFactory(username="walker-interviewer")
    candidate = UserFactory(username="walker-candidate")
    users = {
        "outsider": UserFactory(username="walker-outsider"),
        "candidate": candidate,
        "interviewer": interviewer,
        "staff": UserFactory(username="walker-staff", is_staff=True),
        "other_group": UserFactory(username="walker-other-group"),
    }
    case = _case("delivery-eta")
    version = latest_published_version()

    def peer(case: Case) -> Session:
        return services.create_session(
            host=interviewer,
            case=case,
            rubric_version=version,
            length_minutes=45,
            mode=SessionMode.PEER,
        )

    running = peer(case)
    services.join_session(token=running.invite_token, user=candidate)
    running = services.start_session(session=running)
    finished = peer(_case("ad-click-prediction"))
    services.join_session(token=finished.invite_token, user=candidate)
    services.start_session(session=finished)
    box = {"id": "box", "type": "rectangle", "version": 1, "versionNonce": 1, "x": 0, "y": 0}
    services.save_board(session=finished, update=BoardUpdate(0, [box]), by=candidate)
    finished = services.finish_session(session=finished)
    waiting = peer(_case("visual-search"))
    scheduled = services.host_session(
        host=interviewer,
        case=_case("card-fraud-detection"),
        rubric_version=version,
        length_minutes=45,
        mode=SessionMode.PEER,
        scheduled_at=in_days(2),
        call_url="https://meet.example.org/spar-walker",
    )
    services.join_session(token=scheduled.invite_token, user=candidate)
    scheduled = services.accept_time(session=scheduled, by=candidate)
    group = group_services.create_group(owner=interviewer, name="Walkers")
    group_services.join_group(token=group.invite_token, user=candidate)
    group_services.create_group(owner=users["other_group"], name="Other walkers")
    slot = group_services.offer_slot(
        group=group,
        by=interviewer,
        starts_at=in_days(3),
        length_minutes=45,
        role=SlotRole.INTERVIEWER,
    )
    return World(
        users=users,
        case=case,
        draft=CaseFactory(status="draft"),
        running=running,
        finished=finished,
        waiting=waiting,
        scheduled=scheduled,
        fact_id=case.facts.first().pk,
        diagram_id=BoardSnapshot.objects.get(session=finished).pk,
        group=group,
        slot=slot,
    )


@pytest.fixture(scope="module")
def _built_world(django_db_setup: None, django_db_blocker: object) -> Iterator[World]:
    yield from committed_for_module(django_db_blocker, _build)


@pytest.fixture
def world(db: None, _built_world: World) -> World:
    """The module's world, read afresh for this test: nothing a test did (rolled back in the
    database) lingers in the objects the next test gets."""
    built = _built_world
    sessions = Session.objects.in_bulk(
        [built.running.pk, built.finished.pk, built.waiting.pk, built.scheduled.pk]
    )
    cases = Case.objects.in_bulk([built.case.pk, built.draft.pk])
    users = User.objects.in_bulk([user.pk for user in built.users.values()])
    return World(
        users={role: users[user.pk] for role, user in built.users.items()},
        case=cases[built.case.pk],
        draft=cases[built.draft.pk],
        running=sessions[built.running.pk],
        finished=sessions[built.finished.pk],
        waiting=sessions[built.waiting.pk],
        scheduled=sessions[built.scheduled.pk],
        fact_id=built.fact_id,
        group=StudyGroup.objects.get(pk=built.group.pk),
        slot=Slot.objects.get(pk=built.slot.pk),
        diagram_id=built.diagram_id,
    )
