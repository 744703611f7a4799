"""Helpers of the hardening tests: the real app behind the real `serve()` (its access log, its limits)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from statuspage.config import Config
from statuspage.incidents.service import IncidentService
from statuspage.probe.checks import PushBoard
from statuspage.store.sqlite import SQLiteStore
from statuspage.web.metrics import Metrics
from statuspage.web.server import build_app, serve
from tests.server_env import Clock, make_config


@dataclass
class Served:
    """A served app: its port, config, store and clock."""

    port: int
    config: Config
    store: SQLiteStore
    clock: Clock
    app: web.Application
    site: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def served(tmp_path: Path, config: Config | None = None) -> AsyncIterator[Served]:
    """`build_app` + `serve` on 127.0.0.1 (a free port) over a real SQLite store; cleaned up after."""
    config = config or make_config(tmp_path)
    clock = Clock()
    store = await SQLiteStore.open(config.storage.path)
    await store.register_monitors(m.key for _, _, m in config.monitors())
    site = Path(config.site.output_dir)
    site.mkdir(parents=True, exist_ok=True)
    app = build_app(config=config, store=store, push_board=PushBoard(clock),
                    incidents=IncidentService(store, config, clock=clock), site_dir=site, metrics=Metrics(),
                    clock=clock)
    runner = await serve(app, "127.0.0.1", 0)
    port = int(runner.addresses[0][1])
    try:
        yield Served(port, config, store, clock, app, site)
    finally:
        await runner.cleanup()
        await asyncio.sleep(0)
        await store.close()


async def send_raw(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send bytes as they are on a new connection; return what the server answered before closing."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        async with asyncio.timeout(timeout):
            return await reader.read(65536)
    finally:
        writer.close()
