"""What `<page>/embed.html` lists: every badge of a page with copy-paste Markdown, HTML and the
shields.io endpoint URL. Pure: config and page view in, snippets out.

Snippets use `site.base_url` for absolute addresses (what another site or a README needs); without
it they are relative to the page's folder and the shields.io form is left out (shields.io must be
able to fetch the JSON). Markdown alt text escapes `[`, `]` and `\\`; the HTML snippet escapes its
attributes, and the template escapes every snippet again when it shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote

from statuspage.config import Config
from statuspage.site.i18n import Translator
from statuspage.site.snapshot import PageView

__all__ = ["BadgeEmbed", "EmbedGroup", "embed_context"]

SHIELDS_ENDPOINT = "https://img.shields.io/endpoint?url="


@dataclass(frozen=True, slots=True)
class BadgeEmbed:
    """One badge: its files (relative to the page folder) and the snippets that show it elsewhere."""

    title: str
    svg: str
    """Path of the SVG relative to the page's folder, e.g. `badges/api/uptime-30d.svg`."""
    json: str
    markdown: str
    html: str
    shields: str | None
    """The shields.io endpoint badge URL, None without `site.base_url`."""


@dataclass(frozen=True, slots=True)
class EmbedGroup:
    """The badges of the page itself, or of one of its components."""

    name: str
    badges: tuple[BadgeEmbed, ...]


def _markdown_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _badges(prefix: str, folder: str, name: str, t: Translator,
            windows: Sequence[str]) -> tuple[BadgeEmbed, ...]:
    base = prefix
    link = prefix or "index.html"
    out = []
    for file, title in [("status", t("embed.status")),
                        *((f"uptime-{w}", t("embed.uptime", window=t(f"window.{w}"))) for w in windows)]:
        svg, js = f"{folder}{file}.svg", f"{folder}{file}.json"
        alt = f"{name}: {title}"
        out.append(BadgeEmbed(
            title=title, svg=svg, json=js,
            markdown=f"[![{_markdown_text(alt)}]({prefix}{quote(svg)})]({link})",
            html=(f'<a href="{escape(link)}"><img src="{escape(prefix + quote(svg))}" '
                  f'alt="{escape(alt)}"></a>'),
            shields=f"{SHIELDS_ENDPOINT}{quote(prefix + quote(js), safe='')}" if base else None,
        ))
    return tuple(out)


def embed_context(
    config: Config, page: PageView, t: Translator, windows: Sequence[str], page_url: str = ""
) -> dict[str, Any]:
    """Template values of embed.html: the page's badges, then each component's.

    `page_url` is the public address of the page's folder in this locale (its domain, or under
    `site.base_url`, ending in `/`); anything not absolute means none is known (relative snippets)."""
    prefix = page_url if page_url.startswith(("https://", "http://")) else ""
    groups = [EmbedGroup(page.name, _badges(prefix, "badges/", page.name, t, windows))]
    for comp in page.components:
        groups.append(EmbedGroup(comp.name, _badges(prefix, f"badges/{comp.slug}/",
                                                    f"{page.name} {comp.name}", t, windows)))
    return {"groups": groups, "absolute": bool(prefix)}
