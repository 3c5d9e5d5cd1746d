import re
from datetime import timedelta

import markdown
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from casebank.models import CaseExclusion
from interviews.models import Mark, MarkSource, SelfAssessment, Session
from rubrics import scoring
from scorecards import services
from scorecards.models import Rescore
from tests.builders import COMMENT_SECRET, HINT_SECRET, T0, play_session, scoring_items

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def _url(name: str, session: Session) -> str:
    return reverse(f"scorecards:{name}", args=[session.pk])


def _fresh(session: Session) -> Session:
    return Session.objects.get(pk=session.pk)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _fragment(response) -> str:
    html = response.content.decode()
    assert "<html" not in html
    assert "<body" not in html
    return html


def _checked(html: str) -> dict[str, str]:
    """The checked radio of every item on the self-assessment page: {field name: value}."""
    found = {}
    for tag in re.findall(r"<input [^>]*type=\"radio\"[^>]*>", html):
        if " checked" in tag:
            name = re.search(r'name="([^"]+)"', tag).group(1)
            found[name] = re.search(r'value="([^"]*)"', tag).group(1)
    return found


# --- the scorecard page


def test_scorecard_for_the_interviewer(client, interviewer, finished):
    client.force_login(interviewer)
    response = client.get(_url("scorecard", finished))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Scorecard — Ride ETA · Spar</title>" in html
    assert "Total: <strong>27.3 %</strong> · Band: <strong>No hire</strong>" in html
    # Per step: score, time, budget and overrun in minutes.
    assert (
        '<th scope="row"><a href="#step-1">1. Clarify requirements and goals</a></th>\n'
        "        <td>29.5 %</td>\n        \n        <td>6:30</td>\n        <td>5 min</td>\n"
        '        <td><strong class="overrun-text">+1.5 min</strong></td>'
    ) in html
    assert 'time 8:31 of 8 min · <strong class="overrun-text">over by 0.5 min</strong>' in html
    # Every item with its mark and how its points came about.
    assert '<tr id="item-business-objective" class="mark-covered">' in html
    assert '<span class="explanation">covered, after a hint: ½ × 2 pt = 1 pt</span>' in html
    assert '<tr id="item-case--twist"' in html
    assert '<td>Red flag observed <span class="stamp">at 12:00</span></td>' in html
    assert (
        '<p class="red-flags"><strong>Red flags observed:</strong> Starts proposing models before '
        "clarifying the problem.</p>"
    ) in html
    # The comment, the hint log, the candidate's notes and the model answer, rendered.
    assert "<p>COMMENT-SECRET: good framing, <em>weak</em> on scale.</p>" in html
    assert '<li><span class="stamp">12:00</span> HINT-SECRET: think about QPS</li>' in html
    assert "<p>Goal: <strong>bookings</strong>. p99 under 100 ms.</p>" in html
    assert "<p>MODEL-ANSWER-SECRET: <strong>point-in-time</strong> joins.</p>" in html
    # The chart and its table, and the rules.
    assert (
        '<svg class="bar-chart" role="img" '
        'aria-labelledby="category-chart-title category-chart-desc"' in html
    )
    assert '<text class="chart-value" x="570" y="38">22.5 %</text>' in html
    assert '<th scope="row">Requirements</th>\n          <td>22.5 %</td>' in html
    assert "<td>2.25 of 10</td>" in html
    for rule in scoring.RULES:
        assert rule in html
    assert (
        "Bands: Strong hire from 80 %, Hire from 65 %, Lean no hire from 50 %, otherwise No hire."
        in html
    )
    # Pending: the interviewer is told, and sees no comparison.
    assert "The candidate has not done their self-assessment yet." in html
    assert "Agreement" not in html
    assert f'href="/sessions/{finished.pk}/scorecard.json"' in html


def test_scorecard_escapes_user_text(client, interviewer, candidate, finished):
    # Comments are frozen once finished; write the rows directly.
    finished.steps.filter(number=2).update(
        comment="<script>alert(1)</script>", notes="<img src=x onerror=alert(1)>"
    )
    client.force_login(interviewer)
    html = client.get(_url("scorecard", finished)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html


def test_pending_candidate_gets_the_self_assessment_form(client, candidate, finished):
    client.force_login(candidate)
    response = client.get(_url("scorecard", finished))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Ride ETA: mark yourself</h1>" in html
    assert f'<form method="post" action="{_url("self_assessment", finished)}"' in html
    assert f'<form method="post" action="{_url("skip_self_assessment", finished)}"' in html
    assert '<button type="submit" class="secondary">Skip self-assessment</button>' in html
    assert "<strong>0 of 62</strong> expected items marked." in html
    # One radio group per item, all on "not marked" (the interviewer's marks are not here).
    checked = _checked(html)
    assert len(checked) == len(scoring_items(finished))
    assert set(checked.values()) == {""}
    # The candidate's own notes help them remember.
    assert "<p>Goal: <strong>bookings</strong>. p99 under 100 ms.</p>" in html
    assert (
        f'<fieldset id="item-case--twist" hx-post="{_url("self_mark", finished)}" '
        'hx-trigger="change" hx-target="#item-case--twist-status" hx-swap="outerHTML" '
        'hx-vals=\'{"item": "case:twist"}\' data-expected>'
    ) in html
    # One step at a time with JavaScript: a list of the steps with their progress, and a way on.
    step_one = [
        item
        for item in scoring_items(finished)
        if item.step == 1 and item.kind is scoring.Kind.EXPECTED
    ]
    assert (
        '<a href="#sa-step-1" data-sa-link="1"><span class="sa-step-name">1. Clarify requirements '
        f'and goals</span> <span class="sa-count" data-sa-count>0 of {len(step_one)}</span></a>'
    ) in html
    assert '<section class="panel sa-step" id="sa-step-7" data-sa-step="7"' in html
    assert "Next: step 2, Frame the ML problem →" in html


LEAKS = (
    "Band",
    "No hire",
    "Lean no hire",
    "Strong hire",
    "%",
    "Red flag observed",
    "Covered after a hint",
    "counts as missed",
    "pt =",
    "Total",
    "Interviewer’s comment",
    COMMENT_SECRET,
    "COMMENT-SECRET",
    HINT_SECRET,
    "MODEL-ANSWER-SECRET",
    "Re-scored",
    "Agreement",
)


def _pending_candidate_responses(client, session: Session, candidate) -> dict[str, str]:
    client.force_login(candidate)
    responses = {
        "scorecard": client.get(_url("scorecard", session)),
        "json": client.get(_url("json", session)),
        "markdown": client.get(_url("markdown", session)),
        "self mark": client.post(
            _url("self_mark", session),
            {"item": "business-objective", "business-objective-mark": "partial"},
            headers=HX,
        ),
        "self mark error": client.post(
            _url("self_mark", session),
            {"item": "business-objective", "business-objective-mark": "observed"},
            headers=HX,
        ),
        "bad item": client.post(_url("self_mark", session), {"item": "nope"}, headers=HX),
        "draft": client.post(
            _url("self_assessment", session),
            {"action": "save", "scale-estimates-mark": "missed"},
            follow=True,
        ),
        "bad form": client.post(
            _url("self_assessment", session),
            {"action": "save", "scale-estimates-mark": "excellent"},
        ),
        "rescore attempt": client.post(_url("rescore", session), {"version": 1}),
    }
    assert responses["json"].status_code == 403
    assert responses["markdown"].status_code == 403
    assert responses["bad form"].status_code == 400
    return {label: r.content.decode() for label, r in responses.items()}


def test_pending_candidate_receives_no_score_in_any_response(
    client, interviewer, candidate, finished, v2
):
    # Interviewer marks on every item, a comment, hints and a re-score are all there to leak.
    services.rescore_session(session=finished, version=v2, by=interviewer)
    responses = _pending_candidate_responses(client, finished, candidate)
    for label, text in responses.items():
        for leak in LEAKS:
            assert leak not in text, f"{leak!r} leaked in {label}"
    assert "Submit or skip your self-assessment" not in responses["json"]  # the wording below
    assert "Your scorecard opens once you submit or skip your self-assessment" in responses["json"]
    # Only the candidate's own marks are ever checked on the form.
    checked = _checked(responses["draft"])
    assert {k: v for k, v in checked.items() if v} == {
        "business-objective-mark": "partial",
        "scale-estimates-mark": "missed",
    }


def test_self_mark_htmx_returns_the_status_fragment(client, candidate, finished):
    client.force_login(candidate)
    response = client.post(
        _url("self_mark", finished),
        {
            "item": "latency-budget",
            "latency-budget-mark": "partial",
            "latency-budget-after_hint": "on",
            # The whole page's form comes along; other items' fields are ignored.
            "business-objective-mark": "covered",
        },
        headers=HX,
    )
    assert response.status_code == 200
    assert _fragment(response) == (
        '<p id="item-latency-budget-status" class="save-status" role="status">Saved.</p>'
        '<p id="marked-count" class="marked-count" hx-swap-oob="true"><strong>1 of 62</strong> '
        'expected items marked. <progress max="62" value="1" aria-label="Expected items marked">'
        "1 of 62</progress></p>"
    )
    assert {
        m.item_key: (m.mark, m.after_hint)
        for m in Mark.objects.filter(session=finished, source=MarkSource.SELF)
    } == {"latency-budget": ("partial", True)}


def test_self_mark_of_a_red_flag(client, candidate, finished):
    client.force_login(candidate)
    response = client.post(
        _url("self_mark", finished),
        {"item": "jumps-into-modelling", "jumps-into-modelling-mark": "observed"},
        headers=HX,
    )
    assert response.status_code == 200
    # Red flags do not count towards "marked": leaving one alone is an answer.
    assert "<strong>0 of 62</strong>" in _fragment(response)
    assert Mark.objects.get(source=MarkSource.SELF).mark == "observed"


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"item": "nope"}, 400, "That checklist item is not part of this session."),
        ({}, 400, "This field is required."),
        (
            {"item": "business-objective", "business-objective-mark": "observed"},
            400,
            "That mark does not fit this item.",
        ),
    ],
)
def test_self_mark_bad_requests(client, candidate, finished, data, status, message):
    client.force_login(candidate)
    response = client.post(_url("self_mark", finished), data, headers=HX)
    assert response.status_code == status
    assert message in _fragment(response)
    assert not Mark.objects.filter(source=MarkSource.SELF).exists()


def test_self_mark_after_submission_is_409(client, candidate, finished):
    services.submit_self_assessment(session=finished, by=candidate)
    client.force_login(candidate)
    response = client.post(
        _url("self_mark", finished),
        {"item": "business-objective", "business-objective-mark": "covered"},
        headers=HX,
    )
    assert response.status_code == 409
    assert "Your self-assessment is already submitted; it can no longer change." in _fragment(
        response
    )


def test_self_mark_without_htmx_goes_back_to_the_item(client, candidate, finished):
    client.force_login(candidate)
    response = client.post(
        _url("self_mark", finished),
        {"item": "case:twist", "case:twist-mark": "covered"},
    )
    assert response["Location"] == _url("scorecard", finished) + "#item-case--twist"


def test_save_draft_without_javascript_and_reload(client, candidate, finished):
    client.force_login(candidate)
    response = client.post(
        _url("self_assessment", finished),
        {
            "action": "save",
            "business-objective-mark": "covered",
            "latency-budget-mark": "partial",
            "latency-budget-after_hint": "on",
            "jumps-into-modelling-mark": "observed",
            "product-surface-mark": "",
        },
    )
    assert response["Location"] == _url("scorecard", finished)
    assert _messages(response) == ["Draft saved. Submit it when you have marked every item."]
    assert _fresh(finished).self_assessment == SelfAssessment.PENDING
    html = client.get(_url("scorecard", finished)).content.decode()
    assert {k: v for k, v in _checked(html).items() if v} == {
        "business-objective-mark": "covered",
        "latency-budget-mark": "partial",
        "jumps-into-modelling-mark": "observed",
    }
    assert 'name="latency-budget-after_hint" id="id_latency-budget-after_hint" checked' in html
    assert "<strong>2 of 62</strong> expected items marked." in html


def test_bad_whole_form_saves_nothing_and_shows_the_error(client, candidate, finished):
    client.force_login(candidate)
    response = client.post(
        _url("self_assessment", finished),
        {"action": "submit", "business-objective-mark": "covered", "scale-estimates-mark": "great"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice. great is not one of the available choices." in html
    assert "Some marks were not understood; they are shown below." in html
    assert not Mark.objects.filter(source=MarkSource.SELF).exists()
    assert _fresh(finished).self_assessment == SelfAssessment.PENDING


def _submit_candidate_marks(client, candidate, session):
    """The candidate's marks: agree on business-objective, over-rate scale-estimates (missed by
    the interviewer) and the red flag (observed by the interviewer), under-rate latency-budget."""
    client.force_login(candidate)
    return client.post(
        _url("self_assessment", session),
        {
            "action": "submit",
            "business-objective-mark": "covered",
            "scale-estimates-mark": "covered",
            "latency-budget-mark": "missed",
            "jumps-into-modelling-mark": "",
        },
    )


def test_submit_reveals_the_comparison(client, interviewer, candidate, finished):
    response = _submit_candidate_marks(client, candidate, finished)
    assert response["Location"] == _url("scorecard", finished)
    assert _messages(response) == ["Self-assessment submitted: here is your scorecard."]
    assert _fresh(finished).self_assessment == SelfAssessment.SUBMITTED

    own = scoring.score(
        scoring_items(finished),
        {
            "business-objective": scoring.ItemMark(scoring.Mark.COVERED),
            "scale-estimates": scoring.ItemMark(scoring.Mark.COVERED),
            "latency-budget": scoring.ItemMark(scoring.Mark.MISSED),
        },
    )
    for user in (candidate, interviewer):
        client.force_login(user)
        html = client.get(_url("scorecard", finished)).content.decode()
        assert "Total: <strong>27.3 %</strong> · Band: <strong>No hire</strong>" in html
        assert (
            f"Self-assessment: <strong>{own.total.display} %</strong> · No hire · agreement with "
            "the interviewer <strong>"
        ) in html
        # Agreement: over the items at least one of the two marked.
        agreed = re.search(r"(\d+) of (\d+) items agree", html)
        assert agreed is not None
        assert int(agreed.group(1)) < int(agreed.group(2)) < 71
        assert '<tr id="item-business-objective" class="mark-covered">' in html
        assert '<td>Covered <span class="agree">same</span></td>' in html
        assert (
            '<li><a href="#item-jumps-into-modelling">Starts proposing models before clarifying '
            "the problem</a>: self not observed, interviewer red flag observed</li>"
        ) in html
        assert (
            '<li><a href="#item-latency-budget">States a latency and freshness budget and designs '
            "to it</a>: self missed, interviewer covered after a hint</li>"
        ) in html
        assert '<th scope="col">Self</th>' in html


def test_agreement_on_the_page_is_exact(client, interviewer, candidate, light):
    # The interviewer marked only business-objective, the candidate that and two more: of those
    # three items they agree on one. The 68 items neither marked say nothing and are left out.
    client.force_login(candidate)
    client.post(
        _url("self_assessment", light),
        {
            "action": "submit",
            "business-objective-mark": "covered",
            "scale-estimates-mark": "partial",
            "jumps-into-modelling-mark": "observed",
        },
    )
    html = client.get(_url("scorecard", light)).content.decode()
    assert (
        "Agreement: <strong>33.3 %</strong>: 1 of 3 items agree. Only items at least one of the "
        "two marked count; the 68 items neither marked are left out." in html
    )
    assert "agreement with the interviewer <strong>33.3 %</strong> (1 of 3 items agree)" in html
    assert "Over-rated: 1 item; under-rated: 1 item." in html
    data = client.get(_url("json", light)).json()["self_assessment"]
    assert (data["agreed"], data["items"], data["agreement_percent"], data["agreement_exact"]) == (
        1,
        3,
        "33.333",
        "100/3",
    )
    assert (data["over_rated"], data["under_rated"]) == (
        ["scale-estimates"],
        ["jumps-into-modelling"],
    )


def test_interviewer_sees_no_self_marks_before_submission(client, interviewer, candidate, finished):
    services.set_self_mark(
        session=finished, item_key="scale-estimates", mark="covered", after_hint=False, by=candidate
    )
    client.force_login(interviewer)
    html = client.get(_url("scorecard", finished)).content.decode()
    assert '<th scope="col">Self</th>' not in html
    assert "Self-assessment:" not in html
    data = client.get(_url("json", finished)).json()
    assert data["self_assessment"] is None
    assert all("self" not in item for item in data["items"])


def test_skip_opens_the_scorecard_without_a_comparison(client, candidate, finished):
    services.set_self_mark(
        session=finished, item_key="scale-estimates", mark="covered", after_hint=False, by=candidate
    )
    client.force_login(candidate)
    response = client.post(_url("skip_self_assessment", finished))
    assert response["Location"] == _url("scorecard", finished)
    assert _messages(response) == ["Self-assessment skipped: here is your scorecard."]
    assert _fresh(finished).self_assessment == SelfAssessment.SKIPPED
    html = client.get(_url("scorecard", finished)).content.decode()
    assert "Total: <strong>27.3 %</strong>" in html
    assert '<th scope="col">Self</th>' not in html
    assert "The candidate skipped the self-assessment, so there is no comparison." in html
    assert "<p>MODEL-ANSWER-SECRET: <strong>point-in-time</strong> joins.</p>" in html
    # A second skip (another tab) is told why nothing happened.
    response = client.post(_url("skip_self_assessment", finished))
    assert _messages(response) == ["You skipped the self-assessment; it can no longer be done."]


def test_solo_self_assessment_is_the_score(client, candidate, solo_finished):
    client.force_login(candidate)
    html = client.get(_url("scorecard", solo_finished)).content.decode()
    assert "This was solo practice, so your own marks are the score." in html
    assert "Skip self-assessment" not in html
    response = client.post(
        _url("self_assessment", solo_finished),
        {
            "action": "submit",
            "business-objective-mark": "covered",
            "latency-budget-mark": "partial",
        },
    )
    assert response["Location"] == _url("scorecard", solo_finished)
    html = client.get(_url("scorecard", solo_finished)).content.decode()
    # 2 + 1 of 77 points.
    assert "Total: <strong>3.9 %</strong> · Band: <strong>No hire</strong>" in html
    assert "Scored from the candidate’s own marks (solo practice)." in html
    assert '<th scope="col">Self</th>' not in html
    assert "Hint log" not in html
    assert str(_fresh(solo_finished).total_percent) == "3.896"


def test_solo_skip_is_refused(client, candidate, solo_finished):
    client.force_login(candidate)
    response = client.post(_url("skip_self_assessment", solo_finished))
    assert _messages(response) == [
        "In solo practice your own marks are the score, so there is nothing to skip to: mark what "
        "you can and submit."
    ]
    assert _fresh(solo_finished).self_assessment == SelfAssessment.PENDING


def test_staff_sees_a_solo_draft_with_a_notice(client, staff, candidate, solo_finished):
    services.set_self_mark(
        session=solo_finished,
        item_key="business-objective",
        mark="covered",
        after_hint=False,
        by=candidate,
    )
    client.force_login(staff)
    html = client.get(_url("scorecard", solo_finished)).content.decode()
    assert "the score below comes from their draft" in html
    assert "Total: <strong>2.6 %</strong>" in html


# --- downloads


def test_markdown_download(client, interviewer, finished):
    client.force_login(interviewer)
    response = client.get(_url("markdown", finished))
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="spar-scorecard-{finished.pk}.md"'
    )
    text = response.content.decode()
    assert text.startswith("# Scorecard: Ride ETA\n\n- Session ")
    assert "| 1. Clarify requirements and goals | 29.5 % | 6:30 | 5 min | +1.5 min |" in text
    assert "| Requirements | 22.5 % | 2.25 of 10 |" in text
    assert (
        "| States a latency and freshness budget and designs to it (required) | Covered after a "
        "hint | covered, after a hint: ½ × 2 pt = 1 pt |"
    ) in text
    assert "```text\nCOMMENT-SECRET: good framing, *weak* on scale.\n```" in text
    assert "- 12:00 HINT-SECRET: think about QPS" in text
    assert "## Model answer outline\n\nMODEL-ANSWER-SECRET: **point-in-time** joins." in text
    assert f"- {scoring.RULES[0]}" in text


FORGED = "\n\n## Result\n\n**Total: 100 %**\n\n<img src=x onerror=alert(1)>"


def test_markdown_keeps_user_text_inside_its_own_block(
    client, interviewer, candidate, case, rubric_version
):
    """Issue 11, hole 15: raw HTML from notes was copied into the .md and newlines in a hint
    forged headings. Rendered by a Markdown viewer that allows HTML, the file runs nothing and
    every user text stays inside its own block."""
    session = play_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        hints={1: ["look at QPS" + FORGED]},
        comments={1: "fine ```" + FORGED},
        notes={1: "<script>alert('notes')</script>" + FORGED, 2: "```\n" + FORGED},
    )
    client.force_login(interviewer)
    text = client.get(_url("markdown", session)).content.decode()
    html = markdown.markdown(text, extensions=["fenced_code", "tables"])
    assert html.count("<h2>Result</h2>") == 1
    assert "<img" not in html
    assert "<script" not in html
    assert "<strong>Total: 100 %</strong>" not in html
    # The texts are all there, escaped, for the reader.
    assert "&lt;script&gt;alert('notes')&lt;/script&gt;" in html
    assert "look at QPS" in html


def test_markdown_escapes_pipes_in_table_cells(client, interviewer, finished):
    finished.case.extra_items.update(title="Twist | with a pipe")
    client.force_login(interviewer)
    text = client.get(_url("markdown", finished)).content.decode()
    assert "| Twist \\| with a pipe | Partial |" in text


def test_downloads_after_submission_carry_the_comparison(client, candidate, finished):
    _submit_candidate_marks(client, candidate, finished)
    data = client.get(_url("json", finished)).json()
    item = next(i for i in data["items"] if i["key"] == "scale-estimates")
    assert item["mark"] == "missed"
    assert {k: item["self"][k] for k in ("mark", "after_hint", "agrees", "earned")} == {
        "mark": "covered",
        "after_hint": False,
        "agrees": False,
        "earned": "1",
    }
    # The red flag the candidate did not own up to is the biggest over-rating (2 points).
    assert data["self_assessment"]["over_rated"][0] == "jumps-into-modelling"
    assert "scale-estimates" in data["self_assessment"]["over_rated"]
    text = client.get(_url("markdown", finished)).content.decode()
    assert "## Self-assessment" in text
    assert "| Establishes scale with numbers | Missed | Covered | missed: 0 of 1 pt |" in text


# --- re-scoring


def test_rescore_form_lists_only_other_published_versions(client, interviewer, finished, v2):
    from rubrics.services import create_draft_version

    create_draft_version(source=v2)  # v3, a draft: not offered
    client.force_login(interviewer)
    html = client.get(_url("scorecard", finished)).content.decode()
    options = re.findall(r'<option value="(\d+)">([^<]+)</option>', html)
    assert options == [(str(v2.pk), "ML system design — 7 steps v2")]


def test_rescore_without_other_versions_says_so(client, interviewer, finished):
    client.force_login(interviewer)
    html = client.get(_url("scorecard", finished)).content.decode()
    assert (
        "There is no other published version of ML system design — 7 steps to re-score under."
        in html
    )


def test_rescore_view_stores_and_shows_it(client, interviewer, candidate, finished, v2):
    before = (finished.total_percent, finished.band, finished.result)
    client.force_login(interviewer)
    response = client.post(_url("rescore", finished), {"version": v2.pk})
    rescore = Rescore.objects.get()
    assert response["Location"] == f"{_url('scorecard', finished)}#rescore-{rescore.pk}"
    label = rescore.label
    assert label.startswith("Re-scored under ML system design — 7 steps v2 by ines on ")
    assert _messages(response) == [f"{label}. The original scorecard is unchanged."]
    fresh = _fresh(finished)
    assert (fresh.total_percent, fresh.band, fresh.result) == before

    html = client.get(_url("scorecard", finished)).content.decode()
    assert f'<h3 id="rescore-{rescore.pk}-heading">{label}</h3>' in html
    assert "Total: <strong>27.3 %</strong> · Band: <strong>No hire</strong>" in html  # the original
    assert (
        '<li>Asks where and how predictions appear in the product <span class="muted">(step 1, '
        "not in this version)</span></li>"
    ) in html
    assert "<h4>New in v2, with no mark</h4>" in html
    assert "These count as missed (a red flag as not observed), because nobody marked them." in html
    assert '<li>Names the stakeholders <span class="muted">(step 1)</span></li>' in html
    data = client.get(_url("json", finished)).json()["rescores"]
    assert [(r["label"], r["scores"]) for r in data] == [(label, rescore.result)]

    # The candidate sees it once the self-assessment is done, not before.
    client.force_login(candidate)
    assert label not in client.get(_url("scorecard", finished)).content.decode()
    services.skip_self_assessment(session=finished, by=candidate)
    assert label in client.get(_url("scorecard", finished)).content.decode()


def test_rescore_by_staff(client, staff, finished, v2):
    client.force_login(staff)
    client.post(_url("rescore", finished), {"version": v2.pk})
    assert Rescore.objects.get().created_by == staff


def test_rescore_with_a_bad_version_shows_the_error(client, interviewer, finished, rubric_version):
    client.force_login(interviewer)
    response = client.post(_url("rescore", finished), {"version": rubric_version.pk})
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert not Rescore.objects.exists()


def test_finish_time_is_shown_in_the_header(client, interviewer, finished):
    client.force_login(interviewer)
    html = client.get(_url("scorecard", finished)).content.decode()
    finished_at = T0 + timedelta(seconds=sum((390, 240, 511, 300, 300, 420, 200)))
    assert f"finished {finished_at:%Y-%m-%d %H:%M} · interviewer ines · candidate cai" in html


def test_scorecard_says_what_did_not_apply_who_judged_it_and_the_level(
    client, interviewer, candidate, case, rubric_version
):
    """Issue 15: items that do not apply leave the score; the scorecard lists them with who
    decided and why, and says at which level the session was judged."""
    CaseExclusion.objects.create(case=case, item_key="scale-estimates", reason="No traffic here.")
    session = play_session(
        interviewer=interviewer,
        candidate=candidate,
        case=case,
        rubric_version=rubric_version,
        marks=lambda items: {"business-objective": ("covered", False)},
    )
    Mark.objects.filter(session=session, item_key="business-objective").update(
        mark="not_applicable", reason="Internal tool: no business metric."
    )
    client.force_login(interviewer)
    html = client.get(_url("scorecard", session)).content.decode()
    assert "Judged at the senior level" in html
    assert "2 items did not apply and are left out" in html
    assert "Did not apply, judged by the case&#x27;s author: No traffic here." in html
    assert (
        f"Did not apply, judged by {interviewer.username}: Internal tool: no business metric."
        in html
    )
    data = client.get(_url("json", session)).json()
    assert data["session"]["target_level"] == "senior"
    item = next(i for i in data["items"] if i["key"] == "scale-estimates")
    assert item["not_applicable"] == {"by": "the case's author", "reason": "No traffic here."}
