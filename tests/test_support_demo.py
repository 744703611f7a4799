"""The demo's scripted support desk: a deterministic backfill and live cases, published on `make run`."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp

from statuspage.cli.demo import run_demo
from statuspage.cli.demo_cases import backfill_events
from statuspage.support.clocks import fold
from tests.conftest import free_port
from tests.support_data import NOW


def test_the_backfill_is_seeded_closed_and_thick_enough_to_publish() -> None:
    events = backfill_events(NOW, "America/Sao_Paulo")
    assert events == backfill_events(NOW, "America/Sao_Paulo")
    assert max(e.at for e in events) <= NOW
    by_case: dict[str, list] = {}
    for e in events:
        by_case.setdefault(e.case_id, []).append(e)
    states = [fold(v) for v in by_case.values()]
    assert all(s.resolved_at is not None and s.first_response_at is not None for s in states)
    per_channel = Counter(s.channel for s in states)
    assert min(per_channel.values()) >= 30  # a dozen per channel in each of three months (less this one)


async def test_the_demo_publishes_support_figures(tmp_path: Path) -> None:
    port, stop = free_port(), asyncio.Event()
    task = asyncio.create_task(run_demo(port=port, data_dir=tmp_path / "data", out_dir=tmp_path / "site", stop=stop))
    try:
        doc = None
        async with aiohttp.ClientSession() as http:
            for _ in range(150):
                await asyncio.sleep(0.1)
                try:
                    async with http.get(f"http://127.0.0.1:{port}/api/v2/support.json") as resp:
                        if resp.status == 200:
                            doc = await resp.json()
                            if any(c["cases"] for m in doc["months"] for c in m["channels"]):
                                break
                except aiohttp.ClientError:
                    continue
        assert doc is not None
        chat = [c for m in doc["months"] for c in m["channels"] if c["channel"] == "chat" and c["cases"]]
        assert chat and chat[0]["first_response_median_s"] is not None
    finally:
        stop.set()
        await task
    assert "Atendimento medido" in (tmp_path / "site" / "sla.html").read_text()
