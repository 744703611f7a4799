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


def plan(owned: Iterable[int], held: Iterable[int], want: int) -> Plan:
    """Compare what we probe (`owned`) with what the database says we hold (`held`).

    Shards held beyond `want` are released, the highest first (so instances converge on a stable split)."""
    owned_set, held_set = set(owned), set(held)
    extra = set(sorted(held_set)[want:]) if len(held_set) > want else set()
    return Plan(
        gained=frozenset(held_set - owned_set - extra),
        lost=frozenset(owned_set - held_set),
        release=frozenset(extra),
    )


def default_instance_name() -> str:
    """host-pid-random: unique among live instances, readable in logs."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


class ClusterNode:
    """Runs the lease and leadership loops of one instance."""

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

    @property
    def is_leader(self) -> bool:
        """True while this instance holds leadership."""
        return self.epoch is not None

    def start(self) -> None:
        """Start both loops."""
        self._tasks = [asyncio.create_task(self._lease_loop(), name="cluster-leases"),
                       asyncio.create_task(self._leader_loop(), name="cluster-leader")]

    async def renew(self) -> None:
        """One lease round: heartbeat, renew, claim, release, and tell the runner what changed."""
        s = self.settings
        with contextlib.suppress(Exception):
            await self.coordinator.listen()  # announcements are a speed-up; never block leases on them
        self.alive = await self.coordinator.heartbeat(s.lease_ttl)
        want = shards_wanted(s.shards, self.alive)
        held = await self.coordinator.claim_shards(s.shards, want, s.lease_ttl)
        step = plan(self.owned, held, want)
        if step.lost:
            log.warning("cluster: shards taken over by another instance shards=%d", len(step.lost))
            self.owned -= step.lost
            await self._on_lost(set(step.lost))
        if step.gained:
            self.owned |= step.gained
            await self._on_gained(set(step.gained))
        if step.release:
            mine = step.release & self.owned
            if mine:
                self.owned -= mine
                await self._on_lost(set(mine))  # stop probing and flush before anyone else starts
            await self.coordinator.release_shards(step.release)
            log.info("cluster: released shards=%d to balance instances=%d", len(step.release), self.alive)

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
            if not await self.coordinator.still_leading(timeout=max(1.0, self.settings.poll_every)):
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
        """Stop the loops (shutting down): no more lease or leadership changes."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def close(self) -> None:
        """Stop the loops, resign, and release our shards so others take them at once (the runner has
        stopped probing and flushed before)."""
        await self.pause()
        if self.epoch is not None:
            self.epoch = None
            with contextlib.suppress(Exception):
                await self.coordinator.resign()
        if self.owned:
            with contextlib.suppress(Exception):
                await self.coordinator.release_shards(self.owned)
            self.owned = set()


def _short(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0][:200]
