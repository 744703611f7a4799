"""The rendered site in headless Chromium: no console errors, no failed or external requests, the
banner and the bars visible, with and without JavaScript; screenshots for people to look at.

Screenshots of the NPS page (pt-BR and English, desktop 1280 px and phone 390 px wide) are saved
under test-artifacts/screenshots/ at the repository root.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from statuspage.site.render import render_site
from tests.site_data import NOW, XSS_TITLE, open_populated

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium "
                       "(`make chromium` or `apt-get install -y chromium`)"),
]

playwright_api = pytest.importorskip("playwright.async_api", reason="needs the playwright Python package")

ServerFactory = Callable[..., Awaitable[Any]]


async def _render(tmp_path: Path, name: str, **kwargs: Any) -> tuple[Path, dict[str, int]]:
    config, store, ids = await open_populated(tmp_path / name, **kwargs)
    out = tmp_path / name / "site"
    try:
        await render_site(config, store, out, now=NOW)
    finally:
        await store.close()
    return out, ids


async def _serve(aiohttp_server: ServerFactory, root: Path) -> str:
    app = web.Application()
    app.router.add_static("/", root, show_index=False, follow_symlinks=False)
    server = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}/"


@dataclass
class Watch:
    """Everything a page did that a visitor should never see."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        page.on("response", lambda r: self.failed.append(f"{r.url} {r.status}") if r.status >= 400 else None)
        page.on("request", lambda r: None if urlsplit(r.url).hostname == "127.0.0.1"
                or r.url.startswith("data:") else self.foreign.append(r.url))

        async def dismiss(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", dismiss)

    def assert_clean(self) -> None:
        assert self.console_errors == []
        assert self.page_errors == []
        assert self.failed == []
        assert self.foreign == []
        assert self.dialogs == []


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
async def test_every_kind_of_page_loads_cleanly(
    tmp_path: Path, aiohttp_server: ServerFactory, browser: Any, javascript: bool
) -> None:
    out, ids = await _render(tmp_path, "pt")
    base = await _serve(aiohttp_server, out)
    context = await browser.new_context(java_script_enabled=javascript, viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    watch = Watch()
    watch.attach(page)
    paths = ["index.html", "sla.html", "nps/index.html", "nps/history.html", f"nps/incidents/{ids['resolved']}.html",
             "cxm/index.html"]
    for path in paths:
        # networkidle: the favicon fetch finishes before the next navigation (else Chromium aborts it).
        response = await page.goto(base + path, wait_until="networkidle")
        assert response is not None and response.status == 200, path
        assert await page.locator("header.site-header").is_visible(), path
        assert await page.locator("main").is_visible(), path
        assert await page.locator("footer.site-footer").is_visible(), path
        assert await page.locator("html").get_attribute("lang") == "pt-BR"
        if path in ("index.html", "nps/index.html", "cxm/index.html"):
            assert await page.locator(".banner").first.is_visible(), path
            bars = page.locator(".days label.bar")
            assert await bars.count() >= 90, path
            assert await bars.nth(89).is_visible(), path
            box = await bars.nth(89).bounding_box()
            assert box is not None and box["height"] >= 20 and box["width"] >= 2, path
            # The day's details are the bar's accessible text (and show under the row on hover or tap).
            text = await bars.nth(89).locator(".vh").text_content()
            assert text and text.startswith("20 nov 2025"), path
    await page.goto(base + "nps/index.html")
    assert "Interrupção grave do sistema" in await page.locator(".banner").inner_text()
    await context.close()
    watch.assert_clean()


async def test_hostile_text_runs_nothing_in_a_real_browser(
    tmp_path: Path, aiohttp_server: ServerFactory, browser: Any
) -> None:
    out, ids = await _render(tmp_path, "hostile", hostile=True)
    base = await _serve(aiohttp_server, out)
    page = await browser.new_page()
    watch = Watch()
    watch.attach(page)
    for path in ("index.html", "nps/index.html", "nps/history.html", f"nps/incidents/{ids['xss']}.html"):
        await page.goto(base + path, wait_until="networkidle")
    assert await page.locator("main h1").inner_text() == XSS_TITLE
    assert await page.locator("main img").count() == 0
    watch.assert_clean()


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_screenshots_of_the_nps_page_on_desktop_and_phone(
    tmp_path: Path, aiohttp_server: ServerFactory, browser: Any, locale: str
) -> None:
    out, _ = await _render(tmp_path, locale, locale=locale)
    base = await _serve(aiohttp_server, out)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, width in (("desktop", 1280), ("phone", 390)):
        context = await browser.new_context(viewport={"width": width, "height": 900},
                                            device_scale_factor=1, is_mobile=width < 600)
        page = await context.new_page()
        watch = Watch()
        watch.attach(page)
        await page.goto(base + "nps/index.html", wait_until="networkidle")
        assert await page.locator(".banner").is_visible()
        # Nothing may stick out sideways on a phone.
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: {overflow}px of horizontal scroll"
        visible_bars = await page.locator("#c-app .days label.bar:visible").count()
        assert visible_bars == (90 if width >= 600 else 30)
        path = SCREENSHOTS / f"nps-{locale}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        await context.close()
        watch.assert_clean()
