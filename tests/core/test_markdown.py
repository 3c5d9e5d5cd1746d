"""Tests for core.markdown.render_markdown: hostile input in, only allowlisted HTML out.

No database and no settings: render_markdown is a pure function of its text.
"""

from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
from django.utils.safestring import SafeString
from hypothesis import given, settings
from hypothesis import strategies as st

import core.markdown as markdown_module
from core.markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    LINK_REL,
    MAX_HTML_LENGTH,
    MAX_MARKDOWN_LENGTH,
    TRUNCATED_NOTE,
    render_markdown,
)

# Payload corpora written by others (see their README for sources and licences). They are not
# ours to commit, so they are read from the shared folder beside the repository when it is there.
XSS_CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "xss"

ALLOWED_HREF_PREFIXES = ("http:", "https:", "mailto:")


class _HTMLInventory(HTMLParser):
    """Every tag, attribute and piece of text in a fragment, as a browser-like parser sees it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.other: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag not in ALLOWED_TAGS:
            self.other.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.other.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.other.append(f"<!{decl}>")

    def unknown_decl(self, data: str) -> None:
        self.other.append(f"<![{data}]>")

    def handle_pi(self, data: str) -> None:
        self.other.append(f"<?{data}>")


def _inventory(output: str) -> _HTMLInventory:
    parser = _HTMLInventory()
    parser.feed(output)
    parser.close()
    return parser


def assert_safe_html(output: str) -> None:
    """Only allowed tags and attributes; links are absolute http(s)/mailto and carry our rel."""
    inventory = _inventory(output)
    assert inventory.other == []
    for tag, attrs in inventory.tags:
        assert tag in ALLOWED_TAGS, (tag, output)
        names = [name for name, _value in attrs]
        assert len(names) == len(set(names)), (tag, attrs)
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES.get(tag, []), (tag, name, output)
            if name == "href":
                assert value is not None
                assert value.lower().startswith(ALLOWED_HREF_PREFIXES), (value, output)
        if tag == "a":
            assert ("rel", LINK_REL) in attrs, (attrs, output)


def visible_text(output: str) -> str:
    return "".join(_inventory(output).text)


# Hand-written vectors with the exact output. A link whose href was refused keeps its text (and
# our rel), so the reader still sees what was written.
EXACT_VECTORS = [
    pytest.param(
        "[x](javascript:alert(1))", '<p><a rel="nofollow noopener">x</a></p>', id="js-inline"
    ),
    pytest.param(
        "[x](JaVaScRiPt:alert(1))", '<p><a rel="nofollow noopener">x</a></p>', id="js-mixed-case"
    ),
    pytest.param(
        "[x]( javascript:alert(1))", '<p><a rel="nofollow noopener">x</a></p>', id="js-space"
    ),
    pytest.param(
        "[x](<javascript:alert(1)>)", '<p><a rel="nofollow noopener">x</a></p>', id="js-angle"
    ),
    pytest.param(
        "[x](java\tscript:alert(1))", '<p><a rel="nofollow noopener">x</a></p>', id="js-tab"
    ),
    pytest.param(
        "[x](java\x00script:alert(1))", '<p><a rel="nofollow noopener">x</a></p>', id="js-nul"
    ),
    pytest.param(
        "[x](java\x01script:alert(1))", '<p><a rel="nofollow noopener">x</a></p>', id="js-ctrl"
    ),
    pytest.param(
        "[x](\x01javascript:alert(1))", '<p><a rel="nofollow noopener">x</a></p>', id="js-lead"
    ),
    pytest.param(
        "[x](&#106;avascript:alert(1))",
        '<p><a rel="nofollow noopener">x</a></p>',
        id="js-decimal-entity",
    ),
    pytest.param(
        "[x](&#x6A;avascript:alert(1))",
        '<p><a rel="nofollow noopener">x</a></p>',
        id="js-hex-entity",
    ),
    pytest.param(
        "[x](&#106avascript:alert(1))",
        '<p><a rel="nofollow noopener">x</a></p>',
        id="js-entity-no-semicolon",
    ),
    pytest.param(
        "[x](&#0000106&#0000097vascript:alert(1))",
        '<p><a rel="nofollow noopener">x</a></p>',
        id="js-padded-entities",
    ),
    pytest.param(
        "[x](javascript&colon;alert(1))",
        '<p><a rel="nofollow noopener">x</a></p>',
        id="js-named-colon",
    ),
    pytest.param(
        "[x](javascript%3Aalert(1))",
        '<p><a rel="nofollow noopener">x</a></p>',
        id="js-percent-colon",
    ),
    pytest.param(
        "[x](%6Aavascript:alert(1))",
        '<p><a rel="nofollow noopener">x</a></p>',
        id="js-percent-letter",
    ),
    pytest.param(
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<p><a rel="nofollow noopener">x</a></p>',
        id="data-inline",
    ),
    pytest.param(
        "[x](vbscript:msgbox(1))", '<p><a rel="nofollow noopener">x</a></p>', id="vbscript"
    ),
    pytest.param(
        "[x](VBScript:msgbox(1))", '<p><a rel="nofollow noopener">x</a></p>', id="vbscript-case"
    ),
    pytest.param(
        "[x][r]\n\n[r]: javascript:alert(1)",
        '<p><a rel="nofollow noopener">x</a></p>',
        id="js-reference",
    ),
    pytest.param(
        "[r]\n\n[r]: data:text/html,<script>alert(1)</script>",
        '<p><a rel="nofollow noopener">r</a></p>',
        id="data-short-reference",
    ),
    pytest.param(
        "[x][r]\n\n[r]: &#106;avascript:alert(1)",
        '<p><a rel="nofollow noopener">x</a></p>',
        id="js-reference-entity",
    ),
    pytest.param("<javascript:alert(1)>", "<p>&lt;javascript:alert(1)&gt;</p>", id="js-autolink"),
    pytest.param(
        "<javascript://%0aalert(1)>",
        '<p><a rel="nofollow noopener">javascript://%0aalert(1)</a></p>',
        id="js-autolink-slashes",
    ),
    pytest.param("<data:text/html,x>", "<p>&lt;data:text/html,x&gt;</p>", id="data-autolink"),
    pytest.param(
        "[x](/logout) [y](//evil.example) [z](#top) [w](ftp://x)",
        '<p><a rel="nofollow noopener">x</a> <a rel="nofollow noopener">y</a> '
        '<a rel="nofollow noopener">z</a> <a rel="nofollow noopener">w</a></p>',
        id="relative-and-other-schemes",
    ),
    pytest.param(
        '[x](http://a "t\\"onmouseover=alert(1)")',
        '<p><a href="http://a" title="t\\&quot;onmouseover=alert(1)" rel="nofollow noopener">'
        "x</a></p>",
        id="title-double-quote",
    ),
    pytest.param(
        "[x](http://a 'it''s')",
        '<p><a href="http://a" title="it\'\'s" rel="nofollow noopener">x</a></p>',
        id="title-single-quotes",
    ),
    pytest.param(
        '[x](http://a "<script>")',
        '<p><a href="http://a" title="&lt;script&gt;" rel="nofollow noopener">x</a></p>',
        id="title-markup",
    ),
    pytest.param(
        '[x](http://a"onmouseover="alert(1))',
        '<p><a href="http://a&quot;onmouseover=&quot;alert(1" rel="nofollow noopener">x</a>)</p>',
        id="href-breakout",
    ),
    pytest.param(
        "Text {: onclick=alert(1) }", "<p>Text {: onclick=alert(1) }</p>", id="attr-list-inline"
    ),
    pytest.param("# Heading {#id .class}", "<h1>Heading {#id .class}</h1>", id="attr-list-heading"),
    pytest.param(
        'Paragraph\n{: #main .hx-target onclick="alert(1)" }',
        '<p>Paragraph\n{: #main .hx-target onclick="alert(1)" }</p>',
        id="attr-list-block",
    ),
    pytest.param(
        "```{#id .class onclick=alert(1)}\ncode\n```",
        "<pre><code>code\n</code></pre>",
        id="fenced-attributes",
    ),
    pytest.param(
        "<script>alert(1)</script>",
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
        id="script",
    ),
    pytest.param(
        "<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>", id="img"
    ),
    pytest.param("<svg onload=alert(1)>", "<p>&lt;svg onload=alert(1)&gt;</p>", id="svg"),
    pytest.param(
        '<iframe src="https://evil.example"></iframe>',
        '<p>&lt;iframe src="https://evil.example"&gt;&lt;/iframe&gt;</p>',
        id="iframe",
    ),
    pytest.param(
        '<a href="javascript:alert(1)">x</a>',
        '<p>&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;</p>',
        id="raw-anchor",
    ),
    pytest.param(
        '<div hx-get="/admin" hx-trigger="load">x</div>',
        '<p>&lt;div hx-get="/admin" hx-trigger="load"&gt;x&lt;/div&gt;</p>',
        id="htmx-div",
    ),
    pytest.param(
        '<p style="position:fixed">x</p>',
        '<p>&lt;p style="position:fixed"&gt;x&lt;/p&gt;</p>',
        id="style",
    ),
    pytest.param(
        "<span data-x=1>x</span>", "<p>&lt;span data-x=1&gt;x&lt;/span&gt;</p>", id="data-attr"
    ),
    pytest.param("*<b>x</b>*", "<p><em>&lt;b&gt;x&lt;/b&gt;</em></p>", id="raw-html-in-emphasis"),
    # No images: they would load from anywhere when the page is viewed. The syntax stays text.
    pytest.param(
        "![x](http://evil.example/x.png)",
        "<p>![x](http://evil.example/x.png)</p>",
        id="image-http",
    ),
    pytest.param(
        "![x](data:image/png;base64,AAAA)",
        "<p>![x](data:image/png;base64,AAAA)</p>",
        id="image-data",
    ),
    pytest.param(
        "![x][r]\n\n[r]: http://evil.example/x.png",
        '<p>![x]<a href="http://evil.example/x.png" rel="nofollow noopener">r</a></p>',
        id="image-reference-is-a-link-at-most",
    ),
    pytest.param("<!-- comment --> text", "<p>&lt;!-- comment --&gt; text</p>", id="comment"),
    pytest.param(
        "<![CDATA[<script>alert(1)</script>]]>",
        "<p>&lt;![CDATA[&lt;script&gt;alert(1)&lt;/script&gt;]]&gt;</p>",
        id="cdata",
    ),
    pytest.param("<?php echo 1; ?>", "<p>&lt;?php echo 1; ?&gt;</p>", id="processing"),
    pytest.param("<!DOCTYPE html>", "<p>&lt;!DOCTYPE html&gt;</p>", id="doctype"),
    pytest.param(
        "```html\n<script>alert(1)</script>\n```",
        "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>",
        id="script-in-fenced-code",
    ),
    pytest.param("`<script>`", "<p><code>&lt;script&gt;</code></p>", id="script-in-code-span"),
    pytest.param(
        "    <script>alert(1)</script>",
        "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>",
        id="script-in-indented-code",
    ),
    pytest.param(
        # Entities stay text: the sanitizer writes each as its character, escaping what HTML needs.
        "&lt;script&gt; &amp; &copy; &#60;b&#62;",
        "<p>&lt;script&gt; &amp; © &lt;b&gt;</p>",
        id="entities-stay-text",
    ),
]


@pytest.mark.parametrize(("text", "expected"), EXACT_VECTORS)
def test_render_markdown_hostile_vector_exact_output(text: str, expected: str) -> None:
    output = render_markdown(text)
    assert output == expected
    assert_safe_html(output)


# Allowed features, with the exact HTML they produce.
FEATURES = [
    pytest.param(
        "Some *em*, **strong**, _em_ and `code`.",
        "<p>Some <em>em</em>, <strong>strong</strong>, <em>em</em> and <code>code</code>.</p>",
        id="inline",
    ),
    pytest.param(
        "[a link](https://example.com/?a=1&b=2)",
        '<p><a href="https://example.com/?a=1&amp;b=2" rel="nofollow noopener">a link</a></p>',
        id="link",
    ),
    pytest.param(
        '[a link](http://example.com "Title")',
        '<p><a href="http://example.com" title="Title" rel="nofollow noopener">a link</a></p>',
        id="link-title",
    ),
    pytest.param(
        "[ref][r] and [r]\n\n[r]: https://example.com",
        '<p><a href="https://example.com" rel="nofollow noopener">ref</a> and '
        '<a href="https://example.com" rel="nofollow noopener">r</a></p>',
        id="reference-links",
    ),
    pytest.param(
        "[a [nested [link]]](https://example.com)",
        '<p><a href="https://example.com" rel="nofollow noopener">a [nested [link]]</a></p>',
        id="brackets-in-link-text",
    ),
    pytest.param(
        "[a](https://en.wikipedia.org/wiki/Python_(language))",
        '<p><a href="https://en.wikipedia.org/wiki/Python_(language)" rel="nofollow noopener">'
        "a</a></p>",
        id="parens-in-url",
    ),
    pytest.param(
        "<https://example.com> <me@example.com>",
        '<p><a href="https://example.com" rel="nofollow noopener">https://example.com</a> '
        '<a href="mailto:me@example.com" rel="nofollow noopener">me@example.com</a></p>',
        id="autolinks",
    ),
    pytest.param(
        "[mail](mailto:me@example.com)",
        '<p><a href="mailto:me@example.com" rel="nofollow noopener">mail</a></p>',
        id="mailto",
    ),
    pytest.param(
        "# One\n## Two\n###### Six\nSetext\n======\nSub\n---",
        "<h1>One</h1>\n<h2>Two</h2>\n<h6>Six</h6>\n<h1>Setext</h1>\n<h2>Sub</h2>",
        id="headings-without-ids",
    ),
    pytest.param(
        "- a\n- b\n    - nested\n\n1. one\n2. two",
        "<ul>\n<li>a</li>\n<li>b<ul>\n<li>nested</li>\n</ul>\n</li>\n</ul>\n"
        "<ol>\n<li>one</li>\n<li>two</li>\n</ol>",
        id="lists",
    ),
    pytest.param(
        "1. one\n\n- bullet",
        "<ol>\n<li>one</li>\n</ol>\n<ul>\n<li>bullet</li>\n</ul>",
        id="sane-lists",
    ),
    pytest.param(
        "> quote\n> > nested",
        "<blockquote>\n<p>quote</p>\n<blockquote>\n<p>nested</p>\n</blockquote>\n</blockquote>",
        id="blockquotes",
    ),
    pytest.param(
        "| Left | Right |\n|:-----|------:|\n| *a* | [b](https://b.example) |",
        "<table>\n<thead>\n<tr>\n<th>Left</th>\n<th>Right</th>\n</tr>\n</thead>\n"
        "<tbody>\n<tr>\n<td><em>a</em></td>\n"
        '<td><a href="https://b.example" rel="nofollow noopener">b</a></td>\n'
        "</tr>\n</tbody>\n</table>",
        id="table-alignment-dropped",
    ),
    pytest.param(
        "```python\nif a < b:\n    pass\n```",
        "<pre><code>if a &lt; b:\n    pass\n</code></pre>",
        id="fenced-code-no-class",
    ),
    pytest.param(
        "    indented\n    code\n\n\n\ntext",
        "<pre><code>indented\ncode\n</code></pre>\n<p>text</p>",
        id="indented-code",
    ),
    pytest.param("a\n\n---\n\nb", "<p>a</p>\n<hr>\n<p>b</p>", id="hr"),
    pytest.param("line  \nbreak", "<p>line<br>\nbreak</p>", id="br"),
]


@pytest.mark.parametrize(("text", "expected"), FEATURES)
def test_render_markdown_allowed_feature_exact_output(text: str, expected: str) -> None:
    output = render_markdown(text)
    assert output == expected
    assert_safe_html(output)


NORMAL_DOCUMENT = """\
# Case: design a URL shortener

Ask the candidate to *clarify* requirements first. Good answers mention **read/write ratio**,
`base62` ids and [consistent hashing](https://en.wikipedia.org/wiki/Consistent_hashing "wiki").

## Rubric

1. Requirements
2. API design
    - `POST /urls`
    - `GET /{id}`
3. Storage

> The best candidates ask about expiry.
> > And about abuse.

| Level | Signal |
|:------|-------:|
| 1 | Lists features |
| 4 | Trade-offs, numbers |

```sql
SELECT id FROM urls WHERE hash = $1;
```

Setext heading
--------------

Reference: [the book][ddia], contact <staff@example.com>.

***

[ddia]: https://dataintensive.net
"""


def test_render_markdown_normal_document_matches_stock_markdown() -> None:
    # The linear-time subclasses must not change what ordinary notes look like: the same document
    # through stock Python-Markdown (same extensions, no raw HTML) gives the same tags and text.
    stock = markdown.Markdown(extensions=["fenced_code", "tables", "sane_lists"])
    stock.preprocessors.deregister("html_block")
    stock.inlinePatterns.deregister("html")
    expected = _inventory(stock.convert(NORMAL_DOCUMENT))
    actual = _inventory(render_markdown(NORMAL_DOCUMENT))

    def tags(inventory: _HTMLInventory) -> list[str]:
        return [tag for tag, _attrs in inventory.tags]

    def words(inventory: _HTMLInventory) -> list[str]:
        return "".join(inventory.text).split()

    def hrefs(inventory: _HTMLInventory) -> list[str | None]:
        return [dict(attrs).get("href") for tag, attrs in inventory.tags if tag == "a"]

    assert tags(actual) == tags(expected)
    assert words(actual) == words(expected)
    assert hrefs(actual) == hrefs(expected)


def test_render_markdown_empty_is_empty_safestring() -> None:
    output = render_markdown("")
    assert output == ""
    assert isinstance(output, SafeString)


def test_render_markdown_returns_safestring() -> None:
    assert isinstance(render_markdown("*hi*"), SafeString)


def test_render_markdown_is_deterministic() -> None:
    assert render_markdown(NORMAL_DOCUMENT) == render_markdown(NORMAL_DOCUMENT)


def test_one_document_leaves_nothing_for_the_next() -> None:
    # Each thread keeps one Markdown instance; a reference defined in one note must not turn
    # text in the next note into a link.
    assert "href" in render_markdown("[spec][x]\n\n[x]: https://example.com/a")
    assert render_markdown("[spec][x]") == "<p>[spec][x]</p>"


def test_a_conversion_that_fails_does_not_spoil_the_next(monkeypatch) -> None:
    render_markdown("warm-up")
    broken = markdown_module._threads.markdown
    monkeypatch.setattr(broken, "convert", _raise_memory_error)
    with pytest.raises(MemoryError):
        render_markdown("> quoted")
    monkeypatch.undo()
    assert render_markdown("> quoted") == "<blockquote>\n<p>quoted</p>\n</blockquote>"
    assert markdown_module._threads.markdown is not broken


def test_threads_render_at_the_same_time_as_one_thread_alone() -> None:
    # The page threads share one sanitizer (built once) and keep a Markdown instance each.
    documents = [
        f"- item {n} with [a link](https://example.com/{n}) and **bold**\n" * 50 for n in range(8)
    ]
    alone = [render_markdown(document) for document in documents]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(render_markdown, documents * 25))
    assert together == alone * 25


def _raise_memory_error(text: str) -> str:
    raise MemoryError


def test_render_markdown_at_max_length_is_not_truncated() -> None:
    output = render_markdown("a" * MAX_MARKDOWN_LENGTH)
    assert output == "<p>" + "a" * MAX_MARKDOWN_LENGTH + "</p>"


def test_render_markdown_over_max_length_is_cut_with_visible_note() -> None:
    output = render_markdown("a" * MAX_MARKDOWN_LENGTH + "b<script>")
    assert output == "<p>" + "a" * MAX_MARKDOWN_LENGTH + "</p>" + TRUNCATED_NOTE
    assert "(truncated)" in visible_text(output)


def test_render_markdown_huge_html_falls_back_to_plain_text() -> None:
    # 2,500 one-column tables of one empty cell each: ten times more HTML than text.
    text = "||\n||\n\n" * 2_499 + "<script>alert(1)</script>\n[x](javascript:alert(1))"
    output = render_markdown(text)
    assert output.startswith("<p>||<br>\n||<br>\n<br>\n||<br>\n")
    assert output.endswith(
        "&lt;script&gt;alert(1)&lt;/script&gt;<br>\n[x](javascript:alert(1))</p>"
    )
    assert_safe_html(output)
    assert visible_text(output).replace("\n", "") == text.replace("\n", "")


def test_render_markdown_html_cap_leaves_room_for_markup_heavy_notes() -> None:
    # A maximum-length note made of the markup-heavy document above: tables, lists, quotes, code.
    note = (NORMAL_DOCUMENT * (MAX_MARKDOWN_LENGTH // len(NORMAL_DOCUMENT)))[:MAX_MARKDOWN_LENGTH]
    output = render_markdown(note)
    assert output.count("<table>") == MAX_MARKDOWN_LENGTH // len(NORMAL_DOCUMENT)
    assert len(output) < MAX_HTML_LENGTH * 2 / 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("``a ` b`` `c`", "<p><code>a ` b</code> <code>c</code></p>"),
        ("`a``b`", "<p><code>a``b</code></p>"),
        ("```a``", "<p>```a``</p>"),
        ("\\`code`", "<p>`code`</p>"),
        ("``<`" * 3, "<p>``&lt;<code>&lt;</code>&lt;`</p>"),
    ],
)
def test_render_markdown_code_spans_close_on_equal_runs(text: str, expected: str) -> None:
    assert render_markdown(text) == expected


@pytest.mark.parametrize("marker", ["+ ", "> ", "1. ", "- > "])
def test_render_markdown_deep_nesting_becomes_text(marker: str) -> None:
    # Python-Markdown recursed once per marker (RecursionError for lists); past a fixed depth the
    # rest of the line is a paragraph.
    output = render_markdown(marker * 4_000 + "end")
    assert_safe_html(output)
    assert output.count("<ul>") + output.count("<ol>") + output.count("<blockquote>") <= 32
    assert visible_text(output).rstrip().endswith(marker.strip() + " end")


# Property tests: whatever the text, only allowlisted HTML comes out.
MARKDOWNISH_PIECES = [
    "[",
    "]",
    "(",
    ")",
    "![",
    "](",
    "<",
    ">",
    "/",
    "\\",
    "`",
    "```",
    "~~~",
    "*",
    "_",
    "|",
    "#",
    "---",
    "\n",
    "\n\n",
    "> ",
    "- ",
    "1. ",
    "    ",
    "\t",
    " ",
    '"',
    "'",
    "=",
    ":",
    "&",
    "&#106;",
    "&#x6A;",
    "&#0000106",
    "&colon;",
    "&amp;",
    "%6A",
    "%3A",
    "\x00",
    "\x01",
    "\x0b",
    "\u2028",
    "javascript:",
    "JaVaScRiPt:",
    "java\tscript:",
    "java\nscript:",
    "vbscript:",
    "data:text/html,",
    "http://",
    "https://x.example/",
    "mailto:",
    "//",
    "alert(1)",
    "x",
    "@",
    "[r]: ",
    "{: onclick=alert(1) }",
    "{#id .cls}",
    "<script>",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<a href=",
    "</a>",
    "<div hx-get=/x>",
    ' style="x"',
    " onmouseover=",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<?",
    "<!DOCTYPE",
]

markdownish_text = st.lists(st.sampled_from(MARKDOWNISH_PIECES), max_size=40).map("".join)
schemes = st.sampled_from(
    ["javascript:", "JAVASCRIPT:", " javascript:", "java\tscript:", "&#106;avascript:",
     "&#x6a;avascript:", "data:", "vbscript:", "http:", "https:", "mailto:", "", "//", "ftp:"]
)  # fmt: skip
link_text = st.text(alphabet="ab []()<>&;#'\"`*_\\", max_size=12)
links = st.builds(
    lambda text, scheme, rest, title: f'[{text}]({scheme}{rest} "{title}")',
    link_text,
    schemes,
    st.text(alphabet="ab/()<>&;#'\"% ", max_size=12),
    link_text,
)
reference_links = st.builds(
    lambda text, scheme, rest: f"[{text}][r]\n\n[r]: {scheme}{rest}",
    link_text,
    schemes,
    st.text(alphabet="ab/()<>&;#'\"% ", max_size=12),
)
autolinks = st.builds(lambda scheme, rest: f"<{scheme}{rest}>", schemes, st.text(max_size=12))
hostile_text = st.one_of(
    st.text(max_size=200),
    markdownish_text,
    st.lists(st.one_of(markdownish_text, links, reference_links, autolinks), max_size=6).map(
        "\n".join
    ),
)


@settings(max_examples=400, deadline=None, database=None)
@given(hostile_text)
def test_render_markdown_any_text_gives_only_allowed_html(text: str) -> None:
    assert_safe_html(render_markdown(text))


@settings(max_examples=15, deadline=None, database=None)
@given(st.lists(st.sampled_from(MARKDOWNISH_PIECES), min_size=1, max_size=6).map("".join))
def test_render_markdown_any_repeated_pattern_at_max_length_gives_only_allowed_html(
    unit: str,
) -> None:
    # The bench's fuzz loop, in small: whole texts made of one short pattern, the shape of every
    # slow input found so far. Also reaches the plain-text fallback and the truncation note.
    text = unit * (MAX_MARKDOWN_LENGTH // len(unit) + 1)
    assert_safe_html(render_markdown(text))


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(links, reference_links, autolinks))
def test_render_markdown_any_link_gives_only_safe_hrefs(text: str) -> None:
    assert_safe_html(render_markdown(text))


def _corpus(name: str) -> list[str]:
    path = XSS_CORPORA / name
    if not path.exists():
        pytest.skip(f"XSS corpus not found at {path} (it lives in shared/, beside the repository)")
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _assert_corpus_safe(payloads: list[str]) -> None:
    failures = []
    for payload in payloads:
        # Each payload as written, and as the destination of a link.
        for text in (payload, f"[x]({payload})"):
            try:
                assert_safe_html(render_markdown(text))
            except AssertionError as error:
                failures.append((text, str(error)[:200]))
    assert failures == []


# The 6,613 payloads in slices, so that the test workers share the corpus.
CORPUS_SLICES = 8


@pytest.mark.parametrize("part", range(CORPUS_SLICES))
def test_render_markdown_payloadbox_corpus_gives_only_allowed_html(part: int) -> None:
    payloads = [line for line in _corpus("payloadbox_xss.txt") if line.strip()]
    assert len(payloads) > 6000
    _assert_corpus_safe(payloads[part::CORPUS_SLICES])


def test_render_markdown_owasp_corpus_gives_only_allowed_html() -> None:
    blocks = "\n".join(_corpus("owasp_xss_blocks.txt")).split("\n----\n")
    payloads = [block for block in blocks if block.strip()]
    assert len(payloads) > 100
    _assert_corpus_safe(payloads)


# Inputs that were quadratic (or worse) before core.markdown's fixes, at the maximum length. The
# times are in bench/bench_markdown.py; here they only have to render, safely.
def _repeat(pattern: str) -> str:
    return (pattern * (MAX_MARKDOWN_LENGTH // len(pattern) + 1))[:MAX_MARKDOWN_LENGTH]


PATHOLOGICAL = [
    "[",
    "a[",
    "[a",
    "[]",
    "[](",
    "[a](",
    "[a](b ",
    "](",
    "(",
    "<",
    "<a",
    ">",
    "> ",
    "\n> ",
    "+ ",
    "- ",
    "\n- ",
    "\n  - ",
    "1. ",
    "*",
    "*a",
    "_a",
    "`",
    "`a",
    "![",
    "!",
    "|",
    "|\n",
    "-\n",
    "=\n",
    "#\n",
    "# a\n",
    "a\n-\n",
    "---\n",
    "***\n",
    "|a\n|-\n# h\n",
    "||\n\n||\n",
    "``<`",
    "\\```",
    "'[r]: x\n[r]: x\n'[r]: x\n",
    "\\",
    "&",
    "&amp;",
    "<a@b>",
    "[a]",
]


@pytest.mark.parametrize("pattern", PATHOLOGICAL, ids=repr)
def test_render_markdown_pathological_input_renders(pattern: str) -> None:
    output = render_markdown(_repeat(pattern))
    assert output
    assert_safe_html(output)


# Characters that must all still be visible after rendering: the defusing never drops text.
@pytest.mark.parametrize(
    ("pattern", "char"),
    [
        ("[", "["),
        ("a[", "["),
        ("[a", "["),
        ("[](", "("),
        ("[a](", "["),
        ("(", "("),
        ("<", "<"),
        ("<a", "<"),
        ("![", "!"),
        ("&", "&"),
        ("]", "]"),
    ],
    ids=repr,
)
def test_render_markdown_pathological_input_keeps_text(pattern: str, char: str) -> None:
    text = _repeat(pattern)
    assert visible_text(render_markdown(text)).count(char) == text.count(char)
