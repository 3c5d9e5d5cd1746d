"""After the interview: the partner learns of a swap, and the scorecard leads with what matters.

A swap made on one screen bumps the finished session, which the other screen listens to through
the room's poll; the poll's `next-round` fragment carries the link to the new room.
"""

import re

import pytest
from django.urls import reverse

from casebank.models import Case
from interviews.models import SelfAssessment, Session
from interviews.permissions import Role
from scorecards import report
from scorecards import services as scorecard_services
from scorecards.progress import next_case_for
from tests.builders import finish_on_kit, play_session
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def _swap(session: Session, by) -> Session:
    pick = next_case_for(session.interviewer, unseen_as_interviewer=True)
    case = Case.objects.get(pk=pick.case_id) if pick else None
    return scorecard_services.swap_roles(session=session, by=by, case=case)


@pytest.fixture
def done(kit, interviewer, candidate) -> Session:
    CaseFactory(title="Next case")
    session = finish_on_kit(
        version=kit.version,
        candidate=candidate,
        interviewer=interviewer,
        case=CaseFactory(title="Done case"),
        marks={"goal": "covered"},
    )
    Session.objects.filter(pk=session.pk).update(self_assessment=SelfAssessment.SKIPPED)
    return Session.objects.get(pk=session.pk)


def _poll(client, session: Session, version: int):
    return client.get(reverse("interviews:state", args=[session.pk]), {"v": version}, headers=HX)


def test_swap_points_the_finished_session_to_the_new_one_and_bumps_it(done, candidate):
    version = done.version
    swapped = _swap(done, candidate)
    fresh = Session.objects.get(pk=done.pk)
    assert fresh.next_session == swapped
    assert (fresh.version, fresh.swap_stamp) == (version + 1, version + 1)
    # Flow is untouched: an old room's poll is still sent to the scorecard, not past it.
    assert fresh.flow_stamp == done.flow_stamp


def test_swapping_again_finds_the_same_room_and_bumps_nothing(done, candidate, interviewer):
    first = _swap(done, candidate)
    version = Session.objects.get(pk=done.pk).version
    assert _swap(done, interviewer) == first
    assert Session.objects.get(pk=done.pk).version == version


@pytest.mark.parametrize("who", ["interviewer", "candidate"])
def test_scorecard_listens_for_the_swap_until_there_is_one(client, request, done, who):
    client.force_login(request.getfixturevalue(who))
    html = client.get(reverse("scorecards:scorecard", args=[done.pk])).content.decode()
    poll = reverse("interviews:state", args=[done.pk])
    assert f'<div id="poller" hx-get="{poll}?v={done.version}" hx-trigger="spar:poll"' in html
    assert "js/scorecard.js" in html  # which asks the poller every 2 s
    assert (
        '<div class="next-round-wrap" aria-live="polite" data-follow>'
        '<div id="next-round" class="next-round"></div></div>'
    ) in html


def test_scorecard_of_staff_does_not_listen(client, staff, done):
    client.force_login(staff)
    html = client.get(reverse("scorecards:scorecard", args=[done.pk])).content.decode()
    assert 'id="poller"' not in html
    assert 'id="next-round"' not in html


def test_partners_poll_brings_the_link_to_the_new_room(client, done, interviewer, candidate):
    version = done.version
    swapped = _swap(done, candidate)
    client.force_login(interviewer)
    response = _poll(client, done, version)
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        '<div id="next-round" class="next-round" hx-swap-oob="true"><p><strong>Roles swapped: '
        f"the next round is ready</strong> on “{swapped.case.title}”. "
        f'<a class="button" href="/sessions/{swapped.pk}/" data-next-round>Go to the new room</a>'
    ) in html
    # Nothing of the room: the scorecard page has none of its parts.
    for part in ("flow", "facts", "checklist", "presence", "steps"):
        assert f'id="{part}"' not in html


def test_polls_of_a_finished_session_without_a_swap_render_no_room_parts(
    client, done, interviewer, candidate
):
    version = done.version
    Session.objects.filter(pk=done.pk).update(self_assessment=SelfAssessment.PENDING)
    scorecard_services.set_self_mark(
        session=done, item_key="goal", mark="covered", after_hint=False, by=candidate
    )
    client.force_login(interviewer)
    html = _poll(client, done, version).content.decode()
    assert 'id="poller"' in html
    assert "next-round" not in html
    assert "hx-swap-oob" not in html


def test_an_old_room_is_still_sent_to_the_scorecard(client, kit, interviewer, candidate):
    session = finish_on_kit(
        version=kit.version, candidate=candidate, interviewer=interviewer, released=False
    )
    client.force_login(candidate)
    response = _poll(client, session, session.flow_stamp - 1)
    assert response.status_code == 286
    assert response["HX-Redirect"] == reverse("scorecards:scorecard", args=[session.pk])


def test_after_the_swap_the_scorecard_shows_the_link_and_stops_listening(
    client, done, interviewer, candidate
):
    swapped = _swap(done, candidate)
    client.force_login(interviewer)
    html = client.get(reverse("scorecards:scorecard", args=[done.pk])).content.decode()
    assert f'href="/sessions/{swapped.pk}/" data-next-round>Go to the new room</a>' in html
    assert 'id="poller"' not in html


def test_self_assessment_page_offers_the_next_round_without_following_it(
    client, kit, interviewer, candidate
):
    CaseFactory(title="Next case")
    session = finish_on_kit(
        version=kit.version, candidate=candidate, interviewer=interviewer, released=False
    )
    client.force_login(candidate)
    html = client.get(reverse("scorecards:scorecard", args=[session.pk])).content.decode()
    assert "mark yourself" in html
    assert '<div class="next-round-wrap" aria-live="polite"><div id="next-round"' in html
    assert 'id="poller"' in html


# --- the scorecard leads with the summary, then what lost points ---------------------------------


def test_rows_lead_with_what_lost_points_and_fold_the_unmarked(
    interviewer, candidate, case, rubric_version
):
    wanted = {
        "business-objective": ("covered", False),
        "product-surface": ("partial", False),
        "scale-estimates": ("missed", False),
        "latency-budget": ("covered", True),
        "jumps-into-modelling": ("observed", False),
    }
    session = play_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        marks=lambda items: wanted,
    )
    step = report.build_report(session, Role.INTERVIEWER).steps[0]
    assert [row.key for row in step.marked_rows] == [
        "scale-estimates",
        "jumps-into-modelling",
        "product-surface",
        "latency-budget",
        "business-objective",
    ]
    unmarked = [row.key for row in step.unmarked_rows]
    assert len(unmarked) == len(step.rows) - 5
    assert set(unmarked).isdisjoint(wanted)
    assert all(row.agrees is None for row in step.rows)  # nothing to compare with


def test_scorecard_page_folds_unmarked_items_and_does_not_paint_them_red(
    client, interviewer, candidate, case, rubric_version
):
    session = play_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        marks=lambda items: {"business-objective": ("missed", False)},
    )
    client.force_login(interviewer)
    html = client.get(reverse("scorecards:scorecard", args=[session.pk])).content.decode()
    step_one = html[html.index('id="step-1"') : html.index('id="step-2"')]
    marked, folded = step_one.split('<details class="unmarked-items">')
    assert '<tr id="item-business-objective" class="mark-missed">' in marked
    assert 'class="mark-none' not in marked
    count = len(re.findall(r'<tr id="item-[^"]+" class="mark-none', folded))
    assert f"<summary>{count} items nobody marked" in folded
    assert count > 5
    # The summary, with the step table and its times, comes before every step's items.
    assert html.index('id="result-heading"') < html.index('id="steps-heading"')
    assert html.index('id="steps-heading"') < html.index('id="step-1-heading"')


def test_comparison_rows_neither_marked_say_neither_same_nor_differs(
    client, interviewer, candidate, case, rubric_version
):
    session = play_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        marks=lambda items: {"business-objective": ("covered", False)},
    )
    scorecard_services.submit_self_assessment(
        session=session, by=candidate, marks={"scale-estimates": ("covered", False)}
    )
    built = report.build_report(Session.objects.get(pk=session.pk), Role.CANDIDATE)
    rows = {row.key: row for row in built.rows}
    assert rows["business-objective"].agrees is False  # the candidate left it: missed
    assert rows["scale-estimates"].agrees is False
    assert rows["latency-budget"].agrees is None
    assert rows["latency-budget"].unmarked
    assert built.calibration.agreed == 0
    assert len(built.calibration.comparisons) == 2
