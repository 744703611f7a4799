"""The render worker alone (issue 17): CPU per render and memory, in steady state, at N monitors.

Builds the database the way `statuspage run` does (config in bench/scale_bench.py's shape, 2 pages ×
20 components; every check through the real `Prober.record` path and the store's flush), starts a
real `RenderWorker` process and drives it on a simulated clock: a check of every monitor every
`--interval` seconds, a render every `--every` seconds (`server.render_every`, 60 s by default), as
the steady state of a scale_bench run. No network and no probing process competing for the cores,
so the figures are the worker's own.

Prints per monitor count: the first (cold) render's wall time and CPU, then the mean of the steady
renders (worker CPU per render from /proc/<pid>/stat, what that is per check at the configured rate),
and the worker's peak and current RSS (VmHWM, VmRSS). `--source PATH` runs another checkout (the
"before" of a comparison in the same run).

`--source` caveat (this bench's and scale_bench's): this checkout's editable install maps the packages
`statuspage.templates` and `statuspage.static` to ITS templates/ and static/, so another checkout is
rendered with this one's templates unless it has its own `statuspage/templates` and `statuspage/static`
(symlinks to its `../templates` and `../static` will do); e.g. `git archive` the other commit into a
folder and add the two links.

Run: `python bench/worker_bench.py [--monitors 2000,50000] [--renders 5] [--source PATH]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _measure(monitors: int, renders: int, interval: float, every: float) -> dict[str, Any]:
    # bench/memory_profile.py's config, but without its sys.path entry: `--source` decides which
    # statuspage is imported, here and in the worker process alike.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from memory_profile import ROOT as PROFILE_ROOT
    from memory_profile import write_config

    while str(PROFILE_ROOT) in sys.path and os.environ.get("PYTHONPATH") != str(PROFILE_ROOT):
        sys.path.remove(str(PROFILE_ROOT))
    from statuspage.config import load_config
    from statuspage.models import CheckResult
    from statuspage.probe.checks import Checker, PushBoard
    from statuspage.probe.scheduler import Prober
    from statuspage.site.worker import RenderWorker
    from statuspage.store.sqlite import SQLiteStore

    tmp = Path(tempfile.mkdtemp(prefix="worker-bench-"))
    path = tmp / "config.yaml"
    write_config(path, monitors)
    config = load_config(path, env={})
    store = await SQLiteStore.open(config.storage.path)
    prober = Prober(config, store, Checker(scheduler=config.scheduler, push_board=PushBoard(),
                                           probe=config.probe))
    await prober.load()
    keys = list(prober.monitors)
    t0 = time.time() - renders * every - interval

    def check_round(at: float) -> None:
        for n, key in enumerate(keys):
            start = at + interval * n / len(keys)  # spread over the interval, as the timer does
            prober.record(CheckResult(key, start, "up", 42.0, 200, None, "HTTP 200", ended_at=start + 0.042))

    worker = RenderWorker(config)
    out: dict[str, Any] = {"monitors": monitors}
    try:
        clock = t0
        check_round(clock)
        await store.flush()
        clock += interval
        started = time.perf_counter()
        done = await worker.render(clock)
        assert worker.pid is not None
        pid = worker.pid
        out["cold_s"] = round(time.perf_counter() - started, 3)
        out["cold_cpu_s"] = round(_cpu_s(pid), 3)
        out["cold_written"] = done.written
        cpu, wall, written = [], [], []
        for _ in range(renders):
            target = clock + every
            while clock + interval <= target:
                check_round(clock)
                clock += interval
            await store.flush()
            clock = target
            before = _cpu_s(pid)
            started = time.perf_counter()
            done = await worker.render(clock)
            wall.append(time.perf_counter() - started)
            cpu.append(_cpu_s(pid) - before)
            written.append(done.written)
        steady = sum(cpu) / len(cpu)
        out["steady_cpu_s"] = round(steady, 3)
        out["steady_wall_s"] = round(sum(wall) / len(wall), 3)
        out["steady_written"] = written
        out["cpu_per_check_us"] = round(steady / (every * monitors / interval) * 1e6, 2)
        out["rss_peak_mb"] = round(_status_mb(pid, "VmHWM"), 1)
        out["rss_mb"] = round(_status_mb(pid, "VmRSS"), 1)
    finally:
        await worker.close()
        await store.close()
    return out


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Measure each monitor count (in this checkout, or in `--source`'s); print and return the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--monitors", default="2000,50000", help="comma-separated monitor counts")
    p.add_argument("--renders", type=int, default=5, help="steady renders to average")
    p.add_argument("--interval", type=float, default=30.0, help="each monitor's interval, s")
    p.add_argument("--every", type=float, default=60.0, help="seconds between renders (render_every)")
    p.add_argument("--source", type=Path, help="run another checkout's statuspage (e.g. /work/main)")
    p.add_argument("--_one", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._one is not None:
        print(json.dumps(asyncio.run(_measure(args._one, args.renders, args.interval, args.every))))
        return []
    source = (args.source or ROOT).resolve()
    out = []
    for n in (int(x) for x in args.monitors.split(",")):
        # A process per count (and per checkout): nothing imported or cached carries over.
        env = {**os.environ, "PYTHONPATH": str(source)}
        proc = subprocess.run(
            [sys.executable, __file__, "--_one", str(n), "--renders", str(args.renders),
             "--interval", str(args.interval), "--every", str(args.every)],
            env=env, cwd=source, check=True, capture_output=True, text=True)
        fig = json.loads(proc.stdout.strip().splitlines()[-1])
        fig["source"] = str(source)
        load = os.getloadavg()[0]
        print(f"{n:>7,} monitors ({source}): cold render {fig['cold_s']:.2f} s "
              f"({fig['cold_cpu_s']:.2f} s CPU); "
              f"steady render {fig['steady_wall_s']:.3f} s, {fig['steady_cpu_s']:.3f} s CPU = "
              f"{fig['cpu_per_check_us']:.1f} µs/check, files written {fig['steady_written']}; "
              f"worker RSS peak {fig['rss_peak_mb']:.0f} MB, now {fig['rss_mb']:.0f} MB (load {load:.1f})")
        out.append(fig)
    return out


if __name__ == "__main__":
    main()
