"""The outage tracker both automatic-incident drivers share (one process, the cluster leader): pure,
with an explicit clock and exact times; then carried out on a real SQLite store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from statuspage.incidents.outages import (
    HoldForMaintenance,
    MarkRecovered,
    OpenIncident,
    OutageAction,
    OutageTracker,
    Sighting,
)
from statuspage.incidents.service import IncidentService
from statuspage.models import Incident, Maintenance, MonitorState
from statuspage.probe.states import component_status
from statuspage.store.sqlite import SQLiteStore
from tests.test_incidents import Clock, Recorder, make_config

T0 = 1_795_000_000.0
UP = MonitorState()


def down(since: float, locations: str = "") -> MonitorState:
    return MonitorState(confirmed="down", down_since=since, run_state="down", locations_down=locations)


def up(recovered_at: float) -> MonitorState:
    return MonitorState(recovered_at=recovered_at)


def seen(component: str, *states: MonitorState) -> Sighting:
    """What a driver sees: the status its monitors give (the rule of probe/states.py)."""
    return Sighting(component, component_status(states), states)


def window(start: float, end: float, *components: str, cancelled: bool = False) -> Maintenance:
    return Maintenance(id=1, page="nps", title="deploy", start=T0 + start, end=T0 + end,
                       components=components, cancelled=cancelled)


def act(tracker: OutageTracker, sighting: Sighting, now: float,
        windows: list[Maintenance] | None = None) -> OutageAction | None:
    """One driver step that succeeds: ask, and record what was asked."""
    assert tracker.starts_outage(sighting) == (windows is not None)
    action = tracker.change(sighting, T0 + now, windows or [])
    if action is not None:
        tracker.done(action)
    return action


def tick(tracker: OutageTracker, now: float, windows: list[Maintenance]) -> list[OpenIncident]:
    due = tracker.due({"nps": windows}, T0 + now)
    for action in due:
        tracker.done(action)
    return due


def test_a_confirmed_outage_opens_one_incident_dated_when_the_last_monitor_went_down() -> None:
    tracker = OutageTracker()
    assert act(tracker, seen("nps/app", down(T0 + 10), UP), 12) is None  # one monitor of two: partial
    assert act(tracker, seen("nps/app", down(T0 + 10), down(T0 + 20)), 25, []) == OpenIncident(
        "nps/app", T0 + 20)
    assert tracker.is_major("nps/app")
    # Confirmed again (another monitor's transition, a repeated round): nothing more.
    assert act(tracker, seen("nps/app", down(T0 + 10), down(T0 + 20)), 30) is None


def test_a_blip_or_a_partial_outage_opens_nothing() -> None:
    tracker = OutageTracker()
    blip = MonitorState(streak=1, streak_start=T0 + 5, run_state="down")  # not confirmed
    assert act(tracker, seen("nps/app", blip), 6) is None
    assert act(tracker, seen("nps/app", down(T0 + 5), UP), 9) is None  # partial_outage: no T1
    assert act(tracker, seen("nps/app", MonitorState(run_state="degraded")), 9) is None
    assert not tracker.is_major("nps/app")


def test_recovery_is_dated_by_the_earliest_monitor_back_up() -> None:
    tracker = OutageTracker()
    act(tracker, seen("nps/app", down(T0), down(T0 + 3)), 5, [])
    assert act(tracker, seen("nps/app", up(T0 + 40), down(T0 + 3)), 47) == MarkRecovered("nps/app", T0 + 40)
    assert not tracker.is_major("nps/app")
    # Both back up, the later one was last: still dated by the first.
    tracker2 = OutageTracker()
    act(tracker2, seen("nps/app", down(T0), down(T0 + 3)), 5, [])
    assert act(tracker2, seen("nps/app", up(T0 + 41), up(T0 + 40)), 60) == MarkRecovered("nps/app", T0 + 40)


def test_a_restart_is_never_a_recovery() -> None:
    tracker = OutageTracker()  # a fresh process knows no outage
    assert act(tracker, seen("nps/app", up(T0 - 50)), 1) is None
    # Reconciling: a component still down keeps its incident (opened or joined), never recovers.
    actions = tracker.reconcile([seen("nps/app", down(T0 - 100)), seen("nps/reports", up(T0 - 50))],
                                [], T0 + 1)
    assert actions == [OpenIncident("nps/app", T0 - 100)]


def test_reconcile_moves_on_incidents_whose_components_all_recovered_while_away() -> None:
    def incident(id_: int, components: tuple[str, ...], **fields: object) -> Incident:
        base = Incident(id=id_, page="nps", title="t", severity="T1", impact="major", status="investigating",
                        started_at=T0 - 500, due_at=T0, components=components, automatic=True)
        return replace(base, **fields)  # type: ignore[arg-type]

    tracker = OutageTracker()
    sightings = [seen("nps/app", up(T0 - 30)), seen("nps/reports", down(T0 - 400)), seen("nps/email", UP)]
    actions = tracker.reconcile(sightings, [
        incident(1, ("app", "email")),                # all back: monitoring, each dated by its monitors
        incident(2, ("app", "reports")),              # reports still down: stays open
        incident(3, ("app",), status="monitoring"),   # already moved on
        incident(4, ("app",), automatic=False),       # an engineer's: theirs to move
    ], T0 + 5, {"nps": []})
    assert actions == [OpenIncident("nps/reports", T0 - 400), MarkRecovered("nps/app", T0 - 30),
                       MarkRecovered("nps/email", T0 + 5)]


def test_several_locations_the_incident_names_those_that_saw_it() -> None:
    tracker = OutageTracker()
    sighting = seen("nps/app", down(T0, "sao-paulo,virginia"), down(T0 + 2, "frankfurt,virginia"))
    assert act(tracker, sighting, 4, []) == OpenIncident(
        "nps/app", T0 + 2, ("frankfurt", "sao-paulo", "virginia"))


def test_an_outage_inside_a_window_is_held_and_opens_at_the_windows_end_if_still_down() -> None:
    tracker = OutageTracker()
    deploy = [window(100, 200, "app")]
    assert act(tracker, seen("nps/app", down(T0 + 105)), 110, deploy) == HoldForMaintenance("nps/app", T0 + 105)
    assert tracker.held == {"nps/app": T0 + 105}
    assert tracker.windows_needed(T0 + 150) == {"nps": T0 + 105}
    assert tick(tracker, 150, deploy) == []  # still inside
    assert tick(tracker, 205, deploy) == [OpenIncident("nps/app", T0 + 200, after_maintenance=True)]
    assert tracker.held == {} and tracker.is_major("nps/app")
    assert tick(tracker, 210, deploy) == []  # once


def test_an_outage_that_recovers_inside_its_window_opens_nothing() -> None:
    tracker = OutageTracker()
    deploy = [window(100, 200)]
    act(tracker, seen("nps/app", down(T0 + 105)), 110, deploy)
    assert act(tracker, seen("nps/app", up(T0 + 150)), 152) == MarkRecovered("nps/app", T0 + 150)
    assert tracker.held == {}
    assert tick(tracker, 205, deploy) == []


@pytest.mark.parametrize(("windows_then", "now", "expected"), [
    ([window(100, 200, cancelled=True)], 150, T0 + 105),   # cancelled: dated from the failure
    ([window(100, 120)], 150, T0 + 120),                    # cut short: its new end
    ([window(100, 200), window(200, 260)], 230, None),      # extended by a second window: still held
    ([window(100, 200), window(200, 260)], 270, T0 + 260),  # ... then the end of the chain
    ([window(100, 200, "reports")], 150, T0 + 105),         # now only for another component
], ids=["cancelled", "shortened", "followed-still-inside", "followed-then-over", "moved-to-another"])
def test_a_window_changed_while_it_holds_an_outage(
    windows_then: list[Maintenance], now: float, expected: float | None
) -> None:
    tracker = OutageTracker()
    act(tracker, seen("nps/app", down(T0 + 105)), 110, [window(100, 200)])
    due = tick(tracker, now, windows_then)
    assert due == ([] if expected is None else [OpenIncident("nps/app", expected, after_maintenance=True)])


def test_already_down_before_the_window_keeps_its_one_incident() -> None:
    tracker = OutageTracker()
    assert act(tracker, seen("nps/app", down(T0 + 90)), 95, []) == OpenIncident("nps/app", T0 + 90)
    deploy = [window(100, 200)]
    assert act(tracker, seen("nps/app", down(T0 + 90)), 150) is None
    assert tracker.windows_needed(T0 + 150) == {} and tick(tracker, 208, deploy) == []
    # A restart inside the window: held, then the incident it had continues from its own start.
    assert tracker.reconcile([seen("nps/app", down(T0 + 90))], [], T0 + 150, {"nps": deploy}) == [
        HoldForMaintenance("nps/app", T0 + 90)]
    tracker.done(HoldForMaintenance("nps/app", T0 + 90))
    assert tick(tracker, 208, deploy) == [OpenIncident("nps/app", T0 + 90, after_maintenance=True)]


def test_a_failed_write_is_asked_again_and_a_hold_keeps_the_oldest_start() -> None:
    tracker = OutageTracker()
    sighting = seen("nps/app", down(T0 + 105))
    first = tracker.change(sighting, T0 + 110, [])
    # The database refused: `done` was never called, so the next call asks the same.
    assert tracker.change(sighting, T0 + 111, []) == first == OpenIncident("nps/app", T0 + 105)
    tracker.done(HoldForMaintenance("nps/app", T0 + 105))  # a window appeared meanwhile
    tracker.done(HoldForMaintenance("nps/app", T0 + 200))  # still covered when the tick tried
    assert tracker.held == {"nps/app": T0 + 105}


# --- carried out on a real store ------------------------------------------------------------------


async def drive(tracker: OutageTracker, service: IncidentService, actions: list[OutageAction]) -> None:
    for action in actions:
        tracker.done(await service.carry_out(action))


async def test_carried_out_one_incident_per_outage_and_none_inside_maintenance(tmp_path: Path) -> None:
    """The same steps a driver takes, on SQLite: a held outage becomes a T1 dated the window's end
    (notified once); one down before the window keeps its one incident; locations are kept."""
    store = await SQLiteStore.open(str(tmp_path / "db.sqlite"))
    clock, sent = Clock(T0), Recorder()
    live: dict[str, Sighting] = {}
    service = IncidentService(store, make_config(), sent, clock,
                              lambda page, comp: live[f"{page}/{comp}"].status)
    tracker = OutageTracker()
    try:
        await service.add_maintenance("nps", "deploy", T0 + 100, T0 + 200, ["reports"])

        async def step(sighting: Sighting, now: float) -> None:
            clock.now = T0 + now
            live[sighting.component] = sighting
            windows = (await service.maintenance_windows(sighting.page, clock.now)
                       if tracker.starts_outage(sighting) else [])
            action = tracker.change(sighting, clock.now, windows)
            await drive(tracker, service, [] if action is None else [action])

        async def tick_at(now: float) -> None:
            clock.now = T0 + now
            windows = {p: await service.maintenance_windows(p, after)
                       for p, after in tracker.windows_needed(clock.now).items()}
            await drive(tracker, service, list(tracker.due(windows, clock.now)))

        await step(seen("nps/app", down(T0 + 90, "virginia")), 95)        # before the window
        await step(seen("nps/reports", down(T0 + 105)), 110)              # inside it: held
        await tick_at(150)
        [incident] = await store.list_incidents()
        assert (incident.components, incident.started_at, incident.locations) == (
            ("app",), T0 + 90, ("virginia",))
        await tick_at(205)
        [incident] = await store.list_incidents()
        assert incident.components == ("app", "reports")
        joined = incident.updates[-1]
        assert joined.auto is not None and (joined.auto.key, joined.auto.param("start")) == ("joined", T0 + 200)
        await tick_at(210)
        assert [e for e, _, _ in sent.events] == ["incident.created", "incident.updated"]
        await step(seen("nps/app", up(T0 + 300)), 302)
        await step(seen("nps/reports", up(T0 + 310)), 312)
        [incident] = await store.list_incidents()
        assert (incident.status, incident.recovered_at) == ("monitoring", T0 + 310)
    finally:
        await store.close()
