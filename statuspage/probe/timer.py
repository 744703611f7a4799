"""One timer for every monitor's interval runs: a heap of due slots and a single event-loop handle.

APScheduler kept one interval job per monitor: about 1.4 KB each (the job, its trigger, datetimes,
the job store's index) and, at every wake-up, datetime arithmetic per due job. At 50,000 monitors
that was 70 MB and a large share of the CPU per check. Here a monitor costs one small entry and one
heap item, and a wake-up pops what is due.

Semantics are APScheduler's as the prober used them (`coalesce=True`, `max_instances=1`), with the
lag (`statuspage_schedule_lag_seconds`) counted from the intended start of *that* run — never modulo the
interval, which hid a frozen process's lag behind one interval and left skipped runs uncounted:

- A monitor's slots are `first + k × interval`. A run fired for slot `due` when `now` is past later
  slots too (the process was frozen or overloaded) stands in for all of them: one run, its intended
  start the first slot it replaces (`due`), the others counted as `late` skips.
- A slot that comes while the monitor's previous run still goes is refused: no run, counted as an
  `overlap` skip (dropped, not owed: the running check covers that time).

Wake-ups are at least `min_gap` seconds apart (5 ms by default): at 50,000 monitors every 30 s a
slot falls due every 0.6 ms, and one event-loop wake-up per check cost more than the few milliseconds
of lag that starting them by the handful adds. The prober asks for `wake_gap(shortest interval, checks
per second)`: at a few checks a second each wake-up of an otherwise idle process (cold caches, the
response arriving by itself) cost more CPU than the check's own work, so a wake-up waits until about
`BATCH` runs are due — but never longer than a thousandth of the interval (30 ms at 30 s) and never
under 5 ms. At 50,000 monitors @ 30 s slots come every 0.6 ms and 5 ms already batches eight; a 30 ms
gap there started 50 checks in one burst and raised the lag p99 from ~90 to ~240 ms (bench/scale_bench.py).

Pure apart from the event loop handle: `due_runs(now)` is the whole policy and takes the time.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Fire", "SlotTimer", "wake_gap"]

MIN_GAP_S = 0.005
MAX_GAP_S = 0.050
GAP_SHARE = 0.001
"""The share of the shortest interval by which a run may start late to share a wake-up."""
BATCH = 8
"""Runs a wake-up waits for when they come slowly (fewer than BATCH per 5 ms)."""


def wake_gap(interval: float, rate: float = 0.0) -> float:
    """Seconds between the timer's wake-ups for monitors whose shortest interval is `interval` (s)
    and which start `rate` runs a second in all: the time `BATCH` runs take to fall due, at most a
    thousandth of the interval and at most 50 ms, at least 5 ms (the lag it adds is counted: runs
    keep their intended start). `rate` 0 (unknown) gives the thousandth of the interval."""
    cap = min(MAX_GAP_S, max(MIN_GAP_S, interval * GAP_SHARE))
    if rate <= 0:
        return cap
    return min(cap, max(MIN_GAP_S, BATCH / rate))


@dataclass(frozen=True, slots=True)
class Fire:
    """One run the timer starts (or refuses): which monitor, for which slot, what it stands in for."""

    key: str
    intended: float
    """The first slot this run stands for (UTC epoch seconds): its lag is counted from here."""
    late: int
    """Later slots merged into this run because they could not run in time."""
    overlap: int
    """Slots refused because the monitor's previous run was still going (this one included when
    `refused`)."""
    refused: bool


class _Entry:
    """A monitor on the timer: its next slot and its interval (slotted: 50,000 of them)."""

    __slots__ = ("due", "interval", "seq")

    def __init__(self, due: float, interval: float, seq: int) -> None:
        self.due = due
        self.interval = interval
        self.seq = seq


class SlotTimer:
    """Fires `on_fire(Fire)` for each monitor at each of its slots; `busy(key)` says whether the
    monitor's previous run still goes (then the slot is refused, and reported as such)."""

    def __init__(
        self,
        on_fire: Callable[[Fire], None],
        busy: Callable[[str], bool],
        *,
        clock: Callable[[], float] = time.time,
        min_gap: float = MIN_GAP_S,
    ) -> None:
        self._on_fire = on_fire
        self._busy = busy
        self._clock = clock
        self._min_gap = min_gap
        self._last_wake = -math.inf
        self._entries: dict[str, _Entry] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for = math.inf
        self._running = False

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def add(self, key: str, first: float, interval: float) -> None:
        """Run `key` at `first` and every `interval` seconds after (replacing a previous schedule)."""
        self._seq += 1
        self._entries[key] = _Entry(first, interval, self._seq)
        heapq.heappush(self._heap, (first, self._seq, key))
        if self._running and first < self._armed_for:
            self._arm()

    def remove(self, key: str) -> None:
        """Stop running `key` (its heap item is dropped lazily when it comes up)."""
        self._entries.pop(key, None)

    def next_due(self, key: str) -> float | None:
        """The next slot of `key`, None when it is not on the timer."""
        entry = self._entries.get(key)
        return None if entry is None else entry.due

    def start(self) -> None:
        """Start firing (needs a running event loop)."""
        self._running = True
        self._arm()

    def stop(self) -> None:
        """Fire nothing more (idempotent)."""
        self._running = False
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._armed_for = math.inf

    def due_runs(self, now: float) -> list[Fire]:
        """Pop every slot due at `now` and move each monitor to its next slot after `now`."""
        fires: list[Fire] = []
        heap, entries = self._heap, self._entries
        while heap and heap[0][0] <= now:
            due, seq, key = heapq.heappop(heap)
            entry = entries.get(key)
            if entry is None or entry.seq != seq:
                continue  # removed or rescheduled since
            interval = entry.interval
            # Slots between `due` and `now` are merged into this one run (coalesced).
            merged = int((now - due) // interval) if interval > 0 else 0
            following = due + (merged + 1) * interval
            if following <= now:  # float rounding at an exact multiple
                merged += 1
                following += interval
            self._seq += 1
            entry.due, entry.seq = following, self._seq
            heapq.heappush(heap, (following, self._seq, key))
            if self._busy(key):
                fires.append(Fire(key, due, 0, merged + 1, True))
            else:
                fires.append(Fire(key, due, merged, 0, False))
        return fires

    def _arm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        # Drop items of removed monitors from the top, so an idle timer does not wake for nothing.
        while self._heap and (self._heap[0][2] not in self._entries
                              or self._entries[self._heap[0][2]].seq != self._heap[0][1]):
            heapq.heappop(self._heap)
        if not self._running or not self._heap:
            self._armed_for = math.inf
            return
        due = self._heap[0][0]
        self._armed_for = due
        loop = asyncio.get_running_loop()
        now = self._clock()
        at = max(due, self._last_wake + self._min_gap)
        self._handle = loop.call_later(max(0.0, at - now), self._wake)

    def _wake(self) -> None:
        self._handle = None
        self._armed_for = math.inf
        if not self._running:
            return
        now = self._clock()
        self._last_wake = now
        for fire in self.due_runs(now):
            self._on_fire(fire)
        self._arm()
