from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from accounts.profile import viewer_zone
from casebank.models import ClarificationFact
from core.markdown import render_markdown
from core.types import AuthedRequest
from interviews import permissions, schedule, services
from interviews.forms import (
    CallLinkForm,
    CaseListFilterForm,
    CommentForm,
    ControlForm,
    CreateSessionForm,
    FactForm,
    HintForm,
    InviteForm,
    MarkForm,
    NotesForm,
    ProposeTimeForm,
    StateForm,
)
from interviews.models import (
    COMMENT_LIMIT,
    HINT_LIMIT,
    NOTE_LIMIT,
    Session,
    SessionState,
    SessionStep,
    default_call_link,
)
from interviews.permissions import Role
from interviews.room import RoomState
from rubrics.services import latest_published_version

ROOM = "interviews/room.html"
# The limits the room's text fields show (maxlength) are the ones the forms enforce.
LIMITS = {"note": NOTE_LIMIT, "comment": COMMENT_LIMIT, "hint": HINT_LIMIT}


@login_required
@require_http_methods(["GET", "POST"])
def create_session(request: AuthedRequest) -> HttpResponse:
    filters = CaseListFilterForm(request.GET)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    hide_done = chosen.get("hide_done", False)
    latest = latest_published_version()
    initial = {"rubric_version": latest, "case": chosen.get("case")}
    data = request.POST if request.method == "POST" else None
    zone = viewer_zone(request.user)
    # The suggested call link is made once, here, so the host sees the address partners get.
    initial["call_url"] = default_call_link()
    form = CreateSessionForm(
        data, user=request.user, hide_done=hide_done, zone=zone.zone, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = services.host_session(
                host=request.user,
                case=form.cleaned_data["case"],
                rubric_version=form.cleaned_data["rubric_version"],
                length_minutes=form.cleaned_data["length_minutes"],
                mode=form.cleaned_data["mode"],
                budgets=form.budgets(),
                call_url=form.cleaned_data["call_url"],
                scheduled_at=form.cleaned_data["scheduled_at"],
            )
        except services.SessionError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(session)
    return render(
        request,
        "interviews/create.html",
        {"form": form, "filters": filters, "no_rubric": latest is None, "zone": zone},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def session_list(request: AuthedRequest) -> HttpResponse:
    sessions = Session.objects.for_user_list().of_user(request.user)
    as_interviewer = [s for s in sessions if s.interviewer_id == request.user.pk]
    as_candidate = [s for s in sessions if s.candidate_id == request.user.pk]
    return render(
        request,
        "interviews/list.html",
        {"as_interviewer": as_interviewer, "as_candidate": as_candidate},
    )


def _room_context(request: AuthedRequest, session: Session, role: Role) -> dict[str, object]:
    state = RoomState(session, role, timezone.now())
    invite_url = (
        request.build_absolute_uri(reverse("interviews:join", args=[session.invite_token]))
        if state.manages_invite and session.invite_token
        else ""
    )
    return {
        "session": session,
        "state": state,
        "role": role,
        "invite_url": invite_url,
        "version": session.version,
        "limits": LIMITS,
        "candidate_on_case": permissions.CANDIDATE_ON_CASE,
    }


@login_required
@require_GET
def room(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, role = permissions.get_session_for_user(request.user, session_id)
    return render(request, ROOM, _room_context(request, session, role))


@login_required
@require_GET
def state(request: AuthedRequest, session_id: int) -> HttpResponse:
    """The poll: 204 when nothing changed since the client's version, else the changed parts."""
    form = StateForm(request.GET)
    if not form.is_valid():
        return HttpResponse("A version number is required.", status=400)
    client_version = form.cleaned_data["v"]
    # A cheap read first: most polls find nothing new and must not render anything.
    row = permissions.get_poll_row(request.user, session_id)
    if row["version"] == client_version:
        return HttpResponse(status=204)
    session, role = permissions.get_session_for_user(request.user, session_id)
    if session.state == SessionState.FINISHED and client_version < session.flow_stamp:
        response = HttpResponseClientRedirect(reverse("scorecards:scorecard", args=[session.pk]))
        response.status_code = 286  # htmx: stop polling
        return response
    context = _room_context(request, session, role)
    context["changed"] = {
        "flow": session.flow_stamp > client_version,
        "notes": session.notes_stamp > client_version,
        "facts": session.facts_stamp > client_version,
        "marks": session.marks_stamp > client_version,
        "board": session.board_stamp > client_version,
    }
    return render(request, "interviews/room.html#poll-update", context)


@login_required
@require_POST
def control(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, role = permissions.get_session_to_control(request.user, session_id)
    form = ControlForm(request.POST)
    if not form.is_valid():
        return _room_error(request, session, role, _first_error(form), status=400)
    try:
        session = services.control_session(
            session=session,
            action=form.cleaned_data["action"],
            step=form.cleaned_data["step"],
            at_step=form.cleaned_data["at_step"],
        )
    except services.SessionError as exc:
        return _room_error(request, session, role, str(exc), status=409)
    if session.is_finished:
        target_url = reverse("scorecards:scorecard", args=[session.pk])
        return HttpResponseClientRedirect(target_url) if request.htmx else redirect(target_url)
    return _after_write(request, session, role)


def _after_write(request: AuthedRequest, session: Session, role: Role) -> HttpResponse:
    """htmx: re-render the room's live parts in place; without JS: back to the room."""
    if not request.htmx:
        return redirect(session)
    context = _room_context(request, session, role)
    context["changed"] = {"flow": True, "notes": True, "facts": True, "marks": True, "board": True}
    context["clear_error"] = True
    return render(request, "interviews/room.html#poll-update", context)


def _room_error(
    request: AuthedRequest, session: Session, role: Role, message: str, *, status: int
) -> HttpResponse:
    if request.htmx:
        response = render(
            request, "interviews/room.html#room-error", {"error": message}, status=status
        )
        return retarget(reswap(response, "innerHTML"), "#room-error")
    messages.error(request, message)
    return redirect(session)


def _first_error(form: Form) -> str:
    errors = form.errors.get_json_data()
    for field_errors in errors.values():
        for error in field_errors:
            return error["message"]
    return "The request was not understood."


@login_required
@require_POST
def invite(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, role = permissions.get_session_for_interviewer(request.user, session_id)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _room_error(request, session, role, _first_error(form), status=400)
    try:
        if form.cleaned_data["action"] == "regenerate":
            services.regenerate_invite(session=session)
            messages.success(request, "A new invite link is ready; the old one no longer works.")
        else:
            services.revoke_invite(session=session)
            messages.success(request, "The invite link is revoked.")
    except services.SessionError as exc:
        messages.error(request, str(exc))
    return redirect(session)


@login_required
@require_http_methods(["GET", "POST"])
def join(request: AuthedRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            joined = services.join_session(token=token, user=request.user)
        except services.InviteUnavailable as exc:
            return render(request, "interviews/join.html", {"error": str(exc)}, status=410)
        except services.SessionError as exc:
            return render(request, "interviews/join.html", {"error": str(exc)}, status=409)
        messages.success(request, "You joined as the candidate. Your interviewer will start soon.")
        return redirect(joined)
    try:
        session = permissions.get_invited_session(request.user, token)
    except permissions.InviteRefused as exc:
        return render(request, "interviews/join.html", {"error": str(exc)}, status=410)
    if session.candidate_id == request.user.pk:
        return redirect(session)
    return render(request, "interviews/join.html", {"session": session})


@login_required
@require_POST
def save_notes(request: AuthedRequest, session_id: int, step: int) -> HttpResponse:
    session, role = permissions.get_session_for_candidate(request.user, session_id)
    form = NotesForm(request.POST)
    if "application/json" not in request.headers.get("Accept", ""):
        return _save_notes_without_js(request, session, role, form, step)
    if not form.is_valid():
        return JsonResponse({"error": _first_error(form)}, status=400)
    try:
        saved = services.save_notes(
            session=session,
            step_number=step,
            text=form.cleaned_data["text"],
            base_version=form.cleaned_data["base_version"],
        )
    except services.NotesConflict as exc:
        return JsonResponse(
            {
                "error": str(exc),
                "server_text": exc.step.notes,
                "server_version": exc.step.notes_version,
            },
            status=409,
        )
    except services.SessionError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse(
        {
            "version": saved.notes_version,
            "preview": render_markdown(saved.notes),
            "saved_at": timezone.localtime(saved.notes_updated_at).strftime("%H:%M:%S")
            if saved.notes_updated_at
            else "",
        }
    )


def _save_notes_without_js(
    request: AuthedRequest, session: Session, role: Role, form: NotesForm, step: int
) -> HttpResponse:
    if not form.is_valid():
        return _room_error(request, session, role, _first_error(form), status=400)
    text = form.cleaned_data["text"]
    try:
        services.save_notes(
            session=session,
            step_number=step,
            text=text,
            base_version=form.cleaned_data["base_version"],
        )
    except services.NotesConflict as exc:
        return _notes_refused(request, session, step, text, str(exc), server=exc.step)
    except services.SessionError as exc:
        return _notes_refused(request, session, step, text, str(exc))
    messages.success(request, f"Notes for step {step} saved.")
    return redirect(session)


def _notes_refused(
    request: AuthedRequest,
    session: Session,
    step: int,
    text: str,
    error: str,
    *,
    server: SessionStep | None = None,
) -> HttpResponse:
    """Without JavaScript, a refused save shows the text that was sent (and, in a conflict, the
    saved one beside it), so nothing typed is lost."""
    return render(
        request,
        "interviews/notes_refused.html",
        {
            "session": session,
            "step": step,
            "mine": text,
            "error": error,
            "server": server,
            "limit": NOTE_LIMIT,
        },
        status=409,
    )


@login_required
@require_POST
def mark_item(request: AuthedRequest, session_id: int) -> HttpResponse:
    # Candidates mark themselves on the scorecard's self-assessment, never here.
    session, role = permissions.get_session_for_interviewer(request.user, session_id)
    form = MarkForm(request.POST)
    if not form.is_valid():
        return _room_error(request, session, role, _first_error(form), status=400)
    try:
        services.set_mark(
            session=session,
            item_key=form.cleaned_data["item"],
            mark=form.cleaned_data["mark"],
            after_hint=form.cleaned_data["after_hint"],
            by=request.user,
        )
    except services.SessionError as exc:
        return _room_error(request, session, role, str(exc), status=409)
    if not request.htmx:
        return redirect(session)
    # Only the marked item and the step's score change on screen, so keyboard focus stays where
    # the interviewer is; set_mark left `session` as it now stands.
    context = _room_context(request, session, role)
    context["entry"] = context["state"].entry(form.cleaned_data["item"])
    return render(request, "interviews/room.html#mark-update", context)


@login_required
@require_POST
def reveal_fact(request: AuthedRequest, session_id: int, fact_id: int) -> HttpResponse:
    session, role = permissions.get_session_for_interviewer(request.user, session_id)
    fact = get_object_or_404(ClarificationFact, pk=fact_id, case_id=session.case_id)
    form = FactForm(request.POST)
    form.is_valid()  # a missing or odd value means "hide": booleans cannot be malformed
    try:
        services.set_fact_revealed(
            session=session, fact=fact, revealed=form.cleaned_data.get("revealed", False)
        )
    except services.SessionError as exc:
        return _room_error(request, session, role, str(exc), status=409)
    return _after_write(request, session, role)


@login_required
@require_POST
def save_comment(request: AuthedRequest, session_id: int, step: int) -> HttpResponse:
    session, role = permissions.get_session_for_interviewer(request.user, session_id)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _room_error(request, session, role, _first_error(form), status=400)
    try:
        services.save_comment(session=session, step_number=step, text=form.cleaned_data["text"])
    except services.SessionError as exc:
        return _room_error(request, session, role, str(exc), status=409)
    return _after_write(request, session, role)


@login_required
@require_POST
def add_hint(request: AuthedRequest, session_id: int, step: int) -> HttpResponse:
    session, role = permissions.get_session_for_interviewer(request.user, session_id)
    form = HintForm(request.POST)
    if not form.is_valid():
        return _room_error(request, session, role, _first_error(form), status=400)
    try:
        services.add_hint(session=session, step_number=step, text=form.cleaned_data["text"])
    except services.SessionError as exc:
        return _room_error(request, session, role, str(exc), status=409)
    return _after_write(request, session, role)


@login_required
@require_GET
def summary(request: AuthedRequest, session_id: int) -> HttpResponse:
    """The old address of a finished session's result, kept for links: the scorecard replaced it."""
    permissions.get_session_for_user(request.user, session_id)  # outsiders still get 404
    return redirect("scorecards:scorecard", session_id)


# --- hosting: call link, scheduled start, no-shows, calendar file ------------------------------


def _after_schedule_change(request: AuthedRequest, session: Session, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(session)


def _schedule_refused(request: AuthedRequest, session: Session, message: str) -> HttpResponse:
    # The room is a full page and these forms post without htmx: the message shows at its top.
    messages.error(request, message)
    return redirect(session)


@login_required
@require_POST
def set_call_link(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, _ = permissions.get_session_for_participant(request.user, session_id)
    form = CallLinkForm(request.POST)
    if not form.is_valid():
        return _schedule_refused(request, session, _first_error(form))
    try:
        services.set_call_link(
            session=session, by=request.user, call_url=form.cleaned_data["call_url"]
        )
    except services.SessionError as exc:
        return _schedule_refused(request, session, str(exc))
    saved = (
        "The call link is saved." if form.cleaned_data["call_url"] else "The call link is removed."
    )
    return _after_schedule_change(request, session, saved)


@login_required
@require_POST
def propose_time(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, _ = permissions.get_session_for_participant(request.user, session_id)
    form = ProposeTimeForm(request.POST, zone=viewer_zone(request.user).zone)
    if not form.is_valid():
        return _schedule_refused(request, session, _first_error(form))
    try:
        session = services.propose_time(
            session=session, by=request.user, starts_at=form.cleaned_data["starts_at"]
        )
    except services.SessionError as exc:
        return _schedule_refused(request, session, str(exc))
    if session.is_solo:
        return _after_schedule_change(request, session, "The start time is saved.")
    return _after_schedule_change(
        request, session, "Your proposed time is saved; your partner can accept it."
    )


@login_required
@require_POST
def accept_time(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, _ = permissions.get_session_for_participant(request.user, session_id)
    try:
        services.accept_time(session=session, by=request.user)
    except services.SessionError as exc:
        return _schedule_refused(request, session, str(exc))
    return _after_schedule_change(request, session, "You accepted the time. See you then!")


@login_required
@require_POST
def mark_no_show(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, _ = permissions.get_session_for_participant(request.user, session_id)
    try:
        services.mark_no_show(session=session, by=request.user)
    except services.SessionError as exc:
        return _schedule_refused(request, session, str(exc))
    return _after_schedule_change(request, session, "The no-show is recorded.")


@login_required
@require_GET
def calendar(request: AuthedRequest, session_id: int) -> HttpResponse:
    """The session as a calendar file; the candidate's does not name the case."""
    session, role = permissions.get_session_for_participant(request.user, session_id)
    if session.scheduled_at is None:
        raise Http404("This session has no scheduled time yet.")
    body = schedule.calendar_file(session, role, now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="spar-session-{session.pk}.ics"'
    return response
