"""The pages that the accessibility and HTML-validity checks visit, and the data they show.

Adding a page is one line in PAGES. A page whose URL name does not exist (yet) is a visible skip
that names it, never a silent omission.
"""

import io
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import get_resolver, reverse
from playwright.sync_api import BrowserContext

from accounts import profile_services
from casebank.models import Case
from interviews import services
from interviews.models import Session, SessionMode
from rubrics.services import latest_published_version
from scorecards import services as scorecard_services

CASE_SLUG = "delivery-eta"
# The window sizes the layout is checked at.
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
NOTES = "First I would clarify the **business objective** and the p99 latency budget."


# The tables `load_casebank` writes, as LIKE patterns (an underscore is a wildcard unless escaped).
CASEBANK_TABLES = (r"casebank\_%", r"rubrics\_%")
_copy: dict[str, Path | str] = {}
_copy_folder = tempfile.TemporaryDirectory(prefix="spar-casebank-")
# PostgreSQL keeps the copy in a schema of the (per-worker) test database, outside the search
# path, so Django neither sees nor empties its tables.
POSTGRES_COPY_SCHEMA = "casebank_copy"


def load_shipped_casebank() -> None:
    """The shipped rubric and cases, exactly as `load_casebank` writes them.

    Browser tests run on a database that is emptied after each test, and loading the case bank
    costs about 0.4 s. Each test process loads it once, keeps a copy of its tables, and copies
    their rows back into the emptied tables for later tests (a few milliseconds), so every test
    sees the same rows with the same ids. Table names come from the database's own catalogue
    and the rest is fixed text: nothing is injected into the SQL below.
    """
    if "where" not in _copy:
        call_command("load_casebank", stdout=io.StringIO())
        keep = _keep_sqlite if connection.vendor == "sqlite" else _keep_postgres
        keep()
        return
    if connection.vendor == "sqlite":
        _restore_sqlite()
    else:
        _restore_postgres()


def _like_any(column: str) -> str:
    return " OR ".join(f"{column} LIKE %s ESCAPE '\\'" for _ in CASEBANK_TABLES)


def _keep_sqlite() -> None:
    path = Path(_copy_folder.name) / "casebank.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(path)])
    _copy["where"] = path


def _restore_sqlite() -> None:
    with connection.cursor() as cursor:
        # ATTACH and the foreign-key switch are refused inside a transaction; the copy is one.
        # The copied rows refer to each other (the tables go in any order), so references are
        # checked once they are all in, below.
        cursor.execute("ATTACH DATABASE %s AS bank", [str(_copy["where"])])
        cursor.execute("PRAGMA foreign_keys = OFF")
        try:
            where = _like_any("name")
            find = f"SELECT name FROM bank.sqlite_master WHERE type = 'table' AND ({where})"  # noqa: S608
            cursor.execute(find, CASEBANK_TABLES)
            tables = [name for (name,) in cursor.fetchall()]
            names = ", ".join(["%s"] * len(tables))
            with transaction.atomic():
                for table in tables:
                    copy = f'INSERT INTO main."{table}" SELECT * FROM bank."{table}"'  # noqa: S608
                    cursor.execute(copy)
                # The tables' id counters too, so that ids continue as after a fresh load.
                forget = f"DELETE FROM main.sqlite_sequence WHERE name IN ({names})"  # noqa: S608
                cursor.execute(forget, tables)
                counters = f"SELECT name, seq FROM bank.sqlite_sequence WHERE name IN ({names})"  # noqa: S608
                cursor.execute(f"INSERT INTO main.sqlite_sequence (name, seq) {counters}", tables)
                cursor.execute("PRAGMA main.foreign_key_check")
                broken = cursor.fetchall()
                assert broken == [], f"the copied case bank refers to missing rows: {broken[:5]}"
        finally:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("DETACH DATABASE bank")


def _keep_postgres() -> None:
    schema = POSTGRES_COPY_SCHEMA
    with connection.cursor() as cursor:
        # A copy left by an earlier run on a kept test database may have another schema.
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        cursor.execute(f'CREATE SCHEMA "{schema}"')
        where = _like_any("tablename")
        find = f"SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND ({where})"  # noqa: S608
        cursor.execute(find, CASEBANK_TABLES)
        for (table,) in cursor.fetchall():
            cursor.execute(f'CREATE TABLE "{schema}"."{table}" AS TABLE public."{table}"')
    _copy["where"] = schema


def _restore_postgres() -> None:
    schema = str(_copy["where"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        tables = [table for (table,) in cursor.fetchall()]
        # Django's foreign keys on PostgreSQL are checked at the commit, so the tables go in any
        # order. Their id sequences only ever grow: new rows get ids above the copied ones.
        with transaction.atomic():
            for table in tables:
                copy = f'INSERT INTO public."{table}" SELECT * FROM "{schema}"."{table}"'  # noqa: S608
                cursor.execute(copy)


@dataclass(frozen=True)
class World:
    """What the pages show: the shipped case bank, four people and five sessions."""

    case: Case
    running: Session  # step 1, with notes, a revealed fact and a marked item
    finished: Session  # the candidate's self-assessment still open
    users: dict[str, User]
    waiting: Session  # nobody has joined: the invite link shows
    ready: Session  # the candidate has joined, nobody has started
    compared: Session  # finished, self-assessed: the scorecard compares both


@dataclass(frozen=True)
class PageSpec:
    name: str
    url_name: str
    as_user: str | None  # a key of World.users; None is an anonymous visitor
    args: Callable[[World], Sequence[object]] = lambda world: ()

    @property
    def is_admin(self) -> bool:
        """Django's admin: its own markup may break rules that ours must keep."""
        return self.url_name.startswith("admin:")

    def path(self, world: World) -> str:
        return reverse(self.url_name, args=self.args(world))

    def user(self, world: World) -> User | None:
        return world.users[self.as_user] if self.as_user else None


PAGES = [
    PageSpec("home-anonymous", "core:home", None),
    PageSpec("home-member", "core:home", "member"),
    PageSpec("library", "casebank:library", "member"),
    PageSpec("case-staff", "casebank:detail", "staff", lambda w: [w.case.slug]),
    PageSpec("case-member", "casebank:detail", "member", lambda w: [w.case.slug]),
    PageSpec("room-interviewer", "interviews:room", "ines", lambda w: [w.running.pk]),
    PageSpec("room-candidate", "interviews:room", "cai", lambda w: [w.running.pk]),
    PageSpec("room-waiting", "interviews:room", "ines", lambda w: [w.waiting.pk]),
    PageSpec("room-ready", "interviews:room", "ines", lambda w: [w.ready.pk]),
    PageSpec("join", "interviews:join", "member", lambda w: [w.waiting.invite_token]),
    PageSpec("sessions", "interviews:list", "ines"),
    PageSpec("new-session", "interviews:create", "ines"),
    PageSpec("scorecard-interviewer", "scorecards:scorecard", "ines", lambda w: [w.finished.pk]),
    # The candidate's scorecard is the self-assessment until they submit it.
    PageSpec("scorecard-candidate", "scorecards:scorecard", "cai", lambda w: [w.finished.pk]),
    PageSpec("scorecard-compared", "scorecards:scorecard", "cai", lambda w: [w.compared.pk]),
    PageSpec("progress", "scorecards:progress", "cai"),
    PageSpec("admin-case-change", "admin:casebank_case_change", "staff", lambda w: [w.case.pk]),
]


def url_name_exists(name: str) -> bool:
    resolver = get_resolver()
    *namespaces, short_name = name.split(":")
    for namespace in namespaces:
        if namespace not in resolver.namespace_dict:
            return False
        resolver = resolver.namespace_dict[namespace][1]
    return short_name in resolver.reverse_dict


def page_params() -> list[object]:
    """PAGES for `pytest.mark.parametrize`, with a page whose URL is missing marked as a skip."""
    params = []
    for spec in PAGES:
        missing = f"page {spec.name!r} not checked: no URL named {spec.url_name!r} (yet)"
        skip = () if url_name_exists(spec.url_name) else pytest.mark.skip(reason=missing)
        params.append(pytest.param(spec, id=spec.name, marks=skip))
    return params


def existing_pages() -> list[PageSpec]:
    """The pages whose URL name exists; page_params() reports the others as skips."""
    return [spec for spec in PAGES if url_name_exists(spec.url_name)]


def build_world(user_model: type[User]) -> World:
    load_shipped_casebank()
    users = {
        "member": user_model.objects.create_user("member"),
        "staff": user_model.objects.create_user("staffer", is_staff=True, is_superuser=True),
        "ines": user_model.objects.create_user("ines"),
        "cai": user_model.objects.create_user("cai"),
    }
    # Their zones are set, so no page reloads itself to send the browser's guess while a test
    # looks at it (tests/browser/test_groups.py covers the guess).
    for user in users.values():
        profile_services.set_time_zone(user=user, time_zone="UTC")
    case = Case.objects.get(slug=CASE_SLUG)
    running = _started_session(case, users["ines"], users["cai"])
    services.save_notes(session=running, step_number=1, text=NOTES, base_version=0)
    services.set_fact_revealed(session=running, fact=case.facts.order_by("pk")[0], revealed=True)
    services.set_mark(
        session=running,
        item_key="business-objective",
        mark="covered",
        after_hint=False,
        by=users["ines"],
    )
    finished = _started_session(case, users["ines"], users["cai"])
    services.set_mark(
        session=finished,
        item_key="business-objective",
        mark="partial",
        after_hint=True,
        by=users["ines"],
    )
    services.finish_session(session=finished)
    compared = _started_session(case, users["ines"], users["cai"])
    for key, mark in (("business-objective", "covered"), ("scale-estimates", "partial")):
        services.set_mark(
            session=compared, item_key=key, mark=mark, after_hint=False, by=users["ines"]
        )
    services.finish_session(session=compared)
    scorecard_services.submit_self_assessment(
        session=compared,
        by=users["cai"],
        marks={"business-objective": ("covered", False), "latency-budget": ("partial", True)},
    )
    waiting = _new_session(case, users["ines"])
    ready = services.join_session(
        token=_new_session(case, users["ines"]).invite_token, user=users["member"]
    )
    running.refresh_from_db()
    return World(
        case=case,
        running=running,
        finished=finished,
        users=users,
        waiting=waiting,
        ready=ready,
        compared=Session.objects.get(pk=compared.pk),
    )


def _new_session(case: Case, interviewer: User) -> Session:
    return services.create_session(
        host=interviewer,
        case=case,
        rubric_version=latest_published_version(),
        length_minutes=45,
        mode=SessionMode.PEER,
    )


def _started_session(case: Case, interviewer: User, candidate: User) -> Session:
    session = _new_session(case, interviewer)
    services.join_session(token=session.invite_token, user=candidate)
    return services.start_session(session=session)


def running_interview(user_model: type[User]) -> Session:
    """A peer interview under way on the shipped delivery-ETA case, between ines and cai."""
    load_shipped_casebank()
    interviewer = user_model.objects.create_user("ines")
    candidate = user_model.objects.create_user("cai")
    return _started_session(Case.objects.get(slug=CASE_SLUG), interviewer, candidate)


def log_in(context: BrowserContext, user: User | None, base_url: str) -> None:
    """Give the context `user`'s session cookie (none for an anonymous visitor)."""
    context.clear_cookies()
    if user is None:
        return
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])
