import csv
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST

from casebank.models import Case
from core.types import AuthedRequest
from interviews.board_svg import render_svg
from interviews.models import BoardSnapshot, MarkSource, Session
from interviews.permissions import Role, get_session_for_user, get_session_to_swap, offers_swap
from interviews.room import dom_id
from interviews.services import SessionError
from rubrics import scoring
from scorecards import exports, permissions, progress, report, services
from scorecards.forms import (
    ItemForm,
    RescoreForm,
    SelfAssessmentActionForm,
    SelfMarkForm,
    self_mark_forms,
    sent_marks,
)

SCORECARD = "scorecards/scorecard.html"
SELF_ASSESSMENT = "scorecards/self_assessment.html"
# A diagram is shown with <img>, where nothing in it could run anyway; opened on its own it is a
# document, and this policy lets it load nothing and run nothing, in a sandbox.
DIAGRAM_CSP = {"default-src": [CSP.NONE], "frame-ancestors": [CSP.NONE], "sandbox": True}


def _scorecard_url(session: Session) -> str:
    return reverse("scorecards:scorecard", args=[session.pk])


@dataclass
class _Entry:
    """One item of the self-assessment page with its form."""

    item: scoring.Item
    text: str
    form: SelfMarkForm

    @property
    def dom_id(self) -> str:
        return dom_id(self.item.key)


@dataclass
class _StepEntries:
    step: report.SelfAssessmentStep
    entries: list[_Entry]
    marked: int  # expected items of the step with a stored mark
    previous: report.SelfAssessmentStep | None = None
    next: report.SelfAssessmentStep | None = None

    @property
    def expected(self) -> int:
        return sum(1 for entry in self.entries if not entry.form.red_flag)


def _next_round(session: Session, role: Role, *, follows: bool) -> dict[str, object]:
    """What scorecards/next_round.html needs: whether to show the next round's box, and whether
    to listen for a swap made on the partner's screen."""
    shows = offers_swap(role, session)
    return {
        "next_round": shows,
        "listens": shows and session.next_session_id is None,
        "follows": follows,
        "version": session.version,
    }


def _render_self_assessment(
    request: AuthedRequest,
    session: Session,
    role: Role,
    item_forms: list[SelfMarkForm] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    data = report.self_assessment_data(session)
    if item_forms is None:
        item_forms = self_mark_forms(data.checklist.items, data.marks)
    by_key = {form.key: form for form in item_forms}
    steps = [
        _StepEntries(
            step,
            [
                _Entry(item, data.checklist.texts.get(item.key, ""), by_key[item.key])
                for item in step.items
            ],
            marked=data.marked_in(step),
            previous=data.steps[index - 1] if index else None,
            next=data.steps[index + 1] if index + 1 < len(data.steps) else None,
        )
        for index, step in enumerate(data.steps)
    ]
    return render(
        request,
        SELF_ASSESSMENT,
        {
            "session": session,
            "role": role,
            "steps": steps,
            "marked": data.marked,
            "expected": data.expected,
            "may_skip": permissions.may_skip(role, session),
            # Half-way through marking themselves, the candidate is not taken away.
            **_next_round(session, role, follows=False),
        },
        status=status,
    )


def _render_scorecard(
    request: AuthedRequest,
    session: Session,
    role: Role,
    rescore_form: RescoreForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    built = report.build_report(session, role)
    if rescore_form is None and permissions.rescores(role):
        rescore_form = RescoreForm(versions=report.other_versions(session))
    return render(
        request,
        SCORECARD,
        {
            "session": session,
            "role": role,
            "report": built,
            "card": built.card,
            "rescore_form": rescore_form,
            "comparing": built.calibration is not None,
            "from_self": built.source == MarkSource.SELF,
            "offers_swap": offers_swap(role, session),
            "level_label": session.get_target_level_display(),
            "is_candidate": role == Role.CANDIDATE,
            **_next_round(session, role, follows=True),
        },
        status=status,
    )


@login_required
@require_GET
def scorecard(request: AuthedRequest, session_id: int) -> HttpResponse:
    """The scorecard; for a candidate who has not assessed themselves yet, the self-assessment."""
    session, role = get_session_for_user(request.user, session_id)
    if not session.is_finished:
        return redirect(session)
    if not permissions.sees_results(role, session):
        return _render_self_assessment(request, session, role)
    return _render_scorecard(request, session, role)


@login_required
@require_GET
def download_json(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, role = permissions.get_session_with_results(request.user, session_id)
    built = report.build_report(session, role)
    data = exports.scorecard_data(built, final_scene=report.final_scene(session))
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="spar-scorecard-{session.pk}.json"'
    return response


@login_required
@require_GET
def download_markdown(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, role = permissions.get_session_with_results(request.user, session_id)
    built = report.build_report(session, role)
    final = built.diagram.final
    diagram_url = (
        request.build_absolute_uri(reverse("scorecards:diagram", args=[session.pk, final.pk]))
        if final is not None
        else ""
    )
    text = exports.scorecard_markdown(built, diagram_url=diagram_url)
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="spar-scorecard-{session.pk}.md"'
    return response


# django-stubs allow only text values, but Django renders True as a bare directive ("sandbox").
@csp_override(DIAGRAM_CSP)  # type: ignore[arg-type]
@login_required
@require_GET
def diagram(request: AuthedRequest, session_id: int, snapshot_id: int) -> HttpResponse:
    """A snapshot of the board as an SVG image, drawn here from the stored scene
    (interviews/board_svg.py), for whoever may see the scorecard's results."""
    session, _role = permissions.get_session_with_results(request.user, session_id)
    snapshot = get_object_or_404(BoardSnapshot, pk=snapshot_id, session=session)
    title = f"{session.case.title}: the board {report.DiagramView(snapshot).caption.lower()}"
    response = HttpResponse(
        render_svg(snapshot.elements, title=title), content_type="image/svg+xml; charset=utf-8"
    )
    # SecurityMiddleware sends nosniff on every response; said here too, as the image needs it.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = (
        f'inline; filename="spar-diagram-{session.pk}-{snapshot.pk}.svg"'
    )
    # A snapshot never changes once taken; `private`, because it is one person's answer.
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
@require_POST
def save_self_assessment(request: AuthedRequest, session_id: int) -> HttpResponse:
    """The whole self-assessment form: "Save draft" or "Submit". Works without JavaScript."""
    session, role = permissions.get_session_to_self_assess(request.user, session_id)
    action = SelfAssessmentActionForm(request.POST)
    checklist = report.load_checklist(session)
    item_forms = self_mark_forms(checklist.items, {}, request.POST)
    sent = [form for form in item_forms if form.was_sent]
    if not action.is_valid() or not all(form.is_valid() for form in sent):
        if not permissions.self_assesses(role, session):
            return redirect(_scorecard_url(session))
        messages.error(request, "Some marks were not understood; they are shown below.")
        return _render_self_assessment(request, session, role, item_forms, status=400)
    try:
        if action.cleaned_data["action"] == "submit":
            services.submit_self_assessment(
                session=session, by=request.user, marks=sent_marks(sent)
            )
            messages.success(request, "Self-assessment submitted: here is your scorecard.")
        else:
            services.save_self_marks(session=session, marks=sent_marks(sent), by=request.user)
            messages.success(request, "Draft saved. Submit it when you have marked every item.")
    except SessionError as exc:
        messages.error(request, str(exc))
    return redirect(_scorecard_url(session))


def _self_mark_response(
    request: AuthedRequest,
    session: Session,
    key: str,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    data = report.self_assessment_counts(session)
    return render(
        request,
        f"{SELF_ASSESSMENT}#self-mark-saved",
        {
            "entry": {"dom_id": dom_id(key)},
            "error": error,
            "saved": not error,
            "marked": data.marked,
            "expected": data.expected,
            "oob": True,
        },
        status=status,
    )


@login_required
@require_POST
def mark_self(request: AuthedRequest, session_id: int) -> HttpResponse:
    """Save one item of the self-assessment as it changes (htmx); the page's form is the
    fallback without JavaScript."""
    session, _role = permissions.get_session_to_self_assess(request.user, session_id)
    item_form = ItemForm(request.POST, session=session)
    if not item_form.is_valid():
        return HttpResponse(item_form.errors["item"][0], status=400)
    ref = item_form.cleaned_data["item"]
    form = SelfMarkForm(request.POST, key=ref.key, kind=ref.kind)
    if not form.is_valid():
        return _self_mark_response(
            request, session, ref.key, error="That mark does not fit this item.", status=400
        )
    mark, after_hint = form.self_mark()
    try:
        services.set_self_mark(
            session=session, item_key=ref.key, mark=mark, after_hint=after_hint, by=request.user
        )
    except SessionError as exc:
        return _self_mark_response(request, session, ref.key, error=str(exc), status=409)
    if not request.htmx:
        return redirect(f"{_scorecard_url(session)}#{dom_id(ref.key)}")
    return _self_mark_response(request, session, ref.key)


@login_required
@require_POST
def skip_self_assessment(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, _role = permissions.get_session_to_self_assess(request.user, session_id)
    try:
        services.skip_self_assessment(session=session, by=request.user)
    except SessionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Self-assessment skipped: here is your scorecard.")
    return redirect(_scorecard_url(session))


@login_required
@require_POST
def rescore_session(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, role = permissions.get_session_to_rescore(request.user, session_id)
    if not session.is_finished:
        return redirect(session)
    form = RescoreForm(request.POST, versions=report.other_versions(session))
    if not form.is_valid():
        return _render_scorecard(request, session, role, form, status=400)
    try:
        rescore = services.rescore_session(
            session=session, version=form.cleaned_data["version"], by=request.user
        )
    except SessionError as exc:
        messages.error(request, str(exc))
        return redirect(_scorecard_url(session))
    messages.success(request, f"{rescore.label}. The original scorecard is unchanged.")
    return redirect(rescore)


@login_required
@require_POST
def swap_roles(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, _role = get_session_to_swap(request.user, session_id)
    new_candidate, new_interviewer = session.interviewer, session.candidate
    pick = (
        progress.next_case_for(
            new_candidate, unseen_as_interviewer=True, interviewer=new_interviewer
        )
        if new_candidate and new_interviewer
        else None
    )
    try:
        swapped = services.swap_roles(
            session=session,
            by=request.user,
            case=Case.objects.get(pk=pick.case_id) if pick else None,
        )
    except SessionError as exc:
        messages.error(request, str(exc))
        return redirect(_scorecard_url(session))
    # swap_roles refuses a session without both people, so the new one has both.
    assert swapped.candidate is not None
    assert swapped.interviewer is not None
    candidate = swapped.candidate.get_username()
    messages.success(
        request,
        f"Roles swapped. In this new session {swapped.interviewer.get_username()} is the "
        f"interviewer and {candidate} the candidate, on “{swapped.case.title}”, a case new to "
        f"{candidate}. The interviewer starts it when you are both ready.",
    )
    return redirect(swapped)


# The progress page and its CSV take no input: they show the logged-in user's own sessions.


@login_required
@require_GET
def progress_overview(request: AuthedRequest) -> HttpResponse:
    return render(
        request, "scorecards/progress.html", {"overview": progress.build_overview(request.user)}
    )


@login_required
@require_GET
def progress_csv(request: AuthedRequest) -> HttpResponse:
    rows = list(reversed(progress.finished_as_candidate(request.user)))  # newest first, as shown
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="spar-history.csv"'
    csv.writer(response).writerows(exports.history_rows(rows))
    return response
