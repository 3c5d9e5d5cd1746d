"""A small world for security tests: a running, a finished and a waiting session, and the cast."""

from dataclasses import dataclass
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from casebank.models import Case
from interviews import services
from interviews.models import Session, SessionMode
from rubrics.services import latest_published_version
from tests.factories import CaseFactory, UserFactory


@dataclass
class World:
    users: dict[str, User]
    case: Case
    draft: Case
    running: Session
    finished: Session
    waiting: Session
    fact_id: int


@pytest.fixture
def world(db: None) -> World:
    call_command("load_casebank", stdout=StringIO())
    interviewer = UserFactory(username="walker-interviewer")
    candidate = UserFactory(username="walker-candidate")
    users = {
        "outsider": UserFactory(username="walker-outsider"),
        "candidate": candidate,
        "interviewer": interviewer,
        "staff": UserFactory(username="walker-staff", is_staff=True),
    }
    case = Case.objects.get(slug="delivery-eta")
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
    finished = peer(Case.objects.get(slug="ad-click-prediction"))
    services.join_session(token=finished.invite_token, user=candidate)
    services.start_session(session=finished)
    finished = services.finish_session(session=finished)
    waiting = peer(Case.objects.get(slug="visual-search"))
    return World(
        users=users,
        case=case,
        draft=CaseFactory(status="draft"),
        running=running,
        finished=finished,
        waiting=waiting,
        fact_id=case.facts.first().pk,
    )
