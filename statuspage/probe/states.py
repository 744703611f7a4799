"""Confirmation, backdating, state runs and component/page status: pure functions, no I/O.

A monitor's *confirmed* state changes only after `confirm_down` consecutive down checks (the outage
is backdated to the first of them) or `confirm_up` consecutive non-down checks (the outage ends at
the first of them). Unconfirmed failures never count as downtime: until confirmation they extend the
current run, and confirmation rewrites the tail of the run history from the backdated instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from statuspage.models import CheckResult, ComponentStatus, Confirmed, Impact, MonitorState, Outcome, RunRow


@dataclass(frozen=True, slots=True)
class Transition:
    """A confirmed change: `down` at the backdated outage start, or `up` at the first good check."""

    kind: Confirmed
    at: float


def confirm(
    state: MonitorState, result: CheckResult, confirm_down: int, confirm_up: int
) -> tuple[MonitorState, Transition | None]:
    """Apply one check result to a monitor's confirmation state."""
    is_down = result.outcome == "down"
    contradicts = is_down if state.confirmed == "up" else not is_down
    if contradicts:
        streak = state.streak + 1
        streak_start = state.streak_start if state.streak else result.at
    else:
        streak, streak_start = 0, None
    needed = confirm_down if state.confirmed == "up" else confirm_up
    # One copy of the state per check (the usual case): `replace` is the costliest step of a check's
    # confirmation, and a second one for the run state doubled it.
    new = replace(
        state,
        streak=streak,
        streak_start=streak_start,
        last_at=result.at,
        last_outcome=result.outcome,
        last_error=result.error,
        last_message=result.message,
        last_latency_ms=result.latency_ms,
        cert_expires_at=(
            result.cert_expires_at if result.cert_expires_at is not None else state.cert_expires_at
        ),
        cert_host=result.cert_host if result.cert_expires_at is not None else state.cert_host,
        last_ended_at=result.end,
        run_state=result.outcome if state.confirmed == "up" and not is_down else state.run_state,
    )
    if contradicts and streak >= needed:
        assert streak_start is not None
        if state.confirmed == "up":
            new = replace(new, confirmed="down", streak=0, streak_start=None, down_since=streak_start,
                          run_state="down")
            return new, Transition("down", streak_start)
        new = replace(new, confirmed="up", streak=0, streak_start=None, down_since=None,
                      run_state=result.outcome, recovered_at=streak_start)
        return new, Transition("up", streak_start)
    return new, None


# --- state runs --------------------------------------------------------------------------------


class RunIds:
    """Hands out run ids in memory so writes can be batched without reading ids back."""

    def __init__(self, last: int = 0) -> None:
        self.last = last

    def next(self) -> int:
        """A fresh id."""
        self.last += 1
        return self.last


def advance_runs(
    tail: list[RunRow], monitor: str, state: Outcome, at: float, hold: float, ids: RunIds,
    end: float | None = None,
) -> list[RunRow]:
    """Record a check in state `state` made from `at` to `end` on a monitor's run tail; return changed rows.

    The check covers [at, end] (the time it waited counts with its result: a hung endpoint is down
    for as long as a check waited on it), then holds until the next check but at most `hold`
    (2 × interval) after `end`; a longer gap closes the run at end + hold and leaves the gap as no data.
    An open run's `end` is its last check's end.
    """
    end = at if end is None or end < at else end
    current = tail[-1] if tail and tail[-1].open else None
    if current is not None and at < current.end:
        return []  # a result older than what is recorded (clock step back): ignore it, never rewrite
    changed: list[RunRow] = []
    if current is not None:
        if at - current.end > hold:
            current.end += hold
            current.open = False
            changed.append(current)
            current = None
        elif current.state == state:
            current.end = end
            changed.append(current)
            return changed
        else:
            current.end = at
            current.open = False
            changed.append(current)
            current = None
    row = RunRow(ids.next(), monitor, state, at, end, True)
    tail.append(row)
    changed.append(row)
    del tail[:-4]  # only the last few runs can ever be rewritten by backdating
    return changed


def close_stale_run(tail: list[RunRow], at: float, hold: float) -> list[RunRow]:
    """Close the open run at last check + `hold` when the check at `at` comes after a longer gap."""
    if tail and tail[-1].open and at - tail[-1].end > hold:
        tail[-1].end += hold
        tail[-1].open = False
        return [tail[-1]]
    return []


def reclassify_runs(tail: list[RunRow], since: float, state: Outcome, ids: RunIds) -> list[RunRow]:
    """Rewrite the tail's covered time from `since` on to `state` (backdating); return changed rows.

    An open run covers everything from its start on (its last check still holds), so it is cut
    at `since` even when its last check was exactly then. Gaps stay gaps.
    """
    changed: list[RunRow] = []
    out: list[RunRow] = []
    for row in tail:
        untouched = row.end <= since and not row.open
        if untouched or row.state == state:
            out.append(row)
            continue
        if row.start >= since:
            row.state = state
            changed.append(row)
            out.append(row)
            continue
        # The run straddles `since`: cut it there and carry on in the new state.
        rest = RunRow(ids.next(), row.monitor, state, since, max(row.end, since), row.open)
        row.end = since
        row.open = False
        changed += [row, rest]
        out += [row, rest]
    tail[:] = out
    return changed


# --- component and page status ----------------------------------------------------------------

_COMPONENT_RANK: dict[ComponentStatus, int] = {
    "operational": 0, "under_maintenance": 1, "degraded_performance": 2, "partial_outage": 3,
    "major_outage": 4,
}
_IMPACT_RANK: dict[Impact, int] = {"none": 0, "minor": 1, "major": 2, "critical": 3}


def component_status(states: Sequence[MonitorState], in_maintenance: bool = False) -> ComponentStatus:
    """Statuspage status of a component from its monitors' confirmed states."""
    if in_maintenance:
        return "under_maintenance"
    down = sum(1 for s in states if s.confirmed == "down")
    if states and down == len(states):
        return "major_outage"
    if down:
        return "partial_outage"
    if any(s.run_state == "degraded" for s in states):
        return "degraded_performance"
    return "operational"


def worst_component_status(statuses: Iterable[ComponentStatus]) -> ComponentStatus:
    """The worst of several component statuses (maintenance ranks just above operational)."""
    return max(statuses, key=_COMPONENT_RANK.__getitem__, default="operational")


def component_impact(status: ComponentStatus) -> Impact:
    """The page indicator a component status implies."""
    if status == "major_outage":
        return "major"
    if status in ("partial_outage", "degraded_performance"):
        return "minor"
    return "none"


def page_indicator(components: Iterable[ComponentStatus], incident_impacts: Iterable[Impact]) -> Impact:
    """Statuspage page indicator: the worst of the open incidents' impacts and of the components."""
    impacts = [component_impact(s) for s in components] + list(incident_impacts)
    return max(impacts, key=_IMPACT_RANK.__getitem__, default="none")


def apply_check(
    state: MonitorState,
    tail: list[RunRow],
    result: CheckResult,
    *,
    confirm_down: int,
    confirm_up: int,
    interval: float,
    ids: RunIds,
) -> tuple[MonitorState, Transition | None, list[RunRow]]:
    """Confirm one result and bring the monitor's run tail up to date; return what changed."""
    new, transition = confirm(state, result, confirm_down, confirm_up)
    # A gap before this check stays no data even when backdating reaches across it.
    changed = close_stale_run(tail, result.at, 2 * interval)
    if transition is not None:
        changed += reclassify_runs(tail, transition.at, new.run_state, ids)
    changed += advance_runs(tail, result.monitor, new.run_state, result.at, 2 * interval, ids, result.end)
    return new, transition, changed


def live_hold(interval: float, timeout: float) -> float:
    """How long after a check ends its reading still counts as *now* (the page's "no data" rule).

    The uptime rule holds a state 2 × interval; a status shown now must also outlast the next
    check while it may still be running: it starts at most one interval after the last one ended
    and may wait `timeout`. So a hanging, confirmed-down endpoint stays down on the page between
    its results instead of flickering to no data.
    """
    return 2.0 * interval + timeout
