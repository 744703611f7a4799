"""The demo: its simulated products follow the script, and the whole system runs against them."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from statuspage.cli.demo import CYCLE_S, OUTAGE, Reply, Simulation, demo_config, run_demo
from statuspage.config import parse_config
from statuspage.models import CheckResult, MonitorState, Outcome
from statuspage.probe.states import Transition, confirm
from statuspage.runner import TICK_EVERY_S
from tests.conftest import free_port


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("second", "path", "status"),
    [(10, "/nps/reports", 200), (65, "/nps/reports", 503), (149, "/nps/reports", 503), (151, "/nps/reports", 200),
     (365, "/nps/reports", 503), (20.5, "/nps/", 500), (65, "/cxm/reports", 200), (19, "/nps/", 200)],
    ids=["before", "outage start", "outage end", "recovered", "next cycle", "blip", "cxm fine", "before blip"],
)
async def test_simulation_follows_the_script(aiohttp_client: Any, second: float, path: str, status: int) -> None:
    clock = FakeClock()
    sim = Simulation(clock)
    client = await aiohttp_client(sim.app())
    clock.now += second
    resp = await client.get(path)
    assert resp.status == status


def test_the_blip_fails_exactly_one_check_per_cycle() -> None:
    clock = FakeClock()
    sim = Simulation(clock)
    statuses = []
    for t in (19.9, 20.0, 20.1, 22.0, 24.0, 320.5, 321.0):
        clock.now = 1000.0 + t
        statuses.append(sim.reply("nps", "platform").status)
    assert statuses == [200, 500, 200, 200, 200, 500, 200]


CONFIG = demo_config(sim_port=9, port=8080, data_dir=Path("data/demo"), out_dir=Path("site"), token="x" * 24)
DEMO = parse_config(CONFIG, env={})
MONITORS = {"nps/app/web": ("nps", "platform"), "cxm/api/health": ("cxm", "api"),
            "nps/reports/reports": ("nps", "reports")}


def _outcome(reply: Reply, degraded_after: float | None) -> Outcome:
    # As the checker judges them: expect_status 200-399, degraded_after on the response time.
    if not 200 <= reply.status < 400:
        return "down"
    return "degraded" if degraded_after is not None and reply.delay >= degraded_after else "up"


def _play(phase: float, cycles: int = 2) -> dict[str, list[tuple[float, Outcome, Transition | None]]]:
    """Check the demo's monitors on the prober's schedule, first check `phase` s after the script starts."""
    clock = FakeClock()
    clock.now = 0.0
    sim = Simulation(clock)
    monitors = {m.key: m for _, _, m in DEMO.monitors()}
    states = {key: MonitorState() for key in MONITORS}
    seen: dict[str, list[tuple[float, Outcome, Transition | None]]] = {key: [] for key in MONITORS}
    t = phase
    while t < cycles * CYCLE_S:
        for key, (product, endpoint) in MONITORS.items():
            mon = monitors[key]
            clock.now = t + 0.003  # the request reaches the simulation a few ms after the slot
            outcome = _outcome(sim.reply(product, endpoint), mon.degraded_after)
            result = CheckResult(key, clock.now, outcome)
            states[key], transition = confirm(states[key], result, mon.confirm_down or 2, mon.confirm_up or 2)
            seen[key].append((clock.now, outcome, transition))
        t += DEMO.defaults.interval
    return seen


PHASES = [0.0, 0.001, 0.5, 0.999, 1.0, 1.5, 1.997]


@pytest.mark.parametrize("phase", PHASES, ids=[f"phase-{p}s" for p in PHASES])
def test_every_scripted_event_is_seen_whatever_the_phase(phase: float) -> None:
    seen = _play(phase)
    for cycle in range(2):
        start = cycle * CYCLE_S

        def within(key: str, lo: float, hi: float) -> list[tuple[float, Outcome, Transition | None]]:
            return [s for s in seen[key] if start + lo <= s[0] < start + hi]  # noqa: B023

        # The blip: exactly one failed check of NPS Plataforma, never confirmed.
        blip = within("nps/app/web", 0, CYCLE_S)
        assert [o for _, o, _ in blip].count("down") == 1
        assert all(tr is None for _, _, tr in blip)
        # Slow CXM API: degraded for several checks (degraded needs no confirmation), never down.
        slow = within("cxm/api/health", 0, CYCLE_S)
        assert [o for _, o, _ in slow].count("degraded") >= 6 and "down" not in [o for _, o, _ in slow]
        # The outage: confirmed once, backdated to its first failed check, recovered once, early
        # enough that the automatic incident resolves before the next cycle's outage.
        reports = within("nps/reports/reports", 0, CYCLE_S)
        transitions = [tr for _, _, tr in reports if tr is not None]
        assert [tr.kind for tr in transitions] == ["down", "up"]
        first_failure = next(at for at, o, _ in reports if o == "down")
        assert transitions[0].at == first_failure and first_failure - start < OUTAGE[0] + 2.01
        recovered = transitions[1].at - start
        assert OUTAGE[1] <= recovered < OUTAGE[1] + 2.01
        resolved = recovered + DEMO.incidents.auto_resolve_after + TICK_EVERY_S
        assert resolved < CYCLE_S + OUTAGE[0], "the incident resolves before the next outage"


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
