"""The ASGI entry point: `uvicorn config.asgi:application` (see README, Running in production).

Two kinds of request, two paths:
- the room's push streams (/sessions/<id>/stream/) go to interviews.stream, natively async: one
  process holds thousands of them open without a thread or a database connection each;
- every other request goes to Django's WSGI handler in a small thread pool, as gunicorn's
  threaded workers would run it. Django's ASGI handler would run each synchronous middleware
  hook in a thread of its own: measured here, 2.3 ms of CPU for a bare view against 0.14 ms
  through the WSGI handler. Spar's views are synchronous, so nothing is lost.
"""

import asyncio
import io
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.wsgi import WsgiToAsgiInstance
from django.conf import settings
from django.core.wsgi import get_wsgi_application

from core.middleware import reject_malformed_content_type_asgi

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
wsgi_application = get_wsgi_application()

from interviews import live, stream  # noqa: E402 -- needs the apps loaded by the line above

Scope = dict[str, Any]


class Pages:
    """A WSGI application (Django's) behind the ASGI server, one request per pool thread."""

    def __init__(self, wsgi: Any, threads: int) -> None:
        self.wsgi = wsgi
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="spar-page")

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        body = io.BytesIO()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.write(message.get("body", b""))
            # Held in memory whole, so bounded here; Django's own limit applies to forms anyway.
            if body.tell() > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                await _too_large(send)
                return
            if not message.get("more_body"):
                break
        body.seek(0)
        # asgiref's adapter knows how an ASGI scope becomes a WSGI environ.
        adapter = WsgiToAsgiInstance(self.wsgi)
        adapter.scope = scope
        environ = adapter.build_environ(scope, body)
        environ[live.STREAMS_SERVED] = True
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(
            self.pool, _respond, self.wsgi, environ
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


async def _too_large(send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": b"The request is too large."})


def _respond(wsgi: Any, environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run one request to the end in this thread; Spar's responses (pages, fragments, small
    static files) are held whole, so the event loop is visited once per request."""
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started["status"] = int(status.split(" ", 1)[0])
        started["headers"] = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers
        ]

    result = wsgi(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        result.close()  # Django's request_finished: database connections are tidied here
    return started["status"], started["headers"], content


class Spar:
    """Streams to interviews.stream, everything else to the pages."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            match = live.STREAM_PATH.fullmatch(scope["path"])
            if match:
                await stream.serve(scope, receive, send, int(match["session_id"]))
            else:
                await self.pages(scope, receive, send)
        elif scope["type"] == "lifespan":
            # The stream hub starts with the first stream; at shutdown it closes its connections.
            await receive()  # lifespan.startup
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            await stream.shutdown()
            await send({"type": "lifespan.shutdown.complete"})


# A Content-Type whose parameters name an unknown codec makes Django raise while it builds the
# request, before any middleware runs: refused here with a 400, for streams and pages alike.
application = reject_malformed_content_type_asgi(
    Spar(Pages(wsgi_application, settings.WEB_THREADS))
)
