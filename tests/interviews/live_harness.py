"""Drive the ASGI application in-process: open a room stream as a browser would, read its events.

The stream's hub works in threads with their own database connections, so tests that use it
need committed data (`transactional_db`) and must end their event loop with `stream.shutdown()`:
`run(scenario)` does both ends of that.
"""

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client

from config.asgi import application
from interviews import stream

EVENT_TIMEOUT = 5  # seconds; a change takes well under a second to arrive


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run the scenario in an event loop of its own thread: the test's thread may already run
    one (Playwright's, once the browser tests have started)."""

    async def main() -> None:
        try:
            await scenario()
        finally:
            await stream.shutdown()

    with ThreadPoolExecutor(1) as loop_thread:
        loop_thread.submit(asyncio.run, main()).result()


async def in_thread[T](function: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Call the ORM (a service, a query) outside the event loop, as a request would."""

    def call() -> T:
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return await asyncio.to_thread(call)


def cookie_of(user: User | None) -> str:
    if user is None:
        return ""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def fetch(path: str, cookie: str = "") -> tuple[int, str]:
    """A plain GET through the ASGI application, as the browser makes it."""
    client = StreamClient(path, cookie)
    status = await client.open()
    await asyncio.wait_for(client._task, EVENT_TIMEOUT)
    return status, client.body.decode()


@dataclass
class Event:
    name: str
    id: int | None
    data: str


@dataclass
class StreamClient:
    """One browser's GET of /sessions/<id>/stream/, kept open until close()."""

    path: str
    cookie: str = ""
    query: str = ""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    method: str = "GET"
    host: bytes = b"testserver"
    status: int | None = None
    response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    ended: bool = False

    async def open(self) -> int:
        self._leave = asyncio.Event()
        self._chunk = asyncio.Event()
        self._started = asyncio.get_running_loop().create_future()
        self._requested = False
        headers = [(b"host", self.host), *self.headers]
        if self.cookie:
            headers.append((b"cookie", self.cookie.encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": self.method,
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": self.query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        self._task = asyncio.get_running_loop().create_task(
            application(scope, self._receive, self._send)
        )
        self.status = await asyncio.wait_for(self._started, EVENT_TIMEOUT)
        return self.status

    async def _receive(self) -> dict[str, object]:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._leave.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            self.response_headers = list(message.get("headers", []))
            self._started.set_result(message["status"])
        else:
            self.body += message.get("body", b"")
            self.ended = not message.get("more_body", False)
            self._chunk.set()

    def _take_event(self) -> Event | None:
        text, sep, rest = self.body.partition(b"\n\n")
        while sep and not text.startswith(b"event:"):  # the `retry:` line
            self.body = rest
            text, sep, rest = self.body.partition(b"\n\n")
        if not sep:
            return None
        self.body = rest
        name, event_id, data = "", None, []
        for line in text.decode().split("\n"):
            key, _, value = line.partition(": ")
            if key == "event":
                name = value
            elif key == "id":
                event_id = int(value)
            elif key == "data":
                data.append(value)
        return Event(name, event_id, "\n".join(data))

    async def next_event(self, timeout: float = EVENT_TIMEOUT) -> Event:
        async with asyncio.timeout(timeout):
            while (found := self._take_event()) is None:
                if self.ended:
                    raise EOFError("the stream ended")
                self._chunk.clear()
                await self._chunk.wait()
        return found

    async def next_update(self, timeout: float = EVENT_TIMEOUT) -> Event:
        """The next event that is not a heartbeat."""
        while (found := await self.next_event(timeout)).name == "heartbeat":
            pass
        return found

    async def close(self) -> None:
        self._leave.set()
        await asyncio.wait_for(self._task, EVENT_TIMEOUT)
