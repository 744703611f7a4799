"""The smaller findings of the red-team pass (issue 12.9): framing, rate limits, the aiohttp floor,
credentials given twice. (The database ones are in test_harden_database.py.)"""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

import pytest
from aiohttp import ClientSession
from prometheus_client.parser import text_string_to_metric_families

from statuspage.config import ConfigError, load_config_text
from tests.conftest import REPO
from tests.harden_env import served
from tests.server_env import ALICE, PUSH_TOKEN, make_config

PAGE = {"slug": "nps", "name": "NPS", "components": [{"slug": "app", "name": "App", "monitors": [
    {"name": "web", "url": "http://127.0.0.1:9/"}]}]}


@pytest.mark.parametrize(("ancestors", "csp", "xfo"), [
    (None, "frame-ancestors 'self'", "SAMEORIGIN"),
    (["'none'"], "frame-ancestors 'none'", "DENY"),
    (["'self'", "https://intranet.example"], "frame-ancestors 'self' https://intranet.example", None),
], ids=["default-self", "none", "an-intranet"])
async def test_public_pages_say_who_may_frame_them(
    tmp_path: Path, ancestors: list[str] | None, csp: str, xfo: str | None
) -> None:
    config = make_config(tmp_path)
    if ancestors is not None:
        config = config.model_copy(update={"server": config.server.model_copy(
            update={"frame_ancestors": tuple(ancestors)})})
    async with served(tmp_path, config) as server, ClientSession() as http:
        (server.site / "nps").mkdir()
        (server.site / "nps/index.html").write_text("<!doctype html><title>NPS</title>")
        response = await http.get(f"{server.url}/nps/")
        assert response.status == 200
        assert response.headers["Content-Security-Policy"].endswith(csp)
        assert response.headers.get("X-Frame-Options") == xfo


@pytest.mark.parametrize("value", ["*", "https://a.example; script-src *", ["'none'", "'self'"], "javascript:x"])
def test_frame_ancestors_refuses_what_is_not_a_source(value: object) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(str({"server": {"frame_ancestors": value}, "pages": [PAGE]}), env={})
    assert info.value.problems[0].startswith("server.frame_ancestors")


async def test_pushes_are_rate_limited_per_client_and_never_one_log_line_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with served(tmp_path) as server, ClientSession() as http:
        statuses = []
        for _ in range(300):
            async with http.get(f"{server.url}/api/push/{PUSH_TOKEN}") as response:
                statuses.append(response.status)
                if response.status == 429:
                    retry = response.headers["Retry-After"]
        assert statuses[:100] == [200] * 100  # a burst of five seconds' worth (20/s) passes
        assert 429 in statuses and int(retry) >= 1
        metrics = await (await http.get(f"{server.url}/metrics")).text()
    samples = {(s.name, tuple(s.labels.values())): s.value
               for f in text_string_to_metric_families(metrics) for s in f.samples}
    assert samples[("statuspage_http_rate_limited_total", ("push",))] == statuses.count(429)
    assert samples[("statuspage_pushes_total", ("up",))] == statuses.count(200)
    lines = [r for r in caplog.records if "/metrics" not in r.getMessage()
             and r.name in ("aiohttp.access", "statuspage.web.ratelimit")]
    assert len(lines) == 1 and "rate limited" in lines[0].getMessage()  # one line for 300 requests


async def test_failed_admin_authentications_are_limited_per_client(tmp_path: Path) -> None:
    async with served(tmp_path) as server, ClientSession() as http:
        wrong = {"Authorization": "Bearer not-the-token-0000000000"}
        statuses = [(await http.get(f"{server.url}/api/admin/incidents", headers=wrong)).status
                    for _ in range(12)]
        assert statuses == [401] * 10 + [429] * 2
        response = await http.get(f"{server.url}/api/admin/incidents", headers={"Authorization": f"Bearer {ALICE}"})
        assert response.status == 429 and int(response.headers["Retry-After"]) >= 1
        assert (await response.json())["error"].startswith("too many failed authentications")
        hook = await http.post(f"{server.url}/api/hooks/chatwoot?token=wrong", json={})
        assert hook.status == 429


def test_aiohttp_floor_has_the_decompression_bomb_fixes() -> None:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    floor = next(re.search(r">=([\d.]+)", d).group(1) for d in deps if d.startswith("aiohttp"))  # type: ignore[union-attr]
    assert tuple(int(p) for p in floor.split(".")) >= (3, 14, 1)  # CVE-2025-69223, CVE-2026-54278


def test_url_credentials_and_an_authorization_header_are_one_error_naming_both() -> None:
    mon = {"name": "web", "url": "https://bot:s3cret@app.example/", "headers": {"authorization": "Bearer x"}}
    with pytest.raises(ConfigError) as info:
        load_config_text(str({"pages": [{**PAGE, "components": [{**PAGE["components"][0], "monitors": [mon]}]}]}),
                         env={})
    assert info.value.problems == [
        "pages[0].components[0].monitors[0]: url has credentials (user:password@) and headers.authorization is "
        "set too; give them in one place only"]
    assert "s3cret" not in str(info.value)
