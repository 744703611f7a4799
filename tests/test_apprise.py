"""Engineers' channels through apprise, end to end: the real library posts to a local aiohttp receiver
through its own `json://` target (no mocks); retries, event filters, the outbox, and the URL's
secrets kept out of logs and config errors."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from statuspage.config import ConfigError, parse_config
from statuspage.incidents.notify import Delivery, Notifier, incident_to_json
from statuspage.models import Incident, IncidentUpdate, Maintenance
from statuspage.store.sqlite import SQLiteStore

T0 = 1_795_000_000.0
SECRET = "xoxb-SECRET-TOKEN-4242"


def incident() -> Incident:
    update = IncidentUpdate(1, 7, "investigating", "Detectamos a falha.", T0, "statuspage")
    return Incident(id=7, page="nps", title="Relatórios indisponível", severity="T1", impact="critical",
                    status="investigating", started_at=T0, due_at=T0 + 4 * 3600, components=("reports",),
                    automatic=True, created_at=T0, updated_at=T0, updates=(update,))


def config(targets: list[dict[str, Any]], tmp: Path | None = None) -> Any:
    return parse_config({
        "site": {"locale": "pt-BR", "base_url": "https://status.track.test", "timezone": "America/Sao_Paulo"},
        **({"storage": {"path": str(tmp / "db.sqlite")}} if tmp else {}),
        "notifications": {"apprise": targets},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "reports", "name": "Relatórios", "monitors": [{"name": "r", "url": "http://127.0.0.1:9/"}]}]}],
    }, env={})


class Receiver:
    def __init__(self, codes: list[int] | None = None) -> None:
        self.codes = codes or []
        self.got: list[dict[str, Any]] = []
        self.paths: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.paths.append(request.path)
        code = self.codes.pop(0) if self.codes else 200
        if code == 200:
            self.got.append(body)
        return web.Response(status=code)


async def serve(aiohttp_server: Any, rx: Receiver) -> int:
    app = web.Application()
    app.router.add_post("/{tail:.*}", rx.handle)
    server = await aiohttp_server(app)
    return int(server.port)


async def wait_until(pred: Any, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not pred():
            await asyncio.sleep(0.02)


async def test_incident_events_reach_a_chat_channel_through_apprise(
        aiohttp_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rx = Receiver(codes=[500])  # the first attempt fails: apprise says so, the notifier retries
    port = await serve(aiohttp_server, rx)
    url = f"json://127.0.0.1:{port}/hooks/{SECRET}"
    notifier = Notifier(config([{"url": url, "events": ["incident.created", "maintenance.started"]}]),
                        retry_base_delay=0.05)
    await notifier.start()
    loop_lag: list[float] = []

    async def tick() -> None:  # the event loop keeps running while apprise sends in a thread
        while True:
            t = asyncio.get_running_loop().time()
            await asyncio.sleep(0.01)
            loop_lag.append(asyncio.get_running_loop().time() - t - 0.01)

    ticker = asyncio.create_task(tick())
    try:
        notifier.notify("incident.created", incident())
        notifier.notify("incident.acknowledged", incident())  # not asked for: not sent
        notifier.notify_maintenance("maintenance.started", Maintenance(
            id=3, page="nps", title="Janela semanal", start=T0, end=T0 + 3600, components=("reports",)))
        await wait_until(lambda: len(rx.got) == 2)
    finally:
        ticker.cancel()
        await notifier.close()
    assert rx.paths == [f"/hooks/{SECRET}"] * 3
    created, maintenance = rx.got
    assert created["title"] == "[NPS] T1 · Investigando: Relatórios indisponível"
    assert "Detectamos a falha." in created["message"]
    assert "https://status.track.test/nps/incidents/7.html" in created["message"]
    assert maintenance["title"] == "[NPS] Manutenção iniciada: Janela semanal"
    assert "Componentes: Relatórios" in maintenance["message"]
    assert max(loop_lag) < 0.2, "apprise never blocks the event loop"
    # (The receiver's own access log is the test's, not statuspage's.)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "aiohttp.access")
    assert "notified destination=apprise[0] event=incident.created" in logged
    assert SECRET not in logged
    assert "Failed to send JSON POST notification" in logged  # apprise's warning passes, without its URL


async def test_an_undelivered_apprise_notification_waits_in_the_outbox(tmp_path: Path, aiohttp_server: Any) -> None:
    rx = Receiver()
    port = await serve(aiohttp_server, rx)
    cfg = config([{"url": f"json://127.0.0.1:{port}/hooks/{SECRET}"}], tmp_path)
    store = await SQLiteStore.open(cfg.storage.path)
    # A process that queued an alert and died before sending it...
    first = Notifier(cfg, store=store)
    first._queue(Delivery("incident.created", incident(), T0, "delivery-1"), incident_to_json(incident()))
    await store.flush()
    rows = await store.outbox()
    assert [(r.destination.startswith("apprise:"), SECRET in r.destination) for r in rows] == [(True, False)]
    # ... and the next one sends it.
    second = Notifier(cfg, store=store, resume=True, clock=lambda: T0 + 60)
    await second.start()
    try:
        await wait_until(lambda: len(rx.got) == 1)
    finally:
        await second.close()
        await store.flush()
    assert await store.outbox() == []
    await store.close()


@pytest.mark.parametrize(("target", "problem"), [
    ({"url": f"bogus://{SECRET}/x"}, 'notifications.apprise[0].url: (hidden) is not a URL apprise can send to (scheme "bogus"'),
    ({"url": f"{SECRET}"}, "notifications.apprise[0].url: (hidden) is not an apprise URL"),
    ({"url": f"slack://{SECRET}/B/C", "events": ["incident.exploded"]}, '"incident.exploded" is not an event'),
    ({"url": f"slack://{SECRET}/B/C", "tokn": SECRET}, "notifications.apprise[0].tokn: unknown key (value (hidden))"),
], ids=["unknown-scheme", "not-a-url", "unknown-event", "unknown-key"])
def test_config_errors_never_show_the_url(target: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        config([target])
    assert problem in str(err.value)
    assert SECRET not in str(err.value)
