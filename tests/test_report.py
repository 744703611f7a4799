"""`statuspage report` on a real database: exact month figures, budget and JSON output."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from statuspage.cli.commands import cli
from statuspage.config import load_config
from statuspage.models import RunRow
from statuspage.sla.report import build_report
from tests.conftest import write_config
from tests.pg import Backend

TZ = ZoneInfo("America/Sao_Paulo")
NOV_1 = datetime(2026, 11, 1, tzinfo=TZ).timestamp()
DAY = 86400.0


def _config(tmp_path: Path, backend: Backend) -> Path:
    return write_config(tmp_path / "config.yaml", {
        "storage": backend.storage_yaml(),
        "defaults": {"interval": "30s"},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "Plataforma", "monitors": [{"name": "web", "url": "http://127.0.0.1:1/"}]},
            {"slug": "api", "name": "API", "monitors": [{"name": "health", "url": "http://127.0.0.1:1/h"}]},
        ]}],
    })


async def _fill(backend: Backend) -> None:
    store = await backend.open()
    await store.register_monitors(["nps/app/web", "nps/api/health"])
    # Ten days of data from Nov 1: the platform is down for 2 h on day 3; the API for 1 h on day 5,
    # and the API has no data at all on day 8 (the monitor was stopped).
    store.buffer_runs([
        RunRow(1, "nps/app/web", "up", NOV_1, NOV_1 + 2 * DAY, False),
        RunRow(2, "nps/app/web", "down", NOV_1 + 2 * DAY, NOV_1 + 2 * DAY + 7200, False),
        RunRow(3, "nps/app/web", "up", NOV_1 + 2 * DAY + 7200, NOV_1 + 10 * DAY, False),
        RunRow(4, "nps/api/health", "up", NOV_1, NOV_1 + 4 * DAY, False),
        RunRow(5, "nps/api/health", "down", NOV_1 + 4 * DAY, NOV_1 + 4 * DAY + 3600, False),
        RunRow(6, "nps/api/health", "up", NOV_1 + 4 * DAY + 3600, NOV_1 + 7 * DAY, False),
        RunRow(7, "nps/api/health", "up", NOV_1 + 8 * DAY, NOV_1 + 10 * DAY, False),
    ])
    await store.flush()
    await store.close()


async def test_month_figures_are_exact(tmp_path: Path, backend: Backend) -> None:
    config = load_config(_config(tmp_path, backend), env={})
    await _fill(backend)
    now = NOV_1 + 10 * DAY
    report = await build_report(config, now, 2026, 11)
    page = report.pages[0]
    app, api = page.components
    assert app.month.downtime == 7200 and app.month.covered == 10 * DAY
    assert app.month.uptime == 1 - 7200 / (10 * DAY)
    assert api.month.downtime == 3600 and api.month.covered == 9 * DAY
    assert api.month.coverage == 9 * DAY / (10 * DAY)
    # The page is as down as its worst component: each component's outage counts once.
    assert page.page.month.downtime == 7200 + 3600
    assert page.page.month.covered == 10 * DAY
    assert app.budget_month.allowed == pytest.approx(4320)  # 0.5 % of 10 days
    assert app.budget_month.remaining == pytest.approx(4320 - 7200)
    assert app.met is False  # 2 h in 10 days: 99.17 %
    assert api.met is True  # 1 h in 9 covered days: 99.54 % (the day without data is not counted)
    assert page.page.met is False


def test_report_command_text_and_json(tmp_path: Path, backend: Backend) -> None:
    import asyncio

    cfg = _config(tmp_path, backend)
    asyncio.run(_fill(backend))
    runner = CliRunner()
    result = runner.invoke(cli, ["report", "--config", str(cfg), "--month", "2026-11", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["month"] == "2026-11"
    nps = data["pages"][0]
    assert nps["slug"] == "nps" and [c["name"] for c in nps["components"]] == ["Plataforma", "API"]
    assert nps["components"][0]["downtime_s"] == 7200
    text = runner.invoke(cli, ["report", "--config", str(cfg), "--month", "2026-11"])
    assert text.exit_code == 0
    assert "Plataforma" in text.output and "MISSED" in text.output
    bad = runner.invoke(cli, ["report", "--config", str(cfg), "--month", "11/2026"])
    assert bad.exit_code == 2 and 'Invalid value for \'--month\': "11/2026" is not a month like 2026-11' in bad.output
