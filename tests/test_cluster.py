"""The cluster protocol in process: the pure lease plan, leases and leadership on a real PostgreSQL
(fencing a deposed leader), and two in-process instances sharing heartbeats and admin writes, and
sending a support alert once."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from statuspage.cluster.node import plan, shard_of, shards_wanted
from statuspage.config import Storage, load_config_text
from statuspage.models import Incident
from statuspage.runner import Runtime
from statuspage.store import LeadershipLost, open_coordinator, open_store
from tests.conftest import free_port
from tests.pg import PgCluster


def test_every_shard_finds_an_owner_and_extras_are_released_highest_first() -> None:
    assert [shards_wanted(64, n) for n in (1, 2, 3, 5)] == [64, 32, 22, 13]
    assert 22 * 3 >= 64 and shards_wanted(4, 0) == 4
    step = plan(owned={0, 1, 2, 3}, held={0, 1, 2, 3, 4}, want=3)
    assert (step.gained, step.lost, step.release) == (frozenset(), frozenset(), frozenset({3, 4}))
    step = plan(owned={0, 1, 5}, held={0, 1, 2}, want=4)  # 5 was taken over; 2 newly claimed
    assert (step.gained, step.lost, step.release) == (frozenset({2}), frozenset({5}), frozenset())
    assert shard_of("nps/app/web", 64) == shard_of("nps/app/web", 64) < 64


async def test_leases_split_evenly_and_an_expired_one_is_taken_over(pg_url: str) -> None:
    await (await open_store(Storage(url=pg_url))).close()  # the schema
    a = await open_coordinator(Storage(url=pg_url), "a")
    b = await open_coordinator(Storage(url=pg_url), "b")
    assert a is not None and b is not None
    try:
        assert await a.heartbeat(5) == 1
        assert await a.claim_shards(8, want=8, ttl=5) == set(range(8))
        assert await b.heartbeat(5) == 2
        assert await b.claim_shards(8, want=4, ttl=5) == set()  # a's leases are live: nothing is free
        await a.release_shards({4, 5, 6, 7})
        assert await b.claim_shards(8, want=4, ttl=5) == {4, 5, 6, 7}
        # a stops renewing (dies): once its leases expire, b takes them.
        assert await a.claim_shards(8, want=4, ttl=0.2) == {0, 1, 2, 3}
        await asyncio.sleep(0.3)
        assert await b.claim_shards(8, want=8, ttl=5) == set(range(8))
        assert await a.claim_shards(8, want=4, ttl=5) == set()
    finally:
        await a.close()
        await b.close()


async def test_one_leader_and_a_deposed_one_cannot_write(pg_url: str) -> None:
    store = await open_store(Storage(url=pg_url))
    a = await open_coordinator(Storage(url=pg_url), "a")
    b = await open_coordinator(Storage(url=pg_url), "b")
    assert a is not None and b is not None
    incident = Incident(0, "nps", "x", "T1", "critical", "investigating", 1.0, 2.0, ("app",), automatic=True)
    try:
        epoch_a = await a.try_lead()
        assert epoch_a is not None and await b.try_lead() is None
        async with store.fenced(epoch_a):
            created = await store.create_incident(incident)
        # a's lock connection dies (a crash, a partition): b takes over with a new epoch.
        a._conn.terminate()  # type: ignore[attr-defined]
        assert not await a.still_leading(timeout=1)
        epoch_b = None
        for _ in range(50):
            epoch_b = await b.try_lead()
            if epoch_b is not None:
                break
            await asyncio.sleep(0.1)
        assert epoch_b == epoch_a + 1
        # Whatever a still tries as leader is refused in the same transaction, never applied.
        with pytest.raises(LeadershipLost):
            async with store.fenced(epoch_a):
                await store.save_incident(replace(created, title="stale"))
        with pytest.raises(LeadershipLost):
            async with store.fenced(epoch_a):
                await store.claim_outbox("a", epoch_a)
        got = await store.get_incident(created.id)
        assert got is not None and got.title == "x"
        # And the database itself never holds two open automatic incidents of one page.
        with pytest.raises(Exception, match="incidents_one_open_automatic"):
            async with store.fenced(epoch_b):
                await store.create_incident(incident)
    finally:
        await a.close()
        await b.close()
        await store.close()


def _config(tmp_path: Path, url: str, port: int, name: str) -> Any:
    return load_config_text(_config_text(tmp_path, url, port, name), env={})


def _config_text(tmp_path: Path, url: str, port: int, name: str) -> str:
    return f"""
site: {{output_dir: "{tmp_path / 'site'}"}}
storage: {{url: "{url}"}}
server: {{port: {port}}}
cluster: {{lease_ttl: 2s, renew_every: 500ms, poll_every: 300ms, shards: 4, instance: {name}}}
admins: [{{name: alice, token: "alice-token-0123456789"}}]
pages:
  - slug: cxm
    name: CXM
    components:
      - slug: mail
        name: E-mail
        monitors:
          - {{name: sender, type: push, token: "push-token-abcdef", interval: 1s, grace: 1s}}
"""


async def test_two_instances_share_heartbeats_and_admin_writes(tmp_path: Path, pg_cluster: PgCluster) -> None:
    url = pg_cluster.url(pg_cluster.create_database())
    ports = [free_port(), free_port()]
    runtimes = [Runtime(_config(tmp_path / n, url, p, n), serve=True) for n, p in zip("ab", ports, strict=True)]
    for rt in runtimes:
        await rt.start()
    try:
        async with aiohttp.ClientSession() as http:
            # Heartbeats go to whichever instance the load balancer picks; the owner sees them all.
            deadline = time.monotonic() + 6
            first_push = time.time()
            n = 0
            while time.monotonic() < deadline:
                port = ports[n % 2]
                async with http.post(f"http://127.0.0.1:{port}/api/push/push-token-abcdef") as resp:
                    assert resp.status == 200
                n += 1
                await asyncio.sleep(0.3)
            store = await open_store(Storage(url=url))
            try:
                results = await store.results("cxm/mail/sender")
            finally:
                await store.close()
            # Before the first heartbeat the monitor may already be overdue (the second instance's
            # start takes a while under load); from a moment after it (the other instance's reach
            # the owner within poll_every) every check is up.
            pushed = [r for r in results if r.at > first_push + 1]
            assert len(pushed) >= 3 and all(r.outcome == "up" for r in pushed), results
            # An admin write on one instance is on the other's site within a few seconds.
            headers = {"Authorization": "Bearer alice-token-0123456789"}
            body = {"page": "cxm", "title": "Envio lento", "severity": "T3", "components": ["mail"],
                    "status": "investigating", "message": "Investigando"}
            async with http.post(f"http://127.0.0.1:{ports[0]}/api/admin/incidents", json=body,
                                 headers=headers) as resp:
                assert resp.status in (200, 201), await resp.text()
            started = time.monotonic()
            seen = False
            while time.monotonic() - started < 5 and not seen:
                async with http.get(f"http://127.0.0.1:{ports[1]}/cxm/api/v2/incidents.json") as resp:
                    seen = resp.status == 200 and "Envio lento" in await resp.text()
                await asyncio.sleep(0.2)
            assert seen, "instance b shows an incident opened on instance a"
            assert sum(rt.is_leader for rt in runtimes) == 1
            leaders = probed = 0.0
            for port in ports:
                async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                    for line in (await resp.text()).splitlines():
                        if line.startswith("statuspage_cluster_leader "):
                            leaders += float(line.split()[1])
                        if line.startswith("statuspage_cluster_monitors_probed "):
                            probed += float(line.split()[1])
            assert (leaders, probed) == (1, 1)
    finally:
        for rt in runtimes:
            await rt.close()


async def test_a_support_alert_is_sent_once_by_the_leader_whichever_instance_took_the_case(
        tmp_path: Path, pg_cluster: PgCluster, aiohttp_server: Any) -> None:
    got: list[tuple[str, str]] = []

    async def receive(request: web.Request) -> web.Response:
        got.append((request.headers["X-Statuspage-Event"], request.headers["X-Statuspage-Delivery"]))
        return web.Response(status=204)

    hook = web.Application()
    hook.router.add_post("/hook", receive)
    receiver = await aiohttp_server(hook)
    url = pg_cluster.url(pg_cluster.create_database())
    ports = [free_port(), free_port()]
    extra = f"""
support: {{channels: {{whatsapp: {{first_response: 4m}}}}, alert_lead: 75%}}
notifications: {{webhooks: [{{url: "{receiver.make_url('/hook')}", secret: "s3cret-s3cret"}}]}}
"""
    runtimes = [Runtime(load_config_text(_config_text(tmp_path / n, url, p, n) + extra, env={}))
                for n, p in zip("ab", ports, strict=True)]
    for rt in runtimes:
        await rt.start()
    try:
        follower = next((i for i, rt in enumerate(runtimes) if not rt.is_leader), 1)
        # Opened 200 s ago on a 24×7 channel: 75 % of its 4 min first response is already used.
        opened = datetime.fromtimestamp(time.time() - 200, UTC).isoformat()
        async with aiohttp.ClientSession() as http, http.post(
                f"http://127.0.0.1:{ports[follower]}/api/admin/cases",
                json={"id": "ZD-7", "channel": "whatsapp", "opened_at": opened},
                headers={"Authorization": "Bearer alice-token-0123456789"}) as resp:
            assert resp.status == 201, await resp.text()
        deadline = time.monotonic() + 10  # the leader's support tick runs every 5 s
        while not any(event.startswith("case.") for event, _ in got) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # nothing more arrives
        # (The push monitor, without heartbeats here, has its own incident.created.) Delivery is at least
        # once: a new leader may resend what the old one was sending, under the same delivery id, which
        # receivers drop; one alert means one delivery id, never one from each instance.
        assert sorted({(event, delivery) for event, delivery in got if event.startswith("case.")}) == [
            ("case.first_response.warning", next(d for e, d in got if e.startswith("case.")))]
    finally:
        for rt in runtimes:
            await rt.close()
