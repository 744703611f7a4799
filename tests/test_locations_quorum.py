"""The quorum rule to the second, with an explicit clock: locations' confirmed runs → the monitor's.

Each location's runs come from the real confirmation (probe/states.apply_check: confirm_down 2,
confirm_up 2, backdating) fed with checks every 30 s; the combination is locations/quorum.py's.
"""

from __future__ import annotations

from statuspage.locations.health import LocationHealth, pattern, target_host
from statuspage.locations.quorum import (
    Span,
    combine,
    combined_state,
    location_key,
    merge_runs,
    resolve_quorum,
    spans,
)
from statuspage.models import CheckResult, MonitorState, RunRow
from statuspage.probe.states import RunIds, apply_check, live_hold

INTERVAL, TIMEOUT = 30.0, 5.0
HOLD = live_hold(INTERVAL, TIMEOUT)  # 65 s


def location_runs(down: set[float], until: float, start: float = 0.0) -> list[RunRow]:
    """The runs one location records for checks every 30 s from `start` to `until`, failing at `down`."""
    state, tail, ids = MonitorState(), [], RunIds()
    history: dict[int, RunRow] = {}
    t = start
    while t <= until:
        result = CheckResult("p/c/m", t, "down" if t in down else "up", error="connect" if t in down else None)
        state, _, changed = apply_check(state, tail, result, confirm_down=2, confirm_up=2, interval=INTERVAL,
                                        ids=ids)
        for row in changed:
            history[row.id] = row
        t += INTERVAL
    return sorted(history.values(), key=lambda r: r.start)


def failing(first: float, last: float) -> set[float]:
    return {float(t) for t in range(int(first), int(last) + 1, int(INTERVAL))}


def test_quorum_numbers() -> None:
    assert resolve_quorum("majority", 3) == 2
    assert resolve_quorum("majority", 4) == 3
    assert resolve_quorum("majority", 1) == 1
    assert resolve_quorum(5, 3) == 3  # never more than the locations there are
    assert location_key("nps/api/health", "sp") == "nps/api/health@sp"


def test_one_location_down_is_not_an_outage() -> None:
    now = 600.0
    by_location = {
        "a": spans(location_runs(failing(60, 600), now), now, HOLD),
        "b": spans(location_runs(set(), now), now, HOLD),
        "c": spans(location_runs(set(), now), now, HOLD),
    }
    verdicts = combine(by_location, 2, 0.0, now)
    assert [(v.start, v.end, v.state) for v in verdicts] == [(0.0, 600.0, "up")]
    assert verdicts[-1].down == ("a",) and verdicts[-1].live == ("a", "b", "c")


def test_two_of_three_down_starts_at_the_second_backdated_failure_and_ends_at_its_recovery() -> None:
    now = 600.0
    # a fails 60..210 (confirmed at 90, backdated to 60; recovers at 240, confirmed at 270);
    # b fails 120..450 (confirmed at 150, backdated to 120); c never fails.
    by_location = {
        "a": spans(location_runs(failing(60, 210), now), now, HOLD),
        "b": spans(location_runs(failing(120, 450), now), now, HOLD),
        "c": spans(location_runs(set(), now), now, HOLD),
    }
    verdicts = combine(by_location, 2, 0.0, now)
    assert [(v.start, v.end, v.state) for v in verdicts] == [
        (0.0, 120.0, "up"), (120.0, 240.0, "down"), (240.0, 600.0, "up")]
    assert verdicts[1].down == ("a", "b")
    runs, written = merge_runs([], verdicts, "p/c/m", 0.0, iter(range(1, 100)))
    assert [(r.state, r.start, r.end, r.open) for r in runs] == [
        ("up", 0.0, 120.0, False), ("down", 120.0, 240.0, False), ("up", 240.0, 600.0, True)]
    assert written == runs
    # The monitor's state at 200 (while down) and at 600 (recovered at a's recovery, 240).
    mid = combine(by_location, 2, 0.0, 200.0)
    down_runs, _ = merge_runs([], mid, "p/c/m", 0.0, iter(range(1, 100)))
    down = combined_state(MonitorState(), down_runs, mid[-1], {}, 200.0)
    assert (down.confirmed, down.down_since, down.locations_down) == ("down", 120.0, "a,b")
    up = combined_state(down, runs, verdicts[-1], {}, now)
    assert (up.confirmed, up.recovered_at, up.down_since) == ("up", 240.0, None)


def test_stale_locations_count_neither_way_and_too_few_is_no_data() -> None:
    now = 600.0
    # b's last check is at 180 (its link cut at 200): it counts until 180 + 65, then neither way.
    by_location = {
        "a": spans(location_runs(set(), now), now, HOLD),
        "b": spans(location_runs(set(), 200.0), now, HOLD),
        "c": spans(location_runs(failing(300, 600), now), now, HOLD),
    }
    verdicts = combine(by_location, 2, 0.0, now)
    # c is confirmed down from 300 on (backdated), a up, b gone after 265: 2 live, 1 down → up;
    # quorum 2 of 2 live would need both down.
    assert [(v.start, v.end, v.state) for v in verdicts] == [(0.0, 600.0, "up")]
    assert verdicts[-1].live == ("a", "c")
    # Only a is left: fewer than quorum live → no data from when b went stale, never up or down.
    alone = {"a": by_location["a"], "b": by_location["b"]}
    later = combine({"a": alone["a"], "b": alone["b"], "c": []}, 2, 0.0, now)
    assert [(v.start, v.end, v.state) for v in later] == [(0.0, 245.0, "up"), (245.0, 600.0, None)]
    runs, _ = merge_runs([], later, "p/c/m", 0.0, iter(range(1, 100)))
    assert [(r.state, r.start, r.end) for r in runs] == [("up", 0.0, 245.0)]  # the gap is no data
    state = combined_state(MonitorState(confirmed="down", down_since=10.0), runs, later[-1], {}, now)
    assert (state.confirmed, state.down_since, state.last_at) == ("down", 10.0, None)  # nothing acted on


def test_a_single_location_with_quorum_one_is_its_own_runs() -> None:
    now = 600.0
    own = location_runs(failing(90, 300), now)
    verdicts = combine({"local": spans(own, now, HOLD)}, 1, 0.0, now)
    runs, _ = merge_runs([], verdicts, "p/c/m", 0.0, iter(range(1, 100)))
    assert [(r.state, r.start, r.end) for r in runs] == [(r.state, r.start, r.end) for r in own]


def test_recombining_continues_a_long_run_instead_of_cutting_it() -> None:
    old = [RunRow(7, "p/c/m", "down", 100.0, 500.0, True)]
    verdicts = [
        # what a round at 600 with horizon since=400 sees: still down from 400, up from 560
        *combine({"a": [Span(0.0, 560.0, "down"), Span(560.0, 600.0, "up")]}, 1, 400.0, 600.0)]
    runs, written = merge_runs(old, verdicts, "p/c/m", 400.0, iter(range(8, 100)))
    assert [(r.id, r.state, r.start, r.end, r.open) for r in runs] == [
        (7, "down", 100.0, 560.0, False), (8, "up", 560.0, 600.0, True)]
    assert {r.id for r in written} == {7, 8}


def test_health_canaries_and_failure_pattern() -> None:
    health = LocationHealth("sp", {"a/x/m": "a", "b/y/m": "b", "b/z/m": "b"},
                            {"a/x/m": "one.example", "b/y/m": "two.example", "b/z/m": "three.example"},
                            window=30.0)
    assert health.canary_round(["10.0.0.1:9: timeout"], 1, now=100.0) is False
    assert health.reason.startswith("1 of 1 canaries failing")
    down = CheckResult("a/x/m", 101.0, "down", error="connect")
    assert health.counts(down) is False  # no data while unhealthy
    assert health.counts(CheckResult("a/x/m", 102.0, "up")) is True
    assert health.canary_round([], 1, now=110.0) is None  # one good round is not enough
    assert health.canary_round([], 1, now=120.0) is True
    assert (health.healthy, health.since) == (True, 120.0)
    # The pattern: every page's checks failing with connect errors across 3 hosts.
    for key in ("a/x/m", "b/y/m"):
        assert health.counts(CheckResult(key, 130.0, "down", error="connect")) is True
    assert health.counts(CheckResult("b/z/m", 131.0, "down", error="dns")) is True
    assert health.canary_round([], 0, now=132.0) is False  # judged at the next round
    assert "3 of 3 recent checks" in health.reason
    assert health.counts(CheckResult("b/z/m", 133.0, "down", error="dns")) is False
    # One host failing alone (the service's trouble) is never the pattern.
    seen = {"a/x/m": health._seen["a/x/m"]}
    assert pattern(seen, 131.0, 30.0) is None
    assert target_host("https://Api.Example:8443/x") == "api.example" and target_host("[::1]:80") == "::1"
