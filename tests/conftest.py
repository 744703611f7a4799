"""Shared test helpers: free ports, config files, and the real `statuspage` process."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from tests.pg import backend, pg_cluster, pg_url  # noqa: F401 - fixtures for every test module

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, data: dict[str, Any]) -> Path:
    """Write a config dict as YAML."""
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def db_rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` on the database a process under test writes; [] while its tables do not exist yet."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


async def start_app(app: web.Application, port: int, **site: Any) -> web.AppRunner:
    """Serve `app` on 127.0.0.1:`port` (`site` goes to TCPSite, e.g. ssl_context); clean up the runner."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, **site).start()
    return runner


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, every: float = 0.1) -> bool:
    """Poll until `predicate()` is true; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


class Process:
    """`statuspage ARGS` as a child process, logging to a file."""

    def __init__(self, args: list[str], cwd: Path, log: Path) -> None:
        self.log_path = log
        self._log = log.open("wb")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "statuspage", *args], cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
            env=env,
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send `sig` and wait for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def output(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """Start `statuspage` subprocesses that are killed at the end of the test."""
    started: list[Process] = []

    def start(*args: str) -> Process:
        proc = Process(list(args), tmp_path, tmp_path / f"process-{len(started)}.log")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.proc.poll() is None:
            proc.proc.kill()
            proc.proc.wait()
