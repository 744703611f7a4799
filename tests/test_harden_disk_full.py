"""A full disk loses nothing: buffered results wait, bounded, until it has room (issue 12.6).

Before (this file's process test on main): with the database on a full 4 MB tmpfs for 24 s, 1 result of
the 120 the five monitors made in that time survived (COMMIT failed, SQLite rolled back by itself,
the explicit ROLLBACK raised and the batch was dropped before it was merged back); /healthz said ok
and an admin write answered 500.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from statuspage.models import CheckResult, MonitorState
from statuspage.store import buffer as store_buffer
from statuspage.store.sqlite import SQLiteStore
from tests.conftest import free_port, write_config
from tests.harden_env import served
from tests.server_env import ALICE, make_config

TOKEN = "Zq3-vT8pL1xR6mN0wK5yB2cH"


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs mounted for this test (root only)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip() or 'not root'})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(fs: Path) -> Path:
    """Fill the file system to its last byte; return the file to delete to free it."""
    filler = fs / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 16, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


async def test_a_failed_commit_keeps_every_row_until_the_disk_has_room(tiny_fs: Path) -> None:
    store = await SQLiteStore.open(tiny_fs / "db.sqlite")
    await store.register_monitors(["nps/app/web"])
    filler = fill(tiny_fs)
    for n in range(2000):
        store.buffer_check(CheckResult("nps/app/web", 1e9 + n, "up", 12.5, 200, None, "HTTP 200 " + "x" * 200),
                           MonitorState(last_at=1e9 + n))
    pending = store.pending
    for _ in range(3):
        with pytest.raises(sqlite3.OperationalError, match="full"):  # the real error, not the ROLLBACK's
            await store.flush()
        assert store.pending == pending
    filler.unlink()
    assert await store.flush() == pending
    assert await store.count_results() == 2000
    await store.close()


async def test_beyond_the_cap_the_oldest_raw_results_go_and_states_stay(
    tiny_fs: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(store_buffer, "MAX_PENDING_RESULTS", 100)
    store = await SQLiteStore.open(tiny_fs / "db.sqlite")
    await store.register_monitors(["nps/app/web"])
    filler = fill(tiny_fs)
    for n in range(250):
        store.buffer_check(CheckResult("nps/app/web", 1e9 + n, "up"), MonitorState(last_at=1e9 + n))
        if n % 50 == 49:
            with pytest.raises(sqlite3.OperationalError):
                await store.flush()
    assert store.dropped == 150
    assert "dropped the" in caplog.text and caplog.text.count("store buffer full") == 1  # one line a minute
    filler.unlink()
    await store.flush()
    kept = await store.results("nps/app/web")
    assert [r.at for r in kept] == [1e9 + n for n in range(150, 250)]  # the newest 100
    assert (await store.load_monitor_states())["nps/app/web"].last_at == 1e9 + 249
    await store.close()


async def test_admin_writes_answer_503_with_the_reason_while_the_disk_is_full(tmp_path: Path, tiny_fs: Path) -> None:
    config = make_config(tmp_path)
    config = config.model_copy(update={"storage": config.storage.model_copy(
        update={"path": str(tiny_fs / "db.sqlite")})})
    async with served(tmp_path, config) as server:
        filler = fill(tiny_fs)
        import aiohttp

        async with aiohttp.ClientSession() as http:
            response = await http.post(f"{server.url}/api/admin/incidents", headers={"Authorization": f"Bearer {ALICE}"},
                                       json={"page": "nps", "title": "Lento", "severity": "T3"})
            assert response.status == 503, await response.text()
            assert "the disk is full" in (await response.json())["error"]
            assert int(response.headers["Retry-After"]) > 0
        filler.unlink()


def _get(url: str) -> tuple[int | None, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return None, ""


@pytest.mark.slow
async def test_24s_of_probing_on_a_full_disk_are_all_recorded(tmp_path: Path, tiny_fs: Path) -> None:
    target = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = free_port()
    config = write_config(tmp_path / "config.yaml", {
        "storage": {"path": str(tiny_fs / "db.sqlite")}, "site": {"output_dir": str(tmp_path / "site")},
        "server": {"port": port}, "defaults": {"interval": "1s", "timeout": "500ms"},
        "admins": [{"name": "a", "token": TOKEN}],
        "pages": [{"slug": "nps", "name": "NPS", "components": [{"slug": "db", "name": "DB", "monitors": [
            {"name": f"t{i}", "type": "tcp", "host": "127.0.0.1", "port": target.sockets[0].getsockname()[1]}
            for i in range(5)]}]}]})
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "statuspage", "run", "--config", str(config)], cwd=tmp_path,
                            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if _get(f"{base}/healthz")[0] == 200:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)
        filler = fill(tiny_fs)
        full_at = time.time()
        statuses, reasons = set(), set()
        while time.time() - full_at < 24:
            status, body = _get(f"{base}/healthz")
            statuses.add(status)
            if status == 503:
                reasons |= {p["reason"] for p in json.loads(body)["problems"]}
            await asyncio.sleep(1)
        filler.unlink()
        freed_at = time.time()
        for _ in range(100):
            if _get(f"{base}/healthz")[0] == 200:
                break
            await asyncio.sleep(0.2)
        assert _get(f"{base}/healthz") == (200, '{"status":"ok"}')
        checks = sum(s.value for f in text_string_to_metric_families(_get(f"{base}/metrics")[1])
                     for s in f.samples if s.name == "statuspage_checks_total")
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
        target.close()
    assert 503 in statuses and any("disk is full" in r for r in reasons), (statuses, reasons)
    db = sqlite3.connect(tiny_fs / "db.sqlite")
    stored = db.execute("SELECT count(*) FROM results").fetchone()[0]
    in_window = db.execute("SELECT count(*) FROM results WHERE at BETWEEN ? AND ?", (full_at, freed_at)).fetchone()[0]
    db.close()
    assert stored >= checks  # every check counted before the end is in the database (more came at stop)
    assert in_window >= 5 * 23, in_window  # 24 s of 5 monitors at 1 s
    assert (tmp_path / "run.log").stat().st_size < 64 * 1024


async def test_an_outage_confirmed_while_the_disk_is_full_gets_its_incident_once_it_has_room(
    tmp_path: Path, tiny_fs: Path
) -> None:
    from statuspage.config import parse_config
    from statuspage.runner import Runtime

    config = parse_config({
        "storage": {"path": str(tiny_fs / "db.sqlite")}, "site": {"output_dir": str(tmp_path / "site")},
        "defaults": {"interval": "1s", "timeout": "300ms"},
        "pages": [{"slug": "nps", "name": "NPS", "components": [{"slug": "db", "name": "DB", "monitors": [
            {"name": "tcp", "type": "tcp", "host": "127.0.0.1", "port": free_port()}]}]}]}, env={})
    runtime = Runtime(config, serve=False)
    await runtime.start()
    try:
        filler = fill(tiny_fs)
        for _ in range(100):  # confirmed down (2 failed checks) while nothing can be written
            if runtime.prober is not None and runtime.prober.states["nps/db/tcp"].confirmed == "down":
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        assert runtime.store is not None and await runtime.store.list_incidents() == []
        filler.unlink()
        for _ in range(100):
            if await runtime.store.list_incidents():
                break
            await asyncio.sleep(0.2)
        [incident] = await runtime.store.list_incidents()
        assert incident.components == ("db",) and incident.severity == "T1"
        first_failure = min(r.at for r in await runtime.store.results("nps/db/tcp") if r.outcome == "down")
        assert incident.started_at == first_failure  # backdated as always, from the buffered checks
    finally:
        await runtime.close()
