"""SQLite storage (aiosqlite, WAL): the embedded backend of the `Store` interface.

One connection serves the process; check results are buffered and written in batches, one
transaction per batch, so thousands of monitors cost a few commits a second. Incidents and
maintenance are written at once. Other processes (the CLI) may use the same file: WAL plus
`busy_timeout` lets them take turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from statuspage.models import (
    CaseEvent,
    CaseRow,
    CheckResult,
    ComponentChange,
    Incident,
    IncidentUpdate,
    Maintenance,
    MonitorState,
    RunRow,
    SupportTotals,
)
from statuspage.store import subscriptions_sql, support_sql
from statuspage.store.base import MailJob, Notice, OutboxRow, PushRow, Subscriber, log_schema
from statuspage.store.buffer import Batch, BufferedStore
from statuspage.store.rows import (
    auto_json,
    case_from_row,
    case_params,
    event_params,
    locations_json,
    maintenance_from_row,
    maintenance_params,
    parse_auto,
    parse_locations,
)

log = logging.getLogger(__name__)

_BATCH = 500
"""Monitors per query of the batched reads (well under SQLite's limit of bound parameters)."""

# Each entry upgrades the schema by one version (PRAGMA user_version); never edit a shipped one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE monitors (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
    CREATE TABLE results (
        monitor_id INTEGER NOT NULL, at REAL NOT NULL, outcome TEXT NOT NULL,
        latency_ms REAL, status INTEGER, error TEXT, message TEXT NOT NULL DEFAULT '',
        cert_expires_at REAL
    );
    CREATE INDEX results_monitor_at ON results (monitor_id, at);
    CREATE INDEX results_at ON results (at);
    CREATE TABLE state_runs (
        id INTEGER PRIMARY KEY, monitor_id INTEGER NOT NULL, state TEXT NOT NULL,
        start_at REAL NOT NULL, end_at REAL NOT NULL, open INTEGER NOT NULL
    );
    CREATE INDEX state_runs_monitor_end ON state_runs (monitor_id, end_at);
    CREATE TABLE monitor_state (monitor_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE latency_hourly (
        monitor_id INTEGER NOT NULL, hour INTEGER NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (monitor_id, hour)
    ) WITHOUT ROWID;
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY, page TEXT NOT NULL, title TEXT NOT NULL, severity TEXT NOT NULL,
        impact TEXT NOT NULL, status TEXT NOT NULL, components TEXT NOT NULL, automatic INTEGER NOT NULL,
        started_at REAL NOT NULL, due_at REAL NOT NULL, monitoring_at REAL, resolved_at REAL,
        acknowledged_at REAL, acknowledged_by TEXT, recovered_at REAL, postmortem TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL, updated_at REAL NOT NULL, reminded_at REAL
    );
    CREATE INDEX incidents_page_status ON incidents (page, status);
    CREATE TABLE incident_updates (
        id INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL REFERENCES incidents (id),
        status TEXT NOT NULL, message TEXT NOT NULL, author TEXT NOT NULL, at REAL NOT NULL,
        components TEXT NOT NULL
    );
    CREATE INDEX incident_updates_incident ON incident_updates (incident_id, id);
    CREATE TABLE maintenances (
        id INTEGER PRIMARY KEY, page TEXT NOT NULL, title TEXT NOT NULL, message TEXT NOT NULL,
        components TEXT NOT NULL, start_at REAL NOT NULL, end_at REAL NOT NULL,
        created_at REAL NOT NULL, created_by TEXT NOT NULL, cancelled INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX maintenances_page_end ON maintenances (page, end_at);
    """,
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY, delivery_id TEXT NOT NULL, destination TEXT NOT NULL, event TEXT NOT NULL,
        incident TEXT NOT NULL, at REAL NOT NULL, UNIQUE (delivery_id, destination)
    );
    """,
    # 3: support cases (statuspage.support).
    support_sql.SCHEMA,
    # 4: automatic titles and messages as a phrase key + values (JSON), so each site locale words them;
    # NULL for text people wrote and for rows written before this version (their text stays as is).
    """
    ALTER TABLE incidents ADD COLUMN title_auto TEXT;
    ALTER TABLE incident_updates ADD COLUMN auto TEXT;
    """,
    # 5: heartbeats in the database (shared by every instance on PostgreSQL) and outbox claims.
    """
    CREATE TABLE push_heartbeats (
        monitor_id INTEGER PRIMARY KEY, at REAL NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL
    );
    ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE outbox ADD COLUMN claimed_epoch INTEGER;
    """,
    # 6: probe locations (statuspage/locations): the location of each result, and of an incident's
    # outage (JSON list of the locations that saw it; NULL with one location).
    """
    ALTER TABLE results ADD COLUMN location TEXT NOT NULL DEFAULT 'local';
    ALTER TABLE incidents ADD COLUMN locations TEXT;
    """,
    # 7: recurring maintenance, its notices, and visitors' e-mail subscriptions with their outbox.
    subscriptions_sql.SCHEMA,
)
"""Kept in lockstep with postgres.MIGRATIONS: the same version numbers mean the same tables."""


class SQLiteStore(BufferedStore):
    """The SQLite database of one statuspage installation (implements `Store`).

    Create with `await SQLiteStore.open(path)`."""

    def __init__(self, conn: aiosqlite.Connection, path: str, readonly: bool = False) -> None:
        super().__init__()
        self._conn = conn
        self.path = path
        self.readonly = readonly
        self.shared = False
        self._tx = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteStore:
        """Open (creating if needed) and migrate the database at `path`."""
        p = str(path)
        if p != ":memory:":
            if Path(p).is_dir():
                raise IsADirectoryError(f"{p} is a directory, not a database file")
            Path(p).parent.mkdir(parents=True, exist_ok=True)
        conn = await _connect(p)
        store = cls(conn, p)
        try:
            await conn.execute("PRAGMA busy_timeout = 10000")
            await conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode never corrupts the file on a crash; a power cut may lose the last
            # commit, a process kill loses nothing committed.
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await store._migrate()
        except BaseException:
            await conn.close()
            raise
        return store

    @classmethod
    async def open_readonly(cls, path: str | Path) -> SQLiteStore:
        """Open an existing database for reading only (a second process beside the writer, which is
        free to keep writing: WAL readers see the last commit and never block it)."""
        p = str(path)
        if not Path(p).is_file():
            raise FileNotFoundError(f"database {p} does not exist")
        uri = f"{Path(p).resolve().as_uri()}?mode=ro"
        conn = await _connect(uri, uri=True)
        store = cls(conn, p, readonly=True)
        try:
            await conn.execute("PRAGMA busy_timeout = 10000")
            version = await store.schema_version()
            if version != len(MIGRATIONS):
                raise RuntimeError(f"database {p} has schema version {version}, expected {len(MIGRATIONS)}")
            for key, mid in await store._fetchall("SELECT key, id FROM monitors"):
                store._ids[key] = int(mid)
        except BaseException:
            await conn.close()
            raise
        return store

    @asynccontextmanager
    async def read_transaction(self) -> AsyncIterator[None]:
        """Every read inside sees one commit (a WAL read snapshot), however long it takes and whatever
        the writer commits meanwhile: a render never mixes two instants."""
        async with self._tx:
            try:
                await self._conn.execute("BEGIN")
                yield
            finally:
                await self._rollback()  # reads only: ending it either way is the same, and cancel-safe

    async def _migrate(self) -> None:
        async with self._tx:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                row = await self._fetchone("PRAGMA user_version")
                version = int(row[0]) if row else 0
                if version > len(MIGRATIONS):
                    raise RuntimeError(
                        f"database {self.path} has schema version {version}, newer than this program "
                        f"({len(MIGRATIONS)}); upgrade statuspage"
                    )
                for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                    for statement in filter(str.strip, script.split(";")):
                        await self._conn.execute(statement)
                    await self._conn.execute(f"PRAGMA user_version = {number}")
                await self._conn.execute("COMMIT")
                log_schema(log, self.path, version, len(MIGRATIONS))
            except BaseException:
                await self._rollback()
                raise

    async def close(self) -> None:
        """Write what is buffered and close; safe to call twice."""
        if self._closed:
            return
        try:
            await self.flush()
        finally:
            self._closed = True
            await self._conn.close()

    async def schema_version(self) -> int:
        """The schema version of the open database."""
        row = await self._fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    # --- low-level helpers -----------------------------------------------------------------------

    async def _fetchone(self, sql: str, args: Sequence[Any] = ()) -> Any:
        async with self._conn.execute(sql, args) as cur:
            return await cur.fetchone()

    async def _fetchall(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        async with self._conn.execute(sql, args) as cur:
            return list(await cur.fetchall())

    async def _write(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> int | None:
        """Run statements in one transaction; return the last row id."""
        last: int | None = None
        async with self._tx:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                for sql, args in statements:
                    cur = await self._conn.execute(sql, args)
                    last = cur.lastrowid
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
        return last

    # --- monitors ----------------------------------------------------------------------------------

    async def register_monitors(self, keys: Iterable[str]) -> dict[str, int]:
        """Make sure every monitor key has an id; return key → id."""
        wanted = list(keys)
        async with self._tx:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                await self._conn.executemany(
                    "INSERT OR IGNORE INTO monitors (key) VALUES (?)", [(k,) for k in wanted]
                )
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
        for key, mid in await self._fetchall("SELECT key, id FROM monitors"):
            self._ids[key] = int(mid)
        return {k: self._ids[k] for k in wanted}

    async def _id(self, key: str) -> int:
        if key not in self._ids:
            if self.readonly:
                return 0  # never registered, so it has no rows: 0 matches none
            await self.register_monitors([key])
        return self._ids[key]

    async def load_monitor_states(self, keys: Iterable[str] | None = None) -> dict[str, MonitorState]:
        """The persisted confirmation state of every monitor (or only of `keys`)."""
        wanted = None if keys is None else set(keys)
        out: dict[str, MonitorState] = {}
        # A few thousand rows at a time: at 50,000 monitors every row's JSON held at once was ~20 MB
        # beside the states themselves (the render worker reads them at each render).
        async with self._conn.execute(
            "SELECT m.key, s.data FROM monitor_state s JOIN monitors m ON m.id = s.monitor_id"
        ) as cur:
            while rows := await cur.fetchmany(_BATCH * 4):
                for key, data in rows:
                    if wanted is not None and key not in wanted:
                        continue
                    try:
                        out[key] = MonitorState(**json.loads(data))
                    except (TypeError, ValueError):
                        log.warning("ignoring unreadable monitor state monitor=%s", key)
        return out

    async def monitor_states_since(self, cursor: int) -> tuple[dict[str, MonitorState], int]:
        """Every confirmation state (one process writes a SQLite file: there is nothing to follow)."""
        return await self.load_monitor_states(), 0

    async def load_run_tails(self, keys: Iterable[str], depth: int = 3) -> dict[str, list[RunRow]]:
        """The last `depth` runs of each monitor, oldest first: what backdating may still rewrite."""
        out: dict[str, list[RunRow]] = {}
        for key in keys:
            mid = await self._id(key)
            rows = await self._fetchall(
                "SELECT id, state, start_at, end_at, open FROM state_runs WHERE monitor_id = ? "
                "ORDER BY end_at DESC, id DESC LIMIT ?",
                (mid, depth),
            )
            out[key] = [RunRow(int(r[0]), key, r[1], r[2], r[3], bool(r[4])) for r in reversed(rows)]
        return out

    async def last_run_id(self) -> int:
        """The largest state-run id so far (run ids are handed out in memory)."""
        row = await self._fetchone("SELECT COALESCE(MAX(id), 0) FROM state_runs")
        return int(row[0])

    # --- check results (batched: see buffer.py) ---------------------------------------------------

    async def outbox(self) -> list[OutboxRow]:
        """Notifications left undelivered by an earlier process, oldest first."""
        rows = await self._fetchall(
            "SELECT delivery_id, destination, event, incident, at FROM outbox ORDER BY id")
        return [OutboxRow(str(d), str(dest), str(e), str(i), float(at)) for d, dest, e, i, at in rows]

    async def claim_outbox(self, owner: str, epoch: int, limit: int = 100) -> list[OutboxRow]:
        """Claim up to `limit` undelivered notifications not claimed under leadership `epoch` yet, oldest
        first (one process owns a SQLite file, so this is a plain update)."""
        async with self._tx:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                rows = await self._fetchall(
                    "SELECT id, delivery_id, destination, event, incident, at FROM outbox "
                    "WHERE claimed_epoch IS NULL OR claimed_epoch != ? ORDER BY id LIMIT ?", (epoch, limit))
                await self._conn.executemany(
                    "UPDATE outbox SET claimed_by = ?, claimed_epoch = ? WHERE id = ?",
                    [(owner, epoch, r[0]) for r in rows])
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
        return [OutboxRow(str(d), str(dest), str(e), str(i), float(at)) for _, d, dest, e, i, at in rows]

    async def pushes(self) -> list[PushRow]:
        """The last heartbeat of every push monitor that has one in the database."""
        rows = await self._fetchall(
            "SELECT m.key, p.at, p.status, p.message FROM push_heartbeats p "
            "JOIN monitors m ON m.id = p.monitor_id")
        return [PushRow(str(k), float(at), str(st), str(msg)) for k, at, st, msg in rows]

    def fenced(self, epoch: int) -> AbstractAsyncContextManager[None]:
        """One process is always the leader of a SQLite file: nothing to check."""
        return contextlib.nullcontext()

    def atomic(self) -> AbstractAsyncContextManager[None]:
        """One process writes a SQLite file and flushes its outbox at once after incidents act."""
        return contextlib.nullcontext()

    async def _write_batch(self, batch: Batch) -> None:
        steps = self._batch_steps(batch)
        async with self._tx:
            # The whole transaction is one call into the connection's thread: BEGIN, each statement
            # and COMMIT were a thread hand-off and an event-loop wake-up each (six per flush, twelve
            # a second), which at a few checks a second cost more CPU than the writes themselves.
            conn = self._conn
            done: asyncio.Future[None] = asyncio.ensure_future(
                conn._execute(_write_all, conn, steps))  # type: ignore[no-untyped-call]
            try:
                await asyncio.shield(done)
            except asyncio.CancelledError:
                # The thread takes the transaction to its end either way (COMMIT, or its own
                # ROLLBACK): wait for it, so rows are never both committed and put back.
                while not done.done():
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.shield(done)
                if done.cancelled() or done.exception() is not None:
                    raise
                task = asyncio.current_task()
                assert task is not None
                task.cancel()  # written: the batch is done, the cancellation still stands
            # Any other error: `_write_all` rolled back, the buffer puts the rows back (buffer.py).

    def _batch_steps(self, batch: Batch) -> list[tuple[str, list[Any]]]:
        """The statements of a batch and their rows, in the order they are written."""
        ids = self._ids
        steps: list[tuple[str, list[Any]]] = []
        if batch.results:
            steps.append((
                "INSERT INTO results (monitor_id, at, outcome, latency_ms, status, error, message, "
                "cert_expires_at, location) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch.results,
            ))
        if batch.runs:
            steps.append((
                "INSERT OR REPLACE INTO state_runs (id, monitor_id, state, start_at, end_at, open) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(r.id, ids[r.monitor], r.state, r.start, r.end, int(r.open)) for r in batch.runs.values()],
            ))
        if batch.states:
            steps.append((
                "INSERT OR REPLACE INTO monitor_state (monitor_id, data) VALUES (?, ?)",
                [(ids[k], json.dumps(_state_dict(s))) for k, s in batch.states.items()],
            ))
        if batch.latency:
            steps.append((
                "INSERT OR REPLACE INTO latency_hourly (monitor_id, hour, data) VALUES (?, ?, ?)",
                [(ids[k], hour, json.dumps(data.to_json(), separators=(",", ":")))
                 for (k, hour), data in batch.latency.items()],
            ))
        if batch.outbox:
            steps.append((
                "INSERT OR IGNORE INTO outbox (delivery_id, destination, event, incident, at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(r.delivery_id, r.destination, r.event, r.incident, r.at) for r in batch.outbox.values()],
            ))
        if batch.outbox_done:
            steps.append(("DELETE FROM outbox WHERE delivery_id = ? AND destination = ?",
                          list(batch.outbox_done)))
        if batch.pushes:
            steps.append((
                "INSERT INTO push_heartbeats (monitor_id, at, status, message) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (monitor_id) DO UPDATE SET at = excluded.at, status = excluded.status, "
                "message = excluded.message WHERE excluded.at >= push_heartbeats.at",
                [(ids[p.monitor], p.at, p.status, p.message) for p in batch.pushes.values()],
            ))
        return steps

    async def _rollback(self) -> None:
        """Roll back the open transaction, if SQLite has not already (a failed COMMIT on a full disk is
        rolled back by SQLite itself, and an explicit ROLLBACK would then raise over the real error).

        Decided in the connection's thread, after every statement queued before it: a task cancelled
        while its BEGIN was still queued saw `in_transaction` False here, skipped the ROLLBACK, and
        the BEGIN ran afterwards — the next write then failed "cannot start a transaction within a
        transaction" and the process hung at exit (a subscriber mailer's write cancelled at close)."""
        with contextlib.suppress(sqlite3.Error):
            await self._conn._execute(_rollback_open, self._conn)  # type: ignore[no-untyped-call]

    async def results(self, monitor: str, since: float = 0.0, limit: int = 1000) -> list[CheckResult]:
        """Raw results of a monitor since `since`, oldest first (at most `limit`, the newest ones)."""
        mid = await self._id(monitor)
        rows = await self._fetchall(
            "SELECT at, outcome, latency_ms, status, error, message, cert_expires_at FROM results "
            "WHERE monitor_id = ? AND at >= ? ORDER BY at DESC LIMIT ?",
            (mid, since, limit),
        )
        return [CheckResult(monitor, r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in reversed(rows)]

    async def count_results(self) -> int:
        """How many raw results are stored."""
        row = await self._fetchone("SELECT COUNT(*) FROM results")
        return int(row[0])

    async def runs(self, monitors: Iterable[str], start: float, end: float) -> list[RunRow]:
        """State runs of these monitors that overlap [start, end), oldest first (indexed, no raw rows).

        One query per `_BATCH` monitors, not one per monitor: at 20,000 monitors a render spent 14 s
        in per-monitor round trips through aiosqlite's thread."""
        keys = list(dict.fromkeys(monitors))
        ids = [await self._id(k) for k in keys]
        by_id: dict[int, list[RunRow]] = {mid: [] for mid in ids}
        for i in range(0, len(ids), _BATCH):
            chunk = ids[i:i + _BATCH]
            rows = await self._fetchall(
                "SELECT monitor_id, id, state, start_at, end_at, open FROM state_runs "
                f"WHERE monitor_id IN ({','.join('?' * len(chunk))}) AND end_at >= ? AND start_at < ? "
                "ORDER BY monitor_id, start_at, id",
                (*chunk, start, end),
            )
            for r in rows:
                by_id[int(r[0])].append(RunRow(int(r[1]), "", r[2], r[3], r[4], bool(r[5])))
        out: list[RunRow] = []
        for key, mid in zip(keys, ids, strict=True):
            for row in by_id.pop(mid, ()):
                row.monitor = key
                out.append(row)
        return out

    async def latency_hours_of(
        self, monitors: Iterable[str], since_hour: int
    ) -> dict[str, list[tuple[int, str]]]:
        """`latency_hours` of many monitors at once: key → [(epoch hour, JSON)], hours ascending."""
        keys = list(dict.fromkeys(monitors))
        ids = [await self._id(k) for k in keys]
        by_id: dict[int, list[tuple[int, str]]] = {mid: [] for mid in ids}
        for i in range(0, len(ids), _BATCH):
            chunk = ids[i:i + _BATCH]
            rows = await self._fetchall(
                "SELECT monitor_id, hour, data FROM latency_hourly "
                f"WHERE monitor_id IN ({','.join('?' * len(chunk))}) AND hour >= ? ORDER BY monitor_id, hour",
                (*chunk, since_hour),
            )
            for mid, hour, data in rows:
                by_id[int(mid)].append((int(hour), str(data)))
        return {key: by_id.get(mid, []) for key, mid in zip(keys, ids, strict=True)}

    async def latency_hours(self, monitor: str, since_hour: int) -> list[tuple[int, str]]:
        """Hourly latency aggregates (hour, JSON) of a monitor from `since_hour` (epoch hours) on."""
        mid = await self._id(monitor)
        rows = await self._fetchall(
            "SELECT hour, data FROM latency_hourly WHERE monitor_id = ? AND hour >= ? ORDER BY hour",
            (mid, since_hour),
        )
        return [(int(h), str(d)) for h, d in rows]

    async def latency_hour(self, hour: int, keys: Iterable[str] | None = None) -> dict[str, str]:
        """Every monitor's (or only `keys`') latency aggregate (JSON) for one epoch hour: what a
        restart merges into."""
        rows = await self._fetchall(
            "SELECT m.key, l.data FROM latency_hourly l JOIN monitors m ON m.id = l.monitor_id "
            "WHERE l.hour = ?",
            (hour,),
        )
        wanted = None if keys is None else set(keys)
        return {str(k): str(d) for k, d in rows if wanted is None or k in wanted}

    async def prune_results(self, before: float, chunk: int = 5000) -> int:
        """Delete raw results older than `before`, in small transactions so probing never waits long."""
        total = 0
        while True:
            async with self._tx:
                cur = await self._conn.execute(
                    "DELETE FROM results WHERE rowid IN "
                    "(SELECT rowid FROM results WHERE at < ? ORDER BY at LIMIT ?)",
                    (before, chunk),
                )
                deleted = cur.rowcount
            total += max(deleted, 0)
            if deleted < chunk:
                return total
            await asyncio.sleep(0)  # let the prober in between chunks

    # --- incidents ---------------------------------------------------------------------------------

    async def create_incident(self, incident: Incident) -> Incident:
        """Insert an incident with its updates; return it with the ids assigned."""
        async with self._tx:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                cur = await self._conn.execute(
                    "INSERT INTO incidents (page, title, severity, impact, status, components, automatic, "
                    "started_at, due_at, monitoring_at, resolved_at, acknowledged_at, acknowledged_by, "
                    "recovered_at, postmortem, created_at, updated_at, title_auto, locations) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _incident_row(incident),
                )
                iid = int(cur.lastrowid or 0)
                for update in incident.updates:
                    await self._insert_update(iid, update)
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
        created = await self.get_incident(iid)
        assert created is not None
        return created

    async def _insert_update(self, incident_id: int, u: IncidentUpdate) -> None:
        await self._conn.execute(
            "INSERT INTO incident_updates (incident_id, status, message, author, at, components, auto) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (incident_id, u.status, u.message, u.author, u.at,
             json.dumps([[c.component, c.old_status, c.new_status] for c in u.components]),
             auto_json(u.auto)),
        )

    async def save_incident(self, incident: Incident, new_updates: Iterable[IncidentUpdate] = ()) -> Incident:
        """Write an incident's fields and append new timeline updates, in one transaction."""
        async with self._tx:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                await self._conn.execute(
                    "UPDATE incidents SET page=?, title=?, severity=?, impact=?, status=?, components=?, "
                    "automatic=?, started_at=?, due_at=?, monitoring_at=?, resolved_at=?, acknowledged_at=?, "
                    "acknowledged_by=?, recovered_at=?, postmortem=?, created_at=?, updated_at=?, "
                    "title_auto=?, locations=? WHERE id=?",
                    (*_incident_row(incident), incident.id),
                )
                for update in new_updates:
                    await self._insert_update(incident.id, update)
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
        saved = await self.get_incident(incident.id)
        assert saved is not None
        return saved

    async def acknowledge_incident(self, incident_id: int, who: str, at: float) -> bool:
        """Record the first acknowledgement atomically; False if it was already acknowledged."""
        async with self._tx:
            cur = await self._conn.execute(
                "UPDATE incidents SET acknowledged_at = ?, acknowledged_by = ?, updated_at = ? "
                "WHERE id = ? AND acknowledged_at IS NULL",
                (at, who, at, incident_id),
            )
            return cur.rowcount == 1

    async def rewrite_runs(self, monitor: str, since: float, rows: Sequence[RunRow]) -> None:
        """Replace the monitor's runs starting at or after `since` by `rows` (upserted by id), at once
        and in one transaction: how the quorum's combined runs are rewritten (statuspage/locations)."""
        mid = await self._id(monitor)
        keep = [r.id for r in rows]
        marks = ",".join("?" * len(keep)) or "NULL"
        steps: list[tuple[str, tuple[Any, ...]]] = [(
            f"DELETE FROM state_runs WHERE monitor_id = ? AND start_at >= ? AND id NOT IN ({marks})",
            (mid, since, *keep))]
        steps += [("INSERT OR REPLACE INTO state_runs (id, monitor_id, state, start_at, end_at, open) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (r.id, mid, r.state, r.start, r.end, int(r.open)))
                  for r in rows]
        await self._write(steps)

    async def mark_reminded(self, incident_id: int, at: float) -> None:
        """Remember that an acknowledgement reminder went out for this incident."""
        await self._write([("UPDATE incidents SET reminded_at = ? WHERE id = ?", (at, incident_id))])

    async def reminded_at(self, incident_id: int) -> float | None:
        """When the last acknowledgement reminder went out, if ever."""
        row = await self._fetchone("SELECT reminded_at FROM incidents WHERE id = ?", (incident_id,))
        return None if row is None or row[0] is None else float(row[0])

    async def get_incident(self, incident_id: int) -> Incident | None:
        """One incident with its timeline, or None."""
        found = await self._incidents("WHERE id = ?", (incident_id,))
        return found[0] if found else None

    async def list_incidents(
        self,
        page: str | None = None,
        open_only: bool = False,
        since: float | None = None,
        limit: int | None = None,
        before: tuple[float, int] | None = None,
    ) -> list[Incident]:
        """Incidents newest first, optionally of one page, only open ones, active since `since`, or
        after `before` = (started_at, id) in that order."""
        where: list[str] = []
        args: list[Any] = []
        if page is not None:
            where.append("page = ?")
            args.append(page)
        if open_only:
            where.append("status != 'resolved'")
        if since is not None:
            where.append("(resolved_at IS NULL OR resolved_at >= ?)")
            args.append(since)
        if before is not None:
            where.append("(started_at < ? OR (started_at = ? AND id < ?))")
            args += [before[0], before[0], before[1]]
        sql = ("WHERE " + " AND ".join(where)) if where else ""
        sql += " ORDER BY started_at DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return await self._incidents(sql, args)

    async def _incidents(self, tail: str, args: Sequence[Any]) -> list[Incident]:
        rows = await self._fetchall(
            "SELECT id, page, title, severity, impact, status, components, automatic, started_at, due_at, "
            "monitoring_at, resolved_at, acknowledged_at, acknowledged_by, recovered_at, postmortem, "
            f"created_at, updated_at, title_auto, locations FROM incidents {tail}",
            args,
        )
        if not rows:
            return []
        ids = [int(r[0]) for r in rows]
        updates: dict[int, list[IncidentUpdate]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            for u in await self._fetchall(
                "SELECT id, incident_id, status, message, author, at, components, auto FROM incident_updates "
                f"WHERE incident_id IN ({marks}) ORDER BY at, id",
                part,
            ):
                changes = tuple(ComponentChange(c[0], c[1], c[2]) for c in json.loads(u[6]))
                updates[int(u[1])].append(
                    IncidentUpdate(int(u[0]), int(u[1]), u[2], u[3], u[5], u[4], changes, parse_auto(u[7]))
                )
        return [
            Incident(
                id=int(r[0]), page=r[1], title=r[2], severity=r[3], impact=r[4], status=r[5],
                components=tuple(json.loads(r[6])), automatic=bool(r[7]), started_at=r[8], due_at=r[9],
                monitoring_at=r[10], resolved_at=r[11], acknowledged_at=r[12], acknowledged_by=r[13],
                recovered_at=r[14], postmortem=r[15], created_at=r[16], updated_at=r[17],
                updates=tuple(updates[int(r[0])]), title_auto=parse_auto(r[18]),
                locations=parse_locations(r[19]),
            )
            for r in rows
        ]

    # --- maintenance -------------------------------------------------------------------------------

    async def add_maintenance(self, m: Maintenance) -> Maintenance:
        """Schedule a maintenance window; return it with its id."""
        mid = await self._write([(subscriptions_sql.INSERT_MAINTENANCE,
                                  maintenance_params(m, m.created_at or time.time()))])
        found = await self._maintenances("WHERE id = ?", (mid,))
        return found[0]

    async def cancel_maintenance(self, maintenance_id: int, at: float | None = None) -> bool:
        """Cancel a window (its SEQUENCE goes up); False if there is no such window."""
        async with self._tx:
            cur = await self._conn.execute(
                subscriptions_sql.CANCEL_MAINTENANCE, (at if at is not None else time.time(), maintenance_id))
            return cur.rowcount == 1

    async def get_maintenance(self, maintenance_id: int) -> Maintenance | None:
        """One maintenance window, or None."""
        found = await self._maintenances("WHERE id = ?", (maintenance_id,))
        return found[0] if found else None

    async def list_maintenances(
        self, page: str | None = None, ending_after: float | None = None, include_cancelled: bool = False
    ) -> list[Maintenance]:
        """Maintenance windows by start time, optionally of one page and still running after a time
        (a recurring window: its last occurrence)."""
        where: list[str] = []
        args: list[Any] = []
        if page is not None:
            where.append("page = ?")
            args.append(page)
        if ending_after is not None:
            where.append(subscriptions_sql.ENDING_AFTER)
            args += [ending_after, ending_after]
        if not include_cancelled:
            where.append("cancelled = 0")
        sql = ("WHERE " + " AND ".join(where)) if where else ""
        return await self._maintenances(sql + " ORDER BY start_at, id", args)

    async def _maintenances(self, tail: str, args: Sequence[Any]) -> list[Maintenance]:
        rows = await self._fetchall(
            f"SELECT {subscriptions_sql.MAINTENANCE_COLUMNS} FROM maintenances {tail}", args)
        return [maintenance_from_row(r) for r in rows]

    async def maintenance_notices_sent(self, maintenance_ids: Iterable[int]) -> set[tuple[int, float, str]]:
        """The (window id, occurrence start, kind) maintenance notices already handed out."""
        ids = list(dict.fromkeys(maintenance_ids))
        out: set[tuple[int, float, str]] = set()
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            sql = subscriptions_sql.NOTICES_SENT.format(marks=", ".join("?" * len(part)))
            out |= {(int(m), float(o), str(k)) for m, o, k in await self._fetchall(sql, part)}
        return out

    async def record_maintenance_notices(self, rows: Iterable[tuple[int, float, str]], at: float) -> None:
        """Remember maintenance notices as handed out (repeats ignored); occurrence rows older than a
        week go."""
        q = subscriptions_sql
        await self._write([(q.INSERT_NOTICE_SENT, (m, o, k, at)) for m, o, k in rows]
                          + [(q.PRUNE_NOTICES_SENT, (at - 7 * 86400.0,))])

    # --- subscriptions (SQL in subscriptions_sql.py) ---------------------------------------------------

    async def subscription_secret(self, new: str) -> str:
        """The secret subscription tokens are signed with: the stored one, or `new` stored now."""
        q = subscriptions_sql
        await self._write([(q.INSERT_META, ("token_secret", new))])
        row = await self._fetchone(q.GET_META, ("token_secret",))
        return str(row[0])

    async def request_subscription(self, email: str, page: str, components: Iterable[str], locale: str,
                                   salt: str, now: float, expires_at: float) -> str:
        """Record a subscription request and queue its mail (`confirm` or `already`) in one transaction."""
        q = subscriptions_sql
        chosen = list(components)
        async with self._tx:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                row = await self._fetchone(q.FIND_SUBSCRIBER, (email, page))
                if row is None:
                    cur = await self._conn.execute(q.INSERT_SUBSCRIBER,
                                                   (email, page, locale, salt, now, expires_at))
                    sid, kind = int(cur.lastrowid or 0), "confirm"
                else:
                    sid, kind = int(row[0]), ("confirm" if row[7] is None else "already")
                if kind == "confirm":
                    await self._conn.execute(q.RENEW_PENDING, (locale, now, expires_at, sid))
                    await self._conn.execute(q.CLEAR_SUBSCRIBER_COMPONENTS, (sid,))
                    await self._conn.executemany(q.INSERT_SUBSCRIBER_COMPONENT, [(sid, c) for c in chosen])
                waiting = await self._fetchone(q.PENDING_MAIL, (sid,))
                if not int(waiting[0]):
                    await self._conn.execute(q.QUEUE_MAIL, (sid, kind, now, now))
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
        return kind

    async def get_subscriber(self, subscriber_id: int) -> Subscriber | None:
        """One subscriber with its components, or None."""
        q = subscriptions_sql
        row = await self._fetchone(q.GET_SUBSCRIBER, (subscriber_id,))
        if row is None:
            return None
        comps = tuple(str(c[0]) for c in await self._fetchall(q.SUBSCRIBER_COMPONENTS, (subscriber_id,)))
        return _subscriber(row, comps)

    async def confirm_subscriber(self, subscriber_id: int, salt: str, now: float) -> bool:
        """Confirm a pending subscriber whose link has not expired; False otherwise."""
        async with self._tx:
            cur = await self._conn.execute(subscriptions_sql.CONFIRM, (now, subscriber_id, salt, now))
            return cur.rowcount == 1

    async def delete_subscriber(self, subscriber_id: int) -> bool:
        """Delete a subscriber, its choices and its pending mail; False when there was none."""
        async with self._tx:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                count = 0
                for sql in subscriptions_sql.DELETE_SUBSCRIBER:
                    cur = await self._conn.execute(sql, (subscriber_id,))
                    count = cur.rowcount
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
        return count == 1

    async def _delete_subscribers(self, ids: Sequence[int]) -> None:
        if ids:
            await self._write([(sql, (sid,)) for sid in ids for sql in subscriptions_sql.DELETE_SUBSCRIBER])

    async def erase_address(self, email: str) -> int:
        """Delete every subscription of an address (LGPD erasure); return how many."""
        ids = [int(r[0]) for r in await self._fetchall(subscriptions_sql.SUBSCRIBERS_OF_ADDRESS, (email,))]
        await self._delete_subscribers(ids)
        return len(ids)

    async def purge_subscriptions(self, now: float, notices_before: float) -> int:
        """Delete subscribers whose confirmation expired unused, and old delivered notices."""
        q = subscriptions_sql
        ids = [int(r[0]) for r in await self._fetchall(q.EXPIRED_PENDING, (now,))]
        await self._delete_subscribers(ids)
        await self._write([(q.PRUNE_NOTICES, (notices_before,))])
        return len(ids)

    async def subscriber_counts(self) -> dict[tuple[str, bool], int]:
        """(page, confirmed) → subscribers."""
        rows = await self._fetchall(subscriptions_sql.COUNT_SUBSCRIBERS)
        return {(str(p), bool(c)): int(n) for p, c, n in rows}

    async def publish_notice(self, notice: Notice, now: float) -> int:
        """Store a notice and queue it for its page's confirmed subscribers, in one transaction."""
        q = subscriptions_sql
        async with self._tx:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                cur = await self._conn.execute(q.INSERT_NOTICE, (notice.key, notice.page, notice.event,
                                                                  notice.body, now))
                queued = 0
                if cur.rowcount == 1:
                    row = await self._fetchone(q.NOTICE_ID, (notice.key,))
                    fan = await self._conn.execute(q.fan_out(len(notice.components)),
                                                   (int(row[0]), now, now, notice.page, *notice.components))
                    queued = max(fan.rowcount, 0)
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
        return queued

    async def due_mail(self, now: float, limit: int) -> list[MailJob]:
        """Subscriber mail due at `now`, confirmations first, oldest first."""
        rows = await self._fetchall(subscriptions_sql.DUE_MAIL, (now, int(limit)))
        out = []
        for r in rows:
            sub = Subscriber(id=int(r[3]), email=r[4], page=r[5], locale=r[6], salt=r[7], created_at=0.0,
                             confirm_expires_at=r[8])
            notice = None if r[9] is None else Notice(key=r[10], page=r[5], event=r[11], body=r[12])
            notice_id = None if r[9] is None else int(r[9])
            out.append(MailJob(int(r[0]), str(r[1]), int(r[2]), sub, notice_id, notice))
        return out

    async def claim_mail(self, delivery_ids: Iterable[int], now: float, until: float) -> set[int]:
        """Claim the mail about to be sent until `until`: the ids still due at `now` (see `Store`)."""
        ids = [int(i) for i in delivery_ids]
        claimed: set[int] = set()
        async with self._tx:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                for start in range(0, len(ids), 500):
                    part = ids[start:start + 500]
                    sql = subscriptions_sql.CLAIM_MAIL.format(marks=", ".join("?" * len(part)))
                    claimed |= {int(r[0]) for r in await self._fetchall(sql, [until, *part, now])}
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
        return claimed

    async def mail_done(self, delivery_ids: Iterable[int]) -> None:
        """Remove sent (or abandoned) mail from the outbox, in one transaction."""
        await self._write([(subscriptions_sql.MAIL_DONE, (i,)) for i in delivery_ids])

    async def mail_retry(self, retries: Iterable[tuple[int, float]]) -> None:
        """Count a failed attempt of each (delivery id, next attempt time)."""
        await self._write([(subscriptions_sql.MAIL_RETRY, (at, i)) for i, at in retries])

    async def mail_queued(self) -> dict[int, int]:
        """Priority (0 confirmations, 1 notices) → mails waiting."""
        return {int(p): int(n) for p, n in await self._fetchall(subscriptions_sql.MAIL_QUEUED)}

    # --- support cases (SQL in support_sql.py) ------------------------------------------------------

    async def add_case_event(self, event: CaseEvent) -> bool:
        """Store one case event; False when (case_id, event_id) was already stored (a repeat)."""
        async with self._tx:
            cur = await self._conn.execute(support_sql.INSERT_EVENT, event_params(event))
            return cur.rowcount == 1

    async def case_events(self, case_id: str) -> list[CaseEvent]:
        """Every stored event of a case, by time."""
        rows = await self._fetchall(support_sql.CASE_EVENTS, (case_id,))
        return [CaseEvent(case_id=r[0], event_id=r[1], kind=r[2], at=r[3], channel=r[4], page=r[5],
                          severity=r[6], outcome=r[7], recorded_at=r[8]) for r in rows]

    async def save_cases(self, rows: Iterable[CaseRow]) -> None:
        """Upsert cases' figures in one transaction; a stored row computed from more events is kept."""
        params = [case_params(c) for c in rows]
        if not params:
            return
        async with self._tx:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                await self._conn.executemany(support_sql.UPSERT_CASE, params)
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def get_case(self, case_id: str) -> CaseRow | None:
        """One case's figures, or None."""
        row = await self._fetchone(support_sql.GET_CASE, (case_id,))
        return None if row is None else case_from_row(row)

    async def list_cases(self, *, open_only: bool = False, since: float | None = None,
                         limit: int = 100) -> list[CaseRow]:
        """Cases newest first (by opening), optionally only open ones or opened since `since`."""
        args: list[Any] = [] if since is None else [since]
        rows = await self._fetchall(support_sql.list_cases(open_only, since is not None), [*args, int(limit)])
        return [case_from_row(r) for r in rows]

    async def case_ids(self, after: str = "", limit: int = 1000) -> list[str]:
        """Case ids in order, `limit` at a time after `after` (to walk every case in chunks)."""
        return [str(r[0]) for r in await self._fetchall(support_sql.CASE_IDS, (after, int(limit)))]

    async def support_totals(self, since_month: str, now: float) -> dict[str | None, SupportTotals]:
        """The aggregates the support indicators are published from, months `since_month` (YYYY-MM) on,
        per page slug and under None for every case; deadlines judged at `now`. Computed in the
        database, one pass over a covering index per figure."""
        q = support_sql
        return q.assemble_totals(
            await self._fetchall(q.CHANNEL_TOTALS, (now, since_month)),
            await self._fetchall(q.PAGE_MEDIANS, (since_month,)),
            await self._fetchall(q.MEDIANS, (since_month,)),
            await self._fetchall(q.TRIAGE_TOTALS, (since_month,)),
            await self._fetchall(q.SEVERITY_TOTALS, (now, since_month)),
            await self._fetchall(q.OUTCOME_TOTALS, (since_month,)),
        )

    async def open_case_counts(self, now: float) -> dict[str, tuple[int, int, int]]:
        """Per channel: open cases, of which past the first-response limit, past the resolution limit."""
        rows = await self._fetchall(support_sql.COUNT_OPEN, (now, now))
        return {str(c): (int(n), int(f or 0), int(r or 0)) for c, n, f, r in rows}

    async def case_alert_candidates(self, now: float, max_age: float) -> list[CaseRow]:
        """Open cases past an alert lead whose deadline is at most `max_age` seconds old."""
        rows = await self._fetchall(support_sql.ALERT_CANDIDATES, (now, now - max_age, now, now - max_age))
        return [case_from_row(r) for r in rows]

    async def case_alerts_sent(self, case_ids: Iterable[str]) -> set[tuple[str, str]]:
        """The (case id, alert kind) pairs already sent among these cases."""
        ids = list(dict.fromkeys(case_ids))
        out: set[tuple[str, str]] = set()
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            found = await self._fetchall(support_sql.alerts_sent(len(part)), part)
            out |= {(str(c), str(k)) for c, k in found}
        return out

    async def record_case_alerts(self, alerts: Iterable[tuple[str, str, float]]) -> None:
        """Remember sent alerts as (case id, kind, at); repeats are ignored."""
        rows = list(alerts)
        if not rows:
            return
        async with self._tx:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                await self._conn.executemany(support_sql.INSERT_ALERT, rows)
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def support_meta(self, key: str) -> str | None:
        """A stored support fact (e.g. the config fingerprint the figures were computed with)."""
        row = await self._fetchone(support_sql.GET_META, (key,))
        return None if row is None else str(row[0])

    async def set_support_meta(self, key: str, value: str) -> None:
        """Store a support fact."""
        await self._write([(support_sql.SET_META, (key, value))])

    # --- maintenance of the database itself ---------------------------------------------------------

    async def integrity_check(self) -> str:
        """SQLite's own verdict on the file (`ok` when sound)."""
        row = await self._fetchone("PRAGMA integrity_check")
        return str(row[0])


# What SQLite's own errors mean, in words (checked in order against the error's message).
_MEANINGS: tuple[tuple[str, str], ...] = (
    ("database or disk is full", "cannot be written: the disk is full"),
    ("disk i/o error", "cannot be read or written: disk I/O error"),
    ("readonly database", "cannot be written: it is read-only (file or folder permissions)"),
    ("database is locked", "is locked by another process for too long"),
    ("file is not a database", "is not a statuspage database (another kind of file, or damaged)"),
    ("malformed", "is damaged (database disk image is malformed): restore it from a backup"),
    ("unable to open database file", "cannot be opened (a missing folder, or no permission)"),
    ("no such table", "is not a statuspage database (its tables are missing)"),
    ("schema version", ""),
)


def problem_reason(exc: sqlite3.Error) -> str:
    """What a SQLite error says about the database, as the end of a sentence "the database …"."""
    text = str(exc).lower()
    return next((why for marker, why in _MEANINGS if marker in text and why), f"failed: {exc}")


async def _connect(target: str, uri: bool = False) -> aiosqlite.Connection:
    try:
        return await aiosqlite.connect(target, uri=uri, isolation_level=None)
    except BaseException:
        # aiosqlite stops its thread with a callback into this loop: let it land before the caller's
        # loop may close, or the thread dies with a traceback on stderr after our one-line error.
        await asyncio.sleep(0.05)
        raise


def _subscriber(r: Sequence[Any], components: tuple[str, ...] = ()) -> Subscriber:
    return Subscriber(id=int(r[0]), email=r[1], page=r[2], locale=r[3], salt=r[4], created_at=r[5],
                      confirm_expires_at=r[6], confirmed_at=r[7], components=components)


def _rollback_open(conn: aiosqlite.Connection) -> None:
    """ROLLBACK if a transaction is open, run in the connection's own thread."""
    db: sqlite3.Connection = conn._conn
    if db.in_transaction:
        db.execute("ROLLBACK")


def _write_all(conn: aiosqlite.Connection, steps: Sequence[tuple[str, Iterable[Any]]]) -> None:
    """One batch's transaction, in the connection's own thread: on any error it is rolled back here
    (unless SQLite already did, as after a failed COMMIT on a full disk) and the error raised."""
    db: sqlite3.Connection = conn._conn
    try:
        db.execute("BEGIN IMMEDIATE")  # inside the try: a busy database must not lose the batch either
        for sql, rows in steps:
            db.executemany(sql, rows)
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            _rollback_open(conn)
        raise


def _state_dict(s: MonitorState) -> dict[str, Any]:
    return {name: getattr(s, name) for name in MonitorState.__dataclass_fields__}


def _incident_row(i: Incident) -> tuple[Any, ...]:
    return (
        i.page, i.title, i.severity, i.impact, i.status, json.dumps(list(i.components)), int(i.automatic),
        i.started_at, i.due_at, i.monitoring_at, i.resolved_at, i.acknowledged_at, i.acknowledged_by,
        i.recovered_at, i.postmortem, i.created_at, i.updated_at, auto_json(i.title_auto),
        locations_json(i.locations),
    )
