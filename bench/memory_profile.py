"""Where the memory per monitor goes in `statuspage run` (issue 17): tracemalloc by file and line.

Builds the main process's per-monitor structures for N HTTP monitors the way `statuspage run` does
(config parsed from the same shape of file as bench/scale_bench.py writes, the SQLite store, the
checker's push board, the prober loaded and started with its schedule, the metrics and the story
hooks), then feeds one synthetic check per monitor through `Prober.record` and the check hooks (so
confirmation state, run tails, hourly latency aggregates and metric series all exist, as after the
first interval of a real run), and snapshots tracemalloc after each stage.

Prints the bytes per monitor each stage added, by category (which file allocated them) and the top
lines; `main()` returns the figures. No network: the checker is never called.

Run: `python bench/memory_profile.py [--monitors 5000,20000] [--top 15]`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ("nps", "cxm")
COMPONENTS_PER_PAGE = 20

# A tracemalloc frame's file decides its category (first match wins, most specific first).
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("apscheduler", "scheduler (APScheduler jobs)"),
    ("probe/timer.py", "scheduler (timer)"),
    ("pydantic", "config objects (pydantic)"),
    ("statuspage/config.py", "config objects"),
    ("probe/runtime.py", "config objects"),
    ("probe/states.py", "state runs / confirmation"),
    ("statuspage/models.py", "state / latency values"),
    ("web/metrics.py", "metrics series"),
    ("prometheus_client", "metrics series"),
    ("probe/story.py", "story (log lines)"),
    ("probe/checks.py", "checker / push board"),
    ("store/", "store (buffer, ids)"),
    ("probe/scheduler.py", "prober dicts"),
    ("runner.py", "runtime dicts"),
    ("json/", "config parsing (json)"),
    ("yaml", "config parsing (yaml)"),
)


def category(filename: str) -> str:
    """The category of an allocation by the file that made it."""
    for needle, name in CATEGORIES:
        if needle in filename:
            return name
    return "other"


def write_config(path: Path, monitors: int) -> None:
    """N monitors over 2 pages × 20 components (bench/scale_bench.py's shape), JSON that YAML reads."""
    per_component = -(-monitors // (len(PAGES) * COMPONENTS_PER_PAGE))
    n = 0
    pages = []
    for page in PAGES:
        components = []
        for c in range(COMPONENTS_PER_PAGE):
            mons = []
            while len(mons) < per_component and n < monitors:
                mons.append({"name": f"m{n:05d}", "url": f"http://127.0.0.1:9/m/{n}"})
                n += 1
            if mons:
                components.append({"slug": f"c{c:02d}", "name": f"Componente {c:02d}", "monitors": mons})
        pages.append({"slug": page, "name": page.upper(), "components": components})
    config = {
        "site": {"title": "Memory profile", "output_dir": str(path.parent / "site")},
        "storage": {"path": str(path.parent / "statuspage.db")},
        "defaults": {"interval": "30s", "timeout": "10s"},
        "pages": pages,
    }
    path.write_text(json.dumps(config))


def _grouped(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot
             ) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Bytes added between two snapshots: by category, and by file:line (largest first)."""
    by_cat: dict[str, int] = {}
    lines: list[tuple[str, int]] = []
    for stat in after.compare_to(before, "lineno"):
        frame = stat.traceback[0]
        where = f"{frame.filename.replace(str(ROOT) + '/', '')}:{frame.lineno}"
        cat = category(frame.filename)
        by_cat[cat] = by_cat.get(cat, 0) + stat.size_diff
        lines.append((where, stat.size_diff))
    lines.sort(key=lambda x: -x[1])
    return by_cat, lines


async def profile(monitors: int, top: int) -> dict[str, Any]:
    """Build the per-monitor structures of `statuspage run` for `monitors` monitors; bytes per monitor."""
    from statuspage.config import load_config
    from statuspage.models import CheckResult
    from statuspage.probe.checks import Checker, PushBoard
    from statuspage.probe.scheduler import Prober
    from statuspage.probe.story import CheckStory
    from statuspage.store.sqlite import SQLiteStore
    from statuspage.web.metrics import Metrics

    tmp = Path(tempfile.mkdtemp(prefix="memory-profile-"))
    path = tmp / "config.yaml"
    write_config(path, monitors)
    stages: list[tuple[str, tracemalloc.Snapshot]] = []

    def mark(name: str) -> None:
        gc.collect()
        stages.append((name, tracemalloc.take_snapshot()))

    tracemalloc.start(1)
    mark("start")
    config = load_config(path, env={})
    mark("config")
    store = await SQLiteStore.open(config.storage.path)
    board = PushBoard()
    checker = Checker(scheduler=config.scheduler, push_board=board, probe=config.probe)
    metrics = Metrics()
    story = CheckStory(config)
    hooks = [metrics.observe_check, story]

    def on_check(event: Any) -> None:
        for hook in hooks:
            hook(event)

    prober = Prober(config, store, checker, on_check=on_check, on_skip=metrics.count_skipped)
    await prober.load()
    mark("prober loaded")
    prober.start()
    mark("scheduled")
    now = time.time()
    for key in prober.monitors:
        result = CheckResult(key, now, "up", 42.0, 200, None, "HTTP 200", ended_at=now + 0.042)
        event = prober.record(result, 0.001, 0.042)
        on_check(event)
    await store.flush()
    mark("one check each")
    await prober.stop(grace=1.0)
    await store.close()
    tracemalloc.stop()

    out: dict[str, Any] = {"monitors": monitors, "stages": {}}
    total = 0.0
    print(f"\n{monitors:,} monitors: bytes per monitor by stage and category")
    for (_, before), (name, after) in itertools.pairwise(stages):
        by_cat, lines = _grouped(before, after)
        stage_total = sum(by_cat.values()) / monitors
        total += stage_total
        cats = {k: round(v / monitors) for k, v in sorted(by_cat.items(), key=lambda x: -x[1])
                if abs(v) / monitors >= 1}
        out["stages"][name] = {"bytes_per_monitor": round(stage_total), "by_category": cats,
                               "top": [(w, round(b / monitors)) for w, b in lines[:top]]}
        print(f"  {name}: {stage_total:,.0f} B/monitor")
        for cat, b in cats.items():
            print(f"      {cat:32s} {b:8,d} B")
        for where, b in lines[:top]:
            if b / monitors >= 8:
                print(f"        {b / monitors:8,.0f} B  {where}")
    out["bytes_per_monitor"] = round(total)
    print(f"  total: {total:,.0f} B/monitor (Python heap, as tracemalloc sees it)")
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Profile each monitor count; return the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--monitors", default="5000,20000", help="comma-separated monitor counts")
    p.add_argument("--top", type=int, default=15, help="lines to show per stage")
    a = p.parse_args(argv)
    return {"profiles": [asyncio.run(profile(int(n), a.top)) for n in a.monitors.split(",")]}


if __name__ == "__main__":
    main()
