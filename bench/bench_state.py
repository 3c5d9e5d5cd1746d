"""Throughput of the room's poll endpoint next to a bare Django view, under gunicorn gthread.

Starts gunicorn with production settings on a fresh SQLite database (or DATABASE_URL), creates
a running session, and drives three URLs with wrk (Debian package `wrk`):
  bare       a view with the full middleware stack and nothing else
  unchanged  /sessions/<id>/state/?v=<current>  → 204, the common case of a poll
  changed    /sessions/<id>/state/?v=0          → the interviewer's fragments, rendered
Prints a table and `ratio: 0.NN` (unchanged ÷ bare), and writes bench/results/state.json.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "16")

SETUP = """
import django, json
django.setup()
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from casebank.models import Case
from interviews import services
from interviews.models import SessionMode
from rubrics.services import latest_published_version
iv = User.objects.create_user("bench-interviewer", password="x-bench-password-x")
cd = User.objects.create_user("bench-candidate", password="x-bench-password-x")
s = services.create_session(host=iv, case=Case.objects.get(slug="ad-click-prediction"),
    rubric_version=latest_published_version(), length_minutes=45, mode=SessionMode.PEER)
services.join_session(token=s.invite_token, user=cd)
s = services.start_session(session=s)
services.save_notes(session=s, step_number=1, text="We optimise for revenue with a p99 latency "
    "budget of 50 ms; labels are clicks within a time window; time-based split.", base_version=0)
s.refresh_from_db()
store = SessionStore()
store[SESSION_KEY] = str(iv.pk)
store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
store[HASH_SESSION_KEY] = iv.get_session_auth_hash()
store.create()
print(json.dumps({"session": s.pk, "version": s.version, "cookie": store.session_key}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wrk(url: str, cookie: str) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{DURATION}",
            "--latency",
            "-H",
            f"Cookie: sessionid={cookie}",
            "-H",
            "HX-Request: true",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: _ms(re.search(rf"\s{p}%\s+([\d.]+\w+)", out).group(1)) for p in ("50", "90", "99")}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": lat["50"],
        "p90_ms": lat["90"],
        "p99_ms": lat["99"],
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> int:
    if shutil.which("wrk") is None:
        print("This benchmark needs wrk: sudo apt-get install -y wrk", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="spar-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SPAR_VAR_DIR": str(tmp),
        "LOG_LEVEL": "WARNING",
    }
    python = sys.executable

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [python, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )

    run("manage.py", "migrate", "--noinput")
    run("manage.py", "collectstatic", "--noinput")
    run("manage.py", "load_casebank")
    info = json.loads(run("-c", SETUP).stdout.strip().splitlines()[-1])
    port = _free_port()
    server = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-k",
            "gthread",
            "--workers",
            "2",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        urls = {
            "bare": f"{base}/bench/bare/",
            "unchanged": f"{base}/sessions/{info['session']}/state/?v={info['version']}",
            "changed": f"{base}/sessions/{info['session']}/state/?v=0",
        }
        results = {name: _wrk(url, info["cookie"]) for name, url in urls.items()}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    ratio = results["unchanged"]["rps"] / results["bare"]["rps"]
    print(f"{'endpoint':<10} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, r in results.items():
        print(
            f"{name:<10} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p90_ms']:>8.2f} "
            f"{r['p99_ms']:>8.2f} {r['non_2xx']:>8}"
        )
    print(f"ratio: {ratio:.2f}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "state.json").write_text(json.dumps({"results": results, "ratio": ratio}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
