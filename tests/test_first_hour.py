"""An operator's first hour, as real processes: the demo and `run` tell the story, the printed CLI
commands work on the demo's data, access logs are opt-in, a second acknowledgement is refused."""

from __future__ import annotations

import asyncio
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import Process, free_port, start_app, write_config

pytestmark = pytest.mark.slow

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-fedcba9876543210"
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")


async def _until(proc: Process, pred: Callable[[str], bool], timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        output = proc.output()
        if pred(output):
            return output
        assert time.monotonic() < deadline, output
        assert proc.proc.poll() is None, output
        await asyncio.sleep(0.1)


def _shell(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(line, shell=True, cwd=cwd, capture_output=True, text=True, timeout=60)


async def test_demo_prints_commands_that_work_on_its_data(tmp_path: Path, spawn: Callable[..., Process]) -> None:
    port = free_port()
    # 52 s into the script: the outage (at 1:00) is confirmed within ~12 s.
    proc = spawn("demo", "--port", str(port), "--start-at", "52", "--like", "none.yaml", "--access-log")
    output = await _until(proc, lambda out: "incident #1 opened on nps" in out, timeout=40)
    token = re.search(r"token: (\S+)", output)
    assert token is not None
    commands = [line.strip() for line in output.splitlines()
                if line.startswith("    ") and "--config data/demo/config.yaml" in line]
    verbs = [" ".join(shlex.split(c)[shlex.split(c).index("statuspage") + 1:]).split(" --config")[0]
             for c in commands]
    assert verbs == ["incident list", "incident ack 1 --by you", "report", "check"]
    assert (tmp_path / "data/demo/config.yaml").stat().st_mode & 0o777 == 0o600  # it holds the admin token

    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
        headers = {"Authorization": f"Bearer {token.group(1)}"}
        async with http.post("/api/admin/incidents/1/ack", headers=headers) as resp:
            assert resp.status == 200
        # Clean URLs next to the .html ones (once the render after the incident has landed).
        for path in ("/nps/history", "/nps/incidents/1"):
            for _ in range(100):
                async with http.get(path) as resp:
                    if resp.status == 200 and "Relatórios indisponível" in await resp.text():
                        break
                await asyncio.sleep(0.1)
            else:
                pytest.fail(f"{path} never showed the incident")
    await _until(proc, lambda out: "incident #1 acknowledged by demo-engineer" in out)

    listed = _shell(commands[0], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "#1 [nps] T1 investigating: Relatórios indisponível" in listed.stdout
    assert "acked by demo-engineer" in listed.stdout
    taken = _shell(commands[1], tmp_path)  # `incident ack 1 --by you`: someone else holds it
    assert taken.returncode == 1 and "already acknowledged by demo-engineer" in taken.stderr
    report = _shell(commands[2], tmp_path)
    assert report.returncode == 0 and "NPS" in report.stdout, report.stderr
    checked = _shell(commands[3], tmp_path)
    assert checked.returncode == 2, checked.stdout  # NPS Relatórios is down: CRITICAL
    assert "nps/reports/reports  DOWN" in checked.stdout

    # Without --config, next to the demo: the error says how to reach the demo's data.
    write_config(tmp_path / "config.yaml", {"storage": {"path": "data/statuspage.db"}, "pages": [
        {"slug": "x", "name": "X", "components": [{"slug": "a", "name": "A", "monitors": [
            {"name": "m", "url": "http://127.0.0.1:9/"}]}]}]})
    plain = _shell(commands[0].replace(" --config data/demo/config.yaml", ""), tmp_path)
    assert plain.returncode == 1
    assert "for the demo's data add --config data/demo/config.yaml" in plain.stderr

    assert proc.stop(signal.SIGINT) == 0
    output = proc.output()
    assert "Traceback" not in output
    # --access-log: one line per request, without the token.
    assert 'request="POST /api/admin/incidents/1/ack" status=200' in output
    assert token.group(1) not in output.split("Below: what happens")[1]


async def test_run_tells_the_operators_story_without_access_logs(
    tmp_path: Path, spawn: Callable[..., Process]
) -> None:
    state = {"down": False}

    async def health(request: web.Request) -> web.Response:
        return web.Response(status=503 if state["down"] else 200, text="ok")

    app = web.Application()
    app.router.add_get("/health", health)
    target_port, port = free_port(), free_port()
    target = await start_app(app, target_port)
    (tmp_path / "blocker").write_text("a file where the site's folder should be")
    cfg = write_config(tmp_path / "config.yaml", {
        # The site cannot be written (its folder is a file): every render fails.
        "site": {"output_dir": str(tmp_path / "blocker" / "site")},
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "server": {"port": port, "render_every": "30s"},
        "defaults": {"interval": "1s", "timeout": "900ms"},
        "admins": [{"name": "alice", "token": ALICE}, {"name": "bob", "token": BOB}],
        "pages": [{"slug": "shop", "name": "Shop", "components": [
            {"slug": "api", "name": "API", "monitors": [
                {"name": "health", "url": f"http://127.0.0.1:{target_port}/health"}]}]}],
    })
    proc = spawn("run", "--config", str(cfg))
    try:
        await _until(proc, lambda out: "serving http://127.0.0.1:" in out)
        state["down"] = True
        await _until(proc, lambda out: "incident #1 opened on shop" in out)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async def post(path: str, token: str, body: dict[str, str] | None = None) -> int:
                async with http.post(path, json=body, headers={"Authorization": f"Bearer {token}"}) as r:
                    return r.status

            assert await post("/api/admin/incidents/1/ack", ALICE) == 200
            assert await post("/api/admin/incidents/1/ack", BOB) == 409
            assert await post("/api/admin/incidents/1/updates", ALICE,
                              {"status": "identified", "message": "Banco sem conexões"}) == 201
            state["down"] = False
            await _until(proc, lambda out: "incident #1 monitoring" in out)
            assert await post("/api/admin/incidents/1/resolve", ALICE, {"message": "ok"}) == 200
            # Renders keep failing (the site's folder is a file): health says so, with the reason.
            async with http.get("/healthz") as r:
                assert r.status == 503 and "render" in await r.text()
        await _until(proc, lambda out: "incident #1 resolved by alice" in out)
    finally:
        assert proc.stop(signal.SIGTERM) == 0
        await target.cleanup()
    lines = proc.output().splitlines()
    story = [STAMP.sub("", line) for line in lines]
    expected = [
        r"check failed shop/api/health: HTTP 503 \(1 of 2 failed checks to confirm an outage\)",
        r"DOWN shop/api/health: outage confirmed, since \d\d:\d\d:\d\d \(HTTP 503\)",
        r'incident #1 opened on shop: T1 "API indisponível" \(automatic: shop/api down since \d\d:\d\d:\d\d\)',
        r"incident #1 acknowledged by alice",
        r"incident #1: acknowledgement by bob refused, alice acknowledged it at \d\d:\d\d:\d\d",
        r"incident #1 updated by alice: identified",
        r"UP shop/api/health: recovered at \d\d:\d\d:\d\d after \d+s down",
        r"incident #1 monitoring: every affected component recovered at \d\d:\d\d:\d\d",
        r"incident #1 resolved by alice after \d+s",
    ]
    positions = []
    for pattern in expected:
        found = [i for i, line in enumerate(story) if re.match(pattern, line)]
        assert len(found) == 1, (pattern, lines)
        positions.append(found[0])
    assert positions == sorted(positions), lines
    # Stamps and the times inside the story are the site's (America/Sao_Paulo), as the site shows.
    down = next(line for line in lines if " DOWN " in line)
    stamp = datetime.strptime(down[:19], "%Y-%m-%d %H:%M:%S")
    since = datetime.strptime(down[:11] + re.findall(r"since (\d\d:\d\d:\d\d)", down)[0], "%Y-%m-%d %H:%M:%S")
    assert 0 <= (stamp - since).total_seconds() <= 5, down
    assert abs(stamp - datetime.now(ZoneInfo("America/Sao_Paulo")).replace(tzinfo=None)) < timedelta(minutes=2)
    # Render failures: one concise line each, no traceback; no access log without --access-log.
    failures = [line for line in story if "render failed" in line]
    assert failures and all(re.match(r"render failed: .*; next try within 30s\)", f) for f in failures), failures
    assert not any("Traceback" in line or 'request="' in line for line in lines), lines
    assert all(STAMP.match(line) for line in lines), lines
