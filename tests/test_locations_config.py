"""Probe-location settings: defaults, errors that name their key path, `--location` on the CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from click.testing import CliRunner

from statuspage.cli import cli
from statuspage.config import ConfigError, load_config_text
from tests.conftest import start_app, write_config


def text(probe: dict[str, Any], monitor: dict[str, Any] | None = None, pg: bool = True) -> str:
    return yaml.safe_dump({
        "storage": {"url": "postgresql://u:p@db.internal/statuspage"} if pg else {},
        "probe": probe,
        "pages": [{"slug": "nps", "name": "NPS", "components": [{"slug": "api", "name": "API", "monitors": [
            {"name": "api", "url": "https://api.example/health", **(monitor or {})},
            {"name": "beat", "type": "push", "token": "t0ken-123"}]}]}],
    })


def problems(source: str) -> str:
    with pytest.raises(ConfigError) as err:
        load_config_text(source)
    return str(err.value)


def test_defaults_one_location_and_several() -> None:
    one = load_config_text(text({}, pg=False))
    assert one.probe.location == "local" and not one.located
    assert [m.locations for _, _, m in one.monitors()] == [["local"], ["local"]]
    several = load_config_text(text({"locations": ["sp", "va", "fra"]}))
    assert several.located and several.probe.location == "sp"  # the first listed by default
    api, beat = (m for _, _, m in several.monitors())
    assert api.locations == ["sp", "va", "fra"] and api.quorum == "majority"
    assert beat.locations == ["sp"]  # a heartbeat is judged by one location
    assert several.at_location("va").probe.location == "va"


def test_errors_name_their_key_path() -> None:
    assert "probe.locations: several locations need a database they share" in problems(
        text({"locations": ["sp", "va"]}, pg=False))
    assert "monitors[0].locations: \"mars\" is not one of probe.locations (sp, va)" in problems(
        text({"locations": ["sp", "va"]}, {"locations": ["mars"]}))
    assert "probe.location" in problems(text({"locations": ["sp", "va"], "location": "mars"}))
    assert "quorum" in problems(text({"locations": ["sp", "va"], "quorum": 0}))
    assert "canaries" in problems(text({"canaries": ["not a canary"]}, pg=False))
    with pytest.raises(ConfigError, match=r"--location \"mars\" is not one of probe\.locations"):
        load_config_text(text({"locations": ["sp", "va"]})).at_location("mars")


async def test_check_prints_the_location_it_probed_from(tmp_path: Path, unused_tcp_port: int) -> None:
    app = web.Application()
    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/", ok)
    runner = await start_app(app, unused_tcp_port)
    try:
        monitor = {"name": "api", "url": f"http://127.0.0.1:{unused_tcp_port}/"}
        cfg = write_config(tmp_path / "config.yaml", {"probe": {"location": "sp"}, "pages": [
            {"slug": "nps", "name": "NPS", "components": [{"slug": "api", "name": "API", "monitors": [monitor]}]}]})
        runner_cli = CliRunner()
        plain = await asyncio.to_thread(runner_cli.invoke, cli, ["check", "--config", str(cfg), "--location", "sp"])
        assert plain.exit_code == 0 and "Probed from location sp.\n" in plain.output
        as_json = await asyncio.to_thread(runner_cli.invoke, cli, ["check", "--config", str(cfg), "--json"])
        assert json.loads(as_json.output[as_json.output.index("[\n"):])[0]["location"] == "sp"
        # A location the config does not know is a usage error (check's UNKNOWN), not a new name for this one.
        tokyo = await asyncio.to_thread(runner_cli.invoke, cli, ["check", "--config", str(cfg), "--location", "tokyo"])
        assert tokyo.exit_code == 3 and "Invalid value for '--location': \"tokyo\" is not a probe location: " \
            "probe.locations lists none" in tokyo.output
    finally:
        await runner.cleanup()

