"""Load benchmark of the live room on its push stream, run by `make bench`.

    python bench/load.py [--duration 20] [--start 50] [--max 1600] [--mix full,light]

Starts uvicorn as the README deploys it (4 workers) with production settings (DEBUG=0) on a fresh
SQLite file, or on a throwaway PostgreSQL database when DATABASE_URL points at PostgreSQL, with
the bare view of bench/urls.py added. An asyncio load generator in this process (it reports its
own CPU) then holds N live sessions, each with two open streams (interviewer and candidate):

- full mix: the candidate saves notes every 10 s and the interviewer marks an item every 20 s;
- light mix: one change per session every 20 s (notes and marks in turn);

and a few clients fetch the bare view (Django with the same middleware, no database) once a
second. Write latency is measured from the moment each write was due, so a write that waited
for a connection counts the wait. Update latency is measured from the moment a write was sent to
the moment the other participant's stream delivered it: the notes' text on the interviewer's
stream, the mark's version on the candidate's. Both people's writes carry their page's id and
version as static/js/live.js and notes.js send them, so a stream skips the changes that its
page's own writes' answers brought.
N doubles from --start until a step fails (write p95 >= 100 ms, update p95 > 500 ms, or any
error: a failed write, a dropped stream, an update not delivered within 5 s) twice at the same
N (a single stall of a shared machine can fail one step), then is bisected to within 10 %, each
bisection step run once. Each step starts once the server's CPU has dropped below 0.2 cores, so
that what an overloaded step left queued is not counted against the next. Each step reports the
CPU (in cores) of the server, of PostgreSQL when it runs on this machine, of this generator, and
of everything else: other programs, whose load the machine's noise is.

Then, with no stream open: each endpoint saturated by 16 connections for server CPU per request
beside the bare view's and two floors' (a signed-in view that does nothing, and a signed-in write
of one UPDATE), and PostgreSQL's CPU per request; memory per open stream and the CPU of idle
sessions.

Writes bench/results/<timestamp>.json; the last lines are `largest N: <n> …` (full mix),
`largest N light: <n>` and `update latency p95: <ms> ms` (full mix, at its largest N).

    python bench/load.py --at 500 --runs 2 [--duration 30] [--mix full]

runs that many steps of each mix at one N instead, with nothing else (no search, no idle or
saturated figures), and says how many held. A search's short steps can flip on a shared machine;
to compare two commits, run this in each checkout in turn, twice or more, and compare the runs.
"""

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import json
import math
import os
import platform
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIXES = {
    # name: (notes every s, marks every s, notes and marks take turns)
    "full": (10.0, 20.0),
    "light": (40.0, 40.0),
}
BARE_CLIENTS = 10
BARE_EVERY_S = 1.0
WARMUP_S = 3.0
WRITE_P95_MS = 100.0
UPDATE_P95_MS = 500.0
UPDATE_LOST_S = 5.0
# The server's and the database's CPU below which a step may start (open streams cost ~0.07).
QUIET_CORES = 0.2
QUIET_WAIT_S = 60.0
SATURATION_SECONDS = 6
# Besides the bare view, two floors of bench/urls.py: a signed-in request that does nothing, and
# the least signed-in write (one UPDATE), which no write of Spar's can cost less than.
SATURATED = ("bare", "signed-in", "one-update", "poll", "notes", "mark")
SATURATION_SEATS = 256
SATURATION_CONNECTIONS = 16
POOL_CONNECTIONS = 48  # keep-alive connections for writes, as a proxy's upstream pool
OPENING_AT_ONCE = 50
BUSY_MACHINE_CORES = 0.2
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
# Two processes per core, as the README deploys it: a process runs Python on one core at a time,
# and a thread back from the database waits for it behind the renders of the process's other
# threads, so with one process per core writes queue long before the cores are busy.
SERVER_WORKERS = 4

# As the README deploys it. Keep-alive past the writers' gaps, as a proxy's upstream pool would.
UVICORN = ["config.asgi:application", "--workers", str(SERVER_WORKERS)]
UVICORN += ["--timeout-keep-alive", "75", "--timeout-graceful-shutdown", "2"]
UVICORN += ["--no-access-log", "--log-level", "warning", "--backlog", "4096"]

SENTENCES = (
    "We optimise for revenue per impression, with a p99 latency budget of 50 ms.",
    "Labels are clicks within 30 minutes of the impression; late clicks are dropped.",
    "Split by time, train on 28 days and evaluate on the next day to avoid leakage.",
    "Features: user history, ad text embeddings, context such as device and hour.",
    "Candidate generation with a two-tower model, then a gradient boosted ranker.",
    "Calibrate the predicted CTR so that the auction's bids stay meaningful.",
    "Monitor feature drift and the calibration curve daily; retrain every night.",
    "Cold start: new ads borrow priors from their advertiser and category.",
)
MARKS = ("covered", "partial", "missed")
NOTES_LIMIT = 4_000  # characters; then the note-taker starts a fresh page
POLLER_VERSION = re.compile(rb'id="poller"[^>]* data-version="(\d+)"')
NOTES_VERSION = re.compile(rb'"(?:server_)?version": *(\d+)')  # saved, or the conflicting one
PAGE_VERSION = re.compile(rb'"page_version": *(\d+)')  # the page's version after its save


# --- measuring ---------------------------------------------------------------------------------


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else math.nan


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50_ms": round(_percentile(values, 50), 1),
        "p95_ms": round(_percentile(values, 95), 1),
        "max_ms": round(max(values), 1) if values else math.nan,
    }


def _process_tree(root: int) -> list[int]:
    """The server's processes: uvicorn's supervisor and its workers."""
    pids = [root]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            if int(stat.read_text().rpartition(")")[2].split()[1]) == root:
                pids.append(int(stat.parent.name))
    return pids


def _cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _database_cpu(proc: Path = Path("/proc")) -> float | None:
    """CPU seconds used by the PostgreSQL server on this machine when the benchmark runs on
    PostgreSQL: its live processes', and, through the postmaster's count of its reaped
    children, those of connections that closed meanwhile (so a difference of two readings holds
    them too). None on SQLite, whose work is done in the server's own processes."""
    if urlsplit(os.environ.get("DATABASE_URL", "")).scheme not in POSTGRES_SCHEMES:
        return None
    ticks = 0
    for name in proc.glob("[0-9]*/comm"):
        with contextlib.suppress(OSError, ValueError):
            if name.read_text().strip() != "postgres":
                continue
            fields = (name.parent / "stat").read_text().rpartition(")")[2].split()
            ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _memory_kib(pids: list[int]) -> int:
    """Proportional set size of the server's processes (shared pages counted once)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
    return total


def _machine_cpu() -> float:
    with contextlib.suppress(OSError):
        ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Meter:
    """CPU used during a stretch, in cores: by the server, by PostgreSQL when the benchmark
    runs on it, by this generator, and by the rest (other programs)."""

    server_pids: list[int]
    started: float = 0.0
    server: float = 0.0
    database: float | None = None
    own: float = 0.0
    machine: float = 0.0

    def start(self) -> None:
        self.started = time.monotonic()
        self.server, self.database = _cpu_seconds(self.server_pids), _database_cpu()
        self.own, self.machine = _own_cpu(), _machine_cpu()

    def stop(self) -> dict[str, float]:
        """The figures; `database_cores` only when PostgreSQL's CPU was read."""
        seconds = time.monotonic() - self.started
        server = _cpu_seconds(self.server_pids) - self.server
        database_now = _database_cpu()
        database = 0.0
        if database_now is not None and self.database is not None:
            database = database_now - self.database
        own = _own_cpu() - self.own
        others = max(0.0, _machine_cpu() - self.machine - server - own - database)
        figures = {
            "seconds": round(seconds, 2),
            "server_cpu_s": round(server, 3),
            "server_cores": round(server / seconds, 3),
            "generator_cores": round(own / seconds, 3),
            "others_cores": round(others / seconds, 3),
        }
        if database_now is not None:
            figures["database_cores"] = round(database / seconds, 3)
        return figures


# --- the server and its data -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _throwaway_postgres(url: str) -> Iterator[str]:
    """A new, empty database on the server of `url`, dropped afterwards."""
    import dj_database_url
    import psycopg

    params = dj_database_url.parse(url)
    name = f"spar_bench_{secrets.token_hex(4)}"
    admin = psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"],
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        autocommit=True,
    )
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        from django.db import connections

        connections.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, log: Path) -> "Server":
        port = _free_port()
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", *UVICORN, "--port", str(port)],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = cls(port, process, log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=1) as sock,
            ):
                sock.sendall(b"GET /bench/bare/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 204"):
                    time.sleep(1)  # one worker answered; give the other a moment too
                    return server
            time.sleep(0.2)
        server.stop()
        raise RuntimeError(f"uvicorn did not start:\n{log.read_text()[-3000:]}")

    def pids(self) -> list[int]:
        return _process_tree(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def _csrf_secret() -> str:
    # Django accepts its unmasked 32-character secret as the token, in cookie and header alike.
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


@dataclass
class Seat:
    """One live session, its two signed-in participants and what the load generator knows."""

    pk: int
    interviewer_cookie: str
    candidate_cookie: str
    interviewer_csrf: str
    candidate_csrf: str
    items: list[str]
    notes_base: int = 0
    notes_text: str = ""
    saves: int = 0
    marks: int = 0
    version: int = 0  # the session's version when the streams were opened
    # The interviewer's page as static/js/live.js keeps it: its id, sent on its stream and its
    # writes, and the version it shows (from its stream's updates and its marks' answers).
    page: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    page_version: int = 0
    # The candidate's page likewise, as static/js/notes.js sends it with the notes' saves (their
    # answers say when they bring the page to a new version).
    candidate_page: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    candidate_page_version: int = 0
    streams: list["Stream"] = field(default_factory=list)
    # Updates sent and not yet seen on the other participant's stream.
    pending_notes: dict[str, float] = field(default_factory=dict)  # token -> sent at
    pending_marks: list[tuple[int, float]] = field(default_factory=list)  # version, sent at
    candidate_seen: list[tuple[int, float]] = field(default_factory=list)  # version, arrived


class Fleet:
    """Live sessions, created on demand and reused from step to step."""

    def __init__(self) -> None:
        from django.contrib.auth.hashers import make_password

        from casebank.checklist import case_checklist
        from casebank.models import Case
        from rubrics import scoring
        from rubrics.services import latest_published_version

        self.seats: list[Seat] = []
        self.version = latest_published_version()
        self.cases = list(Case.objects.published().order_by("slug"))
        # The interviewer marks step 1's expected items, the step the sessions stay on.
        self.items = {
            case.pk: [
                item.key
                for item in case_checklist(self.version.pk, case.pk, step=1)
                if item.kind == scoring.Kind.EXPECTED
            ]
            for case in self.cases
        }
        # One hash for every bench user: full-strength hashing per user would dominate set-up.
        self.password = make_password(secrets.token_urlsafe(16))

    def grow(self, n: int) -> None:
        from importlib import import_module

        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.auth.models import User
        from django.db import connections

        from interviews import services
        from interviews.models import SessionMode

        store_class = import_module(settings.SESSION_ENGINE).SessionStore

        def sign_in(user: User) -> str:
            store = store_class()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.create()
            return store.session_key

        for index in range(len(self.seats), n):
            interviewer = User.objects.create(username=f"bench-i{index}", password=self.password)
            candidate = User.objects.create(username=f"bench-c{index}", password=self.password)
            case = self.cases[index % len(self.cases)]
            session = services.create_session(
                host=interviewer,
                case=case,
                rubric_version=self.version,
                length_minutes=45,
                mode=SessionMode.PEER,
            )
            services.join_session(token=session.invite_token, user=candidate)
            session = services.start_session(session=session)
            csrf_i, csrf_c = _csrf_secret(), _csrf_secret()
            self.seats.append(
                Seat(
                    pk=session.pk,
                    interviewer_cookie=f"sessionid={sign_in(interviewer)}; csrftoken={csrf_i}",
                    candidate_cookie=f"sessionid={sign_in(candidate)}; csrftoken={csrf_c}",
                    interviewer_csrf=csrf_i,
                    candidate_csrf=csrf_c,
                    items=self.items[case.pk],
                    version=session.version,
                )
            )
        connections.close_all()  # SQLite: hold no connection while the server writes

    def refresh(self, seats: list[Seat]) -> None:
        """Read the sessions' versions, for streams about to open."""
        from django.db import connections

        from interviews.models import Session

        versions = dict(
            Session.objects.filter(pk__in=[s.pk for s in seats]).values_list("pk", "version")
        )
        for seat in seats:
            seat.version = seat.page_version = seat.candidate_page_version = versions[seat.pk]
        connections.close_all()


# --- a small HTTP/1.1 client on asyncio --------------------------------------------------------


class Connection:
    """One keep-alive connection to the server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        if body:
            head += f"Content-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        try:
            status, response_headers = await _read_head(self.reader)
            content = await _read_body(self.reader, response_headers)
        except BaseException:
            self.close()
            raise
        if response_headers.get(b"connection") == b"close":
            self.close()
        return status, content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes]]:
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[bytes, bytes]) -> bytes:
    if b"content-length" in headers:
        return await reader.readexactly(int(headers[b"content-length"]))
    if headers.get(b"transfer-encoding") == b"chunked":
        chunks = []
        while chunk := await _read_chunk(reader):
            chunks.append(chunk)
        return b"".join(chunks)
    return b""


async def _read_chunk(reader: asyncio.StreamReader) -> bytes:
    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
    data = await reader.readexactly(size + 2)
    return data[:-2]


class Pool:
    """Keep-alive connections shared by the writers; a write waits for a free one."""

    def __init__(self, port: int, size: int) -> None:
        self.free: asyncio.Queue[Connection] = asyncio.Queue()
        for _ in range(size):
            self.free.put_nowait(Connection(port))

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        connection = await self.free.get()
        try:
            return await connection.request(method, path, headers, body)
        finally:
            self.free.put_nowait(connection)


@dataclass(eq=False)
class Stream:
    """One participant's open stream; it records what arrives for the latency counts."""

    seat: Seat
    interviewer: bool
    port: int
    task: asyncio.Task[None] | None = None
    opened: asyncio.Future[int] | None = None
    events: int = 0
    dropped: bool = False
    closing: bool = False

    async def run(self, run: "Load") -> None:
        seat = self.seat
        cookie = seat.interviewer_cookie if self.interviewer else seat.candidate_cookie
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**20)
            page = f"&page={seat.page if self.interviewer else seat.candidate_page}"
            writer.write(
                f"GET /sessions/{seat.pk}/stream/?v={seat.version}{page} HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            status, _ = await _read_head(reader)
            self.opened.set_result(status)
            if status != 200:
                return
            buffer = b""
            while chunk := await _read_chunk(reader):
                buffer += chunk
                while b"\n\n" in buffer:
                    message, _, buffer = buffer.partition(b"\n\n")
                    self.events += 1
                    if message.startswith(b"event: update"):
                        run.delivered(self, message)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            if not self.opened.done():
                self.opened.set_exception(exc)
        finally:
            if writer is not None:
                writer.close()
            if not self.closing:
                self.dropped = True


def _event_id(message: bytes) -> int:
    return int(message.split(b"\nid: ", 1)[1].split(b"\n", 1)[0])


# --- one step of load ---------------------------------------------------------------------------


@dataclass
class Step:
    mix: str
    n: int
    seconds: float
    writes_per_s: float
    writes: dict[str, dict[str, float]]
    bare: dict[str, float]
    update: dict[str, float]
    update_by_kind: dict[str, dict[str, float]]
    errors: dict[str, int]
    cpu: dict[str, float]

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def held(self) -> bool:
        write_p95 = max((w["p95_ms"] for w in self.writes.values()), default=math.nan)
        return (
            self.error_count == 0
            and write_p95 < WRITE_P95_MS
            and self.update["p95_ms"] <= UPDATE_P95_MS
        )


class Load:
    """The streams, writers and bare-view clients of one benchmark run."""

    def __init__(self, server: Server, fleet: Fleet) -> None:
        self.server = server
        self.fleet = fleet
        self.pool = Pool(server.port, POOL_CONNECTIONS)
        self.open_seats: list[Seat] = []
        self.measuring = False
        self.latency: dict[str, list[float]] = {}
        self.updates: dict[str, list[float]] = {"notes": [], "mark": []}
        self.errors: dict[str, int] = {}
        self.stream_errors = 0

    def error(self, kind: str) -> None:
        if self.measuring:
            self.errors[kind] = self.errors.get(kind, 0) + 1

    # Streams

    async def hold(self, n: int) -> None:
        """Have exactly the first n sessions' streams open."""
        if len(self.fleet.seats) < n:
            await asyncio.to_thread(self.fleet.grow, n)
        for seat in self.open_seats[n:]:
            await self._close(seat)
        new = self.fleet.seats[len(self.open_seats) : n]
        if new:
            await asyncio.to_thread(self.fleet.refresh, new)
            gate = asyncio.Semaphore(OPENING_AT_ONCE)

            async def open_one(seat: Seat, interviewer: bool) -> None:
                async with gate:
                    stream = Stream(seat, interviewer, self.server.port)
                    stream.opened = asyncio.get_running_loop().create_future()
                    stream.task = asyncio.get_running_loop().create_task(stream.run(self))
                    seat.streams.append(stream)
                    status = await stream.opened
                    if status != 200:
                        raise RuntimeError(f"a stream of session {seat.pk} answered {status}")

            await asyncio.gather(*(open_one(seat, who) for seat in new for who in (True, False)))
        self.open_seats = self.fleet.seats[:n]

    async def _close(self, seat: Seat) -> None:
        for stream in seat.streams:
            stream.closing = True
            stream.task.cancel()
        await asyncio.gather(*(s.task for s in seat.streams), return_exceptions=True)
        seat.streams.clear()

    async def close_all(self) -> None:
        for seat in self.open_seats:
            await self._close(seat)
        self.open_seats = []

    def delivered(self, stream: Stream, message: bytes) -> None:
        """An update arrived: settle the writes of the other participant it carries."""
        now = time.monotonic()
        seat = stream.seat
        if stream.interviewer:
            seat.page_version = max(seat.page_version, _event_id(message))
            if seat.pending_notes:
                text = message.decode()
                for token, sent in list(seat.pending_notes.items()):
                    if token in text:
                        del seat.pending_notes[token]
                        self._updated("notes", now - sent)
        else:
            version = _event_id(message)
            seat.candidate_page_version = max(seat.candidate_page_version, version)
            seat.candidate_seen.append((version, now))
            del seat.candidate_seen[:-20]
            self._settle_marks(seat)

    def _settle_marks(self, seat: Seat) -> None:
        for version, sent in list(seat.pending_marks):
            arrived = next((t for v, t in seat.candidate_seen if v >= version), None)
            if arrived is not None:
                seat.pending_marks.remove((version, sent))
                self._updated("mark", max(0.0, arrived - sent))

    def _updated(self, kind: str, seconds: float) -> None:
        if self.measuring:
            self.updates[kind].append(seconds * 1000)

    # Writers

    async def _notes(self, seat: Seat, due: float) -> None:
        seat.saves += 1
        token = f"ref{seat.pk}x{seat.saves}"
        sentence = SENTENCES[(seat.saves + seat.pk) % len(SENTENCES)]
        text = f"{seat.notes_text}{sentence} ({token})\n"
        if len(text) > NOTES_LIMIT:
            text = f"{sentence} ({token})\n"  # a new page of notes rather than an ever longer one
        body = f"text={quote(text)}&base_version={seat.notes_base}".encode()
        headers = {
            "Cookie": seat.candidate_cookie,
            "X-CSRFToken": seat.candidate_csrf,
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Spar-Version": str(seat.candidate_page_version),
            "X-Spar-Page": seat.candidate_page,
        }
        sent = time.monotonic()
        seat.pending_notes[token] = sent
        status, content = await self._write(
            "notes", due, f"/sessions/{seat.pk}/notes/1/", headers, body
        )
        found = NOTES_VERSION.search(content)
        if found:
            seat.notes_base = int(found.group(1))
        if status == 200:
            seat.notes_text = text
            brought = PAGE_VERSION.search(content)
            if brought:
                seat.candidate_page_version = max(
                    seat.candidate_page_version, int(brought.group(1))
                )
        else:
            seat.pending_notes.pop(token, None)

    async def _mark(self, seat: Seat, due: float) -> None:
        seat.marks += 1
        item = seat.items[seat.marks % len(seat.items)]
        mark = MARKS[seat.marks % len(MARKS)]
        shown = seat.page_version
        headers = {
            "Cookie": seat.interviewer_cookie,
            "X-CSRFToken": seat.interviewer_csrf,
            "HX-Request": "true",
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Spar-Version": str(shown),
            "X-Spar-Page": seat.page,
        }
        body = f"item={quote(item)}&mark={mark}".encode()
        sent = time.monotonic()
        status, content = await self._write(
            "mark", due, f"/sessions/{seat.pk}/marks/", headers, body
        )
        found = POLLER_VERSION.search(content)
        if status == 200 and found and int(found.group(1)) > shown:
            # The session's version after this mark, which the answer brought the page to: the
            # candidate's stream must deliver it. (A page that had missed a change keeps its
            # version, and the mark's own is not known: about 1 % of marks go unmeasured.)
            seat.page_version = max(seat.page_version, int(found.group(1)))
            seat.pending_marks.append((int(found.group(1)), sent))
            self._settle_marks(seat)

    async def _write(
        self, kind: str, due: float, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        method = "POST" if body else "GET"
        try:
            status, content = await self.pool.request(method, path, headers, body)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.error(f"{kind} connection")
            return 0, b""
        if self.measuring:
            self.latency.setdefault(kind, []).append((time.monotonic() - due) * 1000)
        if status != (204 if kind == "bare" else 200):
            self.error(f"{kind} {status}")
        return status, content

    async def _bare(self, due: float) -> None:
        await self._write("bare", due, "/bench/bare/", {}, b"")

    async def _every(self, interval: float, phase: float, until: float, action) -> None:
        due = time.monotonic() + phase * interval
        while due < until:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await action(due)
            due += interval
            if time.monotonic() > due + interval:
                due = time.monotonic()  # fell a whole period behind: do not burst to catch up

    async def step(self, mix: str, n: int, seconds: float) -> Step:
        await self.hold(n)
        await self.quiet()
        notes_s, marks_s = MIXES[mix]
        start = time.monotonic()
        until = start + WARMUP_S + seconds
        self.latency, self.updates, self.errors = {}, {"notes": [], "mark": []}, {}
        for seat in self.open_seats:
            seat.pending_notes.clear()
            seat.pending_marks.clear()
        tasks = []
        for seat in self.open_seats:
            phase = random.random()
            tasks.append(self._every(notes_s, phase, until, lambda d, s=seat: self._notes(s, d)))
            # The light mix alternates: a mark half a period after each notes save.
            mark_phase = (phase + 0.5) % 1 if mix == "light" else random.random()
            tasks.append(
                self._every(marks_s, mark_phase, until, lambda d, s=seat: self._mark(s, d))
            )
        for _ in range(BARE_CLIENTS):
            tasks.append(self._every(BARE_EVERY_S, random.random(), until, self._bare))
        running = [asyncio.ensure_future(t) for t in tasks]
        meter = Meter(self.server.pids())
        await asyncio.sleep(WARMUP_S)
        dropped_before = self._dropped()
        self.measuring = True
        meter.start()
        await asyncio.gather(*running)
        cpu = meter.stop()
        await asyncio.sleep(UPDATE_LOST_S)  # the last updates' time to arrive
        self.measuring = False
        lost = sum(len(s.pending_notes) + len(s.pending_marks) for s in self.open_seats)
        if lost:
            self.errors["updates not delivered"] = lost
        if self._dropped() > dropped_before:
            self.errors["streams dropped"] = self._dropped() - dropped_before
        writes = {k: _summary(v) for k, v in self.latency.items() if k != "bare"}
        count = sum(w["count"] for w in writes.values())
        return Step(
            mix=mix,
            n=n,
            seconds=cpu["seconds"],
            writes_per_s=round(count / cpu["seconds"], 1),
            writes=writes,
            bare=_summary(self.latency.get("bare", [])),
            update=_summary(self.updates["notes"] + self.updates["mark"]),
            update_by_kind={k: _summary(v) for k, v in self.updates.items()},
            errors=dict(self.errors),
            cpu=cpu,
        )

    async def quiet(self) -> None:
        """Wait (at most QUIET_WAIT_S) until the server and the database have worked off what
        came before: after an overloaded step its queued writes and renders went on for
        seconds into the next step, which then failed at an N that held before the overload;
        and after the search, the closing of its thousands of streams was counted against the
        first saturated endpoint (the bare view cost 3.4 ms of server CPU and 0.8 ms of
        PostgreSQL's per request, where it needs none of the database)."""
        deadline = time.monotonic() + QUIET_WAIT_S
        while time.monotonic() < deadline:
            meter = Meter(self.server.pids())
            meter.start()
            await asyncio.sleep(1)
            if _is_quiet(meter.stop()):
                return

    def _dropped(self) -> int:
        return sum(s.dropped for seat in self.open_seats for s in seat.streams)

    async def idle(self, seconds: float) -> dict[str, float]:
        meter = Meter(self.server.pids())
        meter.start()
        await asyncio.sleep(seconds)
        return meter.stop()


def _step_line(step: Step) -> str:
    writes = "  ".join(f"{k} {v['p95_ms']:6.1f}" for k, v in sorted(step.writes.items()))
    update = step.update
    return (
        f"{step.mix:<5} N={step.n:<5} {step.writes_per_s:6.1f} writes/s  write p95 ms: {writes}  "
        f"bare {step.bare['p95_ms']:5.1f}  update p50/p95/max ms: {update['p50_ms']:.0f}/"
        f"{update['p95_ms']:.0f}/{update['max_ms']:.0f}  errors {step.error_count}  cores: "
        f"server {step.cpu['server_cores']:.2f}, "
        + (f"database {step.cpu['database_cores']:.2f}, " if "database_cores" in step.cpu else "")
        + f"generator {step.cpu['generator_cores']:.2f}, "
        f"others {step.cpu['others_cores']:.2f}  {'held' if step.held else 'failed'}"
        + (f"  {step.errors}" if step.errors else "")
    )


async def _search(step: Callable[[int], Awaitable[Step]], start: int, most: int) -> list[Step]:
    """Double N until a step fails twice at the same N, then bisect to within 10 %.

    While N doubles, a failed step is run again: on a shared machine one stall fails a small
    step (at N = 50 of the light mix, three slow writes make the p95), and the search would
    then bisect far below what the server holds. Once a failure is confirmed, each bisection
    step is run once."""
    steps: list[Step] = []
    held, failed = 0, 0
    n = start
    while True:
        steps.append(await step(n))
        print(_step_line(steps[-1]), flush=True)
        if not steps[-1].held and not failed:
            steps.append(await step(n))
            print(_step_line(steps[-1]) + "  (second try)", flush=True)
        if steps[-1].held:
            held = max(held, n)
        else:
            failed = n if not failed else min(failed, n)
        if not failed and n * 2 <= most:
            n *= 2
        elif failed and failed - held > max(1, held // 10):
            n = (held + failed) // 2
        else:
            return steps


# --- saturation: server CPU per request --------------------------------------------------------


def _is_quiet(cpu: dict[str, float]) -> bool:
    return cpu["server_cores"] + cpu.get("database_cores", 0.0) < QUIET_CORES


async def _saturate(load: Load, kind: str, seats: list[Seat]) -> dict[str, float]:
    """16 connections sending one kind of request back to back; server CPU per request."""
    await load.quiet()
    connections = [Connection(load.server.port) for _ in range(SATURATION_CONNECTIONS)]
    counts = {"requests": 0, "errors": 0}
    changed = {"polls": 0}
    statuses: dict[int, int] = {}
    latencies: list[float] = []

    async def one(connection: Connection, index: int, until: float) -> None:
        while time.monotonic() < until:
            seat = seats[index % len(seats)]
            index += SATURATION_CONNECTIONS
            started = time.monotonic()
            if kind == "bare":
                status, _ = await connection.request("GET", "/bench/bare/", {})
            elif kind == "signed-in":
                status, _ = await connection.request(
                    "GET", "/bench/signed-in/", {"Cookie": seat.interviewer_cookie}
                )
            elif kind == "one-update":
                status, _ = await connection.request(
                    "POST",
                    "/bench/one-update/",
                    {"Cookie": seat.candidate_cookie, "X-CSRFToken": seat.candidate_csrf},
                    b"",
                )
            elif kind == "mark":
                seat.marks += 1
                body = f"item={quote(seat.items[seat.marks % len(seat.items)])}&mark="
                body += MARKS[seat.marks % len(MARKS)]
                status, _ = await connection.request(
                    "POST",
                    f"/sessions/{seat.pk}/marks/",
                    {
                        "Cookie": seat.interviewer_cookie,
                        "X-CSRFToken": seat.interviewer_csrf,
                        "HX-Request": "true",
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                    body.encode(),
                )
            elif kind == "notes":
                seat.saves += 1
                text = f"{SENTENCES[seat.saves % len(SENTENCES)]} ({seat.saves})\n"
                status, content = await connection.request(
                    "POST",
                    f"/sessions/{seat.pk}/notes/1/",
                    {
                        "Cookie": seat.candidate_cookie,
                        "X-CSRFToken": seat.candidate_csrf,
                        "Accept": "application/json",
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                    f"text={quote(text)}&base_version={seat.notes_base}".encode(),
                )
                found = NOTES_VERSION.search(content)
                if found:
                    seat.notes_base = int(found.group(1))
            else:  # the poll of a page without its stream: mostly unchanged
                status, content = await connection.request(
                    "GET",
                    f"/sessions/{seat.pk}/state/?v={seat.version}",
                    {"Cookie": seat.interviewer_cookie, "HX-Request": "true"},
                )
                # The poll itself notes every few seconds that its owner is present, which moves
                # the version: the page takes the new one from the answer, and so does this.
                found = POLLER_VERSION.search(content)
                if status == 200 and found:
                    seat.version = int(found.group(1))
                    changed["polls"] += 1
                    status = 204
            latencies.append((time.monotonic() - started) * 1000)
            counts["requests"] += 1
            if status != (200 if kind in {"notes", "mark"} else 204):
                counts["errors"] += 1
                statuses[status] = statuses.get(status, 0) + 1

    warm_until = time.monotonic() + 1
    await asyncio.gather(*(one(c, i, warm_until) for i, c in enumerate(connections)))
    counts["requests"], counts["errors"], changed["polls"] = 0, 0, 0
    latencies.clear()
    statuses.clear()
    meter = Meter(load.server.pids())
    meter.start()
    until = time.monotonic() + SATURATION_SECONDS
    await asyncio.gather(*(one(c, i, until) for i, c in enumerate(connections)))
    cpu = meter.stop()
    for connection in connections:
        connection.close()
    figures = {
        "requests": counts["requests"],
        "errors": counts["errors"],
        "error_statuses": statuses,
        "changed_polls": changed["polls"],
        "rps": round(counts["requests"] / cpu["seconds"], 1),
        "p50_ms": round(_percentile(latencies, 50), 2),
        "p95_ms": round(_percentile(latencies, 95), 2),
        "server_cpu_ms_per_request": round(cpu["server_cpu_s"] * 1000 / counts["requests"], 3),
        "server_cores": cpu["server_cores"],
        "others_cores": cpu["others_cores"],
    }
    if "database_cores" in cpu:
        database_ms = cpu["database_cores"] * cpu["seconds"] * 1000
        figures["database_cpu_ms_per_request"] = round(database_ms / counts["requests"], 3)
    return figures


# --- the run ------------------------------------------------------------------------------------


def _machine() -> dict[str, object]:
    memory, load = "", "nan"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    with contextlib.suppress(OSError):
        load = Path("/proc/loadavg").read_text().split()[0]
    return {
        "cores": os.cpu_count(),
        "memory": memory,
        "load_average_1min_at_start": float(load),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


async def _run_at(server: Server, fleet: Fleet, args: argparse.Namespace) -> dict[str, object]:
    """Steps of each mix at one N (--at), after the same warm-up as the search."""
    load = Load(server, fleet)
    await asyncio.to_thread(fleet.grow, args.at)
    await load.hold(10)
    await load.close_all()
    results: dict[str, object] = {}
    for mix in args.mix:
        steps = []
        for _ in range(args.runs):
            step = await load.step(mix, args.at, args.duration)
            print(_step_line(step), flush=True)
            steps.append(dataclasses.asdict(step) | {"held": step.held})
        results[mix] = steps
    await load.close_all()
    return results


async def _run(server: Server, fleet: Fleet, args: argparse.Namespace) -> dict[str, object]:
    if args.at:
        return await _run_at(server, fleet, args)
    load = Load(server, fleet)
    results: dict[str, object] = {}
    # First, on the fresh server: memory per open stream and the CPU of idle sessions.
    idle_n = args.idle
    if len(fleet.seats) < idle_n:
        await asyncio.to_thread(fleet.grow, idle_n)
    await load.hold(10)  # warm-up: the code paths of a stream loaded in both workers
    await load.close_all()
    await asyncio.sleep(2)
    before = _memory_kib(server.pids())
    opening = time.monotonic()
    await load.hold(idle_n)
    opened_per_s = 2 * idle_n / (time.monotonic() - opening)
    await asyncio.sleep(3)
    after = _memory_kib(server.pids())
    idle = await load.idle(10)
    results["idle"] = {
        "sessions": idle_n,
        "streams": 2 * idle_n,
        "memory_kib_before": before,
        "memory_kib_after": after,
        "kib_per_stream": round((after - before) / (2 * idle_n), 1),
        "streams_opened_per_s": round(opened_per_s),
        **idle,
    }
    print(
        f"idle: {idle_n} sessions ({2 * idle_n} open streams): server {idle['server_cores']:.3f} "
        f"cores, {results['idle']['kib_per_stream']} KiB per stream, opened at "
        f"{opened_per_s:.0f} streams/s",
        flush=True,
    )
    await load.close_all()

    # Update latency with few sessions: the watcher's interval and the render, nothing queued.
    small = await load.step("full", 10, args.duration)
    print(_step_line(small), flush=True)
    results["small"] = dataclasses.asdict(small) | {"held": small.held}
    for mix in args.mix:
        print(
            f"{mix} mix: largest N with write p95 < {WRITE_P95_MS:.0f} ms, update p95 ≤ "
            f"{UPDATE_P95_MS:.0f} ms and no errors ({args.duration} s steps):",
            flush=True,
        )
        step = functools.partial(load.step, mix, seconds=args.duration)
        steps = await _search(step, args.start, args.max)
        results[mix] = [dataclasses.asdict(s) | {"held": s.held} for s in steps]
    await load.close_all()

    print("Saturating each endpoint (no stream open), 16 connections:", flush=True)
    # Notes go to enough people that no one meets the limit of 60 saves per 30 s (a 429 costs
    # little and would flatter the figure): 16 connections save about 200 times a second. Polls
    # go to few sessions, so that the polls after a presence write (each session's every few
    # seconds) are a small part of them.
    seats = fleet.seats[:SATURATION_SEATS]
    await asyncio.to_thread(fleet.refresh, seats)
    saturation = {}
    for kind in SATURATED:
        saturation[kind] = await _saturate(load, kind, seats if kind == "notes" else seats[:32])
        print(
            f"  {kind:<10} {saturation[kind]['rps']:8.1f} req/s  "
            f"{saturation[kind]['server_cpu_ms_per_request']:.2f} ms server CPU per request  "
            f"errors {saturation[kind]['errors']}"
            + (f" ({saturation[kind]['changed_polls']} found a change)" if kind == "poll" else ""),
            flush=True,
        )
    results["saturation"] = saturation
    return results


def _write_results(result: dict[str, object]) -> Path:
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def _largest(steps: list[dict[str, object]]) -> dict[str, object] | None:
    held = [s for s in steps if s["held"]]
    return max(held, key=lambda s: s["n"]) if held else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20, help="measured seconds per step")
    parser.add_argument("--start", type=int, default=50, help="first N of the search")
    parser.add_argument("--max", type=int, default=1600, help="largest N to try")
    parser.add_argument("--idle", type=int, default=1000, help="sessions held open when idle")
    parser.add_argument("--mix", default="full,light", help="mixes to search, in order")
    parser.add_argument("--at", type=int, default=0, help="no search: run steps at this N")
    parser.add_argument("--runs", type=int, default=2, help="steps of each mix with --at")
    args = parser.parse_args()
    if args.at < 0 or args.runs < 1:
        parser.error("--at must not be negative, and --runs must be at least 1")
    args.mix = [m.strip() for m in args.mix.split(",") if m.strip()]
    if unknown := set(args.mix) - set(MIXES):
        parser.error(f"unknown mix: {', '.join(sorted(unknown))}")

    machine = _machine()
    tmp = Path(tempfile.mkdtemp(prefix="spar-bench-"))
    database_url = os.environ.get("DATABASE_URL", "").strip()
    postgres = urlsplit(database_url).scheme in POSTGRES_SCHEMES
    database = "PostgreSQL" if postgres else "SQLite"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "SPAR_VAR_DIR": str(tmp / "var"),
            "SPAR_BENCH_STATIC_ROOT": str(tmp / "static"),
            "LOG_LEVEL": "WARNING",
        }
    )
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
        if postgres:
            os.environ["DATABASE_URL"] = cleanup.enter_context(_throwaway_postgres(database_url))
        else:
            os.environ.pop("DATABASE_URL", None)
        # Django is set up only now, from the environment that the server inherits too.
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", interactive=False, stdout=StringIO())
        call_command("load_casebank", stdout=StringIO())
        call_command("collectstatic", interactive=False, stdout=StringIO())
        server = Server.start(tmp / "uvicorn.log")
        cleanup.callback(server.stop)
        fleet = Fleet()
        print(f"{database}, {machine['cores']} cores, uvicorn with {SERVER_WORKERS} workers.")
        try:
            import uvloop

            results = asyncio.run(_run(server, fleet, args), loop_factory=uvloop.new_event_loop)
        except ModuleNotFoundError:
            results = asyncio.run(_run(server, fleet, args))
        server_log = server.log.read_text()[-3000:]

    if args.at:
        path = _write_results(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine,
                "database": database,
                "at": args.at,
                **results,
            }
        )
        for mix in args.mix:
            held = sum(1 for s in results[mix] if s["held"])
            print(f"{mix} mix at N = {args.at}: {held} of {args.runs} steps held ({database})")
        print(f"results: {path.relative_to(ROOT)}")
        return 0

    full = _largest(results.get("full", []))
    light = _largest(results.get("light", []))
    others = max(
        (s["cpu"]["others_cores"] for m in args.mix for s in results.get(m, [])), default=0.0
    )
    saturation = results["saturation"]
    bare_cpu = saturation["bare"]["server_cpu_ms_per_request"]
    least_write_cpu = saturation["one-update"]["server_cpu_ms_per_request"]
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "database": database,
        "server": "uvicorn " + " ".join(UVICORN),
        "load": {
            "mixes": {k: {"notes_every_s": a, "mark_every_s": b} for k, (a, b) in MIXES.items()},
            "bare_clients": BARE_CLIENTS,
            "step_seconds": args.duration,
            "warmup_seconds": WARMUP_S,
            "write_p95_budget_ms": WRITE_P95_MS,
            "update_p95_budget_ms": UPDATE_P95_MS,
        },
        **results,
        "largest_n": full["n"] if full else 0,
        "largest_n_light": light["n"] if light else 0,
        "cpu_ratio_to_bare": {
            kind: round(s["server_cpu_ms_per_request"] / bare_cpu, 2)
            for kind, s in saturation.items()
        },
        "cpu_ratio_to_one_update": {
            kind: round(s["server_cpu_ms_per_request"] / least_write_cpu, 2)
            for kind, s in saturation.items()
        },
        "others_cores_max": others,
        "server_log_tail": server_log,
    }
    path = _write_results(result)

    print()
    small = results["small"]["update"]
    print(
        f"update latency with 10 sessions: p50 {small['p50_ms']:.0f} ms, p95 "
        f"{small['p95_ms']:.0f} ms, max {small['max_ms']:.0f} ms"
    )
    for name, largest in (("full", full), ("light", light)):
        if largest:
            u, c = largest["update"], largest["cpu"]
            writes = ", ".join(
                f"{k} p50 {v['p50_ms']:.0f} / p95 {v['p95_ms']:.0f} ms"
                for k, v in sorted(largest["writes"].items())
            )
            print(
                f"{name} mix at N = {largest['n']}: {largest['writes_per_s']} writes/s; {writes}; "
                f"bare p95 {largest['bare']['p95_ms']:.0f} ms; update p50 {u['p50_ms']:.0f} / "
                f"p95 {u['p95_ms']:.0f} / max {u['max_ms']:.0f} ms; server {c['server_cores']:.2f}"
                " cores, "
                + (f"database {c['database_cores']:.2f}, " if "database_cores" in c else "")
                + f"generator {c['generator_cores']:.2f}"
            )
    print(
        "server CPU per request: "
        + ", ".join(
            f"{k} {s['server_cpu_ms_per_request']:.2f} ms ({result['cpu_ratio_to_bare'][k]:.1f}×"
            f" bare, {result['cpu_ratio_to_one_update'][k]:.1f}× one-update)"
            for k, s in saturation.items()
        )
    )
    if all("database_cpu_ms_per_request" in s for s in saturation.values()):
        print(
            "PostgreSQL's CPU per request: "
            + ", ".join(
                f"{k} {s['database_cpu_ms_per_request']:.2f} ms" for k, s in saturation.items()
            )
        )
    idle = results["idle"]
    print(
        f"memory per open stream: {idle['kib_per_stream']} KiB; {idle['sessions']} idle sessions: "
        f"{idle['server_cores']:.3f} cores"
    )
    print(f"results: {path.relative_to(ROOT)}")
    if others > BUSY_MACHINE_CORES:
        print(
            f"warning: other programs used up to {others:.2f} cores during the search, so these "
            "figures understate Spar: run it again on a quiet machine.",
            file=sys.stderr,
        )
    budget = f"write p95 < {WRITE_P95_MS:.0f} ms, update p95 ≤ {UPDATE_P95_MS:.0f} ms, 0 errors"
    print(
        f"largest N: {result['largest_n']} (full mix: notes every 10 s, a mark every 20 s; "
        f"{budget}; {database})"
    )
    print(f"largest N light: {result['largest_n_light']}")
    print(f"update latency p95: {full['update']['p95_ms'] if full else math.nan:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
