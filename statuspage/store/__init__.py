"""Storage: the `Store` interface (base.py) and its backends (sqlite.py; PostgreSQL goes beside it).

Open the configured backend with `open_store(config.storage)`; nothing above this package names a
backend.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from statuspage.config import Storage
from statuspage.store.base import JsonAble, MailJob, Notice, OutboxRow, Store, Subscriber
from statuspage.store.sqlite import SQLiteStore

__all__ = ["JsonAble", "MailJob", "Notice", "OutboxRow", "SQLiteStore", "Store", "Subscriber",
           "database_problem", "open_store", "unavailable_reason"]

# What the database's own errors mean, in words (checked in order against the error's message).
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


def unavailable_reason(exc: BaseException) -> str | None:
    """A short reason when `exc` means the database cannot take reads or writes right now (disk full,
    I/O error, read-only, locked, damaged), else None. Lets code above store/ answer 503, not 500,
    without knowing which database it talks to."""
    if not isinstance(exc, sqlite3.Error):
        return None
    text = str(exc).lower()
    return next((why for marker, why in _MEANINGS if marker in text and why), f"failed: {exc}")


def database_problem(exc: BaseException, path: str) -> str | None:
    """One line naming the database file and what is wrong with it, when `exc` is about the database
    itself (corrupt, truncated, a directory in its place, a newer schema, unwritable); else None."""
    if Path(path).is_dir():
        return f"{path}: is a directory, not a database file (check storage.path)"
    if isinstance(exc, RuntimeError) and "schema version" in str(exc):
        return str(exc).splitlines()[0]
    reason = unavailable_reason(exc)
    return None if reason is None else f"database {path} {reason}"


async def open_store(storage: Storage, *, readonly: bool = False) -> Store:
    """Open (creating and migrating unless `readonly`) the database `storage` configures.

    Raises FileNotFoundError when `readonly` and there is no database yet, RuntimeError when its
    schema is not this program's, and the backend's own errors when it cannot be opened."""
    if readonly:
        return await SQLiteStore.open_readonly(storage.path)
    return await SQLiteStore.open(storage.path)
