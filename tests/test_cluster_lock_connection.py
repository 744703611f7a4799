"""The leader lock's dedicated connection on a real PostgreSQL: the lease loop (`listen()`) and the
leader loop (`try_lead()`) start together, and must share one connection. Made twice at once, the one
holding the lock could be replaced and, once collected, free the lock: a second instance led too (the
start-up leadership flips, epochs 1→2→3, behind a duplicate subscriber mail)."""

from __future__ import annotations

import asyncio
import gc

import asyncpg

from statuspage.config import Storage
from statuspage.store import open_coordinator, open_store
from statuspage.store.pg_cluster import LEADER_LOCK


async def test_the_lease_and_leader_loops_starting_together_keep_the_lock_on_their_connection(
        pg_url: str) -> None:
    await (await open_store(Storage(url=pg_url))).close()  # the schema
    db = await asyncpg.connect(pg_url)
    try:
        for n in range(5):  # which of several connections made at once ends up kept varies
            a = await open_coordinator(Storage(url=pg_url), f"a{n}")
            b = await open_coordinator(Storage(url=pg_url), f"b{n}")
            assert a is not None and b is not None
            try:
                _, epoch, _ = await asyncio.gather(a.listen(), a.try_lead(), a.listen())
                assert epoch is not None
                holder = await db.fetchval("SELECT pid FROM pg_locks WHERE locktype = 'advisory' "
                                           "AND objid = $1 AND granted", LEADER_LOCK)
                assert holder == a._conn.get_server_pid(), n  # type: ignore[attr-defined]
                gc.collect()  # a connection dropped by mistake is terminated now, freeing the lock
                assert await b.try_lead() is None and await a.still_leading(timeout=1)
            finally:
                await a.close()
                await b.close()
    finally:
        await db.close()
