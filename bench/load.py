"""Load benchmark of the live room under gunicorn (gthread), run by `make bench`.

    python bench/load.py [--duration 12] [--budget 240] [--start 20] [--max 1280]

Starts gunicorn as the README deploys it (gthread, 2 workers × 4 threads) with production
settings (DEBUG=0) on a fresh SQLite file, or on a throwaway PostgreSQL database when
DATABASE_URL points at PostgreSQL, with the bare view of bench/urls.py added. Then:

1. Shows the queries of an unchanged poll (login session, user, session row).
2. Drives N live sessions with wrk (Debian package) and bench/load.lua: both participants poll
   `/sessions/<id>/state/?v=<their version>` every 2 s, the candidate saves notes every 10 s, the
   interviewer marks an item every 20 s, and a few clients fetch the bare view every 2 s.
   Latency is measured per endpoint from the moment each request was due. N doubles from
   --start until a step fails (p95 ≥ 100 ms on poll, notes or mark, or any error), then
   bisects: the result is the largest N that held.
3. Saturates the unchanged poll (204) and then the bare view with 16 connections each, and
   prints `ratio: 0.NN` (poll requests/s ÷ bare requests/s).

Writes bench/results/<timestamp>.json and prints a short table. wrk runs on the same machine
and takes some of its CPU, as a proxy in front of gunicorn would.
"""

import argparse
import contextlib
import dataclasses
import json
import math
import os
import platform
import random
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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPConnection
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import gunicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POLL_MS = 2_000
NOTES_MS = 10_000
MARK_MS = 20_000  # three marks a minute
WARMUP_MS = 2_000  # of each step, not measured
P95_BUDGET_MS = 100.0
APP_ENDPOINTS = ("poll", "notes", "mark")
ENDPOINTS = (*APP_ENDPOINTS, "bare")
SATURATION_SECONDS = 10
SATURATION_CONNECTIONS = 16
# In the mix each wrk thread has one connection, kept at about this many requests per second so
# that a request seldom waits for its connection; a wait that happens counts in its latency.
REQUESTS_PER_CONNECTION = 4
MAX_WRK_THREADS = 128
BUSY_MACHINE_CORES = 0.2  # CPU used by other programs during a step, above which we warn

# What a candidate types, a sentence per save: real vocabulary, so that the interviewer's poll
# does the evidence matching it does in a real session.
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

# As the README deploys it. wrk's connections stand in for a proxy's upstream connections, kept
# open past the pacing gaps so that gunicorn's idle close (2 s by default) never races a request.
GUNICORN = ["config.wsgi", "--worker-class", "gthread", "--workers", "2", "--threads", "4"]
GUNICORN += ["--keep-alive", "10", "--log-level", "warning"]
if gunicorn.version_info >= (25, 1):
    # Its control socket has one fixed path per user, which other servers on the machine share.
    GUNICORN.append("--no-control-socket")

Client = dict[str, object]  # one paced client, as bench/load.lua reads it


@dataclass
class Endpoint:
    requests: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    status: dict[str, int]


@dataclass
class Saturation(Endpoint):
    server_cores: float  # see Step
    others_cores: float
    # Server CPU per request: unlike requests/s, hardly changed by other programs' load.
    cpu_ms_per_request: float


@dataclass
class Step:
    n: int
    offered_rps: float
    wrk_threads: int
    socket_errors: int
    endpoints: dict[str, Endpoint]
    # CPU used, in cores (1.0 = one core throughout): by gunicorn, by wrk, and by everything
    # else on the machine (the database server included). Other programs' CPU is CPU that the
    # server could not have, so a step run on a busy machine understates Spar.
    server_cores: float
    others_cores: float
    wrk_cores: float

    @property
    def errors(self) -> int:
        return self.socket_errors + sum(e.errors for e in self.endpoints.values())

    @property
    def held(self) -> bool:
        return self.errors == 0 and all(
            self.endpoints[kind].requests and self.endpoints[kind].p95_ms < P95_BUDGET_MS
            for kind in APP_ENDPOINTS
        )


@dataclass
class Run:
    """What one wrk run measured."""

    seconds: float
    requests: int
    socket_errors: int
    wrk_percentiles_ms: list[float]  # p50, p95, p99, max of wrk's own histogram
    server_cores: float
    others_cores: float
    wrk_cores: float
    latency: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    status: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    lost: dict[str, int] = dataclasses.field(default_factory=dict)

    def endpoint(self, kind: str, measured_seconds: float) -> Endpoint:
        latency = self.latency.get(kind, [])
        status = dict(sorted(self.status.get(kind, {}).items()))
        failed = sum(count for code, count in status.items() if not 200 <= int(code) < 400)
        return Endpoint(
            requests=len(latency),
            rps=round(len(latency) / measured_seconds, 1),
            p50_ms=round(_percentile(latency, 50), 2),
            p95_ms=round(_percentile(latency, 95), 2),
            p99_ms=round(_percentile(latency, 99), 2),
            errors=self.lost.get(kind, 0) + failed,
            status=status,
        )


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else math.nan


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_cpu(root: int) -> float:
    """CPU seconds used so far by a process and its children (gunicorn's master and workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            fields = stat.read_text().rpartition(")")[2].split()
            if root in {int(stat.parent.name), int(fields[1])}:  # the process, or its parent
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _machine_cpu() -> float:
    """CPU seconds used so far by the whole machine (all but idle and I/O wait)."""
    with contextlib.suppress(OSError):
        ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _wait_until_idle(server: "Server", timeout: float = 20) -> None:
    """Let requests still in flight when wrk stopped finish, so the next step starts from the
    stored state (a note saved late would make the next step's first save a conflict)."""
    deadline = time.monotonic() + timeout
    before = _server_cpu(server.process.pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _server_cpu(server.process.pid)
        if now - before < 0.02:
            return
        before = now


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
                [sys.executable, "-m", "gunicorn", *GUNICORN, "--bind", f"127.0.0.1:{port}"],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = cls(port, process, log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            connection = HTTPConnection("127.0.0.1", port, timeout=1)
            try:
                connection.request("GET", "/bench/bare/")
                if connection.getresponse().status == 204:
                    return server
            except OSError:
                pass  # not listening yet
            finally:
                connection.close()
            time.sleep(0.2)
        server.stop()
        raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


@dataclass
class Seat:
    """One live session and its two participants, signed in."""

    pk: int
    interviewer_cookie: str
    candidate_cookie: str
    interviewer_csrf: str
    candidate_csrf: str
    items: list[str]


def _csrf_secret() -> str:
    # Django accepts its unmasked 32-character secret as the token, in cookie and header alike.
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


class Fleet:
    """Live sessions, created on demand and reused from step to step."""

    def __init__(self) -> None:
        from django.contrib.auth.hashers import make_password

        from casebank.models import Case
        from rubrics import scoring
        from rubrics.services import latest_published_version, scoring_items

        self.seats: list[Seat] = []
        self.version = latest_published_version()
        self.cases = list(Case.objects.published().order_by("slug"))
        # The interviewer marks step 1's expected items, the step the sessions stay on.
        self.items = {
            case.pk: [
                item.key
                for item in scoring_items(self.version, case.extra_items.all())
                if item.step == 1 and item.kind == scoring.Kind.EXPECTED
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
        from django.db import connection

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
            services.start_session(session=session)
            csrf_i, csrf_c = _csrf_secret(), _csrf_secret()
            self.seats.append(
                Seat(
                    pk=session.pk,
                    interviewer_cookie=f"sessionid={sign_in(interviewer)}; csrftoken={csrf_i}",
                    candidate_cookie=f"sessionid={sign_in(candidate)}; csrftoken={csrf_c}",
                    interviewer_csrf=csrf_i,
                    candidate_csrf=csrf_c,
                    items=self.items[case.pk],
                )
            )
        connection.close()  # SQLite: hold no connection while the server writes

    def stored(self, n: int) -> tuple[dict[int, int], dict[int, tuple[int, str]]]:
        """The first n sessions' versions, and their step-1 notes with the notes' versions."""
        from django.db import connection

        from interviews.models import Session, SessionStep

        pks = [seat.pk for seat in self.seats[:n]]
        versions = dict(Session.objects.filter(pk__in=pks).values_list("pk", "version"))
        rows = SessionStep.objects.filter(session_id__in=pks, number=1)
        notes = {
            pk: (v, text)
            for pk, v, text in rows.values_list("session_id", "notes_version", "notes")
        }
        connection.close()
        return versions, notes

    def polls(self, n: int) -> list[Client]:
        """Both participants of the first n sessions, polling at the stored version."""
        versions, _ = self.stored(n)
        return [
            {
                "kind": "poll",
                "path": f"/sessions/{seat.pk}/state/",
                "version": versions[seat.pk],
                "cookie": cookie,
                "interval_ms": POLL_MS,
                "phase": random.random(),
            }
            for seat in self.seats[:n]
            for cookie in (seat.interviewer_cookie, seat.candidate_cookie)
        ]

    def writers(self, n: int) -> list[Client]:
        """The first n sessions' candidates taking notes and interviewers marking items."""
        _, notes = self.stored(n)
        clients: list[Client] = []
        for seat in self.seats[:n]:
            notes_version, text = notes[seat.pk]
            clients.append(
                {
                    "kind": "notes",
                    "path": f"/sessions/{seat.pk}/notes/1/",
                    "cookie": seat.candidate_cookie,
                    "csrf": seat.candidate_csrf,
                    "base": notes_version,
                    "text": text,
                    "offset": random.randrange(len(SENTENCES)),
                    "interval_ms": NOTES_MS,
                    "phase": random.random(),
                }
            )
            clients.append(
                {
                    "kind": "mark",
                    "path": f"/sessions/{seat.pk}/marks/",
                    "cookie": seat.interviewer_cookie,
                    "csrf": seat.interviewer_csrf,
                    "items": seat.items,
                    "interval_ms": MARK_MS,
                    "phase": random.random(),
                }
            )
        return clients

    def bare(self, count: int) -> list[Client]:
        return [
            {
                "kind": "bare",
                "path": "/bench/bare/",
                "cookie": self.seats[0].interviewer_cookie,
                "interval_ms": POLL_MS,
                "phase": random.random(),
            }
            for _ in range(count)
        ]


def _lua(value: object) -> str:
    """A Python value as a Lua literal (our data: ASCII strings, numbers, lists, dicts)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str) and value.isascii():
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_lua(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Lua literal for {value!r}")


def _wrk(
    server: Server,
    tmp: Path,
    mode: str,
    clients: list[Client],
    threads: int,
    connections: int,
    seconds: int,
    warmup_ms: int,
) -> Run:
    config = {
        "mode": mode,
        "threads": threads,
        "warmup_ms": warmup_ms,
        "notes_limit": NOTES_LIMIT,
        "sentences": SENTENCES,
        "marks": MARKS,
        "clients": clients,
    }
    config_file, out = tmp / "wrk-config.lua", tmp / "wrk-out"
    config_file.write_text("return " + _lua(config) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    cpu_before = _server_cpu(server.process.pid), _children_cpu(), _machine_cpu()
    done = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "load.lua"),
            f"http://127.0.0.1:{server.port}",
        ],
        env={**os.environ, "SPAR_BENCH_CONFIG": str(config_file), "SPAR_BENCH_OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    cpu_after = _server_cpu(server.process.pid), _children_cpu(), _machine_cpu()
    _wait_until_idle(server)
    if done.returncode != 0 or not (out / "summary.txt").exists():
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stderr}\n{done.stdout}")
    summary, percentiles = (out / "summary.txt").read_text().splitlines()
    requests, micros, connect, read, write, _, timeout = map(int, summary.split())
    seconds = micros / 1e6
    server_cpu, wrk_cpu, machine_cpu = (a - b for a, b in zip(cpu_after, cpu_before, strict=True))
    others_cpu = max(0.0, machine_cpu - server_cpu - wrk_cpu)
    run = Run(
        server_cores=round(server_cpu / seconds, 2),
        wrk_cores=round(wrk_cpu / seconds, 2),
        others_cores=round(others_cpu / seconds, 2),
        seconds=seconds,
        requests=requests,
        # wrk's fifth count, non-2xx/3xx answers, is counted per endpoint from the lines below.
        socket_errors=connect + read + write + timeout,
        wrk_percentiles_ms=[float(p) for p in percentiles.split()],
    )
    for thread_file in out.glob("thread-*.txt"):
        for line in thread_file.read_text().splitlines():
            kind, status, *latency = line.split()
            if status == "lost":
                run.lost[kind] = run.lost.get(kind, 0) + 1
                continue
            counts = run.status.setdefault(kind, {})
            counts[status] = counts.get(status, 0) + 1
            if latency:
                run.latency.setdefault(kind, []).append(float(latency[0]))
    return run


def _mix(server: Server, fleet: Fleet, tmp: Path, n: int, seconds: int) -> Step:
    fleet.grow(n)
    # The bare view at a tenth of the polls' rate: Django's floor, measured under the same load.
    bare = max(4, n // 5)
    clients = fleet.polls(n) + fleet.writers(n) + fleet.bare(bare)
    random.shuffle(clients)
    rate = n * (2000 / POLL_MS + 1000 / NOTES_MS + 1000 / MARK_MS) + bare * 1000 / POLL_MS
    threads = min(len(clients), MAX_WRK_THREADS, max(4, math.ceil(rate / REQUESTS_PER_CONNECTION)))
    run = _wrk(server, tmp, "mix", clients, threads, threads, seconds, WARMUP_MS)
    measured = run.seconds - WARMUP_MS / 1000
    return Step(
        n=n,
        offered_rps=round(rate, 1),
        wrk_threads=threads,
        socket_errors=run.socket_errors,
        endpoints={kind: run.endpoint(kind, measured) for kind in ENDPOINTS},
        server_cores=run.server_cores,
        others_cores=run.others_cores,
        wrk_cores=run.wrk_cores,
    )


def _search(server: Server, fleet: Fleet, tmp: Path, args: argparse.Namespace) -> list[Step]:
    """Double N until a step fails, then bisect between the largest N that held and the
    smallest that failed, to within 10 %, as long as the time budget lasts."""
    deadline = time.monotonic() + args.budget
    steps: list[Step] = []
    held, failed = 0, 0
    n = args.start
    while time.monotonic() < deadline:
        steps.append(_mix(server, fleet, tmp, n, args.duration))
        print(_step_line(steps[-1]), flush=True)
        if steps[-1].held:
            held = n
        else:
            failed = n
        if not failed and n * 2 <= args.max:
            n *= 2
        elif failed and failed - held > max(1, held // 10):
            n = (held + failed) // 2
        else:
            break
    return steps


def _saturate(server: Server, tmp: Path, clients: list[Client]) -> Saturation:
    _wrk(server, tmp, "saturate", clients, 2, SATURATION_CONNECTIONS, 2, 0)  # warm-up
    run = _wrk(server, tmp, "saturate", clients, 2, SATURATION_CONNECTIONS, SATURATION_SECONDS, 0)
    kind = str(clients[0]["kind"])
    status = dict(sorted(run.status.get(kind, {}).items()))
    p50, p95, p99, _ = run.wrk_percentiles_ms
    return Saturation(
        requests=run.requests,
        rps=round(run.requests / run.seconds, 1),
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        errors=run.socket_errors + sum(c for code, c in status.items() if code != "204"),
        status=status,
        server_cores=run.server_cores,
        others_cores=run.others_cores,
        cpu_ms_per_request=round(run.server_cores * run.seconds * 1000 / run.requests, 3),
    )


def _poll_queries(fleet: Fleet) -> list[str]:
    """The SQL of one unchanged poll, through the full middleware stack."""
    from django.db import connection
    from django.test import Client as TestClient
    from django.test.utils import CaptureQueriesContext

    seat = fleet.seats[0]
    versions, _ = fleet.stored(1)
    client = TestClient(HTTP_HOST="127.0.0.1", HTTP_COOKIE=seat.interviewer_cookie)
    path, query = f"/sessions/{seat.pk}/state/", {"v": versions[seat.pk]}
    client.get(path, query)  # connects, so that only the request's own queries are counted
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, query, headers={"HX-Request": "true"})
    if response.status_code != 204:
        raise RuntimeError(f"an unchanged poll answered {response.status_code}, not 204")
    connection.close()
    return [query["sql"] for query in queries.captured_queries]


def _step_line(step: Step) -> str:
    p95 = "  ".join(f"{kind} {step.endpoints[kind].p95_ms:6.1f}" for kind in ENDPOINTS)
    verdict = "held" if step.held else "failed"
    rate = f"{step.offered_rps:6.1f} req/s"
    cpu = f"cores: server {step.server_cores:.2f}, others {step.others_cores:.2f}"
    return f"N={step.n:<5} {rate}  p95 ms: {p95}  errors {step.errors}  {cpu}  {verdict}"


def _table(rows: dict[str, Endpoint]) -> str:
    lines = [
        f"{'endpoint':<16} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}"
    ]
    for name, r in rows.items():
        lines.append(
            f"{name:<16} {r.rps:>8.1f} {r.p50_ms:>8.2f} {r.p95_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.errors:>7}"
        )
    return "\n".join(lines)


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=12, help="seconds per step of the search")
    parser.add_argument("--budget", type=float, default=240, help="seconds for the whole search")
    parser.add_argument("--start", type=int, default=20, help="first N")
    parser.add_argument("--max", type=int, default=1280, help="largest N to try")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("This benchmark needs wrk: sudo apt-get install -y wrk", file=sys.stderr)
        return 2

    machine = _machine()
    tmp = Path(tempfile.mkdtemp(prefix="spar-bench-"))
    database_url = os.environ.get("DATABASE_URL", "").strip()
    postgres = urlsplit(database_url).scheme in {"postgres", "postgresql", "pgsql"}
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
        server = Server.start(tmp / "gunicorn.log")
        cleanup.callback(server.stop)

        fleet = Fleet()
        fleet.grow(args.start)
        queries = _poll_queries(fleet)
        print(
            f"{database}, {machine['cores']} cores. An unchanged poll makes {len(queries)} queries:"
        )
        for sql in queries:
            print(f"  {sql[:96]}…")
        _mix(server, fleet, tmp, args.start, 4)  # warm-up: compiled templates, open connections
        print(
            f"Largest N with p95 < {P95_BUDGET_MS:.0f} ms and no errors ({args.duration} s steps):"
        )
        steps = _search(server, fleet, tmp, args)
        print("Saturating the unchanged poll, then the bare view…", flush=True)
        saturation = {
            "poll unchanged": _saturate(server, tmp, fleet.polls(min(32, len(fleet.seats)))),
            "bare": _saturate(server, tmp, fleet.bare(1)),
        }
        server_log = server.log.read_text()[-2000:]

    held = [step for step in steps if step.held]
    largest = max(held, key=lambda step: step.n) if held else None
    ratio = saturation["poll unchanged"].rps / saturation["bare"].rps
    others = max((step.others_cores for step in steps), default=0.0)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "database": database,
        "server": "gunicorn " + " ".join(GUNICORN),
        "load": {
            "poll_every_s": POLL_MS / 1000,
            "notes_every_s": NOTES_MS / 1000,
            "mark_every_s": MARK_MS / 1000,
            "step_seconds": args.duration,
            "warmup_seconds": WARMUP_MS / 1000,
            "p95_budget_ms": P95_BUDGET_MS,
        },
        "unchanged_poll_queries": queries,
        "steps": [{**dataclasses.asdict(s), "held": s.held} for s in steps],
        "largest_n": largest.n if largest else 0,
        "saturation": {name: dataclasses.asdict(e) for name, e in saturation.items()},
        "ratio": round(ratio, 3),
        "others_cores_max": others,
        "server_log_tail": server_log,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")

    if largest:
        print(f"\nN = {largest.n} live sessions ({largest.offered_rps} req/s offered):")
        print(_table(largest.endpoints))
    print(f"\nSaturation, {SATURATION_CONNECTIONS} connections, {SATURATION_SECONDS} s each:")
    print(_table(saturation))
    for name, r in saturation.items():
        print(
            f"{name}: {r.cpu_ms_per_request:.2f} ms of server CPU per request; cores used by "
            f"the server {r.server_cores:.2f}, by other programs {r.others_cores:.2f}"
        )
    print(
        f"\nlargest N: {result['largest_n']} (p95 < {P95_BUDGET_MS:.0f} ms, 0 errors, {database})"
    )
    print(f"ratio: {ratio:.2f}")
    print(f"results: {path.relative_to(ROOT)}")
    if others > BUSY_MACHINE_CORES:
        print(
            f"warning: other programs used up to {others:.2f} cores during the search, so these "
            "figures understate Spar: run it again on a quiet machine.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
