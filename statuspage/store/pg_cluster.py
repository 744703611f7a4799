"""The SQL of several instances coordinating through PostgreSQL (the protocol is in statuspage/cluster/).

    cluster_instances   one row per live instance, `seen_at` renewed with every lease renewal
    shard_leases        (location, shard) → owner, expires_at: who probes the monitors of a shard
    cluster_leader      one row: the leadership epoch (fencing token) and who holds it
    advisory lock       LEADER_LOCK, held by the leader on its own dedicated connection

Times of leases are the database's clock (`clock_timestamp()`), so instances with skewed clocks still
agree on who holds what. The dedicated connection also LISTENs on CHANNEL; its TCP keepalives are
short, so the server notices a vanished leader within about 12 s and frees the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Iterable
from typing import Any

import asyncpg

from statuspage.store.postgres import CONNECT_TIMEOUT_S, redact_url, unavailable

log = logging.getLogger(__name__)

LEADER_LOCK = 0x5354_4C44  # "STLD"
CHANNEL = "statuspage"
_NOW = "extract(epoch from clock_timestamp())"

KEEPALIVES = {
    # The server drops the connection of a leader that vanished without closing it (power cut,
    # partition) after about idle + interval × count seconds, which frees the advisory lock.
    "tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3",
    "application_name": "statuspage-cluster",
}


class PgCoordinator:
    """One instance's handle on the coordination tables, with its own connection for the leader lock."""

    def __init__(self, url: str, instance: str, location: str = "") -> None:
        self.url = url
        self.where = redact_url(url)
        self.instance = instance
        self.location = location
        self._pool: asyncpg.Pool | None = None
        self._conn: asyncpg.Connection | None = None
        self._leading = False
        self._listeners: list[Callable[[str], None]] = []
        self._connecting = asyncio.Lock()

    async def open(self) -> None:
        """Connect the small pool used for leases (the leader connection is made on demand)."""
        self._pool = await asyncpg.create_pool(self.url, min_size=0, max_size=2, timeout=CONNECT_TIMEOUT_S,
                                               command_timeout=30)
        async with self._pool.acquire() as conn:  # fail now, with one line, when it cannot connect
            await conn.fetchval("SELECT 1")

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "open() first"
        return self._pool

    # --- membership and shard leases -------------------------------------------------------------

    async def heartbeat(self, ttl: float) -> int:
        """Record this instance as alive; return how many instances of its location are alive (seen
        within `ttl`): they share that location's shards."""
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO cluster_instances (id, host, pid, started_at, seen_at, location) "
                f"VALUES ($1, $2, $3, {_NOW}, {_NOW}, $4) ON CONFLICT (id) DO UPDATE SET seen_at = {_NOW}",
                self.instance, socket.gethostname(), os.getpid(), self.location)
            alive = await conn.fetchval(
                f"SELECT COUNT(*) FROM cluster_instances WHERE seen_at > {_NOW} - $1 AND location = $2",
                float(ttl), self.location)
            # Rows of instances gone for long are only history: keep the table small.
            await conn.execute(f"DELETE FROM cluster_instances WHERE seen_at < {_NOW} - 86400")
        return max(1, int(alive))

    async def claim_shards(self, shards: int, want: int, ttl: float) -> set[int]:
        """Renew this instance's leases, then claim free or expired shards until it holds `want`.

        Returns the shards held now. Never takes a live lease of another instance; a lease whose
        owner stopped renewing is free once it expired (the database's clock decides)."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO shard_leases (location, shard) SELECT $1, g FROM generate_series(0, $2 - 1) g "
                "ON CONFLICT DO NOTHING", self.location, shards)
            rows = await conn.fetch(
                f"UPDATE shard_leases SET expires_at = {_NOW} + $3 WHERE location = $1 AND owner = $2 "
                "RETURNING shard", self.location, self.instance, float(ttl))
            held = {int(r[0]) for r in rows if int(r[0]) < shards}
            if len(held) < want:
                got = await conn.fetch(
                    f"UPDATE shard_leases l SET owner = $2, expires_at = {_NOW} + $3 FROM ("
                    "SELECT location, shard FROM shard_leases WHERE location = $1 AND shard < $4 "
                    f"AND (owner IS NULL OR expires_at < {_NOW}) ORDER BY shard LIMIT $5 "
                    "FOR UPDATE SKIP LOCKED) f WHERE l.location = f.location AND l.shard = f.shard "
                    "RETURNING l.shard",
                    self.location, self.instance, float(ttl), shards, want - len(held))
                held |= {int(r[0]) for r in got}
        return held

    async def release_shards(self, shards: Iterable[int]) -> None:
        """Give shards up (after their monitors stopped and flushed), free for others at once."""
        async with self.pool.acquire() as conn:
            await conn.execute(
                "UPDATE shard_leases SET owner = NULL, expires_at = 0 "
                "WHERE location = $1 AND owner = $2 AND shard = ANY($3::int[])",
                self.location, self.instance, list(shards))

    # --- leadership --------------------------------------------------------------------------------

    async def try_lead(self) -> int | None:
        """Take the leader lock if it is free; return the new leadership epoch, or None."""
        conn = await self._connection()
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK):
            return None
        try:
            # A takeover waits for a deposed leader's fenced write in flight (it holds this row FOR
            # SHARE), and every later fenced write of that leader sees the new epoch and is refused.
            epoch = int(await conn.fetchval(
                f"UPDATE cluster_leader SET epoch = epoch + 1, owner = $1, since = {_NOW} WHERE id = 1 "
                "RETURNING epoch", self.instance))
        except BaseException:
            await self._drop_connection()
            raise
        self._leading = True
        return epoch

    async def still_leading(self, timeout: float) -> bool:
        """True while the leader connection answers (it holds the lock as long as it lives)."""
        if not self._leading or self._conn is None or self._conn.is_closed():
            self._leading = False
            return False
        try:
            await asyncio.wait_for(self._conn.fetchval("SELECT 1"), timeout)
            return True
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await self._drop_connection()
            return False

    async def resign(self) -> None:
        """Stop leading (the lock goes with the connection)."""
        await self._drop_connection()

    # --- announcements (LISTEN/NOTIFY) ----------------------------------------------------------

    def on_announce(self, callback: Callable[[str], None]) -> None:
        """Call `callback(payload)` for every announcement of any instance (while connected)."""
        self._listeners.append(callback)

    async def listen(self) -> None:
        """Make sure the dedicated connection is up and listening (call it periodically)."""
        await self._connection()

    async def announce(self, payload: str) -> None:
        """Tell every instance something changed (`states`, `admin`); lost if nobody listens."""
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)

    # --- the dedicated connection ----------------------------------------------------------------

    async def _connection(self) -> asyncpg.Connection:
        # One at a time: the lease loop (`listen`) and the leader loop (`try_lead`) start together,
        # and a second connection made meanwhile replaced the one `try_lead` took the lock on; that
        # one, collected, freed the lock while this instance still led (two leaders at start-up).
        async with self._connecting:
            if self._conn is not None and not self._conn.is_closed():
                return self._conn
            self._leading = False
            conn = await asyncpg.connect(self.url, timeout=CONNECT_TIMEOUT_S, server_settings=KEEPALIVES)
            await conn.add_listener(CHANNEL, self._notified)
            conn.add_termination_listener(self._terminated)
            self._conn = conn
            return conn

    def _notified(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        for callback in self._listeners:
            try:
                callback(payload)
            except Exception:
                log.exception("announcement listener failed")

    def _terminated(self, conn: Any) -> None:
        if conn is self._conn:
            self._leading = False

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        self._leading = False
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2.0)
            if not conn.is_closed():
                conn.terminate()

    async def close(self) -> None:
        """Give up leadership and leases' connections (leases expire by themselves); idempotent."""
        await self._drop_connection()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pool.close(), 5.0)


async def open_pg_coordinator(url: str, instance: str, location: str = "") -> PgCoordinator:
    """Connect a coordinator; raises StoreUnavailable (one line, no secret) when it cannot."""
    coordinator = PgCoordinator(url, instance, location)
    try:
        await coordinator.open()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise unavailable(exc, redact_url(url)) from None
    return coordinator
