"""One instance's membership loops: shard leases (who probes which monitors) and leadership.

The decisions are small pure functions (`shard_of`, `shards_wanted`, `plan`); `ClusterNode` runs them
against a `Coordinator` and calls the runner back when shards or leadership change. A database fault
never stops the loops: they log one line and retry with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import socket
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from statuspage.config import Cluster
from statuspage.store import Coordinator

log = logging.getLogger(__name__)

LEADER_ANSWER_S = 5.0
"""Seconds the leader's lock connection may take to answer before the leader deposes itself."""

ShardsHook = Callable[[set[int]], Awaitable[None]]
EpochHook = Callable[[int], Awaitable[None]]
DeposeHook = Callable[[], Awaitable[None]]


def shard_of(key: str, shards: int) -> int:
    """The shard of a monitor key: stable across instances and restarts."""
    return zlib.crc32(key.encode()) % shards


def shards_wanted(shards: int, alive: int) -> int:
    """How many shards one of `alive` instances should hold (the ceiling: every shard finds an owner)."""
    return math.ceil(shards / max(1, alive))


@dataclass(frozen=True, slots=True)
class Plan:
    """What a renewal changes: shards to start probing, to stop (lost), and to stop then release."""

    gained: frozenset[int]
    lost: frozenset[int]
    release: frozenset[int]


def plan(owned: Iterable[int], held: Iterable[int], want: int, busy: Iterable[int] = ()) -> Plan:
    """Compare what we probe (`owned`) with what the database says we hold (`held`).

    Shards held beyond `want` are released, the highest first (so instances converge on a stable split).
    `busy` shards are being stopped (a hand-over still running): they are left out on both sides, so
    they are neither released twice nor started again before their stop is done (and, leaving soon,
    they don't count towards `want`)."""
    busy_set = set(busy)
    owned_set, held_set = set(owned) - busy_set, set(held) - busy_set
    extra = set(sorted(held_set)[want:]) if len(held_set) > want else set()
    return Plan(
        gained=frozenset(held_set - owned_set - extra),
        lost=frozenset(owned_set - held_set),
        release=frozenset(extra),
    )


def default_instance_name() -> str:
    """host-pid-random: unique among live instances, readable in logs."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


Job = tuple[str, frozenset[int]]  # ("gain" | "lost" | "release", shards)


class ClusterNode:
    """Runs the lease and leadership loops of one instance.

    The lease loop only talks to the database: it never waits on the runner's hand-over callbacks
    (adopting or releasing thousands of monitors takes seconds, longer than a lease lives). Hand-overs
    are queued to one applier task that runs them in order. `owned` holds the shards whose monitors
    were adopted; shards queued to start count as ours, and shards being stopped are left alone by
    the lease rounds until the stop is done; a shard is released in the database only after its
    monitors stopped and flushed."""

    def __init__(
        self,
        coordinator: Coordinator,
        settings: Cluster,
        *,
        on_gained: ShardsHook,
        on_lost: ShardsHook,
        on_lead: EpochHook,
        on_depose: DeposeHook,
    ) -> None:
        self.coordinator = coordinator
        self.settings = settings
        self._on_gained = on_gained
        self._on_lost = on_lost
        self._on_lead = on_lead
        self._on_depose = on_depose
        self.owned: set[int] = set()
        self.epoch: int | None = None
        self.alive = 1
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._adopting: set[int] = set()  # queued or running adopts
        self._stopping_shards: set[int] = set()  # queued or running stops (lost or to release)
        self._jobs: asyncio.Queue[Job | None] = asyncio.Queue()
        self._applier: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        """True while this instance holds leadership."""
        return self.epoch is not None

    def start(self) -> None:
        """Start both loops."""
        self._tasks = [asyncio.create_task(self._lease_loop(), name="cluster-leases"),
                       asyncio.create_task(self._leader_loop(), name="cluster-leader")]
        self._start_applier()

    def _start_applier(self) -> None:
        if self._applier is None and not self._stopping:
            self._applier = asyncio.create_task(self._apply_loop(), name="cluster-handovers")

    @property
    def handing_over(self) -> bool:
        """True while hand-overs are queued or running."""
        return bool(self._adopting or self._stopping_shards)

    async def renew(self) -> None:
        """One lease round: heartbeat, renew, claim, and queue what changed for the applier.

        Returns without waiting for the hand-overs (`settle()` waits for them)."""
        s = self.settings
        with contextlib.suppress(Exception):
            await self.coordinator.listen()  # announcements are a speed-up; never block leases on them
        self.alive = await self.coordinator.heartbeat(s.lease_ttl)
        want = shards_wanted(s.shards, self.alive)
        held = await self.coordinator.claim_shards(s.shards, want, s.lease_ttl)
        self._start_applier()
        step = plan(self.owned | self._adopting, held, want, busy=self._stopping_shards)
        if step.lost:
            log.warning("cluster: shards taken over by another instance shards=%d", len(step.lost))
            self._stopping_shards |= step.lost
            self._adopting -= step.lost
            self._jobs.put_nowait(("lost", step.lost))
        if step.gained:
            self._adopting |= step.gained
            self._jobs.put_nowait(("gain", step.gained))
        if step.release:
            mine = step.release & (self.owned | self._adopting)
            if mine:
                # Stopped and flushed by the applier first, released after: never probed twice.
                self._stopping_shards |= mine
                self._adopting -= mine
                self._jobs.put_nowait(("release", frozenset(mine)))
            if step.release - mine:  # claimed but never started here: free them at once
                await self.coordinator.release_shards(step.release - mine)
                log.info("cluster: released shards=%d to balance instances=%d",
                         len(step.release - mine), self.alive)

    async def _apply_loop(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                if job is None:
                    return
                await self._apply(*job)
            finally:
                self._jobs.task_done()

    async def _apply(self, kind: str, shards: frozenset[int]) -> None:
        """Run one hand-over. Errors are logged, never raised: the next lease round retries."""
        if kind == "gain":
            try:
                await self._on_gained(set(shards))
                self.owned |= shards
            except Exception as exc:
                # Not owned: the next round sees these shards held and not owned, and adopts again.
                log.warning("cluster: adopting shards=%d failed (%s: %s); retrying next round",
                            len(shards), exc.__class__.__name__, _short(exc))
                with contextlib.suppress(Exception):
                    await self._on_lost(set(shards))  # whatever started, stop it
            finally:
                self._adopting -= shards
            return
        try:
            await self._on_lost(set(shards))  # stop probing and flush before anyone else starts
        except Exception as exc:
            log.warning("cluster: stopping shards=%d failed (%s: %s); retrying next round",
                        len(shards), exc.__class__.__name__, _short(exc))
            if kind == "release":
                self._stopping_shards -= shards  # still owned: the next round releases them again
                return
        self.owned -= shards
        self._stopping_shards -= shards
        if kind == "release":
            try:
                await self.coordinator.release_shards(shards)
                log.info("cluster: released shards=%d to balance instances=%d", len(shards), self.alive)
            except Exception as exc:
                # Stopped but still ours in the database: the next round adopts or releases them.
                log.warning("cluster: releasing shards=%d failed (%s: %s)", len(shards),
                            exc.__class__.__name__, _short(exc))

    async def settle(self) -> None:
        """Wait until every queued hand-over ran (tests, shutdown)."""
        if self._applier is not None and not self._applier.done():
            await self._jobs.join()

    async def _lease_loop(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                await self.renew()
                if failures:
                    log.info("cluster: database reachable again; leases renewed")
                failures = 0
                delay = self.settings.renew_every
            except Exception as exc:
                failures += 1
                delay = min(self.settings.renew_every * 2 ** min(failures, 5), self.settings.lease_ttl)
                log.warning("cluster: lease renewal failed (%s: %s); retrying in %.1fs",
                            exc.__class__.__name__,
                            _short(exc), delay)
            await asyncio.sleep(delay)

    async def check_leadership(self) -> None:
        """One leadership round: keep it while the lock connection answers, or try to take it."""
        if self.epoch is not None:
            # A slow answer is not a lost lock (the lock lives as long as the connection): on a busy
            # event loop a 1 s limit deposed healthy leaders and flipped leadership back and forth.
            # Fencing, not this check, keeps a cut-off leader's writes out.
            limit = max(LEADER_ANSWER_S, 2 * self.settings.poll_every)
            if not await self.coordinator.still_leading(timeout=limit):
                await self.depose("lost the leader connection")
            return
        epoch = await self.coordinator.try_lead()
        if epoch is not None:
            self.epoch = epoch
            log.info("cluster: leading epoch=%d instance=%s", epoch, self.coordinator.instance)
            await self._on_lead(epoch)

    async def depose(self, why: str) -> None:
        """Stop acting as the leader now (idempotent)."""
        if self.epoch is None:
            return
        log.warning("cluster: no longer leading epoch=%d: %s", self.epoch, why)
        self.epoch = None
        with contextlib.suppress(Exception):
            await self.coordinator.resign()
        await self._on_depose()

    async def _leader_loop(self) -> None:
        failures = 0
        while not self._stopping:
            started = time.monotonic()
            try:
                await self.check_leadership()
                failures = 0
            except Exception as exc:
                failures += 1
                await self.depose(f"{exc.__class__.__name__}: {_short(exc)}")
                if failures == 1 or failures % 30 == 0:
                    log.warning("cluster: leadership check failed (%s: %s)", exc.__class__.__name__,
                                _short(exc))
            every = self.settings.poll_every
            delay = every if not failures else min(every * 2 ** failures, 5.0)
            await asyncio.sleep(max(0.0, delay - (time.monotonic() - started)))

    async def pause(self) -> None:
        """Stop the loops (shutting down): no more lease or leadership changes; waits for the
        hand-over running now."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self._stop_applier()

    async def _stop_applier(self) -> None:
        """Let the running hand-over finish, drop the queued ones (we are stopping: the prober stops
        every monitor and the store flushes before `close()` releases every lease), end the applier."""
        task, self._applier = self._applier, None
        while not self._jobs.empty():
            self._jobs.get_nowait()
            self._jobs.task_done()
        if task is None or task.done():
            return
        self._jobs.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def close(self) -> None:
        """Stop the loops, resign, and release our shards so others take them at once (the runner has
        stopped probing and flushed before)."""
        await self.pause()
        if self.epoch is not None:
            self.epoch = None
            with contextlib.suppress(Exception):
                await self.coordinator.resign()
        # Every lease we hold, also shards whose hand-over was still queued: nothing probes now.
        with contextlib.suppress(Exception):
            await self.coordinator.release_shards(range(self.settings.shards))
        self.owned = set()
        self._adopting.clear()
        self._stopping_shards.clear()


def _short(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0][:200]
