"""config.serve: no proxy is trusted unless FORWARDED_ALLOW_IPS names one.

The last tests start the real server (`python -m config.serve`, uvicorn) with production
settings, because the trust decision is the server's: Django only sees the scheme it chose.
"""

import os
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

from config.serve import uvicorn_options

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20  # seconds


def test_serve_trusts_no_proxy_by_default():
    assert uvicorn_options({}) == {"proxy_headers": False}
    assert uvicorn_options({"FORWARDED_ALLOW_IPS": " "}) == {"proxy_headers": False}


def test_serve_trusts_the_proxies_named_in_the_environment():
    assert uvicorn_options({"FORWARDED_ALLOW_IPS": "127.0.0.1, 10.0.0.0/8"}) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["127.0.0.1", "10.0.0.0/8"],
    }


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
    """The server as deployed, with production settings (HTTPS redirect on), on a free port."""
    # Templates need no collected static files: plain storage instead of the manifest.
    (tmp / "serve_test_settings.py").write_text(
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
        "DJANGO_SETTINGS_MODULE": "serve_test_settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SPAR_VAR_DIR": str(tmp),
    }
    if forwarded_allow_ips is not None:
        env["FORWARDED_ALLOW_IPS"] = forwarded_allow_ips
    port = _free_port()
    log = tmp / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "config.serve", "--port", str(port)],
            cwd=tmp,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited at start:\n{log.read_text()[-3000:]}")
            try:
                Server(port).get("/healthz", {})
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.skip(f"the server did not answer within {START_TIMEOUT} s")
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
    yield from _serve(tmp_path_factory.mktemp("serve_default"), None)


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("serve_proxied"), "127.0.0.1")


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
def test_undecodable_requests_get_400_from_the_server(proxied_server, content_type, path):
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
