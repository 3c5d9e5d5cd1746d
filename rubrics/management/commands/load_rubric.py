from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rubrics import services


class Command(BaseCommand):
    help = (
        "Load rubric YAML files (default: the shipped rubric). A version is created published, "
        "left alone when unchanged, or replaced when it is still a draft; safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "files",
            nargs="*",
            type=Path,
            metavar="FILE",
            help=f"rubric files to load (default: {services.DEFAULT_RUBRIC_FILE})",
        )

    def handle(self, *args: object, files: list[Path], **options: object) -> None:
        for path in files or [services.DEFAULT_RUBRIC_FILE]:
            try:
                report = services.load_rubric_file(path)
            except services.RubricFileError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(str(report))
