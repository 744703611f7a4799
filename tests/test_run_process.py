"""`statuspage run --no-serve` as a real process: outage backdating seen in the database, clean SIGTERM."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from tests.conftest import Process, free_port, write_config


def _config(tmp_path: Path, port: int) -> Path:
    return write_config(tmp_path / "config.yaml", {
        "site": {"output_dir": str(tmp_path / "site")},
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "defaults": {"interval": "1s", "timeout": "1s", "confirm_down": 2, "confirm_up": 2},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "Plataforma", "monitors": [
                {"name": "web", "url": f"http://127.0.0.1:{port}/health"}]}]}],
    })


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_outage_is_backdated_and_nothing_is_lost(
    tmp_path: Path, spawn: Callable[..., Process]
) -> None:
    port = free_port()
    served: list[float] = []

    async def health(request: web.Request) -> web.Response:
        served.append(time.time())
        return web.Response(text="ok")

    async def serve() -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/health", health)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner

    runner = await serve()

    db = tmp_path / "db.sqlite"
    proc = spawn("run", "--no-serve", "--config", str(_config(tmp_path, port)))

    async def until(pred: Callable[[], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not pred():
            assert time.monotonic() < deadline, proc.output()
            await asyncio.sleep(0.1)

    await until(lambda: len(served) >= 3)
    await runner.cleanup()  # the server goes away, pooled connections too: connection refused
    off_at = time.time()
    await until(lambda: db.exists() and bool(_rows(db, "SELECT 1 FROM state_runs WHERE state='down'")))
    await asyncio.sleep(1.5)
    runner = await serve()
    on_at = time.time()
    await until(lambda: bool(_rows(db, "SELECT 1 FROM state_runs WHERE state='up' AND start_at > "
                                       f"{on_at - 0.01}")))
    await asyncio.sleep(1.2)
    assert proc.stop(signal.SIGTERM) == 0, proc.output()
    await runner.cleanup()

    results = _rows(db, "SELECT at, outcome, error FROM results ORDER BY at")
    first_down = min(at for at, outcome, _ in results if outcome == "down" and at >= off_at)
    first_up_after = min(at for at, outcome, _ in results if outcome == "up" and at >= on_at)
    runs = _rows(db, "SELECT state, start_at, end_at, open FROM state_runs ORDER BY start_at, id")
    down_runs = [r for r in runs if r[0] == "down"]
    assert len(down_runs) == 1, runs
    assert down_runs[0][1] == first_down, "outage starts at the first failed check"
    assert down_runs[0][2] == first_up_after, "outage ends at the first successful check"
    assert all(e == "connect" for at, o, e in results if o == "down")
    # Every request the server answered became a recorded up result: nothing lost at SIGTERM.
    assert sum(1 for _, o, _ in results if o == "up") == len(served)
    # Hourly response-time aggregates count every answered check (kept after raw rows are pruned).
    hours = _rows(db, "SELECT data FROM latency_hourly")
    assert sum(json.loads(str(h[0]))["n"] for h in hours) == len(served)
    # Runs tile the time without overlap.
    for a, b in itertools.pairwise(runs):
        assert a[2] <= b[1]
    output = proc.output()
    assert "Traceback" not in output
    assert "stopped" in output
