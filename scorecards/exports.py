"""The scorecard as a JSON document and as a Markdown file, from the same Report the page shows,
and the progress history as CSV.

The scorecard exports carry only what the requesting role may see: the view builds the Report for
that role.
"""

import re
from collections.abc import Iterator
from datetime import datetime

from django.contrib.auth.models import User
from django.utils import timezone

from interviews.board import Element
from rubrics.scoring import decimal_text, percent_label
from scorecards import calibration
from scorecards.models import Rescore
from scorecards.progress import HistoryRow
from scorecards.report import Diagram, ItemRow, Report, StepReport
from scorecards.serialize import fraction_text, scores_data

FORMAT_VERSION = 1


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _username(user: User | None) -> str | None:
    return user.get_username() if user is not None else None


def _item_data(row: ItemRow) -> dict[str, object]:
    line = row.line
    data: dict[str, object] = {
        "key": row.item.key,
        "title": row.item.title,
        "step": row.item.step,
        "categories": list(row.item.categories),
        "points": row.item.points,
        "kind": row.item.kind.value,
        "required": row.item.required,
        "mark": line.mark.value if line.mark else None,
        "after_hint": line.after_hint,
        "marked_at": _iso(row.mark.marked_at) if row.mark else None,
        "earned": decimal_text(line.earned),
        "deducted": decimal_text(line.deducted),
        "explanation": line.explanation,
        "level": row.item.level.value,
        "stretch": line.stretch,
        "not_applicable": (
            {"by": row.not_applicable_by, "reason": row.not_applicable_reason}
            if line.not_applicable
            else None
        ),
    }
    if row.own_line is not None:
        data["self"] = {
            "mark": row.own_line.mark.value if row.own_line.mark else None,
            "after_hint": row.own_line.after_hint,
            "marked_at": _iso(row.own_mark.marked_at) if row.own_mark else None,
            "earned": decimal_text(row.own_line.earned),
            "deducted": decimal_text(row.own_line.deducted),
            "explanation": row.own_line.explanation,
            "agrees": row.agrees,
        }
    return data


def _step_data(step: StepReport) -> dict[str, object]:
    return {
        "number": step.number,
        "name": step.name,
        "budget_minutes": step.budget_minutes,
        "budget_seconds": step.budget_seconds,
        "elapsed_seconds": step.elapsed_seconds,
        "overrun_seconds": step.overrun_seconds,
        "overrun_minutes": str(step.overrun_minutes),
        "comment": step.comment,
        "notes": step.notes,
        "notes_saved_after_finish": step.notes_saved_after_finish,
        "hints": [{"text": hint.text, "created_at": _iso(hint.created_at)} for hint in step.hints],
    }


def _calibration_data(report: Report) -> dict[str, object] | None:
    result = report.calibration
    if result is None or report.own_card is None:
        return None
    agreement = result.agreement
    return {
        "agreed": result.agreed,
        "items": len(result.comparisons),
        "agreement_percent": None if agreement is None else decimal_text(agreement, 3),
        "agreement_exact": None if agreement is None else fraction_text(agreement),
        "over_rated": [c.item.key for c in result.over_rated],
        "under_rated": [c.item.key for c in result.under_rated],
        "scores": scores_data(report.own_card),
    }


def _rescore_data(rescore: Rescore) -> dict[str, object]:
    return {
        "label": rescore.label,
        "rubric": {
            "name": rescore.rubric_version.rubric.name,
            "version": rescore.rubric_version.number,
        },
        "created_by": _username(rescore.created_by),
        "created_at": _iso(rescore.created_at),
        "scores": rescore.result,
        "unmapped": rescore.unmapped_keys.get("unmapped", []),
        "new": rescore.unmapped_keys.get("new", []),
    }


def _diagram_data(diagram: Diagram, final_scene: list[Element]) -> dict[str, object]:
    final = diagram.final
    return {
        # Excalidraw's own element format: the scene opens again in Excalidraw as it was drawn.
        "elements": final_scene,
        "labels": list(final.snapshot.labels) if final else [],
        "snapshots": [
            {
                "step": view.snapshot.step_number,
                "at_finish": view.snapshot.at_finish,
                "taken_at": _iso(view.snapshot.taken_at),
                "board_version": view.snapshot.board_version,
                "element_count": view.snapshot.element_count,
                "labels": list(view.snapshot.labels),
            }
            for view in diagram.snapshots
        ],
    }


def scorecard_data(report: Report, *, final_scene: list[Element]) -> dict[str, object]:
    """The JSON export: every item with its mark and timestamps, every score, the step times,
    and the final diagram's scene (`final_scene`, from report.final_scene)."""
    session = report.session
    version = session.rubric_version
    return {
        "format": FORMAT_VERSION,
        "session": {
            "id": session.pk,
            "mode": session.mode,
            "case": {"slug": session.case.slug, "title": session.case.title},
            "rubric": {"name": report.rubric_name, "version": version.number},
            "interviewer": _username(session.interviewer),
            "candidate": _username(session.candidate),
            "length_minutes": session.length_minutes,
            "target_level": session.target_level,
            "started_at": _iso(session.started_at),
            "finished_at": _iso(session.finished_at),
            "self_assessment": session.self_assessment,
        },
        "marks_from": report.source.value,
        "scores": scores_data(report.card),
        "steps": [_step_data(step) for step in report.steps],
        "items": [_item_data(row) for row in report.rows],
        "strengths": [row.key for row in report.strengths],
        "work_on_next": [row.key for row in report.work_on_next],
        "self_assessment": _calibration_data(report),
        "rescores": [_rescore_data(view.rescore) for view in report.rescores],
        "diagram": _diagram_data(report.diagram, final_scene),
        "rules": list(report.rules),
        "thresholds": report.thresholds_text,
    }


# --- Markdown -------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text safe inside one Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


# What people type goes into the file as text, never as Markdown or HTML: a viewer that renders
# the file must show it, not run it, and a line of it must not start a heading of its own.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]!|])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _inline(text: str) -> str:
    """A user's one-line text (a hint, a name): one line, Markdown punctuation escaped, and
    HTML's special characters as entities."""
    line = " ".join(str(text).split())
    line = _MARKDOWN_PUNCTUATION.sub(r"\\\1", line)
    return "".join(_HTML.get(char, char) for char in line)


def _block(text: str) -> list[str]:
    """A user's multi-line text (notes, a comment) as a fenced block: shown verbatim, nothing in
    it interpreted. The fence is longer than any run of backticks inside, so none can close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", *text.strip("\n").splitlines(), fence, ""]


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _overrun(step: StepReport) -> str:
    return f"+{step.overrun_minutes} min" if step.overrun_seconds else "on time"


def scorecard_markdown(report: Report, *, diagram_url: str = "") -> str:
    """The scorecard as a Markdown document, for keeping or sharing; `diagram_url` is the
    address of the final diagram's image, when there is one."""
    session = report.session
    card = report.card
    comparing = report.own_card is not None
    finished = timezone.localtime(session.finished_at).strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        f"# Scorecard: {_inline(session.case.title)}",
        "",
        f"- Session {session.pk}, {session.get_mode_display().lower()}, finished {finished}",
    ]
    if session.interviewer:
        lines.append(f"- Interviewer: {_inline(session.interviewer.get_username())}")
    if session.candidate:
        lines.append(f"- Candidate: {_inline(session.candidate.get_username())}")
    lines += [
        f"- Rubric: {report.rubric_name} v{session.rubric_version.number}",
        f"- Marks: {'the candidate’s own' if session.is_solo else 'the interviewer’s'}",
        "",
        "## Result",
        "",
        f"**Total: {percent_label(card.total.percent)}** · **Band: {card.band.label}**",
        "",
    ]
    if card.capped:
        lines += [
            f"The band is capped at {card.band.label} (the score alone gives "
            f"{card.uncapped_band.label}) because required items were missed: "
            f"{', '.join(report.missed_required_titles)}.",
            "",
        ]
    if comparing:
        own = report.own_card
        assert own is not None
        assert report.calibration is not None
        lines += [
            f"Self-assessment: **{percent_label(own.total.percent)}**, {own.band.label}. "
            f"Agreement with the interviewer: **{percent_label(report.calibration.agreement)}** "
            f"({report.calibration.agreed} of {len(report.calibration.comparisons)} items).",
            "",
        ]
    lines += ["## Steps", ""]
    header = "| Step | Score |" + (" Self |" if comparing else "") + " Time | Budget | Overrun |"
    lines += [header, "|" + "---|" * header.count(" |")]
    for step in report.steps:
        own_cell = f" {percent_label(step.own_score.percent)} |" if step.own_score else ""
        lines.append(
            f"| {step.number}. {_cell(step.name)} | {percent_label(step.score.percent)} |"
            f"{own_cell} {_clock(step.elapsed_seconds)} | {step.budget_minutes} min | "
            f"{_overrun(step)} |"
        )
    lines += ["", "## Categories", ""]
    header = "| Category | Score |" + (" Self |" if comparing else "") + " Points |"
    lines += [header, "|" + "---|" * header.count(" |")]
    for category in report.categories:
        score = category.score
        own_cell = f" {percent_label(category.own_score.percent)} |" if category.own_score else ""
        points = f"{decimal_text(score.net)} of {decimal_text(score.possible)}"
        lines.append(
            f"| {_cell(category.name)} | {percent_label(score.percent)} |{own_cell} {points} |"
        )
    lines += ["", "## Strengths", ""]
    lines += [f"- {row.item.title} ({row.item.points} pt)" for row in report.strengths] or [
        "- No item was covered without a hint."
    ]
    lines += ["", "## Work on next", ""]
    lines += [
        f"- {row.item.title} ({row.item.points} pt{', required' if row.item.required else ''})"
        for row in report.work_on_next
    ] or ["- Nothing was missed."]
    if report.calibration is not None:
        lines += _calibration_markdown(report.calibration)
    if report.diagram.final is not None and diagram_url:
        lines += _diagram_markdown(report.diagram, diagram_url)
    for step in report.steps:
        lines += _step_markdown(step, comparing)
    if session.case.model_answer:
        lines += ["## Model answer outline", "", session.case.model_answer.strip(), ""]
    for view in report.rescores:
        lines += _rescore_markdown(view.rescore)
    lines += ["## How the score is computed", ""]
    lines += [f"- {rule}" for rule in report.rules]
    lines += [f"- {report.thresholds_text}", ""]
    return "\n".join(lines)


def _calibration_markdown(result: calibration.Calibration) -> list[str]:
    lines = ["", "## Self-assessment", ""]
    lines.append(
        f"Agreement: {percent_label(result.agreement)} ({result.agreed} of "
        f"{len(result.comparisons)} items marked the same)."
    )
    for title, group in (("Over-rated", result.over_rated), ("Under-rated", result.under_rated)):
        lines += ["", f"{title}:", ""]
        lines += [
            f"- {c.item.title}: interviewer {calibration.mark_label(c.interviewer).lower()}, "
            f"self {calibration.mark_label(c.own).lower()}"
            for c in group
        ] or ["- none"]
    return [*lines, ""]


def _diagram_markdown(diagram: Diagram, url: str) -> list[str]:
    final = diagram.final
    assert final is not None
    # A link, not an embedded image: the picture needs a signed-in Spar account to open.
    lines = [
        "",
        "## Diagram",
        "",
        f"[The final diagram (SVG image)]({url}), {final.caption.lower()}; sign in to Spar to "
        "open it.",
        "",
    ]
    if final.snapshot.labels:
        lines += [
            "Labels on the board: " + ", ".join(_inline(label) for label in final.snapshot.labels),
            "",
        ]
    return lines


def _step_markdown(step: StepReport, comparing: bool) -> list[str]:
    lines = [
        "",
        f"## Step {step.number}. {step.name}",
        "",
        f"Score {percent_label(step.score.percent)} · time {_clock(step.elapsed_seconds)} of "
        f"{step.budget_minutes} min · {_overrun(step)}",
        "",
    ]
    header = "| Item | Mark |" + (" Self |" if comparing else "") + " Points |"
    lines += [header, "|" + "---|" * header.count(" |")]
    for row in step.rows:
        own = f" {row.own_label} |" if comparing else ""
        title = _cell(row.item.title) + (" (required)" if row.item.required else "")
        lines.append(f"| {title} | {row.label} |{own} {_cell(row.line.explanation)} |")
    lines.append("")
    if step.red_flags:
        flags = ", ".join(row.item.title for row in step.red_flags)
        lines += [f"Red flags observed: {flags}.", ""]
    if step.comment:
        lines += ["Interviewer's comment:", "", *_block(step.comment)]
    if step.hints:
        lines += ["Hints given:", ""]
        times = (timezone.localtime(hint.created_at).strftime("%H:%M") for hint in step.hints)
        lines += [
            f"- {time} {_inline(hint.text)}" for time, hint in zip(times, step.hints, strict=True)
        ]
        lines.append("")
    if step.notes:
        late = " (saved after the finish)" if step.notes_saved_after_finish else ""
        lines += [f"Candidate's notes{late}:", "", *_block(step.notes)]
    return lines


def _rescore_markdown(rescore: Rescore) -> list[str]:
    result = rescore.result
    unmapped = rescore.unmapped_keys
    total = result["total"]
    lines = [
        f"## {rescore.label}",
        "",
        f"Total: {total['display']}{' %' if total['percent'] is not None else ''} · "
        f"Band: {result['band_label']}"
        + (" (capped: a required item was missed)" if result["capped"] else ""),
        "",
    ]
    for entry in unmapped.get("unmapped", []):
        lines.append(f"- Did not map: {entry['title']} (step {entry['step']}, {entry['reason']})")
    for entry in unmapped.get("new", []):
        lines.append(f"- New in this version, no mark, counts as missed: {entry['title']}")
    return [*lines, ""]


# --- the progress history as CSV rows, safe to open in a spreadsheet ----------------------------

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
