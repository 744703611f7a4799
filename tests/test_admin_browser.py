"""The engineers' page in a real headless Chromium: log in, acknowledge, see it on the public page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from statuspage.site.render import render_site
from tests.server_env import ALICE, ServerEnv, close_env, open_env

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Debian's chromium at {CHROMIUM} (make chromium)"),
]

async_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


async def _render(env: ServerEnv) -> None:
    await env.store.flush()
    await render_site(env.config, env.store, env.site_dir, env.clock())


@pytest.fixture
async def env(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[ServerEnv]:
    # Every admin write re-renders the site before the API answers, as the runner's hook would soon after.
    e = await open_env(tmp_path, aiohttp_client, on_change=_render)
    await _render(e)
    yield e
    await close_env(e)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with async_api.async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


async def test_log_in_acknowledge_and_see_it_on_the_public_page(env: ServerEnv, browser: Any) -> None:
    incident_id = await env.open_incident(page="nps", severity="T1", title="Relatórios fora do ar",
                                          components=("app",))
    base = str(env.http.make_url("")).rstrip("/")
    page = await browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:")) else None)

    await page.goto(f"{base}/admin")
    await page.fill("#token", ALICE)
    await page.click("#login-form button[type=submit]")
    item = page.locator(f'li[data-incident-id="{incident_id}"]')
    await item.wait_for()
    assert "Relatórios fora do ar" in await item.locator("h3").inner_text()
    assert await page.locator("#who").inner_text() == "alice"

    await item.locator("button.ack-button").click()
    await item.locator("p.ack").wait_for()
    assert "alice" in await item.locator("p.ack").inner_text()
    assert await page.locator("#notice").inner_text() == f"Incident #{incident_id} acknowledged."

    # The token lives in sessionStorage only: a reload stays logged in, no cookie is ever set.
    await page.reload()
    await page.locator(f'li[data-incident-id="{incident_id}"]').wait_for()
    assert await page.context.cookies() == []

    # The public site was re-rendered by on_change and shows who acknowledged.
    response = await page.goto(f"{base}/nps/incidents/{incident_id}.html")
    assert response is not None and response.status == 200
    assert "alice" in await page.locator("body").inner_text()
    unresolved = await page.goto(f"{base}/nps/api/v2/incidents/unresolved.json")
    assert unresolved is not None
    incident = (await unresolved.json())["incidents"][0]
    assert (incident["id"], incident["acknowledged_by"]) == (str(incident_id), "alice")
    await page.goto(f"{base}/nps/")
    assert "Relatórios fora do ar" in await page.locator("body").inner_text()
    # Every public page renders under the server's CSP (a violation would be a console error).
    for path in ("/", "/sla.html", "/nps/history.html", "/cxm/"):
        await page.goto(f"{base}{path}")

    assert problems == []
    assert outside == []


async def test_user_text_is_shown_as_text_never_as_markup(env: ServerEnv, browser: Any) -> None:
    title = '<img src=x onerror="window.pwned=1"><b>bold</b>'
    await env.open_incident(title=title)
    base = str(env.http.make_url("")).rstrip("/")
    page = await browser.new_page()
    await page.goto(f"{base}/admin")
    await page.fill("#token", ALICE)
    await page.click("#login-form button[type=submit]")
    heading = page.locator("#incident-list li h3").first
    await heading.wait_for()
    assert title in await heading.inner_text()
    assert await page.locator("#incident-list img").count() == 0
    assert await page.evaluate("window.pwned") is None


async def test_a_wrong_token_is_refused_and_forgotten(env: ServerEnv, browser: Any) -> None:
    base = str(env.http.make_url("")).rstrip("/")
    page = await browser.new_page()
    await page.goto(f"{base}/admin")
    await page.fill("#token", "not-the-right-token-at-all")
    await page.click("#login-form button[type=submit]")
    await page.locator("#login-error:not(:empty)").wait_for()
    assert await page.locator("#app").is_hidden()
    assert await page.evaluate("sessionStorage.length") == 0


async def test_open_an_incident_and_schedule_maintenance_from_the_forms(env: ServerEnv, browser: Any) -> None:
    base = str(env.http.make_url("")).rstrip("/")
    page = await browser.new_page()
    await page.goto(f"{base}/admin")
    await page.fill("#token", ALICE)
    await page.click("#login-form button[type=submit]")
    await page.locator("#open-form").wait_for()

    await page.select_option("#open-page", "cxm")
    await page.check("#open-components input[value=api]")
    await page.select_option("#open-severity", "T2")
    await page.fill("#open-title", "API lenta")
    await page.fill("#open-message", "Investigando lentidão.")
    await page.click("#open-form button[type=submit]")
    await page.locator("#incident-list li h3", has_text="API lenta").wait_for()
    opened = [i for i in await env.store.list_incidents() if i.title == "API lenta"]
    assert [(i.page, i.severity, i.components) for i in opened] == [("cxm", "T2", ("api",))]

    await page.select_option("#maintenance-page", "nps")
    await page.fill("#maintenance-title", "Troca de servidor")
    await page.fill("#maintenance-start", "2026-02-01T01:00")
    await page.fill("#maintenance-end", "2026-02-01T03:00")
    await page.click("#maintenance-form button[type=submit]")
    await page.locator("#maintenance-list li h3", has_text="Troca de servidor").wait_for()
    windows = await env.store.list_maintenances()
    assert [(m.page, m.end - m.start) for m in windows] == [("nps", 7200.0)]

