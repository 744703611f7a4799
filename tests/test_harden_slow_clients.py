"""Slow clients cannot take the server down nor cause a false outage (issue 12.3).

Before (measured with this test's load on main): at RLIMIT_NOFILE=1024, 500 clients sending headers
slowly and 600 idle ones made the site answer 1 request in 9, every probe failed with "Too many open
files" (counted as the services' downtime: a false T1 incident) and the log grew 97.5 MB in 30 s.
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from statuspage.config import parse_config
from statuspage.probe.checks import classify_error, local_shortage
from statuspage.web.limits import server_limits
from tests.conftest import REPO, free_port, write_config

SLOW, IDLE = 500, 600
TOKEN = "Zq3-vT8pL1xR6mN0wK5yB2cH"


def _raise_own_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip(f"this test opens {need} sockets; the hard open-file limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


async def _get(port: int, timeout: float = 3.0) -> tuple[bool, float]:
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /nps/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = await reader.read()
            writer.close()
        return data.startswith(b"HTTP/1.1 200"), time.monotonic() - started
    except (OSError, TimeoutError):
        return False, time.monotonic() - started


@pytest.mark.slow
async def test_1100_slow_clients_at_1024_open_files(tmp_path: Path) -> None:
    _raise_own_limit(SLOW + IDLE + 200)

    async def healthy_tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async def healthy_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    tcp = await asyncio.start_server(healthy_tcp, "127.0.0.1", 0)
    http = await asyncio.start_server(healthy_http, "127.0.0.1", 0)
    port = free_port()
    config = write_config(tmp_path / "config.yaml", {
        "storage": {"path": str(tmp_path / "db.sqlite")}, "site": {"output_dir": str(tmp_path / "site")},
        "server": {"port": port}, "defaults": {"interval": "1s", "timeout": "900ms"},
        "admins": [{"name": "a", "token": TOKEN}],
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "db", "name": "DB", "monitors": [
                {"name": "tcp", "type": "tcp", "host": "127.0.0.1", "port": tcp.sockets[0].getsockname()[1]}]},
            {"slug": "web", "name": "Web", "monitors": [
                {"name": "http", "url": f"http://127.0.0.1:{http.sockets[0].getsockname()[1]}/"}]}]}]})
    log_path = tmp_path / "run.log"

    def at_1024() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "statuspage", "run", "--config", str(config)],
                                cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, preexec_fn=at_1024,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"))
    held: list[asyncio.StreamWriter] = []
    stop = asyncio.Event()

    async def slow_headers() -> None:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            held.append(writer)
            writer.write(b"GET /nps/ HTTP/1.1\r\nHost: x\r\n")
            while not stop.is_set():  # one byte every two seconds, never the end of the headers
                await asyncio.sleep(2)
                writer.write(b"X")
                await writer.drain()
        except (OSError, TimeoutError):
            pass

    async def idle() -> None:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            held.append(writer)
        except (OSError, TimeoutError):
            pass

    tasks: list[asyncio.Task[None]] = []
    try:
        for _ in range(150):
            if (await _get(port))[0]:
                break
            await asyncio.sleep(0.2)
        else:
            pytest.fail(log_path.read_text())
        await asyncio.sleep(2)
        attack_from = time.time()
        tasks = [asyncio.create_task(slow_headers()) for _ in range(SLOW)]
        tasks += [asyncio.create_task(idle()) for _ in range(IDLE)]
        # Once the attack is in place (a visitor arriving within its first burst may get a 503 with
        # Retry-After), the site must answer every time.
        await asyncio.sleep(1.5)
        tries = []
        for _ in range(15):
            tries.append(await _get(port))
            await asyncio.sleep(0.5)
    finally:
        stop.set()
        proc.terminate()
        proc.wait(30)
        for task in tasks:
            task.cancel()
        for writer in held:
            writer.close()
        tcp.close()
        http.close()
    assert len(held) >= 1000, "the attack connected"
    assert all(ok for ok, _ in tries), tries  # the site answered every time
    assert max(seconds for _, seconds in tries) < 2.0
    db = sqlite3.connect(tmp_path / "db.sqlite")
    outcomes = db.execute("SELECT outcome, error, count(*) FROM results WHERE at >= ? GROUP BY 1, 2",
                          (attack_from,)).fetchall()
    assert [o for o in outcomes if o[0] != "up"] == [], outcomes  # no false down
    assert sum(n for *_, n in outcomes) >= 2 * 8, outcomes  # and the probes kept probing
    assert db.execute("SELECT count(*) FROM incidents").fetchone() == (0,)
    db.close()
    assert log_path.stat().st_size < 64 * 1024, log_path.read_text()[-2000:]


@pytest.mark.slow
def test_a_prober_out_of_descriptors_records_no_data_not_downtime(tmp_path: Path) -> None:
    """A real EMFILE: the check is the prober's own failure, no result is recorded and nothing is
    confirmed; when descriptors return, probing goes on from the state it had."""
    script = textwrap.dedent(f"""
        import asyncio, json, resource, socket
        from statuspage.config import parse_config
        from statuspage.probe.checks import Checker
        from statuspage.probe.scheduler import Prober
        from statuspage.store.sqlite import SQLiteStore

        async def main():
            server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            config = parse_config({{"storage": {{"path": {str(tmp_path / "db.sqlite")!r}}}, "pages": [{{
                "slug": "nps", "name": "NPS", "components": [{{"slug": "db", "name": "DB", "monitors": [
                {{"name": "tcp", "type": "tcp", "host": "127.0.0.1", "port": port}}]}}]}}]}}, env={{}})
            store = await SQLiteStore.open(config.storage.path)
            skipped = []
            async with Checker() as checker:
                prober = Prober(config, store, checker, on_skip=lambda r, n: skipped.append(r))
                await prober.load()
                up = await prober.run_check("nps/db/tcp")
                await store.flush()
                resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
                hog = []
                try:
                    while True:
                        hog.append(socket.socket())
                except OSError:
                    pass
                events = [await prober.run_check("nps/db/tcp") for _ in range(3)]
                for s in hog:
                    s.close()
                await store.flush()
                after = await prober.run_check("nps/db/tcp")
                await store.flush()
            rows = [r.outcome for r in await store.results("nps/db/tcp")]
            await store.close()
            print(json.dumps({{"first": up.result.outcome, "errors": [e.result.error for e in events],
                              "messages": [e.result.message for e in events],
                              "confirmed": [e.state.confirmed for e in events],
                              "transitions": [e.transition is not None for e in events],
                              "after": after.result.outcome, "rows": rows, "skipped": skipped}}))
        asyncio.run(main())
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    import json

    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["errors"] == ["local"] * 3
    assert all("Too many open files" in m for m in seen["messages"])
    assert seen["confirmed"] == ["up"] * 3 and seen["transitions"] == [False] * 3
    assert seen["rows"] == ["up", "up"]  # the three local failures left no row: no data, never down
    assert seen["skipped"] == ["local"] * 3 and seen["after"] == "up"


@pytest.mark.parametrize(("exc", "error"), [
    (OSError(24, "Too many open files"), "local"),
    (OSError(105, "No buffer space available"), "local"),
    (OSError("Multiple exceptions: [Errno 24] Too many open files, [Errno 24] Too many open files"), "local"),
    (ConnectionRefusedError(111, "Connection refused"), "connect"),
    (TimeoutError(), "timeout"),
], ids=["emfile", "enobufs", "happy-eyeballs-group", "refused", "timeout"])
def test_local_shortages_are_classified_local(exc: BaseException, error: str) -> None:
    assert classify_error(exc, timeout_s=1.0)[0] == error
    wrapped = RuntimeError("wrapper")
    wrapped.__cause__ = exc
    assert (local_shortage(wrapped) is not None) == (error == "local")


def test_the_connection_cap_leaves_the_probes_their_descriptors() -> None:
    config = parse_config({"pages": [{"slug": "nps", "name": "NPS", "components": [
        {"slug": "c", "name": "C", "monitors": [{"name": f"m{i}", "url": "http://127.0.0.1:9/"} for i in range(300)]}]}]},
        env={})
    assert server_limits(config, open_files=1024).max_connections == 1024 - 64 - 128 - 300 - 500
    assert server_limits(config, open_files=1 << 20).max_connections == 2000  # server.max_connections
    assert server_limits(config, open_files=100).max_connections == 16  # never below a working floor


async def test_idle_and_slow_header_connections_are_closed_after_idle_timeout(tmp_path: Path) -> None:
    from tests.harden_env import served
    from tests.server_env import make_config

    config = make_config(tmp_path)
    config = config.model_copy(update={"server": config.server.model_copy(update={"idle_timeout": 1.0})})
    async with served(tmp_path, config) as server:
        idle = socket.create_connection(("127.0.0.1", server.port))
        slow = socket.create_connection(("127.0.0.1", server.port))
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        for sock in (idle, slow):
            sock.settimeout(5)
        started = time.monotonic()
        closed = await asyncio.gather(asyncio.to_thread(idle.recv, 100), asyncio.to_thread(slow.recv, 100))
        assert closed == [b"", b""] and time.monotonic() - started < 4
        idle.close()
        slow.close()
