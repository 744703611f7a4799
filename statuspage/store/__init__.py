"""Storage: the `Store` interface (base.py), the write buffer both backends share (buffer.py) and the
backends: sqlite.py (the embedded default, `storage.path`) and postgres.py (`storage.url`, shared by
several instances, which coordinate through pg_cluster.py).

Open the configured backend with `open_store(config.storage)`; nothing above this package names a
backend.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from statuspage.config import Storage
from statuspage.store.base import (
    Coordinator,
    JsonAble,
    LeadershipLost,
    MailJob,
    Notice,
    OutboxRow,
    PushRow,
    Store,
    StoreUnavailable,
    Subscriber,
)
from statuspage.store.sqlite import SQLiteStore

__all__ = [
    "Coordinator", "JsonAble", "LeadershipLost", "MailJob", "Notice", "OutboxRow", "PushRow", "SQLiteStore",
    "Store", "StoreUnavailable", "Subscriber",
    "database_problem", "open_coordinator", "open_store", "unavailable_reason",
]


def unavailable_reason(exc: BaseException) -> str | None:
    """A short reason when `exc` means the database cannot take reads or writes right now (SQLite: disk
    full, I/O error, read-only, locked, damaged; PostgreSQL: unreachable, restarting, connection lost,
    disk full, read-only, too many connections, ...), else None: the end of a sentence "the database
    …". Lets code above store/ answer 503, not 500, without knowing which database it talks to."""
    if isinstance(exc, StoreUnavailable):
        return exc.reason or "is unavailable"
    if isinstance(exc, sqlite3.Error):
        from statuspage.store.sqlite import problem_reason

        return problem_reason(exc)
    if type(exc).__module__.startswith("asyncpg"):
        # Only PostgreSQL's driver raises these (imported lazily: SQLite installs never load it).
        from statuspage.store.postgres import problem_reason as pg_reason

        return pg_reason(exc)
    return None


def database_problem(exc: BaseException, where: str) -> str | None:
    """One line naming the database and what is wrong with it, when `exc` is about the database itself
    (SQLite: corrupt, truncated, a directory in its place, a newer schema, unwritable; PostgreSQL:
    unreachable, wrong password, missing, a newer schema, full, ...); else None. `where` is the file
    path or the URL without its password (`Storage.where`)."""
    if isinstance(exc, StoreUnavailable):
        return str(exc).splitlines()[0]  # names the database already, never its password
    if not where.startswith(("postgresql:", "postgres:")) and Path(where).is_dir():
        return f"{where}: is a directory, not a database file (check storage.path)"
    if isinstance(exc, RuntimeError) and "schema version" in str(exc):
        return str(exc).splitlines()[0]
    reason = unavailable_reason(exc)
    return None if reason is None else f"database {where} {reason}"


async def open_store(storage: Storage, *, readonly: bool = False) -> Store:
    """Open (creating and migrating unless `readonly`) the database `storage` configures.

    Raises FileNotFoundError when `readonly` and there is no SQLite database yet, StoreUnavailable
    when a PostgreSQL database cannot be reached, refuses the credentials or does not exist,
    RuntimeError when its schema is not this program's, and the backend's own errors otherwise."""
    if storage.url is not None:
        from statuspage.store.postgres import PostgresStore

        return await PostgresStore.open(storage.url, readonly=readonly)
    if readonly:
        return await SQLiteStore.open_readonly(storage.path)
    return await SQLiteStore.open(storage.path)


async def open_coordinator(storage: Storage, instance: str, location: str = "") -> Coordinator | None:
    """The coordinator of instances sharing `storage`'s database, or None for SQLite (one instance,
    always the leader). Raises StoreUnavailable when the database cannot be reached."""
    if storage.url is None:
        return None
    from statuspage.store.pg_cluster import open_pg_coordinator

    return await open_pg_coordinator(storage.url, instance, location)
