"""A case edited while its sessions run: the room's checklist, which keeps the case's own items
and its rendered probes in the process, shows the edit on the next render
(casebank.checklist.case_parts and probe_html)."""

import dataclasses

import pytest
from django.test import Client
from django.urls import reverse

from casebank import services as casebank_services
from casebank.caseformat import ExclusionData, ExtraItemData
from casebank.models import CaseStatus
from tests.builders import make_peer_session
from tests.casebank.test_admin import (
    change_url,
    complete_case_data,
    error_summary,
    inline_management,
    item_data,
)
from tests.factories import CaseFactory, CategoryFactory, StepProbeFactory

pytestmark = pytest.mark.django_db

NEW_TITLE = "Handles holiday demand"
REASON = "The prompt states the goal."
OLD_PROBE_HTML = "Ask about <em>scale</em> first."
NEW_PROBE = "Ask what happens when the **holiday calendar** is wrong."
NEW_PROBE_HTML = "Ask what happens when the <strong>holiday calendar</strong> is wrong."


@pytest.fixture
def live(interviewer, candidate, rubric_version):
    case = CaseFactory(status=CaseStatus.PUBLISHED)
    session = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    room = Client()
    room.force_login(interviewer)
    return session, room


def _room(room: Client, session) -> str:
    response = room.get(reverse("interviews:room", args=[session.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_item_and_an_exclusion_added_in_the_admin_show_in_a_running_room(live, staff):
    session, room = live
    case = session.case
    before = _room(room, session)  # the case's parts are now in the cache
    assert NEW_TITLE not in before
    assert REASON not in before

    admin = Client()
    admin.force_login(staff)
    data = {
        **complete_case_data(slug=case.slug, title=case.title, status=case.status),
        **inline_management("extra_items", 1),
        **item_data(0, CategoryFactory(slug="holidays").pk, step="1"),
        **inline_management("exclusions", 1),
        "exclusions-0-item_key": "business-objective",
        "exclusions-0-reason": REASON,
    }
    response = admin.post(change_url(case), data)
    assert response.status_code == 302, error_summary(response)

    after = _room(room, session)
    assert NEW_TITLE in after
    assert REASON in after


def test_probes_edited_in_the_admin_show_in_a_running_room(live, staff):
    session, room = live
    case = session.case
    StepProbeFactory(case=case, step=1, text="Ask about *scale* first.")
    before = _room(room, session)  # the step's probes, rendered, are now kept
    assert OLD_PROBE_HTML in before

    admin = Client()
    admin.force_login(staff)
    data = complete_case_data(slug=case.slug, title=case.title, status=case.status)
    response = admin.post(change_url(case), {**data, "probe_1": NEW_PROBE})
    assert response.status_code == 302, error_summary(response)

    after = _room(room, session)
    assert NEW_PROBE_HTML in after
    assert OLD_PROBE_HTML not in after


def test_an_item_and_an_exclusion_imported_from_a_file_show_in_a_running_room(live):
    session, room = live
    CategoryFactory(slug="holidays")
    assert NEW_TITLE not in _room(room, session)

    data = casebank_services.case_to_data(session.case)
    item = ExtraItemData(
        key="holiday-demand",
        step=1,
        title=NEW_TITLE,
        candidate_text="Models holidays as special days.",
        probe="Ask about New Year's Eve.",
        points=2,
        kind="expected",
        required=False,
        categories=("holidays",),
        keywords=("holiday calendar",),
    )
    report = casebank_services.import_cases(
        [
            dataclasses.replace(
                data,
                extra_items=(*data.extra_items, item),
                not_applicable=(ExclusionData(key="business-objective", reason=REASON),),
            )
        ]
    )
    assert report.updated == [session.case.slug]

    after = _room(room, session)
    assert NEW_TITLE in after
    assert REASON in after


def test_probes_imported_from_a_file_show_in_a_running_room(live):
    session, room = live
    StepProbeFactory(case=session.case, step=1, text="Ask about *scale* first.")
    assert OLD_PROBE_HTML in _room(room, session)

    data = casebank_services.case_to_data(session.case)
    probes = (NEW_PROBE, *data.probes[1:])
    report = casebank_services.import_cases([dataclasses.replace(data, probes=probes)])
    assert report.updated == [session.case.slug]

    after = _room(room, session)
    assert NEW_PROBE_HTML in after
    assert OLD_PROBE_HTML not in after
