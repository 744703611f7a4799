"""SVG status and uptime badges in the shields.io "flat" style, and the shields.io endpoint JSON.

Text width is computed from Verdana 11px advance widths (the metrics shields.io and badgen lay
badges out with), so a badge is as wide as its text in every browser without measuring fonts.
Every text is XML-escaped and stripped of characters XML cannot carry, so a component named
`<script>` is shown as text and the SVG always parses. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, Literal

from statuspage.models import ComponentStatus

__all__ = [
    "COLORS", "Badge", "BadgeColor", "BadgeLayout", "endpoint_json", "layout_badge", "render_svg",
    "status_color", "text_width", "uptime_color",
]

BadgeColor = Literal["brightgreen", "green", "yellow", "orange", "red", "blue", "lightgrey"]
COLORS: Final[dict[BadgeColor, str]] = {
    "brightgreen": "#4c1",
    "green": "#97ca00",
    "yellow": "#dfb317",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "blue": "#007ec6",
    "lightgrey": "#9f9f9f",
}
"""shields.io's named colours (the endpoint JSON names them; the SVG uses the hex)."""

LABEL_COLOR: Final = "#555"
HEIGHT: Final = 20
PADDING: Final = 5
"""Pixels of padding on each side of each text."""

# Advance widths of Verdana at 11px, in tenths of a pixel, for U+0020–U+007E and U+00A0–U+00FF
# (ASCII and Latin-1 cover Portuguese and English). Source: the Verdana metrics tables published
# with shields.io/badgen. Other characters count as wide as "@", which never truncates text.
_ASCII: Final[tuple[int, ...]] = (
    39, 43, 50, 90, 70, 120, 80, 30, 50, 50, 70, 90, 40, 50, 40, 50,  # space ! " # $ % & ' ( ) * + , - . /
    70, 70, 70, 70, 70, 70, 70, 70, 70, 70, 50, 50, 90, 90, 90, 60,  # 0-9 : ; < = > ?
    110, 75, 75, 77, 85, 70, 63, 85, 83, 46, 50, 76, 61, 93, 82, 87,  # @ A-O
    66, 87, 76, 75, 68, 81, 75, 110, 75, 68, 75, 50, 50, 50, 90, 70,  # P-Z [ \ ] ^ _
    70, 66, 69, 57, 69, 66, 39, 69, 70, 30, 38, 65, 30, 110, 70, 67,  # ` a-o
    69, 69, 47, 57, 43, 70, 65, 90, 65, 65, 58, 70, 50, 70, 90,  # p-z { | } ~
)
_LATIN1: Final[tuple[int, ...]] = (
    39, 43, 70, 70, 70, 70, 50, 70, 70, 110, 60, 71, 90, 0, 110, 70,
    60, 90, 60, 60, 70, 71, 70, 40, 70, 60, 60, 71, 110, 110, 110, 60,
    75, 75, 75, 75, 75, 75, 110, 77, 70, 70, 70, 70, 46, 46, 46, 46,  # À-Ï
    85, 82, 87, 87, 87, 87, 87, 90, 87, 81, 81, 81, 81, 68, 67, 68,  # Ð-ß
    66, 66, 66, 66, 66, 66, 110, 57, 66, 66, 66, 66, 30, 30, 30, 30,  # à-ï
    67, 70, 67, 67, 67, 67, 67, 90, 67, 70, 70, 70, 70, 65, 69, 65,  # ð-ÿ
)
_FALLBACK: Final = 110

# Characters XML 1.0 cannot hold at all (C0 controls except tab/newline/CR, surrogates, U+FFFE/F).
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _char_width(ch: str) -> int:
    code = ord(ch)
    if 0x20 <= code <= 0x7E:
        return _ASCII[code - 0x20]
    if 0xA0 <= code <= 0xFF:
        return _LATIN1[code - 0xA0]
    if code < 0x20 or 0x7F <= code < 0xA0:
        return 0  # controls take no room (and are stripped before rendering anyway)
    return _FALLBACK


def text_width(text: str) -> float:
    """Width in pixels of `text` set in Verdana 11px."""
    return sum(_char_width(ch) for ch in text) / 10.0


def xml_text(text: str) -> str:
    """`text` escaped for XML content and attribute values, minus characters XML cannot carry."""
    clean = _NOT_XML.sub("", text)
    return (clean.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


@dataclass(frozen=True, slots=True)
class Badge:
    """What a badge says: `label` on grey, `message` on `color`."""

    label: str
    message: str
    color: BadgeColor


@dataclass(frozen=True, slots=True)
class BadgeLayout:
    """Pixel geometry of a flat badge (text positions in the 10× units of its scaled text)."""

    width: int
    label_width: int
    message_width: int
    label_x: int
    message_x: int
    label_length: int
    message_length: int


def layout_badge(badge: Badge) -> BadgeLayout:
    """Compute the widths and text positions of `badge`."""
    label_text = round(text_width(_clean(badge.label)))
    message_text = round(text_width(_clean(badge.message)))
    label_w = label_text + 2 * PADDING if badge.label else 0
    message_w = message_text + 2 * PADDING
    return BadgeLayout(
        width=label_w + message_w,
        label_width=label_w,
        message_width=message_w,
        label_x=label_w * 5,  # the middle of the label, ×10
        message_x=(label_w * 2 + message_w) * 5,
        label_length=label_text * 10,
        message_length=message_text * 10,
    )


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def render_svg(badge: Badge) -> str:
    """The badge as a standalone SVG document (shields.io flat style, accessible name included)."""
    geo = layout_badge(badge)
    label, message = xml_text(badge.label), xml_text(badge.message)
    title = f"{label}: {message}" if badge.label else message
    fill = COLORS[badge.color]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{geo.width}" height="{HEIGHT}" role="img" '
        f'aria-label="{title}">',
        f"<title>{title}</title>",
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>',
        f'<clipPath id="r"><rect width="{geo.width}" height="{HEIGHT}" rx="3" fill="#fff"/></clipPath>',
        '<g clip-path="url(#r)">',
        f'<rect width="{geo.label_width}" height="{HEIGHT}" fill="{LABEL_COLOR}"/>',
        f'<rect x="{geo.label_width}" width="{geo.message_width}" height="{HEIGHT}" fill="{fill}"/>',
        f'<rect width="{geo.width}" height="{HEIGHT}" fill="url(#s)"/>',
        "</g>",
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        'text-rendering="geometricPrecision" font-size="110">',
    ]
    texts = [(geo.label_x, geo.label_length, label)] if badge.label else []
    texts.append((geo.message_x, geo.message_length, message))
    for x, length, text in texts:
        parts.append(f'<text aria-hidden="true" x="{x}" y="150" fill="#010101" fill-opacity=".3" '
                     f'transform="scale(.1)" textLength="{length}">{text}</text>')
        parts.append(f'<text x="{x}" y="140" transform="scale(.1)" fill="#fff" textLength="{length}">'
                     f"{text}</text>")
    parts.append("</g></svg>")
    return "".join(parts) + "\n"


def endpoint_json(badge: Badge) -> dict[str, Any]:
    """The shields.io endpoint form: `{schemaVersion: 1, label, message, color}`."""
    return {"schemaVersion": 1, "label": badge.label, "message": badge.message, "color": badge.color}


def uptime_color(ratio: float | None, target: float) -> BadgeColor:
    """Colour of an uptime figure against the target ratio: at or above it green, within 0.5 pp of it
    yellow, further below red; no data grey."""
    if ratio is None:
        return "lightgrey"
    if ratio >= target:
        return "brightgreen"
    if ratio >= target - 0.005:
        return "yellow"
    return "red"


_STATUS_COLORS: Final[dict[str, BadgeColor]] = {
    "operational": "brightgreen",
    "degraded_performance": "yellow",
    "partial_outage": "orange",
    "major_outage": "red",
    "under_maintenance": "blue",
}


def status_color(status: ComponentStatus | None) -> BadgeColor:
    """Colour of a component status (None is no data: grey)."""
    return _STATUS_COLORS.get(status, "lightgrey") if status else "lightgrey"
