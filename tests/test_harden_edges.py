"""Values at the edge of what the program can show are refused at the door; one bad row never stops the
others, nor the admin lists, nor `incident list`; /healthz says when renders fail (issue 12.2).

Before: `POST /api/admin/incidents` with `started_at: 0001-01-01T00:00:00Z` was stored and answered
500; from then on every render failed with OverflowError (in America/Sao_Paulo, year 1 minus three
hours is year 0), also after a restart; the admin list answered 500 and /healthz said ok.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
from aiohttp import ClientSession
from click.testing import CliRunner

from statuspage.cli.commands import cli
from statuspage.config import ConfigError, load_config_text
from statuspage.runner import Runtime
from statuspage.site.render import render_site
from tests.conftest import write_config
from tests.harden_env import served
from tests.server_env import ALICE, NOW

AUTH = {"Authorization": f"Bearer {ALICE}"}
YEAR_1 = -62135596800.0  # 0001-01-01T00:00:00Z
YEAR_10000 = 253402300800.0  # 10000-01-01T00:00:00Z


@pytest.mark.parametrize(("route", "body", "field"), [
    ("incidents", {"started_at": "0001-01-01T00:00:00Z"}, "started_at"),
    ("incidents", {"started_at": "1999-12-31T23:59:59Z"}, "started_at"),
    ("maintenances", {"start": "2026-01-02T00:00:00Z", "end": "9999-12-31T23:59:59-12:00"}, "end"),
    ("maintenances", {"start": "2100-01-01T00:00:00Z", "end": "2100-01-01T02:00:00Z"}, "start"),
], ids=["year-1", "before-2000", "end-in-year-10000", "year-2100"])
async def test_edge_times_are_refused_naming_the_field_and_nothing_is_committed(
    tmp_path: Path, route: str, body: dict[str, str], field: str
) -> None:
    base = {"page": "nps", "title": "edge", **({"severity": "T4"} if route == "incidents" else {})}
    async with served(tmp_path) as server, ClientSession() as http:
        response = await http.post(f"{server.url}/api/admin/{route}", json={**base, **body}, headers=AUTH)
        answer = await response.json()
        assert (response.status, answer["field"]) == (400, field), answer
        assert "2000 to 2099" in answer["error"]
        assert await server.store.list_incidents() == []
        assert await server.store.list_maintenances(include_cancelled=True) == []
        # The site still renders, now and after a restart.
        await render_site(server.config, server.store, server.site, NOW)


async def test_a_stored_row_no_output_can_show_leaves_every_other_row_published(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with served(tmp_path) as server, ClientSession() as http:
        good = await http.post(f"{server.url}/api/admin/incidents", headers=AUTH, json={
            "page": "nps", "title": "Relatórios lentos", "severity": "T3", "message": "olhando"})
        assert good.status == 201
        good_id = int((await good.json())["id"])
        # Rows an older version stored: an incident from year 1, a window ending in year 10000.
        db = sqlite3.connect(server.config.storage.path)
        with db:
            bad_id = db.execute(
                "INSERT INTO incidents (page, title, severity, impact, status, components, automatic, "
                "started_at, due_at, postmortem, created_at, updated_at) VALUES ('nps', 'Ano um', 'T4', "
                "'none', 'investigating', '[]', 0, ?, ?, '', ?, ?)",
                (YEAR_1, YEAR_1 + 7 * 86400, NOW, NOW)).lastrowid
            window_id = db.execute(
                "INSERT INTO maintenances (page, title, message, components, start_at, end_at, created_at, "
                "created_by) VALUES ('nps', 'Para sempre', '', '[]', ?, ?, ?, 'x')",
                (NOW - 60, YEAR_10000 + 3600, NOW)).lastrowid
        db.close()
        caplog.set_level(logging.WARNING)
        await render_site(server.config, server.store, server.site, NOW)
        assert (server.site / f"nps/incidents/{good_id}.html").exists()
        assert not (server.site / f"nps/incidents/{bad_id}.html").exists()
        feed = (server.site / "nps/feed.atom").read_text()
        assert "Relatórios lentos" in feed and "Ano um" not in feed
        assert f"incident id={bad_id} left out of the site" in caplog.text
        assert f"maintenance id={window_id} left out of the site" in caplog.text
        # The admin lists still answer, with the bad rows in them so an engineer can act on them.
        listed = await http.get(f"{server.url}/api/admin/incidents", headers=AUTH)
        assert listed.status == 200
        by_id = {i["id"]: i for i in (await listed.json())["incidents"]}
        assert by_id[str(bad_id)]["started_at"] is None and by_id[str(good_id)]["started_at"]
        windows = await http.get(f"{server.url}/api/admin/maintenances", headers=AUTH)
        assert windows.status == 200
        resolved = await http.post(f"{server.url}/api/admin/incidents/{bad_id}/resolve", headers=AUTH)
        assert resolved.status == 200, await resolved.text()
    config = write_config(tmp_path / "config.yaml", {
        "storage": {"path": server.config.storage.path}, "site": {"output_dir": str(server.site)},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "App", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}]})
    # The CLI runs its own event loop: in a thread, as from a shell.
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["incident", "list", "--all", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f"#{bad_id} [nps] T4 resolved: Ano um (started (epoch {YEAR_1!r}: not a showable time)" in result.output
    assert f"#{good_id} [nps] T3" in result.output


async def test_healthz_is_503_with_the_reason_while_renders_fail(tmp_path: Path) -> None:
    site = tmp_path / "site"
    config = load_config_text(json.dumps({
        "storage": {"path": str(tmp_path / "db.sqlite")}, "site": {"output_dir": str(site)},
        "server": {"port": 0, "render_every": "1h"}, "defaults": {"interval": "1h"},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "App", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}]}),
        env={})
    runtime = Runtime(config)
    await runtime.start()
    try:
        async with ClientSession() as http:
            url = f"http://127.0.0.1:{runtime.port}/healthz"
            assert (await http.get(url)).status == 200
            shutil.rmtree(site)
            site.write_text("a file where the site should be")  # every write below it fails
            runtime.mark_dirty()
            for _ in range(100):
                response = await http.get(url)
                if response.status == 503:
                    break
                await asyncio.sleep(0.1)
            report = await response.json()
            assert response.status == 503, report
            assert [p["part"] for p in report["problems"]] == ["render"]
            assert "NotADirectoryError" in report["problems"][0]["reason"]
            site.unlink()
            runtime.mark_dirty()
            for _ in range(100):
                if (await http.get(url)).status == 200:
                    break
                await asyncio.sleep(0.1)
            assert (await (await http.get(url)).json()) == {"status": "ok"}
    finally:
        await runtime.close()


@pytest.mark.parametrize(("extra", "monitor", "path", "says"), [
    ({}, {"interval": ".inf"}, "pages[0].components[0].monitors[0].interval", "is longer than 3650 days"),
    ({}, {"timeout": ".nan"}, "pages[0].components[0].monitors[0].timeout", "is not a duration"),
    ({"sla": {"severities": {s: {"mean": "1h", "limit": "99999999999d" if s == "T1" else "1d"}
                             for s in ("T1", "T2", "T3", "T4")}}}, {},
     "sla.severities.T1.limit", "is longer than 3650 days"),
    ({"incidents": {"auto_resolve_after": ".inf"}}, {}, "incidents.auto_resolve_after", "is longer than"),
    ({}, {"cert_warn_days": 10**20}, "pages[0].components[0].monitors[0].cert_warn_days", "must be at most 3650"),
    ({"site": {"title": "\ud800"}}, {}, "site.title", '"\\ud800" is not text'),
], ids=["interval-inf", "timeout-nan", "limit-huge", "auto-resolve-inf", "cert-days-huge", "lone-surrogate"])
def test_config_values_at_the_edge_are_refused_naming_the_key(
    extra: dict[str, object], monitor: dict[str, object], path: str, says: str
) -> None:
    mon = {"name": "web", "url": "http://127.0.0.1:9/", **monitor}
    text = json.dumps({**extra, "pages": [{"slug": "nps", "name": "NPS", "components": [
        {"slug": "app", "name": "App", "monitors": [mon]}]}]}).replace('".inf"', ".inf").replace('".nan"', ".nan")
    with pytest.raises(ConfigError) as info:
        load_config_text(text, env={})
    line = next(p for p in info.value.problems if p.startswith(path))
    assert says in line
    line.encode("utf-8")  # printable: a lone surrogate is escaped, never echoed


def test_cli_refuses_a_maintenance_past_2099(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yaml", {
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "App", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}]})
    sqlite3.connect(tmp_path / "db.sqlite").close()
    runner = CliRunner()
    result = runner.invoke(cli, ["maintenance", "add", "--config", str(config), "--page", "nps", "--title", "x",
                                 "--start", "9999-12-31T23:00", "--duration", "2h"])
    assert result.exit_code != 0 and "is outside the years 2000 to 2099" in result.output
    result = runner.invoke(cli, ["maintenance", "add", "--config", str(config), "--page", "nps", "--title", "x",
                                 "--start", "2099-12-30T23:00", "--duration", "99999d"])
    assert result.exit_code == 2 and "'--duration': end is outside the years 2000 to 2099" in result.output
    assert "Traceback" not in result.output
