"""The SQLite store on real files: migrations, batched writes, runs, incidents, maintenance, pruning."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from statuspage.models import CheckResult, Incident, IncidentUpdate, Maintenance, MonitorState, RunRow
from statuspage.store.sqlite import MIGRATIONS, SQLiteStore

KEY = "nps/app/web"


async def test_open_migrates_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "db.sqlite"
    store = await SQLiteStore.open(path)
    assert await store.schema_version() == len(MIGRATIONS)
    await store.close()
    await store.close()  # idempotent
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = await SQLiteStore.open(path)  # re-opening an up-to-date file is a no-op
    assert await again.schema_version() == len(MIGRATIONS)
    await again.close()


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    (await SQLiteStore.open(path))
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    with pytest.raises(RuntimeError, match="newer than this program"):
        await SQLiteStore.open(path)


async def test_buffered_checks_are_written_in_one_flush_and_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = await SQLiteStore.open(path)
    await store.register_monitors([KEY])
    state = MonitorState(confirmed="down", down_since=10.0, run_state="down", last_at=20.0)
    runs = [RunRow(1, KEY, "up", 0, 10, False), RunRow(2, KEY, "down", 10, 20, True)]
    store.buffer_check(CheckResult(KEY, 10.0, "down", 12.5, 500, "http_status", "HTTP 500"), state, runs)
    store.buffer_check(CheckResult(KEY, 20.0, "down", 11.0, 500, "http_status", "HTTP 500"), state, runs[1:])
    assert store.pending == 5
    assert await store.flush() == 5
    assert store.pending == 0
    await store.close()

    store = await SQLiteStore.open(path)
    results = await store.results(KEY)
    assert [(r.at, r.outcome, r.status, r.error) for r in results] == [
        (10.0, "down", 500, "http_status"), (20.0, "down", 500, "http_status")]
    assert (await store.load_monitor_states())[KEY] == state
    tails = await store.load_run_tails([KEY])
    assert [(r.id, r.state, r.start, r.end, r.open) for r in tails[KEY]] == [
        (1, "up", 0, 10, False), (2, "down", 10, 20, True)]
    assert await store.last_run_id() == 2
    overlapping = await store.runs([KEY], 15, 100)
    assert [r.id for r in overlapping] == [2]
    await store.close()


async def test_close_flushes_what_is_buffered(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite")
    await store.register_monitors([KEY])
    store.buffer_check(CheckResult(KEY, 1.0, "up", 5.0), MonitorState(), [])
    await store.close()
    store = await SQLiteStore.open(tmp_path / "db.sqlite")
    assert await store.count_results() == 1
    await store.close()


async def test_prune_deletes_only_old_results(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite")
    await store.register_monitors([KEY])
    for t in range(100):
        store.buffer_check(CheckResult(KEY, float(t), "up", 1.0), MonitorState(), [])
    store.buffer_runs([RunRow(1, KEY, "up", 0, 99, True)])
    await store.flush()
    assert await store.prune_results(before=60, chunk=7) == 60
    assert [r.at for r in await store.results(KEY)][:2] == [60.0, 61.0]
    assert len(await store.runs([KEY], 0, 100)) == 1  # runs are never pruned
    await store.close()


async def test_incident_roundtrip_and_first_ack_wins(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite")
    incident = Incident(
        id=0, page="nps", title="Relatórios indisponível", severity="T1", impact="critical",
        status="investigating", started_at=100.0, due_at=100.0 + 4 * 3600, components=("reports",),
        automatic=True, created_at=110.0, updated_at=110.0,
        updates=(IncidentUpdate(0, 0, "investigating", "Detectado automaticamente", 110.0, "statuspage"),),
    )
    created = await store.create_incident(incident)
    assert created.id == 1 and created.updates[0].incident_id == 1
    assert await store.acknowledge_incident(1, "alice", 200.0)
    assert not await store.acknowledge_incident(1, "bob", 300.0)
    got = await store.get_incident(1)
    assert got is not None and (got.acknowledged_by, got.acknowledged_at) == ("alice", 200.0)
    assert [i.id for i in await store.list_incidents(page="nps", open_only=True)] == [1]
    assert await store.list_incidents(page="cxm") == []
    assert await store.get_incident(99) is None
    await store.close()


async def test_maintenance_add_list_cancel(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "db.sqlite")
    m = await store.add_maintenance(Maintenance(0, "nps", "Banco de dados", 1000.0, 2000.0, ("api",), "janela"))
    assert m.id == 1 and m.components == ("api",)
    assert [x.id for x in await store.list_maintenances(page="nps", ending_after=1500)] == [1]
    assert await store.list_maintenances(page="nps", ending_after=2500) == []
    assert await store.cancel_maintenance(1)
    assert not await store.cancel_maintenance(42)
    assert await store.list_maintenances() == []
    assert len(await store.list_maintenances(include_cancelled=True)) == 1
    await store.close()
