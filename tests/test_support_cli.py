"""`statuspage case …` for phone cases, and the support part of `statuspage report` (text and JSON)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from statuspage.cli import cli
from statuspage.store import SQLiteStore
from tests.conftest import write_config
from tests.support_data import config_data


def test_phone_cases_from_the_command_line_reach_the_report(tmp_path: Path) -> None:
    data = config_data(str(tmp_path / "db.sqlite"))
    data["support"]["channels"]["phone"].pop("business_hours")  # around the clock: exact figures any day
    config = write_config(tmp_path / "config.yaml", data)
    asyncio.run(_create(str(tmp_path / "db.sqlite")))
    now = datetime.now(ZoneInfo("America/Sao_Paulo"))
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, [*args, "--config", str(config)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    for n in range(5):
        opened = start.replace(minute=n).isoformat()
        assert "opened TEL-" in run("case", "open", f"TEL-{n}", "--channel", "phone", "--page", "nps", "--at", opened)
        run("case", "respond", f"TEL-{n}", "--at", start.replace(minute=n, second=30 + n).isoformat())
        run("case", "severity", f"TEL-{n}", "T3", "--at", opened)
        run("case", "resolve", f"TEL-{n}", "--outcome", "solved", "--at", start.replace(hour=2, minute=n).isoformat())
    assert "already recorded" in run("case", "respond", "TEL-0", "--at", start.replace(second=30).isoformat())
    listed = run("case", "list")
    assert listed.count("resolved (solved)") == 5 and "TEL-4" in listed
    rows = json.loads(run("case", "list", "--json"))
    assert {r["id"] for r in rows} == {f"TEL-{n}" for n in range(5)}

    report = run("report")
    assert "Support (first response" in report and "phone" in report
    support = json.loads(run("report", "--json"))["support"]
    phone = next(c for c in support["channels"] if c["channel"] == "phone")
    assert phone["cases"] == 5 and phone["first_response_median_s"] == 32 and phone["within_target_share"] == 1.0
    t3 = next(s for s in support["severities"] if s["severity"] == "T3")
    assert t3["cases"] == 5 and t3["mean_resolution_s"] == 7200 and t3["within_limit_share"] == 1.0


def test_case_commands_explain_mistakes_in_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yaml", config_data(str(tmp_path / "db.sqlite")))
    asyncio.run(_create(str(tmp_path / "db.sqlite")))
    result = CliRunner().invoke(cli, ["case", "respond", "nope", "--config", str(config)])
    assert result.exit_code == 1 and "no case has id nope" in result.output
    result = CliRunner().invoke(cli, ["case", "open", "x", "--page", "zzz", "--config", str(config)])
    assert result.exit_code == 2 and "unknown page" in result.output


async def _create(path: str) -> None:
    store = await SQLiteStore.open(path)
    await store.close()
