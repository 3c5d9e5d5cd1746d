"""The whiteboard's pure rules (interviews/board.py): validation, the merge, the reply, labels.

DB-free. The merge properties (commutative, idempotent, delivery order irrelevant) are checked
with hypothesis over small scenes where versions and nonces collide often.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interviews.board import (
    ALLOWED_TYPES,
    MAX_BODY_BYTES,
    MAX_ELEMENTS,
    MAX_SCENE_BYTES,
    Board,
    BoardError,
    BoardUpdate,
    apply_update,
    board_payload,
    labels,
    merge,
    ordered,
    parse_update,
    reply_payload,
    validate_elements,
)

REPO = Path(__file__).resolve().parents[2]


def rect(element_id: str = "r1", version: int = 1, nonce: int = 100, **extra: object) -> dict:
    """An element shaped like the ones Excalidraw 0.18 sends (fields trimmed to the usual)."""
    return {
        "id": element_id,
        "type": "rectangle",
        "x": 10.5,
        "y": 20,
        "width": 120,
        "height": 60,
        "angle": 0,
        "strokeColor": "#1e1e1e",
        "backgroundColor": "transparent",
        "fillStyle": "solid",
        "strokeWidth": 2,
        "strokeStyle": "solid",
        "roughness": 1,
        "opacity": 100,
        "groupIds": [],
        "frameId": None,
        "index": "a0",
        "roundness": {"type": 3},
        "seed": 1968410350,
        "version": version,
        "versionNonce": nonce,
        "isDeleted": False,
        "boundElements": None,
        "updated": 1735689600000,
        "link": None,
        "locked": False,
    } | extra


def text(element_id: str, words: str, **extra: object) -> dict:
    return rect(element_id, type="text", text=words, originalText=words, fontSize=20) | extra


def body(elements: object, base_version: object = 0) -> bytes:
    return json.dumps({"base_version": base_version, "elements": elements}).encode()


def error_of(call, *args) -> str:
    with pytest.raises(BoardError) as caught:
        call(*args)
    return caught.value.message


# --- Parsing and validation


def test_parse_update_reads_a_valid_save() -> None:
    elements = [rect("r1"), text("t1", "Feature store", containerId="r1")]

    update = parse_update(body(elements, base_version=7))

    assert update == BoardUpdate(base_version=7, elements=elements)


@pytest.mark.parametrize("kind", sorted(ALLOWED_TYPES))
def test_validate_elements_accepts_every_drawing_type(kind: str) -> None:
    element = rect("e1", type=kind)

    assert validate_elements([element]) == [element]


def test_validate_elements_accepts_linear_and_freedraw_geometry() -> None:
    arrow = rect("a1", type="arrow", points=[[0, 0], [120.5, -3]], startBinding=None)
    stroke = rect("f1", type="freedraw", points=[[0, 0], [1, 2], [3, 5]], pressures=[0.5, 0.6])

    assert validate_elements([arrow, stroke]) == [arrow, stroke]


@pytest.mark.parametrize(
    "link", ["https://example.org/design", "http://example.org", "HTTPS://Example.org/x?y=1"]
)
def test_validate_elements_accepts_web_links(link: str) -> None:
    assert validate_elements([rect(link=link)])[0]["link"] == link


def test_parse_update_refuses_a_body_over_512_kb() -> None:
    padding = "x" * MAX_BODY_BYTES
    oversized = body([rect(customData={"padding": padding})])

    message = error_of(parse_update, oversized)

    assert message == "This change is too large to save at once (over 512 KB)."


def test_parse_update_accepts_a_body_of_exactly_512_kb() -> None:
    start = body([rect(customData={"padding": ""})])
    exact = start.replace(
        b'"padding": ""', b'"padding": "' + b"x" * (MAX_BODY_BYTES - len(start)) + b'"'
    )

    assert len(exact) == MAX_BODY_BYTES
    assert parse_update(exact).elements[0]["id"] == "r1"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b'{"base_version": 0, "elements": [}',
        b"\xff\xfe not utf-8",
        b'{"base_version": NaN, "elements": []}',
        b'{"base_version": 0, "elements": [{"x": Infinity}]}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["empty", "truncated", "broken", "not-utf8", "nan", "infinity", "deep-nesting"],
)
def test_parse_update_refuses_malformed_json(raw: bytes) -> None:
    assert error_of(parse_update, raw) == "The board's data could not be read (malformed JSON)."


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[]", 'The save must be a JSON object with "base_version" and "elements".'),
        (b'"text"', 'The save must be a JSON object with "base_version" and "elements".'),
        (b'{"elements": []}', '"base_version" must be a whole number, 0 or more.'),
        (
            b'{"base_version": -1, "elements": []}',
            '"base_version" must be a whole number, 0 or more.',
        ),
        (
            b'{"base_version": 1.5, "elements": []}',
            '"base_version" must be a whole number, 0 or more.',
        ),
        (
            b'{"base_version": true, "elements": []}',
            '"base_version" must be a whole number, 0 or more.',
        ),
        (b'{"base_version": 0}', '"elements" must be a list of drawing elements.'),
        (b'{"base_version": 0, "elements": {}}', '"elements" must be a list of drawing elements.'),
    ],
)
def test_parse_update_refuses_wrong_shapes(raw: bytes, message: str) -> None:
    assert error_of(parse_update, raw) == message


def test_validate_elements_refuses_an_image() -> None:
    image = rect("i1", type="image", fileId="abc", status="saved")

    message = error_of(validate_elements, [rect(), image])

    assert message == "Images cannot be put on the board: draw the idea instead."


@pytest.mark.parametrize("kind", ["embeddable", "iframe", "magicframe", "selection", "", None, 3])
def test_validate_elements_refuses_unknown_types(kind: object) -> None:
    message = error_of(validate_elements, [rect(type=kind)])

    assert message == (
        f"Element 1 has an unknown type ({kind!r}); the board keeps arrow, diamond, ellipse, "
        "frame, freedraw, line, rectangle, text."
    )


@pytest.mark.parametrize(("kind", "shown"), [(["rectangle"], "a list"), ({"a": 1}, "an object")])
def test_validate_elements_refuses_a_type_that_is_not_a_name(kind: object, shown: str) -> None:
    # A list here once raised TypeError (a 500) instead of a refusal: found by the fuzz test.
    message = error_of(validate_elements, [rect(type=kind)])

    assert message == (
        f"Element 1 has an unknown type ({shown}); the board keeps arrow, diamond, ellipse, "
        "frame, freedraw, line, rectangle, text."
    )


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.org/file",
        "/sessions/1/",
        "?element=abc",
        "https://",
        "http://[::1",
        "",
        42,
    ],
)
def test_validate_elements_refuses_links_that_are_not_web_addresses(link: object) -> None:
    message = error_of(validate_elements, [rect("ok"), rect("bad", link=link)])

    if isinstance(link, str):
        assert message == (
            "A link on the board must be a web address starting with http:// or https:// "
            "(element 2, rectangle)."
        )
    else:
        assert message == "Element 2 (rectangle) has a malformed link."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "Element 1 has no valid id."),
        ({"id": ""}, "Element 1 has no valid id."),
        ({"id": "x" * 101}, "Element 1 has no valid id."),
        ({"version": None}, "Element 1 (rectangle) has no valid version."),
        ({"version": 0}, "Element 1 (rectangle) has no valid version."),
        ({"version": "3"}, "Element 1 (rectangle) has no valid version."),
        ({"version": 2**53}, "Element 1 (rectangle) has no valid version."),
        ({"versionNonce": None}, "Element 1 (rectangle) has no valid versionNonce."),
        ({"versionNonce": 1.5}, "Element 1 (rectangle) has no valid versionNonce."),
        ({"versionNonce": False}, "Element 1 (rectangle) has no valid versionNonce."),
    ],
)
def test_validate_elements_refuses_missing_or_bad_identity(change: dict, message: str) -> None:
    assert error_of(validate_elements, [rect() | change]) == message


@pytest.mark.parametrize("missing", ["id", "version", "versionNonce", "type"])
def test_validate_elements_refuses_an_element_without_a_required_field(missing: str) -> None:
    element = rect()
    del element[missing]

    with pytest.raises(BoardError):
        validate_elements([element])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x": "10"}, "Element 1 (rectangle): x must be a finite number."),
        ({"width": 1e400}, "Element 1 (rectangle): width must be a finite number."),
        ({"angle": True}, "Element 1 (rectangle): angle must be a finite number."),
        ({"text": 5}, "Element 1 (rectangle): text must be text."),
        ({"containerId": 7}, "Element 1 (rectangle): containerId must be text or null."),
        ({"isDeleted": "no"}, "Element 1 (rectangle): isDeleted must be true or false."),
        ({"groupIds": "g1"}, "Element 1 (rectangle): groupIds must be a list of ids."),
        ({"groupIds": [1]}, "Element 1 (rectangle): groupIds must be a list of ids."),
        (
            {"boundElements": [{"id": "a1"}]},
            'Element 1 (rectangle): boundElements must be null or a list of {"id", "type"}.',
        ),
        ({"points": [[0, 0, 0]]}, "Element 1 (rectangle): points must be a list of [x, y] pairs."),
        ({"points": "0,0"}, "Element 1 (rectangle): points must be a list of [x, y] pairs."),
        ({"pressures": [None]}, "Element 1 (rectangle): pressures must be a list of numbers."),
        ({"fontFamily": "Virgil"}, "Element 1 (rectangle): fontFamily must be a whole number."),
        ({"customData": []}, "Element 1 (rectangle): customData must be an object."),
    ],
)
def test_validate_elements_refuses_wrongly_typed_fields(change: dict, message: str) -> None:
    assert error_of(validate_elements, [rect() | change]) == message


def test_validate_elements_refuses_a_non_object_element() -> None:
    assert error_of(validate_elements, [rect(), "rect"]) == "Element 2 is not a JSON object."


def test_validate_elements_keeps_unknown_extra_fields() -> None:
    element = rect(someFieldFromANewerExcalidraw={"a": 1})

    assert validate_elements([element]) == [element]


# --- The merge


def test_merge_adds_new_elements_and_reports_them() -> None:
    scene, changed = merge({}, [rect("a"), rect("b")])

    assert scene == {"a": rect("a"), "b": rect("b")}
    assert changed == ["a", "b"]


def test_merge_higher_version_wins_either_way() -> None:
    old, new = rect(version=3, x=0), rect(version=4, x=99)

    assert merge({"r1": old}, [new]) == ({"r1": new}, ["r1"])
    assert merge({"r1": new}, [old]) == ({"r1": new}, [])


def test_merge_tie_goes_to_the_lower_version_nonce() -> None:
    low, high = rect(version=5, nonce=10, x=1), rect(version=5, nonce=20, x=2)

    assert merge({"r1": high}, [low]) == ({"r1": low}, ["r1"])
    assert merge({"r1": low}, [high]) == ({"r1": low}, [])


def test_merge_of_an_identical_copy_changes_nothing() -> None:
    assert merge({"r1": rect()}, [rect()]) == ({"r1": rect()}, [])


def test_merge_keeps_a_deletion_as_a_tombstone() -> None:
    deleted = rect(version=2, isDeleted=True)

    scene, changed = merge({"r1": rect()}, [deleted])

    assert scene == {"r1": deleted}
    assert changed == ["r1"]
    # A late copy of the element from before the deletion does not bring it back.
    assert merge(scene, [rect(version=1)]) == (scene, [])


def test_merge_does_not_modify_the_scene_it_is_given() -> None:
    scene = {"r1": rect()}

    merge(scene, [rect(version=2), rect("r2")])

    assert scene == {"r1": rect()}


def test_merge_refuses_more_than_2000_shapes_and_keeps_the_scene() -> None:
    scene = {f"e{i}": rect(f"e{i}") for i in range(MAX_ELEMENTS)}

    message = error_of(merge, scene, [rect("one-too-many")])

    assert message == (
        "The board holds at most 2,000 shapes; this change would make it 2,001. Delete some first."
    )
    assert len(scene) == MAX_ELEMENTS


def test_merge_counts_only_live_shapes_against_the_limit() -> None:
    scene = {f"e{i}": rect(f"e{i}", isDeleted=i < 10) for i in range(MAX_ELEMENTS)}

    merged, changed = merge(scene, [rect(f"new{i}") for i in range(10)])

    assert len(merged) == MAX_ELEMENTS + 10
    assert len(changed) == 10


def test_merge_lets_an_over_full_board_shrink() -> None:
    # Over the limit already (the limit was lowered, say): deleting must still work.
    scene = {f"e{i}": rect(f"e{i}") for i in range(MAX_ELEMENTS + 5)}

    merged, changed = merge(scene, [rect("e0", version=2, isDeleted=True)])

    assert changed == ["e0"]
    assert merged["e0"]["isDeleted"] is True


def test_merge_refuses_a_scene_over_4_mb() -> None:
    stroke_points = [[i, i] for i in range(2_000)]
    scene = {f"f{i}": rect(f"f{i}", type="freedraw", points=stroke_points) for i in range(180)}
    compact = json.dumps(list(scene.values()), separators=(",", ":"))
    assert 0.9 * MAX_SCENE_BYTES < len(compact) < MAX_SCENE_BYTES

    message = error_of(
        merge, scene, [rect(f"g{i}", type="freedraw", points=stroke_points) for i in range(40)]
    )

    assert message == (
        "The board is full (over 4 MB of drawing, deleted shapes included). "
        "Delete some shapes or simplify long freehand strokes."
    )


# --- Properties of the merge

element_ids = st.sampled_from(["a", "b", "c"])
elements = st.builds(
    lambda element_id, version, nonce, x, deleted: rect(
        element_id, version=version, nonce=nonce, x=x, isDeleted=deleted
    ),
    element_ids,
    st.integers(1, 3),
    st.integers(0, 2),
    st.integers(0, 1),
    st.booleans(),
)
batches = st.lists(elements, max_size=6)


@given(batches, batches, batches)
def test_merge_is_commutative(start: list[dict], first: list[dict], second: list[dict]) -> None:
    scene, _ = merge({}, start)

    one_way, _ = merge(merge(scene, first)[0], second)
    other_way, _ = merge(merge(scene, second)[0], first)

    assert one_way == other_way


@given(batches, batches)
def test_merge_is_idempotent(start: list[dict], batch: list[dict]) -> None:
    scene, _ = merge({}, start)
    once, _ = merge(scene, batch)

    twice, changed_again = merge(once, batch)

    assert twice == once
    assert changed_again == []


@given(batches, st.data())
def test_merge_ignores_the_order_of_delivery(batch: list[dict], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(batch))
    one_by_one: dict = {}
    for element in shuffled:
        one_by_one, _ = merge(one_by_one, [element])

    assert merge({}, batch)[0] == merge({}, shuffled)[0] == one_by_one


@given(batches, batches)
def test_merge_keeps_the_winner_of_each_element(start: list[dict], batch: list[dict]) -> None:
    merged, changed = merge(merge({}, start)[0], batch)

    for element_id, element in merged.items():
        copies = [e for e in start + batch if e["id"] == element_id]
        best = max((e["version"], -e["versionNonce"]) for e in copies)
        assert (element["version"], -element["versionNonce"]) == best
    assert set(changed) <= {e["id"] for e in batch}


# --- Saves against a board, and the replies


def test_apply_update_bumps_the_version_and_echoes_nothing_back() -> None:
    board = Board()

    board, reply = apply_update(board, BoardUpdate(base_version=0, elements=[rect("a")]))

    assert board == Board(version=1, elements={"a": rect("a")}, changed_at={"a": 1})
    assert reply == []


def test_apply_update_without_a_change_keeps_the_version() -> None:
    board = Board(version=4, elements={"a": rect("a")}, changed_at={"a": 4})

    after, reply = apply_update(board, BoardUpdate(base_version=4, elements=[rect("a")]))

    assert after == board
    assert reply == []


def test_apply_update_replies_with_what_others_changed_since_the_base() -> None:
    board = Board()
    board, _ = apply_update(board, BoardUpdate(0, [rect("mine-old", index="a0")]))  # version 1
    board, _ = apply_update(board, BoardUpdate(1, [rect("theirs", index="a1")]))  # version 2

    board, reply = apply_update(board, BoardUpdate(1, [rect("mine", index="a2")]))

    assert board.version == 3
    assert reply == [rect("theirs", index="a1")]


def test_apply_update_replies_with_the_server_copy_of_an_element_that_lost() -> None:
    board = Board(version=9, elements={"a": rect("a", version=5, x=1)}, changed_at={"a": 2})

    after, reply = apply_update(board, BoardUpdate(9, [rect("a", version=3, x=7)]))

    assert after == board
    assert reply == [rect("a", version=5, x=1)]


def test_apply_update_with_a_base_ahead_of_the_board_sends_everything() -> None:
    board = Board(version=2, elements={"a": rect("a")}, changed_at={"a": 1})

    _, reply = apply_update(board, BoardUpdate(50, [rect("b", index="a1")]))

    assert reply == [rect("a")]


def test_concurrent_saves_from_two_screens_both_survive() -> None:
    # Both screens saw version 1; each adds a shape and the candidate also moves the box.
    board, _ = apply_update(Board(), BoardUpdate(0, [rect("box", index="a0")]))
    candidate = [rect("box", version=2, x=50, index="a0"), rect("arrow", type="arrow", index="a1")]
    interviewer = [rect("note", type="text", text="cache?", index="a2")]

    board, candidate_reply = apply_update(board, BoardUpdate(1, candidate))
    board, interviewer_reply = apply_update(board, BoardUpdate(1, interviewer))

    assert candidate_reply == []
    assert interviewer_reply == candidate
    assert board_payload(board) == {"version": 3, "elements": [*candidate, *interviewer]}


def test_payloads_carry_the_version_and_the_elements_in_drawing_order() -> None:
    board = Board(
        version=3,
        elements={
            "z": rect("z", index="a0"),
            "y": rect("y", index="a1"),
            "x": rect("x", index=None),
        },
        changed_at={"z": 1, "y": 2, "x": 3},
    )

    assert board_payload(board) == {
        "version": 3,
        "elements": [rect("z", index="a0"), rect("y", index="a1"), rect("x", index=None)],
    }
    assert reply_payload(board, [rect("y")]) == {"version": 3, "elements": [rect("y")]}


def test_ordered_sorts_by_fractional_index_then_id() -> None:
    shuffled = [rect("b", index="a1"), rect("c", index="Zz"), rect("a", index="a1")]

    assert [e["id"] for e in ordered(shuffled)] == ["c", "a", "b"]


# --- Labels for the evidence matcher


def test_labels_reads_free_text_bound_labels_and_frame_names_in_drawing_order() -> None:
    scene = {
        "box": rect("box", index="a0"),
        "label": text("label", "Feature\nstore", containerId="box", index="a1"),
        "free": text("free", "  Kafka   stream ", index="a2"),
        "frame": rect("frame", type="frame", name="Serving path", index="a3"),
        "arrow-label": text("arrow-label", "ANN index", containerId="arrow", index="a4"),
    }

    assert labels(scene) == ["Feature store", "Kafka stream", "Serving path", "ANN index"]


def test_labels_prefers_the_typed_text_to_the_wrapped_text() -> None:
    wrapped = text("t", "two-tower", originalText="two-tower retrieval model")
    wrapped["text"] = "two-tower\nretrieval\nmodel"

    assert labels({"t": wrapped}) == ["two-tower retrieval model"]


def test_labels_leaves_out_deleted_empty_and_repeated_text() -> None:
    scene = {
        "gone": text("gone", "Redis", isDeleted=True, index="a0"),
        "blank": text("blank", "   ", index="a1"),
        "one": text("one", "ranker", index="a2"),
        "two": text("two", "ranker", index="a3"),
        "unnamed-frame": rect("unnamed-frame", type="frame", name=None, index="a4"),
    }

    assert labels(scene) == ["ranker"]


# --- Purity


def test_board_module_imports_no_django() -> None:
    check = (
        "import sys, interviews.board; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )

    result = subprocess.run(
        [sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
