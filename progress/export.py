"""The progress history as CSV rows, safe to open in a spreadsheet."""

from collections.abc import Iterator

from progress.overview import HistoryRow

HEADER = ["date", "case", "interviewer", "total_percent", "band", "overrun_minutes", "session_id"]
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP:
# CSV injection); tab and carriage return are included because some apps strip them first.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """The cell with a leading ' when it would otherwise be read as a formula."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def history_rows(rows: list[HistoryRow]) -> Iterator[list[str]]:
    yield HEADER
    for row in rows:
        total = row.digest.total
        yield [
            spreadsheet_safe(cell)
            for cell in (
                row.date,
                row.session.case.title,
                row.interviewer,
                "" if total is None else row.total,
                row.band if row.digest.band else "",
                row.overrun_minutes,
                str(row.session.pk),
            )
        ]
