"""SVG badges and shields.io endpoint JSON: widths from Verdana metrics, escaping, colours."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from statuspage.site.badges import (
    COLORS,
    Badge,
    endpoint_json,
    layout_badge,
    render_svg,
    status_color,
    text_width,
    uptime_color,
)

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("text", "width"),
    [("", 0.0), ("passing", 41.8), ("uptime 30d", 63.6), ("99.95%", 44.0), ("W", 11.0),
     ("Relatórios", 54.9), ("漢", 11.0)],
    ids=["empty", "ascii", "label", "percent", "wide-letter", "latin1-accent", "outside-table-uses-at-width"],
)
def test_text_width_follows_verdana_11px(text: str, width: float) -> None:
    assert text_width(text) == pytest.approx(width)


def test_layout_pads_each_side_by_five_pixels() -> None:
    geo = layout_badge(Badge("uptime 30d", "99.95%", "brightgreen"))
    assert (geo.label_width, geo.message_width, geo.width) == (74, 54, 128)  # round(63.6) + 10, 44 + 10
    assert geo.label_x == 370 and geo.message_x == (74 * 2 + 54) * 5  # centres, in the 10x text units
    assert geo.label_length == 640 and geo.message_length == 440


def test_svg_is_well_formed_accessible_and_coloured() -> None:
    svg = render_svg(Badge("status", "operational", "brightgreen"))
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-label") == "status: operational" == root.findtext(f"{SVG}title")
    assert COLORS["brightgreen"] in svg
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["status", "status", "operational", "operational"]  # shadow + text for each side


def test_markup_and_control_characters_become_plain_text() -> None:
    label = '<script>alert("x")</script> & \'co\' ]]>\x01\x1f'
    root = ET.fromstring(render_svg(Badge(label, "<b>down</b>", "red")))
    assert [el.tag for el in root.iter() if not el.tag.startswith(SVG)] == []
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts[0] == '<script>alert("x")</script> & \'co\' ]]>'
    assert texts[2] == "<b>down</b>"
    assert root.get("aria-label") == '<script>alert("x")</script> & \'co\' ]]>: <b>down</b>'


def test_endpoint_json_is_the_shields_form() -> None:
    assert endpoint_json(Badge("uptime 7d", "99,9 %", "yellow")) == {
        "schemaVersion": 1, "label": "uptime 7d", "message": "99,9 %", "color": "yellow"}


@pytest.mark.parametrize(
    ("ratio", "color"),
    [(None, "lightgrey"), (1.0, "brightgreen"), (0.995, "brightgreen"), (0.9949, "yellow"), (0.990, "yellow"),
     (0.9899, "red"), (0.5, "red")],
    ids=["no-data", "perfect", "at-target", "just-below", "half-point-below", "further-below", "awful"],
)
def test_uptime_colour_against_the_target(ratio: float | None, color: str) -> None:
    assert uptime_color(ratio, 0.995) == color


@pytest.mark.parametrize(
    ("status", "color"),
    [("operational", "brightgreen"), ("degraded_performance", "yellow"), ("partial_outage", "orange"),
     ("major_outage", "red"), ("under_maintenance", "blue"), (None, "lightgrey")],
    ids=["operational", "degraded", "partial", "major", "maintenance", "no-data"],
)
def test_status_colours(status: str | None, color: str) -> None:
    assert status_color(status) == color  # type: ignore[arg-type]
