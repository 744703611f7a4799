"""Render the site in a child process, so the probes' event loop never waits for it.

Building the snapshot (uptime sweeps over every component's runs) and the pages is pure-Python CPU:
about a second per thousand components. In a thread of the probing process it still holds the GIL,
and each time the event loop gives the GIL up for I/O it waits up to a switch interval to get it
back, so a 20,000-component render delayed checks by seconds. In a process of its own it runs on
another core and the prober does not notice it.

The worker reads the database through a read-only connection (WAL: it sees the last commit and
never blocks the writer), writes the site files, fills the snapshot metrics in a registry of its own
and hands back their exposition text. The parent flushes before asking, so a render sees every
check recorded so far. A worker that dies is replaced at the next render.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import jinja2

from statuspage.config import Config
from statuspage.metrics import SnapshotMetrics
from statuspage.site import environment, render_snapshot
from statuspage.snapshot import take_snapshot
from statuspage.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerRender:
    """What one render in the worker did, and the snapshot metrics it computed."""

    written: int
    unchanged: int
    removed: int
    seconds: float
    metrics: bytes
    """Prometheus exposition text of the snapshot series (statuses, uptime, budgets, incidents)."""


class RenderWorker:
    """A single child process that renders on request; `render()` is awaited, never blocks the loop."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the parent has threads (aiosqlite, the default executor) and a running
            # event loop, neither of which survives a fork safely.
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init, initargs=(self.config, logging.getLogger().level),
            )
        return self._pool

    async def render(self, now: float) -> WorkerRender:
        """Render the site as of `now` in the worker process."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(), _render, now)
        except BrokenProcessPool:
            log.error("render worker died; starting a new one for the next render")
            self._drop()
            raise

    def _drop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def close(self) -> None:
        """Stop the worker (after the render in progress, if any)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)


# --- in the worker process ---------------------------------------------------------------------------


@dataclass(slots=True)
class _State:
    config: Config
    loop: asyncio.AbstractEventLoop
    env: jinja2.Environment
    metrics: SnapshotMetrics


_state: _State | None = None


def _init(config: Config, log_level: int) -> None:
    global _state
    # Ctrl-C reaches the whole process group; the parent decides when the worker stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s [render] %(message)s")
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), name="parent-watch", daemon=True).start()
    _state = _State(config, asyncio.new_event_loop(), environment(), SnapshotMetrics())


def _exit_with(sentinel: int) -> None:
    # A parent killed with SIGKILL cannot stop its pool: without this the worker would wait for work
    # forever, an orphan holding the parent's stdout open.
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def _render(now: float) -> WorkerRender:
    assert _state is not None, "the worker was not initialised"
    return _state.loop.run_until_complete(_render_async(_state, now))


async def _render_async(state: _State, now: float) -> WorkerRender:
    started = time.perf_counter()
    config = state.config
    # A connection per render: nothing (no aiosqlite thread) outlives it, so the worker can always exit.
    store = await Store.open_readonly(config.storage.path)
    try:
        snapshot = await take_snapshot(config, store, now)
    finally:
        await store.close()
    result = render_snapshot(config, snapshot, Path(config.site.output_dir), state.env)
    state.metrics.update_from_snapshot(snapshot)
    return WorkerRender(result.written, result.unchanged, result.removed, time.perf_counter() - started,
                        state.metrics.render())
