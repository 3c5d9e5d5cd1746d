"""What a notes change costs the server: the save, and the poll that brings it to the other side.

    python bench/bench_notes.py [--repeats 40]

Builds a fresh SQLite database with the demo content, starts a peer session and fills all seven
steps with notes at the length limit (realistic Markdown: headings, lists, emphasis, code). Then,
repeatedly, the candidate changes one step's notes through the notes endpoint and the interviewer
polls the room with the version their page showed before. Prints the median time of each request
(through Django's test client: views, templates, database, no network) and the poll's size.

Run it on two checkouts (e.g. with a before/after timing tool) to compare: it uses nothing newer
than the notes endpoint and the state view.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _notes(step: int, limit: int) -> str:
    block = (
        f"## Step {step}: what we decided\n\n"
        "- **Objective**: raise *qualified* clicks, measured as `clicks / impressions` per slot\n"
        "- Latency budget p99 150 ms; features from the [online store](https://example.org)\n"
        "1. Label: click within 30 s, delayed labels joined by impression id\n"
        "2. Split by time, never at random, to avoid leakage\n\n"
        "> Trade-off: freshness against cost of retraining every hour.\n\n"
    )
    text = ""
    while len(text) + len(block) <= limit:
        text += block
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # At most 60: more saves in 30 s meet the notes limit of the endpoint.
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="spar-bench-notes-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from bench.demo import load_demo, start_peer_session
    from casebank.models import Case
    from interviews import services
    from interviews.models import NOTE_LIMIT, SessionStep

    setup_test_environment()
    load_demo()
    interviewer = User.objects.get(username="interviewer")
    candidate = User.objects.get(username="candidate")
    case = Case.objects.order_by("pk").first()
    session = start_peer_session(case)
    for number in range(1, 8):
        services.save_notes(
            session=session, step_number=number, text=_notes(number, NOTE_LIMIT), base_version=0
        )

    writer, reader = Client(), Client()
    writer.force_login(candidate)
    reader.force_login(interviewer)
    hx = {"HX-Request": "true"}
    state_url = reverse("interviews:state", args=[session.pk])
    saves, polls, sizes = [], [], []
    for n in range(args.repeats):
        session.refresh_from_db()
        step = SessionStep.objects.get(session=session, number=4)
        before = session.version
        text = _notes(4, NOTE_LIMIT - 20) + f"\n\nchange {n}"
        started = time.perf_counter()
        response = writer.post(
            reverse("interviews:notes", args=[session.pk, 4]),
            {"text": text, "base_version": step.notes_version},
            headers={"Accept": "application/json"},
        )
        saves.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        started = time.perf_counter()
        response = reader.get(state_url, {"v": before}, headers=hx)
        polls.append(time.perf_counter() - started)
        assert response.status_code == 200
        assert f"change {n}" in response.content.decode()
        sizes.append(len(response.content))
    print(f"notes of {NOTE_LIMIT:,} characters on 7 steps, {args.repeats} changes of one step")
    print(f"save: median {statistics.median(saves) * 1000:.1f} ms")
    print(f"poll after the change: median {statistics.median(polls) * 1000:.1f} ms")
    print(f"poll size: median {statistics.median(sizes) / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
