"""Confirmation and backdating with an explicit clock: exact run boundaries for each scenario."""

from __future__ import annotations

import itertools

import pytest

from statuspage.models import CheckResult, MonitorState, Outcome, RunRow
from statuspage.probe.states import (
    RunIds,
    apply_check,
    component_status,
    page_indicator,
    worst_component_status,
)

KEY = "nps/app/web"
CODE: dict[str, Outcome] = {"U": "up", "D": "down", "G": "degraded"}


def play(
    checks: list[tuple[float, str]],
    confirm_down: int = 2,
    confirm_up: int = 2,
    interval: float = 10.0,
    state: MonitorState | None = None,
    tail: list[RunRow] | None = None,
) -> tuple[MonitorState, list[tuple[str, float]], list[RunRow]]:
    """Feed checks through confirmation; return the final state, transitions and runs."""
    state = state or MonitorState()
    tail = [] if tail is None else tail
    ids = RunIds(max((r.id for r in tail), default=0))
    rows: dict[int, RunRow] = {r.id: r for r in tail}
    transitions: list[tuple[str, float]] = []
    for at, code in checks:
        result = CheckResult(KEY, at, CODE[code])
        state, transition, changed = apply_check(
            state, tail, result, confirm_down=confirm_down, confirm_up=confirm_up, interval=interval, ids=ids
        )
        for row in changed:
            rows[row.id] = row
        if transition:
            transitions.append((transition.kind, transition.at))
    runs = sorted(rows.values(), key=lambda r: (r.start, r.id))
    return state, transitions, runs


def every(pattern: str, start: float = 0, step: float = 10) -> list[tuple[float, str]]:
    """Checks at start, start+step, ... with outcomes from a pattern like 'UUDDU'."""
    return [(start + i * step, c) for i, c in enumerate(pattern)]


def shape(runs: list[RunRow]) -> list[tuple[str, float, float]]:
    return [(r.state, r.start, r.end) for r in runs]


SCENARIOS = [
    ("all up", every("UUUU"), {}, [("up", 0, 30)], []),
    ("one blip is not an outage", every("UUDUU"), {}, [("up", 0, 40)], []),
    ("outage backdated to first failure, ends at first success", every("UUDDDUUU"), {},
     [("up", 0, 20), ("down", 20, 50), ("up", 50, 70)], [("down", 20), ("up", 50)]),
    ("flapping never confirms", every("UDUDUDU"), {}, [("up", 0, 60)], []),
    ("recovery during up-confirmation relapses", every("UUDDUDDD"), {},
     [("up", 0, 20), ("down", 20, 70)], [("down", 20)]),
    ("confirm_down=3 needs three", every("UDDUDDD"), {"confirm_down": 3},
     [("up", 0, 40), ("down", 40, 60)], [("down", 40)]),
    ("confirm_up=3 needs three", every("DDUUDUUU"), {"confirm_up": 3},
     [("down", 0, 50), ("up", 50, 70)], [("down", 0), ("up", 50)]),
    ("confirm 1 is immediate", every("UDU"), {"confirm_down": 1, "confirm_up": 1},
     [("up", 0, 10), ("down", 10, 20), ("up", 20, 20)], [("down", 10), ("up", 20)]),
    ("down from the very first check", every("DDDUU"), {},
     [("down", 0, 30), ("up", 30, 40)], [("down", 0), ("up", 30)]),
    ("degraded is up but its own run", every("UUGGU"), {},
     [("up", 0, 20), ("degraded", 20, 40), ("up", 40, 40)], []),
    ("gap over 2x interval is no data", [(0, "U"), (10, "U"), (50, "U")], {},
     [("up", 0, 30), ("up", 50, 50)], []),
    ("gap of exactly 2x interval is covered", [(0, "U"), (20, "U")], {}, [("up", 0, 20)], []),
    ("gap inside a pending failure streak stays no data", [(0, "U"), (10, "U"), (20, "D"), (100, "D")], {},
     [("up", 0, 20), ("down", 20, 40), ("down", 100, 100)], [("down", 20)]),
    ("unconfirmed failure at the end counts as up", every("UUUD"), {}, [("up", 0, 30)], []),
]


@pytest.mark.parametrize(("name", "checks", "opts", "runs", "transitions"), SCENARIOS,
                         ids=[s[0] for s in SCENARIOS])
def test_confirmation_scenarios(
    name: str, checks: list[tuple[float, str]], opts: dict[str, int],
    runs: list[tuple[str, float, float]], transitions: list[tuple[str, float]],
) -> None:
    _, got_transitions, got_runs = play(checks, **opts)
    assert got_transitions == transitions
    assert shape(got_runs) == runs
    # Runs never overlap and only the last one is open.
    for a, b in itertools.pairwise(got_runs):
        assert a.end <= b.start and not a.open


def test_restart_mid_outage_resumes_without_second_transition() -> None:
    state, transitions, runs = play(every("UUDD"))
    assert transitions == [("down", 20)]
    assert state.confirmed == "down" and state.down_since == 20
    # The process dies after t=30 and comes back at t=100 with the persisted state and run tail.
    tail = [r for r in runs if r.end > 20]
    state2, transitions2, runs2 = play([(100, "D"), (110, "U"), (120, "U")], state=state, tail=tail)
    assert transitions2 == [("up", 110)]
    assert shape(runs2) == [("down", 20, 50), ("down", 100, 110), ("up", 110, 120)]
    assert state2.confirmed == "up" and state2.down_since is None


def test_state_remembers_last_result_and_streak() -> None:
    state, _, _ = play(every("UUD"))
    assert state.confirmed == "up" and state.streak == 1 and state.streak_start == 20
    assert state.last_outcome == "down" and state.last_at == 20


def test_to_run_holds_open_run_at_most_hold() -> None:
    row = RunRow(1, KEY, "up", 0, 100, open=True)
    assert row.to_run(now=105, hold=20).end == 105
    assert row.to_run(now=500, hold=20).end == 120
    assert RunRow(2, KEY, "up", 0, 100, open=False).to_run(now=500, hold=20).end == 100


def down(n: int = 1) -> MonitorState:
    return MonitorState(confirmed="down", run_state="down", down_since=0)


UP = MonitorState()
SLOW = MonitorState(run_state="degraded")


@pytest.mark.parametrize(
    ("states", "maintenance", "expected"),
    [
        ([UP, UP], False, "operational"),
        ([down(), down()], False, "major_outage"),
        ([down(), UP], False, "partial_outage"),
        ([SLOW, UP], False, "degraded_performance"),
        ([down(), SLOW], False, "partial_outage"),
        ([down()], True, "under_maintenance"),
        ([], False, "operational"),
    ],
    ids=["all up", "all down", "some down", "degraded", "down beats degraded", "maintenance", "no monitors"],
)
def test_component_status(states: list[MonitorState], maintenance: bool, expected: str) -> None:
    assert component_status(states, maintenance) == expected


def test_page_indicator_is_worst_of_components_and_incidents() -> None:
    assert page_indicator(["operational"], []) == "none"
    assert page_indicator(["operational", "degraded_performance"], []) == "minor"
    assert page_indicator(["partial_outage"], []) == "minor"
    assert page_indicator(["major_outage"], ["minor"]) == "major"
    assert page_indicator(["operational"], ["critical"]) == "critical"
    assert worst_component_status(["operational", "under_maintenance", "partial_outage"]) == "partial_outage"
