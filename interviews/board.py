"""The shared whiteboard's rules: what a save may contain, how saves merge, what the labels say.

Pure Python, with no Django import (tests/interviews/test_board_merge.py enforces it), so the
rules are testable without a database. A scene is a dict of element id → Excalidraw element (a
JSON object). Saves merge per element the way Excalidraw's own `reconcileElements` does, so the
browser (frontend/board/index.jsx) and the server agree: the higher `version` wins, a tie goes to
the lower `versionNonce`. Deleted elements stay as tombstones (`isDeleted: true`) so that a
deletion reaches the other screen like any other change.

The view's part: `parse_update(request.body)`, then `apply_update(board, update)` under a row
lock, store the new `Board`, and answer `reply_payload(...)`; a `BoardError` becomes a 400 with
its message, and nothing is stored.
"""

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard
from urllib.parse import urlsplit

type Element = dict[str, Any]

MAX_BODY_BYTES = 512 * 1024
MAX_ELEMENTS = 2_000
# Elements are stored as sent, tombstones whole, so only a cap in bytes bounds the stored scene;
# it sits well above what 2,000 ordinary shapes take (about 1 MB).
MAX_SCENE_BYTES = 4 * 1024 * 1024
MAX_ID_LENGTH = 100
MAX_LINK_LENGTH = 2_000
TOO_LARGE = "This change is too large to save at once (over 512 KB)."
ALLOWED_TYPES = frozenset(
    {"rectangle", "ellipse", "diamond", "arrow", "line", "freedraw", "text", "frame"}
)
# JavaScript reads JSON numbers as doubles: a larger integer would not survive the round trip.
MAX_SAFE_INTEGER = 2**53 - 1

_NUMBER_FIELDS = (
    "x",
    "y",
    "width",
    "height",
    "angle",
    "opacity",
    "strokeWidth",
    "roughness",
    "fontSize",
    "lineHeight",
    "seed",
    "updated",
)
_TEXT_FIELDS = (
    "text",
    "originalText",
    "strokeColor",
    "backgroundColor",
    "fillStyle",
    "strokeStyle",
    "textAlign",
    "verticalAlign",
)
_OPTIONAL_TEXT_FIELDS = ("containerId", "frameId", "index", "name")
_BOOLEAN_FIELDS = ("isDeleted", "locked")
_POINT_LIST_FIELDS = ("points",)


class BoardError(ValueError):
    """Input the board refuses. The message is written for the person drawing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class BoardUpdate:
    """One save from a browser: the board version it last saw and the elements it changed."""

    base_version: int
    elements: list[Element]


@dataclass(frozen=True)
class Board:
    """A session's board: its version (one step per save that changed something), the scene,
    and for each element the board version that last changed it, which is what lets a reply
    carry only what the saving browser has not seen."""

    version: int = 0
    elements: dict[str, Element] = field(default_factory=dict)
    changed_at: dict[str, int] = field(default_factory=dict)


def parse_update(body: bytes) -> BoardUpdate:
    """Read a POSTed save, `{"base_version": n, "elements": [...]}`, or raise `BoardError`."""
    if len(body) > MAX_BODY_BYTES:
        raise BoardError(TOO_LARGE)
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        # ValueError covers bad JSON and bad UTF-8; RecursionError, absurdly deep nesting.
        raise BoardError("The board's data could not be read (malformed JSON).") from error
    if not isinstance(data, dict):
        raise BoardError('The save must be a JSON object with "base_version" and "elements".')
    if not _storable(data):
        raise BoardError(
            "The drawing holds a character that cannot be stored (a NUL character, or half of "
            "a surrogate pair): remove it and try again."
        )
    base_version = data.get("base_version")
    if not _is_integer(base_version) or base_version < 0:
        raise BoardError('"base_version" must be a whole number, 0 or more.')
    return BoardUpdate(base_version=base_version, elements=validate_elements(data.get("elements")))


def validate_elements(payload: object) -> list[Element]:
    """Check a list of Excalidraw elements and return it, or raise `BoardError` naming the first
    problem: wrong shapes, an unknown or image type, a link that is not http(s), a missing or
    malformed id, version or versionNonce. Unknown extra fields pass: Excalidraw adds some from
    version to version, and the browser ignores those it does not know."""
    if not isinstance(payload, list):
        raise BoardError('"elements" must be a list of drawing elements.')
    return [_validate_element(element, position) for position, element in enumerate(payload, 1)]


def merge(
    scene: Mapping[str, Element], incoming: Iterable[Element]
) -> tuple[dict[str, Element], list[str]]:
    """Merge validated elements into a scene; return the new scene and the ids that changed.

    Per element the newer one wins: higher `version`, then lower `versionNonce` (Excalidraw's
    rule), then, for two different copies with the same pair, the smaller canonical JSON, so the
    result never depends on the order saves arrive in. The input scene is not modified.
    Raises `BoardError` when the result would hold more than `MAX_ELEMENTS` shapes or
    `MAX_SCENE_BYTES`, unless it shrinks: deleting from an over-full board always works.
    """
    merged = dict(scene)
    changed: dict[str, None] = {}
    for element in incoming:
        current = merged.get(element["id"])
        if current is None or _wins(element, current):
            merged[element["id"]] = element
            changed[element["id"]] = None
    if changed:
        _check_limits(before=scene, after=merged)
    return merged, list(changed)


def apply_update(board: Board, update: BoardUpdate) -> tuple[Board, list[Element]]:
    """Merge a save into the board; return the new board and the elements for the reply.

    The reply holds what the saving browser lacks: elements changed since its `base_version`
    (other than its own copies), and the server's copy of any element it sent that lost the
    merge. The version moves only when something changed.
    """
    elements, changed = merge(board.elements, update.elements)
    version = board.version + 1 if changed else board.version
    changed_at = board.changed_at | dict.fromkeys(changed, version)
    # A base ahead of the board cannot come from this board (a restored database, say): send all.
    base = update.base_version if update.base_version <= board.version else 0
    sent = {element["id"]: element for element in update.elements}
    reply = [
        element
        for element_id, element in elements.items()
        if (changed_at.get(element_id, 0) > base or element_id in sent)
        and sent.get(element_id) != element
    ]
    return Board(version=version, elements=elements, changed_at=changed_at), ordered(reply)


def ordered(elements: Iterable[Element]) -> list[Element]:
    """Elements in drawing order, as Excalidraw sorts them: by fractional `index`, then id."""
    return sorted(elements, key=lambda e: (e.get("index") is None, e.get("index") or "", e["id"]))


def board_payload(board: Board) -> dict[str, Any]:
    """The GET answer without `read_only`, which the view adds: the whole scene, tombstones
    included, so a browser that still shows a deleted element learns of the deletion."""
    return {"version": board.version, "elements": ordered(board.elements.values())}


def reply_payload(board: Board, reply: list[Element]) -> dict[str, Any]:
    """The POST answer: the new version and the elements the saving browser lacks."""
    return {"version": board.version, "elements": reply}


def labels(scene: Mapping[str, Element]) -> list[str]:
    """The words a person can read on the board, for the evidence matcher: free text, the
    labels bound to shapes and arrows (text elements too, with a `containerId`) and frame
    names; deleted elements left out. Whitespace is collapsed (Excalidraw wraps long labels
    with line breaks); each distinct label appears once, in drawing order."""
    found: dict[str, None] = {}
    for element in ordered(scene.values()):
        if element.get("isDeleted"):
            continue
        if element["type"] == "text":
            raw = element.get("originalText") or element.get("text")
        elif element["type"] == "frame":
            raw = element.get("name")
        else:
            continue
        if isinstance(raw, str) and (text := " ".join(raw.split())):
            found[text] = None
    return list(found)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _storable(value: object) -> bool:
    """Whether every string in the parsed JSON can be stored: JSON may escape a NUL ("\\u0000",
    which PostgreSQL's jsonb refuses) or a lone surrogate (which no database can encode)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or (not item.isascii() and _has_surrogate(item)):
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _is_integer(value: object) -> TypeGuard[int]:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    )


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    return isinstance(value, float) and math.isfinite(value)


def _validate_element(element: object, position: int) -> Element:
    if not isinstance(element, dict):
        raise BoardError(f"Element {position} is not a JSON object.")
    element_id = element.get("id")
    if not isinstance(element_id, str) or not 0 < len(element_id) <= MAX_ID_LENGTH:
        raise BoardError(f"Element {position} has no valid id.")
    kind = element.get("type")
    if kind == "image":
        raise BoardError("Images cannot be put on the board: draw the idea instead.")
    if not isinstance(kind, str) or kind not in ALLOWED_TYPES:
        raise BoardError(
            f"Element {position} has an unknown type ({_shown(kind)}); the board keeps "
            + ", ".join(sorted(ALLOWED_TYPES))
            + "."
        )
    version = element.get("version")
    if not _is_integer(version) or version < 1:
        raise BoardError(f"Element {position} ({kind}) has no valid version.")
    if not _is_integer(element.get("versionNonce")):
        raise BoardError(f"Element {position} ({kind}) has no valid versionNonce.")
    _validate_link(element.get("link"), position, kind)
    _validate_fields(element, position, kind)
    return element


def _shown(kind: object) -> str:
    """A refused type, short enough for a message: a list or an object is not quoted whole."""
    if isinstance(kind, list):
        return "a list"
    if isinstance(kind, dict):
        return "an object"
    return repr(kind[:40] if isinstance(kind, str) else kind)


def _validate_link(link: object, position: int, kind: str) -> None:
    if link is None:
        return
    if not isinstance(link, str) or len(link) > MAX_LINK_LENGTH:
        raise BoardError(f"Element {position} ({kind}) has a malformed link.")
    try:
        parts = urlsplit(link.strip())
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        raise BoardError(
            f"A link on the board must be a web address starting with http:// or https:// "
            f"(element {position}, {kind})."
        )


def _validate_fields(element: Element, position: int, kind: str) -> None:
    def wrong(name: str, what: str) -> BoardError:
        return BoardError(f"Element {position} ({kind}): {name} must be {what}.")

    for name in _NUMBER_FIELDS:
        if name in element and not _is_number(element[name]):
            raise wrong(name, "a finite number")
    if "fontFamily" in element and not _is_integer(element["fontFamily"]):
        raise wrong("fontFamily", "a whole number")
    for name in _TEXT_FIELDS:
        if name in element and not isinstance(element[name], str):
            raise wrong(name, "text")
    for name in _OPTIONAL_TEXT_FIELDS:
        if name in element and not isinstance(element[name], str | None):
            raise wrong(name, "text or null")
    for name in _BOOLEAN_FIELDS:
        if name in element and not isinstance(element[name], bool):
            raise wrong(name, "true or false")
    groups = element.get("groupIds", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise wrong("groupIds", "a list of ids")
    bound = element.get("boundElements")
    if bound is not None and not (
        isinstance(bound, list)
        and all(
            isinstance(b, dict) and isinstance(b.get("id"), str) and isinstance(b.get("type"), str)
            for b in bound
        )
    ):
        raise wrong("boundElements", 'null or a list of {"id", "type"}')
    for name in _POINT_LIST_FIELDS:
        points = element.get(name, [])
        if not isinstance(points, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(_is_number(c) for c in p) for p in points
        ):
            raise wrong(name, "a list of [x, y] pairs")
    pressures = element.get("pressures", [])
    if not isinstance(pressures, list) or not all(_is_number(p) for p in pressures):
        raise wrong("pressures", "a list of numbers")
    if "customData" in element and not isinstance(element["customData"], dict):
        raise wrong("customData", "an object")


def _rank(element: Element) -> tuple[int, int]:
    return element["version"], -element["versionNonce"]


def _wins(challenger: Element, current: Element) -> bool:
    if _rank(challenger) != _rank(current):
        return _rank(challenger) > _rank(current)
    # Same version and nonce: normally the same copy. If the content differs anyway, pick one by
    # content alone, so every server and every delivery order keeps the same one.
    return _canonical(challenger) < _canonical(current)


def _canonical(element: Element) -> str:
    return json.dumps(element, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _live_count(scene: Mapping[str, Element]) -> int:
    return sum(1 for element in scene.values() if not element.get("isDeleted"))


def _size(scene: Mapping[str, Element]) -> int:
    return len(json.dumps(list(scene.values()), separators=(",", ":")).encode())


def _check_limits(*, before: Mapping[str, Element], after: Mapping[str, Element]) -> None:
    count = _live_count(after)
    if count > MAX_ELEMENTS and count > _live_count(before):
        raise BoardError(
            f"The board holds at most {MAX_ELEMENTS:,} shapes; this change would make it "
            f"{count:,}. Delete some first."
        )
    size = _size(after)
    if size > MAX_SCENE_BYTES and size > _size(before):
        raise BoardError(
            "The board is full (over 4 MB of drawing, deleted shapes included). "
            "Delete some shapes or simplify long freehand strokes."
        )
