"""Worst-case render times of `core.markdown.render_markdown`.

    python bench/bench_markdown.py                      # the slowest inputs, before and after
    python bench/bench_markdown.py --all                # every input
    python bench/bench_markdown.py --no-before --random 120 --check

Every input is MAX_MARKDOWN_LENGTH characters long: a run of each ASCII punctuation character
(alone, or with a space, a newline or a letter), repetitions of short Markdown-ish patterns, and a
few structures (nested lists and quotes, big tables). With --random SECONDS it also repeats random
short mixes of Markdown-ish pieces for that long and adds the slowest ten.

"after" is render_markdown. "before" is the same Markdown configuration and sanitizer without
core.markdown's linear-time fixes, stopped after BEFORE_CAP_S seconds. Times are the best of
REPEATS runs, in milliseconds, on whatever machine runs this: compare rows, not machines. With
--check, exits 1 when an "after" time is over BUDGET_MS.
"""

import argparse
import random
import signal
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path

import markdown

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.markdown import MAX_MARKDOWN_LENGTH, render_markdown
from core.markdown import _clean as sanitize  # the same sanitizer as render_markdown's

N = MAX_MARKDOWN_LENGTH
REPEATS = 3
BEFORE_CAP_S = 5.0
# The aim is 250 ms on the 2-core machines the project runs on; the check allows twice that, as
# other work on the machine moves these numbers by tens of percent.
BUDGET_MS = 500
TOP = 25

PATTERNS = [
    "[](",
    "[a](",
    "[a](b)",
    "[a](b ",
    '[a](b "',
    "](",
    "[a]",
    "[a][",
    "[a][]",
    "[a]: b\n",
    "'[r]: x\n[r]: x\n",
    "*a",
    "**a",
    "***a",
    "*a*",
    "**\\*\\",
    "_a",
    "__a",
    "_a_",
    "{{_{{{__",
    "<a",
    "<a ",
    "<a>",
    "<a@b>",
    "<http://a>",
    "<!--",
    "`a",
    "``a",
    "`a`",
    "`a`\n\n",
    "``<`",
    "\\```",
    "````(```````",
    "![",
    "![a](b)",
    " > ",
    "> ",
    "\n> ",
    "> a\n>\n",
    "\n- ",
    "- a\n",
    "- a\n\n",
    "- *a*\n",
    "\n  - ",
    "1. a\n",
    "# a\n",
    "a\n-\n",
    "a\n=\n",
    "---\n",
    "***\n",
    "    a\n",
    "```\n",
    "```\na\n```\n",
    "|a\n|-\n# h\n",
    "||\n\n||\n",
    "a  \n",
    "&amp;",
    "&#106;",
    "&#x6a;",
    "\\[",
    "\\`",
    "http://a ",
]

# Pieces for --random: each input repeats a random short mix of a few of them.
PIECES = [
    "[", "]", "(", ")", "![", "](", "<", ">", "`", "```", "*", "_", "|", "#", "---", "\n", "\n\n",
    "> ", "- ", "1. ", "    ", "  ", "\\", '"', "'", "&", "&#106;", "a", "b c", "http://x",
    "<a@b>", "[r]: x\n", "=", "~~~", ":", "-", "+ ", "{", "}",
]  # fmt: skip


def _repeat(pattern: str) -> str:
    return (pattern * (N // len(pattern) + 1))[:N]


def _fill(head: str, pattern: str) -> str:
    return (head + _repeat(pattern))[:N]


def _nested(line: Callable[[int], str]) -> str:
    text, depth = "", 0
    while len(text) + len(line(depth)) <= N:
        text += line(depth)
        depth += 1
    return text


def inputs() -> dict[str, str]:
    cases: dict[str, str] = {}
    for char in string.punctuation:
        for pattern in (char, char + " ", char + "\n", "a" + char, char + "a"):
            cases[repr(pattern)] = _repeat(pattern)
    for pattern in PATTERNS:
        cases[repr(pattern)] = _repeat(pattern)
    cases["'[' * 10000 + ']' * 10000"] = "[" * (N // 2) + "]" * (N // 2)
    cases["'[a](' + '(' * ..."] = _fill("[a](", "(")
    cases["table, rows '|a'"] = _fill("|a|\n|-|\n", "|a\n")
    cases["table, rows '|a|b|'"] = _fill("|a|b|\n|-|-|\n", "|a|b|\n")
    cases["table, one row of 5,000 cells"] = "|a" * (N // 4) + "\n" + "|-" * (N // 4)
    cases["nested lists, 4 spaces"] = _nested(lambda depth: "    " * depth + "- a\n")
    cases["nested lists, 2 spaces"] = _nested(lambda depth: "  " * depth + "- a\n")
    cases["nested quotes, '> ' * depth"] = _nested(lambda depth: "> " * depth + "a\n")
    cases["backtick runs of growing length"] = _nested(lambda depth: "`" * depth + "a")
    return cases


def random_inputs(seconds: float, seed: int = 0) -> dict[str, str]:
    """The slowest ten random mixes found in `seconds` (timed once each)."""
    rng = random.Random(seed)
    found: list[tuple[float, str]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        mix = rng.sample(PIECES, rng.randint(1, 6))
        unit = "".join(rng.choice(mix) for _ in range(rng.randint(1, 8)))
        found.append((_time_ms(render_markdown, _repeat(unit), repeats=1), unit))
    found.sort(reverse=True)
    return {f"random {unit!r}": _repeat(unit) for _ms, unit in found[:10]}


def _stock_render(text: str) -> str:
    md = markdown.Markdown(extensions=["fenced_code", "tables", "sane_lists"], output_format="html")
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    for name in ("image_link", "image_reference", "short_image_ref"):
        md.inlinePatterns.deregister(name)
    return sanitize(md.convert(text))


class _TooSlow(Exception):
    pass


def _interrupt(signum: int, frame: object) -> None:
    raise _TooSlow


CRASHED = -1.0


def _time_ms(
    render: Callable[[str], str], text: str, cap_s: float | None = None, repeats: int = REPEATS
) -> float:
    best = float("inf")
    for _ in range(repeats):
        if cap_s is not None:
            signal.setitimer(signal.ITIMER_REAL, cap_s)
        start = time.perf_counter()
        try:
            render(text)
        except _TooSlow:
            return float("inf")
        except RecursionError:
            return CRASHED
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


def _fmt(ms: float | None) -> str:
    if ms is None:
        return ""
    if ms == CRASHED:
        return "crash"
    if ms == float("inf"):
        return f">{BEFORE_CAP_S * 1000:.0f}"
    return f"{ms:.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help=f"print every input, not the top {TOP}")
    parser.add_argument("--no-before", action="store_true", help="skip the stock renderer")
    parser.add_argument(
        "--random", type=float, default=0, metavar="SECONDS", help="also fuzz random mixes"
    )
    parser.add_argument("--check", action="store_true", help=f"exit 1 over {BUDGET_MS} ms")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _interrupt)

    cases = inputs()
    if args.random:
        cases |= random_inputs(args.random)
    after = {name: _time_ms(render_markdown, text) for name, text in cases.items()}
    shown = sorted(cases, key=after.__getitem__, reverse=True)
    if not args.all:
        shown = shown[:TOP]
    before: dict[str, float] = {}
    if not args.no_before:
        # The stock renderer is slow on many inputs: time the shown ones, plus the worst inputs
        # it has, which the fixes made fast enough to drop out of the "after" top list.
        shown += [
            name
            for name in (repr("["), repr("a["), repr("[a]("), repr("``<`"), repr("-\n"))
            if name not in shown
        ]
        before = {name: _time_ms(_stock_render, cases[name], BEFORE_CAP_S) for name in shown}

    width = max(len(name) for name in shown)
    print(f"{len(cases)} inputs of {N:,} characters; best of {REPEATS} runs; milliseconds")
    print(f"{'input':<{width}}  {'after':>7}  {'before':>7}")
    for name in shown:
        print(f"{name:<{width}}  {after[name]:7.0f}  {_fmt(before.get(name)):>7}")
    worst = max(after, key=after.__getitem__)
    print(f"worst after: {worst} at {after[worst]:.0f} ms (budget {BUDGET_MS} ms)")
    if before:
        slowest = max(before, key=before.__getitem__)
        print(f"worst before: {slowest} at {_fmt(before[slowest])} ms")
    return 1 if args.check and after[worst] > BUDGET_MS else 0


if __name__ == "__main__":
    sys.exit(main())
