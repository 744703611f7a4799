"""The hardening of issue 12 on PostgreSQL and with several instances: a database that is stopped or
refuses writes is on /healthz and answers admin writes 503 with the reason, the shared write buffer
keeps (bounded) what it cannot write, paging of the admin incident list, one line per unusable
database in every command, and `storage.url`'s password judged as a secret. (The lag of a monitor an
instance probes again after another one did is in test_scale_timer.py.)"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from click.testing import CliRunner

from statuspage.cli.commands import cli
from statuspage.config import Storage, load_config_text
from statuspage.credentials import weak_secrets
from statuspage.models import CheckResult, Incident, MonitorState
from statuspage.runner import Runtime
from statuspage.store import StoreUnavailable, buffer, database_problem, open_store, unavailable_reason
from tests.conftest import free_port, write_config
from tests.pg import Backend, PgCluster, pg_missing_reason

KEY = "nps/app/web"
ADMIN = "Hq7-vR2pX9sL4mN8wK3yB6cT-admin"
PAGES = [{"slug": "nps", "name": "NPS", "components": [
    {"slug": "app", "name": "App", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}]


async def test_the_admin_incident_list_pages_by_started_at_then_id(backend: Backend) -> None:
    store = await backend.open()
    try:
        made = []
        for n, started in enumerate([30.0, 10.0, 20.0, 20.0, 20.0]):  # ties broken by id
            made.append(await store.create_incident(
                Incident(0, "nps", f"i{n}", "T3", "minor", "investigating", started, started + 60, ("app",))))
        order = [(i.started_at, i.id) for i in sorted(made, key=lambda i: (i.started_at, i.id), reverse=True)]
        pages: list[list[tuple[float, int]]] = []
        before: tuple[float, int] | None = None
        while True:
            page = await store.list_incidents(limit=2, before=before)
            if not page:
                break
            pages.append([(i.started_at, i.id) for i in page])
            before = pages[-1][-1]
        assert [row for page in pages for row in page] == order and [len(p) for p in pages] == [2, 2, 1]
    finally:
        await store.close()


async def test_postgres_refusing_writes_keeps_the_buffer_bounded_and_admin_writes_say_why(
    pg_url: str, pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(buffer, "MAX_PENDING_RESULTS", 100)
    store = await open_store(Storage(url=pg_url))
    name = pg_url.rsplit("/", 1)[1]

    def read_only(on: bool) -> None:
        # What a database that became a standby (or was set read-only by its operator) does.
        pg_cluster.psql(f"ALTER DATABASE {name} SET default_transaction_read_only = {'on' if on else 'off'}")
        pg_cluster.psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")

    try:
        await store.register_monitors([KEY])
        read_only(True)
        await asyncio.sleep(0.1)
        reasons = set()
        for n in range(250):
            store.buffer_check(CheckResult(KEY, 1e9 + n, "up"), MonitorState(last_at=1e9 + n))
            if n % 50 == 49:
                with pytest.raises(asyncpg.ReadOnlySQLTransactionError) as failed:
                    await store.flush()
                reasons.add(unavailable_reason(failed.value))
        assert reasons == {"cannot be written: it is read-only (a standby, or default_transaction_read_only)"}
        assert store.dropped == 150 and caplog.text.count("store buffer full") == 1  # one line a minute
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError) as refused:  # an admin write: 503 with it
            await store.create_incident(Incident(0, "nps", "x", "T3", "minor", "investigating", 1.0, 2.0, ()))
        assert unavailable_reason(refused.value) is not None and await store.list_incidents() == []
        read_only(False)
        await asyncio.sleep(0.1)
        assert await store.flush() == 101  # the newest 100 results and the state
        assert [r.at for r in await store.results(KEY)] == [1e9 + n for n in range(150, 250)]
        assert (await store.load_monitor_states())[KEY].last_at == 1e9 + 249
    finally:
        read_only(False)
        await store.close()


async def test_a_stopped_postgres_is_on_healthz_admin_writes_answer_503_and_no_result_is_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reason = pg_missing_reason()
    if reason:
        pytest.skip(reason)
    caplog.set_level(logging.WARNING)
    target = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    cluster = PgCluster()  # its own server: this test stops it
    runtime: Runtime | None = None
    running = True
    try:
        cluster.init()
        cluster.start()
        url = cluster.url(cluster.create_database())
        port = free_port()
        config = load_config_text(json.dumps({
            "site": {"output_dir": str(tmp_path / "site")}, "storage": {"url": url},
            "server": {"port": port, "render_every": "1s"},
            "cluster": {"lease_ttl": "2s", "renew_every": "500ms", "poll_every": "300ms", "shards": 2},
            "admins": [{"name": "alice", "token": ADMIN}],
            "pages": [{"slug": "nps", "name": "NPS", "components": [{"slug": "db", "name": "DB", "monitors": [
                {"name": "tcp", "type": "tcp", "host": "127.0.0.1", "port": target.sockets[0].getsockname()[1],
                 "interval": "1s", "timeout": "500ms"}]}]}]}), env={})
        runtime = Runtime(config)
        await runtime.start()
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:

            async def health() -> tuple[int, dict[str, object]]:
                async with http.get(f"{base}/healthz") as resp:
                    return resp.status, await resp.json()

            async def wait_for(status: int, within: float) -> dict[str, object]:
                deadline = time.monotonic() + within
                while True:
                    code, body = await health()
                    if code == status or time.monotonic() > deadline:
                        assert code == status, body
                        return body
                    await asyncio.sleep(0.2)

            deadline = time.monotonic() + 10
            while runtime.prober is not None and not runtime.prober.scheduled and time.monotonic() < deadline:
                await asyncio.sleep(0.1)  # the shard leases give this instance its monitor
            await wait_for(200, 10)
            cluster.stop("fast")
            running = False
            stopped_at = time.time()
            # The render may notice first; the write buffer notices at its next flush.
            deadline = time.monotonic() + 10
            while True:
                report = await wait_for(503, 10)
                problems = {p["part"]: p["reason"] for p in report["problems"]}  # type: ignore[attr-defined]
                if "flush" in problems or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            assert problems["flush"].startswith("the database ") and "rows wait in memory" in problems["flush"]
            assert url.split(":")[2].split("@")[0] not in json.dumps(report)  # never the password
            async with http.post(f"{base}/api/admin/incidents", headers={"Authorization": f"Bearer {ADMIN}"},
                                 json={"page": "nps", "title": "Lento", "severity": "T3"}) as resp:
                assert resp.status == 503, await resp.text()
                assert (await resp.json())["error"].startswith("the database ")
                assert int(resp.headers["Retry-After"]) > 0
            await asyncio.sleep(2.5)  # checks go on while the database is away
            cluster.start()
            running = True
            restarted_at = time.time()
            await wait_for(200, 20)
        assert runtime.store is not None
        gap = [r for r in await runtime.store.results("nps/db/tcp") if stopped_at <= r.at <= restarted_at]
        assert len(gap) >= 2, gap  # the checks made while it was stopped, written after it came back
        assert "Traceback" not in caplog.text
    finally:
        if runtime is not None:
            if not running:
                cluster.start()  # a failed assertion above must show, not a failure to flush at close
            await runtime.close()
        cluster.remove()
        target.close()


def test_an_unusable_postgres_is_one_line_in_every_command(tmp_path: Path) -> None:
    url = f"postgresql://statuspage:S3cr3t-pw-x@127.0.0.1:{free_port()}/statuspage"
    config = write_config(tmp_path / "config.yaml", {
        "storage": {"url": url}, "site": {"output_dir": str(tmp_path / "site")}, "pages": PAGES})
    for command in (["incident", "list"], ["render"], ["report"]):
        result = CliRunner().invoke(cli, [*command, "--config", str(config)])
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: database postgresql://statuspage:***@127.0.0.1:"), \
            result.output
        assert "is unreachable" in lines[0] and "S3cr3t" not in result.output


def test_postgres_errors_are_reasons_in_words() -> None:
    exc = asyncpg.exceptions
    assert unavailable_reason(exc.DiskFullError("could not extend file")) == "cannot be written: the disk is full"
    assert unavailable_reason(exc.TooManyConnectionsError("sorry, too many clients already")) == (
        "refuses new connections: too many clients already (max_connections)")
    assert unavailable_reason(exc.AdminShutdownError("terminating connection")).startswith("is shutting down")
    assert unavailable_reason(exc.ConnectionDoesNotExistError("closed")).startswith("lost its connection")
    assert unavailable_reason(exc.UniqueViolationError("duplicate key")) is None  # our bug, not the database
    assert unavailable_reason(ValueError("x")) is None
    down = StoreUnavailable("database postgresql://u:***@db/x is unreachable (refused)", reason="is unreachable")
    assert unavailable_reason(down) == "is unreachable"
    assert database_problem(down, "postgresql://u:***@db/x") == str(down)
    assert database_problem(exc.DiskFullError("full"), "postgresql://u:***@db/x") == (
        "database postgresql://u:***@db/x cannot be written: the disk is full")


def test_the_password_in_storage_url_is_a_secret_judged_for_placeholders() -> None:
    def judged(url: str) -> list[str]:
        config = load_config_text(json.dumps({"storage": {"url": url}, "pages": PAGES}), env={"PGPW": "change-me"})
        return [w.line() for w in weak_secrets(config) if w.path == "storage.url"]

    [line] = judged("postgresql://statuspage:${PGPW}@db:5432/statuspage")
    assert "placeholder" in line and "PGPW" in line and "change-me" not in line
    assert judged("postgresql://statuspage:postgres@db/statuspage")  # a common default
    assert judged("postgresql://statuspage:k8Qw2@db/statuspage") == []  # its strength is the server's rule
    assert judged("postgresql://statuspage@db/statuspage") == []  # peer, certificates, .pgpass
