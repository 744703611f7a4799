"""Push monitors (issue 11, kinds 2 and 3): the last heartbeat survives restarts (a restart is never a
recovery) and an overdue heartbeat is an outage at last push + interval + grace, whatever the tick phase."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from statuspage.config import Config, parse_config
from statuspage.models import CheckResult, MonitorState, RunRow
from statuspage.probe.checks import Checker, PushBoard
from statuspage.probe.scheduler import CheckEvent, Prober
from statuspage.probe.states import RunIds, apply_check
from statuspage.runner import Runtime
from statuspage.store.sqlite import SQLiteStore
from tests.test_checks import FakeClock
from tests.test_faults import make_monitor

TOKEN = "email-pipeline-heartbeat"


def push_config(tmp_path: Path, **monitor: Any) -> Config:
    return parse_config({
        "site": {"output_dir": str(tmp_path / "site")},
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "email", "name": "Envio de e-mails", "monitors": [
                {"type": "push", "token": TOKEN, **monitor}]}]}],
    }, env={})


async def until(predicate: Callable[[], Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_input_2_a_restart_is_never_a_recovery(tmp_path: Path) -> None:
    """Input 2: interval 1 s, grace 4 s; one push, the sender dies, the outage is confirmed and a T1
    opens; statuspage restarts. Right value: still major outage, the one incident stays investigating
    with no "recovered" update, and no up result or run after the restart."""
    config = push_config(tmp_path, name="sender", interval="1s", grace="4s")
    first = Runtime(config, serve=False)
    await first.start()
    try:
        pushed = time.time()
        first.push_board.record(TOKEN, pushed)
        assert first.store is not None
        store = first.store

        async def incident_opened() -> bool:
            return bool(await store.list_incidents())

        await until(incident_opened, timeout=15)
    finally:
        await first.close()
    restarted_at = time.time()
    second = Runtime(config, serve=False)
    await second.start()
    try:
        assert second.prober is not None and second.store is not None
        await asyncio.sleep(6.5)  # past the old "recovered" (2 checks) and relapse (4 s) points
        assert second.component_status("nps", "email") == "major_outage"
        incidents = await second.store.list_incidents()
        states = await second.store.load_monitor_states()
    finally:
        await second.close()
    [incident] = incidents
    assert (incident.status, incident.started_at) == ("investigating", pushed + 5.0)
    assert [u.status for u in incident.updates] == ["investigating"]
    state = states["nps/email/sender"]
    assert (state.confirmed, state.down_since, state.push_at) == ("down", pushed + 5.0, pushed)
    db = SQLiteStore.open(str(tmp_path / "db.sqlite"))
    store2 = await db
    try:
        after = [r for r in await store2.runs({"nps/email/sender": 2.0}, restarted_at, time.time() + 10)
                 if r.end > restarted_at]
    finally:
        await store2.close()
    assert after and all(r.state == "down" for r in after), after


async def test_input_3_overdue_heartbeat_is_dated_at_its_deadline(tmp_path: Path) -> None:
    """Input 3: interval 10 s, grace 2 s, confirm_down 1; one push just after a scheduled tick, then
    silence. Right value: the outage is confirmed and dated at push + 12 s (not at the tick at push + 20 s)."""
    config = push_config(tmp_path, name="queue", interval="10s", grace="2s", confirm_down=1)
    store = await SQLiteStore.open(config.storage.path)
    board = PushBoard()
    events: list[tuple[float, CheckEvent]] = []
    async with Checker(push_board=board) as checker:
        prober = Prober(config, store, checker, on_check=lambda e: events.append((time.time(), e)))
        await prober.load()
        prober.start()  # the monitor's first tick is 0.23 s in (its stable phase)
        try:
            async def ticked() -> bool:
                return bool(events)

            await until(ticked, timeout=3)
            pushed = time.time()
            board.record(TOKEN, pushed)

            async def went_down() -> bool:
                return any(e.result.outcome == "down" for _, e in events)

            await until(went_down, timeout=16)
        finally:
            await prober.stop()
            await store.close()
    noticed, event = next((t, e) for t, e in events if e.result.outcome == "down")
    assert event.result.at == pushed + 12.0
    assert event.transition is not None and event.transition.at == pushed + 12.0
    assert noticed - (pushed + 12.0) < 0.5, "noticed at the deadline, not at the next tick"


def test_confirm_down_2_still_dates_the_outage_at_the_deadline() -> None:
    """With confirm_down 2 the second overdue check confirms it, backdated to the deadline."""
    clock = FakeClock(1000.0)
    board = PushBoard(clock)
    checker = Checker(push_board=board, clock=clock)
    monitor = make_monitor(type="push", token=TOKEN, interval="10s", grace="2s", confirm_down=2)
    board.record(TOKEN, 1000.4)
    state, tail, ids = MonitorState(), list[RunRow](), RunIds()
    transitions = []
    # Ticks at 1000.5, 1010.5, 1020.5; the deadline check at 1012.401.
    for now in (1000.5, 1010.5, 1012.401, 1020.5):
        clock.now = now
        result = checker.check_push(monitor, now)
        state, transition, _ = apply_check(state, tail, result, confirm_down=2, confirm_up=2, interval=10,
                                           ids=ids)
        if transition:
            transitions.append((transition.kind, transition.at, now))
    assert transitions == [("down", 1012.4, 1020.5)]
    assert state.down_since == 1012.4


def test_time_statuspage_was_stopped_stays_no_data() -> None:
    """Overdue while we were not running: down from our start, never dated into the stop."""
    clock = FakeClock(2000.0)  # the new process starts at 2000
    board = PushBoard(clock)
    board.restore(TOKEN, last=None, waiting_since=None)
    from statuspage.probe.checks import Push

    board.restore(TOKEN, Push(1000.0))
    result = Checker(push_board=board, clock=clock).check_push(
        make_monitor(type="push", token=TOKEN, interval="10s", grace="2s"), 2000.3)
    assert (result.outcome, result.error, result.at) == ("down", "push_missing", 2000.0)
    assert result.message == "no push for 1000s (allowed 12s)"


def test_a_monitor_that_never_had_a_push_keeps_waiting_from_its_first_start() -> None:
    clock = FakeClock(5000.0)
    board = PushBoard(clock)
    board.restore(TOKEN, last=None, waiting_since=4000.0)
    monitor = make_monitor(type="push", token=TOKEN, interval="60s", grace="30s")
    result = Checker(push_board=board, clock=clock).check_push(monitor, 5000.5)
    assert (result.outcome, result.at, result.message) == ("down", 5000.0, "no push received in 1000s (allowed 90s)")
    fresh = Checker(push_board=PushBoard(clock), clock=clock).check_push(monitor, 5000.5)
    assert (fresh.outcome, fresh.message) == ("up", "waiting for the first push")


def test_result_is_never_dated_before_an_earlier_one() -> None:
    clock = FakeClock(1000.0)
    board = PushBoard(clock)
    checker = Checker(push_board=board, clock=clock)
    monitor = make_monitor(type="push", token=TOKEN, interval="10s", grace="2s")
    board.record(TOKEN, 1000.0)
    late_tick = checker.check_push(monitor, 1012.2)  # a tick just past the deadline
    deadline_job = checker.check_push(monitor, 1012.3)
    assert (late_tick.at, deadline_job.at) == (1012.0, 1012.3)
    assert isinstance(late_tick, CheckResult)
