"""Requests that Django cannot decode get a 400, never a 500.

A form body declared in a charset other than UTF-8 made Django's own 400 handler fail (it checks
the CSRF token, which reads the body again), and a Content-Type parameter naming an unknown codec
(RFC 2231, `charset*=BOGUS''x`) failed before any middleware ran.
"""

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.signals import request_started
from django.db import close_old_connections
from django.test import Client

from config.asgi import application as asgi_application
from config.wsgi import application as wsgi_application
from tests.factories import PASSWORD

FORM = "application/x-www-form-urlencoded"
# A well-formed CSRF cookie: with it, the CSRF check goes on to read the token from the body.
CSRF_COOKIE = "x" * 32
PATHS = ["/healthz", "/accounts/login/", "/admin/login/", "/no-such-page/"]
REFUSED_CHARSETS = ["ascii", "utf-16", "latin-1", "cp1252", "utf8"]
MALFORMED_CONTENT_TYPES = [
    "text/plain; charset*=BOGUS''x",
    f"{FORM}; charset*=no-such-codec''utf-8",
    "multipart/form-data; boundary*=BOGUS''x",
]


@pytest.mark.django_db
@pytest.mark.parametrize("with_cookie", [False, True])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("charset", REFUSED_CHARSETS)
def test_form_in_a_refused_charset_is_a_bad_request(charset, path, with_cookie):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    if with_cookie:
        client.cookies["csrftoken"] = CSRF_COOKIE
    response = client.generic(
        "POST",
        path,
        f"csrfmiddlewaretoken={CSRF_COOKIE}&username=member&password=x".encode(),
        content_type=f"{FORM}; charset={charset}",
    )
    assert response.status_code == 400
    assert "<h1>Bad request</h1>" in response.content.decode()
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_form_in_a_refused_charset_is_a_bad_request_with_debug_on(settings):
    # The debug error page reads the body too.
    settings.DEBUG = True
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.cookies["csrftoken"] = CSRF_COOKIE
    response = client.generic(
        "POST", "/accounts/login/", b"a=1", content_type=f"{FORM}; charset=latin-1"
    )
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("charset", ["utf-8", "UTF-8"])
def test_form_declared_as_utf8_still_signs_in(user, charset):
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF_COOKIE
    response = client.generic(
        "POST",
        "/accounts/login/",
        f"csrfmiddlewaretoken={CSRF_COOKIE}&username=member&password={PASSWORD}".encode(),
        content_type=f"{FORM}; charset={charset}",
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def _wsgi(method: str, content_type: str) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/no-such-page/",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": "3",
        "wsgi.input": io.BytesIO(b"a=1"),
    }
    setup_testing_defaults(environ)
    started = []
    # As Django's test client does: the test database connection is not the request's to close.
    request_started.disconnect(close_old_connections)
    try:
        body = b"".join(wsgi_application(environ, lambda status, headers: started.append(status)))
    finally:
        request_started.connect(close_old_connections)
    return started[0], body


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("content_type", MALFORMED_CONTENT_TYPES)
def test_wsgi_answers_400_to_a_content_type_django_cannot_parse(method, content_type):
    status, body = _wsgi(method, content_type)
    assert status == "400 Bad Request"
    assert body == b"Bad request: the Content-Type header cannot be parsed.\n"


def test_wsgi_passes_ordinary_requests_to_django():
    status, body = _wsgi("GET", "text/plain; charset=utf-8")
    assert status == "404 Not Found"
    assert b"<h1>Not found</h1>" in body


def _asgi(content_type: str) -> list[dict]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/no-such-page/",
        "raw_path": b"/no-such-page/",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", content_type.encode("latin-1"))],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict:
        if messages:
            return messages.pop()
        # Django listens for a disconnect while the view runs: the client stays connected.
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        sent.append(message)

    # In a loop of its own thread: this worker's thread may already run Playwright's loop, if a
    # browser test ran in it first.
    with ThreadPoolExecutor(1) as loop_thread:
        loop_thread.submit(asyncio.run, asgi_application(scope, receive, send)).result()
    return sent


@pytest.mark.parametrize("content_type", MALFORMED_CONTENT_TYPES)
def test_asgi_answers_400_to_a_content_type_django_cannot_parse(content_type):
    start, body = _asgi(content_type)
    assert start["status"] == 400
    assert body["body"] == b"Bad request: the Content-Type header cannot be parsed.\n"


# A request through Django may tidy a pool thread's database connection left by earlier tests
# (request_started closes stale connections), so this one needs database access too.
@pytest.mark.django_db
def test_asgi_passes_ordinary_requests_to_django():
    start, *_ = _asgi("text/plain; charset=utf-8")
    assert start["status"] == 404
