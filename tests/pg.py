"""A throwaway PostgreSQL cluster for the tests, and the fixture that runs a test on both backends.

    pg_cluster   (session)  initdb into a temporary folder, started on a free port with its unix socket
                            there, password auth on TCP, fast settings (fsync off); stopped and removed
                            at the end of the session, even when it fails
    pg_url       (function) a fresh empty database on it: `postgresql://postgres:…@127.0.0.1:PORT/t_N`
    backend      (function) parametrized `sqlite` / `postgres`: a `Backend` whose `storage` is a
                            `Storage` for a new SQLite file under tmp_path or a new PostgreSQL database

To run a test on both backends, take `backend` and open stores with `await backend.open()` (or put
`backend.storage_yaml()` in a config's `storage:`). Where PostgreSQL 15's binaries are missing the
`postgres` cases skip with one line saying so; `make test` installs them first.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from statuspage.config import Storage
from statuspage.store import Store, open_store

BINDIR = Path(os.environ.get("STATUSPAGE_PG_BINDIR", "/usr/lib/postgresql/15/bin"))
_counter = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One PostgreSQL server in a temporary folder; `url(db)` reaches it over TCP with the password."""

    def __init__(self, bindir: Path = BINDIR) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="statuspage-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.password = secrets.token_hex(12)
        self.user = "postgres"
        self._as: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: the cluster belongs to the postgres system user.
            shutil.chown(self.root, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self._as, *args], capture_output=True, text=True, check=check, timeout=timeout)

    def init(self) -> None:
        """initdb with scram passwords on TCP and trust on the private unix socket."""
        pwfile = self.root / "pw"
        pwfile.write_text(self.password)
        if self._as:
            shutil.chown(pwfile, "postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user, "--pwfile", str(pwfile),
                  "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8",
                  "--locale=C.UTF-8")
        pwfile.unlink()

    def start(self, durable: bool = False) -> None:
        """Start the server (fsync off unless `durable`) and wait until it accepts connections."""
        options = [
            f"-p {self.port}", f"-k {self.root}", "-c listen_addresses=127.0.0.1", "-c max_connections=300",
            "-c shared_buffers=64MB", "-c log_min_messages=warning",
        ]
        if not durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l",
                  str(self.root / "server.log"), "-o", " ".join(options), "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast` disconnects clients; `immediate` is a crash)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-m", mode, "stop",
                  check=False)

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        """A TCP URL with the password (or another one, to test a wrong password)."""
        pw = self.password if password is None else password
        return f"postgresql://{self.user}:{pw}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL through the unix socket as the superuser; return psql's unaligned output."""
        done = self._run(str(self.bindir / "psql"), "-h", str(self.root), "-p", str(self.port), "-U", self.user,
                         "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql)
        return done.stdout.strip()

    def create_database(self) -> str:
        """A new empty database; return its name."""
        name = f"t_{os.getpid()}_{next(_counter)}"
        self.psql(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        """Drop a test's database (its connections too), so no autovacuum works on it afterwards."""
        with contextlib.suppress(subprocess.SubprocessError):
            self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def remove(self) -> None:
        """Stop the server and delete its folder (idempotent)."""
        if self.root.exists():
            self.stop("immediate")
            shutil.rmtree(self.root, ignore_errors=True)


def pg_missing_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None."""
    if not (BINDIR / "initdb").is_file():
        return f"PostgreSQL 15 binaries not found in {BINDIR} (make test installs postgresql-15)"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user for initdb"
    return None


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """The session's throwaway PostgreSQL server."""
    reason = pg_missing_reason()
    if reason:
        pytest.skip(reason)
    cluster = PgCluster()
    atexit.register(cluster.remove)  # also on an interrupted session
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh empty database for this test, dropped after it."""
    name = pg_cluster.create_database()
    yield pg_cluster.url(name)
    pg_cluster.drop_database(name)


@dataclass
class Backend:
    """One test's database on one backend."""

    name: str
    storage: Storage
    cluster: PgCluster | None = None

    async def open(self) -> Store:
        """Open (and migrate) the test's database."""
        return await open_store(self.storage)

    async def open_readonly(self) -> Store:
        """Open it read-only, as the render worker does."""
        return await open_store(self.storage, readonly=True)

    def storage_yaml(self) -> dict[str, Any]:
        """The `storage:` section of a config file for this database."""
        return {"url": self.storage.url} if self.storage.url else {"path": self.storage.path}

    async def execute(self, sql: str) -> None:
        """Run raw SQL on the database (to corrupt or age it on purpose)."""
        if self.storage.url:
            import asyncpg

            conn = await asyncpg.connect(self.storage.url)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()
        else:
            import sqlite3

            with contextlib.closing(sqlite3.connect(self.storage.path)) as conn:
                conn.executescript(sql)
                conn.commit()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The test runs once on a SQLite file and once on a fresh PostgreSQL database (dropped after)."""
    if request.param == "sqlite":
        yield Backend("sqlite", Storage(path=str(tmp_path / "db.sqlite")))
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_database()
    yield Backend("postgres", Storage(url=cluster.url(name)), cluster)
    cluster.drop_database(name)


def run(coro: Any) -> Any:
    """Run a coroutine from synchronous test code."""
    return asyncio.run(coro)
