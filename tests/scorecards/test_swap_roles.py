"""Swap roles, the peer loop: scorecards.services.swap_roles and its view."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from casebank.models import Case
from interviews import services
from interviews.models import SelfAssessment, Session, SessionMode, SessionState
from scorecards import services as scorecard_services
from scorecards.progress import next_case_for
from tests.builders import T0, finish_on_kit
from tests.factories import CaseFactory, CaseItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def _swap(session: Session, by) -> Session:
    """Swap as the view does: the new candidate's next case by the progress page's rule."""
    pick = next_case_for(session.interviewer, unseen_as_interviewer=True)
    case = Case.objects.get(pk=pick.case_id) if pick else None
    return scorecard_services.swap_roles(session=session, by=by, case=case)


@pytest.fixture
def done(kit, interviewer, candidate) -> Session:
    """ines interviewed cai on "Done case"; cases left: a staff one and a junior one."""
    CaseFactory(title="Alpha staff case", difficulty="staff")
    CaseFactory(title="Beta junior case", difficulty="junior")
    return finish_on_kit(
        version=kit.version,
        candidate=candidate,
        interviewer=interviewer,
        case=CaseFactory(title="Done case"),
        marks={"goal": "covered"},
    )


def test_swap_roles_reverses_the_roles(done, interviewer, candidate):
    swapped = _swap(done, candidate)
    assert swapped.pk != done.pk
    assert (swapped.interviewer, swapped.candidate) == (candidate, interviewer)
    assert (swapped.mode, swapped.state, swapped.invite_token) == (
        SessionMode.PEER,
        SessionState.READY,
        None,
    )
    assert swapped.rubric_version == done.rubric_version
    assert swapped.length_minutes == done.length_minutes
    # ines has no history as candidate: the default rule, the least difficult case first.
    assert swapped.case.title == "Beta junior case"
    assert list(swapped.steps.values_list("number", "budget_minutes")) == [(1, 5), (2, 4)]


def test_swap_roles_targets_the_new_candidates_weakest_category(kit, interviewer, candidate):
    # ines was candidate once (weak on latency), then interviewed cai.
    finish_on_kit(
        version=kit.version,
        candidate=interviewer,
        interviewer=candidate,
        case=CaseFactory(title="Ines's old case"),
        marks={"goal": "covered", "latency": "missed", "split": "covered"},
    )
    session = finish_on_kit(
        version=kit.version,
        candidate=candidate,
        interviewer=interviewer,
        case=CaseFactory(title="Cai's case"),
        start=T0 + timedelta(days=1),
    )
    CaseFactory(title="Aaa no latency", difficulty="junior")
    latency_case = CaseFactory(title="Zzz latency", difficulty="staff")
    CaseItemFactory(case=latency_case, key="lat", categories=[kit.latency])
    swapped = _swap(session, interviewer)
    assert swapped.case == latency_case
    assert swapped.candidate == interviewer


def test_swap_roles_never_picks_a_case_the_new_candidate_has_done_or_seen(
    kit, interviewer, candidate
):
    only_left = CaseFactory(title="Zulu")
    seen = CaseFactory(title="Alpha")
    interviewed = CaseFactory(title="Bravo")
    # ines did Alpha as candidate (unfinished counts too) …
    services.create_session(
        host=interviewer,
        case=seen,
        rubric_version=kit.version,
        length_minutes=45,
        mode=SessionMode.SOLO,
    )
    # … interviewed someone on Bravo (she read its model answer) …
    services.create_session(
        host=interviewer,
        case=interviewed,
        rubric_version=kit.version,
        length_minutes=45,
        mode=SessionMode.PEER,
    )
    # … and has just interviewed cai on Mike.
    session = finish_on_kit(
        version=kit.version,
        candidate=candidate,
        interviewer=interviewer,
        case=CaseFactory(title="Mike"),
    )
    assert _swap(session, candidate).case == only_left


def test_swap_roles_twice_returns_the_waiting_session(done, interviewer, candidate):
    first = _swap(done, candidate)
    again = _swap(done, interviewer)
    assert again.pk == first.pk
    assert Session.objects.count() == 2


def test_swap_roles_after_the_swapped_session_started_makes_a_new_one(done, candidate):
    first = _swap(done, candidate)
    services.start_session(session=first)
    second = _swap(done, candidate)
    assert second.pk != first.pk
    assert second.case != first.case


def test_swap_roles_keeps_custom_budgets_and_length(kit, interviewer, candidate):
    CaseFactory(title="Next")
    session = services.create_session(
        host=interviewer,
        case=CaseFactory(),
        rubric_version=kit.version,
        length_minutes=60,
        mode=SessionMode.PEER,
        budgets={1: 11, 2: 3},
    )
    services.join_session(token=session.invite_token, user=candidate)
    services.start_session(session=session, now=T0)
    services.finish_session(session=session, now=T0 + timedelta(minutes=30))
    swapped = _swap(session, interviewer)
    assert swapped.length_minutes == 60
    assert list(swapped.steps.values_list("number", "budget_minutes")) == [(1, 11), (2, 3)]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("running", "Roles can be swapped once the interview is finished."),
        ("solo", "Solo practice has no partner to swap roles with."),
        ("all-done", "ines has done or interviewed on every published case already"),
        ("outsider", "Only the interviewer and the candidate can swap roles."),
    ],
)
def test_swap_roles_errors(kit, interviewer, candidate, outsider, setup, message):
    case = CaseFactory()
    by = candidate
    if setup == "running":
        session = services.create_session(
            host=interviewer,
            case=case,
            rubric_version=kit.version,
            length_minutes=45,
            mode=SessionMode.PEER,
        )
        services.join_session(token=session.invite_token, user=candidate)
        session = services.start_session(session=session, now=T0)
    elif setup == "solo":
        session = finish_on_kit(
            version=kit.version, candidate=candidate, interviewer=None, case=case
        )
    else:
        session = finish_on_kit(
            version=kit.version, candidate=candidate, interviewer=interviewer, case=case
        )
        if setup == "all-done":
            # ines, the new candidate, has practised the only published case solo.
            services.create_session(
                host=interviewer,
                case=case,
                rubric_version=kit.version,
                length_minutes=45,
                mode=SessionMode.SOLO,
            )
        else:
            by = outsider
    before = Session.objects.count()
    with pytest.raises(services.SessionError, match=message):
        _swap(session, by)
    assert Session.objects.count() == before


# --- the view -----------------------------------------------------------------------------------


def _swap_url(session: Session) -> str:
    return reverse("scorecards:swap", args=[session.pk])


@pytest.mark.parametrize("who", ["candidate", "interviewer"])
def test_swap_view_sends_the_clicker_to_the_new_room(client, request, done, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.post(_swap_url(done))
    swapped = Session.objects.exclude(pk=done.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("interviews:room", args=[swapped.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Roles swapped. In this new session cai is the interviewer and ines the candidate, on "
        "“Beta junior case”, a case new to ines. The interviewer starts it when you are both "
        "ready."
    ]
    # The new interviewer's room is ready to start.
    client.force_login(swapped.interviewer)
    room = client.get(reverse("interviews:room", args=[swapped.pk]))
    assert room.status_code == 200


@pytest.mark.parametrize(
    ("who", "status"),
    [("outsider", 404), ("staff", 403)],
)
def test_swap_view_refuses_non_participants(client, request, done, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.post(_swap_url(done)).status_code == status
    assert Session.objects.count() == 1


def test_swap_view_needs_login_and_post(client, done, candidate):
    response = client.post(_swap_url(done))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    client.force_login(candidate)
    assert client.get(_swap_url(done)).status_code == 405
    assert Session.objects.count() == 1


def test_swap_view_shows_errors_as_a_message(client, kit, interviewer, candidate):
    session = finish_on_kit(version=kit.version, candidate=candidate, interviewer=None)
    client.force_login(candidate)
    response = client.post(_swap_url(session), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("scorecards:scorecard", args=[session.pk]), 302)]
    assert "Solo practice has no partner to swap roles with." in response.content.decode()


# The swap form is a shared include: on the summary and on the scorecard.
PAGES = ["scorecards:scorecard"]


@pytest.fixture
def decided(done) -> Session:
    """The finished session once the candidate skipped the self-assessment: until then the
    scorecard shows the candidate the self-assessment instead of the results."""
    Session.objects.filter(pk=done.pk).update(self_assessment=SelfAssessment.SKIPPED)
    return done


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(
    ("who", "shown"), [("candidate", True), ("interviewer", True), ("staff", False)]
)
def test_result_pages_offer_the_swap_to_participants(client, request, decided, page, who, shown):
    client.force_login(request.getfixturevalue(who))
    html = client.get(reverse(page, args=[decided.pk])).content.decode()
    assert (f'action="{_swap_url(decided)}"' in html) is shown


@pytest.mark.parametrize("page", PAGES)
def test_result_pages_word_the_swap_for_each_participant(
    client, decided, candidate, interviewer, page
):
    url = reverse(page, args=[decided.pk])
    client.force_login(candidate)
    assert (
        "you interview ines, on a case they have neither done" in client.get(url).content.decode()
    )
    client.force_login(interviewer)
    assert "cai interviews you, on a case you have neither done" in client.get(url).content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_result_pages_of_solo_practice_offer_no_swap(client, kit, candidate, page):
    session = finish_on_kit(version=kit.version, candidate=candidate, interviewer=None)
    client.force_login(candidate)
    html = client.get(reverse(page, args=[session.pk])).content.decode()
    assert _swap_url(session) not in html


def test_outsider_cannot_learn_about_a_session_by_swapping(client, done):
    client.force_login(UserFactory(username="nosy"))
    assert client.post(_swap_url(done)).status_code == 404
