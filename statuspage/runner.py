"""`statuspage run`: wire the store, checker, prober and housekeeping together, and shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable

from statuspage.checks import Checker, PushBoard
from statuspage.config import Config
from statuspage.scheduler import CheckEvent, Prober
from statuspage.store import Store

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 0.5
"""How often buffered results are committed: the most a crash can lose is this much probing."""


class Runtime:
    """Everything one `statuspage run` process owns, created once and closed once."""

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.push_board = PushBoard(clock)
        self.store: Store | None = None
        self.checker: Checker | None = None
        self.prober: Prober | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.started_at = clock()
        self.serve = True
        self.check_hooks: list[Callable[[CheckEvent], None]] = []
        self.transition_hooks: list[Callable[[str, CheckEvent], Awaitable[None]]] = []

    async def start(self) -> None:
        """Open the store and the HTTP session, resume monitor state and start probing."""
        cfg = self.config
        self.store = await Store.open(cfg.storage.path)
        self.checker = Checker(scheduler=cfg.scheduler, push_board=self.push_board, clock=self.clock)
        await self.checker.start()
        self.prober = Prober(cfg, self.store, self.checker, clock=self.clock,
                             on_check=self._on_check, on_transition=self._on_transition)
        await self.prober.load()
        self.prober.start()
        self.prober.add_job(self.prune, cfg.storage.prune_every, "prune")
        self._tasks.append(asyncio.create_task(self._flush_loop(), name="flush"))

    def _on_check(self, event: CheckEvent) -> None:
        for hook in self.check_hooks:
            hook(event)

    async def _on_transition(self, component: str, event: CheckEvent) -> None:
        # Commit the transition before incidents act on it: an incident never refers to an
        # outage the database does not have.
        assert self.store is not None
        await self.store.flush()
        for hook in self.transition_hooks:
            await hook(component, event)

    async def _flush_loop(self) -> None:
        assert self.store is not None
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            try:
                await self.store.flush()
            except Exception:
                # Rows stay buffered and go out with the next flush.
                log.exception("flush failed; will retry")

    async def prune(self) -> None:
        """Delete raw results older than the retention; state runs and hourly figures stay."""
        assert self.store is not None
        before = self.clock() - self.config.storage.raw_retention
        deleted = await self.store.prune_results(before)
        if deleted:
            log.info("pruned results=%d", deleted)

    async def close(self) -> None:
        """Stop scheduling, let running checks end, flush, close the session and the database."""
        if self.prober is not None:
            await self.prober.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.checker is not None:
            await self.checker.close()
        if self.store is not None:
            await self.store.close()
        log.info("stopped")


async def run_until_stopped(runtime: Runtime, stop: asyncio.Event | None = None) -> None:
    """Start `runtime`, run until SIGINT/SIGTERM (or `stop` is set), then close it."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.start()
        await stop.wait()
        log.info("stopping")
    finally:
        await runtime.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
