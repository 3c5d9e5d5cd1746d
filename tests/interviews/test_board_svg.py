"""The server-side SVG of a board (interviews/board_svg.py): what it draws, and that whatever a
participant put in the scene, the file holds no element or attribute the renderer did not write
itself. DB-free."""

import math
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interviews.board_svg import render_svg
from tests.interviews.test_board_merge import rect, text

REPO = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"
# Everything the renderer may write.
TAGS = {"svg", "title", "rect", "ellipse", "polygon", "polyline", "path", "text", "tspan"}
ATTRIBUTES = {
    "xmlns",
    "viewBox",
    "width",
    "height",
    "x",
    "y",
    "rx",
    "ry",
    "cx",
    "cy",
    "points",
    "d",
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-dasharray",
    "opacity",
    "transform",
    "font-family",
    "font-size",
    "text-anchor",
}
HOSTILE_LABELS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "&lt;svg onload=alert(1)&gt; &amp; &#x3C;",
    "]]><svg:script>alert(1)</svg:script>",
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>&e;',
    "javascript:alert(document.cookie)",
    "<a xlink:href='javascript:alert(1)'>click</a>",
    "<?xml-stylesheet href='evil.css'?>",
    "' onmouseover='alert(1)",
]


def parse(svg: str) -> ET.Element:
    head, body = svg.split("\n", 1)
    assert head == '<?xml version="1.0" encoding="UTF-8"?>'
    assert body.startswith("<svg ")
    # No DTD, entity declaration, comment, CDATA or processing instruction: checked before
    # parsing, so the parser below never meets an entity to expand.
    for marker in ("<?", "<!", "]]>"):
        assert marker not in body
    return ET.fromstring(svg.encode())  # noqa: S314 -- the renderer's output, checked above


def assert_only_our_markup(svg: str) -> ET.Element:
    root = parse(svg)
    for node in root.iter():
        assert node.tag.startswith(SVG), node.tag
        assert node.tag.removeprefix(SVG) in TAGS, node.tag
        assert set(node.attrib) <= ATTRIBUTES, node.attrib
        for value in node.attrib.values():
            assert "javascript" not in value.lower()
            assert "url(" not in value
    return root


def texts(root: ET.Element) -> list[str]:
    return [node.text or "" for node in root.iter(f"{SVG}tspan")]


def tags(root: ET.Element) -> list[str]:
    return [node.tag.removeprefix(SVG) for node in root.iter()]


def test_every_drawing_type_is_drawn_with_the_renderers_own_shapes() -> None:
    scene = [
        rect("r", index="a0"),
        rect("e", type="ellipse", index="a1"),
        rect("d", type="diamond", index="a2"),
        rect("a", type="arrow", points=[[0, 0], [100, 40]], endArrowhead="arrow", index="a3"),
        rect("l", type="line", points=[[0, 0], [50, 0], [50, 50]], index="a4"),
        rect("f", type="freedraw", points=[[0, 0], [3, 4], [8, 9]], index="a5"),
        text("t", "Ranker", index="a6"),
        rect("fr", type="frame", name="Serving", index="a7"),
    ]

    root = assert_only_our_markup(render_svg(scene))

    assert tags(root) == [
        "svg",
        "title",
        "rect",  # the white background
        "rect",
        "ellipse",
        "polygon",
        "polyline",  # the arrow …
        "polyline",  # … and its head
        "polyline",
        "path",
        "text",
        "tspan",
        "rect",  # the frame …
        "text",  # … and its name
    ]
    assert texts(root) == ["Ranker"]
    assert [n.text for n in root.iter(f"{SVG}text")][-1] == "Serving"


def test_shapes_keep_their_geometry_and_palette_colours() -> None:
    box = rect("r", x=10, y=20, width=120, height=60, backgroundColor="#A5D8FF")

    shape = parse(render_svg([box])).findall(f"{SVG}rect")[1]

    assert {k: shape.attrib[k] for k in ("x", "y", "width", "height", "fill", "stroke")} == {
        "x": "10",
        "y": "20",
        "width": "120",
        "height": "60",
        "fill": "#a5d8ff",
        "stroke": "#1e1e1e",
    }
    assert shape.attrib["rx"] == "15"  # rounded: a quarter of the shorter side


def test_the_view_box_covers_every_element_with_a_margin() -> None:
    scene = [
        rect("r", x=-50, y=10, width=100, height=40),
        rect("a", type="arrow", x=200, y=300, points=[[0, 0], [100, 50]], index="a1"),
    ]

    left, top, width, height = map(float, parse(render_svg(scene)).attrib["viewBox"].split())

    assert (left < -50, top < 10) == (True, True)
    assert (left + width > 300, top + height > 350) == (True, True)


def test_a_rotated_shape_turns_about_its_centre() -> None:
    shape = parse(render_svg([rect("r", x=0, y=0, width=100, height=50, angle=math.pi / 2)]))

    assert shape.findall(f"{SVG}rect")[1].attrib["transform"] == "rotate(90 50 25)"


def test_deleted_and_unknown_elements_are_left_out() -> None:
    scene = [
        rect("gone", isDeleted=True),
        rect("img", type="image", index="a1"),
        rect("embed", type="embeddable", link="https://example.org", index="a2"),
        text("t", "kept", index="a3"),
    ]

    root = parse(render_svg(scene))

    assert tags(root) == ["svg", "title", "rect", "text", "tspan"]
    assert texts(root) == ["kept"]


def test_an_empty_board_says_so() -> None:
    root = assert_only_our_markup(render_svg([rect("gone", isDeleted=True)]))

    assert [n.text for n in root.iter(f"{SVG}text")] == ["Nothing drawn"]


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_hostile_labels_are_only_ever_text(label: str) -> None:
    scene = [
        rect("box", link="javascript:alert(1)"),
        text("t", label, containerId="box", index="a1"),
        rect("fr", type="frame", name=label, index="a2"),
    ]

    svg = render_svg(scene, title=label)
    root = assert_only_our_markup(svg)

    assert texts(root) == [label]
    assert root.find(f"{SVG}title").text == label
    assert [n.text for n in root.iter(f"{SVG}text")][-1] == label
    for tag in ("<script", "<a", "<img", "<foreignObject", "<use"):
        assert tag not in svg


@pytest.mark.parametrize(
    "colour",
    [
        'red" onload="alert(1)',
        "url(javascript:alert(1))",
        "expression(alert(1))",
        "#12345",
        "#1e1e1e; fill: url(#x)",
        "transparent",
        None,
        17,
    ],
)
def test_colours_other_than_hex_are_replaced_by_ours(colour: object) -> None:
    scene = [
        rect("r", strokeColor=colour, backgroundColor=colour),
        text("t", "x", strokeColor=colour),
    ]

    root = assert_only_our_markup(render_svg(scene))

    shape = root.findall(f"{SVG}rect")[1]
    assert (shape.attrib["stroke"], shape.attrib["fill"]) == ("#1e1e1e", "none")
    assert root.find(f"{SVG}text").attrib["fill"] == "#1e1e1e"


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, -math.inf, 1e308, "12", None, True, [1], {"x": 1}]
)
def test_numbers_are_always_finite_and_bounded(value: object) -> None:
    scene = [
        rect("r", x=value, y=value, width=value, height=value, angle=value, opacity=value),
        rect("a", type="arrow", x=value, points=[[0, 0], [value, value], "bad", [1]], index="a1"),
        text("t", "label", fontSize=value, lineHeight=value, index="a2"),
    ]

    root = assert_only_our_markup(render_svg(scene))

    for node in root.iter():
        for name in ("x", "y", "width", "height", "cx", "cy", "rx", "ry", "font-size"):
            if name in node.attrib:
                number = float(node.attrib[name])
                assert abs(number) <= 4_000_000  # NaN fails this too


@pytest.mark.parametrize(
    ("family", "font"),
    [(3, "monospace"), (5, "sans-serif"), ([3], "sans-serif"), ("3", "sans-serif")],
)
def test_the_code_font_is_monospace_and_anything_else_sans_serif(family: object, font: str) -> None:
    # A list here once crashed the renderer (found by the property test below).
    root = parse(render_svg([text("t", "x", fontFamily=family)]))

    assert root.find(f"{SVG}text").attrib["font-family"] == font


def test_characters_xml_forbids_are_dropped_and_the_rest_kept() -> None:
    label = "a\x00b\x07c\x1bd\ufffee 🙂 é\ttab"

    root = assert_only_our_markup(render_svg([text("t", label)]))

    assert texts(root) == ["abcde 🙂 é\ttab"]


def test_a_label_on_several_lines_gets_one_span_per_line() -> None:
    root = parse(render_svg([text("t", "feature\nstore\r\nonline")]))

    spans = list(root.iter(f"{SVG}tspan"))
    assert [s.text for s in spans] == ["feature", "store", "online"]
    assert len({s.attrib["y"] for s in spans}) == 3


ANY_TEXT = st.text(max_size=60)
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    ANY_TEXT,
    st.lists(st.integers(), max_size=3),
)


@given(
    label=ANY_TEXT,
    name=ANY_TEXT,
    colour=st.one_of(ANY_TEXT, st.from_regex(r"#[0-9a-fA-F]{6}", fullmatch=True)),
    kind=st.sampled_from(["rectangle", "ellipse", "diamond", "arrow", "line", "freedraw", "frame"]),
    style=ANY_VALUE,
    number=ANY_VALUE,
)
def test_any_scene_gives_a_well_formed_file_of_our_own_markup(
    label: str, name: str, colour: str, kind: str, style: object, number: object
) -> None:
    scene = [
        rect(
            "s",
            type=kind,
            name=name,
            strokeColor=colour,
            backgroundColor=colour,
            strokeStyle=style,
            fillStyle=style,
            strokeWidth=number,
            points=[[0, 0], [number, 10]],
            endArrowhead=style,
            startArrowhead=style,
        ),
        text("t", label, textAlign=style, fontFamily=number, index="a1"),
    ]

    root = assert_only_our_markup(render_svg(scene, title=name))

    if label.strip():
        lines = label.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        assert len(texts(root)) == len(lines)


def test_the_renderer_imports_no_django() -> None:
    check = (
        "import sys, interviews.board_svg; "
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )

    result = subprocess.run(
        [sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
