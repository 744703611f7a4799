"""The status mark of the header logo and the favicon, one per banner kind (pure).

The header draws it inline (`logo`) so it changes with every render; favicons are files, so one SVG
per kind is written into each static folder (`favicon_files`) and every page links the one of its
current status. Shapes differ as well as colours, so the status reads without colour too.
"""

from __future__ import annotations

from typing import Final

from markupsafe import Markup

__all__ = ["KINDS", "favicon_files", "favicon_name", "favicon_svg", "logo"]

_CHECK: Final = '<path d="M7 12.5l3.2 3.2L17 9"/>'
_BANG: Final = '<path d="M12 7v6"/><path d="M12 16.6v.4"/>'
_CROSS: Final = '<path d="M8.5 8.5l7 7M15.5 8.5l-7 7"/>'
_CLOCK: Final = '<path d="M12 7v5l3.2 2"/>'
_QUESTION: Final = '<path d="M9.6 9.6a2.5 2.5 0 1 1 3.4 2.3c-.6.3-1 .8-1 1.5v.4"/><path d="M12 16.8v.4"/>'

_MARKS: Final[dict[str, tuple[str, str]]] = {
    "operational": ("#1a7f37", _CHECK),
    "monitoring": ("#0b6e69", _CHECK),
    "maintenance": ("#0a5fc8", _CLOCK),
    "degraded": ("#8a5a00", _BANG),
    "minor": ("#8a5a00", _BANG),
    "partial": ("#b14200", _BANG),
    "major": ("#c21b2b", _CROSS),
    "no_data": ("#57606a", _QUESTION),
}
KINDS: Final = tuple(_MARKS)
"""Every banner kind (`snapshot.BannerKind`) with a mark."""


def _mark(kind: str) -> tuple[str, str]:
    return _MARKS.get(kind, _MARKS["no_data"])


def logo(kind: str) -> Markup:
    """The header's inline mark: a ring and a glyph in `currentColor` (the CSS colours it by kind)."""
    _, glyph = _mark(kind)
    css = kind if kind in _MARKS else "no_data"
    return Markup(
        f'<svg class="brand-mark {css}" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" '
        'focusable="false" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" '
        f'stroke-linejoin="round"><circle cx="12" cy="12" r="10"/>{glyph}</svg>'
    )


def favicon_name(kind: str) -> str:
    """The favicon file of a banner kind, under `static/`."""
    return f"favicon-{kind if kind in _MARKS else 'no_data'}.svg"


def favicon_svg(kind: str) -> str:
    """A favicon: a filled disc in the kind's colour with the glyph in white."""
    colour, glyph = _mark(kind)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">'
        f'<circle cx="12" cy="12" r="11.5" fill="{colour}"/>'
        '<g fill="none" stroke="#fff" stroke-width="2.8" stroke-linecap="round" stroke-linejoin="round">'
        f"{glyph}</g></svg>\n"
    )


def favicon_files() -> tuple[tuple[str, bytes], ...]:
    """Every favicon as (file name, bytes)."""
    return tuple((favicon_name(kind), favicon_svg(kind).encode()) for kind in KINDS)
