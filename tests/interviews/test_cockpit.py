"""The room as a cockpit, server side: presence, changing the case before the start, the reads
behind the top bar and the panes, and the fragments the poll sends for them."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from casebank.models import Case, CaseStatus
from interviews import room, services
from interviews.models import FactReveal, Session, SessionMode
from interviews.permissions import Role, get_poll_row
from interviews.room import RoomState, case_choices, epoch_ms, step_section
from tests.builders import T0, make_peer_session
from tests.factories import CaseFactory, ClarificationFactFactory, UserFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def _fresh(session: Session) -> Session:
    return Session.objects.get(pk=session.pk)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def waiting(interviewer, case, rubric_version) -> Session:
    return services.create_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.PEER,
    )


@pytest.fixture
def ready(interviewer, candidate, case, rubric_version) -> Session:
    return make_peer_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        start=False,
    )


# --- presence ----------------------------------------------------------------------------------


def _record(session: Session, user, now) -> bool:
    return services.record_presence(
        poll_row=get_poll_row(user, session.pk), user_id=user.pk, now=now
    )


def test_record_presence_writes_at_most_every_five_seconds(running_session, interviewer):
    version = _fresh(running_session).version
    assert _record(running_session, interviewer, T0) is True
    session = _fresh(running_session)
    assert session.interviewer_seen_at == T0
    assert (session.version, session.presence_stamp) == (version + 1, version + 1)
    assert _record(running_session, interviewer, T0 + timedelta(seconds=4.9)) is False
    assert _fresh(running_session).version == version + 1
    assert _record(running_session, interviewer, T0 + timedelta(seconds=5)) is True
    assert _fresh(running_session).interviewer_seen_at == T0 + timedelta(seconds=5)


def test_record_presence_is_per_participant(running_session, interviewer, candidate):
    # The candidate was seen when they joined; the interviewer's write leaves that alone.
    joined_at = _fresh(running_session).candidate_seen_at
    assert joined_at is not None
    later = joined_at + timedelta(seconds=1)
    assert _record(running_session, interviewer, later) is True
    assert _record(running_session, candidate, later) is False  # seen a second ago
    session = _fresh(running_session)
    assert (session.interviewer_seen_at, session.candidate_seen_at) == (later, joined_at)


def test_record_presence_skips_staff_and_finished_sessions(running_session, staff, interviewer):
    assert _record(running_session, staff, T0) is False
    services.finish_session(session=running_session, now=T0 + timedelta(minutes=1))
    version = _fresh(running_session).version
    assert _record(running_session, interviewer, T0 + timedelta(minutes=2)) is False
    assert _fresh(running_session).version == version
    assert _fresh(running_session).interviewer_seen_at is None


def test_joining_counts_as_being_seen(waiting, candidate):
    before = timezone.now()
    services.join_session(token=waiting.invite_token, user=candidate)
    session = _fresh(waiting)
    assert session.candidate_seen_at >= before
    assert session.presence_stamp == session.flow_stamp == session.version


@pytest.mark.parametrize(
    ("seconds_ago", "present", "word"), [(3, True, "here now"), (16, False, "away")]
)
def test_room_shows_the_partner_present_for_fifteen_seconds(
    client, running_session, interviewer, candidate, seconds_ago, present, word
):
    seen = timezone.now() - timedelta(seconds=seconds_ago)
    Session.objects.filter(pk=running_session.pk).update(candidate_seen_at=seen)
    state = RoomState(_fresh(running_session), Role.INTERVIEWER, timezone.now())
    assert (state.partner, state.partner_present) == (candidate, present)
    client.force_login(interviewer)
    html = client.get(reverse("interviews:room", args=[running_session.pk])).content.decode()
    assert f'data-seen="{epoch_ms(seen)}" data-within="15000">with <strong>cai</strong>' in html
    assert f"data-presence-state>{word}</span>" in html


def test_room_presence_line_for_each_role(client, running_session, solo_session, staff, candidate):
    client.force_login(staff)
    html = client.get(reverse("interviews:room", args=[running_session.pk])).content.decode()
    assert ">ines interviews cai</span>" in html
    client.force_login(candidate)
    html = client.get(reverse("interviews:room", args=[solo_session.pk])).content.decode()
    assert ">Solo practice</span>" in html


def test_poll_sends_the_presence_line_when_the_partner_is_seen(
    client, running_session, interviewer, candidate
):
    client.force_login(interviewer)
    url = reverse("interviews:state", args=[running_session.pk])
    client.get(url, {"v": 0}, headers=HX)  # the interviewer's own "last seen"
    version = _fresh(running_session).version
    Session.objects.filter(pk=running_session.pk).update(candidate_seen_at=None)
    client.force_login(candidate)
    assert client.get(url, {"v": version}, headers=HX).status_code == 204  # and a write
    client.force_login(interviewer)
    html = client.get(url, {"v": version}, headers=HX).content.decode()
    assert '<span id="presence" class="presence" hx-swap-oob="true"' in html
    assert "data-presence-state>here now</span>" in html
    for part in ("flow", "facts", "checklist", "candidate-notes", "steps"):
        assert f'id="{part}"' not in html


# --- changing the case before the start ----------------------------------------------------------


def test_change_case_before_the_start(ready, case):
    other = CaseFactory(title="Another case")
    fact = case.facts.get()
    services.set_fact_revealed(session=ready, fact=fact, revealed=True)
    version = _fresh(ready).version
    session = services.change_case(session=ready, case=other)
    assert _fresh(session).case == other
    # The old case's facts answer another case's questions.
    assert not FactReveal.objects.filter(session=ready).exists()
    fresh = _fresh(session)
    assert (fresh.version, fresh.flow_stamp, fresh.facts_stamp) == (version + 1,) * 3


def test_change_case_to_the_same_case_writes_nothing(ready, case):
    version = _fresh(ready).version
    services.change_case(session=ready, case=case)
    assert _fresh(ready).version == version


@pytest.mark.parametrize("how", ["start", "pause", "finish"])
def test_change_case_after_the_start_is_refused(ready, case, how):
    session = services.start_session(session=ready, now=T0)
    if how == "pause":
        services.pause_session(session=session, now=T0 + timedelta(seconds=5))
    if how == "finish":
        services.finish_session(session=session, now=T0 + timedelta(seconds=5))
    with pytest.raises(services.SessionError, match="has started"):
        services.change_case(session=session, case=CaseFactory())
    assert _fresh(session).case == case


def test_change_case_to_a_draft_is_refused(waiting, case):
    with pytest.raises(services.SessionError, match="published"):
        services.change_case(session=waiting, case=CaseFactory(status=CaseStatus.DRAFT))
    assert _fresh(waiting).case == case


def test_case_choices_follow_the_candidate_not_the_host(
    ready, interviewer, candidate, case, rubric_version
):
    seen = CaseFactory(title="Seen by cai")
    interviewed = CaseFactory(title="Interviewed by cai")
    fresh = CaseFactory(title="Fresh case")
    CaseFactory(title="Draft case", status=CaseStatus.DRAFT)
    # cai had "Seen by cai" as candidate (not finished: the prompt was seen all the same) and
    # interviewed on another; ines, the host, had "Fresh case" as candidate.
    make_peer_session(
        interviewer=UserFactory(), candidate=candidate, case=seen, rubric_version=rubric_version
    )
    make_peer_session(
        interviewer=candidate,
        candidate=UserFactory(),
        case=interviewed,
        rubric_version=rubric_version,
    )
    make_peer_session(
        interviewer=UserFactory(), candidate=interviewer, case=fresh, rubric_version=rubric_version
    )
    titles = list(case_choices(ready).values_list("title", flat=True))
    # This session's own case stays: having it here is not having done it.
    assert titles == sorted([case.title, "Interviewed by cai", "Fresh case"])
    waiting = services.create_session(
        host=interviewer,
        case=case,
        rubric_version=rubric_version,
        length_minutes=45,
        mode=SessionMode.PEER,
    )
    everything = Case.objects.published().order_by("title").values_list("title", flat=True)
    assert list(case_choices(waiting).values_list("title", flat=True)) == list(everything)


def test_change_case_view_by_the_interviewer(client, ready, interviewer):
    other = CaseFactory(title="Another case")
    client.force_login(interviewer)
    response = client.post(reverse("interviews:change_case", args=[ready.pk]), {"case": other.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("interviews:room", args=[ready.pk])
    assert _fresh(ready).case == other


def test_change_case_view_surprise_picks_a_case_new_to_the_candidate(
    client, ready, interviewer, candidate, case, rubric_version
):
    done = CaseFactory(title="Done by cai")
    make_peer_session(
        interviewer=UserFactory(), candidate=candidate, case=done, rubric_version=rubric_version
    )
    fresh = CaseFactory(title="New to cai")
    client.force_login(interviewer)
    url = reverse("interviews:change_case", args=[ready.pk])
    client.post(url, {"surprise": "on", "case": ""})
    assert _fresh(ready).case == fresh


def test_change_case_view_surprise_with_nothing_new_says_so(
    client, ready, interviewer, candidate, case, rubric_version
):
    make_peer_session(
        interviewer=UserFactory(),
        candidate=candidate,
        case=CaseFactory(),
        rubric_version=rubric_version,
    )
    client.force_login(interviewer)
    response = client.post(reverse("interviews:change_case", args=[ready.pk]), {"surprise": "on"})
    # The only case cai has not done is this session's own: that is no surprise.
    assert _messages(response) == ["There is no other published case the candidate has not done."]
    assert _fresh(ready).case == case


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"case": ""}, "Choose a case, or press “Surprise me”."),
        ({"case": "abc"}, "That case cannot be chosen"),
        ({"case": "999999"}, "That case cannot be chosen"),
    ],
)
def test_change_case_view_bad_input_keeps_the_case(client, ready, interviewer, case, data, message):
    client.force_login(interviewer)
    response = client.post(reverse("interviews:change_case", args=[ready.pk]), data)
    assert response.status_code == 302
    assert _messages(response)[0].startswith(message)
    assert _fresh(ready).case == case


def test_change_case_view_refuses_a_case_the_candidate_has_done(
    client, ready, interviewer, candidate, case, rubric_version
):
    done = CaseFactory(title="Done by cai")
    make_peer_session(
        interviewer=UserFactory(), candidate=candidate, case=done, rubric_version=rubric_version
    )
    client.force_login(interviewer)
    response = client.post(reverse("interviews:change_case", args=[ready.pk]), {"case": done.pk})
    assert _messages(response)[0].startswith("That case cannot be chosen")
    assert _fresh(ready).case == case


def test_change_case_view_after_the_start_says_so(client, running_session, interviewer, case):
    client.force_login(interviewer)
    response = client.post(
        reverse("interviews:change_case", args=[running_session.pk]),
        {"case": CaseFactory().pk},
    )
    assert response.status_code == 302
    assert _messages(response) == ["The interview has started: its case can no longer change."]
    assert _fresh(running_session).case == case


@pytest.mark.parametrize(
    ("role", "status"), [("candidate", 403), ("staff", 403), ("outsider", 404)]
)
def test_change_case_view_is_the_interviewers(client, request, ready, case, role, status):
    client.force_login(request.getfixturevalue(role))
    response = client.post(
        reverse("interviews:change_case", args=[ready.pk]), {"case": CaseFactory().pk}
    )
    assert response.status_code == status
    assert _fresh(ready).case == case


def test_change_case_view_anonymous_goes_to_log_in(client, ready):
    response = client.post(reverse("interviews:change_case", args=[ready.pk]), {"surprise": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_solo_candidate_changes_their_own_case(client, solo_session, candidate):
    other = CaseFactory()
    client.force_login(candidate)
    client.post(reverse("interviews:change_case", args=[solo_session.pk]), {"case": other.pk})
    assert _fresh(solo_session).case == other


# --- before the start, in the room ---------------------------------------------------------------


def test_room_before_join_shows_the_invite_and_every_published_case(client, waiting, interviewer):
    other = CaseFactory(title="Another case")
    client.force_login(interviewer)
    html = client.get(reverse("interviews:room", args=[waiting.pk])).content.decode()
    assert "<h3>Invite your candidate</h3>" in html
    assert f'value="http://testserver/join/{waiting.invite_token}/"' in html
    assert f'<option value="{other.pk}">Another case</option>' in html
    assert f'<option value="{waiting.case_id}">' not in html  # the current one is not a change
    assert '<p class="flow-note">Start opens when your candidate joins.</p>' in html
    assert "data-joined" not in html


def test_room_after_join_the_invite_gives_way_to_the_name(
    client, waiting, interviewer, candidate, rubric_version
):
    done = CaseFactory(title="Done by cai")
    make_peer_session(
        interviewer=UserFactory(), candidate=candidate, case=done, rubric_version=rubric_version
    )
    fresh = CaseFactory(title="New to cai")
    client.force_login(interviewer)
    url = reverse("interviews:state", args=[waiting.pk])
    client.get(url, {"v": 0}, headers=HX)
    version = _fresh(waiting).version
    services.join_session(token=waiting.invite_token, user=candidate)
    # The interviewer's open room learns of it by the poll, without a reload.
    html = client.get(url, {"v": version}, headers=HX).content.decode()
    assert '<div id="setup" hx-swap-oob="true">' in html
    assert (
        '<p class="joined-alert" data-joined="cai"><strong>cai joined.</strong> Press “Start the '
        "interview” above when you are both ready.</p>"
    ) in html
    assert "Invite your candidate" not in html
    assert waiting.invite_token not in html
    assert '<label for="change-case">Cases cai has not done</label>' in html
    assert f'<option value="{fresh.pk}">New to cai</option>' in html
    assert "Done by cai" not in html
    assert 'id="control-start"' in html
    assert "data-presence-state>here now</span>" in html


def test_room_warns_when_the_candidate_had_the_case(
    client, ready, interviewer, candidate, case, rubric_version
):
    make_peer_session(
        interviewer=UserFactory(), candidate=candidate, case=case, rubric_version=rubric_version
    )
    client.force_login(interviewer)
    html = client.get(reverse("interviews:room", args=[ready.pk])).content.decode()
    assert '<span class="case-warning">cai has had this case as candidate before.</span>' in html


def test_room_before_start_for_the_candidate(client, ready, candidate):
    client.force_login(candidate)
    html = client.get(reverse("interviews:room", args=[ready.pk])).content.decode()
    assert "Waiting for ines, your interviewer, to start." in html
    assert "Before you start" not in html
    assert 'action="/sessions/' + str(ready.pk) + '/case/"' not in html


def test_join_no_longer_leaves_a_message_in_the_room(client, waiting, candidate):
    client.force_login(candidate)
    response = client.post(reverse("interviews:join", args=[waiting.invite_token]), follow=True)
    assert _messages(response) == []
    assert "You joined" not in response.content.decode()


# --- the clocks' data ---------------------------------------------------------------------------


def test_room_sends_exact_times_for_the_browser(
    client, interviewer, candidate, case, rubric_version
):
    session = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    services.go_to_step(session=session, number=2, now=T0 + timedelta(seconds=70.25))
    client.force_login(candidate)
    html = client.get(reverse("interviews:room", args=[session.pk])).content.decode()
    flow = re.search(r'<section id="flow"[^>]*>', html).group(0)
    assert f'data-running-since="{epoch_ms(T0 + timedelta(seconds=70.25))}"' in flow
    server_now = int(re.search(r'data-server-now="(\d+)"', flow).group(1))
    assert abs(server_now - epoch_ms(timezone.now())) < 5_000
    # Step 2 has nothing stored yet (its time runs); step 1 kept 70.25 s, to the millisecond.
    assert 'data-timer data-stored-ms="0" data-budget="240" data-step="2"' in html
    assert 'data-step-row="1" data-stored-ms="70250" data-budget="300"' in html
    # The session started in 2025, so the interview clock is long over its 45 minutes.
    assert (
        '<p class="timer timer-total overrun" data-timer data-stored-ms="70250" data-budget="2700">'
    ) in html
    assert 'role="timer" aria-label="Time on step 2"' in html


# --- pure helpers --------------------------------------------------------------------------------


ANSWER = """Intro line.

## 1. Clarify requirements

Goal: bookings.

### Scale

100 QPS.

## 2. Frame the ML problem

Binary classification.

# Appendix

Not a step.
"""


@pytest.mark.parametrize(
    ("number", "section"),
    [
        (1, "Goal: bookings.\n\n### Scale\n\n100 QPS."),
        (2, "Binary classification."),
        (3, ""),
    ],
)
def test_step_section(number, section):
    assert step_section(ANSWER, number) == section


def test_step_section_of_free_text_is_empty():
    assert step_section("No headings at all.", 1) == ""
    assert step_section("## 12. Twelve\n\ntext", 1) == ""


def test_room_shows_the_model_answer_for_the_current_step(
    client, interviewer, candidate, rubric_version
):
    case = CaseFactory(model_answer=ANSWER)
    ClarificationFactFactory(case=case)
    session = make_peer_session(
        interviewer=interviewer, candidate=candidate, case=case, rubric_version=rubric_version
    )
    services.go_to_step(session=session, number=2, now=T0 + timedelta(minutes=1))
    client.force_login(interviewer)
    html = client.get(reverse("interviews:room", args=[session.pk])).content.decode()
    assert "<summary>Model answer for step 2</summary>" in html
    assert "<p>Binary classification.</p>" in html
    assert "Goal: bookings." not in html
    client.force_login(candidate)
    html = client.get(reverse("interviews:room", args=[session.pk])).content.decode()
    assert "Binary classification." not in html


def test_present_within_is_three_write_intervals():
    assert room.PRESENT_WITHIN == 3 * services.PRESENCE_WRITE_EVERY
