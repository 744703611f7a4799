"""Benchmark of the support indicators: twelve months of published figures computed in the database.

Writes N cases spread over 12 months (four channels, two pages, every severity and outcome, some
open, overdue or never answered) into a fresh SQLite file, then times what a render reads: the
indicators of every case and of each page (GROUP BY month/channel/severity/outcome, medians by
window functions) — in a child process, whose peak RSS above its start shows what the query holds
in memory (the program never loads the cases). It does so for 1,000,000 cases and, in the same
run, for a 100,000-case baseline, and prints both and their ratio (linear would be 10×). It also
times ingestion through the service (events → fold → clocks → upsert) per case.

Run: `python bench/support_bench.py [--cases 1000000 --baseline 100000]`; `main()` returns the
figures for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import resource
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from statuspage.config import Config, parse_config
from statuspage.models import CASE_OUTCOMES, CaseEvent, CaseRow
from statuspage.store import SQLiteStore
from statuspage.support.service import SupportService

TZ = "America/Sao_Paulo"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=ZoneInfo(TZ)).timestamp()
CHUNK = 50_000
LIMITS = {"chat": 240.0, "whatsapp": 240.0, "email": 86400.0, "phone": 86400.0}
SEV_LIMITS = {"T1": 4 * 3600.0, "T2": 86400.0, "T3": 5 * 86400.0, "T4": 7 * 86400.0}


def bench_config(db: str) -> Config:
    """Track's support targets on two pages."""
    return parse_config({
        "storage": {"path": db},
        "support": {"channels": {"chat": {"first_response": "4m", "average": "3m"},
                                 "whatsapp": {"first_response": "4m", "average": "3m"},
                                 "email": {"first_response": "24h", "average": "6h"},
                                 "phone": {"first_response": "24h", "average": "1h"}},
                    "triage_average": "48h"},
        "pages": [{"slug": s, "name": s.upper(), "components": [
            {"slug": "app", "name": "App", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}
            for s in ("nps", "cxm")],
    }, env={})


def _rows(start: int, count: int, rng: random.Random) -> list[CaseRow]:
    zone = ZoneInfo(TZ)
    year_ago = NOW - 365 * 86400.0
    out = []
    for n in range(start, start + count):
        opened = rng.uniform(year_ago, NOW)
        channel = ("chat", "whatsapp", "email", "phone")[n % 4]
        limit = LIMITS[channel]
        answered = rng.random() < 0.97
        fr = rng.expovariate(1 / (limit / 2)) if answered else None
        sev = ("T1", "T2", "T3", "T4")[rng.randrange(4)] if rng.random() < 0.9 else None
        resolved = sev is not None and rng.random() < 0.9
        res = rng.expovariate(1 / (SEV_LIMITS[sev] / 3)) if resolved and sev else None
        out.append(CaseRow(
            case_id=f"bench-{n:08d}", channel=channel, page=("nps", "cxm")[n % 2],
            month=datetime.fromtimestamp(opened, zone).strftime("%Y-%m"), opened_at=opened,
            first_response_at=opened + fr if fr is not None else None, first_response_s=fr,
            first_response_limit_s=limit, first_response_due_at=None if fr is not None else opened + limit,
            first_response_warn_at=None if fr is not None else opened + 0.75 * limit,
            first_response_within=None if fr is None else fr <= limit,
            triaged_at=opened + 3600.0 if rng.random() < 0.8 else None,
            triage_s=rng.uniform(600, 60 * 3600) if rng.random() < 0.8 else None,
            severity=sev, severity_changes=((opened, sev),) if sev else (),  # type: ignore[arg-type]
            resolved_at=opened + res if res is not None else None, resolution_s=res,
            resolution_limit_s=SEV_LIMITS[sev] if sev else None,
            resolution_due_at=opened + SEV_LIMITS[sev] if sev and res is None else None,
            resolution_warn_at=opened + 0.75 * SEV_LIMITS[sev] if sev and res is None else None,
            resolution_within=None if res is None or sev is None else res <= SEV_LIMITS[sev],
            outcome=CASE_OUTCOMES[rng.randrange(6)] if res is not None else None, events=4, updated_at=NOW,
        ))
    return out


async def _fill(db: str, cases: int) -> float:
    started = time.perf_counter()
    store = await SQLiteStore.open(db)
    rng = random.Random(cases)
    try:
        for start in range(0, cases, CHUNK):
            await store.save_cases(_rows(start, min(CHUNK, cases - start), rng))
        await store._conn.execute("ANALYZE")  # as a long-lived database would have
    finally:
        await store.close()
    return time.perf_counter() - started


def _query(db: str, out: Any) -> None:
    """In a child process: open read-only, compute what a render publishes, report time and memory."""
    async def go() -> tuple[float, int]:
        config = bench_config(db)
        store = await SQLiteStore.open_readonly(db)
        try:
            service = SupportService(store, config, lambda: NOW)
            started = time.perf_counter()
            figures, pages = await service.all_indicators(NOW)
            assert set(pages) == {"nps", "cxm"}
            await store.open_case_counts(NOW)
            elapsed = time.perf_counter() - started
        finally:
            await store.close()
        chat = figures.months[0].channels[0]
        assert chat.cases is not None and chat.median_s is not None
        return elapsed, len(figures.months)

    # A spawned child inherits its parent's high-water mark: reset it, so the peak is this query's.
    Path("/proc/self/clear_refs").write_text("5")
    before = _hwm_kb()
    elapsed, months = asyncio.run(go())
    out.send((elapsed, months, before, _hwm_kb()))


def _hwm_kb() -> int:
    """Peak resident memory of this process (VmHWM), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(cases: int, folder: Path) -> dict[str, float]:
    """Fill a database with `cases` cases and time the indicators in a child process."""
    db = str(folder / f"support-{cases}.sqlite")
    fill_s = _fill_sync(db, cases)
    size_mb = Path(db).stat().st_size / 1e6
    ctx = multiprocessing.get_context("spawn")
    results = []
    for _ in range(2):  # the second run sees a warm page cache, as a running server does
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_query, args=(db, child))
        proc.start()
        results.append(parent.recv())
        proc.join()
    elapsed, months, before, after = min(results)
    return {"cases": cases, "fill_s": fill_s, "db_mb": size_mb, "query_s": elapsed, "months": months,
            "rss_start_mb": before / 1024, "rss_peak_mb": after / 1024,
            "rss_growth_mb": (after - before) / 1024}


def _fill_sync(db: str, cases: int) -> float:
    return asyncio.run(_fill(db, cases))


async def _ingest(folder: Path, cases: int) -> float:
    config = bench_config(str(folder / "ingest.sqlite"))
    store = await SQLiteStore.open(config.storage.path)
    service = SupportService(store, config, lambda: NOW)
    started = time.perf_counter()
    try:
        for n in range(cases):
            opened = NOW - 86400 + n
            case = f"ingest-{n}"
            for event in (CaseEvent(case, "o", "opened", opened, channel="chat", page="nps"),
                          CaseEvent(case, "r", "first_response", opened + 90),
                          CaseEvent(case, "s", "severity", opened + 90, severity="T3"),
                          CaseEvent(case, "z", "resolved", opened + 3600, outcome="solved")):
                await service.ingest([event])
    finally:
        await store.close()
    return (time.perf_counter() - started) / cases


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="support-bench-") as tmp:
        folder = Path(tmp)
        per_case = asyncio.run(_ingest(folder, 500))
        print(f"ingestion through the service: {per_case * 1000:.2f} ms per case (4 events each)", flush=True)
        figures = {}
        for label, n in (("baseline", args.baseline), ("full", args.cases)):
            m = measure(n, folder)
            figures[label] = m
            print(f"{n:>9,} cases over 12 months: database {m['db_mb']:.0f} MB "
                  f"(filled in {m['fill_s']:.1f} s); "
                  f"indicators (all + 2 pages, 12 months) {m['query_s']:.2f} s, "
                  f"peak RSS {m['rss_peak_mb']:.0f} MB (+{m['rss_growth_mb']:.0f} MB over the process start)",
                  flush=True)
        ratio = figures["full"]["query_s"] / figures["baseline"]["query_s"]
        print(f"ratio {args.cases:,} / {args.baseline:,} cases: {ratio:.1f}× the time "
              f"for {args.cases / args.baseline:.0f}× the cases", flush=True)
    return {"ingest_ms_per_case": per_case * 1000, **figures, "ratio": ratio}


if __name__ == "__main__":
    main()
