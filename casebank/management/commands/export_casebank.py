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
        report = services.export_cases(directory, slugs)
        for problem in report.problems:
            self.stderr.write(f"warning: {problem}")
        if report.problems:
            self.stderr.write(
                "These files will not load back until the problems are fixed, in the admin or in "
                "the files."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {len(report.written)} case file(s) to {directory}.")
        )
