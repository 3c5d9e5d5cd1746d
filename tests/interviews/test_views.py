import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from casebank.models import CaseExclusion, CaseStatus
from interviews import services
from interviews.models import Hint, Mark, MarkSource, Session, SessionMode, SessionState
from tests.builders import SECRETS, T0, make_peer_session
from tests.factories import CaseFactory, ClarificationFactFactory, UserFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
JSON = {"Accept": "application/json"}


def _url(name: str, session: Session, *args: object) -> str:
    return reverse(f"interviews:{name}", args=[session.pk, *args])


def _scorecard(session: Session) -> str:
    return reverse("scorecards:scorecard", args=[session.pk])


def _fresh(session: Session) -> Session:
    return Session.objects.get(pk=session.pk)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _assert_fragment(response) -> str:
    html = response.content.decode()
    assert "<html" not in html
    assert "<body" not in html
    return html


def _create_data(case, rubric_version, **extra) -> dict[str, object]:
    return {
        "case": case.pk,
        "rubric_version": rubric_version.pk,
        "length_minutes": 45,
        "mode": SessionMode.PEER,
        **extra,
    }


# create_session


def test_create_session_get_lists_published_cases(client, interviewer, case, rubric_version):
    CaseFactory(title="Unpublished draft case", status=CaseStatus.DRAFT)
    client.force_login(interviewer)
    response = client.get(reverse("interviews:create"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{case.pk}">{case.title}</option>' in html
    assert "Unpublished draft case" not in html
    assert f'<option value="{rubric_version.pk}" selected>' in html
    assert 'name="budget_7"' in html


def test_create_session_hide_done_hides_cases_done_as_candidate(
    client, interviewer, candidate, case, rubric_version
):
    make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    other = CaseFactory(title="A fresh case")
    client.force_login(candidate)
    html = client.get(reverse("interviews:create"), {"hide_done": "on"}).content.decode()
    assert f'<option value="{other.pk}">A fresh case</option>' in html
    assert case.title not in html
    html = client.get(reverse("interviews:create")).content.decode()
    assert case.title in html


def test_create_session_without_rubric_says_so(client, interviewer, case):
    client.force_login(interviewer)
    response = client.get(reverse("interviews:create"))
    assert response.status_code == 200
    assert "No rubric is published yet." in response.content.decode()


def test_create_session_post_peer_redirects_to_room(client, interviewer, case, rubric_version):
    client.force_login(interviewer)
    response = client.post(
        reverse("interviews:create"),
        _create_data(case, rubric_version, length_minutes=60, budget_2=10, budget_5=""),
    )
    session = Session.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("room", session)
    assert (session.case, session.interviewer, session.candidate) == (case, interviewer, None)
    assert (session.mode, session.state, session.length_minutes) == ("peer", "waiting", 60)
    assert list(session.steps.values_list("budget_minutes", flat=True)) == [7, 10, 11, 12, 6, 9, 5]


def test_create_session_post_solo(client, candidate, case, rubric_version):
    client.force_login(candidate)
    response = client.post(
        reverse("interviews:create"), _create_data(case, rubric_version, mode=SessionMode.SOLO)
    )
    session = Session.objects.get()
    assert response["Location"] == _url("room", session)
    assert (session.mode, session.state, session.candidate, session.interviewer) == (
        "solo",
        "ready",
        candidate,
        None,
    )


def test_create_session_surprise_picks_a_case_not_done_as_candidate(
    client, interviewer, candidate, case, rubric_version
):
    make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    unseen = CaseFactory()
    CaseFactory(status=CaseStatus.DRAFT)
    client.force_login(candidate)
    data = _create_data(case, rubric_version, mode=SessionMode.SOLO, surprise="on")
    del data["case"]
    response = client.post(reverse("interviews:create"), data)
    solo = Session.objects.get(mode=SessionMode.SOLO)
    assert response["Location"] == _url("room", solo)
    assert solo.case == unseen
    # Solo practice made the candidate do that case too: nothing is left to surprise them with.
    response = client.post(reverse("interviews:create"), data)
    assert response.status_code == 400
    assert "You have done every published case as candidate already." in response.content.decode()


def test_create_session_surprise_for_a_peer_session_ignores_the_hosts_history(
    client, interviewer, candidate, case, rubric_version
):
    # The host of a peer session interviews: that they did the case as candidate is no reason to
    # leave it out, and the partner is not known yet (the room lists their fresh cases later).
    done = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    done = services.finish_session(session=done, now=T0)
    Session.objects.filter(pk=done.pk).update(self_assessment="skipped")
    client.force_login(candidate)
    data = _create_data(case, rubric_version, surprise="on")
    del data["case"]
    response = client.post(reverse("interviews:create"), data)
    assert response.status_code == 302
    created = Session.objects.get(interviewer=candidate)
    assert (created.case, created.mode) == (case, SessionMode.PEER)


def test_create_session_surprise_never_picks_a_case_the_host_is_candidate_on(
    client, interviewer, candidate, case, rubric_version
):
    make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    client.force_login(candidate)
    data = _create_data(case, rubric_version, surprise="on")
    del data["case"]
    response = client.post(reverse("interviews:create"), data)
    assert response.status_code == 400
    assert "a candidate on right now" in response.content.decode()
    assert Session.objects.filter(interviewer=candidate).count() == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"case": ""}, "Choose a case, or press “Surprise me”."),
        ({"length_minutes": 30}, "Select a valid choice. 30 is not one of the available choices."),
        ({"mode": "spectator"}, "Select a valid choice. spectator is not one of the available"),
        ({"budget_3": 0}, "Ensure this value is greater than or equal to 1."),
        ({"budget_3": 61}, "Ensure this value is less than or equal to 60."),
        ({"budget_3": "ten"}, "Enter a whole number."),
        ({"rubric_version": 999999}, "Select a valid choice. That choice is not one of the"),
    ],
)
def test_create_session_invalid_input_is_400_with_message(
    client, interviewer, case, rubric_version, change, message
):
    client.force_login(interviewer)
    data = _create_data(case, rubric_version)
    data.update(change)
    response = client.post(reverse("interviews:create"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Session.objects.count() == 0


def test_create_session_draft_case_is_refused(client, interviewer, rubric_version):
    draft = CaseFactory(status=CaseStatus.DRAFT)
    client.force_login(interviewer)
    response = client.post(reverse("interviews:create"), _create_data(draft, rubric_version))
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


def test_a_candidate_cannot_interview_their_own_case_meanwhile(
    client, interviewer, candidate, case, rubric_version
):
    """Issue 11, hole 2: mid-interview, the candidate creates a session with the same case."""
    make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    client.force_login(candidate)
    response = client.post(reverse("interviews:create"), _create_data(case, rubric_version))
    assert response.status_code == 400
    html = response.content.decode()
    assert "You are the candidate on this case right now" in html
    assert [secret for secret in SECRETS if secret in html] == []
    assert Session.objects.filter(interviewer=candidate).count() == 0
    # Solo practice is practice as candidate, and stays open.
    solo = _create_data(case, rubric_version) | {"mode": "solo"}
    assert client.post(reverse("interviews:create"), solo).status_code == 302


def test_the_room_of_a_candidate_on_the_case_hides_the_material(
    client, interviewer, candidate, case, rubric_version
):
    """A session created as interviewer before joining another on the same case as candidate:
    its room shows no checklist, probe, brief or answer while the candidate role lasts."""
    own = services.create_session(
        host=candidate,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.PEER,
    )
    make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    client.force_login(candidate)
    html = client.get(_url("room", own)).content.decode()
    assert "You are the candidate on this case right now" in html
    assert [secret for secret in SECRETS if secret in html] == []
    poll = client.get(_url("state", own), {"v": 0}, headers=HX).content.decode()
    assert [secret for secret in SECRETS if secret in poll] == []


# session_list


def test_session_list_shows_sessions_by_role(client, interviewer, candidate, case, rubric_version):
    running = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    services.set_mark(
        session=running,
        item_key="business-objective",
        mark="covered",
        after_hint=False,
        by=interviewer,
    )
    services.finish_session(session=running, now=T0)
    solo_case = CaseFactory(title="Solo case")
    services.create_session(
        host=interviewer,
        case=solo_case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.SOLO,
    )
    CaseFactory(title="Someone else's case")
    client.force_login(interviewer)
    response = client.get(reverse("interviews:list"))
    assert response.status_code == 200
    html = response.content.decode()
    interviewer_part, candidate_part = html.split('id="as-candidate"')
    assert f'href="{_scorecard(running)}">{case.title}</a>' in interviewer_part
    assert "<td>cai</td>" in interviewer_part
    assert "<td>2.6 %</td>" in interviewer_part
    assert "Solo case" in candidate_part
    assert "Solo practice" in candidate_part
    assert "Someone else" not in html


# room


def test_room_interviewer_sees_interviewer_material(client, interviewer, running_session):
    client.force_login(interviewer)
    response = client.get(_url("room", running_session))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="role-chip">Interviewer</span>' in html
    assert '<h2 id="checklist-heading">Checklist</h2>' in html
    assert "INTERVIEWER-BRIEF-SECRET" in html
    assert "PROBE-SECRET" in html
    assert "FACT-ANSWER-SECRET" in html
    assert 'id="item-business-objective"' in html
    assert 'id="item-case--twist"' in html
    assert 'id="control-next"' in html
    assert "Invite your candidate" not in html  # the candidate has joined
    assert "Before you start" not in html  # and the interview has started
    assert f'hx-get="{_url("state", running_session)}?v={_fresh(running_session).version}"' in html


def test_room_waiting_session_shows_invite_link_to_interviewer(
    client, interviewer, case, rubric_version
):
    session = services.create_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.PEER,
    )
    client.force_login(interviewer)
    html = client.get(_url("room", session)).content.decode()
    token = session.invite_token
    assert f'value="http://testserver/join/{token}/"' in html
    services.revoke_invite(session=session)
    html = client.get(_url("room", session)).content.decode()
    assert token not in html
    assert "The link was revoked." in html


def test_room_candidate_sees_notes_and_no_checklist(client, candidate, running_session):
    services.save_notes(
        session=running_session, step_number=3, text="My *data* plan", base_version=0
    )
    client.force_login(candidate)
    response = client.get(_url("room", running_session))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="role-chip">Candidate</span>' in html
    assert "CANDIDATE-PROMPT: design the system." in html
    assert re.findall(r'data-note-step="(\d)"', html) == ["1", "2", "3", "4", "5", "6", "7"]
    assert '<textarea id="notes-3" name="text"' in html
    assert ">My *data* plan</textarea>" in html
    assert "<p>My <em>data</em> plan</p>" in html
    assert 'id="control-next"' not in html
    assert 'id="checklist"' not in html


def test_room_staff_observes_without_controls(client, staff, running_session):
    client.force_login(staff)
    response = client.get(_url("room", running_session))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="role-chip">Staff, read-only</span>' in html
    assert '<h2 id="checklist-heading">Checklist</h2>' in html
    assert 'class="mark-form"' not in html
    assert 'id="control-next"' not in html
    assert _url("fact", running_session, running_session.case.facts.get().pk) not in html


def test_room_shows_overrun_as_text(client, interviewer, running_session):
    # Step 1 has 5 minutes in 45; 400 s then a pause freezes the clock at 6:40.
    services.pause_session(session=running_session, now=T0 + timedelta(seconds=400))
    client.force_login(interviewer)
    html = client.get(_url("room", running_session)).content.decode()
    assert (
        '<p class="timer overrun" data-timer data-stored-ms="400000" data-budget="300" '
        'data-step="1">'
    ) in html
    assert '<span class="timer-status" data-timer-status>over by 1:40</span>' in html
    assert (
        "<span data-step-clock>6:40</span> / 5 min<span data-step-over> — "
        "<strong>over by 1:40</strong></span>"
    ) in html
    # Paused: no running stretch for the browser to add.
    assert 'data-running-since=""' in html


def test_room_solo_candidate_controls_the_flow(client, candidate, solo_session):
    client.force_login(candidate)
    html = client.get(_url("room", solo_session)).content.decode()
    assert 'id="control-start"' in html
    assert 'id="checklist"' not in html


# state (the poll)


def test_state_unchanged_is_204(client, candidate, running_session):
    client.force_login(candidate)
    version = _fresh(running_session).version
    response = client.get(_url("state", running_session), {"v": version}, headers=HX)
    assert response.status_code == 204
    assert response.content == b""


def test_state_behind_gets_all_fragments(client, interviewer, running_session):
    client.force_login(interviewer)
    response = client.get(_url("state", running_session), {"v": 0}, headers=HX)
    assert response.status_code == 200
    html = _assert_fragment(response)
    version = _fresh(running_session).version
    assert html.startswith(
        f'\n<div id="poller" hx-get="{_url("state", running_session)}?v={version}"'
    )
    for part in ("flow", "facts", "checklist", "step-tools", "candidate-notes"):
        assert f'id="{part}"' in html


def test_state_after_notes_change_sends_only_notes_fragments(client, interviewer, running_session):
    client.force_login(interviewer)
    client.get(_url("state", running_session), {"v": 0}, headers=HX)  # notes the presence
    version = _fresh(running_session).version
    services.save_notes(
        session=running_session, step_number=1, text="We need the business goal", base_version=0
    )
    response = client.get(_url("state", running_session), {"v": version}, headers=HX)
    html = _assert_fragment(response)
    assert f"?v={version + 1}" in html
    assert 'id="candidate-notes-step-1"' in html  # that step's notes alone
    assert '<section id="candidate-notes"' not in html
    assert "<p>We need the business goal</p>" in html
    # The words that matched checklist items, for the notes pane to highlight.
    assert 'data-evidence="[&quot;business goal&quot;]"' in html
    for part in ("flow", "checklist", "facts", "presence", "steps", "setup"):
        assert f'id="{part}"' not in html
    # The evidence hints are refreshed in place: "business goal" is a keyword of the first item.
    assert (
        '<span id="evidence-notes-item-business-objective" class="evidence-notes"'
        ' hx-swap-oob="true">Notes mention: <mark>' in html
    )
    assert "evidence-diagram-" not in html  # the diagram's part of the line is left as it is


def test_state_after_fact_reveal_shows_fact_to_candidate(client, candidate, running_session, case):
    version = _fresh(running_session).version
    services.set_fact_revealed(session=running_session, fact=case.facts.get(), revealed=True)
    client.force_login(candidate)
    response = client.get(_url("state", running_session), {"v": version}, headers=HX)
    html = _assert_fragment(response)
    assert '<section id="facts" class="panel"' in html
    assert "FACT-ANSWER-SECRET: 100 million." in html
    assert 'id="flow"' not in html


def test_state_after_step_change_sends_flow(client, candidate, running_session):
    version = _fresh(running_session).version
    services.go_to_step(session=running_session, number=2)
    client.force_login(candidate)
    html = _assert_fragment(client.get(_url("state", running_session), {"v": version}, headers=HX))
    assert 'data-current-step="2"' in html
    assert "Step 2 of 7: <strong>Frame the ML problem</strong>" in html
    assert re.search(
        r'<li class="step-item current" aria-current="step" data-step-row="2" '
        r'data-stored-ms="0" data-budget="240">\s*<span class="step-name">2\. Frame the ML problem',
        html,
    )
    # What the step is about, for the candidate's side pane.
    assert '<h2 id="step-about-heading">This step: Frame the ML problem</h2>' in html


def test_state_finished_stops_polling_and_redirects(client, candidate, running_session):
    version = _fresh(running_session).version
    services.finish_session(session=running_session)
    client.force_login(candidate)
    response = client.get(_url("state", running_session), {"v": version}, headers=HX)
    assert response.status_code == 286
    assert response["HX-Redirect"] == _scorecard(running_session)


@pytest.mark.parametrize("query", [{}, {"v": ""}, {"v": "abc"}, {"v": "-1"}, {"v": "1.5"}])
def test_state_malformed_version_is_400(client, candidate, running_session, query):
    client.force_login(candidate)
    response = client.get(_url("state", running_session), query, headers=HX)
    assert response.status_code == 400
    assert response.content == b"A version number is required."


def test_state_of_unknown_session_is_404(client, candidate, db):
    client.force_login(candidate)
    response = client.get(reverse("interviews:state", args=[999999]), {"v": 1})
    assert response.status_code == 404


# control


def test_control_runs_the_interview_over_htmx(client, interviewer, candidate, case, rubric_version):
    session = make_peer_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        start=False,
    )
    client.force_login(interviewer)
    url = _url("control", session)
    steps = []
    for data in [
        {"action": "start"},
        {"action": "next"},
        {"action": "next"},
        {"action": "previous"},
        {"action": "jump", "step": 6},
        {"action": "pause"},
        {"action": "resume"},
    ]:
        response = client.post(url, data, headers=HX)
        assert response.status_code == 200, data
        html = _assert_fragment(response)
        fresh = _fresh(session)
        assert f'data-current-step="{fresh.current_step}" data-state="{fresh.state}"' in html
        steps.append((fresh.current_step, fresh.state))
    assert steps == [
        (1, "running"),
        (2, "running"),
        (3, "running"),
        (2, "running"),
        (6, "running"),
        (6, "paused"),
        (6, "running"),
    ]
    response = client.post(url, {"action": "finish"}, headers=HX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == _scorecard(session)
    assert _fresh(session).state == SessionState.FINISHED


def test_control_without_js_redirects(client, interviewer, running_session):
    client.force_login(interviewer)
    response = client.post(_url("control", running_session), {"action": "next"})
    assert (response.status_code, response["Location"]) == (302, _url("room", running_session))
    assert _fresh(running_session).current_step == 2
    response = client.post(_url("control", running_session), {"action": "finish"})
    assert (response.status_code, response["Location"]) == (302, _scorecard(running_session))


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({}, 400, "This field is required."),
        ({"action": "dance"}, 400, "Select a valid choice. dance is not one of the available"),
        ({"action": "jump"}, 400, "Say which step to go to."),
        ({"action": "jump", "step": "two"}, 400, "Enter a whole number."),
        ({"action": "jump", "step": 0}, 400, "Ensure this value is greater than or equal to 1."),
        ({"action": "jump", "step": 9}, 409, "This interview has no step 9."),
        ({"action": "previous"}, 409, "This interview has no step 0."),
    ],
)
def test_control_bad_requests_get_message_fragment(
    client, interviewer, running_session, data, status, message
):
    client.force_login(interviewer)
    response = client.post(_url("control", running_session), data, headers=HX)
    assert response.status_code == status
    html = _assert_fragment(response)
    assert message in html
    assert '<p class="form-errors" role="alert">' in html
    assert response["HX-Retarget"] == "#room-error"
    assert response["HX-Reswap"] == "innerHTML"
    assert _fresh(running_session).current_step == 1


def test_control_next_after_last_step_is_409(client, interviewer, running_session):
    services.go_to_step(session=running_session, number=7)
    client.force_login(interviewer)
    response = client.post(_url("control", running_session), {"action": "next"}, headers=HX)
    assert response.status_code == 409
    assert "This interview has no step 8." in response.content.decode()


def test_control_after_finish_is_409(client, interviewer, running_session):
    services.finish_session(session=running_session)
    client.force_login(interviewer)
    for action in ("next", "pause"):
        response = client.post(_url("control", running_session), {"action": action}, headers=HX)
        assert response.status_code == 409, action
    # A late Finish or Start (a second tab) asks for what has happened: on to the scorecard.
    for action in ("finish", "start"):
        response = client.post(_url("control", running_session), {"action": action}, headers=HX)
        assert response.status_code == 200, action
        assert response["HX-Redirect"] == reverse("scorecards:scorecard", args=[running_session.pk])


def test_control_error_without_js_redirects_with_message(client, interviewer, running_session):
    client.force_login(interviewer)
    response = client.post(_url("control", running_session), {"action": "previous"})
    assert response["Location"] == _url("room", running_session)
    assert _messages(response) == ["This interview has no step 0."]


# invite


@pytest.fixture
def waiting_session(interviewer, case, rubric_version) -> Session:
    return services.create_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.PEER,
    )


def test_invite_regenerate_and_revoke(client, interviewer, waiting_session):
    old = waiting_session.invite_token
    client.force_login(interviewer)
    response = client.post(_url("invite", waiting_session), {"action": "regenerate"})
    assert response["Location"] == _url("room", waiting_session)
    assert _messages(response) == ["A new invite link is ready; the old one no longer works."]
    new = _fresh(waiting_session).invite_token
    assert new != old
    assert len(new) >= 43

    response = client.post(_url("invite", waiting_session), {"action": "revoke"})
    assert _messages(response)[-1] == "The invite link is revoked."
    assert _fresh(waiting_session).invite_token is None


def test_invite_regenerate_after_join_is_refused(client, interviewer, running_session):
    client.force_login(interviewer)
    response = client.post(_url("invite", running_session), {"action": "regenerate"})
    assert response["Location"] == _url("room", running_session)
    assert _messages(response) == [
        "This session already has a candidate; the invite link is spent."
    ]


def test_invite_unknown_action_is_400(client, interviewer, waiting_session):
    client.force_login(interviewer)
    response = client.post(_url("invite", waiting_session), {"action": "share"}, headers=HX)
    assert response.status_code == 400
    assert "Select a valid choice. share is not one of the available choices." in (
        _assert_fragment(response)
    )


# join


def test_join_get_shows_the_invitation(client, candidate, waiting_session):
    client.force_login(candidate)
    response = client.get(reverse("interviews:join", args=[waiting_session.invite_token]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>ines</strong> invites you to a 45-minute mock interview" in html
    assert waiting_session.case.title in html
    assert f'action="/join/{waiting_session.invite_token}/"' in html


def test_join_post_makes_the_user_candidate(client, candidate, waiting_session):
    client.force_login(candidate)
    response = client.post(reverse("interviews:join", args=[waiting_session.invite_token]))
    assert response.status_code == 302
    assert response["Location"] == _url("room", waiting_session)
    session = _fresh(waiting_session)
    assert (session.candidate, session.state) == (candidate, SessionState.READY)
    # A double submit or a second visit leads the candidate back to the room.
    response = client.post(reverse("interviews:join", args=[waiting_session.invite_token]))
    assert response["Location"] == _url("room", waiting_session)
    response = client.get(reverse("interviews:join", args=[waiting_session.invite_token]))
    assert response["Location"] == _url("room", waiting_session)


def test_join_spent_link_says_session_has_a_candidate(client, candidate, outsider, waiting_session):
    token = waiting_session.invite_token
    services.join_session(token=token, user=candidate)
    client.force_login(outsider)
    for response in (
        client.get(reverse("interviews:join", args=[token])),
        client.post(reverse("interviews:join", args=[token])),
    ):
        assert response.status_code == 410
        html = response.content.decode()
        assert "This session already has a candidate." in html
        assert waiting_session.case.title not in html
    assert _fresh(waiting_session).candidate == candidate


@pytest.mark.parametrize("method", ["get", "post"])
def test_join_revoked_or_unknown_link_is_410(client, candidate, waiting_session, method):
    token = waiting_session.invite_token
    services.revoke_invite(session=waiting_session)
    client.force_login(candidate)
    for bad in (token, "made-up-token"):
        response = getattr(client, method)(reverse("interviews:join", args=[bad]))
        assert response.status_code == 410
        assert "not valid" in response.content.decode()
    assert _fresh(waiting_session).candidate is None


def test_join_own_session_as_interviewer_is_409(client, interviewer, waiting_session):
    client.force_login(interviewer)
    response = client.post(reverse("interviews:join", args=[waiting_session.invite_token]))
    assert response.status_code == 409
    assert "You are this session&#x27;s interviewer." in response.content.decode()
    assert _fresh(waiting_session).candidate is None


def test_join_anonymous_is_sent_to_login_and_back(client, waiting_session):
    url = reverse("interviews:join", args=[waiting_session.invite_token])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


# notes


def test_save_notes_json(client, candidate, running_session):
    client.force_login(candidate)
    response = client.post(
        _url("notes", running_session, 2),
        {"text": "Scale: **10M** users", "base_version": 0},
        headers=JSON,
    )
    assert response.status_code == 200
    data = response.json()
    step = running_session.steps.get(number=2)
    assert data == {
        "version": 1,
        "page_version": None,  # the request named no page (tests/interviews/test_live_views.py)
        "preview": "<p>Scale: <strong>10M</strong> users</p>",
        "saved_at": timezone.localtime(step.notes_updated_at).strftime("%H:%M:%S"),
    }
    assert step.notes == "Scale: **10M** users"


def test_save_notes_conflict_is_409_with_server_text(client, candidate, running_session):
    services.save_notes(session=running_session, step_number=1, text="from tab one", base_version=0)
    client.force_login(candidate)
    response = client.post(
        _url("notes", running_session, 1),
        {"text": "from tab two", "base_version": 0},
        headers=JSON,
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": (
            "These notes were changed elsewhere (another tab or device) since you loaded them."
        ),
        "server_text": "from tab one",
        "server_version": 1,
    }
    assert running_session.steps.get(number=1).notes == "from tab one"


def test_save_notes_too_long_is_400_with_clear_message(client, candidate, running_session):
    client.force_login(candidate)
    response = client.post(
        _url("notes", running_session, 1),
        {"text": "x" * 20_001, "base_version": 0},
        headers=JSON,
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "Notes for one step are limited to 20,000 characters (these have 20001). "
        "Nothing was saved: shorten them and they will save."
    }
    assert running_session.steps.get(number=1).notes == ""
    ok = client.post(
        _url("notes", running_session, 1), {"text": "x" * 20_000, "base_version": 0}, headers=JSON
    )
    assert ok.status_code == 200


def test_save_notes_counts_a_line_break_once(client, candidate, running_session):
    # Browsers send a textarea's line breaks as CRLF but count them once for its maxlength.
    text = ("x" * 99 + "\r\n") * 200  # 20,200 characters sent, 20,000 as typed
    client.force_login(candidate)
    response = client.post(
        _url("notes", running_session, 1), {"text": text, "base_version": 0}, headers=JSON
    )
    assert response.status_code == 200
    notes = running_session.steps.get(number=1).notes
    assert notes == ("x" * 99 + "\n") * 200
    assert len(notes) == 20_000


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({"text": "hi"}, 400, "This field is required."),
        ({"text": "hi", "base_version": "latest"}, 400, "Enter a whole number."),
        (
            {"text": "hi", "base_version": -1},
            400,
            "Ensure this value is greater than or equal to 0.",
        ),
    ],
)
def test_save_notes_malformed_is_400(client, candidate, running_session, data, status, error):
    client.force_login(candidate)
    response = client.post(_url("notes", running_session, 1), data, headers=JSON)
    assert response.status_code == status
    assert response.json() == {"error": error}


@pytest.mark.parametrize("step", [0, 8])
def test_save_notes_unknown_step_is_409(client, candidate, running_session, step):
    client.force_login(candidate)
    response = client.post(
        _url("notes", running_session, step), {"text": "hi", "base_version": 0}, headers=JSON
    )
    assert response.status_code == 409
    assert response.json() == {"error": f"This interview has no step {step}."}


def test_save_notes_without_js_redirects_to_room(client, candidate, running_session):
    client.force_login(candidate)
    response = client.post(
        _url("notes", running_session, 4), {"text": "Plain form post", "base_version": 0}
    )
    assert response["Location"] == _url("room", running_session)
    assert _messages(response) == ["Notes for step 4 saved."]
    assert running_session.steps.get(number=4).notes == "Plain form post"


def test_save_notes_without_js_conflict_shows_both_texts(client, candidate, running_session):
    """Issue 11, hole 4: a stale save without JavaScript used to redirect, and the submitted
    text appeared nowhere. Both texts are shown, and "keep mine" saves it over the other."""
    services.save_notes(session=running_session, step_number=1, text="first", base_version=0)
    client.force_login(candidate)
    response = client.post(
        _url("notes", running_session, 1), {"text": "second <b>mine</b>", "base_version": 0}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "These notes were changed elsewhere" in html
    assert "first" in html
    assert "second &lt;b&gt;mine&lt;/b&gt;" in html
    assert '<input type="hidden" name="base_version" value="1">' in html
    assert running_session.steps.get(number=1).notes == "first"
    kept = client.post(
        _url("notes", running_session, 1), {"text": "second <b>mine</b>", "base_version": 1}
    )
    assert kept["Location"] == _url("room", running_session)
    assert running_session.steps.get(number=1).notes == "second <b>mine</b>"


def _finish(session: Session, at) -> Session:
    return services.finish_session(session=session, now=at)


def test_notes_after_the_finish_within_the_grace_period_are_kept_and_flagged(
    client, candidate, running_session
):
    """Issue 11, hole 5: a draft still in flight at the finish is accepted for a short while,
    once, and marked as saved after the finish."""
    # After the few seconds in which a page leaving the room sends all it has (the next test).
    finished = timezone.now() - timedelta(seconds=services.NOTES_LEAVING_SECONDS + 1)
    services.save_notes(
        session=running_session,
        step_number=2,
        text="draft",
        base_version=0,
        now=finished - timedelta(seconds=1),
    )
    _finish(running_session, finished)
    client.force_login(candidate)
    response = client.post(
        _url("notes", running_session, 2),
        {"text": "draft, last words", "base_version": 1},
        headers=JSON,
    )
    assert response.status_code == 200
    step = running_session.steps.get(number=2)
    assert step.notes == "draft, last words"
    assert step.notes_updated_at > Session.objects.get(pk=running_session.pk).finished_at
    # A second save builds on text written after the finish: refused, the text kept on screen.
    again = client.post(
        _url("notes", running_session, 2), {"text": "rewritten", "base_version": 2}, headers=JSON
    )
    assert again.status_code == 409
    assert "The interview is finished" in again.json()["error"]
    assert running_session.steps.get(number=2).notes == "draft, last words"


def test_the_saves_of_a_page_leaving_the_room_just_after_the_finish_are_all_kept(
    client, candidate, running_session
):
    """The page sends the save that was on its way at the finish, then the words typed after
    it: the second builds on the first and is kept too."""
    services.save_notes(session=running_session, step_number=2, text="draft", base_version=0)
    _finish(running_session, timezone.now())
    client.force_login(candidate)
    for base, text in ((1, "draft, on its way"), (2, "draft, on its way, and the last words")):
        response = client.post(
            _url("notes", running_session, 2), {"text": text, "base_version": base}, headers=JSON
        )
        assert response.status_code == 200, response.content
    assert running_session.steps.get(number=2).notes == "draft, on its way, and the last words"


def test_notes_after_the_grace_period_are_refused(client, candidate, running_session):
    _finish(running_session, timezone.now() - timedelta(seconds=services.NOTES_GRACE_SECONDS + 1))
    client.force_login(candidate)
    response = client.post(
        _url("notes", running_session, 1),
        {"text": "rewritten later", "base_version": 0},
        headers=JSON,
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": (
            "The interview is finished, so its notes can no longer change. Your text is still "
            "here: copy it if you want to keep it."
        )
    }
    assert running_session.steps.get(number=1).notes == ""
    # Without JavaScript the refused text is shown too.
    page = client.post(
        _url("notes", running_session, 1), {"text": "plain later", "base_version": 0}
    )
    assert page.status_code == 409
    assert "plain later" in page.content.decode()


def test_the_scorecard_flags_notes_saved_after_the_finish(client, interviewer, running_session):
    services.save_notes(session=running_session, step_number=1, text="in time", base_version=0)
    finished = _finish(running_session, timezone.now())
    services.save_notes(session=finished, step_number=1, text="late words", base_version=1)
    client.force_login(interviewer)
    html = client.get(reverse("scorecards:scorecard", args=[finished.pk])).content.decode()
    assert "late words" in html
    assert "saved after the finish" in html
    data = client.get(reverse("scorecards:json", args=[finished.pk])).json()
    assert data["steps"][0]["notes_saved_after_finish"] is True
    assert data["steps"][1]["notes_saved_after_finish"] is False


@pytest.mark.parametrize("action", ["next", "previous"])
def test_double_clicked_step_controls_move_one_step(client, interviewer, running_session, action):
    """Issue 11, hole 6: both clicks of a double click carry the step they were made on; the
    second finds the interview moved already and changes nothing."""
    services.go_to_step(session=running_session, number=3, now=T0)
    client.force_login(interviewer)
    for _ in range(2):
        response = client.post(_url("control", running_session), {"action": action, "at_step": 3})
        assert response.status_code == 302
    expected = 4 if action == "next" else 2
    assert Session.objects.get(pk=running_session.pk).current_step == expected


@pytest.mark.parametrize(
    ("action", "state"),
    [("start", "running"), ("pause", "paused"), ("resume", "running"), ("finish", "finished")],
)
def test_repeated_flow_controls_are_harmless(
    client, interviewer, candidate, case, rubric_version, action, state
):
    session = make_peer_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        start=action != "start",
    )
    if action == "resume":
        services.pause_session(session=session)
    client.force_login(interviewer)
    responses = [
        client.post(_url("control", session), {"action": action, "at_step": 1}) for _ in range(2)
    ]
    assert [r.status_code for r in responses] == [302, 302]
    assert _messages(responses[1]) == []
    assert Session.objects.get(pk=session.pk).state == state


# marks


def test_mark_item_htmx_returns_the_item_fragment(client, interviewer, running_session):
    client.force_login(interviewer)
    response = client.post(
        _url("mark", running_session),
        {"item": "business-objective", "mark": "covered"},
        headers=HX,
    )
    assert response.status_code == 200
    html = _assert_fragment(response)
    assert html.lstrip().startswith(
        '<li class="checklist-item marked-covered" id="item-business-objective"'
    )
    assert 'id="item-business-objective-covered" aria-pressed="true"' in html
    assert 'id="item-business-objective-partial" aria-pressed="false"' in html
    assert "Marked covered at " in html
    assert '<p id="step-score" class="step-score" hx-swap-oob="true">Step score: <strong>' in html
    assert f'?v={_fresh(running_session).version}" hx-trigger' in html
    mark = Mark.objects.get()
    assert (mark.item_key, mark.mark, mark.source, mark.marked_by) == (
        "business-objective",
        "covered",
        MarkSource.INTERVIEWER,
        interviewer,
    )


def test_mark_item_step_score(client, interviewer, running_session):
    client.force_login(interviewer)
    client.post(
        _url("mark", running_session), {"item": "business-objective", "mark": "covered"}, headers=HX
    )
    response = client.post(
        _url("mark", running_session),
        {"item": "case:twist", "mark": "partial", "after_hint": "on"},
        headers=HX,
    )
    html = _assert_fragment(response)
    assert 'id="item-case--twist"' in html
    assert "Marked partial, after a hint at " in html
    # Step 1: 11 rubric points + 1 case point; 2 + ¼ earned: 18.75 %, shown as 18.8 %.
    assert "Step score: <strong>18.8 %</strong>" in html


def test_mark_item_of_another_step_is_409(client, interviewer, running_session):
    client.force_login(interviewer)
    response = client.post(
        _url("mark", running_session), {"item": "ml-objective", "mark": "covered"}, headers=HX
    )
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#room-error"
    assert (
        "That item belongs to step 2; the interview is on step 1. Go to that step to mark it."
        in _assert_fragment(response)
    )
    assert Mark.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({}, 400, "This field is required."),
        ({"item": "x" * 101, "mark": "covered"}, 400, "at most 100 characters (it has 101)"),
        ({"item": "business-objective", "mark": "great"}, 400, "Select a valid choice."),
        ({"item": "no-such-item", "mark": "covered"}, 409, "not part of this session"),
        ({"item": "case:no-such", "mark": "covered"}, 409, "not part of this session"),
        ({"item": "<script>", "mark": "covered"}, 409, "not part of this session"),
        ({"item": "business-objective", "mark": "observed"}, 409, "does not fit this kind"),
    ],
)
def test_mark_item_malformed(client, interviewer, running_session, data, status, message):
    client.force_login(interviewer)
    response = client.post(_url("mark", running_session), data, headers=HX)
    assert response.status_code == status
    assert message in _assert_fragment(response)
    assert Mark.objects.count() == 0


def test_mark_item_after_finish_is_409(client, interviewer, running_session):
    services.finish_session(session=running_session)
    client.force_login(interviewer)
    response = client.post(
        _url("mark", running_session), {"item": "business-objective", "mark": "covered"}, headers=HX
    )
    assert response.status_code == 409
    assert "it is frozen now" in response.content.decode()


def test_mark_item_without_js_redirects(client, interviewer, running_session):
    client.force_login(interviewer)
    response = client.post(
        _url("mark", running_session), {"item": "business-objective", "mark": "missed"}
    )
    assert response["Location"] == _url("room", running_session)
    assert Mark.objects.get().mark == "missed"


def test_solo_candidate_cannot_mark_in_the_room(client, candidate, solo_session):
    # Solo candidates mark themselves on the scorecard's self-assessment once finished.
    services.start_session(session=solo_session)
    client.force_login(candidate)
    response = client.post(
        _url("mark", solo_session), {"item": "business-objective", "mark": "covered"}, headers=HX
    )
    assert response.status_code == 403
    assert not Mark.objects.exists()


# facts, comments, hints


def test_reveal_fact_shows_it_in_candidates_room(client, interviewer, candidate, running_session):
    fact = running_session.case.facts.get()
    client.force_login(interviewer)
    response = client.post(_url("fact", running_session, fact.pk), {"revealed": "on"}, headers=HX)
    assert response.status_code == 200
    assert f'<li class="fact revealed" data-fact="{fact.pk}">' in _assert_fragment(response)

    client.force_login(candidate)
    html = client.get(_url("room", running_session)).content.decode()
    assert "FACT-ANSWER-SECRET: 100 million." in html

    client.force_login(interviewer)
    response = client.post(_url("fact", running_session, fact.pk), {}, headers=HX)
    assert response.status_code == 200
    client.force_login(candidate)
    html = client.get(_url("room", running_session)).content.decode()
    assert "FACT-ANSWER-SECRET" not in html


def test_reveal_fact_of_another_case_is_404(client, interviewer, running_session):
    other_session_fact = ClarificationFactFactory(case=CaseFactory())
    client.force_login(interviewer)
    response = client.post(
        _url("fact", running_session, other_session_fact.pk), {"revealed": "on"}, headers=HX
    )
    assert response.status_code == 404
    assert running_session.reveals.count() == 0


def test_reveal_fact_after_finish_is_409(client, interviewer, running_session):
    services.finish_session(session=running_session)
    client.force_login(interviewer)
    fact = running_session.case.facts.get()
    response = client.post(_url("fact", running_session, fact.pk), {"revealed": "on"}, headers=HX)
    assert response.status_code == 409
    assert "The interview is finished." in response.content.decode()


def test_save_comment(client, interviewer, running_session):
    client.force_login(interviewer)
    response = client.post(
        _url("comment", running_session, 1), {"text": "Clear goals & scale."}, headers=HX
    )
    assert response.status_code == 200
    html = _assert_fragment(response)
    assert ">Clear goals &amp; scale.</textarea>" in html
    assert running_session.steps.get(number=1).comment == "Clear goals & scale."


def test_save_comment_counts_a_line_break_once(client, interviewer, running_session):
    client.force_login(interviewer)
    text = ("y" * 49 + "\r\n") * 100
    response = client.post(_url("comment", running_session, 1), {"text": text}, headers=HX)
    assert response.status_code == 200
    # 5,100 characters sent, 5,000 as typed (the form strips the last line break).
    assert running_session.steps.get(number=1).comment == ("y" * 49 + "\n") * 99 + "y" * 49


@pytest.mark.parametrize(
    ("step", "data", "status", "message"),
    [
        (1, {"text": "x" * 5001}, 400, "at most 5000 characters (it has 5001)"),
        (9, {"text": "ok"}, 409, "This interview has no step 9."),
    ],
)
def test_save_comment_bad_requests(
    client, interviewer, running_session, step, data, status, message
):
    client.force_login(interviewer)
    response = client.post(_url("comment", running_session, step), data, headers=HX)
    assert response.status_code == status
    assert message in _assert_fragment(response)


def test_add_hint(client, interviewer, running_session):
    client.force_login(interviewer)
    response = client.post(
        _url("hint", running_session, 1), {"text": "Think about scale"}, headers=HX
    )
    assert response.status_code == 200
    assert "gave hint: Think about scale</li>" in _assert_fragment(response)
    hint = Hint.objects.get()
    assert (hint.step_number, hint.text) == (1, "Think about scale")


@pytest.mark.parametrize(
    ("step", "data", "status", "message"),
    [
        (1, {}, 400, "This field is required."),
        (1, {"text": "x" * 501}, 400, "at most 500 characters (it has 501)"),
        (0, {"text": "ok"}, 409, "This interview has no step 0."),
    ],
)
def test_add_hint_bad_requests(client, interviewer, running_session, step, data, status, message):
    client.force_login(interviewer)
    response = client.post(_url("hint", running_session, step), data, headers=HX)
    assert response.status_code == status
    assert message in _assert_fragment(response)
    assert Hint.objects.count() == 0


# summary


def test_summary_now_leads_to_the_scorecard(client, interviewer, candidate, running_session):
    services.finish_session(session=running_session, now=T0 + timedelta(seconds=100))
    for user in (interviewer, candidate):
        client.force_login(user)
        response = client.get(_url("summary", running_session))
        assert (response.status_code, response["Location"]) == (302, _scorecard(running_session))


def test_summary_before_finish_ends_in_the_room(client, candidate, running_session):
    client.force_login(candidate)
    response = client.get(_url("summary", running_session), follow=True)
    assert response.redirect_chain[-1][0] == _url("room", running_session)


def test_another_users_session_is_404_even_with_a_valid_fact(client, running_session):
    # An outsider guessing ids gets 404 on the session before the fact is looked at.
    client.force_login(UserFactory())
    fact = running_session.case.facts.get()
    assert (
        client.post(_url("fact", running_session, fact.pk), {"revealed": "on"}).status_code == 404
    )
    assert running_session.reveals.count() == 0


def test_mark_item_not_applicable_from_the_room(client, interviewer, running_session):
    client.force_login(interviewer)
    refused = client.post(
        _url("mark", running_session),
        {"item": "product-surface", "mark": "not_applicable", "reason": " "},
        headers=HX,
    )
    assert refused.status_code == 409
    assert "Say in one line why" in refused.content.decode()
    response = client.post(
        _url("mark", running_session),
        {"item": "product-surface", "mark": "not_applicable", "reason": "An internal batch job."},
        headers=HX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "not-applicable" in html
    assert "Not applicable: An internal batch job." in html
    mark = Mark.objects.get(session=running_session, item_key="product-surface")
    assert (mark.mark, mark.reason) == ("not_applicable", "An internal batch job.")


def test_the_room_shows_the_cases_own_not_applicable_items_without_buttons(
    client, interviewer, running_session
):
    CaseExclusion.objects.create(
        case=running_session.case, item_key="product-surface", reason="Runs in batch."
    )
    client.force_login(interviewer)
    html = client.get(_url("room", running_session)).content.decode()
    item = html.split('id="item-product-surface"', 1)[1].split("</li>", 1)[0]
    assert "Does not apply to this case: Runs in batch." in item
    assert 'value="covered"' not in item


def test_create_session_judged_at_a_chosen_level(client, interviewer, case, rubric_version):
    client.force_login(interviewer)
    data = _create_data(case, rubric_version) | {"target_level": "core"}
    response = client.post(reverse("interviews:create"), data)
    assert response.status_code == 302
    assert Session.objects.get().target_level == "core"
    # Left empty, the level follows the case's difficulty (the factory's cases are senior).
    solo = _create_data(case, rubric_version) | {"mode": "solo", "target_level": ""}
    client.post(reverse("interviews:create"), solo)
    assert Session.objects.get(mode="solo").target_level == "senior"
    bad = client.post(reverse("interviews:create"), data | {"target_level": "principal"})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("mark", {"item": "business-objective", "mark": "covered"}),
        ("comment", {"text": "A comment"}),
        ("hint", {"text": "A hint"}),
    ],
)
def test_an_interviewer_who_is_candidate_on_the_case_uses_no_tool(
    client, interviewer, candidate, case, rubric_version, name, data
):
    own = make_peer_session(
        interviewer=candidate,
        candidate=interviewer,
        case=CaseFactory(),
        rubric_version=rubric_version,
    )
    Session.objects.filter(pk=own.pk).update(case=case)  # as if created before the rule existed
    make_peer_session(
        interviewer=UserFactory(), candidate=candidate, case=case, rubric_version=rubric_version
    )
    client.force_login(candidate)
    args = (own, 1) if name in {"comment", "hint"} else (own,)
    response = client.post(_url(name, *args), data, headers=HX)
    assert response.status_code == 403
    assert not Mark.objects.filter(session=own).exists()
    assert not Hint.objects.filter(session=own).exists()
