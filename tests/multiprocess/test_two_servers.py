"""Two app servers (uvicorn, as deployed) on one PostgreSQL database, driven over HTTP only.

The interviewer uses server A and the candidate server B: every change made through one process
must be visible through the other, pushed to the room's stream on the other within moments (each
process hears of changes from PostgreSQL's NOTIFY, never from its own memory), and restarting A
mid-session must lose nothing acknowledged: a stream that reconnects says what it saw
(Last-Event-ID) and gets what it missed. The step timer keeps counting from when the step began.
The servers run production settings
(DEBUG=0) on their own throwaway database, built with `manage.py migrate` and `load_casebank`;
pytest-django's test database is not involved, because its transactions are invisible to other
processes.

Runs only when DATABASE_URL points at PostgreSQL (the PostgreSQL lane of CI): SQLite has no
server, and the deployment this guards is several processes behind one PostgreSQL.
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPResponse
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import dj_database_url
import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
ON_POSTGRES = bool(DATABASE_URL) and "postgresql" in dj_database_url.parse(DATABASE_URL)["ENGINE"]

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs DATABASE_URL=postgres://… (two server processes share one PostgreSQL database)",
)

PASSWORD = "a-long-enough-multiprocess-password"
HTTP_TIMEOUT = 10  # seconds for any one request
START_TIMEOUT = 20  # seconds for the server to answer /healthz
STOP_TIMEOUT = 15  # seconds for a graceful stop before SIGKILL
TIMER_TOLERANCE = 1  # seconds: the page shows whole seconds
# Generous on purpose (a loaded CI machine): the benchmark measures the real figures.
PUSH_TIMEOUT = 5  # seconds for a change to reach a stream on the other server

SETUP = """
import json
from django.contrib.auth.models import User
from casebank.models import Case
from rubrics.services import latest_published_version
for name in ("mp-interviewer", "mp-candidate"):
    User.objects.create_user(name, password=PASSWORD)
print(json.dumps({
    "case": Case.objects.get(slug="ad-click-prediction").pk,
    "rubric_version": latest_published_version().pk,
}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """One uvicorn process on a fixed port, restartable."""

    name: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.spawn()
        self.wait_until_ready()

    def spawn(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "config.asgi:application",
                    "--port",
                    str(self.port),
                    "--timeout-graceful-shutdown",
                    "1",
                    "--no-access-log",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server {self.name} exited at start:\n{self.log_tail()}")
            connection = HTTPConnection("127.0.0.1", self.port, timeout=1)
            try:
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass  # not listening yet
            finally:
                connection.close()
            time.sleep(0.1)
        pytest.fail(
            f"server {self.name} did not answer within {START_TIMEOUT} s:\n{self.log_tail()}"
        )

    def kill(self) -> None:
        """A crash: no chance to finish anything."""
        self.process.kill()
        self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


class Browser:
    """A user agent with cookies, talking to one server at a time.

    Production cookies are Secure; this test speaks plain http to loopback, where
    http.cookiejar would withhold them, so the jar here is a plain dict.
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        server: Server | None = None,
    ) -> tuple[HTTPResponse, str]:
        target = server or self.server
        head = {"Host": f"127.0.0.1:{target.port}", **(headers or {})}
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            head["Content-Type"] = "application/x-www-form-urlencoded"
            head["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        connection = HTTPConnection("127.0.0.1", target.port, timeout=HTTP_TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=head)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        for raw in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(raw).items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response, text

    def get(self, path: str, server: Server | None = None) -> tuple[HTTPResponse, str]:
        return self.request("GET", path, server=server)

    def post(
        self, path: str, data: dict[str, str], *, headers: dict[str, str] | None = None
    ) -> tuple[HTTPResponse, str]:
        return self.request("POST", path, data=data, headers=headers)

    def log_in(self, username: str) -> None:
        response, page = self.get("/accounts/login/")
        assert response.status == 200, page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        response, page = self.post(
            "/accounts/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        assert (response.status, response.headers["Location"]) == (302, "/"), page
        assert "sessionid" in self.cookies


@dataclass
class Event:
    name: str
    id: int | None
    data: str


class EventStream:
    """A browser's EventSource on /sessions/<id>/stream/, read event by event."""

    def __init__(self, browser: Browser, session_id: int, version: int, server: Server) -> None:
        self.browser = browser
        self.path = f"/sessions/{session_id}/stream/?v={version}"
        self.last_id: int | None = None
        self.response: HTTPResponse | None = None
        self.open(server)

    def open(self, server: Server) -> None:
        """Connect (again) to `server`; after the first time, with Last-Event-ID, as a browser
        reconnects."""
        headers = {
            "Host": f"127.0.0.1:{server.port}",
            "Accept": "text/event-stream",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.browser.cookies.items()),
        }
        if self.last_id is not None:
            headers["Last-Event-ID"] = str(self.last_id)
        self.connection = HTTPConnection("127.0.0.1", server.port, timeout=PUSH_TIMEOUT)
        self.connection.request("GET", self.path, headers=headers)
        self.response = self.connection.getresponse()
        assert self.response.status == 200, self.response.read()

    def next_update(self) -> tuple[Event, float]:
        """The next event that is not a heartbeat, and the seconds it took to come."""
        started = time.monotonic()
        name, event_id, data = "", None, []
        while True:
            line = self.response.readline().decode().rstrip("\n")
            if line:
                key, _, value = line.partition(": ")
                if key == "event":
                    name = value
                elif key == "id":
                    event_id = int(value)
                elif key == "data":
                    data.append(value)
            elif name:
                if name != "heartbeat":
                    if event_id is not None:
                        self.last_id = event_id
                    return Event(name, event_id, "\n".join(data)), time.monotonic() - started
                name, event_id, data = "", None, []

    def next_update_where(self, wanted: Callable[[Event], bool]) -> tuple[Event, float]:
        """The first update that `wanted` accepts, and the seconds it took to come. Opening a
        stream records its owner's presence, a change of its own, so an update carrying only that
        may come before the one a test waits for."""
        started = time.monotonic()
        while True:
            update, _ = self.next_update()
            seconds = time.monotonic() - started
            if wanted(update):
                return update, seconds
            assert seconds < PUSH_TIMEOUT, f"no wanted update within {PUSH_TIMEOUT} s"

    def close(self) -> None:
        self.connection.close()


@dataclass
class Deployment:
    a: Server
    b: Server
    case_id: int
    rubric_version_id: int


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("multiprocess")
    name = f"spar_multiproc_{secrets.token_hex(4)}"
    params = dj_database_url.parse(DATABASE_URL)
    admin = psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"],
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        autocommit=True,
    )
    servers: list[Server] = []
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        url = urlunsplit(urlsplit(DATABASE_URL)._replace(path=f"/{name}"))
        # STATIC_ROOT is fixed in config/settings.py; the manifest that {% static %} needs in
        # production goes to a private folder instead, so parallel runs do not share files.
        (tmp / "multiproc_settings.py").write_text(
            f"from config.settings import *  # noqa: F403\nSTATIC_ROOT = {str(tmp / 'static')!r}\n"
        )
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT)]),
            "DJANGO_SETTINGS_MODULE": "multiproc_settings",
            "DATABASE_URL": url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
        }

        def manage(*args: str) -> str:
            done = subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stderr[-3000:]}"
            return done.stdout

        manage("migrate", "--noinput")
        manage("load_casebank")
        manage("collectstatic", "--noinput")
        setup = f"PASSWORD = {PASSWORD!r}\n{SETUP}"
        ids = json.loads(manage("shell", "-c", setup).strip().splitlines()[-1])
        servers = [Server(label, env, tmp / f"{label}.log") for label in ("A", "B")]
        for server in servers:
            server.spawn()
        for server in servers:
            server.wait_until_ready()
        yield Deployment(servers[0], servers[1], ids["case"], ids["rubric_version"])
    finally:
        for server in servers:
            server.stop()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@dataclass
class LiveSession:
    pk: int
    interviewer: Browser
    candidate: Browser


def _version(page: str) -> int:
    return int(re.search(r'id="poller"[^>]* data-version="(\d+)"', page).group(1))


def _current_step(html: str) -> int:
    return int(re.search(r'id="flow"[^>]* data-current-step="(\d+)"', html).group(1))


def _current_step_elapsed(html: str) -> int:
    # The step's clock as the server rendered it (m:ss), before the browser takes over.
    clock = re.search(r'data-timer-clock role="timer"[^>]*>(\d+):(\d\d)<', html)
    return int(clock.group(1)) * 60 + int(clock.group(2))


def _start_session(deployment: Deployment) -> LiveSession:
    """Interviewer on A creates and starts a session; the candidate joins it on B."""
    interviewer, candidate = Browser(deployment.a), Browser(deployment.b)
    interviewer.log_in("mp-interviewer")
    candidate.log_in("mp-candidate")
    response, page = interviewer.post(
        "/sessions/new/",
        {
            "case": str(deployment.case_id),
            "rubric_version": str(deployment.rubric_version_id),
            "length_minutes": "45",
            "mode": "peer",
        },
    )
    assert response.status == 302, page
    pk = int(re.fullmatch(r"/sessions/(\d+)/", response.headers["Location"]).group(1))
    _, room = interviewer.get(f"/sessions/{pk}/")
    invite = re.search(r'id="invite-url" type="text" readonly value="([^"]+)"', room).group(1)
    assert invite.startswith(f"http://127.0.0.1:{deployment.a.port}/join/")

    response, page = candidate.post(urlsplit(invite).path, {})
    assert (response.status, response.headers.get("Location")) == (302, f"/sessions/{pk}/"), page
    response, page = interviewer.post(f"/sessions/{pk}/control/", {"action": "start"})
    assert response.status == 302, page
    return LiveSession(pk, interviewer, candidate)


def _save_notes(session: LiveSession, step: int, text: str, base_version: int) -> int:
    response, body = session.candidate.post(
        f"/sessions/{session.pk}/notes/{step}/",
        {"text": text, "base_version": str(base_version)},
        headers={"Accept": "application/json"},
    )
    assert response.status == 200, body
    return json.loads(body)["version"]


def _mark_first_item(session: LiveSession) -> str:
    """Mark the current step's first checklist item covered; return its DOM id."""
    _, room = session.interviewer.get(f"/sessions/{session.pk}/")
    key = re.search(r'<input type="hidden" name="item" value="([^"]+)">', room).group(1)
    response, page = session.interviewer.post(
        f"/sessions/{session.pk}/marks/", {"item": key, "mark": "covered"}
    )
    assert response.status == 302, page
    return "item-" + key.replace(":", "--")


def _marked_covered(room: str, dom_id: str) -> bool:
    return f'id="{dom_id}-covered" aria-pressed="true"' in room


def test_session_changes_are_visible_through_the_other_server(deployment: Deployment) -> None:
    session = _start_session(deployment)
    interviewer, candidate = session.interviewer, session.candidate
    _, interviewer_room = interviewer.get(f"/sessions/{session.pk}/")
    _, candidate_room = candidate.get(f"/sessions/{session.pk}/")
    interviewer_version, candidate_version = _version(interviewer_room), _version(candidate_room)
    assert _current_step(candidate_room) == 1

    note = f"Optimise revenue per impression, marker {secrets.token_hex(4)}"
    assert _save_notes(session, step=1, text=note, base_version=0) == 1
    response, update = interviewer.get(f"/sessions/{session.pk}/state/?v={interviewer_version}")
    assert response.status == 200
    assert note in update

    dom_id = _mark_first_item(session)
    # The interviewer's cookie is good on B too: sessions live in the shared database.
    response, room_on_b = interviewer.get(f"/sessions/{session.pk}/", server=deployment.b)
    assert response.status == 200
    assert _marked_covered(room_on_b, dom_id)

    response, page = interviewer.post(f"/sessions/{session.pk}/control/", {"action": "next"})
    assert response.status == 302, page
    response, update = candidate.get(f"/sessions/{session.pk}/state/?v={candidate_version}")
    assert response.status == 200
    assert _current_step(update) == 2
    assert note not in update  # the interviewer's view of the notes is not the candidate's

    response, _ = candidate.get(f"/sessions/{session.pk}/state/?v={_version(update)}")
    assert response.status == 204


def test_restart_mid_session_loses_nothing_and_keeps_the_timer(deployment: Deployment) -> None:
    session = _start_session(deployment)
    interviewer = session.interviewer
    first_note = f"Labels are clicks within 30 minutes, marker {secrets.token_hex(4)}"
    _save_notes(session, step=1, text=first_note, base_version=0)
    dom_id = _mark_first_item(session)
    step_requested = time.monotonic()
    response, page = interviewer.post(f"/sessions/{session.pk}/control/", {"action": "next"})
    assert response.status == 302, page
    step_acknowledged = time.monotonic()

    deployment.a.stop()
    # While A is down, the candidate keeps working on B; what B acknowledges must survive.
    second_note = f"Two-tower retrieval then a ranker, marker {secrets.token_hex(4)}"
    _save_notes(session, step=2, text=second_note, base_version=0)
    time.sleep(max(0.0, 2 - (time.monotonic() - step_acknowledged)))
    deployment.a.start()

    before = time.monotonic()
    response, room = interviewer.get(f"/sessions/{session.pk}/")
    after = time.monotonic()
    assert response.status == 200, "the session cookie no longer works after the restart"
    assert 'data-role="interviewer"' in room
    assert _current_step(room) == 2
    assert first_note in room
    assert second_note in room
    elapsed = _current_step_elapsed(room)
    assert elapsed >= 2
    assert before - step_acknowledged - TIMER_TOLERANCE <= elapsed
    assert elapsed <= after - step_requested + TIMER_TOLERANCE

    response, page = interviewer.post(f"/sessions/{session.pk}/control/", {"action": "previous"})
    assert response.status == 302, page
    _, room = interviewer.get(f"/sessions/{session.pk}/")
    assert _current_step(room) == 1
    assert _marked_covered(room, dom_id)


def test_a_change_through_one_server_reaches_a_stream_on_the_other(deployment: Deployment) -> None:
    session = _start_session(deployment)
    _, room = session.candidate.get(f"/sessions/{session.pk}/")
    stream = EventStream(session.candidate, session.pk, _version(room), deployment.b)
    try:
        response, page = session.interviewer.post(
            f"/sessions/{session.pk}/control/", {"action": "next"}
        )
        assert response.status == 302, page
        update, seconds = stream.next_update_where(lambda u: 'id="flow"' in u.data)
        assert update.name == "update"
        assert _current_step(update.data) == 2
        assert seconds < PUSH_TIMEOUT
        print(f"A → stream on B: {seconds * 1000:.0f} ms")
    finally:
        stream.close()


def test_a_stream_on_a_killed_server_reconnects_with_nothing_missed(
    deployment: Deployment,
) -> None:
    session = _start_session(deployment)
    _, room = session.interviewer.get(f"/sessions/{session.pk}/")
    stream = EventStream(session.interviewer, session.pk, _version(room), deployment.a)
    first = f"Before the crash, marker {secrets.token_hex(4)}"
    _save_notes(session, step=1, text=first, base_version=0)
    stream.next_update_where(lambda u: first in u.data)

    deployment.a.kill()
    stream.close()
    # While A is down the candidate keeps writing on B; the interviewer's browser retries.
    second = f"{first}\nDuring the outage, marker {secrets.token_hex(4)}"
    _save_notes(session, step=1, text=second, base_version=1)
    response, page = session.candidate.post(
        f"/sessions/{session.pk}/notes/2/", {"text": "Step two, early", "base_version": "0"}
    )
    assert response.status == 302, page
    deployment.a.start()

    stream.open(deployment.a)  # what the browser does: reconnect, with Last-Event-ID
    try:
        catch_up, _ = stream.next_update_where(lambda u: "During the outage" in u.data)
        _, now = session.interviewer.get(f"/sessions/{session.pk}/")
        assert catch_up.id == _version(now)
    finally:
        stream.close()
