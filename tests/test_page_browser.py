"""Issue 13 as a visitor sees it, in real Chromium at 1280 px (desktop) and 390 px (phone): every
numbered point of the issue is asserted on what is shown (text, visible elements, no sideways
scroll, no failed request), with screenshots under test-artifacts/screenshots/page-*.png.

One browser and one set of servers for the whole module: a plain static server for the whole site,
one serving the NPS folder alone (as a static host would), one for a site a minute after start, and
the live server of `statuspage run` reached as nps.status.test (Chromium maps the name to 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from statuspage.incidents.service import IncidentService
from statuspage.probe.checks import PushBoard
from statuspage.site.render import render_site
from statuspage.web.metrics import Metrics
from statuspage.web.server import build_app
from tests.conftest import free_port, start_app
from tests.site_data import NOW, open_fresh, open_populated

CHROMIUM = Path("/usr/bin/chromium")
NPS_HOST = "nps.status.test"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", f"--host-resolver-rules=MAP {NPS_HOST} 127.0.0.1"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
WIDTHS = [pytest.param(1280, id="desktop"), pytest.param(390, id="phone")]
JARGON = ("orçamento", "error budget", "burn", "p95", "consumo acelerado")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium (`make chromium`)"),
    pytest.mark.asyncio(loop_scope="module"),
]

playwright_api = pytest.importorskip("playwright.async_api", reason="needs the playwright Python package")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def static_server(root: Path) -> Iterator[str]:
    """Python's plain static file server on `root` (index.html for directories, nothing else)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class World:
    browser: Any
    site: str
    """The whole site (90 days of data, pt-BR + en, NPS on its own domain)."""
    alone: str
    """The NPS folder alone."""
    fresh: str
    """A site a minute after the monitor started."""
    live_port: int
    ids: dict[str, int]
    fresh_ids: dict[str, int]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    root = tmp_path_factory.mktemp("page-browser")
    config, store, ids = await open_populated(root / "full", locales=["pt-BR", "en"], domains={"nps": [NPS_HOST]})
    site_dir = root / "full" / "site"
    fconfig, fstore, fids = await open_fresh(root / "fresh", locales=["pt-BR", "en"])
    try:
        await render_site(config, store, site_dir, now=NOW)
        await render_site(fconfig, fstore, root / "fresh" / "site", now=NOW)
    finally:
        await fstore.close()
    port = free_port()
    app = build_app(config=config, store=store, push_board=PushBoard(lambda: NOW),
                    incidents=IncidentService(store, config, clock=lambda: NOW), site_dir=site_dir,
                    metrics=Metrics(), clock=lambda: NOW)
    runner = await start_app(app, port)
    pw = await playwright_api.async_playwright().start()
    try:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        with static_server(site_dir) as site, static_server(site_dir / "nps") as alone, \
                static_server(root / "fresh" / "site") as fresh:
            yield World(browser, site, alone, fresh, port, ids, fids)
        await browser.close()
    finally:
        await pw.stop()
        await runner.cleanup()
        await store.close()


@dataclass
class Visit:
    """A page as a visitor has it open, and everything it did that a visitor should never see."""

    page: Any
    context: Any
    failed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def goto(self, url: str) -> Any:
        response = await self.page.goto(url, wait_until="load")
        assert response is not None and response.status == 200, url
        overflow = await self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url}: {overflow}px of sideways scroll"
        return response

    async def text(self, selector: str = "body") -> str:
        return " ".join((await self.page.locator(selector).first.inner_text()).split())

    async def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"page-{name}.png"), full_page=True)

    def assert_clean(self) -> None:
        assert self.failed == [] and self.foreign == [] and self.errors == []


@contextlib.asynccontextmanager
async def visit(world: World, width: int, *, javascript: bool = True) -> AsyncIterator[Visit]:
    phone = width < 600
    context = await world.browser.new_context(
        viewport={"width": width, "height": 900}, device_scale_factor=1, is_mobile=phone, has_touch=phone,
        java_script_enabled=javascript)
    page = await context.new_page()
    v = Visit(page, context)
    # Leaving a page cancels its favicon fetch when that is still under way: not a failure a visitor sees
    # (test_4_logo_and_favicon_follow_the_status fetches every favicon itself).
    page.on("requestfailed", lambda r: None if "/favicon-" in r.url and "ERR_ABORTED" in (r.failure or "")
            else v.failed.append(f"{r.url} {r.failure}"))
    page.on("response", lambda r: v.failed.append(f"{r.url} {r.status}") if r.status >= 400 else None)
    page.on("request", lambda r: None if urlsplit(r.url).hostname in ("127.0.0.1", NPS_HOST)
            or r.url.startswith("data:") else v.foreign.append(r.url))
    page.on("console", lambda m: v.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: v.errors.append(str(e)))
    try:
        yield v
        v.assert_clean()
    finally:
        await context.close()


def _name(width: int) -> str:
    return "phone" if width < 600 else "desktop"


async def _tap(v: Visit, locator: Any, width: int) -> None:
    await (locator.tap() if width < 600 else locator.click())


# --- (1) every figure says how much of its window was measured ---------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
async def test_1_figures_say_how_much_was_measured(world: World, width: int) -> None:
    async with visit(world, width) as v:
        await v.goto(world.fresh + "nps/index.html")
        tiles = v.page.locator(".summary .figure-item dd")
        assert await tiles.count() == 4
        for k in range(4):
            assert await tiles.nth(k).is_visible()
            assert " ".join((await tiles.nth(k).inner_text()).split()) == "Dados insuficientes (apenas 1 min de medição)"
        caption = v.page.locator("#c-app .bars-foot .figure:visible")
        assert await caption.inner_text() == "Dados insuficientes (apenas 1 min de medição)"
        assert "Ainda não há dados suficientes" in await v.text(".target-text")
        await v.shot(f"1-fresh-{_name(width)}")
        # Measured over part of its window: the figure and the share, on the component itself.
        await v.goto(world.site + "cxm/index.html")
        figures = await v.text("#c-email .figures")
        assert "30 dias 100 % (medido em 33 % da janela)" in figures
        assert "90 dias 100 % (medido em 11 % da janela)" in figures
        await v.goto(world.site + "cxm/en/index.html")
        assert "30 days 100% (measured over 33% of the window)" in await v.text("#c-email .figures")


# --- (2) the banner says what is true now --------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
async def test_2_banner_says_recovered_while_the_incident_card_says_monitoring(world: World, width: int) -> None:
    async with visit(world, width) as v:
        await v.goto(world.fresh + "nps/index.html")
        banner = v.page.locator(".banner")
        assert await banner.is_visible()
        assert (await v.text(".banner-text")) == "Serviço restabelecido, em observação"
        assert await v.page.locator(".incident-card .chip.status", has_text="Monitorando").is_visible()
        assert "Todos os componentes afetados se recuperaram às 11:59:30" in await v.text(".incident-card")
        await v.shot(f"2-monitoring-{_name(width)}")
        await v.goto(world.fresh + "nps/en/index.html")
        assert (await v.text(".banner-text")) == "Service restored, being monitored"
        await v.goto(world.site + "nps/index.html")
        assert (await v.text(".banner-text")) == "Interrupção grave do sistema"  # still down: major


# --- (3) plain words -------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
async def test_3_no_engineers_words_and_the_target_in_plain_words(world: World, width: int) -> None:
    async with visit(world, width) as v:
        for path in ("nps/index.html", "nps/en/index.html", "index.html", "cxm/index.html"):
            await v.goto(world.site + path)
            words = (await v.text()).lower()
            assert not [j for j in JARGON if j in words], path
        await v.goto(world.site + "nps/index.html")
        target = v.page.locator(".target-text")
        assert await target.is_visible()
        assert await target.inner_text() == "Nos últimos 30 dias: 99,25 % de disponibilidade, abaixo da meta de 99,5 %."
        await v.shot(f"3-nps-{_name(width)}")


# --- (4) the small things --------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
async def test_4_logo_and_favicon_follow_the_status(world: World, width: int) -> None:
    async with visit(world, width) as v:
        for base, path, kind in ((world.site, "nps/index.html", "major"), (world.site, "cxm/index.html", "maintenance"),
                                 (world.fresh, "nps/index.html", "monitoring"), (world.fresh, "cxm/index.html", "operational")):
            await v.goto(base + path)
            assert await v.page.locator(f"header .brand-mark.{kind}").is_visible(), path
            href = await v.page.locator("link[rel=icon]").get_attribute("href")
            assert href is not None and href.endswith(f"favicon-{kind}.svg")
            icon = await v.page.request.get(v.page.url.rsplit("/", 1)[0] + "/" + href)
            assert icon.status == 200 and b"<svg" in await icon.body()


@pytest.mark.parametrize("width", WIDTHS)
async def test_4_bar_captions_match_the_bars_shown(world: World, width: int) -> None:
    days = 90 if width >= 600 else 30
    async with visit(world, width) as v:
        for path, caption in (("nps/index.html", ".card-head"), ("index.html", ".bars-caption")):
            await v.goto(world.site + path)
            assert await v.page.locator("#c-app .days label.bar:visible, .page-card .days label.bar:visible").first.is_visible()
            row = v.page.locator(".days").first
            assert await row.locator("label.bar:visible").count() == days
            head = await v.text(f"{caption} :is(.d90, .d30):visible")
            assert f"{days} dias" in head, (path, head)
            assert await v.page.locator(".bars-foot span:visible", has_text=f"{days} dias atrás").first.is_visible()
            other = 30 if days == 90 else 90
            captions = v.page.locator(f"{caption}:visible, .bars-foot:visible, .lead:visible")
            for k in range(await captions.count()):
                # never "últimos 90 dias" above 30 bars, nor the reverse
                assert f"{other} dias" not in await captions.nth(k).inner_text(), path


@pytest.mark.parametrize("width", WIDTHS)
async def test_4_sla_page_keeps_the_header_where_it_is(world: World, width: int) -> None:
    async with visit(world, width) as v:
        boxes = []
        for path in ("nps/index.html", "sla.html"):
            await v.goto(world.site + path)
            boxes.append(await v.page.locator(".header-row").bounding_box())
            boxes.append(await v.page.locator("main").bounding_box())
        assert boxes[0] == boxes[2]
        assert boxes[1]["x"] == boxes[3]["x"] and boxes[1]["width"] == boxes[3]["width"]
        await v.shot(f"4-sla-{_name(width)}")


@pytest.mark.parametrize("width", WIDTHS)
async def test_4_a_days_details_open_by_tap_without_javascript(world: World, width: int) -> None:
    async with visit(world, width, javascript=False) as v:
        await v.goto(world.site + "nps/index.html")
        bars = v.page.locator("#c-api .days label.bar:visible")
        tips = v.page.locator("#c-api .day-tip:visible")
        assert await tips.count() == 0
        await _tap(v, bars.nth(-4), width)  # 17 Nov, three days ago
        await v.page.mouse.move(0, 0)  # a mouse elsewhere: the chosen day stays shown
        assert await tips.count() == 1
        assert (await tips.first.inner_text()).startswith("17 nov 2025 · 100 % de disponibilidade")
        await v.shot(f"4-day-{_name(width)}")
        await _tap(v, bars.nth(-1), width)  # today: the API is down
        assert "20 nov 2025 · 97,22 % de disponibilidade · 1 interrupção: 11:40–12:00 (20 min, total)" in await v.text(
            "#c-api .day-tip:visible")
        await _tap(v, v.page.locator("#c-api .day-tip:visible .day-close"), width)
        await v.page.mouse.move(0, 0)
        assert await tips.count() == 0


@pytest.mark.parametrize("width", WIDTHS)
async def test_4_automatic_durations_read_as_words(world: World, width: int) -> None:
    rid = world.fresh_ids["resolved"]
    async with visit(world, width) as v:
        await v.goto(world.fresh + f"cxm/incidents/{rid}.html")
        assert "Resolvido: sem nova falha por 1 min desde a recuperação às 11:15." in await v.text(".timeline")
        await v.goto(world.fresh + f"cxm/en/incidents/{rid}.html")
        assert "Resolved: no new failure for 1 min since the recovery at 11:15." in await v.text(".timeline")


# --- (5) both languages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
async def test_5_language_switch_and_automatic_texts_in_each_locale(world: World, width: int) -> None:
    async with visit(world, width) as v:
        await v.goto(world.site + f"nps/incidents/{world.ids['open']}.html")
        assert await v.text("h1") == "API indisponível"
        assert await v.page.locator("link[rel=alternate][hreflang]").count() == 3
        switch = v.page.locator(".lang-switch a", has_text="English")
        assert await switch.is_visible()
        async with v.page.expect_navigation():
            await _tap(v, switch, width)
        assert v.page.url.endswith(f"/nps/en/incidents/{world.ids['open']}.html")
        assert await v.page.locator("html").get_attribute("lang") == "en"
        assert await v.text("h1") == "API unavailable"
        assert "We detected that API has been unavailable since 11:40. We are investigating." in await v.text(".timeline")
        await v.shot(f"5-english-incident-{_name(width)}")
        async with v.page.expect_navigation():
            await _tap(v, v.page.locator(".lang-switch a", has_text="Português"), width)
        assert await v.page.locator("html").get_attribute("lang") == "pt-BR"
        await v.goto(world.site + "en/index.html")
        assert (await v.text("h1")) == "Product status" and "API unavailable" in await v.text(".page-cards")


# --- (6) response-time charts ----------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
async def test_6_response_time_charts_open_by_tap_and_read_as_text(world: World, width: int) -> None:
    async with visit(world, width) as v:
        await v.goto(world.site + "nps/index.html")
        chart = v.page.locator("#c-api svg.chart-svg").first
        assert not await chart.is_visible()
        summary = v.page.locator("#c-api details.latency > summary")
        assert "média 117 ms" in await summary.inner_text()
        await _tap(v, summary, width)
        assert await chart.is_visible()
        box = await chart.bounding_box()
        assert box is not None and box["width"] >= 300 and box["height"] >= 80
        caption = v.page.locator("#c-api figure.chart figcaption").first
        assert (await caption.inner_text()).startswith("Tempo médio de resposta por hora nas últimas 24 horas: 117 ms")
        assert await v.page.locator("#c-api svg.chart-svg").nth(1).is_visible()  # the 30-day chart
        await _tap(v, v.page.locator("#c-api .chart-values > summary").first, width)
        rows = v.page.locator("#c-api .chart-values table").first.locator("tbody tr")
        assert await rows.count() == 24 and await rows.first.is_visible()
        overflow = await v.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        await v.page.locator("#c-api").scroll_into_view_if_needed()
        await v.page.locator("#c-api").screenshot(path=str(SCREENSHOTS / f"page-6-chart-{_name(width)}.png"))


# --- (7) each product on its own domain ------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
async def test_7_the_page_folder_alone_on_a_plain_static_server(world: World, width: int) -> None:
    async with visit(world, width) as v:
        for path in ("", "en/", "history.html", f"incidents/{world.ids['open']}.html", "sla.html",
                     f"en/incidents/{world.ids['resolved']}.html", "en/sla.html"):
            await v.goto(world.alone + path)
            # The stylesheet and the favicon came from the folder itself.
            colour = await v.page.locator("header.site-header").evaluate("e => getComputedStyle(e).borderBottomStyle")
            assert colour == "solid", path
        await v.goto(world.alone)
        assert await v.text("h1") == "NPS"
        assert (await v.page.locator(".banner").evaluate("e => getComputedStyle(e).backgroundColor")) == "rgb(194, 27, 43)"
        await v.shot(f"7-alone-{_name(width)}")
        for path in ("api/v2/summary.json", "feed.atom", "badges/status.svg", "en/api/v2/status.json"):
            response = await v.page.request.get(world.alone + path)
            assert response.status == 200, path


@pytest.mark.parametrize("width", WIDTHS)
async def test_7_the_live_server_serves_each_page_at_the_root_of_its_domain(world: World, width: int) -> None:
    domain = f"http://{NPS_HOST}:{world.live_port}/"
    async with visit(world, width) as v:
        await v.goto(domain)
        assert await v.text("h1") == "NPS" and await v.page.locator(".banner").is_visible()
        await v.goto(domain + "en/")
        assert await v.page.locator("html").get_attribute("lang") == "en"
        status = await v.page.goto(domain + "api/v2/status.json")
        assert status is not None and status.status == 200 and (await status.json())["page"]["id"] == "nps"
        await v.goto(f"http://127.0.0.1:{world.live_port}/")
        assert await v.text("h1") == "Status dos produtos"


@pytest.mark.parametrize("width", WIDTHS)
async def test_no_page_scrolls_sideways(world: World, width: int) -> None:
    paths = ["index.html", "en/index.html", "sla.html", "en/sla.html", "nps/history.html", "nps/en/history.html",
             f"nps/incidents/{world.ids['xss']}.html", "cxm/index.html", "cxm/en/index.html", "nps/sla.html"]
    async with visit(world, width) as v:
        for path in paths:
            await v.goto(world.site + path)  # checks the scroll width
            if path == "index.html":
                await v.shot(f"overview-{_name(width)}")
