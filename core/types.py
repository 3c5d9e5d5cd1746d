"""A request type for views: what our middleware and auth add to Django's HttpRequest."""

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


class AuthedRequest(HtmxRequest):
    """A request behind @login_required: `user` is a real account."""

    user: User


class AnyRequest(HtmxRequest):
    user: User | AnonymousUser
