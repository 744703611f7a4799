"""The store on both backends (a SQLite file, a fresh PostgreSQL database): migrations, batched writes,
runs, incidents (with their automatic texts), maintenance, pruning, the outbox and shared heartbeats;
support cases are in test_support_store.py."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from statuspage.models import (
    AutoText,
    CheckResult,
    Incident,
    IncidentUpdate,
    Maintenance,
    MonitorState,
    RunRow,
)
from statuspage.store import OutboxRow
from statuspage.store import postgres as pg_schema
from statuspage.store.sqlite import MIGRATIONS, SQLiteStore
from tests.pg import Backend

KEY = "nps/app/web"


def test_both_backends_keep_schema_versions_in_lockstep() -> None:
    assert len(pg_schema.MIGRATIONS) == len(MIGRATIONS)


async def test_open_migrates_and_reopens(backend: Backend) -> None:
    store = await backend.open()
    assert await store.schema_version() == len(MIGRATIONS)
    await store.close()
    await store.close()  # idempotent
    again = await backend.open()  # re-opening an up-to-date database is a no-op
    assert await again.schema_version() == len(MIGRATIONS)
    assert await again.integrity_check() == "ok"
    await again.close()


async def test_sqlite_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "db.sqlite"
    await (await SQLiteStore.open(path)).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_newer_schema_is_refused(backend: Backend) -> None:
    await (await backend.open()).close()
    newer = len(MIGRATIONS) + 5
    if backend.name == "sqlite":
        await backend.execute(f"PRAGMA user_version = {newer}")
    else:
        await backend.execute(f"UPDATE schema_version SET version = {newer}")
    with pytest.raises(RuntimeError, match="newer than this program"):
        await backend.open()


async def test_buffered_checks_are_written_in_one_flush_and_survive_reopen(backend: Backend) -> None:
    store = await backend.open()
    await store.register_monitors([KEY])
    base = await store.last_run_id()
    state = MonitorState(confirmed="down", down_since=10.0, run_state="down", last_at=20.0)
    runs = [RunRow(base + 1, KEY, "up", 0, 10, False), RunRow(base + 2, KEY, "down", 10, 20, True)]
    store.buffer_check(CheckResult(KEY, 10.0, "down", 12.5, 500, "http_status", "HTTP 500"), state, runs)
    store.buffer_check(CheckResult(KEY, 20.0, "down", 11.0, 500, "http_status", "HTTP 500"), state, runs[1:])
    assert store.pending == 5
    assert await store.flush() == 5
    assert store.pending == 0
    await store.close()

    store = await backend.open()
    results = await store.results(KEY)
    assert [(r.at, r.outcome, r.status, r.error) for r in results] == [
        (10.0, "down", 500, "http_status"), (20.0, "down", 500, "http_status")]
    assert (await store.load_monitor_states())[KEY] == state
    tails = await store.load_run_tails([KEY])
    assert [(r.id, r.state, r.start, r.end, r.open) for r in tails[KEY]] == [
        (base + 1, "up", 0, 10, False), (base + 2, "down", 10, 20, True)]
    assert await store.last_run_id() >= base + 2  # ids above it are free
    overlapping = await store.runs([KEY], 15, 100)
    assert [r.id for r in overlapping] == [base + 2]
    await store.close()


async def test_run_id_bases_never_overlap_between_processes(backend: Backend) -> None:
    first, second = await backend.open(), await backend.open()
    a, b = await first.last_run_id(), await second.last_run_id()
    if backend.name == "postgres":  # two instances hand out ids in memory at once
        assert abs(a - b) >= 2**32
    await first.close()
    await second.close()


async def test_a_repeated_batch_is_written_once(backend: Backend) -> None:
    store = await backend.open()
    await store.register_monitors([KEY])
    store.buffer_check(CheckResult(KEY, 1.0, "up", 5.0), MonitorState(last_at=1.0), [])
    store.buffer_outbox(OutboxRow("d1", "webhook:x", "incident.created", "{}", 1.0))
    assert await store.flush() == 3
    # The same rows again (a batch whose commit was in doubt is written again): still once each.
    store.buffer_check(CheckResult(KEY, 1.0, "up", 5.0), MonitorState(last_at=1.0), [])
    store.buffer_outbox(OutboxRow("d1", "webhook:x", "incident.created", "{}", 1.0))
    await store.flush()
    # A SQLite commit is never in doubt (the file is local); a PostgreSQL one can be lost with the
    # connection, so there a result is keyed by (monitor, time).
    assert await store.count_results() == (1 if backend.name == "postgres" else 2)
    assert len(await store.outbox()) == 1
    await store.close()


async def test_close_flushes_what_is_buffered(backend: Backend) -> None:
    store = await backend.open()
    await store.register_monitors([KEY])
    store.buffer_check(CheckResult(KEY, 1.0, "up", 5.0), MonitorState(), [])
    await store.close()
    store = await backend.open()
    assert await store.count_results() == 1
    await store.close()


async def test_prune_deletes_only_old_results(backend: Backend) -> None:
    store = await backend.open()
    await store.register_monitors([KEY])
    for t in range(100):
        store.buffer_check(CheckResult(KEY, float(t), "up", 1.0), MonitorState(), [])
    store.buffer_runs([RunRow(1, KEY, "up", 0, 99, True)])
    await store.flush()
    assert await store.prune_results(before=60, chunk=7) == 60
    assert [r.at for r in await store.results(KEY)][:2] == [60.0, 61.0]
    assert len(await store.runs([KEY], 0, 100)) == 1  # runs are never pruned
    await store.close()


async def test_incident_roundtrip_and_first_ack_wins(backend: Backend) -> None:
    store = await backend.open()
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
    await store.mark_reminded(1, 250.0)
    assert await store.reminded_at(1) == 250.0
    await store.close()


async def test_automatic_texts_are_kept_beside_the_worded_ones(backend: Backend) -> None:
    # Schema version 4: the phrase key and values that let every locale word an automatic text again.
    store = await backend.open()
    try:
        title = AutoText("title", (("component", "reports"), ("name", "Relatórios")))
        opened = AutoText("opened", (("component", "reports"), ("name", "Relatórios"), ("start", 100.0)))
        created = await store.create_incident(Incident(
            id=0, page="nps", title="Relatórios indisponível", severity="T1", impact="critical",
            status="investigating", started_at=100.0, due_at=200.0, components=("reports",), automatic=True,
            created_at=110.0, updated_at=110.0, title_auto=title,
            updates=(IncidentUpdate(0, 0, "investigating", "Detectamos…", 110.0, "statuspage", (), opened),),
        ))
        assert created.title_auto == title and created.updates[0].auto == opened
        by_hand = IncidentUpdate(0, created.id, "identified", "Causa encontrada", 120.0, "alice")
        saved = await store.save_incident(created, [by_hand])
        assert saved.title_auto == title and [u.auto for u in saved.updates] == [opened, None]
        await backend.execute("UPDATE incident_updates SET auto = 'not json' WHERE auto IS NOT NULL")
        got = await store.get_incident(created.id)
        assert got is not None and [u.auto for u in got.updates] == [None, None]  # the worded text stays
        assert got.updates[0].message == "Detectamos…"
    finally:
        await store.close()


async def test_maintenance_add_list_cancel(backend: Backend) -> None:
    store = await backend.open()
    m = await store.add_maintenance(Maintenance(0, "nps", "Banco de dados", 1000.0, 2000.0, ("api",), "janela"))
    assert m.id == 1 and m.components == ("api",)
    assert [x.id for x in await store.list_maintenances(page="nps", ending_after=1500)] == [1]
    assert await store.list_maintenances(page="nps", ending_after=2500) == []
    assert await store.cancel_maintenance(1)
    assert not await store.cancel_maintenance(42)
    assert await store.list_maintenances() == []
    assert len(await store.list_maintenances(include_cancelled=True)) == 1
    await store.close()


async def test_outbox_claims_are_per_leadership_epoch(backend: Backend) -> None:
    store = await backend.open()
    for n in range(3):
        store.buffer_outbox(OutboxRow(f"d{n}", "webhook:x", "incident.created", "{}", float(n)))
    await store.flush()
    first = await store.claim_outbox("a", epoch=1, limit=2)
    assert [r.delivery_id for r in first] == ["d0", "d1"]
    assert [r.delivery_id for r in await store.claim_outbox("a", epoch=1)] == ["d2"]
    assert await store.claim_outbox("a", epoch=1) == []  # nothing is claimed twice by one leader
    # A new leader takes over whatever the old one had claimed and not delivered.
    store.buffer_outbox_done("d0", "webhook:x")
    await store.flush()
    assert [r.delivery_id for r in await store.claim_outbox("b", epoch=2)] == ["d1", "d2"]
    await store.close()


async def test_push_heartbeats_are_shared_and_the_newest_wins(backend: Backend) -> None:
    store = await backend.open()
    await store.register_monitors(["cxm/mail/push"])
    store.buffer_push("cxm/mail/push", 20.0, "up", "ok")
    await store.flush()
    store.buffer_push("cxm/mail/push", 10.0, "down", "late and older")
    await store.flush()
    other = await backend.open()  # another instance
    [push] = await other.pushes()
    assert (push.monitor, push.at, push.status, push.message) == ("cxm/mail/push", 20.0, "up", "ok")
    await other.close()
    await store.close()


async def test_readonly_store_reads_what_the_writer_committed(backend: Backend) -> None:
    writer = await backend.open()
    await writer.register_monitors([KEY])
    writer.buffer_check(CheckResult(KEY, 5.0, "up", 1.0), MonitorState(last_at=5.0), [])
    await writer.flush()
    reader = await backend.open_readonly()
    async with reader.read_transaction():
        assert [r.at for r in await reader.results(KEY)] == [5.0]
        assert (await reader.load_monitor_states())[KEY].last_at == 5.0
    await reader.close()
    await writer.close()


async def test_connections_dropped_by_the_server_cost_no_row(pg_url: str) -> None:
    import asyncpg

    from statuspage.config import Storage
    from statuspage.store import open_store

    store = await open_store(Storage(url=pg_url))
    await store.register_monitors([KEY])
    store.buffer_check(CheckResult(KEY, 1.0, "up", 5.0), MonitorState(last_at=1.0), [])
    store.buffer_outbox(OutboxRow("d1", "webhook:x", "incident.created", "{}", 1.0))
    # The server drops every connection of the store (a restart, a failover, a network cut).
    admin = await asyncpg.connect(pg_url)
    await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    await admin.close()
    await asyncio.sleep(0.1)
    store.buffer_check(CheckResult(KEY, 2.0, "up", 5.0), MonitorState(last_at=2.0), [])
    assert await store.flush() == 4  # on a new connection, once each
    assert [r.at for r in await store.results(KEY)] == [1.0, 2.0]
    assert (await store.load_monitor_states())[KEY].last_at == 2.0
    assert len(await store.outbox()) == 1
    await store.close()


async def test_states_are_followed_by_what_changed_even_when_commits_come_out_of_order(pg_url: str) -> None:
    from statuspage.config import Storage
    from statuspage.store import open_store

    writer, other, leader = [await open_store(Storage(url=pg_url)) for _ in range(3)]
    keys = ["nps/app/a", "nps/app/b"]
    for s in (writer, other):
        await s.register_monitors(keys)
    writer.buffer_check(CheckResult(keys[0], 1.0, "up"), MonitorState(last_at=1.0), [])
    await writer.flush()
    states, cursor = await leader.monitor_states_since(0)
    assert set(states) == {keys[0]}
    # A write that started first but commits last is still seen by the next read.
    import asyncpg

    slow = await asyncpg.connect(pg_url)
    tx = slow.transaction()
    await tx.start()
    await slow.execute(
        "INSERT INTO monitor_state (monitor_id, data, at, xid) SELECT id, $1, 5.0, "
        "pg_current_xact_id()::text::bigint FROM monitors WHERE key = $2", '{"last_at": 5.0}', keys[1])
    other.buffer_check(CheckResult(keys[0], 2.0, "down"), MonitorState(last_at=2.0), [])
    await other.flush()
    states, cursor = await leader.monitor_states_since(cursor)
    assert set(states) == {keys[0]} and states[keys[0]].last_at == 2.0
    await tx.commit()
    await slow.close()
    states, cursor = await leader.monitor_states_since(cursor)
    assert keys[1] in states and states[keys[1]].last_at == 5.0
    for s in (writer, other, leader):
        await s.close()


async def test_an_incident_and_the_notifications_it_caused_commit_together(pg_url: str) -> None:
    # What the leader of several instances relies on: killed between the two, it leaves neither.
    from statuspage.config import Storage
    from statuspage.store import open_store

    store = await open_store(Storage(url=pg_url))
    await store.register_monitors([KEY])
    incident = Incident(0, "nps", "x", "T1", "critical", "investigating", 1.0, 2.0, ("app",), automatic=True)
    try:
        store.buffer_check(CheckResult(KEY, 1.0, "up"), MonitorState(last_at=1.0), [])
        with pytest.raises(RuntimeError):
            async with store.atomic():
                created = await store.create_incident(incident)
                assert (await store.get_incident(created.id)) == created  # read in the same transaction
                store.buffer_outbox(OutboxRow("d1", "webhook:x", "incident.created", "{}", 1.0))
                assert await store.flush() == 0  # the probing rows wait outside: never lost with it
                raise RuntimeError("the leader dies here")
        assert await store.list_incidents() == [] and await store.outbox() == []
        async with store.atomic():
            created = await store.create_incident(incident)
            store.buffer_outbox(OutboxRow("d2", "webhook:x", "incident.created", "{}", 1.0))
        assert [i.id for i in await store.list_incidents()] == [created.id]
        assert [r.delivery_id for r in await store.outbox()] == ["d2"]
        assert await store.flush() == 2 and [r.at for r in await store.results(KEY)] == [1.0]
    finally:
        await store.close()
