"""Engineers' incident and maintenance commands on a real database, through the CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from statuspage.cli.commands import cli
from statuspage.store.sqlite import SQLiteStore
from tests.conftest import write_config


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = write_config(tmp_path / "config.yaml", {
        "site": {"timezone": "America/Sao_Paulo"},
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "Plataforma", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]},
            {"slug": "reports", "name": "Relatórios", "monitors": [{"name": "r", "url": "http://127.0.0.1:9/r"}]},
        ]}],
    })

    async def create() -> None:
        await (await SQLiteStore.open(tmp_path / "db.sqlite")).close()

    asyncio.run(create())
    return path


def run(cfg: Path, *args: str) -> Result:
    group, *rest = args
    return CliRunner().invoke(cli, [group, *rest[:1], "--config", str(cfg), *rest[1:]])


def test_incident_lifecycle_through_the_cli(cfg: Path) -> None:
    opened = run(cfg, "incident", "open", "--page", "nps", "--title", "Relatórios lentos", "--severity", "t2",
                 "--component", "reports", "--message", "Investigando", "--by", "alice")
    assert opened.exit_code == 0, opened.output
    assert "opened #1 [nps] T2 investigating: Relatórios lentos" in opened.output
    acked = run(cfg, "incident", "ack", "1", "--by", "bob")
    assert acked.exit_code == 0 and "acked by bob" in acked.output
    again = run(cfg, "incident", "ack", "1", "--by", "carol")
    # Someone else cannot take it over: exit 1 naming who holds it (as the API's 409).
    assert again.exit_code == 1 and "already acknowledged by bob since" in again.output
    repeat = run(cfg, "incident", "ack", "1", "--by", "bob")
    assert repeat.exit_code == 0 and "acked by bob" in repeat.output
    upd = run(cfg, "incident", "update", "1", "--status", "identified", "--message", "Índice faltando")
    assert upd.exit_code == 0 and "T2 identified" in upd.output
    listed = run(cfg, "incident", "list", "--json")
    data = json.loads(listed.output)
    assert [(i["id"], i["status"], i["acknowledged_by"]) for i in data] == [(1, "identified", "bob")]
    assert [u["message"] for u in data[0]["updates"]] == ["Investigando", "Índice faltando"]
    done = run(cfg, "incident", "resolve", "1", "--message", "Corrigido", "--by", "bob")
    assert done.exit_code == 0 and "resolved #1" in done.output
    assert run(cfg, "incident", "list").output.strip() == "no open incidents"
    assert "#1 [nps] T2 resolved" in run(cfg, "incident", "list", "--all").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("incident", "ack", "42", "--by", "x"), "incident 42 does not exist"),
        (("incident", "update", "42", "--status", "identified", "--message", "x"), "incident 42 does not exist"),
        (("incident", "open", "--page", "xyz", "--title", "t", "--severity", "T1"), 'page "xyz" does not exist'),
        (("incident", "open", "--page", "nps", "--title", "t", "--severity", "T1", "--component", "db"),
         'component "db" is not on page nps'),
        (("incident", "open", "--page", "nps", "--title", "t", "--severity", "T7"), "'T7' is not one of"),
        (("maintenance", "add", "--page", "nps", "--title", "m", "--start", "2030-01-01T10:00",
          "--end", "2030-01-01T09:00"), "ends before it starts"),
        (("maintenance", "add", "--page", "nps", "--title", "m", "--start", "tomorrow", "--duration", "1h"),
         '"tomorrow" is not a time'),
        (("maintenance", "cancel", "9"), "maintenance 9 does not exist"),
    ],
    ids=["ack unknown", "update unknown", "unknown page", "unknown component", "bad severity", "window order",
         "bad time", "cancel unknown"],
)
def test_mistakes_are_one_line_errors(cfg: Path, args: tuple[str, ...], message: str) -> None:
    result = run(cfg, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_transition_is_refused(cfg: Path) -> None:
    run(cfg, "incident", "open", "--page", "nps", "--title", "t", "--severity", "T3")
    run(cfg, "incident", "resolve", "1")
    result = run(cfg, "incident", "update", "1", "--status", "investigating", "--message", "again")
    assert result.exit_code == 1
    assert "incident 1 is resolved; it cannot move to investigating" in result.output


def test_maintenance_add_list_cancel(cfg: Path) -> None:
    added = run(cfg, "maintenance", "add", "--page", "nps", "--title", "Banco de dados",
                "--start", "2030-01-01T22:00", "--duration", "2h", "--component", "reports")
    assert added.exit_code == 0, added.output
    assert "#1 [nps] 2030-01-01 22:00 → 2030-01-02 00:00 Banco de dados (reports)" in added.output
    assert "#1 [nps]" in run(cfg, "maintenance", "list").output
    cancelled = run(cfg, "maintenance", "cancel", "1")
    assert cancelled.exit_code == 0 and "CANCELLED" in cancelled.output
    assert run(cfg, "maintenance", "list").output.strip() == "no maintenance windows"


def test_commands_need_an_existing_database(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.yaml", {
        "storage": {"path": str(tmp_path / "none.sqlite")},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "P", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}],
    })
    result = run(path, "incident", "list")
    assert result.exit_code == 1 and "no database at" in result.output
