"""How the load benchmark (bench/load.py) counts the CPU of the database beside the server's."""

import os
from pathlib import Path

import pytest

from bench import load


def _process(proc: Path, pid: int, name: str, utime: int, stime: int, cutime: int = 0) -> None:
    folder = proc / str(pid)
    folder.mkdir()
    (folder / "comm").write_text(f"{name}\n")
    # /proc/<pid>/stat: after the name, state, ppid and eight more fields, then utime, stime,
    # cutime and cstime, in clock ticks; the name may hold spaces and parentheses.
    rest = ["S", "1", *["0"] * 9, str(utime), str(stime), str(cutime), "2", "20"]
    (folder / "stat").write_text(f"{pid} ({name}) {' '.join(rest)}\n")


def test_postgresql_cpu_counts_its_processes_and_the_connections_that_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://spar:spar@127.0.0.1:5432/spar")
    _process(tmp_path, 10, "postgres", utime=100, stime=20, cutime=300)  # the postmaster
    _process(tmp_path, 11, "postgres", utime=50, stime=10)  # a connection
    _process(tmp_path, 12, "python3", utime=999, stime=999)  # the server, not the database
    _process(tmp_path, 13, "post gres)", utime=999, stime=999)  # a name that only looks alike
    ticks = 100 + 20 + 300 + 2 + 50 + 10 + 2
    assert load._database_cpu(tmp_path) == pytest.approx(ticks / os.sysconf("SC_CLK_TCK"))


def test_there_is_no_database_cpu_to_read_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/bench.sqlite3")
    _process(tmp_path, 10, "postgres", utime=100, stime=20)  # another project's, idle
    assert load._database_cpu(tmp_path) is None


def _meter(monkeypatch: pytest.MonkeyPatch, database: list[float | None]) -> dict[str, float]:
    """A stretch of 2 s in which the machine used 3 CPU seconds: 1 the server's, 0.2 the
    generator's, and `database` the database's readings at its start and end."""
    readings = {
        "_cpu_seconds": iter([5.0, 6.0]),
        "_database_cpu": iter(database),
        "_own_cpu": iter([1.0, 1.2]),
        "_machine_cpu": iter([10.0, 13.0]),
    }
    for name, values in readings.items():
        monkeypatch.setattr(load, name, lambda *args, values=values: next(values))
    clock = iter([100.0, 102.0])
    monkeypatch.setattr(load.time, "monotonic", lambda: next(clock))
    meter = load.Meter([1])
    meter.start()
    return meter.stop()


def test_the_database_is_counted_apart_from_other_programs(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = _meter(monkeypatch, [4.0, 5.2])
    assert cpu["server_cores"] == 0.5
    assert cpu["database_cores"] == 0.6
    assert cpu["generator_cores"] == 0.1
    assert cpu["others_cores"] == 0.3  # (3 - 1 - 0.2 - 1.2) / 2


def test_on_sqlite_everything_else_is_other_programs(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = _meter(monkeypatch, [None, None])
    assert "database_cores" not in cpu
    assert cpu["others_cores"] == 0.9


def test_a_step_waits_for_the_database_to_be_quiet_too() -> None:
    assert load._is_quiet({"server_cores": 0.1})
    assert load._is_quiet({"server_cores": 0.1, "database_cores": 0.05})
    assert not load._is_quiet({"server_cores": 0.1, "database_cores": 0.15})
    assert not load._is_quiet({"server_cores": 0.25})
