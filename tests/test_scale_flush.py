"""The SQLite flush is one call into the connection's thread (issue 17): a flush cancelled while
that call runs still writes its rows exactly once, and the cancellation still reaches the caller."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from statuspage.models import CheckResult, MonitorState, RunRow
from statuspage.store.sqlite import SQLiteStore

KEY = "nps/api/health"


@pytest.mark.parametrize("steps", [0, 1, 2], ids=["before-start", "started", "in-thread"])
async def test_a_cancelled_flush_writes_its_rows_once(tmp_path: Path, steps: int) -> None:
    store = await SQLiteStore.open(tmp_path / "statuspage.db")
    try:
        await store.register_monitors([KEY])
        for i in range(3):
            store.buffer_check(CheckResult(KEY, 10.0 * i, "up", 1.0, 200, None, "HTTP 200"),
                               MonitorState(last_at=10.0 * i), [RunRow(1, KEY, "up", 0.0, 10.0 * i, True)])
        flush = asyncio.create_task(store.flush())
        for _ in range(steps):
            await asyncio.sleep(0)
        flush.cancel()
        with pytest.raises(asyncio.CancelledError):
            await flush
        await store.flush()  # whatever the cancelled one put back
        assert [r.at for r in await store.results(KEY)] == [0.0, 10.0, 20.0]
        assert (await store.load_monitor_states())[KEY].last_at == 20.0
        assert store.pending == 0
    finally:
        await store.close()


async def test_a_failed_flush_rolls_back_and_keeps_every_row(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "statuspage.db")
    try:
        await store.register_monitors([KEY])
        store.buffer_check(CheckResult(KEY, 10.0, "up", 1.0, 200, None, "HTTP 200"), MonitorState())
        store.buffer_runs([RunRow(1, "not/a/monitor", "up", 0.0, 10.0, True)])  # no id: the batch fails
        with pytest.raises(KeyError):
            await store.flush()
        assert await store.results(KEY) == [] and store.pending == 3
        await store.register_monitors(["not/a/monitor"])  # what was missing: the next flush writes it all
        assert await store.flush() == 3
        assert [r.at for r in await store.results(KEY)] == [10.0]
    finally:
        await store.close()
