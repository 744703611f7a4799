"""A write cancelled while its BEGIN still waits in the SQLite connection's thread leaves no transaction
open behind it (a newcomer's `run` with a failing subscriber mailer logged "cannot start a transaction
within a transaction" for every later flush, and hung at Ctrl-C)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from statuspage.config import Storage
from statuspage.store import open_store
from statuspage.store.sqlite import SQLiteStore


async def _busy_thread(store: SQLiteStore, seconds: float) -> asyncio.Future[None]:
    """Keep the connection's one thread busy, so the next statements queue behind it."""
    conn = store._conn
    return asyncio.ensure_future(conn._execute(time.sleep, seconds))  # type: ignore[no-untyped-call]


async def test_a_write_cancelled_before_its_begin_ran_leaves_no_transaction_open(tmp_path: Path) -> None:
    store = await open_store(Storage(path=str(tmp_path / "s.db")))
    assert isinstance(store, SQLiteStore)
    try:
        busy = await _busy_thread(store, 0.3)
        write = asyncio.create_task(store._write([("INSERT INTO monitors (key) VALUES ('a')", ())]))
        await asyncio.sleep(0.05)  # the write holds the lock, its BEGIN queued behind the busy thread
        write.cancel()
        await asyncio.gather(write, return_exceptions=True)
        await busy
        await store._write([("INSERT INTO monitors (key) VALUES ('b')", ())])  # raised before the fix
        assert [r[0] for r in await store._fetchall("SELECT key FROM monitors ORDER BY key")] == ["b"]
        assert not store._conn.in_transaction
    finally:
        await store.close()


async def test_a_read_transaction_cancelled_before_its_begin_ran_leaves_none_open(tmp_path: Path) -> None:
    store = await open_store(Storage(path=str(tmp_path / "s.db")))
    assert isinstance(store, SQLiteStore)
    try:
        busy = await _busy_thread(store, 0.3)

        async def read() -> None:
            async with store.read_transaction():
                await store._fetchall("SELECT 1")

        task = asyncio.create_task(read())
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await busy
        await store._write([("INSERT INTO monitors (key) VALUES ('c')", ())])
        assert not store._conn.in_transaction
    finally:
        await store.close()
