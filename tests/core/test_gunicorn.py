"""gunicorn.conf.py: no proxy is trusted unless FORWARDED_ALLOW_IPS names one.

The last tests start real gunicorn processes with production settings, because the trust decision
is gunicorn's: Django only sees the `wsgi.url_scheme` gunicorn chose.
"""

import os
import runpy
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPResponse
from pathlib import Path

import pytest

gunicorn = pytest.importorskip("gunicorn")
from gunicorn.config import Config  # noqa: E402 -- only once gunicorn is known to be there

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "gunicorn.conf.py"
START_TIMEOUT = 20  # seconds
# gunicorn ≥ 25.1 opens a control socket at one fixed path per user: two servers would share it.
NO_CONTROL_SOCKET = ["--no-control-socket"] if gunicorn.version_info >= (25, 1) else []


def _forwarded_allow_ips(monkeypatch: pytest.MonkeyPatch, env: str | None) -> list[str]:
    """What gunicorn ends up with: it runs the file and passes each setting to Config.set."""
    if env is None:
        monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    else:
        monkeypatch.setenv("FORWARDED_ALLOW_IPS", env)
    cfg = Config()
    cfg.set("forwarded_allow_ips", runpy.run_path(str(CONF))["forwarded_allow_ips"])
    return cfg.forwarded_allow_ips


def test_conf_trusts_no_proxy_by_default(monkeypatch):
    assert _forwarded_allow_ips(monkeypatch, None) == []


def test_conf_trusts_the_proxies_named_in_the_environment(monkeypatch):
    assert _forwarded_allow_ips(monkeypatch, "127.0.0.1, 10.0.0.0/8") == ["127.0.0.1", "10.0.0.0/8"]


def test_conf_rejects_a_malformed_address(monkeypatch):
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        _forwarded_allow_ips(monkeypatch, "localhost")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    port: int

    def get(self, path: str, headers: dict[str, str]) -> HTTPResponse:
        return self.request("GET", path, None, headers)

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> HTTPResponse:
        connection = HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        connection.close()
        return response


def _serve(tmp: Path, forwarded_allow_ips: str | None) -> Iterator[Server]:
    """gunicorn with our config and production settings (HTTPS redirect on) on a free port."""
    # Templates need no collected static files: plain storage instead of the manifest.
    (tmp / "gunicorn_test_settings.py").write_text(
        "from config.settings import *  # noqa: F403\n"
        "STORAGES = {**STORAGES, 'staticfiles': "
        "{'BACKEND': 'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
    )
    dropped = {
        "DATABASE_URL",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "FORWARDED_ALLOW_IPS",
        "SECURE_SSL_REDIRECT",
        "TRUST_X_FORWARDED_PROTO",
    }
    env = {k: v for k, v in os.environ.items() if k not in dropped} | {
        "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "gunicorn_test_settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SPAR_VAR_DIR": str(tmp),
    }
    if forwarded_allow_ips is not None:
        env["FORWARDED_ALLOW_IPS"] = forwarded_allow_ips
    port = _free_port()
    log = tmp / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(CONF),
                "config.wsgi",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                *NO_CONTROL_SOCKET,
            ],
            cwd=tmp,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited at start:\n{log.read_text()[-3000:]}")
            try:
                Server(port).get("/healthz", {})
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.skip(f"gunicorn did not answer within {START_TIMEOUT} s")
                time.sleep(0.2)
        yield Server(port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("gunicorn_default"), None)


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("gunicorn_proxied"), "127.0.0.1")


def test_forged_forwarded_proto_is_ignored_by_default(default_server):
    # A plain-HTTP request from this host claims HTTPS: Spar still redirects it to HTTPS.
    response = default_server.get("/healthz", {"X-Forwarded-Proto": "https"})
    assert response.status == 301
    assert response.getheader("Location") == f"https://127.0.0.1:{default_server.port}/healthz"


def test_forwarded_proto_from_a_named_proxy_is_believed(proxied_server):
    # The same request, with FORWARDED_ALLOW_IPS naming this host: served as HTTPS.
    response = proxied_server.get("/healthz", {"X-Forwarded-Proto": "https"})
    assert response.status == 200
    assert response.getheader("Strict-Transport-Security").startswith("max-age=")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset=ascii",
        "application/x-www-form-urlencoded; charset=utf-16",
        "application/x-www-form-urlencoded; charset=latin-1",
        "text/plain; charset*=BOGUS''x",
    ],
)
@pytest.mark.parametrize("path", ["/healthz", "/accounts/login/", "/no-such-page/"])
def test_undecodable_requests_get_400_under_gunicorn(proxied_server, content_type, path):
    response = proxied_server.request(
        "POST",
        path,
        b"csrfmiddlewaretoken=" + b"x" * 32,
        {
            "X-Forwarded-Proto": "https",
            "Content-Type": content_type,
            "Cookie": "csrftoken=" + "x" * 32,
        },
    )
    assert response.status == 400
