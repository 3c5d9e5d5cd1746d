import html
import re

import bleach
import markdown
from bleach.html5lib_shim import Filter
from django.utils.safestring import SafeString, mark_safe

MAX_MARKDOWN_LENGTH = 20_000

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
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"

_ALLOWED_HREF = re.compile(r"(?:https?|mailto):", re.IGNORECASE)


class _LinkFilter(Filter):
    def __iter__(self):
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "a":
                attrs = dict(token["data"])
                href = attrs.get((None, "href"))
                if href is not None and not _ALLOWED_HREF.match(html.unescape(href)):
                    del attrs[(None, "href")]
                attrs[(None, "rel")] = LINK_REL
                token["data"] = attrs
            yield token


def _markdown() -> markdown.Markdown:
    md = markdown.Markdown(extensions=["fenced_code", "tables", "sane_lists"], output_format="html")
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    for name in ("image_link", "image_reference", "short_image_ref"):
        md.inlinePatterns.deregister(name)
    return md


def _defuse(text: str) -> str:
    return text


def render_markdown(text: str) -> SafeString:
    if not text:
        return SafeString("")
    truncated = len(text) > MAX_MARKDOWN_LENGTH
    text = _defuse(text[:MAX_MARKDOWN_LENGTH])
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        filters=[_LinkFilter],
    )
    out = cleaner.clean(_markdown().convert(text))
    if truncated:
        out += "\n<p>(truncated)</p>"
    return mark_safe(out)
