from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from casebank import services


class Command(BaseCommand):
    help = "Write cases from the database as <slug>.md files into a folder (the import format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--slug", action="append", dest="slugs", help="only this case")

    def handle(
        self, *args: object, directory: Path, slugs: list[str] | None = None, **options: object
    ) -> None:
        written = services.export_cases(directory, slugs)
        self.stdout.write(self.style.SUCCESS(f"Wrote {len(written)} case file(s) to {directory}."))
