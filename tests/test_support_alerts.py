"""Support alerts: a case about to breach (75 % of its limit) or past it notifies engineers through
the existing channels (a real local webhook receiver here), once per case and kind, across restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web

from statuspage.config import parse_config
from statuspage.incidents.notify import Notifier
from statuspage.models import CaseRow
from statuspage.runner import Runtime
from statuspage.store import SQLiteStore
from statuspage.support.alerts import pending_alerts
from statuspage.support.service import SupportService
from tests.support_data import at, config_data


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _case(**kw: Any) -> CaseRow:
    base: dict[str, Any] = {"case_id": "k", "channel": "chat", "page": None, "month": "2026-11", "opened_at": 0.0,
                            "first_response_limit_s": 240.0, "first_response_warn_at": 180.0,
                            "first_response_due_at": 240.0}
    return CaseRow(**{**base, **kw})


def test_a_clock_warns_at_the_lead_then_breaches_once_each() -> None:
    case = _case()
    assert pending_alerts([case], set(), 179.0) == []
    assert [a.kind for a in pending_alerts([case], set(), 180.0)] == ["first_response.warning"]
    assert [a.kind for a in pending_alerts([case], set(), 240.0)] == ["first_response.breached"]
    assert pending_alerts([case], {("k", "first_response.breached")}, 300.0) == []
    # answered: nothing; a day-old deadline: not news any more
    assert pending_alerts([_case(first_response_at=200.0)], set(), 300.0) == []
    assert pending_alerts([case], set(), 240.0 + 86401) == []


async def test_alerts_reach_the_webhook_once_per_case_and_kind_across_restarts(
        tmp_path: Path, aiohttp_server: Any) -> None:
    received: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", receive)
    server = await aiohttp_server(app)
    data = config_data(str(tmp_path / "db.sqlite"))
    data["notifications"] = {"webhooks": [{"url": str(server.make_url("/hook")), "secret": "s3cret-s3cret"}]}
    config = parse_config(data, env={})
    clock = Clock(at("2026-11-11 10:00"))

    async def runtime() -> Runtime:
        rt = Runtime(config, clock=clock, serve=False)
        rt.store = await SQLiteStore.open(config.storage.path)
        rt.notifier = Notifier(config, store=rt.store, clock=clock, resume=True)
        await rt.notifier.start()
        rt.support = SupportService(rt.store, config, clock)
        return rt

    async def tick_and_wait(rt: Runtime, count: int) -> None:
        await rt.support_tick()
        for _ in range(200):
            if len(received) >= count:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # nothing more arrives
        assert len(received) == count, received

    rt = await runtime()
    try:
        assert rt.support is not None
        await rt.support.open_case("ZD-1", "chat", page="nps")            # business hours: due 10:04
        await rt.support.open_case("ZD-2", "whatsapp", severity="T1")      # resolution due 14:00
        clock.now = at("2026-11-11 10:02:59")
        await tick_and_wait(rt, 0)
        clock.now = at("2026-11-11 10:03:00")
        await tick_and_wait(rt, 2)   # both first responses at 75 % of 4 min
        assert {r["meta"]["event"] for r in received} == {"case.first_response.warning"}
        first = next(r["case"] for r in received if r["case"]["id"] == "ZD-1")
        assert first == {"id": "ZD-1", "channel": "chat", "page": "nps", "severity": None,
                         "clock": "first_response", "state": "warning", "opened_at": "2026-11-11T13:00:00.000Z",
                         "due_at": "2026-11-11T13:04:00.000Z", "limit_s": 240.0}
        await rt.support.record("ZD-2", "first_response")
        clock.now = at("2026-11-11 10:04:00")
        await tick_and_wait(rt, 3)   # ZD-1 breached; ZD-2 was answered in time
        assert received[-1]["meta"]["event"] == "case.first_response.breached"
        await tick_and_wait(rt, 3)
    finally:
        await rt.notifier.close()  # type: ignore[union-attr]
        await rt.store.close()  # type: ignore[union-attr]

    rt = await runtime()  # a restart remembers what was sent
    try:
        await tick_and_wait(rt, 3)
        clock.now = at("2026-11-11 13:00:00")
        await tick_and_wait(rt, 4)   # ZD-2's T1 resolution at 75 % of 4 h
        assert received[-1]["meta"]["event"] == "case.resolution.warning"
        assert received[-1]["case"]["severity"] == "T1"
    finally:
        await rt.notifier.close()  # type: ignore[union-attr]
        await rt.store.close()  # type: ignore[union-attr]
