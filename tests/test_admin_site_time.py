"""/admin speaks the site's language and shows the site's times, whatever the browser's timezone and
locale (real Chromium set to Tokyo and en-US, the site in São Paulo and pt-BR)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from statuspage.web.admin_texts import ADMIN_STRINGS
from tests.server_env import ALICE, BOB, NOW, ServerEnv, auth, close_env, open_env
from tests.test_admin_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Debian's chromium at {CHROMIUM} (make chromium)"),
]

async_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
SP = ZoneInfo("America/Sao_Paulo")


@pytest.fixture
async def env(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[ServerEnv]:
    e = await open_env(tmp_path, aiohttp_client, locale="pt-BR")
    yield e
    await close_env(e)


@pytest.fixture
async def tokyo() -> AsyncIterator[Any]:
    async with async_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # The engineer's laptop is in Tokyo with an English browser; the site is in São Paulo.
            yield await browser.new_context(timezone_id="Asia/Tokyo", locale="en-US")
        finally:
            await browser.close()


async def _log_in(env: ServerEnv, context: Any, token: str = ALICE) -> Any:
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(str(env.http.make_url("/admin")))
    await page.fill("#token", token)
    await page.click("#login-form button[type=submit]")
    await page.locator("#app").wait_for()
    page.errors = errors
    return page


async def test_times_enums_and_forms_are_the_sites_not_the_browsers(env: ServerEnv, tokyo: Any) -> None:
    started = NOW - 3600  # 2025-12-31 20:00 in São Paulo, 2026-01-01 09:00 in Tokyo
    response = await env.http.post("/api/admin/incidents", headers=auth(), json={
        "page": "nps", "title": "Relatórios fora do ar", "severity": "T1", "components": ["app"],
        "started_at": datetime.fromtimestamp(started, SP).isoformat()})
    assert response.status == 201
    page = await _log_in(env, tokyo)
    item = page.locator("#incident-list li").first
    await item.wait_for()
    assert await page.locator("html").get_attribute("lang") == "pt-BR"
    assert await page.locator("#zone").inner_text() == "Horários em America/Sao_Paulo (UTC−03:00), como nas páginas de status."
    since = await item.locator(".since").inner_text()
    due = await item.locator(".due").inner_text()
    assert "20:00" in since and "31" in since and "dez" in since, since
    assert "00:00" in due and "1" in due and "jan" in due, due  # T1: 4 h later, in São Paulo
    # Statuses, severities and impacts in the site's words, never the API's enums.
    assert await item.locator(".status").inner_text() == "Investigando"
    assert await item.locator(".severity").inner_text() == "T1 — Impacto Crítico"
    assert await item.locator(".impact").inner_text() == "impacto Crítico"
    options = await item.locator("select.update-status option").all_inner_texts()
    assert options == ["Investigando", "Identificado", "Monitorando", "Resolvido"]
    assert "investigating" not in await page.locator("#app").inner_text()
    severities = await page.locator("#open-severity option").all_inner_texts()
    assert severities[0] == "T1 — Impacto Crítico (limite 4 h)"

    # The maintenance form says whose local time it takes, and means it.
    label = await page.locator("label[for=maintenance-start]").inner_text()
    assert label == "Início (horário de America/Sao_Paulo, UTC−03:00)"
    await page.select_option("#maintenance-page", "nps")
    await page.fill("#maintenance-title", "Troca de servidor")
    await page.fill("#maintenance-start", "2026-02-01T01:00")
    await page.fill("#maintenance-end", "2026-02-01T03:00")
    await page.click("#maintenance-form button[type=submit]")
    window = page.locator("#maintenance-list li", has_text="Troca de servidor")
    await window.wait_for()
    [stored] = await env.store.list_maintenances()
    assert stored.start == datetime(2026, 2, 1, 1, 0, tzinfo=SP).timestamp()
    when = await window.locator(".when").inner_text()
    assert "01:00" in when and "03:00" in when and "fev" in when, when
    assert "Agendada" in await window.inner_text()
    assert page.errors == []


async def test_a_second_acknowledgement_says_who_holds_it(env: ServerEnv, tokyo: Any) -> None:
    incident_id = await env.open_incident()
    page = await _log_in(env, tokyo, BOB)
    button = page.locator(f'li[data-incident-id="{incident_id}"] button.ack-button')
    await button.wait_for()
    # Alice acknowledges first (from her own browser) while Bob's page still offers the button.
    assert (await env.http.post(f"/api/admin/incidents/{incident_id}/ack", headers=auth(ALICE))).status == 200
    await button.click()
    notice = page.locator("#notice.error")
    await notice.wait_for()
    text = await notice.inner_text()
    assert text.startswith("Já reconhecido por alice em ") and "21:00" in text, text
    # The list now shows Alice's acknowledgement.
    await page.locator(f'li[data-incident-id="{incident_id}"] p.ack', has_text="alice").wait_for()


def test_admin_words_exist_in_both_locales() -> None:
    assert set(ADMIN_STRINGS["pt-BR"]) == set(ADMIN_STRINGS["en"])
