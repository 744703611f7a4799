"""A T1 opened just before a crash still pages someone: `statuspage run` is SIGKILLed while its
webhook receiver is failing, and the restarted process delivers the pending `incident.created`
from the outbox, with the same delivery id."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.conftest import Process, db_rows, free_port, start_app, write_config


async def test_a_notification_pending_at_a_crash_is_sent_after_the_restart(
    tmp_path: Path, spawn: Callable[..., Process]
) -> None:
    hook_port = free_port()
    accept = False
    attempts: list[tuple[str, str, int]] = []

    async def receive(request: web.Request) -> web.Response:
        await request.read()
        code = 200 if accept else 503
        attempts.append((request.headers["X-Statuspage-Event"], request.headers["X-Statuspage-Delivery"], code))
        return web.Response(status=code)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = await start_app(app, hook_port)
    db = tmp_path / "db.sqlite"
    cfg = write_config(tmp_path / "config.yaml", {
        "site": {"output_dir": str(tmp_path / "site")},
        "storage": {"path": str(db)},
        "defaults": {"interval": "1s", "timeout": "1s"},
        "notifications": {"webhooks": [{"url": f"http://127.0.0.1:{hook_port}/hook", "retries": 20}]},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "App", "monitors": [{"name": "app", "url": f"http://127.0.0.1:{free_port()}/"}]}]}],
    })

    async def until(pred: Callable[[], Any], proc: Process, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not pred():
            assert time.monotonic() < deadline, proc.output()
            await asyncio.sleep(0.05)

    try:
        first = spawn("run", "--no-serve", "--config", str(cfg))
        await until(lambda: db_rows(db, "SELECT COUNT(*) FROM outbox") == [(1,)] and attempts, first)
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
        accept = True
        second = spawn("run", "--no-serve", "--config", str(cfg))
        await until(lambda: any(code == 200 for _, _, code in attempts), second)
        await until(lambda: db_rows(db, "SELECT COUNT(*) FROM outbox") == [(0,)], second)
        assert second.stop() == 0, second.output()
    finally:
        await runner.cleanup()
    assert {event for event, _, _ in attempts} == {"incident.created"}
    assert len({delivery for _, delivery, _ in attempts}) == 1, "one delivery, retried across the restart"
    assert [code for _, _, code in attempts].count(200) == 1
    assert db_rows(db, "SELECT COUNT(*) FROM incidents") == [(1,)]
