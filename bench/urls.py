from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def bare(request: HttpRequest) -> HttpResponse:
    """No database, no template: the floor set by Django and the middleware stack."""
    return HttpResponse(status=204)


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("config.urls")),
]
