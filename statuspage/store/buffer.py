"""The write buffer every backend shares: check results, runs, states, latency hours and outbox rows
wait in memory (no I/O) and are written together by `flush()`, one transaction per batch.

A backend subclasses `BufferedStore` and implements `_write_batch(batch)` in its own SQL. `flush()`
hands it the whole batch; when the write fails, every row of it goes back into the buffer, merged
with what was buffered meanwhile (newer versions of the same run, state or hour win), so a transient
fault (disk full, busy, a database restart) loses nothing. The rows go back whatever the backend's
own cleanup does after the failure (a ROLLBACK that raises in turn, a cancelled flush): `flush()`
puts them back itself, around `_write_batch`. Every row of a batch is written idempotently by the
backends (upserts, and results keyed by monitor and time where a commit can be in doubt), so a batch
written twice after an ambiguous failure is still written once.

The buffer is bounded: while the database cannot be written for long, beyond `MAX_PENDING_RESULTS`
raw results the oldest are dropped (counted in `dropped`, one log line a minute); state runs,
confirmation states, latency hours, heartbeats and the outbox (what uptime, incidents and
notifications are made of) are never dropped, and are bounded by the number of monitors anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from statuspage.models import CheckResult, MonitorState, RunRow
from statuspage.store.base import JsonAble, OutboxRow, PushRow

log = logging.getLogger(__name__)

MAX_PENDING_RESULTS = 1_000_000
"""Raw results kept in memory while the database cannot be written (about 200 MB; at 2,000 monitors
every 30 s that is four hours of results): beyond it the oldest are dropped, with a log line and
`statuspage_store_dropped_rows_total`."""

DROP_LOG_EVERY_S = 60.0


@dataclass
class Batch:
    """Rows waiting for one flush; keyed so that a newer version of a row replaces an older one."""

    results: list[tuple[Any, ...]] = field(default_factory=list)
    runs: dict[int, RunRow] = field(default_factory=dict)
    states: dict[str, MonitorState] = field(default_factory=dict)
    latency: dict[tuple[str, int], JsonAble] = field(default_factory=dict)
    outbox: dict[tuple[str, str], OutboxRow] = field(default_factory=dict)
    outbox_done: set[tuple[str, str]] = field(default_factory=set)
    pushes: dict[str, PushRow] = field(default_factory=dict)

    def __len__(self) -> int:
        return (len(self.results) + len(self.runs) + len(self.states) + len(self.latency) + len(self.outbox)
                + len(self.outbox_done) + len(self.pushes))

    def merge_newer(self, new: Batch) -> None:
        """Add the rows of `new` (buffered after this batch was taken) on top of this one's."""
        self.results.extend(new.results)
        self.runs.update(new.runs)
        self.states.update(new.states)
        self.latency.update(new.latency)
        self.outbox.update(new.outbox)
        self.outbox_done |= new.outbox_done
        for key in new.outbox_done:
            self.outbox.pop(key, None)
        for monitor, push in new.pushes.items():
            old = self.pushes.get(monitor)
            if old is None or push.at >= old.at:
                self.pushes[monitor] = push


class BufferedStore:
    """The buffering half of a `Store`: `buffer_*`, `pending`, `flush()` and the monitor ids.

    Subclasses fill `self._ids` (monitor key → id) in `register_monitors` and implement
    `_write_batch`, which must write the whole batch in one transaction or raise."""

    path: str
    """The database for messages (a file path, or a URL without its password)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._batch = Batch()
        self._closed = False
        self.dropped = 0
        """Raw results dropped, oldest first, because the buffer passed MAX_PENDING_RESULTS."""
        self._dropped_logged = -DROP_LOG_EVERY_S
        self._flushing = asyncio.Lock()

    async def _write_batch(self, batch: Batch) -> None:
        raise NotImplementedError

    # --- buffered writes -------------------------------------------------------------------------

    def buffer_check(self, result: CheckResult, state: MonitorState, runs: Iterable[RunRow] = ()) -> None:
        """Queue a check result with the monitor's new state and changed runs for the next flush."""
        mid = self._ids[result.monitor]
        b = self._batch
        b.results.append((mid, result.at, result.outcome, result.latency_ms, result.status, result.error,
                          result.message, result.cert_expires_at))
        for row in runs:
            b.runs[row.id] = row
        b.states[result.monitor] = state

    def buffer_runs(self, runs: Iterable[RunRow]) -> None:
        """Queue changed state runs (backdating) for the next flush."""
        for row in runs:
            self._batch.runs[row.id] = row

    def buffer_latency(self, monitor: str, hour: int, data: JsonAble) -> None:
        """Queue a monitor-hour latency aggregate to be upserted (as JSON) at the next flush."""
        self._batch.latency[(monitor, hour)] = data

    def buffer_outbox(self, row: OutboxRow) -> None:
        """Queue a notification for the outbox: it survives a crash from the next flush on."""
        self._batch.outbox[(row.delivery_id, row.destination)] = row

    def buffer_outbox_done(self, delivery_id: str, destination: str) -> None:
        """Queue the removal of a delivered (or abandoned) notification."""
        key = (delivery_id, destination)
        if self._batch.outbox.pop(key, None) is None:  # delivered before it was ever written: nothing to do
            self._batch.outbox_done.add(key)

    def buffer_push(self, monitor: str, at: float, status: str, message: str) -> None:
        """Queue a push monitor's heartbeat for the database (shared by every instance); the newest wins."""
        old = self._batch.pushes.get(monitor)
        if old is None or at >= old.at:
            self._batch.pushes[monitor] = PushRow(monitor, at, status, message)

    @property
    def pending(self) -> int:
        """How many buffered rows wait for the next flush."""
        return len(self._batch)

    async def flush(self) -> int:
        """Write everything buffered in one transaction; return how many rows were written.

        On failure every row goes back into the buffer for the next flush (beyond MAX_PENDING_RESULTS
        raw results, the oldest are dropped) and the error is raised."""
        if self._closed or not len(self._batch):
            return 0
        # One flush at a time: a second one waits and then takes the first one's rows too if it
        # failed, so an older version of a run or state is never written after a newer one.
        async with self._flushing:
            if self._closed or not len(self._batch):
                return 0
            batch, self._batch = self._batch, Batch()
            size = len(batch)
            try:
                await self._write_batch(batch)
            except BaseException:
                # Put the rows back so a transient error (disk full, busy, a lost connection) loses
                # nothing.
                batch.merge_newer(self._batch)
                self._bound(batch)
                self._batch = batch
                raise
        return size

    def _bound(self, batch: Batch) -> None:
        """Beyond MAX_PENDING_RESULTS buffered raw results (the database unwritable for long), drop the
        oldest raw results; nothing else is ever dropped."""
        extra = len(batch.results) - MAX_PENDING_RESULTS
        if extra <= 0:
            return
        del batch.results[:extra]
        self.dropped += extra
        now = time.monotonic()
        if now - self._dropped_logged >= DROP_LOG_EVERY_S:
            self._dropped_logged = now
            log.error("store buffer full: dropped the %d oldest raw results (%d so far; state runs and "
                      "uptime are kept) database=%s", extra, self.dropped, self.path)
