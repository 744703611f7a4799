"""Render the site in a child process, so the probes' event loop never waits for it.

Building the snapshot (uptime sweeps over every component's runs) and the pages is pure-Python CPU:
about a second per thousand components. In a thread of the probing process it still holds the GIL,
and each time the event loop gives the GIL up for I/O it waits up to a switch interval to get it
back, so a 20,000-component render delayed checks by seconds. In a process of its own it runs on
another core and the prober does not notice it.

The worker is `statuspage.site.worker.run()` in a new interpreter, talking over its stdin/stdout:
length-prefixed pickles between two processes of the same program (the config first, its monitors cut
down to what a render reads, then one request per render).
It reads the database through a read-only connection (WAL: it sees the last commit and never blocks
the writer), writes the site files, fills the snapshot metrics and hands back their exposition text.
The parent flushes before asking, so a render sees every check recorded so far. When the parent dies,
even by SIGKILL, the worker reads end-of-file and exits; a worker that dies is replaced at the next
render.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import pickle
import signal
import struct
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import jinja2

from statuspage.config import Config
from statuspage.site.metrics import SnapshotMetrics
from statuspage.site.render import environment, render_snapshot
from statuspage.site.runtime import render_config
from statuspage.site.snapshot import LatencyCache, RunCache, take_snapshot
from statuspage.store import StoreUnavailable, open_store

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")


def _frame(message: Any) -> bytes:
    """One message on the pipe, either way: its pickle's length, then the pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


@dataclass(frozen=True, slots=True)
class WorkerRender:
    """What one render in the worker did, and the snapshot metrics it computed."""

    written: int
    unchanged: int
    removed: int
    seconds: float
    metrics: bytes
    """Prometheus exposition text of the snapshot series (statuses, uptime, budgets, incidents)."""


UNAVAILABLE = "database unavailable: "
"""How a render that could not reach the database starts its error (no traceback to show)."""


class RenderError(RuntimeError):
    """A render failed in the worker (the message carries its traceback), or the worker died."""


class RenderWorker:
    """One child process that renders on request; `render()` is awaited and never blocks the loop."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        """The worker's process id while one runs."""
        return self._proc.pid if self._proc is not None and self._proc.returncode is None else None

    async def _started(self) -> asyncio.subprocess.Process:
        if self._proc is None or self._proc.returncode is not None:
            # stderr is inherited: the worker's log lines go where the parent's go.
            self._proc = await asyncio.create_subprocess_exec(
                # -c, not -m: as __main__ the classes it pickles would not be found by this process.
                sys.executable, "-c", "from statuspage.site.worker import run; run()",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            )
            # Monitors as the few fields a render reads (site/runtime.py), built for this message only:
            # at 50,000 monitors the worker holds ~10 MB of them instead of ~45 MB of pydantic models.
            self._send((render_config(self.config), logging.getLogger().level))
        return self._proc

    def _send(self, message: Any) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(_frame(message))

    async def render(self, now: float) -> WorkerRender:
        """Render the site as of `now` in the worker process."""
        async with self._lock:
            proc = await self._started()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                self._send(now)
                await proc.stdin.drain()
                (size,) = _HEADER.unpack(await proc.stdout.readexactly(_HEADER.size))
                ok, reply = pickle.loads(await proc.stdout.readexactly(size))
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                await self._kill()
                raise RenderError(f"render worker died ({exc.__class__.__name__}); the next render "
                                  "starts a new one") from None
            except BaseException:
                # Cancelled mid-exchange: the pipe's framing is unknown now, so the worker goes.
                await self._kill()
                raise
        if not ok:
            raise RenderError(str(reply))
        assert isinstance(reply, WorkerRender)
        return reply

    async def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    async def close(self, timeout: float = 5.0) -> None:
        """Stop the worker: it exits at once when idle; a render still running after `timeout` seconds
        is killed, which is safe because every file is replaced atomically."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


# --- in the worker process ---------------------------------------------------------------------------


def _read(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def _write(stream: IO[bytes], message: Any) -> None:
    stream.write(_frame(message))
    stream.flush()


async def _render(
    config: Config, env: jinja2.Environment, metrics: SnapshotMetrics, now: float,
    latency: LatencyCache | None = None, runs: RunCache | None = None,
) -> WorkerRender:
    started = time.perf_counter()
    # A connection per render: nothing (no aiosqlite thread) outlives it between renders.
    store = await open_store(config.storage, readonly=True)
    try:
        async with store.read_transaction():
            snapshot = await take_snapshot(config, store, now, latency, runs)
    finally:
        await store.close()
    result = render_snapshot(config, snapshot, Path(config.site.output_dir), env)
    metrics.update_from_snapshot(snapshot)
    return WorkerRender(result.written, result.unchanged, result.removed, time.perf_counter() - started,
                        metrics.render())


def main() -> None:
    """Serve render requests from stdin until it closes."""
    # Ctrl-C reaches the whole process group; the parent decides when the worker stops (by closing
    # the pipe), so a render in progress is never cut short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests = sys.stdin.buffer
    # The protocol owns the real stdout; anything printed by accident goes to stderr instead.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        config, level = _read(requests)
    except EOFError:
        return
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s [render] %(message)s")
    # The config lives as long as the worker: out of the collector's way (at 50,000 monitors every
    # full collection during a render would walk it again).
    gc.collect()
    gc.freeze()
    # Incremental: settled response-time hours and days, and the runs of monitors not checked since
    # the last render, are kept between renders (site/snapshot.py); the windows are recomputed each time.
    env, metrics, latency, runs = environment(), SnapshotMetrics(), LatencyCache(), RunCache()
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                now = _read(requests)
            except EOFError:
                return  # the parent closed the pipe, or died
            try:
                done = loop.run_until_complete(_render(config, env, metrics, now, latency, runs))
                reply: tuple[bool, Any] = (True, done)
            except StoreUnavailable as exc:
                # The database is away (a restart): one line, the parent retries at the next render.
                reply = (False, f"{UNAVAILABLE}{exc}")
            except Exception:
                # The parent logs the failure once; the traceback travels in the reply.
                log.debug("render failed", exc_info=True)
                reply = (False, traceback.format_exc(limit=5))
            _write(replies, reply)
    finally:
        loop.close()


def run() -> None:
    """The worker process's entry point."""
    with contextlib.suppress(BrokenPipeError):
        main()
