from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.types import AuthedRequest


def bare(request: HttpRequest) -> HttpResponse:
    """No database, no template: the floor set by Django and the middleware stack."""
    return HttpResponse(status=204)


# The two floors below are what any signed-in request and any write cost in Django before a
# line of Spar's own runs, so that a write's cost can be read against them as well as against
# the bare view.


@login_required
@require_GET
def signed_in(request: AuthedRequest) -> HttpResponse:
    """The bare view behind the login: the session's and the user's reads, nothing else."""
    return HttpResponse(status=204)


@login_required
@require_POST
def one_update(request: AuthedRequest) -> HttpResponse:
    """The least a signed-in write can do: one UPDATE of one row in a transaction of its own,
    through the CSRF check. It stamps the user's own row, which nothing in the room reads, so
    it moves no session's version and wakes no stream."""
    with transaction.atomic():
        User.objects.filter(pk=request.user.pk).update(last_login=timezone.now())
    return HttpResponse(status=204)


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/signed-in/", signed_in),
    path("bench/one-update/", one_update),
    path("", include("config.urls")),
]
