"""The demo: its simulated products follow the script, and the whole system runs against them."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from statuspage.cli.demo import Simulation, run_demo
from tests.conftest import free_port


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("second", "path", "status"),
    [(10, "/nps/reports", 200), (65, "/nps/reports", 503), (149, "/nps/reports", 503), (151, "/nps/reports", 200),
     (365, "/nps/reports", 503), (20.5, "/nps/", 500), (22, "/nps/", 200), (65, "/cxm/reports", 200)],
    ids=["before", "outage start", "outage end", "recovered", "next cycle", "blip", "after blip", "cxm fine"],
)
async def test_simulation_follows_the_script(aiohttp_client: Any, second: float, path: str, status: int) -> None:
    clock = FakeClock()
    sim = Simulation(clock)
    client = await aiohttp_client(sim.app())
    clock.now += second
    resp = await client.get(path)
    assert resp.status == status


async def test_demo_probes_renders_and_serves(tmp_path: Path) -> None:
    port, stop = free_port(), asyncio.Event()
    task = asyncio.create_task(run_demo(port=port, data_dir=tmp_path / "data", out_dir=tmp_path / "site",
                                        stop=stop))
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                await asyncio.sleep(0.1)
                try:
                    async with http.get(f"http://127.0.0.1:{port}/nps/api/v2/summary.json") as resp:
                        if resp.status == 200 and not any(
                                c["no_data"] for c in (await resp.json())["components"]):
                            break
                except aiohttp.ClientError:
                    continue
            async with http.get(f"http://127.0.0.1:{port}/nps/api/v2/summary.json") as resp:
                summary = await resp.json()
        assert [c["status"] for c in summary["components"]] == ["operational"] * 4
        assert summary["status"]["indicator"] == "none"
    finally:
        stop.set()
        await task
    conn = sqlite3.connect(tmp_path / "data" / "statuspage.db")
    monitors = conn.execute("SELECT COUNT(DISTINCT monitor_id) FROM results").fetchone()[0]
    conn.close()
    assert monitors == 8, "every simulated endpoint and heartbeat was checked"
    assert (tmp_path / "site" / "nps" / "index.html").exists()
