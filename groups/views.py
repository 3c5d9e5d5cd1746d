from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.profile import ViewerZone, viewer_zone
from core.types import AuthedRequest
from groups import board, matching, permissions, services
from groups.forms import ClaimForm, GroupForm, InviteForm, SharingForm, SlotForm
from groups.models import Membership, Slot, SlotRole
from groups.progress import build_group_progress

DETAIL = "groups/detail.html"


def _first_error(form: Form) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return "The request was not understood."


@login_required
@require_http_methods(["GET", "POST"])
def group_list(request: AuthedRequest) -> HttpResponse:
    form = GroupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        group = services.create_group(owner=request.user, **form.cleaned_data)
        messages.success(
            request, "Your group is ready. Send its link to the people you practise with."
        )
        return redirect(group)
    return render(
        request,
        "groups/list.html",
        {"memberships": board.groups_of(request.user), "form": form},
        status=400 if form.errors else 200,
    )


def _render_detail(
    request: AuthedRequest,
    membership: Membership,
    zone: ViewerZone,
    slot_form: SlotForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    group = membership.group
    now = timezone.now()
    owner = permissions.owns(request.user, group)
    invite_url = (
        request.build_absolute_uri(reverse("groups:join", args=[group.invite_token]))
        if owner and group.invite_token
        else ""
    )
    return render(
        request,
        DETAIL,
        {
            "group": group,
            "membership": membership,
            "zone": zone,
            "is_owner": owner,
            "invite_url": invite_url,
            "slots": board.slot_rows(request.user, board.open_slots(group, now)),
            "upcoming": board.upcoming_rows(request.user, board.upcoming_sessions(group, now)),
            "members": board.member_rows(group),
            "slot_form": slot_form or SlotForm(zone=zone.zone),
            "sharing_form": SharingForm(initial={"shares_progress": membership.shares_progress}),
        },
        status=status,
    )


@login_required
@require_GET
def group_detail(request: AuthedRequest, group_id: int) -> HttpResponse:
    membership = permissions.get_membership(request.user, group_id)
    return _render_detail(request, membership, viewer_zone(request.user))


@login_required
@require_POST
def offer_slot(request: AuthedRequest, group_id: int) -> HttpResponse:
    membership = permissions.get_membership(request.user, group_id)
    zone = viewer_zone(request.user)
    form = SlotForm(request.POST, zone=zone.zone)
    if form.is_valid():
        try:
            services.offer_slot(group=membership.group, by=request.user, **form.cleaned_data)
        except services.GroupError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, "Your slot is on the board. You will see it here when someone claims it."
            )
            return redirect(membership.group)
    return _render_detail(request, membership, zone, form, status=400)


@login_required
@require_POST
def withdraw_slot(request: AuthedRequest, group_id: int, slot_id: int) -> HttpResponse:
    membership = permissions.get_membership(request.user, group_id)
    slot = permissions.get_slot(membership.group, slot_id)
    if slot.offered_by_id != request.user.pk:
        raise PermissionDenied("Only the member who offered a slot may withdraw it.")
    try:
        services.withdraw_slot(group=membership.group, slot_id=slot.pk, by=request.user)
    except services.GroupError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Your slot is withdrawn.")
    return redirect(membership.group)


def _claim_form(slot: Slot, claimer: User, data: object = None) -> ClaimForm:
    # The candidate, if the claimer interviews, is the member who offered the slot.
    options = matching.case_options(
        slot.offered_by, interviewer=claimer, domain=slot.domain, level=slot.level
    )
    suggested = matching.recommended_case_id(slot.offered_by, options) if options else None
    return ClaimForm(data, slot=slot, options=options, suggested=suggested)


@login_required
@require_http_methods(["GET", "POST"])
def claim_slot(request: AuthedRequest, group_id: int, slot_id: int) -> HttpResponse:
    membership = permissions.get_membership(request.user, group_id)
    slot = permissions.get_slot(membership.group, slot_id)
    zone = viewer_zone(request.user)
    if slot.claimed_by_id == request.user.pk and slot.session_id:
        return redirect("interviews:room", slot.session_id)
    if request.method == "GET" and not permissions.may_claim(request.user, slot):
        messages.error(request, "This slot cannot be claimed: it is yours, or taken already.")
        return redirect(membership.group)
    form = _claim_form(slot, request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.claim_slot(
                group=membership.group,
                slot_id=slot.pk,
                by=request.user,
                as_role=form.cleaned_data.get("as_role"),
                case=form.cleaned_data.get("case"),
                surprise=form.cleaned_data["surprise"],
            )
        except services.GroupError as exc:
            messages.error(request, str(exc))
            return redirect(membership.group)
        messages.success(
            request,
            "The slot is yours: here is your session. Both of you can add it to your calendar.",
        )
        return redirect(session)
    return render(
        request,
        "groups/claim.html",
        {
            "group": membership.group,
            "slot": slot,
            "form": form,
            "zone": zone,
            "either": slot.role == SlotRole.EITHER,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def share_progress(request: AuthedRequest, group_id: int) -> HttpResponse:
    membership = permissions.get_membership(request.user, group_id)
    form = SharingForm(request.POST)
    form.is_valid()  # a checkbox: missing or odd means "off", never an error
    shares = form.cleaned_data.get("shares_progress", False)
    services.set_sharing(membership=membership, shares_progress=shares)
    messages.success(
        request,
        "The group now sees your progress."
        if shares
        else "The group no longer sees your progress.",
    )
    return redirect(membership.group)


@login_required
@require_POST
def invite(request: AuthedRequest, group_id: int) -> HttpResponse:
    membership = permissions.get_membership_as_owner(request.user, group_id)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
    elif form.cleaned_data["action"] == "regenerate":
        services.regenerate_invite(group=membership.group)
        messages.success(request, "A new group link is ready; the old one no longer works.")
    else:
        services.revoke_invite(group=membership.group)
        messages.success(
            request, "The group link is revoked: nobody new can join until you make a new one."
        )
    return redirect(membership.group)


@login_required
@require_http_methods(["GET", "POST"])
def join(request: AuthedRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            group = services.join_group(token=token, user=request.user)
        except services.GroupError as exc:
            return render(request, "groups/join.html", {"error": str(exc)}, status=410)
        messages.success(request, f"Welcome to {group.name}.")
        return redirect(group)
    try:
        group = permissions.get_group_by_token(token)
    except permissions.GroupInviteRefused as exc:
        return render(request, "groups/join.html", {"error": str(exc)}, status=410)
    if Membership.objects.filter(group=group, user=request.user).exists():
        return redirect(group)
    return render(request, "groups/join.html", {"group": group, "token": token})


@login_required
@require_GET
def group_progress(request: AuthedRequest, group_id: int) -> HttpResponse:
    membership = permissions.get_membership(request.user, group_id)
    zone = viewer_zone(request.user)
    overview = build_group_progress(membership.group, now=timezone.now(), zone=zone.zone)
    return render(
        request,
        "groups/progress.html",
        {"group": membership.group, "membership": membership, "overview": overview, "zone": zone},
    )
