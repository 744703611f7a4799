"""Bad command-line values are click's usage errors (exit 2, naming the option), everywhere in the
CLI; a recurring maintenance window whose occurrences would overlap is refused (CLI and admin API)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from statuspage.cli import cli
from statuspage.recurrence import normalise, shortest_gap
from tests.conftest import write_config
from tests.server_env import ServerEnv, auth, close_env, open_env


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_the_shortest_gap_counts_dst_and_several_times_a_day() -> None:
    # New York, 09:00 local daily from 2026-03-01: the day DST starts is 23 h from one 09:00 to the next.
    start = utc("2026-03-01 14:00")
    daily = normalise("FREQ=DAILY", start, "America/New_York")
    assert shortest_gap(daily, start, start + 3600, "America/New_York") == 23 * 3600
    assert shortest_gap(daily, start, start + 3600, "UTC") == 24 * 3600
    twice = normalise("FREQ=DAILY;BYHOUR=9,11", start, "UTC")
    assert shortest_gap(twice, start, start + 3600, "UTC") == 2 * 3600
    monthly = normalise("FREQ=MONTHLY;BYMONTHDAY=-1", start, "UTC")  # February's end to March's end: 28 d
    assert shortest_gap(monthly, start, start + 3600, "UTC") == 28 * 86400
    once = normalise("FREQ=WEEKLY;COUNT=1", start, "UTC")
    assert shortest_gap(once, start, start + 3600, "UTC") is None


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    config = write_config(tmp_path / "config.yaml", {
        "site": {"timezone": "America/New_York"}, "storage": {"path": str(tmp_path / "db.sqlite")},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "App", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}]})
    sqlite3.connect(tmp_path / "db.sqlite").close()
    return config


ADD = ("maintenance", "add", "--page", "nps", "--title", "x", "--start", "2099-03-01T09:00")


@pytest.mark.parametrize(("args", "option", "says"), [
    ((*ADD, "--duration", "3d", "--rrule", "FREQ=DAILY"), "--rrule",
     "so windows of 3d would overlap: make the window shorter than"),
    # 2099-03-08 is the day DST starts in New York: one 09:00 to the next is 23 h.
    ((*ADD, "--duration", "23h", "--rrule", "FREQ=DAILY"), "--rrule", "every 23h"),
    ((*ADD, "--duration", "1h", "--rrule", "FREQ=WEEKLY;BYDAY=XX"), "--rrule", "is not a valid RRULE"),
    ((*ADD, "--duration", "1h", "--rrule", "FREQ=DAILY;INTERVAL=0"), "--rrule", "INTERVAL must be"),
    ((*ADD, "--duration", "3x"), "--duration", '"3x" is not a duration'),
    ((*ADD, "--duration", "0s"), "--duration", "is not longer than zero"),
    ((*ADD, "--end", "2099-03-01T08:00"), "--end", "ends before it starts"),
    (("maintenance", "add", "--page", "nps", "--title", "x", "--start", "soon", "--duration", "1h"), "--start",
     '"soon" is not a time'),
    (("maintenance", "add", "--page", "nope", "--title", "x", "--start", "2099-03-01T09:00", "--duration", "1h"),
     "--page", 'page "nope" does not exist'),
    (("incident", "open", "--page", "nps", "--title", "t", "--severity", "T1", "--component", "db"), "--component",
     "db"),
    (("report", "--month", "11/2026"), "--month", '"11/2026" is not a month like 2026-11'),
    (("maintenance", "list", "--page", "xyz"), "--page", 'page "xyz" does not exist (pages: nps)'),
    (("render", "--out", "/dev/null/site"), "--out", "cannot write the site into /dev/null/site: Not a directory"),
], ids=["rrule-overlap", "rrule-overlap-dst", "rrule-syntax", "rrule-interval", "duration", "duration-zero",
        "end", "start", "page", "component", "month", "list-page", "render-out"])
def test_a_bad_value_is_a_usage_error_naming_its_option(cfg: Path, args: tuple[str, ...], option: str,
                                                        says: str) -> None:
    result = CliRunner().invoke(cli, [*args, "--config", str(cfg)])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output and says in result.output, result.output
    assert "Usage: " in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("args", "says"), [
    (("--location", "tokyo"), "Invalid value for '--location': \"tokyo\" is not a probe location"),
    (("--bogus",), "No such option '--bogus'"),
], ids=["location", "unknown-option"])
def test_check_exits_unknown_on_a_usage_error_as_monitoring_plugins_do(cfg: Path, args: tuple[str, ...],
                                                                         says: str) -> None:
    # For `check`, 2 is CRITICAL: a mistyped option must not page anyone as "down".
    result = CliRunner().invoke(cli, ["check", *args, "--config", str(cfg)])
    assert result.exit_code == 3 and says in result.output and "Usage: " in result.output, result.output


def test_check_exits_unknown_on_a_bad_config(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("probe: {quorum: banana}\npages: []\n")
    result = CliRunner().invoke(cli, ["check", "--config", str(tmp_path / "config.yaml")])
    assert result.exit_code == 3 and "probe.quorum: \"banana\" must be a whole number or majority" in result.output


def test_run_may_name_its_one_location(cfg: Path) -> None:
    from statuspage.cli.commands import at_location
    from statuspage.config import load_config

    assert at_location(load_config(cfg, env={}), "solo").probe.location == "solo"


def test_a_window_shorter_than_the_gap_is_scheduled(cfg: Path) -> None:
    result = CliRunner().invoke(cli, [*ADD, "--duration", "22h", "--rrule", "FREQ=DAILY", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "repeats FREQ=DAILY" in result.output


def test_demo_refuses_a_port_that_does_not_exist() -> None:
    result = CliRunner().invoke(cli, ["demo", "--port", "99999"])
    assert result.exit_code == 2 and "Invalid value for '--port'" in result.output
    assert "Traceback" not in result.output


def test_migrate_refuses_a_url_that_is_not_postgresql_without_showing_it() -> None:
    result = CliRunner().invoke(cli, ["migrate", "--from", "x.sqlite", "--to", "mysql://u:s3cret@h/db"])
    assert result.exit_code == 2 and "Invalid value for '--to'" in result.output
    assert "s3cret" not in result.output


@pytest.mark.parametrize("url", ["postgresql://bob:s3cret@127.0.0.1:99999/db", "postgresql://bob:s3cret@[::1/db"])
def test_migrate_refuses_a_bad_port_or_host_as_storage_url_does(url: str) -> None:
    # Both were tracebacks (OverflowError, ValueError) from the connection attempt.
    result = CliRunner().invoke(cli, ["migrate", "--from", "x.sqlite", "--to", url])
    assert result.exit_code == 2 and "Invalid value for '--to'" in result.output
    assert "s3cret" not in result.output and "Traceback" not in result.output


def test_migrate_from_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("hello, not a database\n" * 100)
    result = CliRunner().invoke(cli, ["migrate", "--from", str(source), "--to",
                                      "postgresql://bob:s3cret@127.0.0.1:1/db"])
    assert result.exit_code == 1, result.output
    assert result.output.strip() == f"Error: database {source} is not a statuspage database (another kind of file, or damaged)"


def test_a_postgresql_url_with_its_password_in_the_query_is_shown_masked() -> None:
    from statuspage.store.postgres import redact_url
    assert redact_url("postgresql://127.0.0.1/db?password=QuerySecretPw&sslmode=require") == (
        "postgresql://127.0.0.1/db?password=***&sslmode=require")
    assert redact_url("postgresql://bob:pw@h:5432/db") == "postgresql://bob:***@h:5432/db"
    assert redact_url("postgresql://bob@h/db") == "postgresql://bob@h/db"


@pytest.fixture
async def env(tmp_path: Path, aiohttp_client: Any) -> Any:
    server = await open_env(tmp_path, aiohttp_client)
    yield server
    await close_env(server)


async def test_the_admin_api_refuses_overlapping_occurrences(env: ServerEnv) -> None:
    bad = await env.http.post("/api/admin/maintenances", headers=auth(), json={
        "page": "nps", "title": "x", "start": "2026-01-04T02:00:00", "end": "2026-01-07T02:00:00",
        "rrule": "FREQ=DAILY"})
    assert bad.status == 400
    assert await bad.json() == {"error": "rrule repeats as often as every 1d, so windows of 3d would overlap: "
                                         "make the window shorter than 1d", "field": "rrule"}
    assert (await env.store.list_maintenances(page="nps", include_cancelled=True)) == []
