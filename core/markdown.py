"""The one place where user-written text becomes HTML.

Case texts (staff) and candidate notes (anyone) both go through `render_markdown`, so the input is
treated as hostile: Python-Markdown renders it with raw HTML escaped (people see their `<script>`
as text) and images switched off, then ammonia (a Rust sanitizer, through nh3) keeps only the
tags and attributes below, and every link gets `rel="nofollow noopener"` and must be absolute
http, https or mailto.

Python-Markdown has code paths that are quadratic in the input. The small subclasses below make
them linear, and text whose HTML would be huge is shown as plain text, so that any text up to
`MAX_MARKDOWN_LENGTH` renders in well under a second.
`bench/bench_markdown.py` times the worst inputs we know of, before and after.
"""

import html
import re
import threading
import xml.etree.ElementTree as etree

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.blockprocessors import (
    BlockProcessor,
    BlockQuoteProcessor,
    HashHeaderProcessor,
    HRProcessor,
    SetextHeaderProcessor,
)
from markdown.extensions.tables import TableExtension, TableProcessor
from markdown.inlinepatterns import (
    AUTOMAIL_RE,
    BACKTICK_RE,
    LINK_RE,
    REFERENCE_RE,
    AutomailInlineProcessor,
    BacktickInlineProcessor,
    LinkInlineProcessor,
    ReferenceInlineProcessor,
    ShortReferenceInlineProcessor,
)
from markdown.util import AtomicString

# The longest text the forms accept. Longer text (from the admin, a script, an old row) is cut here
# and the output ends with a visible "(truncated)" note: raising in a template filter would break
# the whole page, and rendering unbounded text would let one row slow every page that shows it.
MAX_MARKDOWN_LENGTH = 20_000

# A few Markdown constructs give ten characters of HTML per character of text (a table of empty
# cells). Ordinary notes, even markup-heavy ones, give at most about twice their length; text over
# this is degenerate and is shown as plain text instead, which keeps the pages that show it small.
MAX_HTML_LENGTH = 60_000

ALLOWED_TAGS = frozenset(
    {
        "a",
        "blockquote",
        "br",
        "code",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
# No id, class, style or data-* anywhere: ids and classes could collide with the page's own htmx
# targets, and style could overlay the page. Tables lose their column alignment (a style): fine.
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"

TRUNCATED_NOTE = "<p>(truncated)</p>"


def _link_text_re(depth: int) -> re.Pattern[str]:
    # Link text with brackets nested at most `depth` levels, then the closing `]`. Possessive
    # quantifiers: each alternative starts with a different character, so giving back never helps.
    inner = r"[^\[\]]*+"
    for _ in range(depth):
        inner = rf"(?:[^\[\]]++|\[{inner}\])*+"
    return re.compile(rf"({inner})\]")


_LINK_TEXT = _link_text_re(depth=3)
_LINE = re.compile(r"^.*$", re.MULTILINE)
_BACKTICKS = re.compile(r"`+")
_MAX_NESTING = 32
_MISSES_KEPT = 8


class _LinearLinksMixin(LinkInlineProcessor):
    """Find the end of a link's text and destination without upstream's quadratic walks.

    Upstream walks from each `[` to its matching `]`, or to the end of the paragraph when there is
    none, so text full of unclosed `[` is quadratic (Python-Markdown issue #798: `"[" * 20000`
    takes minutes); `(` after `]` is walked the same way (`"[a](" * 5000`). Limiting the nesting
    of brackets in link text to a few levels makes each walk stop at the first `[` that is too
    deep, and a destination is taken to end before the next `](`, so all the walks together read
    the text a few times at most. Deeper-nested link text is rendered as plain text.
    """

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:
        match = _LINK_TEXT.match(data, index)
        if match is None:
            return "", index, False
        return match.group(1), match.end(), True

    def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:
        end = data.find("](", index)
        return super().getLink(data if end == -1 else data[:end], index)


class _LinkProcessor(_LinearLinksMixin, LinkInlineProcessor):
    pass


class _ReferenceProcessor(_LinearLinksMixin, ReferenceInlineProcessor):
    pass


class _ShortReferenceProcessor(_LinearLinksMixin, ShortReferenceInlineProcessor):
    pass


class _BacktickProcessor(BacktickInlineProcessor):
    """Code spans found in linear time.

    Upstream walks from each run of backticks to the end of the text looking for a closing run, and
    when there is none skips ahead by twice the run's length, into the middle of the next run, which
    then fails the same way: `"``<`" * 5000` read the whole text 5,000 times (seconds). Here, as in
    CommonMark, a whole run of n backticks is closed by the next run of exactly n, and a run without
    one is plain text. Two runs without a closing one cannot have the same length, so only a few
    hundred searches can fail.
    """

    # types-Markdown say `tuple[int, int] | None`; Markdown 3.11's own annotation and code return
    # (end, None) for no span, as this does.
    def find_code_spans(self, start: int, text: str) -> tuple[int, int | None]:  # type: ignore[override]
        ticks = _BACKTICKS.match(text, start)
        assert ticks is not None  # BACKTICK_RE matched a backtick at start
        if text[start - 1 : start] == "`":
            # The rest of a run whose first backtick was escaped (`\``): not an opening.
            return ticks.end(), None
        closing = re.compile(rf"(?<!`)`{{{len(ticks.group())}}}(?!`)").search(text, ticks.end())
        return ticks.end(), None if closing is None else closing.start()


class _PlainAutomailProcessor(AutomailInlineProcessor):
    """`<me@example.com>` as a plain mailto link.

    Upstream spells every character as an HTML entity against spam harvesters, which makes the
    HTML ten times longer than the text for nothing: the sanitizer writes them back as characters.
    """

    # An InlineProcessor's handleMatch takes `data` too, unlike a Pattern's: the stubs silence
    # the same complaint on InlineProcessor itself, but it comes back on every override.
    def handleMatch(  # type: ignore[override]
        self, m: re.Match[str], data: str
    ) -> tuple[etree.Element, int, int]:
        email = self.unescape(m.group(1)).removeprefix("mailto:")
        link = etree.Element("a", href=f"mailto:{email}")
        link.text = AtomicString(email)
        return link, m.start(0), m.end(0)


class _TableProcessor(TableProcessor):
    """Upstream's `test`, without splitting the whole block each time.

    Headings, rules and setext underlines are consumed one line at a time and the rest of the block
    is tested again by every processor; upstream's test splits and strips all of its lines each
    time, which is quadratic (10,000 lines of `-` took seconds). Whether a block starts a table
    depends on its first two lines, except that a one-column table also needs a pipe at either end
    of every row: those rows are read only until the first one without.
    """

    def test(self, parent: etree.Element, block: str) -> bool:
        lines = block.split("\n", 2)
        if not super().test(parent, "\n".join(lines[:2])):
            return False
        if len(self.separator) > 1 or len(lines) < 3:
            return True
        return all(
            row.startswith("|") or self.RE_END_BORDER.search(row) is not None
            for row in (match.group().strip(" ") for match in _LINE.finditer(lines[2]))
        )


def _is_line_suffix(part: str, whole: str) -> bool:
    start = len(whole) - len(part)
    return start >= 0 and (start == 0 or whole[start - 1] == "\n") and whole.endswith(part)


class _RememberMissMixin(BlockProcessor):
    """Skip the regex search when a block is the tail of one that had no match.

    Headings, rules and quotes are found anywhere in a block, so these tests search the whole
    block. When a processor consumes a block a line or two at a time (setext headings, rules,
    reference definitions) the rest goes back to be tested again: searching it again each time is
    quadratic (10,000 lines of `-` took a second). A block without a match has none in its last
    lines. A few recent misses are kept, because short blocks (the lines before a reference
    definition) are tested in between.
    """

    def test(self, parent: etree.Element, block: str) -> bool:
        missed: list[str] = self.__dict__.setdefault("_missed", [])
        for index, whole in enumerate(missed):
            if _is_line_suffix(block, whole):
                missed.insert(0, missed.pop(index))
                return False
        if super().test(parent, block):
            return True
        missed.insert(0, block)
        del missed[_MISSES_KEPT:]
        return False


class _HashHeaderProcessor(_RememberMissMixin, HashHeaderProcessor):
    pass


class _HRProcessor(_RememberMissMixin, HRProcessor):
    pass


class _BlockQuoteProcessor(_RememberMissMixin, BlockQuoteProcessor):
    pass


class _SetextHeaderProcessor(SetextHeaderProcessor):
    """Upstream's `run`, splitting off only the two lines it uses.

    Upstream splits the whole block into lines and joins all but two back, for every heading: a
    block of 10,000 `-` lines (each pair a setext heading) took half a second.
    """

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        title, underline, *rest = blocks.pop(0).split("\n", 2)
        heading = etree.SubElement(parent, "h1" if underline.startswith("=") else "h2")
        heading.text = title.strip()
        if rest:
            blocks.insert(0, rest[0])


class _NestingGuard(BlockProcessor):
    """Past `_MAX_NESTING` open quotes and lists, a block is a plain paragraph.

    Python-Markdown parses every level of `> ` or `- ` recursively: one line of `"+ " * 10000`
    raised RecursionError, and `"> " * 10000` went ~450 levels deep before upstream's own guard.
    The parser's state stack has one entry per open quote, list or list indent.
    """

    def test(self, parent: etree.Element, block: str) -> bool:
        return len(self.parser.state) >= _MAX_NESTING

    def run(self, parent: etree.Element, blocks: list[str]) -> bool | None:
        return self.parser.blockprocessors["paragraph"].run(parent, blocks)


class _SafeTableExtension(TableExtension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        super().extendMarkdown(md)
        md.parser.blockprocessors.register(
            _TableProcessor(md.parser, self.getConfigs()), "table", 75
        )


def _markdown() -> markdown.Markdown:
    md = markdown.Markdown(
        extensions=["fenced_code", _SafeTableExtension(), "sane_lists"], output_format="html"
    )
    # Without these two, raw HTML is not passed through but escaped, so people see their `<script>`.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    # No images: they would load from any host when the page is viewed (tracking, mixed content).
    # With these gone `![alt](src)` stays literal text.
    for name in ("image_link", "image_reference", "short_image_ref"):
        md.inlinePatterns.deregister(name)
    md.parser.blockprocessors.register(_NestingGuard(md.parser), "nesting_guard", 1000)
    md.parser.blockprocessors.register(_HashHeaderProcessor(md.parser), "hashheader", 70)
    md.parser.blockprocessors.register(_SetextHeaderProcessor(md.parser), "setextheader", 60)
    md.parser.blockprocessors.register(_HRProcessor(md.parser), "hr", 50)
    md.parser.blockprocessors.register(_BlockQuoteProcessor(md.parser), "quote", 20)
    md.inlinePatterns.register(_BacktickProcessor(BACKTICK_RE), "backtick", 190)
    md.inlinePatterns.register(_ReferenceProcessor(REFERENCE_RE, md), "reference", 170)
    md.inlinePatterns.register(_LinkProcessor(LINK_RE, md), "link", 160)
    md.inlinePatterns.register(_ShortReferenceProcessor(REFERENCE_RE, md), "short_reference", 130)
    md.inlinePatterns.register(_PlainAutomailProcessor(AUTOMAIL_RE, md), "automail", 110)
    return md


_threads = threading.local()


def _converter() -> markdown.Markdown:
    """This thread's Markdown instance, ready for a new document.

    Instances keep state between conversions and are not thread-safe, so each thread has its
    own, reset before each use as Python-Markdown documents. Building one took 0.14 ms, as long
    as converting a typical note. The processors' remembered misses are forgotten too: a quote
    near the recursion limit is remembered as a miss, and must not be in the next document."""
    md = getattr(_threads, "markdown", None)
    if md is None:
        md = _threads.markdown = _markdown()
    md.reset()
    for name in ("hashheader", "hr", "quote"):
        md.parser.blockprocessors[name].__dict__.pop("_missed", None)
    return md


def _convert(text: str) -> str:
    try:
        return _converter().convert(text)
    except BaseException:
        # A conversion cut short may leave the parser's state half-way: start afresh next time.
        _threads.markdown = None
        raise


# ammonia (through nh3) parses the HTML as a browser would and keeps only the allowlist: other
# tags are dropped with their text kept (script and style with their content). Relative and
# scheme-relative URLs are dropped as well: they could point at the app's own URLs (`/logout`) or,
# as `//host`, off-site. Built once: a Cleaner holds no state between fragments.
_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={tag: set(names) - {"rel"} for tag, names in ALLOWED_ATTRIBUTES.items()},
    link_rel=LINK_REL,
    url_schemes=set(ALLOWED_PROTOCOLS),
    url_relative="deny",
    strip_comments=True,
)


def _clean(html_text: str) -> str:
    return _CLEANER.clean(html_text)


def _as_plain_text(text: str) -> str:
    # No markup at all, only escaped text and line breaks of our own: safe without the sanitizer.
    return "<p>" + html.escape(text, quote=False).replace("\n", "<br>\n") + "</p>"


def render_markdown(text: str) -> SafeString:
    """Render user-written Markdown to HTML that is safe to put in a page.

    Text longer than `MAX_MARKDOWN_LENGTH` characters is cut at that length and the output ends
    with a "(truncated)" paragraph. Text whose HTML would be longer than `MAX_HTML_LENGTH` (only
    degenerate text, such as thousands of empty table cells) is shown as plain, escaped text.
    """
    if not text:
        return SafeString("")
    truncated = len(text) > MAX_MARKDOWN_LENGTH
    text = text[:MAX_MARKDOWN_LENGTH]
    converted = _convert(text)
    html_text = _as_plain_text(text) if len(converted) > MAX_HTML_LENGTH else _clean(converted)
    if truncated:
        html_text += TRUNCATED_NOTE
    return mark_safe(html_text)  # noqa: S308 (the sanitizer's output with our allowlist, or escaped text)
