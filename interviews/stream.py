"""The room's push stream: server-sent events, one stream per viewer, served straight by ASGI.

    GET /sessions/<id>/stream/?v=<version the page shows>&page=<the page's id>
        (the version comes as Last-Event-ID on the browser's own reconnects)

Each process has one Hub. It learns that a session changed from the database, never from its
own memory, so any number of processes can serve one database: on PostgreSQL from one LISTEN
connection (every write NOTIFYs in its transaction, see interviews.services.bump), on SQLite from
one watcher that asks the database a few times a second whether anything was committed and, if
so, reads the versions of the sessions it has viewers for. Then it renders the changed parts once
per role, in a worker thread, and hands the same text to every stream of that role. A role whose
only stream belongs to the page that made the change (a mark, a step change, a notes save) is not
rendered for: that page has the change from its own write's answer (interviews.live.has_own_change).

The endpoint is lean on purpose: it authenticates once from the session cookie, in one short
trip to a worker thread, and then holds no thread and no database connection while it waits.
Django's request path would keep a thread (for its synchronous middleware) per open stream.
Events carry `id: <version>`, so a reconnecting browser says what it has (Last-Event-ID) and gets
exactly what it missed, across a reconnect or a restart of the server. So a stream that cannot be
kept right (its update failed to render, its browser is too far behind, the database went away)
is ended rather than left with heartbeats alone: the page reconnects and catches up. Without a
database a stream is refused (503) and the page polls meanwhile, saying "live updates delayed".
"""

import asyncio
import contextlib
import functools
import itertools
import logging
import random
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, connections
from django.http import Http404
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host

from interviews import live
from interviews.permissions import Role
from interviews.services import NOTIFY_CHANNEL

logger = logging.getLogger("spar.stream")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

# Browsers reconnect after `retry` ms; the spread keeps a restarted server from being hit by every
# browser in the same instant.
RETRY_MS = (1_000, 3_000)
# What EventSource takes for the end of a line (str.splitlines would also split at U+2028 and co).
LINE_BREAK = re.compile(r"\r\n|\r|\n")
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache, no-store"),
    (b"x-accel-buffering", b"no"),  # nginx: pass events on as they come
    (b"x-content-type-options", b"nosniff"),
]


def event(name: str, data: str = "", event_id: int | None = None) -> bytes:
    """One server-sent event; multi-line data goes on as many `data:` lines."""
    lines = [f"event: {name}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.extend(f"data: {line}" for line in LINE_BREAK.split(data))
    return ("\n".join(lines) + "\n\n").encode()


def update_event(update: live.Update, role: Role) -> bytes:
    if update.finished_url:
        return event("finished", update.finished_url, update.version)
    return event("update", update.html[role], update.version)


HEARTBEAT = event("heartbeat")
# How often an open stream renews its owner's presence (see services.STREAM_PRESENCE_HOLD).
RENEW_PRESENCE_SECONDS = 240


# A browser that reads this far behind (a stalled connection) is better served by reconnecting:
# its Last-Event-ID then brings it one catch-up instead of every update in between.
MAX_QUEUED = 50


@dataclass(eq=False)
class Stream:
    """One open stream: its viewer's role and the version its page has been sent up to."""

    role: Role
    version: int
    page: str = ""  # the id of the page it serves (interviews.live.PAGE_HEADER)
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    ended: bool = False
    user_id: int | None = None
    # Its owner's presence is held by no stream any more (another of their pages closed): renew
    # it after the next event instead of at the next renewal.
    renew_soon: bool = False

    def viewer(self) -> live.Viewer:
        return live.Viewer(self.role, self.page, self.version)

    def send(self, message: bytes | None) -> None:
        """Queue an event (None: the browser has gone). Past MAX_QUEUED the stream ends
        instead: what is queued is dropped (the reconnect's Last-Event-ID brings it back), and
        nothing more is kept while the server's last write waits for a browser that reads
        nothing."""
        if self.ended:
            return
        if message is not None and self.queue.qsize() >= MAX_QUEUED:
            self.end()
            return
        self.queue.put_nowait(message)

    def end(self) -> None:
        """Close the stream; the browser reconnects and its Last-Event-ID brings what it lacks."""
        if not self.ended:
            self.ended = True
            self.queue.put_nowait(b"")


class ListenerDeaf(Exception):
    """The LISTEN connection did not hear its own check."""


@dataclass(eq=False)
class Watch:
    """A session with viewers in this process, and the version they have all been sent."""

    version: int
    streams: set[Stream] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    busy: bool = False
    dirty: bool = False


class Hub:
    """This process's open streams, by session, and the one task that hears of changes."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.watches: dict[int, Watch] = {}
        # Database work runs here, off the event loop: few threads, so few connections.
        self.pool = ThreadPoolExecutor(settings.LIVE_THREADS, thread_name_prefix="spar-live")
        # One thread keeps one connection: SQLite's data_version is per connection.
        self.watcher = ThreadPoolExecutor(1, thread_name_prefix="spar-watch")
        self.listener: asyncio.Task[None] | None = None
        # Whether changes are heard: the watcher runs, or the LISTEN connection is up, has
        # caught up on the sessions watched before it was, and hears its own checks. While it
        # is not, the sessions' versions are read instead (_sweep_while_deaf).
        self.listening = False
        # Whether the current LISTEN connection has heard a check (reset when it is lost).
        self.heard_check = False
        self.listen_connection: Any = None  # the LISTEN connection, for the tests
        self.renders = 0  # shared renders made, for the tests
        self.reads = 0  # reads of a changed session, for the tests

    async def run[T](self, function: Callable[..., T], *args: object) -> T:
        return await self.loop.run_in_executor(self.pool, functools.partial(_db, function, *args))

    async def join(self, session_id: int, stream: Stream) -> None:
        if self.listener is None:
            self.listener = self.loop.create_task(self._listen())
        while True:
            new = session_id not in self.watches
            watch = self.watches.setdefault(session_id, Watch(stream.version))
            async with watch.lock:
                if self.watches.get(session_id) is not watch:
                    continue  # its last stream left while this one waited: start afresh
                if watch.version > stream.version:
                    # Others were sent a change between this stream's opening read and now.
                    update = await self.run(
                        live.render_changes, session_id, stream.version, [stream.viewer()]
                    )
                    if update is not None:
                        if update.needed_by(stream.role, stream.page, stream.version):
                            stream.send(update_event(update, stream.role))
                        stream.version = update.version  # sent, or had from its page's write
                    if self.watches.get(session_id) is not watch:
                        continue  # the last stream left during the render: join afresh
                watch.streams.add(stream)
            break
        if new:
            # A change announced before this session was watched here went unheard: look once.
            self.changed(session_id)

    def leave(self, session_id: int, stream: Stream) -> None:
        watch = self.watches.get(session_id)
        if watch is None:
            return
        watch.streams.discard(stream)
        if not watch.streams and not watch.busy:
            del self.watches[session_id]

    def heard(self, session_id: int, version: int, echo_page: str) -> None:
        """The database says a session is at `version`, and which page made that change (see
        interviews.live.has_own_change)."""
        watch = self.watches.get(session_id)
        if watch is None or version <= watch.version:
            return
        idle = not watch.busy and not watch.lock.locked()
        if idle and all(
            live.has_own_change(echo_page, version, s.page, s.version) for s in watch.streams
        ):
            # Every stream here belongs to the page that made the change, and has it from its
            # write's answer: nothing to read or render. (A writer's own process hears of each
            # of its writes, so this spares one read of the session per write.)
            for s in watch.streams:
                s.version = version
            watch.version = version
            return
        self.changed(session_id)

    def changed(self, session_id: int) -> None:
        """Render and send a session's changes; changes that come in meanwhile are coalesced."""
        watch = self.watches.get(session_id)
        if watch is None:
            return
        if watch.busy:
            watch.dirty = True
            return
        watch.busy = True
        self.loop.create_task(self._fan_out(session_id, watch))

    async def _fan_out(self, session_id: int, watch: Watch) -> None:
        try:
            while True:
                watch.dirty = False
                async with watch.lock:
                    if watch.streams:
                        await self._send_changes(session_id, watch)
                if not watch.dirty:
                    break
        except Exception:
            # Heartbeats alone would keep these pages looking live while they miss the change:
            # end their streams, and each reconnect renders what its page lacks afresh.
            logger.exception("live update of session %s failed", session_id)
            for stream in watch.streams:
                stream.end()
        finally:
            watch.busy = False
            if not watch.streams and self.watches.get(session_id) is watch:
                del self.watches[session_id]

    async def _send_changes(self, session_id: int, watch: Watch) -> None:
        viewers = [stream.viewer() for stream in watch.streams]
        self.reads += 1
        update = await self.run(live.render_changes, session_id, watch.version, viewers)
        if update is None:
            return
        self.renders += len(update.html)
        messages: dict[Role, bytes] = {}
        for stream in watch.streams:
            if stream.version >= update.version:
                continue
            if update.needed_by(stream.role, stream.page, stream.version):
                if stream.role not in messages:
                    messages[stream.role] = update_event(update, stream.role)
                stream.renew_soon = stream.renew_soon or stream.user_id in update.unheld
                stream.send(messages[stream.role])
            # A stream that needs nothing has this version from its page's own write.
            stream.version = update.version
        watch.version = update.version

    async def _listen(self) -> None:
        if connection.vendor == "postgresql":
            await asyncio.gather(self._listen_postgres(), self._sweep_while_deaf())
        else:
            await self._watch_sqlite()

    async def _read_versions(self, *, tidy: bool = False) -> None:
        """Read the versions of the sessions watched here, and send what changed. `tidy`: drop
        a broken or old connection first, as a request does (SQLite's watcher keeps its own:
        data_version counts the commits since that connection opened)."""
        read = functools.partial(live.versions, list(self.watches))
        if tidy:
            read = functools.partial(_db, read)
        current = await self.loop.run_in_executor(self.watcher, read)
        for session_id, (version, echo_page) in current.items():
            self.heard(session_id, version, echo_page)

    async def _watch_sqlite(self) -> None:
        """Ask the database a few times a second whether anything was committed; when something
        was, read the versions of the watched sessions and send what changed."""
        watcher = self.watcher
        interval = settings.LIVE_WATCH_INTERVAL_MS / 1000
        seen = None
        self.listening = True
        while True:
            await asyncio.sleep(interval)
            if not self.watches:
                continue
            try:
                now = await self.loop.run_in_executor(watcher, live.data_version)
                if now == seen:
                    continue
                seen = now
                await self._read_versions()
            except Exception:
                logger.exception("the live watcher could not read the database")
                seen = None

    async def _listen_postgres(self) -> None:
        """One LISTEN connection per process; after losing it, catch up on every session."""
        import psycopg

        # Django's connection parameters (sslmode and all), less its synchronous cursor setup.
        params = connection.get_connection_params()
        for synchronous_only in ("cursor_factory", "context", "prepare_threshold"):
            params.pop(synchronous_only, None)
        check_seconds = settings.LIVE_LISTEN_CHECK_MS / 1000
        delay = 0.5
        while True:
            try:
                connecting = psycopg.AsyncConnection.connect(**params, autocommit=True)
                async with await asyncio.wait_for(connecting, check_seconds) as listener:
                    self.listen_connection = listener
                    await listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    await self._hear(listener, check_seconds)
            except Exception as exc:
                self.listening = False
                if self.heard_check:
                    delay = 0.5  # it had worked: try again soon
                self.heard_check = False
                # Any failure, not only the connection's: without this task no stream here
                # would hear of another change. The known ones need no traceback.
                known = isinstance(exc, psycopg.Error | OSError | ListenerDeaf | TimeoutError)
                logger.warning(
                    "live updates: stopped listening (%s), listening again in %.1f s",
                    exc.__class__.__name__,
                    delay,
                    exc_info=not known,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def _hear(self, listener: Any, check_seconds: float) -> None:
        """Pass on the notices until the connection fails or stops hearing. A connection that a
        firewall or NAT dropped without a word raises nothing, and a pooler in transaction mode
        takes the LISTEN but passes no notice on: so every few seconds the listener sends a
        check of its own, on a channel only it listens to, and gives up (to reconnect) when it
        has not heard it within that time. Until the first check is heard, changes are not
        taken as heard (the versions are read instead, see _sweep_while_deaf)."""
        mine = f"{NOTIFY_CHANNEL}_check_{secrets.token_hex(6)}"
        await listener.execute(f"LISTEN {mine}")
        for count in itertools.count():
            check = str(count)
            # Not heard in time: the streams here are fed by reading the versions from that
            # moment, not only once the failure surfaces (a hung connection can take longer).
            deaf = self.loop.call_later(check_seconds, self._deaf)
            try:
                await asyncio.wait_for(
                    listener.execute("SELECT pg_notify(%s, %s)", (mine, check)), check_seconds
                )
                heard = False
                async for notice in listener.notifies(timeout=check_seconds):
                    if notice.channel != mine:
                        self._notified(notice.payload)
                    elif notice.payload == check:
                        heard = True
                        deaf.cancel()
                        self._heard_check()
                if not heard:
                    raise ListenerDeaf(f"no check heard within {check_seconds:.1f} s")
            finally:
                deaf.cancel()

    def _heard_check(self) -> None:
        if not self.listening:
            # Whatever changed while nothing was heard here: look at every session once.
            for session_id in list(self.watches):
                self.changed(session_id)
        self.listening = self.heard_check = True

    def _deaf(self) -> None:
        self.listening = False

    async def _sweep_while_deaf(self) -> None:
        """While the LISTEN connection is down, or up but deaf, read the watched sessions'
        versions a few times a second (as SQLite's watcher does), so that no stream here goes
        stale behind its heartbeats. Reads that fail (the database is down) are tried again
        less and less often, and only the first of a run is logged."""
        interval = settings.LIVE_WATCH_INTERVAL_MS / 1000
        wait = interval
        while True:
            await asyncio.sleep(wait)
            if self.listening or not self.watches:
                wait = interval
                continue
            try:
                await self._read_versions(tidy=True)
                wait = interval
            except Exception:
                if wait == interval:
                    logger.exception("live updates: could not read the sessions' versions")
                wait = min(wait * 2, 10)

    def _notified(self, payload: str) -> None:
        """A NOTIFY of the trigger (migration interviews/0011): "<session> <version> <page>"."""
        fields = [*payload.split(" ", 2), "", ""]
        session_id, version = live.version_number(fields[0]), live.version_number(fields[1])
        if session_id is None or version is None:
            logger.warning("live updates: ignored a notice that is not ours: %.80r", payload)
            return
        self.heard(session_id, version, fields[2])

    async def close(self) -> None:
        """Stop listening and close the worker threads' database connections."""
        if self.listener is not None:
            self.listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.listener
        # Each pool thread takes one of these tasks (the barrier holds them all until every
        # thread has one), so every thread's connections are closed where they were opened.
        barrier = threading.Barrier(settings.LIVE_THREADS)

        def close_here() -> None:
            barrier.wait(timeout=10)
            connections.close_all()

        closing = [self.loop.run_in_executor(self.pool, close_here) for _ in range(barrier.parties)]
        closing.append(self.loop.run_in_executor(self.watcher, connections.close_all))
        await asyncio.gather(*closing)
        self.pool.shutdown()
        self.watcher.shutdown()


def _db[T](function: Callable[..., T], *args: object) -> T:
    # As Django does around each request: drop connections that are too old or broken.
    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()


_hub: Hub | None = None


async def shutdown() -> None:
    """Close this process's hub, if it has one (at the server's shutdown, and after tests)."""
    global _hub
    if _hub is not None and _hub.loop is asyncio.get_running_loop():
        await _hub.close()
    _hub = None


def hub() -> Hub:
    """This process's hub (one per event loop, so a test's fresh loop gets a fresh one)."""
    global _hub
    if _hub is None or _hub.loop is not asyncio.get_running_loop():
        _hub = Hub()
    return _hub


async def _plain(
    send: Send, status: int, text: str, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


def _since(headers: dict[bytes, bytes], query: bytes) -> int | None:
    """The version the browser has: Last-Event-ID on its own reconnects, else the page's ?v=."""
    since = live.version_number(headers.get(b"last-event-id", b"").decode("latin-1"))
    if since is None:
        since = live.version_number((parse_qs(query.decode("latin-1")).get("v") or [""])[0])
    return since


def _page(query: bytes) -> str:
    return live.page_id((parse_qs(query.decode("latin-1")).get("page") or [""])[0])


async def serve(scope: Scope, receive: Receive, send: Send, session_id: int) -> None:
    """The stream of one viewer of one session, until they leave."""
    # Not even HEAD: its answer would be a stream that never ends, holding a place in the hub
    # and the viewer's presence for a client that reads nothing.
    if scope["method"] != "GET":
        await _plain(send, 405, "Only GET.", ((b"allow", b"GET"),))
        return
    headers = dict(scope["headers"])
    host, _ = split_domain_port(headers.get(b"host", b"").decode("latin-1"))
    if not validate_host(host, settings.ALLOWED_HOSTS):
        await _plain(send, 400, "Bad host.")
        return
    cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin-1"))
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    login = cookies.get(settings.SESSION_COOKIE_NAME)
    the_hub = hub()
    try:
        opened = await the_hub.run(
            live.open_stream,
            session_store(login),
            session_id,
            _since(headers, scope["query_string"]),
        )
    except Http404:
        await _plain(send, 404, "No such session.")
        return
    except DatabaseError:
        # The page keeps trying, and polls meanwhile, saying "live updates delayed".
        logger.warning("live updates: no database to open a stream of session %s", session_id)
        await _plain(send, 503, "Live updates are unavailable for a moment.")
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    retry = f"retry: {random.randint(*RETRY_MS)}\n\n".encode()  # noqa: S311 -- jitter only
    # A heartbeat straight away: the page learns that events get through (no buffering proxy).
    first = retry + HEARTBEAT
    if opened.catch_up is not None:
        first += update_event(opened.catch_up, opened.role)
        if opened.catch_up.finished_url:
            await send({"type": "http.response.body", "body": first})
            return
    await send({"type": "http.response.body", "body": first, "more_body": True})
    stream = Stream(
        opened.role, opened.version, _page(scope["query_string"]), user_id=opened.user_id
    )
    gone = asyncio.get_running_loop().create_task(_wait_for_disconnect(receive, stream))

    async def presence(connected: bool) -> None:
        await the_hub.run(
            functools.partial(live.note_stream_presence, connected=connected),
            session_id,
            opened.user_id,
        )

    # Whether the viewer has left (their page closed, or they may no longer see the room): only
    # then are they written absent. A stream this server ends, or a server shutting down, is
    # reconnected within seconds, and the presence it holds covers that.
    left = False

    async def renew() -> None:
        nonlocal left
        # Also the moment to ask again whether the viewer may see this: someone who has
        # logged out, been deactivated or lost staff rights is not streamed to for long.
        try:
            allowed = await the_hub.run(
                live.still_viewing, session_store(login), session_id, opened.role
            )
            if allowed:
                await presence(True)
                return
            left = True
        except DatabaseError:
            logger.warning("live updates: lost the database on a stream of session %s", session_id)
        stream.end()

    present = False
    try:
        await the_hub.join(session_id, stream)
        await presence(True)
        present = True
        if await _pump(stream, send, renew=renew):
            left = True
    except Exception as exc:
        # End the response, as for a failed update: the browser reconnects and catches up.
        if isinstance(exc, DatabaseError):
            logger.warning("live updates: lost the database on a stream of session %s", session_id)
        else:
            logger.exception("live updates: the stream of session %s failed", session_id)
        with contextlib.suppress(Exception):
            await send({"type": "http.response.body", "body": b""})
    finally:
        the_hub.leave(session_id, stream)
        gone.cancel()
        if present and left:
            with contextlib.suppress(Exception):  # a server shutting down may no longer write
                await presence(False)


async def _pump(
    stream: Stream, send: Send, renew: Callable[[], Coroutine[Any, Any, None]] | None = None
) -> bool:
    """Send the stream's events until it ends; True if the browser has gone."""
    heartbeat = settings.LIVE_HEARTBEAT_SECONDS
    loop = asyncio.get_running_loop()
    renew_at = loop.time() + _renewal_interval()
    renewing: asyncio.Task[None] | None = None
    try:
        while True:
            try:
                async with asyncio.timeout(heartbeat):
                    message = await stream.queue.get()
            except TimeoutError:
                message = HEARTBEAT
            if message is None:
                return True
            if stream.ended:
                await send({"type": "http.response.body", "body": b""})
                return False
            finished = message.startswith(b"event: finished")
            await send({"type": "http.response.body", "body": message, "more_body": not finished})
            if finished:
                return False
            # After any event, not only a heartbeat: a busy interview's streams may never wait
            # a whole heartbeat, and the presence they hold must not run out. In a task of its
            # own, so that the events meanwhile do not wait for its reads.
            due = loop.time() >= renew_at or stream.renew_soon
            if renew is not None and due and (renewing is None or renewing.done()):
                renew_at = loop.time() + _renewal_interval()
                stream.renew_soon = False
                renewing = loop.create_task(renew())
    finally:
        if renewing is not None:
            renewing.cancel()


def _renewal_interval() -> float:
    # Spread: streams opened together (every browser after a deploy) renew apart.
    return RENEW_PRESENCE_SECONDS * random.uniform(0.75, 1.0)  # noqa: S311 -- jitter only


async def _wait_for_disconnect(receive: Receive, stream: Stream) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        while (await receive())["type"] != "http.disconnect":
            pass
        stream.send(None)
