"""Storage: the `Store` interface (base.py), the write buffer both backends share (buffer.py) and the
backends: sqlite.py (the embedded default, `storage.path`) and postgres.py (`storage.url`, shared by
several instances, which coordinate through pg_cluster.py).

Open the configured backend with `open_store(config.storage)`; nothing above this package names a
backend.
"""

from __future__ import annotations

from statuspage.config import Storage
from statuspage.store.base import (
    Coordinator,
    JsonAble,
    LeadershipLost,
    OutboxRow,
    PushRow,
    Store,
    StoreUnavailable,
)
from statuspage.store.sqlite import SQLiteStore

__all__ = [
    "Coordinator", "JsonAble", "LeadershipLost", "OutboxRow", "PushRow", "SQLiteStore", "Store",
    "StoreUnavailable",
    "open_coordinator", "open_store",
]


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
