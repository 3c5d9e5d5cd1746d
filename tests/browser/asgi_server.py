"""A live server that serves the room as production does: uvicorn running config.asgi's router
(streams natively, pages through Django's WSGI handler), in a thread of the test process.

pytest-django's `live_server` is a threaded WSGI server, which cannot hold the room's streams
open; tests of the push path override `live_server` with `asgi_live_server` below.
"""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.handlers.wsgi import WSGIHandler
from django.test.utils import modify_settings

from config.asgi import Pages, Spar
from interviews.stream import Receive, Scope, Send


class _InFlight:
    """Counts the HTTP requests the server is still handling, streams included."""

    def __init__(self, application: Spar) -> None:
        self.application = application
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.application(scope, receive, send)
            return
        self.count += 1
        try:
            await self.application(scope, receive, send)
        finally:
            self.count -= 1


class AsgiLiveServer:
    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # As pytest-django's live server: the host is allowed only while a test uses it.
        self._live_server_modified_settings = modify_settings(ALLOWED_HOSTS={"append": "127.0.0.1"})
        # Static files from the finders, as the WSGI live server serves them (no collectstatic).
        self.in_flight = _InFlight(Spar(Pages(StaticFilesHandler(WSGIHandler()), threads=4)))
        config = uvicorn.Config(
            self.in_flight,
            host="127.0.0.1",
            port=self.port,
            loop="asyncio",
            http="h11",
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="asgi-live-server")

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the ASGI live server did not start")
            time.sleep(0.05)

    def wait_until_idle(self, timeout: float = 10) -> None:
        """Wait for the requests still running after a test's browsers closed: a closing stream
        records its owner's absence, and that write must not meet the flush of the test database
        (on PostgreSQL the two deadlock)."""
        deadline = time.monotonic() + timeout
        while self.in_flight.count:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.in_flight.count} requests still running after {timeout} s"
                )
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)

    def __str__(self) -> str:
        return self.url


@pytest.fixture(scope="module")
def asgi_live_server() -> Iterator[AsgiLiveServer]:
    server = AsgiLiveServer()
    server.start()
    yield server
    server.stop()
