from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import profile_services
from accounts.profile import viewer_zone
from accounts.profile_forms import GuessZoneForm, ProfileForm
from core.types import AuthedRequest


@sensitive_post_parameters("current_password")
@login_required
@require_http_methods(["GET", "POST"])
def edit_profile(request: AuthedRequest) -> HttpResponse:
    zone = viewer_zone(request.user)
    initial = {"time_zone": zone.name, "email": request.user.email}
    form = ProfileForm(
        request.POST if request.method == "POST" else None, user=request.user, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        # Both or neither: a refused e-mail change must not keep a new zone half-saved.
        with transaction.atomic():
            profile_services.set_time_zone(
                user=request.user, time_zone=form.cleaned_data["time_zone"]
            )
            if form.email_changed:
                profile_services.set_email(user=request.user, email=form.cleaned_data["email"])
        messages.success(request, "Your profile is saved.")
        return redirect("profile:edit")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "zone": zone},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def guess_zone(request: AuthedRequest) -> HttpResponse:
    """The browser's zone, sent once by static/js/timezone.js: 204 whether or not it was kept
    (a zone already set wins), 400 for a name that is not a zone."""
    form = GuessZoneForm(request.POST)
    if not form.is_valid():
        return HttpResponse(form.errors["time_zone"][0], status=400, content_type="text/plain")
    profile_services.guess_time_zone(user=request.user, time_zone=form.cleaned_data["time_zone"])
    return HttpResponse(status=204)
