"""`<page>/embed.html`: every badge with copy-paste Markdown, HTML and the shields.io endpoint URL,
each pointing at a file the render wrote, every text escaped."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from statuspage.site.render import render_site
from tests.site_data import NOW, XSS_COMPONENT, open_populated

BASE = "https://status.track.co"


class _Snippets(HTMLParser):
    """The text of every <code> in the page, keyed by the <dt> before it, and every <a href>."""

    def __init__(self) -> None:
        super().__init__()
        self.snippets: list[tuple[str, str]] = []
        self.links: list[str] = []
        self._dt: str | None = None
        self._in: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("dt", "code"):
            self._in, self._buf = tag, []
        if tag == "a":
            self.links.append(dict(attrs)["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "dt":
            self._dt = "".join(self._buf)
        elif tag == "code":
            self.snippets.append((self._dt or "", "".join(self._buf)))
        self._in = None if tag == self._in else self._in

    def handle_data(self, data: str) -> None:
        if self._in:
            self._buf.append(data)


class _Img(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.attrs = dict(attrs)


async def _render(tmp_path: Path, **kwargs: object) -> AsyncIterator[Path]:
    config, store, _ = await open_populated(tmp_path, **kwargs)  # type: ignore[arg-type]
    try:
        await render_site(config, store, tmp_path / "site", now=NOW)
        yield tmp_path / "site"
    finally:
        await store.close()


@pytest.fixture
async def hostile(tmp_path: Path) -> AsyncIterator[Path]:
    async for out in _render(tmp_path, hostile=True):
        yield out


def _parse(out: Path, page: str = "nps") -> _Snippets:
    parser = _Snippets()
    parser.feed((out / page / "embed.html").read_text(encoding="utf-8"))
    return parser


async def test_every_badge_has_markdown_html_and_shields_pointing_at_real_files(hostile: Path) -> None:
    parsed = _parse(hostile)
    kinds = [kind for kind, _ in parsed.snippets]
    # The page and its four components, five badges each (status and four uptime windows).
    assert kinds.count("Markdown") == kinds.count("HTML") == kinds.count("shields.io (endpoint)") == 25
    urls: set[str] = set()
    for kind, text in parsed.snippets:
        if kind == "Markdown":
            urls.update(re.findall(r"\]\((https?://[^)\s]+)\)", text))
        elif kind == "HTML":
            img = _Img()
            img.feed(text)
            urls.add(str(img.attrs["src"]))
        else:
            assert text.startswith("https://img.shields.io/endpoint?url=")
            urls.add(parse_qs(urlsplit(text).query)["url"][0])
    files = {u for u in urls if u.endswith((".svg", ".json"))}
    assert len(files) == 50  # 25 SVGs and their 25 endpoint JSONs
    for url in urls:
        assert url.startswith(f"{BASE}/nps/"), url
        rel = unquote(url.removeprefix(f"{BASE}/"))
        target = hostile / (rel + "index.html" if rel.endswith("/") else rel)
        assert target.is_file(), url
    for href in parsed.links:
        if not href.startswith(("http", "#", "mailto:", "tel:")):
            assert (hostile / "nps" / href).resolve().is_file(), href


async def test_snippets_escape_a_hostile_component_name(hostile: Path) -> None:
    html = (hostile / "nps" / "embed.html").read_text(encoding="utf-8")
    assert "<svg onload" not in html and "<b>&amp;" not in html
    parsed = _parse(hostile)
    status = next(text for kind, text in parsed.snippets
                  if kind == "HTML" and "badges/reports/status.svg" in text)
    img = _Img()
    img.feed(status)
    # Pasted into another page, the snippet shows the name as text, exactly.
    assert img.attrs["alt"] == f"NPS {XSS_COMPONENT}: Situação"
    assert set(img.attrs) == {"src", "alt"}


async def test_footer_links_the_embed_page_and_relative_snippets_without_base_url(tmp_path: Path) -> None:
    async for out in _render(tmp_path, base_url=""):
        index = (out / "nps" / "index.html").read_text(encoding="utf-8")
        assert 'href="embed.html"' in index  # the page's own folder (self-contained)
        parsed = _parse(out)
        assert not any(kind.startswith("shields") for kind, _ in parsed.snippets)
        markdown = next(text for kind, text in parsed.snippets if kind == "Markdown")
        assert markdown == "[![NPS: Situação](badges/status.svg)](index.html)"
        assert "site.base_url" in (out / "nps" / "embed.html").read_text(encoding="utf-8")
