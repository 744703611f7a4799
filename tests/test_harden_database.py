"""A database that cannot be used is one line naming it (issue 12.9); one deleted while running is on
/healthz.

Before: a corrupt, truncated or future-schema database, or a directory in its place, gave `render`,
`report` and `incident list` a 44–82-line traceback (`run` a 25-line one for the directory); a
database deleted while running went unnoticed and /healthz stayed ok.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from aiohttp import ClientSession
from click.testing import CliRunner

from statuspage.cli.commands import cli
from statuspage.config import load_config_text
from statuspage.runner import Runtime
from tests.conftest import write_config

PAGES = [{"slug": "nps", "name": "NPS", "components": [
    {"slug": "app", "name": "App", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}]


def corrupt(db: Path) -> None:
    db.write_bytes(b"this is not a database " * 400)


def truncated(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE filler (a TEXT)")
    conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * 400)
    conn.commit()
    conn.close()
    data = db.read_bytes()
    db.write_bytes(data[:len(data) // 2])


def future_schema(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()


def directory(db: Path) -> None:
    db.mkdir()


@pytest.mark.parametrize(("damage", "says"), [
    (corrupt, "is not a statuspage database"),
    (truncated, "is damaged (database disk image is malformed): restore it from a backup"),
    (future_schema, "has schema version 99, newer than this program"),
    (directory, "is a directory, not a database file"),
], ids=["corrupt", "truncated", "future-schema", "directory"])
@pytest.mark.parametrize("command", [["run", "--no-serve"], ["render"], ["report"], ["incident", "list"]],
                         ids=["run", "render", "report", "incident-list"])
def test_an_unusable_database_is_one_line_naming_it(
    tmp_path: Path, damage: object, says: str, command: list[str]
) -> None:
    db = tmp_path / "db.sqlite"
    damage(db)  # type: ignore[operator]
    config = write_config(tmp_path / "config.yaml", {
        "storage": {"path": str(db)}, "site": {"output_dir": str(tmp_path / "site")}, "pages": PAGES})
    result = CliRunner().invoke(cli, [*command, "--config", str(config)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(db) in lines[0] and says in lines[0], result.output


async def test_a_database_deleted_while_running_is_on_healthz(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    config = load_config_text(json.dumps({
        "storage": {"path": str(db)}, "site": {"output_dir": str(tmp_path / "site")},
        "server": {"port": 0}, "defaults": {"interval": "1h"}, "pages": PAGES}), env={})
    runtime = Runtime(config)
    await runtime.start()
    try:
        async with ClientSession() as http:
            url = f"http://127.0.0.1:{runtime.port}/healthz"
            assert (await http.get(url)).status == 200
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            for _ in range(50):
                response = await http.get(url)
                if response.status == 503:
                    break
                await asyncio.sleep(0.2)
            report = await response.json()
    finally:
        await runtime.close()
    assert response.status == 503, report
    database = [p for p in report["problems"] if p["part"] == "database"]
    assert database and "was deleted or replaced while running" in database[0]["reason"]
    assert str(db) in database[0]["reason"]
