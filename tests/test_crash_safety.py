"""Crash safety: `statuspage run` killed with SIGKILL at random moments, 20+ times, on one database.

After every kill: nothing committed is lost, SQLite says the file is sound, one outage never has two
incidents, the time the process was dead is no data (not up), and every site file is whole."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from tests.conftest import Process, free_port, start_app, write_config

CYCLES = 20
INTERVAL = 1.0


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # the schema may not exist before the first start
        return []
    finally:
        conn.close()


async def probing(proc: Process, within: float = 60.0) -> None:
    """Wait until the process has started probing (its "probing N monitors" line)."""
    deadline = time.monotonic() + within
    while "probing " not in proc.output():
        assert time.monotonic() < deadline and proc.proc.poll() is None, proc.output()
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path, spawn: Callable[..., Process]) -> None:
    port, dead_port = free_port(), free_port()

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/{n}", ok)
    runner = await start_app(app, port)
    site_dir = tmp_path / "site"
    db = tmp_path / "db.sqlite"
    cfg = write_config(tmp_path / "config.yaml", {
        "site": {"output_dir": str(site_dir)},
        "storage": {"path": str(db)},
        "defaults": {"interval": "1s", "timeout": "500ms"},
        "pages": [
            {"slug": "nps", "name": "NPS", "components": [
                {"slug": f"c{i}", "name": f"Componente {i}", "monitors": [
                    {"name": "web", "url": f"http://127.0.0.1:{port}/{i}"}]} for i in range(10)]},
            {"slug": "cxm", "name": "CXM", "components": [
                {"slug": "reports", "name": "Relatórios", "monitors": [
                    {"name": "web", "url": f"http://127.0.0.1:{dead_port}/"}]}]},
        ],
    })
    rng = random.Random(20261124)
    committed: set[tuple[object, ...]] = set()
    dead: list[tuple[float, float]] = []
    killed_at: float | None = None
    try:
        for cycle in range(CYCLES):
            proc = spawn("run", "--no-serve", "--config", str(cfg))
            if killed_at is not None:
                dead.append((killed_at, time.time()))
            if cycle % 2:
                await asyncio.sleep(rng.uniform(0.8, 3.0))  # any moment, start-up and migration included
            else:
                # Half the kills land while probing for sure, however slow a loaded machine starts.
                await probing(proc)
                await asyncio.sleep(rng.uniform(0.2, 2.2))
            proc.stop(signal.SIGKILL)
            killed_at = time.time()

            rows = set(query(db, "SELECT monitor_id, at, outcome FROM results"))
            assert committed <= rows, f"cycle {cycle}: committed results disappeared"
            committed = rows
            assert query(db, "PRAGMA integrity_check") == [("ok",)], f"cycle {cycle}"
            incidents = query(db, "SELECT page, components, status FROM incidents")
            assert [i for i in incidents if i[0] == "nps"] == [], "the healthy page never had an incident"
            assert len(incidents) <= 1, f"cycle {cycle}: one outage, at most one incident: {incidents}"
            # Stay dead longer than 2 × interval, so the dead time is visible as a gap.
            await asyncio.sleep(rng.uniform(2 * INTERVAL + 0.3, 2.6))
            for path in site_dir.rglob("*"):
                if path.name.startswith(".") or not path.is_file():
                    continue  # a temp file being written when the process died; never served
                data = path.read_bytes()
                if path.suffix == ".json":
                    json.loads(data)
                elif path.suffix == ".html":
                    assert data.rstrip().endswith(b"</html>"), f"half-written {path}"
    finally:
        await runner.cleanup()

    assert len(committed) > CYCLES * 5, "the runs did probe"
    [(status, components)] = [(s, c) for _, c, s in query(db, "SELECT page, components, status FROM incidents")]
    assert status == "investigating" and json.loads(str(components)) == ["reports"]
    # Dead time is no data: after a kill the last check holds at most 2 × interval, then nothing
    # covers the time until the process is back.
    runs = query(db, "SELECT r.start_at, r.end_at FROM state_runs r JOIN monitors m ON m.id = r.monitor_id "
                     "WHERE m.key = 'nps/c0/web'")
    for down_from, back_at in dead:
        hole = (down_from + 2 * INTERVAL + 0.05, back_at)
        overlapping = [(s, e) for s, e in runs if float(s) < hole[1] and float(e) > hole[0]]  # type: ignore[arg-type]
        assert overlapping == [], f"dead time {hole} counted as covered by {overlapping}"
    # And the process restarts into a consistent state: a clean run after all the kills works.
    proc = spawn("run", "--no-serve", "--config", str(cfg))
    await probing(proc)
    await asyncio.sleep(1.5)
    assert proc.stop(signal.SIGTERM) == 0, proc.output()
    assert "Traceback" not in proc.output()
