import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import envbool, envint, envlist

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k3y-for-tests-only-" * 4,
    "ALLOWED_HOSTS": "spar.example.org",
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("off", False),
        ("", True),
    ],
)
def test_envbool_parses_known_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("SPAR_TEST_FLAG", raw)
    assert envbool("SPAR_TEST_FLAG", True) is expected


@pytest.mark.parametrize("raw", ["2", "maybe", "tru", "yes please"])
def test_envbool_rejects_malformed_values(monkeypatch, raw):
    monkeypatch.setenv("SPAR_TEST_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="SPAR_TEST_FLAG must be one of"):
        envbool("SPAR_TEST_FLAG", False)


def test_envint_parses_and_defaults(monkeypatch):
    monkeypatch.setenv("SPAR_TEST_INT", " 42 ")
    assert envint("SPAR_TEST_INT", 7) == 42
    monkeypatch.delenv("SPAR_TEST_INT")
    assert envint("SPAR_TEST_INT", 7) == 7


@pytest.mark.parametrize("raw", ["4.5", "ten", "0x10", "1e3"])
def test_envint_rejects_malformed_values(monkeypatch, raw):
    monkeypatch.setenv("SPAR_TEST_INT", raw)
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        envint("SPAR_TEST_INT", 1)


def test_envint_enforces_minimum(monkeypatch):
    monkeypatch.setenv("SPAR_TEST_INT", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        envint("SPAR_TEST_INT", 1, minimum=0)


def test_envlist_splits_and_rejects_empty_entries(monkeypatch):
    monkeypatch.setenv("SPAR_TEST_LIST", "a.example, b.example")
    assert envlist("SPAR_TEST_LIST", []) == ["a.example", "b.example"]
    monkeypatch.setenv("SPAR_TEST_LIST", "a.example,,b.example")
    with pytest.raises(ImproperlyConfigured, match="empty entry"):
        envlist("SPAR_TEST_LIST", [])


def _manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for their own process only.
    dropped = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "0", "ALLOWED_HOSTS": "spar.example.org"}, "DEBUG=0 needs SECRET_KEY"),
        (
            {"DEBUG": "0", "SECRET_KEY": "short", "ALLOWED_HOSTS": "spar.example.org"},
            "DEBUG=0 needs SECRET_KEY",
        ),
        ({"DEBUG": "0", "SECRET_KEY": "k3y-for-tests-only-" * 4}, "DEBUG=0 needs ALLOWED_HOSTS"),
        ({"DEBUG": "0", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "a.example"}, "SECRET_KEY"),
        ({"DEBUG": "perhaps"}, "DEBUG must be one of"),
        ({"DATABASE_URL": "nonsense://"}, "DATABASE_URL"),
        ({"LOGIN_FAILURE_LIMIT": "0"}, "LOGIN_FAILURE_LIMIT must be at least 1"),
        ({"ACCOUNT_MAIL_LIMIT_PER_IP": "ten"}, "ACCOUNT_MAIL_LIMIT_PER_IP must be a whole number"),
        ({"FORWARDED_ALLOW_IPS": "10.0.0.1,proxy.local"}, "FORWARDED_ALLOW_IPS lists addresses"),
    ],
)
def test_production_refuses_to_start_misconfigured(env, message):
    result = _manage(["check"], env)
    assert result.returncode != 0
    assert message in result.stderr


def test_throttle_and_mail_limits_follow_the_environment():
    env = {
        "LOGIN_FAILURE_LIMIT": "7",
        "LOGIN_FAILURE_LIMIT_PER_IP": "40",
        "LOGIN_FAILURE_WINDOW_SECONDS": "120",
        "ACCOUNT_MAIL_LIMIT": "2",
        "ACCOUNT_MAIL_LIMIT_PER_IP": "8",
        "ACCOUNT_MAIL_WINDOW_SECONDS": "600",
        "FORWARDED_ALLOW_IPS": "127.0.0.1,10.0.0.0/8",
    }
    names = [
        "AXES_FAILURE_LIMIT",
        "LOGIN_FAILURE_LIMIT_PER_IP",
        "AXES_COOLOFF_TIME",
        "ACCOUNT_MAIL_LIMIT",
        "ACCOUNT_MAIL_LIMIT_PER_IP",
        "ACCOUNT_MAIL_WINDOW_SECONDS",
        "FORWARDED_ALLOW_IPS",
    ]
    script = f"from django.conf import settings; print([getattr(settings, n) for n in {names}])"
    result = _manage(["shell", "-c", script], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "[7, 40, datetime.timedelta(seconds=120), 2, 8, 600, ['127.0.0.1', '10.0.0.0/8']]"
    )


def test_check_deploy_passes_in_production_mode():
    result = _manage(["check", "--deploy", "--fail-level", "WARNING"], PROD_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_debug_mode():
    # The guard above must be able to fail: development settings are not deployable.
    result = _manage(["check", "--deploy", "--fail-level", "WARNING"], {"DEBUG": "1"})
    assert result.returncode != 0


def _database_options(url: str) -> str:
    options = "settings.DATABASES['default']['OPTIONS']"
    script = f"from django.conf import settings; print(sorted({options}.items()))"
    result = _manage(["shell", "-c", script], {"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_postgresql_binds_parameters_on_the_server_so_statements_can_be_prepared():
    # No connection is made: only the settings are read.
    options = _database_options("postgres://spar:secret@127.0.0.1:1/spar")
    assert options == "[('prepare_threshold', 5), ('server_side_binding', True)]"


def test_the_database_url_can_turn_server_side_binding_off():
    # As behind a connection pooler that cannot keep prepared statements.
    options = _database_options("postgres://spar:secret@127.0.0.1:1/spar?server_side_binding=false")
    assert options == "[('server_side_binding', False)]"
