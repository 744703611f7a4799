"""The quorum rule: pure functions from the locations' confirmed state runs to the monitor's.

A location's runs are its confirmed history (backdated as probe/states.py does). At any instant:
- a location is *live* when one of its runs covers that instant (an open run covers until its last
  check's end + `hold`, the freshness rule of `probe.states.live_hold`: 2 × interval plus the
  check's timeout); a stale or unhealthy location counts neither way;
- fewer than `quorum` live locations: no data (never up, never down);
- at least `quorum` live locations confirmed down: down. The outage therefore starts when the
  quorum-th location's (backdated) outage starts and ends when fewer than `quorum` remain down, at
  that location's recovery;
- otherwise degraded when at least `quorum` locations are degraded or down, else up.

Times are UTC epoch seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Literal

from statuspage.models import MonitorState, Outcome, RunRow

Quorum = int | Literal["majority"]

LOCATION_SEPARATOR = "@"


def location_key(monitor: str, location: str) -> str:
    """The key a location's state and runs of `monitor` are stored under: `page/comp/mon@location`."""
    return f"{monitor}{LOCATION_SEPARATOR}{location}"


def resolve_quorum(quorum: Quorum, locations: int) -> int:
    """How many locations must agree: a number (capped at `locations`) or `majority` (n // 2 + 1)."""
    if quorum == "majority":
        return locations // 2 + 1
    return max(1, min(int(quorum), locations))


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch one location covered in one confirmed state."""

    start: float
    end: float
    state: Outcome


@dataclass(frozen=True, slots=True)
class Verdict:
    """A stretch of the monitor's combined state (`None`: no data), with who saw what during it."""

    start: float
    end: float
    state: Outcome | None
    down: tuple[str, ...]
    """Locations confirmed down at the end of the stretch (sorted)."""
    live: tuple[str, ...]
    """Locations that counted at the end of the stretch (sorted)."""


def spans(rows: Iterable[RunRow], now: float, hold: float) -> list[Span]:
    """A location's covered stretches: closed runs as stored, an open run until now, at most its
    last check's end + `hold`."""
    out: list[Span] = []
    for row in rows:
        end = min(max(now, row.end), row.end + hold) if row.open else row.end
        if end > row.start:
            out.append(Span(row.start, end, row.state))
    return sorted(out, key=lambda s: s.start)


def _state_at(location_spans: Sequence[Span], a: float, b: float) -> Outcome | None:
    for span in location_spans:
        if span.start <= a and span.end >= b:
            return span.state
    return None


def combine(
    by_location: Mapping[str, Sequence[Span]], quorum: int, start: float, end: float,
) -> list[Verdict]:
    """The combined verdicts over [start, end], adjacent stretches of equal state merged."""
    edges = {start, end}
    for location_spans in by_location.values():
        for span in location_spans:
            edges.update(t for t in (span.start, span.end) if start < t < end)
    points = sorted(edges)
    out: list[Verdict] = []
    for a, b in pairwise(points):
        live: list[str] = []
        down: list[str] = []
        degraded = 0
        for name, location_spans in by_location.items():
            state = _state_at(location_spans, a, b)
            if state is None:
                continue
            live.append(name)
            if state == "down":
                down.append(name)
            elif state == "degraded":
                degraded += 1
        verdict: Outcome | None
        if len(down) >= quorum:
            verdict = "down"
        elif len(live) < quorum:
            verdict = None
        elif degraded + len(down) >= quorum:
            verdict = "degraded"
        else:
            verdict = "up"
        piece = Verdict(a, b, verdict, tuple(sorted(down)), tuple(sorted(live)))
        if out and out[-1].state == verdict:
            out[-1] = replace(piece, start=out[-1].start)
        else:
            out.append(piece)
    return out


def merge_runs(
    old: Sequence[RunRow], verdicts: Sequence[Verdict], monitor: str, since: float, next_id: Iterable[int],
) -> tuple[list[RunRow], list[RunRow]]:
    """Rewrite a monitor's combined runs from `since` on; return (its runs, the rows to upsert).

    `old` are the stored combined runs that end after `since`; a run starting before `since` is cut
    there and, when the first new verdict continues it in the same state, carries on (so a long
    outage or a long good stretch stays one run however often it is recombined). Runs starting at or
    after `since` are replaced (the caller deletes them). No-data verdicts are gaps, never runs.
    The last run is open when it reaches the end of the verdicts."""
    ids = iter(next_id)
    kept = [r for r in old if r.start < since]
    out: list[RunRow] = []
    changed: list[RunRow] = []
    for row in kept:
        if row.end > since or row.open:
            row = RunRow(row.id, row.monitor, row.state, row.start, max(since, min(row.end, since)), False)
            changed.append(row)
        out.append(row)
    horizon = verdicts[-1].end if verdicts else since
    for v in verdicts:
        if v.state is None:
            continue
        is_open = v.end >= horizon
        last = out[-1] if out else None
        if last is not None and last.state == v.state and last.end >= v.start:
            last.end = v.end
            last.open = is_open
            if last not in changed:
                changed.append(last)
            continue
        row = RunRow(next(ids), monitor, v.state, v.start, v.end, is_open)
        out.append(row)
        changed.append(row)
    return out, changed


def combined_state(
    prev: MonitorState, runs: Sequence[RunRow], current: Verdict | None,
    locations: Mapping[str, MonitorState], now: float,
) -> MonitorState:
    """The monitor's state from its combined runs (newest last) and the verdict covering `now`.

    Confirmed down while the newest verdict is down, with `down_since` the start of that run (the
    quorum-th location's backdated start); up again from the start of the run after it
    (`recovered_at`: the recovery that left fewer than quorum down). With no data now the confirmed
    state and outage start stay as they were (nothing is opened or resolved on no data), and
    `last_at` stays put, so the page shows no data once it is older than the freshness allowance.
    The last check's details are the freshest location's."""
    fresh = max((s for s in locations.values() if s.last_at is not None),
                key=lambda s: s.last_at or 0.0, default=None)
    base = prev if fresh is None else replace(
        prev, last_outcome=fresh.last_outcome, last_error=fresh.last_error,
        last_message=fresh.last_message, last_latency_ms=fresh.last_latency_ms,
        cert_expires_at=fresh.cert_expires_at, cert_host=fresh.cert_host)
    down = ",".join(current.down) if current is not None else ""
    live = ",".join(current.live) if current is not None else ""
    base = replace(base, locations_down=down, locations_live=live, locations_total=len(locations))
    if current is None or current.state is None:
        return base
    base = replace(base, last_at=now, last_ended_at=now)
    if current.state == "down":
        start = next((r.start for r in reversed(runs) if r.state == "down"), current.start)
        return replace(base, confirmed="down", down_since=start, run_state="down", streak=0,
                       streak_start=None)
    recovered = prev.recovered_at
    if prev.confirmed == "down":
        after = [r for r in runs if r.state != "down" and prev.down_since is not None
                 and r.start >= prev.down_since]
        recovered = after[0].start if after else current.start
    return replace(base, confirmed="up", down_since=None, run_state=current.state, recovered_at=recovered,
                   streak=0, streak_start=None)
