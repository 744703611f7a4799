"""Hand-overs never hold up lease renewal (issue 18 follow-up, found by the scale-out bench): the lease
plan with shards still being stopped, and on a real PostgreSQL a node whose adopt and release take
longer than a lease lives keeps its leases, and releases a shard only after its monitors stopped;
an adopting instance reads only the adopted monitors' states and latency."""

from __future__ import annotations

import asyncio
import time

from statuspage.cluster.node import ClusterNode, plan
from statuspage.config import Cluster, Storage
from statuspage.models import MonitorState
from statuspage.store import Coordinator, open_coordinator, open_store
from tests.pg import Backend

TTL = 1.0


def test_shards_being_stopped_are_neither_released_twice_nor_started_again() -> None:
    # 4..7 are being stopped for release: still held, yet left alone, and not counted towards want.
    step = plan(owned={0, 1, 2, 3, 4, 5, 6, 7}, held=range(8), want=4, busy={4, 5, 6, 7})
    assert (step.gained, step.lost, step.release) == (frozenset(), frozenset(), frozenset())
    # Lost meanwhile (another took 6 after our lease expired): not lost twice; 2 is newly held.
    step = plan(owned={0, 1}, held={0, 1, 2, 4, 5}, want=4, busy={4, 5, 6})
    assert (step.gained, step.lost, step.release) == (frozenset({2}), frozenset(), frozenset())
    # Without busy shards, plan() is what it was.
    step = plan(owned={0, 1, 2, 3}, held={0, 1, 2, 3, 4}, want=3, busy=())
    assert step.release == frozenset({3, 4})


async def _coordinator(url: str, name: str) -> Coordinator:
    coordinator = await open_coordinator(Storage(url=url), name)
    assert coordinator is not None
    return coordinator


async def test_slow_hand_overs_never_cost_a_lease(pg_url: str) -> None:
    await (await open_store(Storage(url=pg_url))).close()  # the schema
    settings = Cluster(lease_ttl=TTL, renew_every=0.2, poll_every=0.2, shards=8)
    events: list[tuple[float, str, frozenset[int]]] = []

    async def slow_gain(shards: set[int]) -> None:
        events.append((time.monotonic(), "a-gain-start", frozenset(shards)))
        await asyncio.sleep(3 * TTL)  # loading 25,000 monitors' states, tails and latency

    async def slow_stop(shards: set[int]) -> None:
        await asyncio.sleep(2 * TTL)  # waiting for running checks, then the flush
        events.append((time.monotonic(), "a-stopped", frozenset(shards)))

    async def b_gain(shards: set[int]) -> None:
        events.append((time.monotonic(), "b-gain", frozenset(shards)))

    async def b_stop(shards: set[int]) -> None:
        events.append((time.monotonic(), "b-stopped", frozenset(shards)))

    async def nothing(*_: object) -> None:
        return None

    a_co, b_co, thief = [await _coordinator(pg_url, n) for n in ("a", "b", "thief")]
    a = ClusterNode(a_co, settings, on_gained=slow_gain, on_lost=slow_stop, on_lead=nothing,
                    on_depose=nothing)
    b = ClusterNode(b_co, settings, on_gained=b_gain, on_lost=b_stop, on_lead=nothing, on_depose=nothing)
    try:
        a.start()
        while not a.handing_over:  # a's first round claimed every shard and queued their adopt
            await asyncio.sleep(0.01)
        # While a adopts for 3 lease lifetimes, its leases stay live: nothing expires for a thief
        # (which claims only free or expired leases, and sends no heartbeat, so a keeps wanting all).
        deadline = time.monotonic() + 3.5 * TTL
        while time.monotonic() < deadline:
            assert await thief.claim_shards(8, want=8, ttl=TTL) == set()
            await asyncio.sleep(0.1)
        await a.settle()
        assert a.owned == set(range(8)) and not a.handing_over
        # b joins: a stops its 4 highest shards (slowly) and releases them; b takes them only then.
        b.start()
        deadline = time.monotonic() + 10 * TTL
        while time.monotonic() < deadline and len(b.owned) < 4:
            await asyncio.sleep(0.05)
        assert (a.owned, b.owned) == (set(range(4)), set(range(4, 8)))
        stopped = next(t for t, what, _ in events if what == "a-stopped")
        gained = next(t for t, what, _ in events if what == "b-gain")
        assert [s for _, what, s in events if what == "a-stopped"] == [frozenset(range(4, 8))]
        assert stopped < gained  # never probed by two instances at once
        # The split holds: a few more rounds, nobody loses or gains anything.
        count = len(events)
        await asyncio.sleep(3 * settings.renew_every)
        assert len(events) == count and (a.owned, b.owned) == (set(range(4)), set(range(4, 8)))
    finally:
        await a.close()
        await b.close()
        for coordinator in (a_co, b_co, thief):
            await coordinator.close()


async def test_a_failed_adopt_is_retried_and_close_waits_for_the_applier(pg_url: str) -> None:
    await (await open_store(Storage(url=pg_url))).close()
    settings = Cluster(lease_ttl=TTL, renew_every=0.2, poll_every=0.2, shards=4)
    calls: list[str] = []

    async def flaky_gain(shards: set[int]) -> None:
        calls.append("gain")
        if len(calls) == 1:
            raise ConnectionError("database away")

    async def stop(shards: set[int]) -> None:
        calls.append("stop")

    async def nothing(*_: object) -> None:
        return None

    co = await _coordinator(pg_url, "a")
    node = ClusterNode(co, settings, on_gained=flaky_gain, on_lost=stop, on_lead=nothing, on_depose=nothing)
    try:
        await node.renew()
        await node.settle()
        # The failed adopt stopped whatever it started and left the shards not owned ...
        assert calls == ["gain", "stop"] and node.owned == set() and not node.handing_over
        await node.renew()  # ... so the next round adopts them again
        await node.settle()
        assert calls == ["gain", "stop", "gain"] and node.owned == set(range(4))
    finally:
        await node.close()
        other = await _coordinator(pg_url, "b")
        try:  # close released every lease: another instance takes them at once
            assert await other.claim_shards(4, want=4, ttl=TTL) == set(range(4))
        finally:
            await other.close()
            await co.close()


class _Json:
    def __init__(self, data: dict[str, int]) -> None:
        self.data = data

    def to_json(self) -> dict[str, int]:
        return self.data


async def test_an_adopting_instance_reads_only_the_adopted_monitors_rows(backend: Backend) -> None:
    store = await backend.open()
    try:
        keys = [f"nps/m{i}" for i in range(5)]
        await store.register_monitors(keys)
        for i, key in enumerate(keys):
            store.buffer_state(key, MonitorState(streak=i))
            store.buffer_latency(key, 7, _Json({"n": i}))
        await store.flush()
        states = await store.load_monitor_states(["nps/m1", "nps/m3", "nps/unknown"])
        assert {k: s.streak for k, s in states.items()} == {"nps/m1": 1, "nps/m3": 3}
        assert len(await store.load_monitor_states()) == 5
        assert set(await store.latency_hour(7, ["nps/m4"])) == {"nps/m4"}
        assert len(await store.latency_hour(7)) == 5 and await store.latency_hour(7, []) == {}
    finally:
        await store.close()
