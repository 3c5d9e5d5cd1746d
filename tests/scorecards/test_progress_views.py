"""The progress page and the CSV export: exact values, permissions, leaks and query counts."""

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from casebank.models import Case
from interviews import services
from interviews.models import SelfAssessment, Session, SessionMode, SessionState
from tests.builders import T0, Kit, finish_on_kit
from tests.factories import CaseFactory, CaseItemFactory, SessionFactory, UserFactory
from tests.htmltables import tables

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("scorecards:progress")
CSV = reverse("scorecards:progress_csv")


@dataclass
class Story:
    kit: Kit
    a: Session
    b: Session
    c: Session
    unseen: Case  # the case the rule picks: two extra items on latency


@pytest.fixture
def story(kit, interviewer, candidate) -> Story:
    """Three finished sessions of cai, worked out by hand (see tests/progress/conftest.py).

    A, peer: step 1 75 %, step 2 0 %, total 33.333 %; requirements 75, latency 50, leakage 0.
    B, peer: step 1 50 %, step 2 100 %, total 66.667 %; requirements 50, latency 0, leakage 100.
    C, solo: step 1 50 %, step 2 0 %, total 16.667 %; requirements 50, latency 50, leakage 0.
    Averages: requirements 58.333, latency 33.333, leakage 33.333: latency wins the tie by
    position.
    """
    a = finish_on_kit(
        version=kit.version,
        candidate=candidate,
        interviewer=interviewer,
        case=CaseFactory(title="Ads ranking", domain="ads"),
        marks={
            "goal": "covered",
            "latency": "partial",
            "split": "missed",
            "random-split": "observed",
        },
        minutes=(6, 4),
        start=T0,
    )
    b = finish_on_kit(
        version=kit.version,
        candidate=candidate,
        interviewer=interviewer,
        case=CaseFactory(title="Product search", domain="search"),
        marks={"goal": "covered", "latency": "missed", "split": "covered"},
        minutes=(5, 6),
        start=T0 + timedelta(days=7),
    )
    c = finish_on_kit(
        version=kit.version,
        candidate=candidate,
        interviewer=None,
        case=CaseFactory(title="Fraud detection", domain="fraud-risk"),
        marks={
            "goal": "partial",
            "latency": "partial",
            "split": "missed",
            "random-split": "observed",
        },
        minutes=(7, 3),
        start=T0 + timedelta(days=14),
    )
    eta = CaseFactory(title="Delivery ETA", domain="forecasting-eta")
    CaseItemFactory(case=eta, key="eta-latency", categories=[kit.latency])
    typeahead = CaseFactory(title="Typeahead", domain="search")
    CaseItemFactory(case=typeahead, key="ta-1", categories=[kit.latency])
    CaseItemFactory(case=typeahead, key="ta-2", categories=[kit.latency, kit.requirements])
    CaseItemFactory(case=typeahead, key="ta-3", categories=[kit.leakage])
    return Story(kit, a, b, c, typeahead)


@pytest.fixture
def leaks(kit, outsider) -> None:
    """Sessions that must never show on cai's page: someone else's, with a partner who is not
    cai, and a draft case."""
    other = UserFactory(username="zed-interviewer")
    finish_on_kit(
        version=kit.version,
        candidate=outsider,
        interviewer=other,
        case=CaseFactory(title="Leaky case", domain="vision"),
        marks={"goal": "missed", "random-split": "observed"},
    )
    finish_on_kit(
        version=kit.version,
        candidate=other,
        interviewer=outsider,
        case=CaseFactory(title="Leaky two"),
    )
    CaseFactory(title="Draft case", status="draft")


def test_digests_match_the_hand_worked_story(story):
    # Percentages are stored exactly, as fractions, so they are rounded once, when shown.
    assert story.a.result["total"] == "100/3"
    assert story.a.result["categories"] == {
        "data-leakage": "0",
        "latency": "50",
        "requirements": "75",
    }
    assert story.b.result["steps"] == {"1": "50", "2": "100"}
    assert story.c.result["missed"] == ["split"]
    assert story.c.result["red_flags"] == ["random-split"]
    assert story.c.result["overrun_seconds"] == {"1": 120, "2": 0}


def test_overview_shows_history_trends_misses_and_time(client, candidate, story, leaks):
    client.force_login(candidate)
    response = client.get(OVERVIEW)
    assert response.status_code == 200
    html = response.content.decode()
    found = tables(html)
    assert found["Your finished sessions as candidate, newest first"] == [
        ["Date", "Case", "Interviewer", "Total", "Band", "Overrun"],
        ["2025-03-15", "Fraud detection", "solo", "16.7 %", "No hire", "2.0 min"],
        ["2025-03-08", "Product search", "ines", "66.7 %", "Hire", "2.0 min"],
        ["2025-03-01", "Ads ranking", "ines", "33.3 %", "No hire", "1.0 min"],
    ]
    assert found["Score per concept and session (%)"] == [
        ["Date", "Case", "Requirements", "Latency", "Data leakage"],
        ["2025-03-01", "Ads ranking", "75.0", "50.0", "0.0"],
        ["2025-03-08", "Product search", "50.0", "0.0", "100.0"],
        ["2025-03-15", "Fraud detection", "50.0", "50.0", "0.0"],
    ]
    assert found["Score per step and session (%)"] == [
        ["Date", "Case", "1. Clarify requirements", "2. Frame the problem"],
        ["2025-03-01", "Ads ranking", "75.0", "0.0"],
        ["2025-03-08", "Product search", "50.0", "100.0"],
        ["2025-03-15", "Fraud detection", "50.0", "0.0"],
    ]
    assert found["Expected items you missed most often"] == [
        ["Item", "Sessions missed", "Last seen"],
        ["Splits by time", "2", "2025-03-15"],
        ["States a latency budget", "1", "2025-03-08"],
    ]
    assert found["Red flags observed in more than one session"] == [
        ["Red flag", "Sessions", "Last seen"],
        ["Splits at random", "2", "2025-03-15"],
    ]
    assert found["Average overrun per step"] == [
        ["Step", "Average overrun", "Sessions over budget"],
        ["1. Clarify requirements", "1.0 min", "2 of 3"],
        ["2. Frame the problem", "0.7 min", "1 of 3"],
    ]
    assert (
        "The step you overrun most often is <strong>1. Clarify requirements</strong>: over its "
        "budget in 2 of 3 sessions." in html
    )
    # One chart per concept and per step, each an image with a title and a description.
    assert html.count('role="img"') == 5
    assert (
        '<desc id="trend-concept-latency-desc">3 sessions: from 50.0 % on 2025-03-01 to 50.0 % on '
        "2025-03-15; lowest 0.0 %, highest 50.0 %.</desc>" in html
    )
    assert 'aria-labelledby="trend-concept-latency-title"' in html
    assert "average 33.3 %" in html
    # History rows link to each session's scorecard.
    for session in (story.a, story.b, story.c):
        assert f'href="{reverse("scorecards:scorecard", args=[session.pk])}"' in html
    # Nothing of anyone else's.
    for leak in ("Leaky case", "Leaky two", "zed-interviewer", "olly", "Draft case"):
        assert leak not in html


def test_overview_recommends_the_next_case_and_explains_why(client, candidate, story):
    client.force_login(candidate)
    html = client.get(OVERVIEW).content.decode()
    assert '<p class="next-title"><strong>Typeahead</strong></p>' in html
    assert (
        "Your weakest concept is Latency (33.3 % average over 3 sessions). This case adds 2 "
        "checklist items on it. Its domain, Search, came up in 1 of your 3 sessions." in html
    )
    for mode in ("solo", "peer"):
        assert f'<input type="hidden" name="mode" value="{mode}">' in html
    assert html.count(f'<input type="hidden" name="case" value="{story.unseen.pk}">') == 2
    assert (
        html.count(f'<input type="hidden" name="rubric_version" value="{story.kit.version.pk}">')
        == 2
    )


def test_next_case_form_starts_a_solo_session_in_one_click(client, candidate, story):
    client.force_login(candidate)
    response = client.post(
        reverse("interviews:create"),
        {
            "case": story.unseen.pk,
            "rubric_version": story.kit.version.pk,
            "length_minutes": "45",
            "mode": "solo",
        },
    )
    session = Session.objects.get(case=story.unseen)
    assert response.status_code == 302
    assert response["Location"] == reverse("interviews:room", args=[session.pk])
    assert (session.mode, session.candidate, session.state) == (
        SessionMode.SOLO,
        candidate,
        SessionState.READY,
    )


def test_a_case_started_but_not_finished_is_no_longer_recommended(client, candidate, story):
    services.create_session(
        host=candidate,
        case=story.unseen,
        rubric_version=story.kit.version,
        length_minutes=45,
        mode=SessionMode.SOLO,
    )
    client.force_login(candidate)
    html = client.get(OVERVIEW).content.decode()
    assert '<p class="next-title"><strong>Delivery ETA</strong></p>' in html
    # The unfinished session is not history.
    assert len(tables(html)["Your finished sessions as candidate, newest first"]) == 4


def test_overview_without_history_recommends_the_default(client, kit, user):
    CaseFactory(title="Staff case", difficulty="staff")
    CaseFactory(title="Junior case", difficulty="junior")
    client.force_login(user)
    html = client.get(OVERVIEW).content.decode()
    assert "No finished sessions as candidate yet." in html
    assert '<p class="next-title"><strong>Junior case</strong></p>' in html
    assert "You have no finished sessions as candidate yet" in html
    assert "Scores by concept" not in html
    assert "Sessions you interviewed" not in html


def test_overview_when_every_case_is_done(client, kit, candidate, interviewer):
    finish_on_kit(version=kit.version, candidate=candidate, interviewer=interviewer)
    client.force_login(candidate)
    html = client.get(OVERVIEW).content.decode()
    assert "You have done every published case as candidate." in html
    assert 'name="mode"' not in html


def test_overview_shows_the_interviewer_the_sessions_they_conducted(
    client, interviewer, story, leaks
):
    client.force_login(interviewer)
    html = client.get(OVERVIEW).content.decode()
    assert tables(html)["Finished sessions where you were the interviewer, newest first"] == [
        ["Date", "Case", "Candidate", "Total", "Band"],
        ["2025-03-08", "Product search", "cai", "66.7 %", "Hire"],
        ["2025-03-01", "Ads ranking", "cai", "33.3 %", "No hire"],
    ]
    # ines has no history as candidate: cai's sessions are not hers.
    assert "No finished sessions as candidate yet." in html
    assert "Fraud detection" not in html  # cai's solo session
    assert "Leaky" not in html


def test_nav_links_to_progress(client, user):
    client.force_login(user)
    html = client.get(reverse("core:home")).content.decode()
    assert f'<a href="{OVERVIEW}">Progress</a>' in html
    assert (
        f'<a href="{OVERVIEW}" aria-current="page">Progress</a>'
        in client.get(OVERVIEW).content.decode()
    )


@pytest.mark.parametrize("url", [OVERVIEW, CSV])
def test_anonymous_is_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.parametrize("url", [OVERVIEW, CSV])
def test_post_is_not_allowed(client, user, url):
    client.force_login(user)
    assert client.post(url).status_code == 405


def test_csv_is_the_history_exactly(client, candidate, story, leaks):
    client.force_login(candidate)
    response = client.get(CSV)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="spar-history.csv"'
    assert response.content.decode("utf-8") == (
        "date,case,interviewer,total_percent,band,overrun_minutes,session_id\r\n"
        f"2025-03-15,Fraud detection,solo,16.7,No hire,2.0,{story.c.pk}\r\n"
        f"2025-03-08,Product search,ines,66.7,Hire,2.0,{story.b.pk}\r\n"
        f"2025-03-01,Ads ranking,ines,33.3,No hire,1.0,{story.a.pk}\r\n"
    )


def test_csv_for_a_user_without_history_is_the_header(client, user):
    client.force_login(user)
    assert client.get(CSV).content.decode() == (
        "date,case,interviewer,total_percent,band,overrun_minutes,session_id\r\n"
    )


@pytest.mark.parametrize(
    ("title", "username", "cells"),
    [
        ('=HYPERLINK("http://evil")', "+mallory", ['\'=HYPERLINK("http://evil")', "'+mallory"]),
        ("@SUM(A1)", "-mallory", ["'@SUM(A1)", "'-mallory"]),
        ("Ünïcode, “quoted” case", "mällory", ["Ünïcode, “quoted” case", "mällory"]),
    ],
)
def test_csv_guards_against_formula_injection(client, kit, candidate, title, username, cells):
    partner = UserFactory(username=username)
    finish_on_kit(
        version=kit.version,
        candidate=candidate,
        interviewer=partner,
        case=CaseFactory(title=title),
    )
    client.force_login(candidate)
    rows = list(csv.reader(io.StringIO(client.get(CSV).content.decode("utf-8"))))
    assert rows[1][1:3] == cells


def _digest(n: int) -> dict[str, object]:
    return {
        "total": f"{n % 100}.000",
        "band": "no_hire",
        "capped": False,
        "steps": {"1": f"{n % 100}.000", "2": None},
        "categories": {"latency": f"{(n * 7) % 100}.000", "requirements": "50.000"},
        "missed": [f"item-{n % 13}", "split"],
        "red_flags": ["random-split"] if n % 3 else [],
        "titles": {f"item-{n % 13}": f"Item {n % 13}", "split": "Splits by time"},
        "overrun_seconds": {"1": (n * 37) % 300, "2": 0},
    }


def _many(count: int, candidate, interviewer, kit) -> None:
    for n in range(count):
        SessionFactory(
            case=CaseFactory(domain="ads" if n % 2 else "search"),
            rubric_version=kit.version,
            interviewer=interviewer if n % 4 else None,
            mode=SessionMode.PEER if n % 4 else SessionMode.SOLO,
            candidate=candidate,
            state=SessionState.FINISHED,
            finished_at=T0 + timedelta(hours=n),
            total_percent=Decimal(n % 100),
            band="no_hire",
            result=_digest(n),
            self_assessment=SelfAssessment.SUBMITTED,
        )
        # The same number of sessions conducted, so that table grows too.
        SessionFactory(
            rubric_version=kit.version,
            interviewer=candidate,
            candidate=interviewer,
            state=SessionState.FINISHED,
            finished_at=T0 + timedelta(hours=n),
            result=_digest(n),
        )
    CaseFactory.create_batch(3)  # cases left to recommend


# django_session, auth_user, the sessions as candidate (with case and interviewer), the
# categories, the latest published version, its steps, the unseen published cases, the published
# cases' items with their categories, the sessions as interviewer (with case and candidate), the
# sessions still waiting for the candidate's self-assessment.
OVERVIEW_QUERIES = 10
# django_session, auth_user, the sessions as candidate.
CSV_QUERIES = 3


@pytest.mark.parametrize("count", [1, 50])
def test_overview_query_count_is_fixed(
    client, django_assert_num_queries, kit, candidate, interviewer, count
):
    _many(count, candidate, interviewer, kit)
    client.force_login(candidate)
    with django_assert_num_queries(OVERVIEW_QUERIES):
        response = client.get(OVERVIEW)
    html = response.content.decode()
    assert len(tables(html)["Your finished sessions as candidate, newest first"]) == count + 1
    assert len(tables(html)["Finished sessions where you were the interviewer, newest first"]) == (
        count + 1
    )


@pytest.mark.parametrize("count", [1, 50])
def test_csv_query_count_is_fixed(
    client, django_assert_num_queries, kit, candidate, interviewer, count
):
    _many(count, candidate, interviewer, kit)
    client.force_login(candidate)
    with django_assert_num_queries(CSV_QUERIES):
        response = client.get(CSV)
    assert len(response.content.decode().splitlines()) == count + 1
