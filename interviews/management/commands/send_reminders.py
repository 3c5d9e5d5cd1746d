from django.core.management.base import BaseCommand

from interviews import services
from interviews.schedule import REMINDER_LEAD


class Command(BaseCommand):
    help = (
        "E-mail both people of every session with an agreed time starting within the next "
        f"{int(REMINDER_LEAD.total_seconds() // 60)} minutes. Safe to run from cron every few "
        "minutes: each reminder goes out once, even when runs overlap."
    )

    def handle(self, *args: object, **options: object) -> None:
        sent = services.send_reminders()
        self.stdout.write(f"Reminders: {sent} sent.")
