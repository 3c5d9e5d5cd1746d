import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
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
from interviews import live, permissions, schedule, services
from interviews.forms import (
    CallLinkForm,
    CaseListFilterForm,
    ChangeCaseForm,
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
    NOTE_LIMIT,
    Session,
    SessionState,
    SessionStep,
    default_call_link,
)
from interviews.permissions import Role
from interviews.room import RoomState
from interviews.room import case_choices as room_case_choices
from rubrics.services import latest_published_version

ROOM = live.ROOM
# Notes saves a user may make in one window. The page saves 300 ms after the last key, one save
# at a time, so a slow typist who pauses that long before every key saves about three times a
# second and stays below this; a script saving 20,000 characters of Markdown in a loop does not.
# Counted per app server (Django's cache): enough to bound what one costs.
NOTE_SAVES_PER_WINDOW = 120
NOTE_SAVES_WINDOW_SECONDS = 30
SAVING_TOO_OFTEN = (
    "Saving too often: wait a few seconds. Your text is kept here and is saved on the next try."
)


def _save_window() -> int:
    return int(time.time() // NOTE_SAVES_WINDOW_SECONDS)


def _note_save_allowed(user_id: int) -> bool:
    key = f"spar:note-saves:{user_id}:{_save_window()}"
    cache.add(key, 0, NOTE_SAVES_WINDOW_SECONDS * 2)
    return cache.incr(key) <= NOTE_SAVES_PER_WINDOW


# Sent by static/js/live.js with every htmx write: the version of the room the page shows.
VERSION_HEADER = "X-Spar-Version"


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
                target_level=form.cleaned_data["target_level"] or None,
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
        "limits": live.LIMITS,
        "candidate_on_case": permissions.CANDIDATE_ON_CASE,
        "stream": live.stream_for(request, session),
    }


@login_required
@require_GET
def room(request: AuthedRequest, session_id: int) -> HttpResponse:
    session, role = permissions.get_session_for_user(request.user, session_id)
    return render(request, ROOM, _room_context(request, session, role))


@login_required
@require_GET
def state(request: AuthedRequest, session_id: int) -> HttpResponse:
    """The poll: 204 when nothing changed since the client's version, else the changed parts.
    Pages poll only when their push stream is unavailable (static/js/live.js)."""
    form = StateForm(request.GET)
    if not form.is_valid():
        return HttpResponse("A version number is required.", status=400)
    client_version = form.cleaned_data["v"]
    # A cheap read first: most polls find nothing new and must not render anything.
    row = permissions.get_poll_row(request.user, session_id)
    services.record_presence(poll_row=row, user_id=request.user.pk)
    if row["version"] == client_version:
        return HttpResponse(status=204)
    session, role = permissions.get_session_for_user(request.user, session_id)
    if session.state == SessionState.FINISHED and client_version < session.flow_stamp:
        response = HttpResponseClientRedirect(live.scorecard_url(session))
        response.status_code = 286  # htmx: stop polling
        return response
    return render(
        request, f"{ROOM}#poll-update", live.update_context(session, role, client_version)
    )


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
            writer=_writer(request) if request.htmx else None,
        )
    except services.SessionError as exc:
        return _room_error(request, session, role, str(exc), status=409)
    if session.is_finished:
        target_url = reverse("scorecards:scorecard", args=[session.pk])
        return HttpResponseClientRedirect(target_url) if request.htmx else redirect(target_url)
    return _after_write(request, session, role)


def _after_write(request: AuthedRequest, session: Session, role: Role) -> HttpResponse:
    """htmx: re-render, in place, the parts of the room that changed since the page's version
    (all of them when the page did not say); without JS: back to the room."""
    if not request.htmx:
        return redirect(session)
    context = live.update_context(session, role, _page_version(request))
    context["clear_error"] = True
    return render(request, f"{ROOM}#poll-update", context)


def _page_version(request: AuthedRequest) -> int | None:
    return live.version_number(request.headers.get(VERSION_HEADER, ""))


def _writer(request: AuthedRequest) -> services.Writer | None:
    """The page a write comes from, as static/js/live.js and notes.js name it; for a write whose
    answer brings that page the change (see services.bump), so that its stream does not."""
    page = live.page_id(request.headers.get(live.PAGE_HEADER, ""))
    version = _page_version(request)
    return services.Writer(page, version) if page and version is not None else None


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
            message: str = error["message"]
            return message
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
@require_POST
def change_case(request: AuthedRequest, session_id: int) -> HttpResponse:
    """Another case before the start. A full page load on purpose: the title, the prompt, the
    facts and the checklist all change, and the partner's room reloads for the same reason."""
    session, _role = permissions.get_session_to_control(request.user, session_id)
    form = ChangeCaseForm(request.POST, choices=room_case_choices(session), current=session.case)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect(session)
    try:
        services.change_case(session=session, case=form.cleaned_data["case"])
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
        # No "you joined" message: the room's top bar says who is there and what happens next,
        # and a message would stay on screen through the whole interview.
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
    form = NotesForm(request.POST)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if not _note_save_allowed(request.user.pk):
        if wants_json:
            response = JsonResponse({"error": SAVING_TOO_OFTEN}, status=429)
            response["Retry-After"] = str(NOTE_SAVES_WINDOW_SECONDS)
            return response
        return HttpResponse(SAVING_TOO_OFTEN, status=429, content_type="text/plain")
    saved, error, status = None, "", 200
    conflict: services.NotesConflict | None = None
    brought_page_to: int | None = None
    # Rendered before the lock, which every other write to the database waits for meanwhile.
    rendered = render_markdown(form.cleaned_data["text"]) if form.is_valid() else None
    # One read of the session, under the lock that the save needs anyway.
    with permissions.locked_session(
        request.user, session_id, may=permissions.writes_notes, what="write the candidate's notes"
    ) as (session, role):
        if not form.is_valid():
            error, status = _first_error(form), 400
        else:
            # The JSON answer says so when the save brings an up-to-date page to the new
            # version (static/js/notes.js passes it to live.js): then the page's stream need not
            # be sent this save. (Without JavaScript the answer is a redirect to a fresh page.)
            before = session.version
            try:
                saved = services.save_notes(
                    session=session,
                    step_number=step,
                    text=form.cleaned_data["text"],
                    base_version=form.cleaned_data["base_version"],
                    writer=_writer(request) if wants_json else None,
                    rendered=rendered,
                )
                if session.echo_page and session.version == before + 1:
                    brought_page_to = session.version
            except services.NotesConflict as exc:
                conflict, error, status = exc, str(exc), 409
            except services.SessionError as exc:
                error, status = str(exc), 409
    if not wants_json:
        if status == 400:
            return _room_error(request, session, role, error, status=status)
        if error:
            # Without JavaScript a refused save shows the text that was sent (and, in a
            # conflict, the saved one beside it), so nothing typed is lost.
            server = conflict.step if conflict is not None else None
            return _notes_refused(
                request, session, step, form.cleaned_data["text"], error, server=server
            )
        messages.success(request, f"Notes for step {step} saved.")
        return redirect(session)
    if conflict is not None:
        return JsonResponse(
            {
                "error": error,
                "server_text": conflict.step.notes,
                "server_version": conflict.step.notes_version,
            },
            status=409,
        )
    if saved is None:
        return JsonResponse({"error": error}, status=status)
    return JsonResponse(
        {
            "version": saved.notes_version,
            "page_version": brought_page_to,
            "preview": saved.notes_html,
            "saved_at": timezone.localtime(saved.notes_updated_at).strftime("%H:%M:%S")
            if saved.notes_updated_at
            else "",
        }
    )


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
    form = MarkForm(request.POST)
    page_version = _page_version(request)
    error, status = "", 200
    # Candidates mark themselves on the scorecard's self-assessment, never here.
    with permissions.locked_session(
        request.user,
        session_id,
        may=lambda role: role == Role.INTERVIEWER,
        what="use the interviewer's tools",
        with_checklist=True,
    ) as (session, role):
        if permissions.candidate_on_case(request.user, session.case_id):
            raise PermissionDenied(permissions.CANDIDATE_ON_CASE)
        if not form.is_valid():
            error, status = _first_error(form), 400
        else:
            # The htmx answer below brings an up-to-date page to the new version: then its
            # stream need not be sent this mark again. (Without htmx the answer is a redirect.)
            try:
                services.set_mark(
                    session=session,
                    item_key=form.cleaned_data["item"],
                    mark=form.cleaned_data["mark"],
                    after_hint=form.cleaned_data["after_hint"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                    writer=_writer(request) if request.htmx else None,
                )
            except services.SessionError as exc:
                error, status = str(exc), 409
    if error:
        return _room_error(request, session, role, error, status=status)
    if not request.htmx:
        return redirect(session)
    # Only the marked item and the step's score change on screen, so keyboard focus stays where
    # the interviewer is; set_mark left `session` as it now stands. The page is up to date only
    # if this mark was the one change since its version; otherwise it keeps its version, and
    # the stream (or the poll) brings it the changes in between.
    # The interviewer (this user) was checked above: not this case's candidate anywhere.
    context = live.update_context(session, role, page_version, interviewer_on_case=False)
    context["entry"] = context["state"].entry(form.cleaned_data["item"])
    if page_version is not None and page_version != session.version - 1:
        context["version"] = page_version
    return render(request, f"{ROOM}#mark-update", context)


@login_required
@require_POST
def reveal_fact(request: AuthedRequest, session_id: int, fact_id: int) -> HttpResponse:
    session, role = permissions.get_session_for_interviewer(request.user, session_id)
    fact = get_object_or_404(ClarificationFact, pk=fact_id, case_id=session.case_id)
    form = FactForm(request.POST)
    form.is_valid()  # a missing or odd value means "hide": booleans cannot be malformed
    try:
        services.set_fact_revealed(
            session=session,
            fact=fact,
            revealed=form.cleaned_data.get("revealed", False),
            writer=_writer(request) if request.htmx else None,
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
        services.save_comment(
            session=session,
            step_number=step,
            text=form.cleaned_data["text"],
            writer=_writer(request) if request.htmx else None,
        )
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
        services.add_hint(
            session=session,
            step_number=step,
            text=form.cleaned_data["text"],
            writer=_writer(request) if request.htmx else None,
        )
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
