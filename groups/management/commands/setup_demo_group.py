from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from groups.demo import seed_demo_group


class Command(BaseCommand):
    help = (
        "Add the demo study group of the demo accounts (interviewer, candidate) with a claimed "
        "upcoming slot and an open one. Run by setup_demo; safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="run even when DEBUG is off (never in production)"
        )

    def handle(self, *args: object, force: bool = False, **options: object) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("setup_demo_group seeds demo data; DEBUG is off.")
        owner = User.objects.filter(username="interviewer").first()
        member = User.objects.filter(username="candidate").first()
        if owner is None or member is None:
            raise CommandError("The demo accounts are missing: run setup_demo.")
        demo = seed_demo_group(owner=owner, member=member, now=timezone.now())
        made = [
            what
            for what, done in (
                ("the group", demo.created),
                ("a claimed upcoming slot", demo.claimed is not None),
                ("an open slot", demo.open is not None),
            )
            if done
        ]
        self.stdout.write(
            "Demo group: " + (", ".join(made) + " created." if made else "already there.")
        )
