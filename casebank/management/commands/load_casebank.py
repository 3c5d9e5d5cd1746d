from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from casebank import services


class Command(BaseCommand):
    help = (
        "Load case files (Markdown with YAML front matter) into the database, all or nothing; "
        "every problem of every file is listed in one run. Without a folder: the default rubric "
        "and the shipped library in casebank/cases/. With a folder, the default rubric is "
        "loaded too when the database has no published rubric."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", nargs="?", type=Path, help="a folder of <slug>.md files")

    def handle(self, *args: object, directory: Path | None = None, **options: object) -> None:
        if directory is None:
            # Shipped cases add items to the default rubric's categories, so load it first.
            call_command("load_rubric", stdout=self.stdout, stderr=self.stderr)
            directory = services.SHIPPED_CASES_DIR
        try:
            report = services.load_case_directory(directory)
        except services.CaseFileError as exc:
            count = len(exc.problems)
            what = "this problem" if count == 1 else f"these {count} problems"
            raise CommandError(
                f"Nothing was loaded. Fix {what} and run again:\n  " + "\n  ".join(exc.problems)
            ) from None
        if report.rubric is not None:
            self.stdout.write(f"{report.rubric} (the default rubric, which the cases need)")
        for label, slugs in (
            ("created", report.created),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
        ):
            for slug in slugs:
                self.stdout.write(f"{label}: {slug}")
        self.stdout.write(self.style.SUCCESS(f"Cases: {report.summary()}."))
