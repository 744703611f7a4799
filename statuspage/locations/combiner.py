"""The leader's quorum round: the locations' runs and states in, the monitors' runs and states out.

Every round (the leader's `poll_every`) and for every monitor it recombines the last `horizon`
seconds (longer than any backdating can reach: (max(confirm_down, confirm_up) + 3) × interval +
timeout) from the locations' runs in the database, rewrites the monitor's runs from there on
(`Store.rewrite_runs`) and buffers its state when it changed. Deterministic: any leader computes the
same runs, so a failover never needs what the previous one saw.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping

from statuspage.config import Config, Monitor
from statuspage.locations.quorum import (
    LOCATION_SEPARATOR,
    Verdict,
    combine,
    combined_state,
    location_key,
    merge_runs,
    resolve_quorum,
    spans,
)
from statuspage.models import MonitorState, RunRow
from statuspage.store import Store

log = logging.getLogger(__name__)


def freshness(mon: Monitor) -> float:
    """How long a location's last check still counts: `probe.states.live_hold` (2 × interval + timeout)."""
    return 2.0 * mon.interval_s + mon.timeout_s


def horizon(mon: Monitor) -> float:
    """How far back a round recombines: beyond any backdating and freshness of one location."""
    return (max(mon.confirm_down or 2, mon.confirm_up or 2) + 3) * mon.interval_s + mon.timeout_s


class QuorumCombiner:
    """Combines every monitor's locations (several locations only)."""

    def __init__(self, config: Config, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.monitors: list[Monitor] = [m for _, _, m in config.monitors()]
        self.states: dict[str, MonitorState] = {}
        """Monitor key → combined state (what the leader's incident duties read)."""
        self.current: dict[str, Verdict] = {}
        """Monitor key → the verdict covering now (who is down, who counts)."""
        self.location_states: dict[str, MonitorState] = {}
        """`key@location` → that location's confirmation state, as last read."""
        self._cursor = 0
        self._ids: int | None = None
        self._ids_end = 0
        self._loaded = False

    def _next_ids(self) -> Callable[[], int]:
        def take() -> int:
            assert self._ids is not None
            self._ids += 1
            return self._ids
        return take

    async def round(self) -> Mapping[str, MonitorState]:
        """Recombine every monitor now; return the combined states."""
        now = self.clock()
        if self._ids is None or self._ids > self._ids_end - 1_000_000:
            # A block of run ids of our own (PostgreSQL hands out 2^32 at a time); a fresh one before
            # this one could run out.
            self._ids = await self.store.last_run_id()
            self._ids_end = self._ids + (1 << 32)
        changed, self._cursor = await self.store.monitor_states_since(self._cursor)
        for key, state in changed.items():
            if LOCATION_SEPARATOR in key:
                self.location_states[key] = state
            elif not self._loaded:
                self.states[key] = state
        self._loaded = True
        keys = {m.key: [location_key(m.key, loc) for loc in (m.locations or ())] for m in self.monitors}
        start = now - max((horizon(m) + freshness(m) for m in self.monitors), default=0.0)
        rows = await self.store.runs([k for ks in keys.values() for k in ks] + list(keys), start, now + 1)
        by_key: dict[str, list[RunRow]] = {}
        for row in rows:
            by_key.setdefault(row.monitor, []).append(row)
        take = self._next_ids()
        for mon in self.monitors:
            await self._one(mon, keys[mon.key], by_key, now, take)
        return self.states

    async def _one(self, mon: Monitor, loc_keys: list[str], by_key: Mapping[str, list[RunRow]], now: float,
                   take: Callable[[], int]) -> None:
        locations = list(mon.locations or ())
        quorum = resolve_quorum(mon.quorum or "majority", len(locations))
        since = now - horizon(mon)
        hold = freshness(mon)
        pairs = list(zip(locations, loc_keys, strict=True))
        by_location = {loc: spans(by_key.get(k, []), now, hold) for loc, k in pairs}
        verdicts = combine(by_location, quorum, since, now)
        old = [r for r in by_key.get(mon.key, []) if r.end > since or r.open]

        def ids() -> Iterator[int]:
            # The ids of the runs being replaced first: a stable history keeps its ids across rounds.
            yield from sorted(r.id for r in old if r.start >= since)
            while True:
                yield take()

        runs, write = merge_runs(old, verdicts, mon.key, since, ids())
        if write or any(r.start >= since for r in old):
            await self.store.rewrite_runs(mon.key, since, write)
        current = verdicts[-1] if verdicts else None
        if current is not None:
            self.current[mon.key] = current
        prev = self.states.get(mon.key, MonitorState())
        located = {loc: self.location_states.get(k, MonitorState()) for loc, k in pairs}
        state = combined_state(prev, runs, current, located, now)
        if state != prev:
            self.states[mon.key] = state
            self.store.buffer_state(mon.key, state)
            if state.confirmed != prev.confirmed:
                log.info("quorum monitor=%s state=%s since=%s down=%s live=%s", mon.key, state.confirmed,
                         state.down_since if state.confirmed == "down" else state.recovered_at,
                         state.locations_down, state.locations_live)
