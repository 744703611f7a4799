"""Benchmark of the static site render: 2 pages × 25 components, 90 days of history, 500 incidents.

Fills a temporary SQLite file through the SQLiteStore's API (one run per state change, a few outages a
month per monitor, monitor states, 500 incidents with 3 updates each, maintenance windows), then
times a full first render into an empty directory and a second render with nothing changed
(every file compared, none written), and prints both with the number of files.

Run: `python bench/render_bench.py`; `main()` returns the figures for bench/run_all.py.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from statuspage.config import Config, parse_config
from statuspage.models import (
    CheckResult,
    Incident,
    IncidentUpdate,
    Maintenance,
    MonitorState,
    Outcome,
    RunRow,
)
from statuspage.site.render import render_site
from statuspage.site.snapshot import take_snapshot
from statuspage.store.sqlite import SQLiteStore

PAGES = ("nps", "cxm")
COMPONENTS_PER_PAGE = 25
INCIDENTS = 500
DAYS = 90
INTERVAL = 30.0
NOW = datetime(2025, 11, 20, 15, 7, 30, tzinfo=UTC).timestamp()
DAY = 86400.0


def bench_config(root: Path) -> Config:
    """2 pages of 25 components, one HTTP monitor each."""
    return parse_config({
        "site": {"title": "Track Status", "base_url": "https://status.track.co",
                 "output_dir": str(root / "site")},
        "storage": {"path": str(root / "bench.db")},
        "defaults": {"interval": f"{int(INTERVAL)}s"},
        "pages": [
            {"slug": page, "name": page.upper(), "components": [
                {"slug": f"c{i:02d}", "name": f"Componente {i:02d}",
                 "monitors": [{"name": "web", "url": f"http://127.0.0.1:9/{page}/{i}"}]}
                for i in range(COMPONENTS_PER_PAGE)
            ]}
            for page in PAGES
        ],
    }, env={})


def _history(key: str, first_id: int, rng: random.Random) -> list[RunRow]:
    """90 days up, with ~4 outages a month of 2 min to 3 h and a few degraded stretches."""
    t = NOW - DAYS * DAY
    rows: list[RunRow] = []
    while t < NOW - 60:
        up_for = rng.expovariate(1 / (7 * DAY))
        end = min(t + up_for, NOW - 10)
        rows.append(RunRow(first_id + len(rows), key, "up", t, end, False))
        t = end
        if t >= NOW - 60:
            break
        state: Outcome = "down" if rng.random() < 0.7 else "degraded"
        bad = min(t + rng.uniform(120, 3 * 3600), NOW - 10)
        rows.append(RunRow(first_id + len(rows), key, state, t, bad, False))
        t = bad
    rows[-1].open = True
    return rows


async def fill(store: SQLiteStore, config: Config, seed: int = 7) -> None:
    """Write the benchmark's history, states, incidents and maintenance through the store API."""
    rng = random.Random(seed)
    keys = [m.key for _, _, m in config.monitors()]
    await store.register_monitors(keys)
    next_id = 1
    for key in keys:
        rows = _history(key, next_id, rng)
        next_id += len(rows)
        store.buffer_runs(rows)
        last = rows[-1].state
        state = MonitorState(confirmed="down" if last == "down" else "up", run_state=last, last_at=NOW - 10,
                             last_outcome=last, last_latency_ms=80.0)
        store.buffer_check(CheckResult(key, NOW - 10, last, 80.0, 200), state)
    await store.flush()
    for n in range(INCIDENTS):
        page = PAGES[n % len(PAGES)]
        start = NOW - rng.uniform(0, DAYS * DAY)
        severity = rng.choice(("T1", "T2", "T3", "T4"))
        resolved = start + rng.uniform(600, 2 * DAY) if n > 3 else None
        updates = [IncidentUpdate(0, 0, "investigating", f"Investigando o incidente {n}.", start, "alice")]
        if resolved is not None:
            middle = (start + resolved) / 2
            updates += [IncidentUpdate(0, 0, "monitoring", "Correção aplicada.", middle, "alice"),
                        IncidentUpdate(0, 0, "resolved", "Resolvido.", resolved, "alice")]
        await store.create_incident(Incident(
            id=0, page=page, title=f"Incidente {n}", severity=severity,  # type: ignore[arg-type]
            impact={"T1": "critical", "T2": "major", "T3": "minor", "T4": "none"}[severity],  # type: ignore[arg-type]
            status="resolved" if resolved is not None else "investigating", started_at=start,
            due_at=start + {"T1": 4 * 3600, "T2": DAY, "T3": 5 * DAY, "T4": 7 * DAY}[severity],
            components=(f"c{rng.randrange(COMPONENTS_PER_PAGE):02d}",), resolved_at=resolved,
            acknowledged_at=start + 300, acknowledged_by="alice", created_at=start,
            updated_at=resolved or start, updates=tuple(updates)))
    for page in PAGES:
        await store.add_maintenance(Maintenance(id=0, page=page, title="Janela semanal", start=NOW + DAY,
                                                end=NOW + DAY + 3600, created_at=NOW - DAY))


async def run() -> dict[str, Any]:
    """Build the database and time the snapshot, the first render and an unchanged re-render."""
    with tempfile.TemporaryDirectory(prefix="render-bench-") as tmp:
        root = Path(tmp)
        config = bench_config(root)
        store = await SQLiteStore.open(config.storage.path)
        try:
            started = time.perf_counter()
            await fill(store, config)
            fill_s = time.perf_counter() - started
            started = time.perf_counter()
            await take_snapshot(config, store, NOW)
            snapshot_s = time.perf_counter() - started
            out = root / "site"
            first = await render_site(config, store, out, now=NOW)
            second = await render_site(config, store, out, now=NOW)
        finally:
            await store.close()
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {
        "pages": len(PAGES),
        "components": len(PAGES) * COMPONENTS_PER_PAGE,
        "incidents": INCIDENTS,
        "days": DAYS,
        "fill_seconds": round(fill_s, 3),
        "snapshot_seconds": round(snapshot_s, 3),
        "first_render_seconds": round(first.seconds, 3),
        "first_render_written": first.written,
        "second_render_seconds": round(second.seconds, 3),
        "second_render_written": second.written,
        "second_render_unchanged": second.unchanged,
        "site_megabytes": round(size / 1e6, 2),
    }


def main() -> dict[str, Any]:
    """Run the benchmark, print its figures and return them."""
    figures = asyncio.run(run())
    print(f"render: {figures['pages']} pages × {figures['components'] // figures['pages']} components, "
          f"{figures['days']} days, {figures['incidents']} incidents")
    print(f"  snapshot from SQLite        {figures['snapshot_seconds']:.3f} s")
    print(f"  first render (all new)      {figures['first_render_seconds']:.3f} s, "
          f"{figures['first_render_written']} files, {figures['site_megabytes']} MB")
    print(f"  second render (no changes)  {figures['second_render_seconds']:.3f} s, "
          f"{figures['second_render_written']} written, {figures['second_render_unchanged']} unchanged")
    return figures


if __name__ == "__main__":
    main()
