"""The one timer that drives every monitor's interval runs (issue 17): APScheduler's semantics
(coalesce, one run at a time) with the lag counted from each run's intended start."""

from __future__ import annotations

import asyncio
import time

import pytest

from statuspage.probe.timer import Fire, SlotTimer, wake_gap


def _timer(busy: set[str] | None = None) -> SlotTimer:
    return SlotTimer(lambda fire: None, (busy if busy is not None else set()).__contains__)


def test_each_monitor_fires_at_its_own_slots() -> None:
    timer = _timer()
    timer.add("a", 100.0, 10.0)
    timer.add("b", 105.0, 30.0)
    assert timer.due_runs(99.9) == []
    assert timer.due_runs(100.0) == [Fire("a", 100.0, 0, 0, False)]
    assert timer.due_runs(105.0) == [Fire("b", 105.0, 0, 0, False)]
    assert timer.due_runs(110.2) == [Fire("a", 110.0, 0, 0, False)]
    assert (timer.next_due("a"), timer.next_due("b")) == (120.0, 135.0)


def test_a_frozen_process_runs_once_late_since_the_first_slot_it_missed() -> None:
    timer = _timer()
    timer.add("a", 10.0, 10.0)
    assert timer.due_runs(10.0) == [Fire("a", 10.0, 0, 0, False)]
    # Frozen from 12 to 55: the slots 20, 30, 40 and 50 are one run, late since 20 (3 merged into it).
    assert timer.due_runs(55.0) == [Fire("a", 20.0, 3, 0, False)]
    assert timer.next_due("a") == 60.0
    # Exactly on a later slot: that slot is merged too, the next one is strictly after now.
    assert timer.due_runs(80.0) == [Fire("a", 60.0, 2, 0, False)]
    assert timer.next_due("a") == 90.0


def test_a_slot_that_comes_while_the_previous_check_runs_is_refused_not_owed() -> None:
    busy = {"a"}
    timer = _timer(busy)
    timer.add("a", 10.0, 10.0)
    assert timer.due_runs(10.0) == [Fire("a", 10.0, 0, 1, True)]
    assert timer.due_runs(31.0) == [Fire("a", 20.0, 0, 2, True)]  # 20 and 30 both refused
    busy.clear()
    assert timer.due_runs(40.0) == [Fire("a", 40.0, 0, 0, False)]


def test_a_refused_slot_then_a_freeze_count_both_kinds_of_skip() -> None:
    # Refused at 20 (the check still ran), then frozen past 30 and 40: one run at 55, late since 30.
    busy = {"a"}
    timer = _timer(busy)
    timer.add("a", 20.0, 10.0)
    assert timer.due_runs(20.0) == [Fire("a", 20.0, 0, 1, True)]
    busy.clear()
    assert timer.due_runs(55.0) == [Fire("a", 30.0, 2, 0, False)]


def test_a_monitor_probed_again_after_another_instance_did_is_on_time() -> None:
    # Released at 30 (another instance took it), adopted back at 300: the slots in between were
    # probed elsewhere, not skipped here.
    timer = _timer()
    timer.add("a", 10.0, 10.0)
    for at in (10.0, 20.0, 30.0):
        assert timer.due_runs(at) == [Fire("a", at, 0, 0, False)]
    timer.remove("a")
    timer.add("a", 300.0, 10.0)
    assert timer.due_runs(300.0) == [Fire("a", 300.0, 0, 0, False)]


def test_removed_and_rescheduled_monitors() -> None:
    timer = _timer()
    timer.add("a", 10.0, 10.0)
    timer.add("b", 10.0, 10.0)
    timer.remove("a")
    assert timer.due_runs(10.0) == [Fire("b", 10.0, 0, 0, False)]
    timer.add("b", 15.0, 5.0)  # adopted again with another phase: the old slots are gone
    assert timer.due_runs(20.0) == [Fire("b", 15.0, 1, 0, False)]
    assert len(timer) == 1 and "b" in timer and "a" not in timer


async def test_the_timer_fires_on_the_event_loop_at_the_slot() -> None:
    fired: list[tuple[Fire, float]] = []
    timer = SlotTimer(lambda fire: fired.append((fire, time.time())), lambda key: False)
    start = time.time()
    timer.add("a", start + 0.05, 0.1)
    timer.add("b", start + 0.08, 10.0)
    timer.start()
    try:
        for _ in range(100):
            if len(fired) >= 3:
                break
            await asyncio.sleep(0.02)
    finally:
        timer.stop()
    assert [f.key for f, _ in fired[:3]] == ["a", "b", "a"]
    for fire, at in fired[:3]:
        assert at >= fire.intended - 0.002
        assert at - fire.intended < 0.5
    count = len(fired)
    await asyncio.sleep(0.25)
    assert len(fired) == count  # stopped: nothing fires any more


@pytest.mark.parametrize("interval", [1.0, 30.0, 0.7], ids=["1s", "30s", "0.7s"])
def test_slots_never_drift(interval: float) -> None:
    timer = _timer()
    timer.add("a", 1000.0, interval)
    now, seen = 1000.0, []
    for _ in range(500):
        seen += timer.due_runs(now)
        now += interval / 3
    assert all(f.late == 0 for f in seen)
    assert [f.intended for f in seen] == pytest.approx([1000.0 + k * interval for k in range(len(seen))])


def test_the_wake_up_gap_is_a_thousandth_of_the_shortest_interval_within_5_to_50_ms() -> None:
    # At 2,000 monitors every 30 s one wake-up per check cost more CPU than the checks' own work.
    assert [wake_gap(s) for s in (1.0, 5.0, 10.0, 30.0, 60.0, 3600.0)] == [
        0.005, 0.005, 0.01, 0.03, 0.05, 0.05]


def test_the_wake_up_gap_waits_for_eight_runs_when_they_come_slowly() -> None:
    # 2,000 @ 30 s (66.7/s): the 30 ms cap; 20,000 (666.7/s): 12 ms; 50,000 (1,666.7/s): 5 ms, where a
    # 30 ms gap started 50 checks per burst and tripled the lag p99.
    gaps = [wake_gap(30.0, n / 30.0) for n in (2_000, 20_000, 50_000)]
    assert [round(g, 6) for g in gaps] == [0.03, 0.012, 0.005]
    assert wake_gap(1.0, 0.5) == 0.005


async def test_slots_closer_than_the_gap_share_one_wake_up() -> None:
    fired: list[tuple[Fire, float]] = []
    timer = SlotTimer(lambda fire: fired.append((fire, time.time())), lambda key: False, min_gap=0.2)
    start = time.time()
    timer.add("a", start + 0.01, 10.0)
    timer.start()
    try:
        for _ in range(100):
            if fired:
                break
            await asyncio.sleep(0.01)
        timer.add("b", time.time() + 0.01, 10.0)  # due before the gap is over: waits for it
        for _ in range(100):
            if len(fired) >= 2:
                break
            await asyncio.sleep(0.01)
    finally:
        timer.stop()
    (_, a_at), (b, b_at) = fired[:2]
    assert b_at - a_at >= 0.2 - 0.002
    assert b_at - b.intended >= 0.1  # late by the gap, and the lag counts from the intended slot
