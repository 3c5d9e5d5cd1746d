"""What the room's two writes cost the server's CPU, and what the update each causes costs.

    python bench/bench_writes.py [--rounds 5] [--repeats 200]

In-process, through Django's test client (no network, no server threads), on a fresh SQLite
database (or a throwaway PostgreSQL database when DATABASE_URL points at PostgreSQL, as for
bench/load.py) with the demo content and a running peer session on a case with items of its
own. Each round measures the CPU time (time.process_time: a busy machine slows it less than
the clock) per operation of:

- the bare view of bench/urls.py (the floor: Django and the middleware, no database);
- the signed-in view of bench/urls.py: the bare view behind the login (its two reads);
- the one-update view of bench/urls.py: the least a signed-in write can do (one UPDATE);
- a mark: the interviewer's htmx request, with the page's version as static/js/live.js sends it;
- the update that mark makes for the candidate's stream (interviews.live.render_changes);
- a notes save: the candidate's request, as static/js/notes.js sends it;
- the update that save makes for the interviewer's stream;
- a step change: the interviewer's htmx request to go to the other of two steps (its answer
  carries the new step's checklist, so its own stream is sent nothing);
- the update that step change makes for the candidate's stream.

It prints the median of the rounds for each, and each against the bare view and against the least
write. On PostgreSQL on this
machine it also reads the CPU of the database server's process behind the connection, which
parses, plans and runs the statements (with `?server_side_binding=false` added to DATABASE_URL it
measures the settings before statements were prepared). The load benchmark
(bench/load.py) measures these costs under load on the real server; this one is quieter, so two
commits can be compared in one sitting: run it on both checkouts, one after the other, twice.
"""

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MARKS = ("covered", "partial", "missed", "")
PAGE = "bench-page-0001"  # the marking page's id (interviews.live.PAGE_HEADER)


def _cpu_ms(
    operation: Callable[[int], object], repeats: int, database: Callable[[], float] | None
) -> tuple[float, float | None]:
    """This process's CPU per operation, and the database server's when it can be read."""
    started, database_started = time.process_time(), database() if database else 0.0
    for n in range(repeats):
        operation(n)
    own = (time.process_time() - started) * 1000 / repeats
    return own, (database() - database_started) / repeats if database else None


def _database_cpu() -> Callable[[], float] | None:
    """On PostgreSQL on this machine, a reader of the CPU (ms) its process behind this
    connection has used; None elsewhere. Django's test client does not close the connection
    after a request, so it is the one process throughout."""
    from django.db import connection

    from bench.load import _cpu_seconds

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    # A server elsewhere (or in a container) has its own process ids: a local process with
    # this id would be another program.
    name = Path(f"/proc/{pid}/comm")
    if not name.exists() or name.read_text().strip() != "postgres":
        return None
    return lambda: _cpu_seconds([pid]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=200, help="operations of each kind a round")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "").strip()
    with contextlib.ExitStack() as cleanup:
        if urlsplit(database_url).scheme in {"postgres", "postgresql", "pgsql"}:
            from bench.load import _throwaway_postgres

            os.environ["DATABASE_URL"] = cleanup.enter_context(_throwaway_postgres(database_url))
        else:
            folder = tempfile.mkdtemp(prefix="spar-bench-writes-")
            cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
            os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        _measure(args)


def _measure(args: argparse.Namespace) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("DEBUG", "1")  # no SECRET_KEY or collected static files needed
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse

    from bench.demo import load_demo, start_peer_session
    from casebank.models import Case
    from interviews import live, services, views
    from interviews.checklist import session_checklist
    from interviews.models import Session, SessionStep
    from interviews.permissions import Role

    load_demo()
    # As in production: no query log, no template debugging (the engine is built on first use).
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]
    # The notes endpoint allows 120 saves per 30 s a person; this measures the save, not the limit.
    views.NOTE_SAVES_PER_WINDOW = 10**9

    interviewer = User.objects.get(username="interviewer")
    candidate = User.objects.get(username="candidate")
    # A case that adds items of its own, as every shipped case does; the session goes to the
    # first step that has one, so the marks and the evidence cover the case's items too.
    case = Case.objects.published().filter(extra_items__isnull=False).order_by("pk").first()
    step = case.extra_items.order_by("step").values_list("step", flat=True).first()
    session = start_peer_session(case)
    session = services.go_to_step(session=session, number=step)
    for number in sorted({1, step}):
        services.save_notes(
            session=session,
            step_number=number,
            text=f"Step {number}: the business goal, a latency budget, data sources and drift.",
            base_version=0,
        )
    item = next(e.key for e in session_checklist(session) if e.step == step and e.from_case)

    bare, marker, writer = Client(), Client(), Client()
    marker.force_login(interviewer)
    writer.force_login(candidate)
    mark_url = reverse("interviews:mark", args=[session.pk])
    notes_url = reverse("interviews:notes", args=[session.pk, step])
    room_url = reverse("interviews:room", args=[session.pk])
    control_url = reverse("interviews:control", args=[session.pk])
    steps = (step, step % 7 + 1)
    notes_version = {"base": SessionStep.objects.get(session=session, number=step).notes_version}

    def version() -> int:
        return Session.objects.values_list("version", flat=True).get(pk=session.pk)

    def bare_view(n: int) -> None:
        assert bare.get("/bench/bare/").status_code == 204

    def signed_in(n: int) -> None:
        assert marker.get("/bench/signed-in/").status_code == 204

    def one_update(n: int) -> None:
        assert writer.post("/bench/one-update/").status_code == 204

    def mark(n: int) -> None:
        response = marker.post(
            mark_url,
            {"item": item, "mark": MARKS[n % len(MARKS)]},
            headers={"HX-Request": "true", "X-Spar-Version": str(version())},
        )
        assert response.status_code == 200, response.status_code

    def save_notes(n: int) -> None:
        response = writer.post(
            notes_url,
            {
                "text": f"Latency budget and data drift, draft {n}.",
                "base_version": notes_version["base"],
            },
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 200, response.status_code
        notes_version["base"] = json.loads(response.content)["version"]

    def change_step(n: int, to: int | None = None) -> None:
        page, current = Session.objects.values_list("version", "current_step").get(pk=session.pk)
        response = marker.post(
            control_url,
            {"action": "jump", "step": to or (steps[1] if current == steps[0] else steps[0])},
            headers={"HX-Request": "true", "X-Spar-Version": str(page), "X-Spar-Page": PAGE},
        )
        assert response.status_code == 200, response.status_code

    def render_for(role: Role) -> Callable[[int], None]:
        since = version() - 1

        def render(n: int) -> None:
            update = live.render_changes(session.pk, since, [live.Viewer(role)])
            assert update is not None
            assert role in update.html

        return render

    marker.get(room_url)  # the page the marks come from; fills the process's caches
    for operation in (bare_view, signed_in, one_update, mark, save_notes, change_step):
        operation(0)
    change_step(0, to=step)
    database = _database_cpu()
    figures: dict[str, list[tuple[float, float | None]]] = {}

    def measure(name: str, operation: Callable[[int], object]) -> None:
        figures.setdefault(name, []).append(_cpu_ms(operation, args.repeats, database))

    for _ in range(args.rounds):
        measure("bare view", bare_view)
        measure("signed-in view", signed_in)
        measure("one-update write (the least write)", one_update)
        measure("mark", mark)
        measure("its update for the candidate", render_for(Role.CANDIDATE))
        measure("notes save", save_notes)
        measure("its update for the interviewer", render_for(Role.INTERVIEWER))
        measure("step change", change_step)
        measure("its update for the candidate (step)", render_for(Role.CANDIDATE))
        change_step(0, to=step)  # the marks and notes of the next round are on this step
    floor = statistics.median(own for own, _ in figures["bare view"])
    least = statistics.median(own for own, _ in figures["one-update write (the least write)"])
    print(f"CPU per operation, median of {args.rounds} rounds of {args.repeats} (in-process):")
    for name, values in figures.items():
        middle = statistics.median(own for own, _ in values)
        line = (
            f"  {name:<36} {middle:7.3f} ms  ({middle / floor:5.1f}× the bare view, "
            f"{middle / least:4.1f}× the least write)"
        )
        if database:
            server = statistics.median(theirs or 0.0 for _, theirs in values)
            line += f"  PostgreSQL's process {server:6.3f} ms"
        print(line)


if __name__ == "__main__":
    main()
