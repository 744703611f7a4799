"""`statuspage run` serving live: an outage seen through summary.json and /metrics, acknowledged
through the admin API by a real engineer token, then recovery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Process, free_port, write_config

TOKEN = "alice-token-0123456789abcdef"


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text, or None."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


async def test_live_outage_ack_and_recovery(tmp_path: Path, spawn: Callable[..., Process]) -> None:
    target_port, port = free_port(), free_port()
    cfg = write_config(tmp_path / "config.yaml", {
        "site": {"output_dir": str(tmp_path / "site")},
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "server": {"host": "127.0.0.1", "port": port},
        "defaults": {"interval": "1s", "timeout": "1s"},
        "incidents": {"auto_resolve_after": "2s"},
        "admins": [{"name": "alice", "token": TOKEN}],
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "Plataforma", "monitors": [
                {"name": "web", "url": f"http://127.0.0.1:{target_port}/"}]},
            {"slug": "email", "name": "Envio de e-mails", "monitors": [
                {"name": "sender", "type": "push", "token": "nps-email-heartbeat", "interval": "30s"}]},
        ]}],
    })

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def target() -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/", ok)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", target_port).start()
        return runner

    runner = await target()
    proc = spawn("run", "--config", str(cfg))
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {TOKEN}"}

    async with aiohttp.ClientSession() as http:

        async def get_json(path: str, **kw: Any) -> Any:
            async with http.get(base + path, **kw) as resp:
                assert resp.status == 200, (path, resp.status, await resp.text())
                return await resp.json(content_type=None)

        async def metrics() -> str:
            async with http.get(base + "/metrics") as resp:
                assert resp.status == 200
                return await resp.text()

        async def until(check: Callable[[], Any], timeout: float = 30) -> Any:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    value = await check()
                    if value:
                        return value
                except (aiohttp.ClientError, AssertionError):
                    pass
                assert time.monotonic() < deadline, proc.output()
                await asyncio.sleep(0.2)

        async def app_status() -> str:
            summary = await get_json("/nps/api/v2/summary.json")
            app = next(c for c in summary["components"] if c["id"] == "app")
            return "no_data" if app["no_data"] else str(app["status"])

        try:
            # Step 1: everything up.
            await until(lambda: _equals(app_status(), "operational"))
            assert (await get_json("/healthz"))["status"] == "ok"
            # Metrics follow each render a moment after its files (they are refreshed off the loop).
            async def metrics_operational() -> bool:
                text = await metrics()
                return ((metric(text, "statuspage_checks_total", page="nps", component="app", monitor="web",
                                outcome="up") or 0) >= 1
                        and metric(text, "statuspage_component_status", page="nps", component="app",
                                   status="operational") == 1)

            await until(metrics_operational)
            # The e-mail pipeline reports in over the push endpoint.
            async with http.get(base + "/api/push/nps-email-heartbeat") as resp:
                assert resp.status == 200

            # Step 2: the target goes away → confirmed outage → T1 incident, visible live.
            await runner.cleanup()
            await until(lambda: _equals(app_status(), "major_outage"))
            summary = await get_json("/nps/api/v2/summary.json")
            assert summary["status"]["indicator"] == "critical"
            [incident] = summary["incidents"]
            assert incident["severity"] == "T1" and incident["acknowledged_by"] is None
            async def metrics_down() -> bool:
                text = await metrics()
                return (metric(text, "statuspage_component_status", page="nps", component="app",
                               status="major_outage") == 1
                        and metric(text, "statuspage_incidents_open", page="nps", severity="T1") == 1)

            await until(metrics_down)

            # Step 3: an engineer acknowledges through the admin API (wrong token first).
            async with http.post(f"{base}/api/admin/incidents/{incident['id']}/ack",
                                 headers={"Authorization": "Bearer wrong"}) as resp:
                assert resp.status == 401
            async with http.post(f"{base}/api/admin/incidents/{incident['id']}/ack", headers=auth) as resp:
                assert resp.status == 200, await resp.text()
                assert (await resp.json())["acknowledged_by"] == "alice"

            async def acked() -> bool:
                s = await get_json("/nps/api/v2/incidents/unresolved.json")
                return bool(s["incidents"]) and s["incidents"][0]["acknowledged_by"] == "alice"

            await until(acked)

            async def metrics_acked() -> bool:
                text = await metrics()
                return metric(text, "statuspage_incidents_unacknowledged", page="nps", severity="T1") == 0

            await until(metrics_acked)

            # Step 4: the target comes back → monitoring → resolved, all visible live.
            runner = await target()
            await until(lambda: _equals(app_status(), "operational"))

            async def resolved() -> bool:
                s = await get_json("/nps/api/v2/incidents.json")
                return s["incidents"][0]["status"] == "resolved"

            await until(resolved)
            summary = await get_json("/nps/api/v2/summary.json")
            assert summary["status"]["indicator"] == "none" and summary["incidents"] == []

            async def metrics_resolved() -> bool:
                text = await metrics()
                return metric(text, "statuspage_incidents_open", page="nps", severity="T1") == 0

            await until(metrics_resolved)
            text = await metrics()
            assert (metric(text, "statuspage_checks_total", page="nps", component="app", monitor="web",
                           outcome="down") or 0) >= 2
            lag_count = metric(text, "statuspage_schedule_lag_seconds_count")
            assert lag_count is not None and lag_count > 5
        finally:
            code = proc.stop()
            await runner.cleanup()
    assert code == 0, proc.output()
    assert TOKEN not in proc.output(), "tokens never reach the logs"
    assert "nps-email-heartbeat" not in proc.output()


async def _equals(value: Any, expected: Any) -> bool:
    return bool(await value == expected)
