"""`statuspage migrate`: copy a SQLite history into an empty PostgreSQL database, all or nothing.

Every table is copied with its ids (monitors, incidents, updates, maintenances, state runs), so links
between rows and the incident URLs stay the same; the identity sequences then continue after the
largest copied id. Support cases come with their events, figures and sent alerts; subscriptions with
their subscribers (confirmed or waiting), choices, notices, pending mail and the key their links are
signed with (links already mailed keep working), and recurring maintenance with the notices already
told (none is told twice). The copy is one PostgreSQL transaction: a failure leaves the target as it
was.
A target that already holds a history is refused, so running the command twice never copies twice.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from statuspage.store import support_sql
from statuspage.store.base import StoreUnavailable
from statuspage.store.postgres import PostgresStore
from statuspage.store.sqlite import MIGRATIONS, SQLiteStore

log = logging.getLogger(__name__)

CHUNK = 20_000

_BOOL = bool


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    convert: dict[int, Callable[[Any], Any]] = field(default_factory=dict)
    identity: bool = False
    """Its id column is an identity whose sequence must continue after the copied ids."""


def _float(v: Any) -> float | None:
    return None if v is None else float(v)


def _floats(columns: tuple[str, ...], *names: str) -> dict[int, Callable[[Any], Any]]:
    return {columns.index(name): float for name in names}


_CASE_COLUMNS = tuple(c.strip() for c in support_sql.CASE_COLUMNS.split(","))
_EVENT_COLUMNS = tuple(c.strip() for c in support_sql.EVENT_COLUMNS.split(","))


TABLES: tuple[_Table, ...] = (
    _Table("monitors", ("id", "key"), identity=True),
    _Table("state_runs", ("id", "monitor_id", "state", "start_at", "end_at", "open"),
           {3: float, 4: float, 5: _BOOL}),
    _Table("latency_hourly", ("monitor_id", "hour", "data")),
    _Table("incidents", (
        "id", "page", "title", "severity", "impact", "status", "components", "automatic", "started_at",
        "due_at", "monitoring_at", "resolved_at", "acknowledged_at", "acknowledged_by", "recovered_at",
        "postmortem", "created_at", "updated_at", "reminded_at", "title_auto", "locations"),
        {7: _BOOL, 8: float, 9: float, 10: _float, 11: _float, 12: _float, 14: _float, 16: float, 17: float,
         18: _float}, identity=True),
    _Table("incident_updates",
           ("id", "incident_id", "status", "message", "author", "at", "components", "auto"),
           {5: float}, identity=True),
    _Table("maintenances", ("id", "page", "title", "message", "components", "start_at", "end_at",
                            "created_at", "created_by", "cancelled", "rrule", "timezone", "series_end",
                            "sequence", "updated_at"),
           {5: float, 6: float, 7: float, 9: _BOOL, 12: float, 14: float}, identity=True),
    _Table("maintenance_notices", ("maintenance_id", "occurrence", "kind", "at"), {1: float, 3: float}),
    _Table("outbox", ("id", "delivery_id", "destination", "event", "incident", "at"), {5: float},
           identity=True),
    _Table("push_heartbeats", ("monitor_id", "at", "status", "message"), {1: float}),
    _Table("support_events", _EVENT_COLUMNS, _floats(_EVENT_COLUMNS, "at", "recorded_at")),
    _Table("support_cases", _CASE_COLUMNS, _floats(
        _CASE_COLUMNS, "opened_at", "first_response_at", "first_response_s", "first_response_limit_s",
        "first_response_due_at", "first_response_warn_at", "triaged_at", "triage_s", "waiting_s",
        "resolved_at", "resolution_s", "resolution_limit_s", "resolution_due_at", "resolution_warn_at",
        "updated_at")),
    _Table("support_alerts", ("case_id", "kind", "at"), {2: float}),
    _Table("support_meta", ("key", "value")),
    _Table("subscribers", ("id", "email", "page", "locale", "salt", "created_at", "confirm_expires_at",
                           "confirmed_at"), {5: float, 6: float, 7: float}, identity=True),
    _Table("subscriber_components", ("subscriber_id", "component")),
    _Table("subscription_notices", ("id", "key", "page", "event", "body", "created_at"), {5: float},
           identity=True),
    _Table("subscription_deliveries", ("id", "subscriber_id", "notice_id", "kind", "priority", "attempts",
                                       "next_at", "created_at"), {6: float, 7: float}, identity=True),
    _Table("subscription_meta", ("key", "value")),
)


@dataclass
class MigrateResult:
    """How many rows of each table were copied."""

    copied: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """`monitors=8 results=120960 ...` for the command's output."""
        return " ".join(f"{k}={v}" for k, v in self.copied.items())


class MigrateError(Exception):
    """The copy cannot be done (missing source, a target that already has a history, ...): one line."""


def _rows(conn: sqlite3.Connection, table: _Table) -> Iterator[list[tuple[Any, ...]]]:
    cur = conn.execute(f"SELECT {', '.join(table.columns)} FROM {table.name}")
    while chunk := cur.fetchmany(CHUNK):
        if table.convert:
            chunk = [tuple(table.convert[i](v) if i in table.convert and v is not None else v
                           for i, v in enumerate(row)) for row in chunk]
        yield chunk


async def migrate(source: Path, url: str) -> MigrateResult:
    """Copy every table of the SQLite database at `source` into the PostgreSQL database at `url`.

    Raises MigrateError when the source is missing or the target already holds a history, and
    StoreUnavailable when the target cannot be reached."""
    if not source.is_file():
        raise MigrateError(f"no SQLite database at {source}")
    # Bring the source to this program's schema first (it is ours: adding tables loses nothing).
    await (await SQLiteStore.open(source)).close()
    target = await PostgresStore.open(url)  # creates and migrates the schema; StoreUnavailable if it can't
    result = MigrateResult()
    try:
        pool = target._pool
        async with pool.acquire() as pg, pg.transaction():
            # Serialise two migrations started together; the second then sees the first one's rows.
            await pg.execute("LOCK TABLE monitors, results, incidents, state_runs IN EXCLUSIVE MODE")
            held = {name: int(await pg.fetchval(f"SELECT COUNT(*) FROM {name}"))
                    for name in ("results", "state_runs", "incidents", "maintenances", "support_events",
                                 "subscribers")}
            if any(held.values()):
                what = ", ".join(f"{n} {name}" for name, n in held.items() if n)
                raise MigrateError(f"database {target.path} already holds a history ({what}); "
                                   "refusing to copy again (migrate into an empty database)")
            # The target's own start may have registered monitors: their ids must be the source's.
            # A target that started once also noted its support config's fingerprint and made a key for
            # subscription links: the source's win (the links already mailed are signed with its key).
            await pg.execute("DELETE FROM monitor_state; DELETE FROM push_heartbeats; DELETE FROM monitors; "
                             "DELETE FROM support_meta; DELETE FROM subscription_meta")
            uri = f"{source.resolve().as_uri()}?mode=ro"
            with closing(sqlite3.connect(uri, uri=True)) as lite:
                version = int(lite.execute("PRAGMA user_version").fetchone()[0])
                if version != len(MIGRATIONS):
                    raise MigrateError(f"{source} has schema version {version}, expected {len(MIGRATIONS)}")
                for table in TABLES:
                    result.copied[table.name] = await _copy(pg, lite, table)
                    if table.name == "monitors":
                        result.copied["results"] = await _copy_results(pg, lite)
                        result.copied["monitor_state"] = await _copy_states(pg, lite)
            for table in TABLES:
                if table.identity:
                    await pg.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table.name}), 1))")
            # Run ids are handed out in memory from blocks above every copied id.
            top = int(await pg.fetchval("SELECT COALESCE(MAX(id), 0) FROM state_runs"))
            await pg.execute("SELECT setval('run_id_blocks', $1)", (top >> 32) + 1)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        if isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError):
            raise MigrateError(f"copy into {target.path} failed, nothing was written: {exc}") from None
        raise StoreUnavailable(f"database {target.path}: {exc}") from None
    finally:
        await target.close()
    log.info("migrated %s into %s: %s", source, target.path, result.summary())
    return result


async def _copy(pg: asyncpg.Connection, lite: sqlite3.Connection, table: _Table) -> int:
    total = 0
    for chunk in _rows(lite, table):
        await pg.copy_records_to_table(table.name, records=chunk, columns=list(table.columns))
        total += len(chunk)
    return total


async def _copy_results(pg: asyncpg.Connection, lite: sqlite3.Connection) -> int:
    # PostgreSQL keys results by (monitor, time); a SQLite file may hold the same result twice.
    cols = ("monitor_id", "at", "outcome", "latency_ms", "status", "error", "message", "cert_expires_at",
            "location")
    await pg.execute("CREATE TEMP TABLE results_in (LIKE results) ON COMMIT DROP")
    table = _Table("results", cols, {1: float, 3: float, 7: float})
    for chunk in _rows(lite, table):
        await pg.copy_records_to_table("results_in", records=chunk, columns=list(cols))
    status = await pg.execute(
        f"INSERT INTO results ({', '.join(cols)}) SELECT {', '.join(cols)} FROM results_in "
        "ON CONFLICT DO NOTHING")
    return int(status.split()[-1])


async def _copy_states(pg: asyncpg.Connection, lite: sqlite3.Connection) -> int:
    rows = []
    for mid, data in lite.execute("SELECT monitor_id, data FROM monitor_state"):
        try:
            at = float(json.loads(data).get("last_at") or 0.0)
        except (ValueError, AttributeError, TypeError):
            at = 0.0
        rows.append((mid, data, at))
    await pg.copy_records_to_table("monitor_state", records=rows, columns=["monitor_id", "data", "at"])
    return len(rows)
