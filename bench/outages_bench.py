"""Benchmark of statuspage.incidents.outages: the cost of one leader round's comparison when nothing
changed (the common round), with the shared tracker against the inline loop it replaced.

The cluster leader compares every component's status with what it acted on last, every
`cluster.poll_every` seconds, for every component in the config. Builds 50,000 components of one
monitor each (the scale-out benchmark's size), 1 % of them in major outage already acted on, and
times the two loops over the same states, best of REPEATS, then prints both and their ratio.

Run: `python bench/outages_bench.py`; `main()` returns the figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from statuspage.incidents.outages import OutageTracker, Sighting
from statuspage.models import MonitorState, component_key
from statuspage.probe.states import component_status

COMPONENTS = 50_000
DOWN_EVERY = 100
REPEATS = 5
T0 = 1_795_000_000.0


def _world() -> tuple[dict[str, list[str]], dict[str, MonitorState]]:
    monitors_of: dict[str, list[str]] = {}
    states: dict[str, MonitorState] = {}
    for i in range(COMPONENTS):
        key = f"p{i % 10}/c{i}"
        monitor = f"{key}/m"
        monitors_of[key] = [monitor]
        states[monitor] = (MonitorState(confirmed="down", down_since=T0, run_state="down")
                           if i % DOWN_EVERY == 0 else MonitorState(last_at=T0))
    return monitors_of, states


def _best(run: Callable[[], int]) -> tuple[float, int]:
    best, found = float("inf"), 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        found = run()
        best = min(best, time.perf_counter() - started)
    return best, found


def main() -> dict[str, float]:
    monitors_of, states = _world()
    down = [k for k, ms in monitors_of.items() if states[ms[0]].confirmed == "down"]
    major = {k: k in set(down) for k in monitors_of}
    tracker = OutageTracker()
    for action in tracker.reconcile([Sighting(k, "major_outage", (states[monitors_of[k][0]],)) for k in down],
                                    [], T0, {}):
        tracker.done(action)

    def inline() -> int:  # the loop LeaderDuties.evaluate ran before the tracker
        acted = 0
        for key in monitors_of:
            page, _, comp = key.partition("/")  # as LeaderDuties.status(page, comp) looked it up
            monitors = monitors_of.get(component_key(page, comp), [])
            now_major = component_status([states.get(m, MonitorState()) for m in monitors]) == "major_outage"
            if now_major == major.get(key, False):
                continue
            acted += 1
        return acted

    def shared() -> int:  # LeaderDuties._sighting + OutageTracker.change
        acted = 0
        for key, monitors in monitors_of.items():
            seen = tuple(states.get(m, MonitorState()) for m in monitors)
            if tracker.change(Sighting(key, component_status(seen), seen), T0 + 1) is not None:
                acted += 1
        return acted

    before, a = _best(inline)
    after, b = _best(shared)
    assert a == b == 0, (a, b)
    print(f"{COMPONENTS} components, {len(down)} down, nothing changed; best of {REPEATS}")
    print(f"  inline loop (before):  {before * 1000:7.1f} ms per round")
    print(f"  outage tracker (after): {after * 1000:7.1f} ms per round   ratio {after / before:.2f}")
    return {"inline_ms": before * 1000, "tracker_ms": after * 1000, "ratio": after / before}


if __name__ == "__main__":
    main()
