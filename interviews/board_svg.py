"""A board's scene drawn as SVG on the server, for the scorecard, its printout and scorecard.md.

Why here and not an SVG exported by the browser: a stored browser export is markup that a
participant's browser wrote, and anyone can send any markup. Drawn here, every element and every
attribute in the file is one this module wrote: user text appears only as escaped character
data, colours only when they match a strict hex pattern, every number is formatted from a finite
float, and links are never drawn. (Excalidraw's own SVG export also wants `unsafe-eval` for font
subsetting, which our CSP never allows.) The picture is plainer than Excalidraw's hand-drawn
look: straight strokes, solid fills, generic fonts. It is still served only as an image, from its
own URL, with `nosniff` and a sandboxing CSP (scorecards/views.py).

Pure Python, no Django import (tests/test_architecture.py enforces it).
"""

import math
import re
from collections.abc import Callable, Iterable, Mapping

from interviews.board import Element, ordered

PADDING = 24
EMPTY_WIDTH, EMPTY_HEIGHT = 320, 120
# Beyond this a coordinate is clamped: a scene may hold any finite number, the picture need not.
COORD_LIMIT = 1_000_000.0
DEFAULT_STROKE = "#1e1e1e"
FRAME_STROKE = "#8a8f98"
BACKGROUND = "#ffffff"
LABEL_FILL = "#555b66"
HATCHED_FILL_OPACITY = 0.4
ARROWHEAD_ANGLE = math.radians(25)
FRAME_NAME_SIZE = 14.0

_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
# Characters XML 1.0 forbids: a file holding one is not an image at all.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
# Excalidraw's font numbers: 3 is Cascadia, its code font; every other one reads as sans-serif.
_MONOSPACE_FONT = 3
_ANCHORS = {"left": "start", "center": "middle", "right": "end"}
_DASHES = {"dashed": (8, 6), "dotted": (1.5, 6)}

type Attributes = dict[str, str | float]


def render_svg(elements: Iterable[Element], *, title: str = "Whiteboard") -> str:
    """The scene as a standalone SVG document; deleted and unknown elements are left out."""
    drawn = [
        element
        for element in ordered(e for e in elements if isinstance(e, Mapping) and "id" in e)
        if not element.get("isDeleted") and element.get("type") in _DRAWERS
    ]
    if not drawn:
        return _document(
            (0, 0, EMPTY_WIDTH, EMPTY_HEIGHT),
            title,
            [
                _tag(
                    "text",
                    {
                        "x": EMPTY_WIDTH / 2,
                        "y": EMPTY_HEIGHT / 2,
                        "text-anchor": "middle",
                        "font-family": "sans-serif",
                        "font-size": 16,
                        "fill": LABEL_FILL,
                    },
                    _escape("Nothing drawn"),
                )
            ],
        )
    boxes = [_bounds(element) for element in drawn]
    left = min(box[0] for box in boxes) - PADDING
    top = min(box[1] for box in boxes) - PADDING
    right = max(box[2] for box in boxes) + PADDING
    bottom = max(box[3] for box in boxes) + PADDING
    body = [part for element in drawn for part in _DRAWERS[element["type"]](element)]
    return _document((left, top, right - left, bottom - top), title, body)


# --- the document and its pieces ----------------------------------------------------------------


def _document(box: tuple[float, float, float, float], title: str, body: list[str]) -> str:
    left, top, width, height = box
    attributes: Attributes = {
        "xmlns": "http://www.w3.org/2000/svg",
        "viewBox": " ".join(_number(v) for v in box),
        "width": width,
        "height": height,
    }
    background = _tag(
        "rect", {"x": left, "y": top, "width": width, "height": height, "fill": BACKGROUND}
    )
    inner = "".join([_tag("title", {}, _escape(title)), background, *body])
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _tag("svg", attributes, inner) + "\n"


def _tag(name: str, attributes: Attributes, content: str | None = None) -> str:
    """One element. Every value is escaped, even the ones this module computed itself."""
    written = "".join(
        f' {key}="{_escape(_number(value) if isinstance(value, float | int) else value)}"'
        for key, value in attributes.items()
    )
    if content is None:
        return f"<{name}{written}/>"
    return f"<{name}{written}>{content}</{name}>"


def _escape(text: str) -> str:
    return "".join(_ESCAPES.get(char, char) for char in _NOT_XML.sub("", text))


def _number(value: float) -> str:
    text = f"{value:.1f}"
    text = text.removesuffix(".0")
    return "0" if text == "-0" else text


def _finite(value: object, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    if not math.isfinite(value):
        return default
    return max(-COORD_LIMIT, min(COORD_LIMIT, float(value)))


def _colour(value: object, default: str | None) -> str | None:
    """A colour we may write: a hex colour as Excalidraw's palette gives them, else `default`."""
    if isinstance(value, str) and _COLOUR.fullmatch(value):
        return value.lower()
    return default


# --- geometry -----------------------------------------------------------------------------------


def _points(element: Element) -> list[tuple[float, float]]:
    raw = element.get("points")
    if not isinstance(raw, list):
        return []
    return [
        (_finite(point[0]), _finite(point[1]))
        for point in raw
        if isinstance(point, list) and len(point) == 2
    ]


def _box(element: Element) -> tuple[float, float, float, float]:
    """The element's unrotated box: left, top, right, bottom."""
    x, y = _finite(element.get("x")), _finite(element.get("y"))
    points = _points(element)
    if element.get("type") in _LINEAR and points:
        xs = [x + px for px, _ in points]
        ys = [y + py for _, py in points]
        return min(xs), min(ys), max(xs), max(ys)
    width, height = _finite(element.get("width")), _finite(element.get("height"))
    return min(x, x + width), min(y, y + height), max(x, x + width), max(y, y + height)


def _centre(element: Element) -> tuple[float, float]:
    left, top, right, bottom = _box(element)
    return (left + right) / 2, (top + bottom) / 2


def _bounds(element: Element) -> tuple[float, float, float, float]:
    """The box the element covers once rotated, with room for its stroke and a frame's name."""
    left, top, right, bottom = _box(element)
    angle = _finite(element.get("angle"))
    if angle:
        cx, cy = (left + right) / 2, (top + bottom) / 2
        cos, sin = math.cos(angle), math.sin(angle)
        corners = [
            (cx + (px - cx) * cos - (py - cy) * sin, cy + (px - cx) * sin + (py - cy) * cos)
            for px, py in ((left, top), (right, top), (right, bottom), (left, bottom))
        ]
        left, right = min(c[0] for c in corners), max(c[0] for c in corners)
        top, bottom = min(c[1] for c in corners), max(c[1] for c in corners)
    margin = _stroke_width(element) * 4
    if element.get("type") == "frame":
        top -= FRAME_NAME_SIZE * 1.5
    return left - margin, top - margin, right + margin, bottom + margin


def _stroke_width(element: Element) -> float:
    return max(0.5, min(_finite(element.get("strokeWidth"), 2.0), 40.0))


def _common(element: Element, *, filled: bool) -> Attributes:
    """Stroke, fill, dashes, opacity and rotation, shared by every shape."""
    width = _stroke_width(element)
    attributes: Attributes = {
        "stroke": _colour(element.get("strokeColor"), DEFAULT_STROKE) or DEFAULT_STROKE,
        "stroke-width": width,
        "stroke-linecap": "round",
        "stroke-linejoin": "round",
    }
    fill = _colour(element.get("backgroundColor"), None) if filled else None
    attributes["fill"] = fill or "none"
    if fill and element.get("fillStyle") != "solid":
        attributes["fill-opacity"] = HATCHED_FILL_OPACITY
    dash = _DASHES.get(str(element.get("strokeStyle")))
    if dash:
        attributes["stroke-dasharray"] = f"{_number(dash[0] * width)} {_number(dash[1] * width)}"
    attributes.update(_placement(element))
    return attributes


def _placement(element: Element) -> Attributes:
    attributes: Attributes = {}
    opacity = _finite(element.get("opacity"), 100.0)
    if opacity < 100:
        attributes["opacity"] = max(0.0, opacity) / 100
    angle = _finite(element.get("angle"))
    if angle:
        cx, cy = _centre(element)
        attributes["transform"] = (
            f"rotate({_number(math.degrees(angle))} {_number(cx)} {_number(cy)})"
        )
    return attributes


# --- one drawer per element type ----------------------------------------------------------------


def _rectangle(element: Element) -> list[str]:
    left, top, right, bottom = _box(element)
    attributes: Attributes = {
        "x": left,
        "y": top,
        "width": right - left,
        "height": bottom - top,
    }
    if element.get("roundness"):
        # Excalidraw's adaptive corners: a quarter of the shorter side, at most 32.
        attributes["rx"] = min(32.0, min(right - left, bottom - top) / 4)
    return [_tag("rect", attributes | _common(element, filled=True))]


def _ellipse(element: Element) -> list[str]:
    left, top, right, bottom = _box(element)
    attributes: Attributes = {
        "cx": (left + right) / 2,
        "cy": (top + bottom) / 2,
        "rx": (right - left) / 2,
        "ry": (bottom - top) / 2,
    }
    return [_tag("ellipse", attributes | _common(element, filled=True))]


def _diamond(element: Element) -> list[str]:
    left, top, right, bottom = _box(element)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    corners = [(cx, top), (right, cy), (cx, bottom), (left, cy)]
    return [_tag("polygon", {"points": _point_list(corners), **_common(element, filled=True)})]


def _linear(element: Element) -> list[str]:
    x, y = _finite(element.get("x")), _finite(element.get("y"))
    points = [(x + px, y + py) for px, py in _points(element)]
    if len(points) < 2:
        return []
    attributes = _common(element, filled=False)
    parts = [_tag("polyline", {"points": _point_list(points), **attributes})]
    if element.get("type") == "arrow":
        heads = []
        if element.get("endArrowhead", "arrow"):
            heads.append((points[-2], points[-1]))
        if element.get("startArrowhead"):
            heads.append((points[1], points[0]))
        for before, tip in heads:
            head = _arrowhead(before, tip, _stroke_width(element))
            if head:
                parts.append(_tag("polyline", {"points": _point_list(head), **attributes}))
    return parts


def _arrowhead(
    before: tuple[float, float], tip: tuple[float, float], stroke: float
) -> list[tuple[float, float]]:
    dx, dy = tip[0] - before[0], tip[1] - before[1]
    length = math.hypot(dx, dy)
    if length == 0:
        return []
    size = min(max(10.0, stroke * 5), length)
    direction = math.atan2(dy, dx)
    return [
        (
            tip[0] - size * math.cos(direction + side * ARROWHEAD_ANGLE),
            tip[1] - size * math.sin(direction + side * ARROWHEAD_ANGLE),
        )
        if side
        else tip
        for side in (-1, 0, 1)
    ]


def _freedraw(element: Element) -> list[str]:
    x, y = _finite(element.get("x")), _finite(element.get("y"))
    points = [(x + px, y + py) for px, py in _points(element)]
    if not points:
        return []
    if len(points) == 1:
        points.append(points[0])  # a dot: a zero-length path with round caps
    path = "M" + " L".join(f"{_number(px)} {_number(py)}" for px, py in points)
    attributes = _common(element, filled=False)
    attributes["stroke-width"] = _stroke_width(element) * 1.5
    return [_tag("path", {"d": path, **attributes})]


def _text(element: Element) -> list[str]:
    raw = element.get("text")
    if not isinstance(raw, str) or not raw.strip():
        return []
    left, top, right, _ = _box(element)
    size = max(1.0, min(_finite(element.get("fontSize"), 20.0), 400.0))
    line_height = size * max(0.5, min(_finite(element.get("lineHeight"), 1.25), 5.0))
    align = str(element.get("textAlign", "left"))
    anchor = _ANCHORS.get(align, "start")
    x = {"start": left, "middle": (left + right) / 2, "end": right}[anchor]
    font = "monospace" if _finite(element.get("fontFamily")) == _MONOSPACE_FONT else "sans-serif"
    attributes: Attributes = {
        "x": x,
        "y": top,
        "font-family": font,
        "font-size": size,
        "text-anchor": anchor,
        "fill": _colour(element.get("strokeColor"), DEFAULT_STROKE) or DEFAULT_STROKE,
    }
    attributes.update(_placement(element))
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # Each line's baseline sits about 0.3 of the font size below the middle of its line box.
    spans = "".join(
        _tag("tspan", {"x": x, "y": top + line_height * (n + 0.5) + size * 0.3}, _escape(line))
        for n, line in enumerate(lines)
    )
    return [_tag("text", attributes, spans)]


def _frame(element: Element) -> list[str]:
    left, top, right, bottom = _box(element)
    outline: Attributes = {
        "x": left,
        "y": top,
        "width": right - left,
        "height": bottom - top,
        "rx": 8,
        "fill": "none",
        "stroke": FRAME_STROKE,
        "stroke-width": 1,
    }
    parts = [_tag("rect", outline | _placement(element))]
    name = element.get("name")
    if isinstance(name, str) and name.strip():
        label: Attributes = {
            "x": left,
            "y": top - FRAME_NAME_SIZE * 0.5,
            "font-family": "sans-serif",
            "font-size": FRAME_NAME_SIZE,
            "fill": LABEL_FILL,
        }
        parts.append(_tag("text", label | _placement(element), _escape(name)))
    return parts


def _point_list(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{_number(x)},{_number(y)}" for x, y in points)


_LINEAR = {"arrow", "line", "freedraw"}
_DRAWERS: dict[str, Callable[[Element], list[str]]] = {
    "rectangle": _rectangle,
    "ellipse": _ellipse,
    "diamond": _diamond,
    "arrow": _linear,
    "line": _linear,
    "freedraw": _freedraw,
    "text": _text,
    "frame": _frame,
}
