"""The end of a maintenance window (issue 11, kind 4): a component still down when its window ends is
a confirmed outage from the window's end, with an incident and notifications; one already down before
the window keeps its one incident."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from statuspage import runner as runner_module
from statuspage.config import parse_config
from statuspage.incidents.service import Policy
from statuspage.models import Maintenance
from statuspage.runner import Runtime
from tests.conftest import free_port, start_app


def window(start: float, end: float, components: tuple[str, ...] = (), cancelled: bool = False) -> Maintenance:
    return Maintenance(id=0, page="nps", title="deploy", start=start, end=end, components=components,
                       cancelled=cancelled)


POLICY = Policy(parse_config({"pages": [{"slug": "nps", "name": "NPS", "components": [
    {"slug": "reports", "name": "Relatórios", "monitors": [{"name": "r", "url": "http://127.0.0.1:9/"}]}]}]},
    env={}))

# (id, down_since, windows, now, outage start or None)
CASES = [
    ("inside-the-window", 105, [window(100, 200)], 150, None),
    ("window-over", 105, [window(100, 200)], 208, 200),
    ("down-before-the-window", 90, [window(100, 200)], 208, 90),
    ("back-to-back-windows", 105, [window(100, 200), window(200, 260)], 270, 260),
    ("overlapping-windows", 105, [window(150, 300), window(100, 200)], 310, 300),
    ("second-window-still-running", 105, [window(100, 200), window(200, 260)], 230, None),
    ("window-for-another-component", 105, [window(100, 200, ("api",))], 150, 105),
    ("window-for-this-component", 105, [window(100, 200, ("reports",))], 208, 200),
    ("cancelled-window", 105, [window(100, 200, cancelled=True)], 150, 105),
    ("window-cut-short", 105, [window(100, 120)], 150, 120),
]


@pytest.mark.parametrize(("down_since", "windows", "now", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_outage_start_after_maintenance(
    down_since: float, windows: list[Maintenance], now: float, expected: float | None
) -> None:
    assert POLICY.outage_start_after_maintenance("reports", down_since, windows, now) == expected


class Hooks:
    """A real webhook receiver."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def receive(self, request: web.Request) -> web.Response:
        self.events.append((request.headers["X-Statuspage-Event"], json.loads(await request.read())))
        return web.Response(text="ok")


async def _until(predicate: Callable[[], Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("down_before", [False, True], ids=["fails-inside-the-window", "down-before-the-window"])
async def test_input_4_still_down_when_the_window_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, down_before: bool
) -> None:
    """Input 4: a component fails inside a maintenance window and is still down when it ends. Right
    value: a T1 dated at the window's end, and a webhook `incident.created`. When it was already down
    (and had its incident) before the window: still exactly that one incident, no duplicate."""
    monkeypatch.setattr(runner_module, "TICK_EVERY_S", 0.5)
    hooks = Hooks()
    hook_app = web.Application()
    hook_app.router.add_post("/hook", hooks.receive)
    hook_port, target_port = free_port(), free_port()
    hook_runner = await start_app(hook_app, hook_port)

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=503, text="reports backend unavailable")

    target = web.Application()
    target.router.add_get("/", broken)
    target_runner = await start_app(target, target_port)
    config = parse_config({
        "site": {"output_dir": str(tmp_path / "site")},
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "defaults": {"interval": "1s", "timeout": "900ms"},
        "notifications": {"webhooks": [{"url": f"http://127.0.0.1:{hook_port}/hook"}]},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "reports", "name": "Relatórios", "monitors": [
                {"name": "reports", "url": f"http://127.0.0.1:{target_port}/"}]},
            {"slug": "app", "name": "Plataforma", "monitors": [
                {"name": "web", "url": f"http://127.0.0.1:{target_port}/", "expect_status": [503]}]}]}],
    }, env={})
    runtime = Runtime(config, serve=False)
    try:
        if not down_before:
            # The window is in force from the start: the failure begins inside it.
            start = time.time()
            await _add_window(tmp_path, config, start - 1, start + 4)
        await runtime.start()
        assert runtime.store is not None and runtime.incidents is not None
        store = runtime.store
        if down_before:
            async def opened() -> bool:
                return bool(await store.list_incidents())

            await _until(opened, 10)
            now = time.time()
            window_ = await runtime.incidents.add_maintenance("nps", "deploy", now, now + 3)
        else:
            [window_] = await store.list_maintenances(page="nps")
        await asyncio.sleep(max(0.0, window_.end - time.time()))

        async def incident_after_window() -> bool:
            return any(e == "incident.created" for e, _ in hooks.events)

        await _until(incident_after_window, 8)
        await asyncio.sleep(1.5)  # a few more ticks: nothing else may open
        assert runtime.component_status("nps", "reports") == "major_outage"
        incidents = await store.list_incidents()
    finally:
        await runtime.close()
        await target_runner.cleanup()
        await hook_runner.cleanup()
    [incident] = incidents
    assert incident.components == ("reports",) and incident.status == "investigating"
    if down_before:
        assert incident.started_at < window_.start
        assert [u.status for u in incident.updates] == ["investigating"]
    else:
        assert incident.started_at == window_.end
    assert [e for e, _ in hooks.events] == ["incident.created"]


async def _add_window(tmp_path: Path, config: Any, start: float, end: float) -> None:
    from statuspage.incidents.service import IncidentService
    from statuspage.store.sqlite import SQLiteStore

    store = await SQLiteStore.open(config.storage.path)
    try:
        await IncidentService(store, config).add_maintenance("nps", "deploy", start, end, ["reports"])
    finally:
        await store.close()
