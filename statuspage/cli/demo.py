"""`statuspage demo`: simulated NPS and CXM endpoints on 127.0.0.1 with a scripted outage, monitored live.

The script repeats every 5 minutes: a one-check blip on NPS's platform at 20 s (never an outage),
slow CXM API responses at 35–50 s (degraded performance), and NPS reports failing from 60 s to
150 s: a confirmed outage that opens a T1 incident, recovers, is monitored and resolves itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from statuspage.cli.demo_cases import demo_support, feed_cases
from statuspage.config import Config, parse_config
from statuspage.probe.scheduler import CheckEvent
from statuspage.runner import Runtime, run_until_stopped

log = logging.getLogger(__name__)

CYCLE_S = 300.0
BLIP = (20.0, 21.5)
SLOW = (35.0, 50.0)
OUTAGE = (60.0, 150.0)
PUSH_EVERY_S = 2.0


class Simulation:
    """The simulated products. `phase()` is seconds into the current 5-minute script."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._t0 = clock()

    def phase(self) -> float:
        """Seconds into the current cycle of the script."""
        return (self._clock() - self._t0) % CYCLE_S

    def _within(self, span: tuple[float, float]) -> bool:
        return span[0] <= self.phase() < span[1]

    def app(self) -> web.Application:
        """The aiohttp app serving both simulated products."""
        app = web.Application()
        app.router.add_get("/{product}/", self._platform)
        app.router.add_get("/{product}/api/health", self._api)
        app.router.add_get("/{product}/reports", self._reports)
        return app

    async def _platform(self, request: web.Request) -> web.Response:
        product = request.match_info["product"]
        if product == "nps" and self._within(BLIP):
            return web.Response(status=500, text="transient error")
        return web.Response(text=f"<h1>Track {product.upper()}</h1><p>Plataforma OK</p>",
                            content_type="text/html")

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["product"] == "cxm" and self._within(SLOW):
            await asyncio.sleep(1.2)
        return web.json_response({"status": "ok"})

    async def _reports(self, request: web.Request) -> web.Response:
        if request.match_info["product"] == "nps" and self._within(OUTAGE):
            return web.Response(status=503, text="reports backend unavailable", headers={"Retry-After": "30"})
        return web.Response(text="Relatórios: prontos")


def demo_config(sim_port: int, port: int, data_dir: Path, out_dir: Path, token: str) -> Config:
    """The demo's config: Track's pages, monitored at 1–2 s against the simulation."""
    base = f"http://127.0.0.1:{sim_port}"

    def components(product: str) -> list[dict[str, Any]]:
        return [
            {"slug": "app", "name": "Plataforma", "monitors": [
                {"name": "web", "url": f"{base}/{product}/", "body_contains": "Plataforma OK"}]},
            {"slug": "api", "name": "API", "monitors": [
                {"name": "health", "url": f"{base}/{product}/api/health", "body_contains": "ok",
                 "degraded_after": "800ms"}]},
            {"slug": "reports", "name": "Relatórios", "monitors": [
                {"name": "reports", "url": f"{base}/{product}/reports"}]},
            {"slug": "email", "name": "Envio de e-mails", "monitors": [
                {"name": "sender", "type": "push", "token": f"demo-{product}-email-heartbeat",
                 "interval": "2s", "grace": "4s"}]},
        ]

    raw = {
        "site": {"title": "Track Status (demo)", "base_url": f"http://127.0.0.1:{port}",
                 "output_dir": str(out_dir)},
        "storage": {"path": str(data_dir / "statuspage.db")},
        "server": {"host": "127.0.0.1", "port": port, "render_every": "10s"},
        "defaults": {"interval": "2s", "timeout": "2s", "confirm_down": 2, "confirm_up": 2},
        "incidents": {"auto_resolve_after": "60s", "remind_unacknowledged_after": "10m"},
        "admins": [{"name": "demo-engineer", "token": token}],
        "support": demo_support(),
        "pages": [
            {"slug": "nps", "name": "NPS", "components": components("nps")},
            {"slug": "cxm", "name": "CXM", "components": components("cxm")},
        ],
    }
    return parse_config(raw, env={})


async def run_demo(port: int, data_dir: Path, out_dir: Path, stop: asyncio.Event | None = None) -> None:
    """Start the simulation and the whole system; run until Ctrl-C.

    Raises ListenError (nothing printed, nothing wiped) when `port` cannot be listened on."""
    sim = Simulation()
    runner = web.AppRunner(sim.app(), access_log=None)
    await runner.setup()
    pusher: asyncio.Task[None] | None = None
    cases: asyncio.Task[None] | None = None
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        sim_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        token = secrets.token_urlsafe(18)
        config = demo_config(sim_port, port, data_dir, out_dir, token)
        runtime = Runtime(config)
        runtime.bind()  # the port is ours before any URL is printed
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True, exist_ok=True)
        runtime.check_hooks.append(TransitionPrinter())
        pusher = asyncio.create_task(_push_heartbeats(runtime))
        cases = asyncio.create_task(feed_cases(lambda: runtime.support, runtime.mark_dirty))
        _banner(config, sim_port, token, runtime)
        await run_until_stopped(runtime, stop)
    finally:
        for task in (pusher, cases):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await runner.cleanup()


async def _push_heartbeats(runtime: Runtime) -> None:
    # The e-mail pipelines of both products report in, as a real sender would over /api/push.
    while True:
        now = time.time()
        for product in ("nps", "cxm"):
            runtime.push_board.record(f"demo-{product}-email-heartbeat", now)
        await asyncio.sleep(PUSH_EVERY_S)


class TransitionPrinter:
    """Prints what a newcomer should notice: confirmed outages and recoveries, slowness, blips."""

    def __init__(self) -> None:
        self._shown: dict[str, str] = {}

    def __call__(self, event: CheckEvent) -> None:
        key, result = event.result.monitor, event.result
        if event.transition is not None:
            when = time.strftime("%H:%M:%S", time.localtime(event.transition.at))
            verb = ("DOWN (confirmed; outage backdated to" if event.transition.kind == "down"
                    else "UP (recovered at")
            print(f"  {key}: {verb} {when})", flush=True)
        elif result.outcome == "down" and event.state.confirmed == "up":
            print(f"  {key}: failed check ({result.message}), not confirmed yet", flush=True)
        previous = self._shown.get(key)
        if previous is not None and previous != event.state.run_state and "down" not in (
                previous, event.state.run_state):
            print(f"  {key}: {event.state.run_state} ({result.message or 'ok'})", flush=True)
        self._shown[key] = event.state.run_state


def _banner(config: Config, sim_port: int, token: str, runtime: Runtime) -> None:
    monitors = len(config.monitors())
    print(
        "\nstatuspage demo — simulated NPS and CXM on "
        f"http://127.0.0.1:{sim_port}, {monitors} monitors every 1–2 s\n"
        f"  status site:  http://127.0.0.1:{config.server.port}/  (files in {config.site.output_dir}/)\n"
        f"  admin:        http://127.0.0.1:{config.server.port}/admin  token: {token}\n"
        f"  database:     {config.storage.path}\n"
        "  script (repeats every 5 min): 0:20 one failed check on NPS Plataforma (a blip, no outage);\n"
        "    0:35–0:50 CXM API slow (degraded); 1:00–2:30 NPS Relatórios down → T1 incident,\n"
        "    recovery, monitoring, auto-resolve a minute later.\n"
        "  Ctrl-C stops.\n",
        flush=True,
    )
