"""Turn requests that Django cannot decode into a 400 instead of a 500.

Two places fail in Django 6.0, and each needs its own depth:

- A Content-Type parameter in RFC 2231 form that names an unknown codec (`charset*=BOGUS''x`)
  makes Django raise while it builds the request object, before any middleware runs. Only a
  wrapper around the WSGI or ASGI application sees the request early enough.
- A form body declared in a charset other than UTF-8 makes `request.POST` raise BadRequest, but
  leaves it unparsed, so every later read raises again. Django's own 400 handler checks the CSRF
  token, which reads `request.POST`, so the client got a 500. A middleware reads the form first.
"""

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import parse_header_parameters

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MALFORMED_BODY = b"Bad request: the Content-Type header cannot be parsed.\n"
MALFORMED_HEADERS = [
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", str(len(MALFORMED_BODY))),
    ("X-Content-Type-Options", "nosniff"),
]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict]], Callable], Awaitable[None]]


def _content_type_parses(value: str) -> bool:
    # The same call, with the same length limit, that Django makes when it builds the request.
    try:
        parse_header_parameters(value)
    except ValueError:
        return False
    return True


def reject_malformed_content_type_wsgi(application: WSGIApp) -> WSGIApp:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not _content_type_parses(environ.get("CONTENT_TYPE", "")):
            start_response("400 Bad Request", MALFORMED_HEADERS)
            return [MALFORMED_BODY]
        return application(environ, start_response)

    return wrapped


def reject_malformed_content_type_asgi(application: ASGIApp) -> ASGIApp:
    async def wrapped(
        scope: dict[str, Any], receive: Callable[[], Awaitable[dict]], send: Callable
    ) -> None:
        if scope["type"] == "http":
            # Django joins repeated headers with commas, as here, before parsing them.
            content_type = ",".join(
                value.decode("latin-1")
                for name, value in scope.get("headers", [])
                if name.lower() == b"content-type"
            )
            if not _content_type_parses(content_type):
                headers = [
                    (name.lower().encode(), value.encode()) for name, value in MALFORMED_HEADERS
                ]
                await send({"type": "http.response.start", "status": 400, "headers": headers})
                await send({"type": "http.response.body", "body": MALFORMED_BODY})
                return
        await application(scope, receive, send)

    return wrapped


class UndecodableFormMiddleware:
    """Answer 400 to a form whose declared charset Django refuses, with the usual 400 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.content_type == FORM_CONTENT_TYPE:
            try:
                request.POST  # noqa: B018 -- reading it is the check
            except BadRequest:
                # Answer here rather than re-raise: Django's 400 handling reads the body again
                # (its CSRF check, and with DEBUG its error page), which raises again.
                return render(request, "400.html", status=400)
        return self.get_response(request)
