"""Stopping and starting as a new user does (issue 11, kind 8): real processes, 1 s intervals."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from tests.conftest import Process, free_port, start_app, write_config


def _config(tmp_path: Path, target: int, port: int, timeout: str = "5s") -> Path:
    return write_config(tmp_path / "config.yaml", {
        "site": {"output_dir": str(tmp_path / "site")},
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "server": {"host": "127.0.0.1", "port": port},
        "defaults": {"interval": "1s", "timeout": timeout},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "Plataforma", "monitors": [
                {"name": "web", "url": f"http://127.0.0.1:{target}/slow"}]}]}],
    })


async def _hanging_target(port: int, arrived: asyncio.Event, release: asyncio.Event) -> web.AppRunner:
    async def slow(request: web.Request) -> web.Response:
        arrived.set()
        await release.wait()
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/slow", slow)
    return await start_app(app, port)


async def _wait_exit(proc: Process, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while proc.proc.poll() is None:
        assert time.monotonic() < deadline, proc.output()
        await asyncio.sleep(0.05)
    return proc.proc.returncode


@pytest.mark.parametrize("twice", [False, True], ids=["ctrl-c", "ctrl-c-twice"])
async def test_input_8_ctrl_c_during_a_check_logs_no_error(
    tmp_path: Path, spawn: Callable[..., Process], twice: bool
) -> None:
    """Input 8a: Ctrl-C while a check is in flight. Right value: exit 0, no ERROR, no traceback; the
    check in flight ends by its timeout (or at once on a second Ctrl-C)."""
    target = free_port()
    arrived, release = asyncio.Event(), asyncio.Event()
    runner = await _hanging_target(target, arrived, release)
    try:
        proc = spawn("run", "--no-serve", "--config", str(_config(tmp_path, target, free_port(), "3s")))
        await asyncio.wait_for(arrived.wait(), 20)
        proc.proc.send_signal(signal.SIGINT)
        if twice:
            await asyncio.sleep(0.3)
            proc.proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        code = await _wait_exit(proc, 20)
        took = time.monotonic() - started
    finally:
        release.set()
        await runner.cleanup()
    output = proc.output()
    assert code == 0, output
    assert "Traceback" not in output and " ERROR " not in output and "CancelledError" not in output, output
    assert "stopped" in output
    if twice:
        assert "check cancelled at shutdown monitor=nps/app/web" in output
        assert took < 2.5, output


async def test_input_8_busy_port_is_one_line_for_run(tmp_path: Path, spawn: Callable[..., Process]) -> None:
    """Input 8b: `statuspage run` on a busy port. Right value: one line naming host:port and server.port,
    exit 1, and nothing that claims to be serving."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = _config(tmp_path, free_port(), port, timeout="900ms")
        proc = spawn("run", "--config", str(config))
        code = await _wait_exit(proc, 30)
    output = proc.output().strip()
    assert code == 1, output
    assert output == (f"Error: cannot listen on 127.0.0.1:{port}: the address is already in use (another "
                      f"statuspage, or another program); choose a free port with server.port in {config} "
                      "(or stop what listens there)")
    assert not (tmp_path / "db.sqlite").exists(), "nothing is started before the port is ours"


async def test_input_8_busy_port_is_one_line_for_demo(tmp_path: Path, spawn: Callable[..., Process]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = spawn("demo", "--port", str(port), "--data-dir", str(tmp_path / "data"),
                     "--out", str(tmp_path / "site"))
        code = await _wait_exit(proc, 30)
    output = proc.output().strip()
    assert code == 1, output
    assert output == (f"Error: cannot listen on 127.0.0.1:{port}: the address is already in use (another "
                      "statuspage, or another program); choose another with --port")
    assert "http://" not in output and not (tmp_path / "data").exists()


def test_an_unusable_database_path_is_one_line(tmp_path: Path) -> None:
    """Of the same kind: a storage.path that cannot be created is one line and exit 1, not a traceback."""
    from click.testing import CliRunner

    from statuspage.cli.commands import cli

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the database folder should be")
    config = write_config(tmp_path / "config.yaml", {
        "storage": {"path": str(blocker / "db.sqlite")},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "App", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}],
    })
    result = CliRunner().invoke(cli, ["run", "--no-serve", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith(
        f"Error: cannot open the database at {blocker / 'db.sqlite'}: ")
    assert result.output.strip().endswith("(check storage.path)")
