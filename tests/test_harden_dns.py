"""A name server that never answers starves nothing and is a `dns` failure (issue 12.5).

Before (measured by the process test below on main, with aiohttp's default thread-pool resolver):
twelve monitors whose lookups hang held the event loop's six default threads for ten seconds at a
time; site pages took up to 9.2 s, a healthy TCP monitor on `localhost` timed out 19 times in 20 s
and was confirmed down (a false T1), and 111 of 123 hung checks were classified `timeout`.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from statuspage.config import ConfigError, load_config_text, parse_config
from statuspage.probe.checks import Checker
from statuspage.runner import Runtime
from tests.conftest import free_port, write_config

TOKEN = "Zq3-vT8pL1xR6mN0wK5yB2cH"


@contextmanager
def silent_name_server(host: str = "127.0.0.1", port: int = 0) -> Iterator[tuple[str, int]]:
    """A UDP and TCP name server that reads nothing and answers nothing."""
    for attempt in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket()
        try:
            udp.bind((host, port))
            # The UDP port's TCP twin may be taken (another test's connection): then another pair.
            tcp.bind((host, udp.getsockname()[1]))
        except OSError as exc:
            udp.close()
            tcp.close()
            if exc.errno != errno.EADDRINUSE or port or attempt == 49:
                raise
            continue
        break
    try:
        tcp.listen(128)
        yield host, udp.getsockname()[1]
    finally:
        udp.close()
        tcp.close()


@asynccontextmanager
async def healthy_tcp() -> AsyncIterator[int]:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def hung_config(tmp_path: Path, tcp_port: int, extra: dict[str, Any]) -> dict[str, Any]:
    hung = [{"name": f"h{i}", "url": f"http://hung-{i}.example.test/", "interval": "2s", "timeout": "1500ms"}
            for i in range(12)]
    return {
        "storage": {"path": str(tmp_path / "db.sqlite")}, "site": {"output_dir": str(tmp_path / "site")},
        "defaults": {"interval": "1s", "timeout": "900ms"}, "admins": [{"name": "a", "token": TOKEN}],
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "hung", "name": "Hung", "monitors": hung},
            {"slug": "db", "name": "DB", "monitors": [
                {"name": "tcp", "type": "tcp", "host": "localhost", "port": tcp_port}]}]}],
        **extra,
    }


async def page_latencies(port: int, seconds: float) -> list[float]:
    """GET /nps/ every 0.25 s; the time each took (a failure counts as 30 s)."""
    out: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        try:
            async with asyncio.timeout(30):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET /nps/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                ok = (await reader.read()).startswith(b"HTTP/1.1 200")
                writer.close()
        except (OSError, TimeoutError):
            ok = False
        out.append(time.monotonic() - started if ok else 30.0)
        await asyncio.sleep(0.25)
    return out


async def test_hung_lookups_leave_pages_and_other_monitors_alone(tmp_path: Path) -> None:
    with silent_name_server() as (host, port):
        async with healthy_tcp() as tcp_port:
            config = parse_config(hung_config(tmp_path, tcp_port, {
                "server": {"port": 0}, "probe": {"dns_servers": [f"{host}:{port}"], "dns_timeout": "1s"}}),
                env={})
            runtime = Runtime(config)
            await runtime.start()
            try:
                assert runtime.port is not None
                latencies = await page_latencies(runtime.port, 5.0)
            finally:
                await runtime.close()
    assert max(latencies) < 0.5, latencies
    db = sqlite3.connect(tmp_path / "db.sqlite")
    rows = db.execute("SELECT m.key, r.outcome, r.error, r.message FROM results r "
                      "JOIN monitors m ON m.id = r.monitor_id").fetchall()
    db.close()
    hung = [r for r in rows if r[0].startswith("nps/hung/")]
    tcp = [r for r in rows if r[0] == "nps/db/tcp"]
    assert len(hung) >= 12 and {r[2] for r in hung} == {"dns"}, hung
    assert "timed out" in hung[0][3]
    assert len(tcp) >= 3 and {r[1] for r in tcp} == {"up"}, tcp


async def test_a_lookup_slower_than_the_check_is_a_dns_failure(tmp_path: Path) -> None:
    """The check's own timeout fires while the name server is still silent: still `dns`."""
    with silent_name_server() as (host, port):
        config = parse_config({"probe": {"dns_servers": [f"{host}:{port}"], "dns_timeout": "30s"}, "pages": [
            {"slug": "nps", "name": "NPS", "components": [{"slug": "a", "name": "A", "monitors": [
                {"name": "web", "url": "https://hung.example.test/", "timeout": "300ms"},
                {"name": "tcp", "type": "tcp", "host": "hung.example.test", "port": 443, "timeout": "300ms"}]}]}]},
            env={})
        async with Checker(probe=config.probe) as checker:
            results = [await checker.check(m) for _, _, m in config.monitors()]
    assert [(r.error, r.message) for r in results] == [
        ("dns", "DNS lookup of hung.example.test timed out after 0.3s")] * 2


@pytest.mark.parametrize("value", ["dns.example", "1.1.1.1:99999", "[::1]:0"])
def test_dns_servers_must_be_addresses(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(json.dumps({"probe": {"dns_servers": [value]}, "pages": [
            {"slug": "n", "name": "N", "components": [{"slug": "c", "name": "C", "monitors": [
                {"name": "w", "url": "http://127.0.0.1:9/"}]}]}]}), env={})
    assert info.value.problems[0].startswith("probe.dns_servers[0]: ")


def _can_fake_the_system_resolver() -> str | None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return "needs root and unshare(1) to give one process its own /etc/resolv.conf"
    try:
        with silent_name_server("127.53.53.53", 53):
            pass
    except OSError as exc:
        return f"cannot listen on 127.53.53.53:53 ({exc.strerror})"
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    return None if probe.returncode == 0 else "unshare --mount is not permitted here"


@pytest.mark.slow
async def test_the_system_resolver_hanging_in_a_real_process(tmp_path: Path) -> None:
    """`statuspage run` in a mount namespace whose /etc/resolv.conf names a silent server (no
    probe.dns_servers: the system's resolver, as on a real host)."""
    reason = _can_fake_the_system_resolver()
    if reason:
        pytest.skip(reason)
    with silent_name_server("127.53.53.53", 53):
        async with healthy_tcp() as tcp_port:
            (tmp_path / "resolv.conf").write_text("nameserver 127.53.53.53\n")
            port = free_port()
            config = write_config(tmp_path / "config.yaml", hung_config(tmp_path, tcp_port, {"server": {"port": port}}))
            log = (tmp_path / "run.log").open("wb")
            proc = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                 f"mount --bind {tmp_path}/resolv.conf /etc/resolv.conf && "
                 f"exec {sys.executable} -m statuspage run --config {config}"],
                stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=dict(os.environ, PYTHONUNBUFFERED="1"))
            try:
                for _ in range(150):
                    if (await page_latencies(port, 0.01))[0] < 30:
                        break
                    await asyncio.sleep(0.2)
                since = time.time()
                latencies = await page_latencies(port, 8.0)
            finally:
                proc.terminate()
                proc.wait(60)
                log.close()
    assert max(latencies) < 1.0, latencies
    db = sqlite3.connect(tmp_path / "db.sqlite")
    rows = db.execute("SELECT m.key = 'nps/db/tcp', r.outcome, r.error, count(*) FROM results r "
                      "JOIN monitors m ON m.id = r.monitor_id WHERE r.at >= ? GROUP BY 1, 2, 3", (since,)).fetchall()
    titles = [t for (t,) in db.execute("SELECT title FROM incidents")]
    db.close()
    assert {(tcp, outcome, error) for tcp, outcome, error, _ in rows} == {(0, "down", "dns"), (1, "up", None)}, rows
    assert not any("DB" in t for t in titles), titles  # no false outage of the healthy monitor
