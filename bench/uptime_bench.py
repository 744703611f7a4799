"""Benchmark of statuspage.sla.uptime: a full render's uptime figures for 50 components and their pages.

Builds 90 days of 30 s history for 2 pages × 25 components × 2 monitors as the store holds it
(one StateRun per state change, not per check), with a few outages a month (minutes to hours,
some partial), degraded stretches, monitor gaps and maintenance windows. Then it times every
rolling window, the 90 daily bars, the error budgets and the burn rates of every component and
page, against 90 days and against 1 day of history, and prints both and their ratio.

Run: `python bench/uptime_bench.py`; `main()` returns the figures for bench/run_all.py.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from statuspage.models import Maintenance, Outcome, StateRun
from statuspage.sla.uptime import DAY, HOUR, page_report, report_span

INTERVAL = 30.0
PAGES = ("nps", "cxm")
COMPONENTS_PER_PAGE = 25
MONITORS_PER_COMPONENT = 2
TZ = "America/Sao_Paulo"
NOW = datetime(2024, 6, 3, 15, 7, 30, tzinfo=UTC).timestamp()
REPEATS = 7

_Interval = tuple[float, float, Outcome | None]  # None paints no data (the monitor was stopped)
History = dict[str, dict[str, dict[str, list[StateRun]]]]
"""page → component key → monitor key → runs, as the store hands them to the uptime module."""


def _grid(t: float) -> float:
    """Snap to the 30 s check grid, as real runs start and end on checks."""
    return math.floor(t / INTERVAL) * INTERVAL


def _paint(runs: list[_Interval], start: float, end: float, state: Outcome | None) -> list[_Interval]:
    """Overwrite [start, end) of a monitor's history with `state` (setup only, so kept simple)."""
    out: list[_Interval] = []
    for s, e, st in runs:
        if s < start:
            out.append((s, min(e, start), st))
        if e > end:
            out.append((max(s, end), e, st))
    out.append((start, end, state))
    return sorted(r for r in out if r[1] > r[0])


def _to_runs(monitor: str, painted: list[_Interval]) -> list[StateRun]:
    """Merge equal neighbours into one run per state change; drop the no-data stretches."""
    runs: list[StateRun] = []
    for s, e, st in painted:
        if st is None:
            continue
        if runs and runs[-1].state == st and runs[-1].end == s:
            runs[-1] = StateRun(monitor, st, runs[-1].start, e)
        else:
            runs.append(StateRun(monitor, st, s, e))
    return runs


def _stretch(rng: random.Random, shortest: float, longest: float, begin: float,
             end: float) -> tuple[float, float]:
    """A random stretch, log-uniform in length (many short ones, a few long ones), on the grid."""
    length = max(INTERVAL, _grid(math.exp(rng.uniform(math.log(shortest), math.log(longest)))))
    start = _grid(rng.uniform(begin, end - length))
    return start, start + length


def _per_month(rng: random.Random, rate: float, days: float) -> int:
    """A Poisson-ish count of events for `rate` per 30 days."""
    return sum(1 for _ in range(int(rate * days / 30 * 4)) if rng.random() < 0.25)


def build_history(seed: int = 1) -> tuple[History, dict[str, list[Maintenance]]]:
    """90 days of runs, and each page's maintenance windows."""
    rng = random.Random(seed)
    begin = _grid(report_span(NOW, TZ)[0] - DAY)
    days = (NOW - begin) / DAY
    pages: History = {}
    maintenance: dict[str, list[Maintenance]] = {}
    for page in PAGES:
        comps: dict[str, dict[str, list[StateRun]]] = {}
        slugs = [f"c{i:02d}" for i in range(COMPONENTS_PER_PAGE)]
        for slug in slugs:
            monitors = [f"{page}/{slug}/m{j}" for j in range(MONITORS_PER_COMPONENT)]
            painted: dict[str, list[_Interval]] = {m: [(begin, NOW, "up")] for m in monitors}
            for m in monitors:
                for _ in range(_per_month(rng, 6, days)):  # slow responses, minutes long
                    s, e = _stretch(rng, 60, 1800, begin, NOW)
                    painted[m] = _paint(painted[m], s, e, "degraded")
            for _ in range(_per_month(rng, 3, days)):  # outages: 2 min to 4 h, 40 % partial
                s, e = _stretch(rng, 120, 4 * HOUR, begin, NOW)
                hit = monitors if rng.random() < 0.6 else [rng.choice(monitors)]
                for m in hit:
                    painted[m] = _paint(painted[m], s, e, "down")
            for m in monitors:
                for _ in range(_per_month(rng, 1, days)):  # the prober stopped: no data
                    s, e = _stretch(rng, 300, 2 * HOUR, begin, NOW)
                    painted[m] = _paint(painted[m], s, e, None)
            comps[f"{page}/{slug}"] = {m: _to_runs(m, painted[m]) for m in monitors}
        pages[page] = comps
        windows: list[Maintenance] = []
        for i in range(_per_month(rng, 2, days)):
            s, e = _stretch(rng, HOUR, 3 * HOUR, begin, NOW)
            targets = () if rng.random() < 0.3 else tuple(rng.sample(slugs, 2))
            windows.append(Maintenance(i, page, "upgrade", s, e, targets, cancelled=rng.random() < 0.1))
        maintenance[page] = windows
    return pages, maintenance


def clip_history(pages: History, start: float) -> History:
    """The same history as if the service had started at `start`."""
    def clip(runs: list[StateRun]) -> list[StateRun]:
        return [StateRun(r.monitor, r.state, max(r.start, start), r.end) for r in runs if r.end > start]

    return {
        page: {key: {mon: clip(runs) for mon, runs in monitors.items()} for key, monitors in comps.items()}
        for page, comps in pages.items()
    }


def render_all(pages: History, maintenance: dict[str, list[Maintenance]]) -> int:
    """What one site render asks of the uptime module: every page report with its components'."""
    reports = [page_report(comps, maintenance[page], NOW, TZ, 0.995, 0.3) for page, comps in pages.items()]
    return sum(1 + len(r.components) for r in reports)


def _count_runs(pages: History) -> int:
    return sum(len(runs) for comps in pages.values() for mons in comps.values() for runs in mons.values())


def best_ms(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    """Best wall time of `repeats` calls, in ms (the best is the least disturbed by the machine)."""
    fn()  # warm up (tz caches, imports)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1000


def main() -> dict[str, float]:
    """Run the benchmark, print the figures and return them."""
    pages, maintenance = build_history()
    short = clip_history(pages, NOW - DAY)
    runs_90d = _count_runs(pages)
    runs_1d = _count_runs(short)
    reports = render_all(pages, maintenance)
    ms_90d = best_ms(lambda: render_all(pages, maintenance))
    ms_1d = best_ms(lambda: render_all(short, maintenance))
    figures = {
        "components": float(len(PAGES) * COMPONENTS_PER_PAGE),
        "reports": float(reports),
        "runs_90d": float(runs_90d),
        "runs_1d": float(runs_1d),
        "uptime_90d_ms": round(ms_90d, 2),
        "uptime_1d_ms": round(ms_1d, 2),
        "uptime_ratio_90d_1d": round(ms_90d / ms_1d, 2),
    }
    print(f"uptime: {int(figures['components'])} components + {len(PAGES)} pages "
          f"({reports} reports: 4 windows, 90 bars, budgets, burn rates each), best of {REPEATS}")
    print(f"  90 days of history ({runs_90d} runs): {ms_90d:8.2f} ms")
    print(f"  1 day of history   ({runs_1d} runs): {ms_1d:8.2f} ms")
    print(f"  ratio 90d / 1d: {ms_90d / ms_1d:.2f}")
    return figures


if __name__ == "__main__":
    main()
