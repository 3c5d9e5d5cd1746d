from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from interviews.models import Session, SessionState
from rubrics.services import latest_published_version
from scorecards.demo import seed_demo_sessions

DEMO_PASSWORD = "spar-demo-2026"  # noqa: S105 -- a published demo password, refused when DEBUG=0
DEMO_USERS = (
    ("interviewer", "Ines", "Interviewer", False),
    ("candidate", "Cai", "Candidate", False),
    ("author", "Ada", "Author", True),
)


class Command(BaseCommand):
    help = (
        "Prepare a development database: load the shipped rubric and case library, create "
        "the demo accounts (interviewer, candidate, and a staff account 'author') with a known "
        "password, a few finished sessions between interviewer and candidate, and their study "
        "group with a claimed and an open slot."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="run even when DEBUG is off (never in production)"
        )

    def handle(self, *args: object, force: bool = False, **options: object) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("setup_demo creates accounts with a public password; DEBUG is off.")
        for step in self._content_commands():
            call_command(step, stdout=self.stdout, stderr=self.stderr)
        for username, first, last, staff in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "is_staff": staff},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            if staff and not user.is_superuser:
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
        self._seed_sessions()
        # By name, not import: the groups app sits above scorecards in the app stack.
        call_command("setup_demo_group", force=force, stdout=self.stdout, stderr=self.stderr)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo accounts: interviewer, candidate and author (staff), "
                f"password {DEMO_PASSWORD!r}. Log in at the address the server prints next."
            )
        )

    def _content_commands(self) -> list[str]:
        return ["load_casebank"]

    def _seed_sessions(self) -> None:
        interviewer = User.objects.get(username="interviewer")
        candidate = User.objects.get(username="candidate")
        # Seeded once: a second run (every `make run`) must not add another round of history.
        if Session.objects.filter(candidate=candidate, state=SessionState.FINISHED).exists():
            self.stdout.write("Demo sessions: already there.")
            return
        version = latest_published_version()
        if version is None:
            self.stdout.write("Demo sessions: skipped, no published rubric.")
            return
        sessions = seed_demo_sessions(
            interviewer=interviewer, candidate=candidate, version=version, now=timezone.now()
        )
        self.stdout.write(f"Demo sessions: {len(sessions)} finished sessions created.")
