"""Storage: the `Store` interface (base.py) and its backends (sqlite.py; PostgreSQL goes beside it).

Open the configured backend with `open_store(config.storage)`; nothing above this package names a
backend.
"""

from __future__ import annotations

from statuspage.config import Storage
from statuspage.store.base import JsonAble, MailJob, Notice, OutboxRow, Store, Subscriber
from statuspage.store.sqlite import SQLiteStore

__all__ = ["JsonAble", "MailJob", "Notice", "OutboxRow", "SQLiteStore", "Store", "Subscriber", "open_store"]


async def open_store(storage: Storage, *, readonly: bool = False) -> Store:
    """Open (creating and migrating unless `readonly`) the database `storage` configures.

    Raises FileNotFoundError when `readonly` and there is no database yet, RuntimeError when its
    schema is not this program's, and the backend's own errors when it cannot be opened."""
    if readonly:
        return await SQLiteStore.open_readonly(storage.path)
    return await SQLiteStore.open(storage.path)
