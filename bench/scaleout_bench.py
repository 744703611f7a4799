"""Scale-out benchmark (issue 19): 50,000 HTTP monitors @ 30 s, one location, two `statuspage run`
instances sharing the monitors on one PostgreSQL 15 (durable settings), on this machine.

Both instances run the same config (but their own HTTP port) against the scale benchmark's local
target (a process of its own). Once both have probed for one interval after the lease split settled
(`statuspage_cluster_monitors_probed` adds up to every monitor), a steady window is measured:

- checks/s achieved (both instances' `statuspage_checks_total` deltas) vs expected (N ÷ interval);
- schedule lag p99 from the corrected metric (`statuspage_schedule_lag_seconds`, both instances'
  bucket deltas added, interpolated within a bucket);
- CPU per check: each instance's process tree, and PostgreSQL's server processes beside them;
- RSS of every process: each instance's tree (peak VmHWM, main + render worker) and PostgreSQL's
  (proportional set size, so its shared buffers are counted once).

Targets: ≥ 95 % of the expected checks, lag p99 ≤ 250 ms, ≤ 400 MB for statuspage's processes.
Where the time goes: CPU seconds per second of each part against the machine's cores.

Run: `python bench/scaleout_bench.py [--monitors N] [--window S]`; `main()` returns the figures.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# bench/ is not a package: scale_bench is imported from the path set above.
import scale_bench as sb

RSS_MAX_MB = 400.0
INSTANCES = 2


def pss_kb(pid: int) -> int:
    """Proportional set size of a process (kB): shared pages divided among those sharing them."""
    with contextlib.suppress(FileNotFoundError, PermissionError, ValueError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


@dataclass
class Look:
    at: float
    checks: float
    buckets: list[tuple[float, float]]
    cpu: list[float]
    server_cpu: float


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://{sb.HOST}:{port}/metrics", timeout=120) as response:
        return response.read().decode()


def probed(text: str) -> float:
    for line in text.splitlines():
        if line.startswith("statuspage_cluster_monitors_probed "):
            return float(line.split()[1])
    return 0.0


def look(bench: sb.Bench, ports: list[int], pids: list[int]) -> Look:
    checks = 0.0
    buckets: dict[float, float] = {}
    for port in ports:
        c, b = sb.parse_metrics(scrape(port))
        checks += sum(c.values())
        for le, n in b:
            buckets[le] = buckets.get(le, 0.0) + n
    return Look(time.monotonic(), checks, sorted(buckets.items()), [sb.tree_cpu_s(p) for p in pids],
                bench.postgres_cpu_s())


def run(monitors: int, window: float, keep: bool = False) -> dict[str, Any]:
    scenario = sb.Scenario(f"scaleout-{monitors}-30s", monitors, 30.0, window, postgres=True)
    with sb.bench_context(keep) as bench:
        bench.start_target()
        pg = bench.postgres()
        database = pg.create_database()
        ports = [sb.free_port() for _ in range(INSTANCES)]
        folder = bench.root / scenario.name
        folder.mkdir(parents=True, exist_ok=True)
        children = []
        launched = time.monotonic()
        for i, port in enumerate(ports):
            config = folder / f"config-{i}.yaml"
            sb.write_config(config, bench, scenario, port, {"url": pg.url(database)})
            data = json.loads(config.read_text())
            data["site"]["output_dir"] = str(folder / f"site-{i}")
            config.write_text(json.dumps(data))
            children.append(bench.spawn(
                [sys.executable, "-m", "statuspage", "--log-level", "info", "run", "--config", str(config)],
                f"{scenario.name}/statuspage-{i}.log", cwd=folder, env=bench.env()))
        for child in children:
            child.wait_for(r"serving http://", 900)
        # The lease split settles within a few renewals: both instances probing about half, the same
        # split at three looks 5 s apart (a split seen once may be a lease changing hands); then one
        # interval of warm-up.
        deadline = time.monotonic() + 300
        seen: list[tuple[float, ...]] = []
        while len(seen) < 3 or len(set(seen[-3:])) > 1:
            split = tuple(probed(scrape(p)) for p in ports)
            seen.append(split if sum(split) == monitors and min(split) >= monitors * 0.4 else (-len(seen),))
            if time.monotonic() > deadline:
                raise RuntimeError(f"the instances never settled on a split: {seen[-5:]}")
            time.sleep(5.0)
        settled = time.monotonic()
        time.sleep(scenario.interval + sb.WARM_MARGIN_S)
        pids = [c.pid for c in children]
        first = look(bench, ports, pids)
        time.sleep(window)
        last = look(bench, ports, pids)
        peaks = [sum(sb.tree_status_kb(p, "VmHWM").values()) / 1024 for p in pids]
        pg_pid = int((Path(pg.data) / "postmaster.pid").read_text().split()[0])
        pg_mb = sum(pss_kb(p) for p in sb.proc_tree(pg_pid)) / 1024
        for child in children:
            child.stop(60)
    span = last.at - first.at
    checks = last.checks - first.checks
    lag = sb.bucket_delta(first.buckets, last.buckets)
    cpu = [b - a for a, b in zip(first.cpu, last.cpu, strict=True)]
    server = last.server_cpu - first.server_cpu
    figures = {
        "config": f"{monitors} @ 30s http, {INSTANCES} instances, one location, PostgreSQL",
        "startup_s": round(settled - launched, 1),
        "window_s": round(span, 1),
        "expected_checks_per_s": round(scenario.rate, 1),
        "achieved_checks_per_s": round(checks / span, 1) if span else 0.0,
        "checks_ratio": round(checks / span / scenario.rate, 4) if span else 0.0,
        "lag_p50_ms": sb._ms(sb.histogram_quantile(0.5, lag)),
        "lag_p99_ms": sb._ms(sb.histogram_quantile(0.99, lag)),
        "cpu_per_check_us": round(sum(cpu) / checks * 1e6, 1) if checks else None,
        "server_cpu_per_check_us": round(server / checks * 1e6, 1) if checks else None,
        "cpu_per_s": {**{f"instance-{i}": round(c / span, 2) for i, c in enumerate(cpu)},
                      "postgresql": round(server / span, 2), "cores": os.cpu_count()},
        "peak_rss_mb": [round(p, 1) for p in peaks],
        "statuspage_rss_mb": round(sum(peaks), 1),
        "postgresql_pss_mb": round(pg_mb, 1),
    }
    lag_p99 = figures["lag_p99_ms"]
    figures["verdicts"] = {
        "checks": figures["checks_ratio"] >= sb.CHECKS_RATIO_MIN,
        "lag_p99": lag_p99 is not None and lag_p99 <= sb.LAG_P99_MAX_S * 1000,
        "rss": figures["statuspage_rss_mb"] <= RSS_MAX_MB,
    }
    return figures


def print_figures(f: dict[str, Any]) -> None:
    v = f["verdicts"]

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(f"scale-out: {f['config']} (lease split settled {f['startup_s']} s after launch; window "
          f"{f['window_s']} s)")
    print(f"  checks/s achieved / expected  {f['achieved_checks_per_s']} / {f['expected_checks_per_s']} "
          f"({f['checks_ratio']:.1%})  target ≥ 95 %  {met(v['checks'])}")
    print(f"  schedule lag p50 / p99        {f['lag_p50_ms']} / {f['lag_p99_ms']} ms  target p99 ≤ 250 ms  "
          f"{met(v['lag_p99'])}")
    print(f"  CPU per check                 {f['cpu_per_check_us']} µs statuspage + "
          f"{f['server_cpu_per_check_us']} µs PostgreSQL")
    print(f"  RSS                           statuspage {' + '.join(str(x) for x in f['peak_rss_mb'])} = "
          f"{f['statuspage_rss_mb']} MB (peak, each with its render worker)  target ≤ {RSS_MAX_MB:.0f} MB  "
          f"{met(v['rss'])}; PostgreSQL {f['postgresql_pss_mb']} MB (PSS)")
    where = ", ".join(f"{k} {v}" for k, v in f["cpu_per_s"].items() if k != "cores")
    print(f"  where the time goes (CPU s/s of {f['cpu_per_s']['cores']} cores): {where}")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--monitors", type=int, default=50_000)
    p.add_argument("--window", type=float, default=60.0)
    p.add_argument("--keep", action="store_true")
    a = p.parse_args(argv)
    figures = run(a.monitors, a.window, a.keep)
    print_figures(figures)
    return figures


if __name__ == "__main__":
    main()
