"""Property tests of statuspage.sla.uptime (hypothesis): bounds, additivity, shift invariance, a reference."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from statuspage.models import LATENCY_EDGES, LatencyAggregate, Maintenance, Outcome, StateRun
from statuspage.sla.uptime import (
    DAY,
    Level,
    WindowUptime,
    component_report,
    component_timeline,
    page_report,
    page_timeline,
)

T0 = int(datetime(2024, 6, 3, tzinfo=UTC).timestamp())
STATES: tuple[Outcome, ...] = ("up", "degraded", "down")
TZS = ["UTC", "America/Sao_Paulo", "Europe/Berlin", "America/New_York"]
PROPS = settings(deadline=None, max_examples=120)
FEWER = settings(deadline=None, max_examples=50)  # the multi-component reports draw a lot of data


@st.composite
def monitor_runs(draw: st.DrawFn, monitor: str, lo: int, hi: int, longest: int) -> list[StateRun]:
    """Disjoint runs of one monitor on whole seconds in [lo, hi), with gaps (no data) between some."""
    runs: list[StateRun] = []
    t = lo + draw(st.integers(0, longest))
    while t < hi and len(runs) < 25:
        end = min(t + draw(st.integers(1, longest)), hi)
        runs.append(StateRun(monitor, draw(st.sampled_from(STATES)), float(t), float(end)))
        t = end + draw(st.sampled_from([0, 0, 0, longest // 4, longest]))
    return runs


@st.composite
def maintenances(draw: st.DrawFn, lo: int, hi: int, longest: int) -> list[Maintenance]:
    """Possibly overlapping, possibly cancelled windows on this page, the whole page or other components."""
    out: list[Maintenance] = []
    for i in range(draw(st.integers(0, 3))):
        start = draw(st.integers(lo, hi))
        out.append(Maintenance(
            i, "nps", "m", float(start), float(start + draw(st.integers(1, longest))),
            draw(st.sampled_from([(), ("api",), ("app",), ("other",), ("api", "app")])),
            cancelled=draw(st.booleans()),
        ))
    return out


@st.composite
def component(draw: st.DrawFn, lo: int, hi: int, longest: int) -> list[StateRun]:
    """The runs of a component with one to three monitors (some may never report)."""
    n = draw(st.integers(1, 3))
    return [r for i in range(n) for r in draw(monitor_runs(f"m{i}", lo, hi, longest))]


def check_bounds(w: WindowUptime) -> None:
    """The invariants every window satisfies."""
    eligible = w.covered - w.maintenance
    assert 0 <= w.maintenance <= w.covered <= (w.end - w.start) * (1 + 1e-12) + 1e-9
    assert 0 <= w.downtime <= eligible + 1e-9
    assert 0 <= w.coverage <= 1 + 1e-12
    if w.uptime is None:
        assert eligible <= 1e-9
    else:
        assert 0 <= w.uptime <= 1
        assert eligible > 0


# --- bounds ----------------------------------------------------------------------------------------


@PROPS
@given(runs=component(T0, T0 + 5 * 86400, 20000), maint=maintenances(T0, T0 + 5 * 86400, 40000),
       a=st.integers(T0 - 86400, T0 + 6 * 86400), length=st.integers(0, 6 * 86400),
       weight=st.sampled_from([0.0, 0.3, 1.0]))
def test_window_bounds(runs: list[StateRun], maint: list[Maintenance], a: int, length: int,
                       weight: float) -> None:
    w = component_timeline(runs, maint, "nps/api", partial_weight=weight).window(a, a + length)
    check_bounds(w)


@FEWER
@given(comps=st.lists(component(T0, T0 + 3 * 86400, 20000), min_size=1, max_size=4),
       maint=maintenances(T0, T0 + 3 * 86400, 40000), tz=st.sampled_from(TZS))
def test_report_bounds_and_page_at_least_as_down_as_each_component(
        comps: list[list[StateRun]], maint: list[Maintenance], tz: str) -> None:
    keys = ["api", "app", "web", "db"]
    report = page_report(dict(zip(keys, comps, strict=False)), maint, T0 + 3 * 86400, tz)
    for name, page_w in report.page.windows.items():
        check_bounds(page_w)
        for comp in report.components.values():
            w = comp.windows[name]
            check_bounds(w)
            assert page_w.downtime >= w.downtime - 1e-9
            assert page_w.covered >= w.covered - 1e-9
    for bar in report.page.bars:
        check_bounds(bar.window)


# --- additivity: the daily bars add up to the window they tile ------------------------------------


@PROPS
@given(runs=component(T0 - 95 * 86400, T0, 4 * 86400), maint=maintenances(T0 - 95 * 86400, T0, 2 * 86400),
       tz=st.sampled_from(TZS), hour=st.integers(0, 23))
def test_daily_bars_sum_to_the_90_day_aligned_window(runs: list[StateRun], maint: list[Maintenance],
                                                     tz: str, hour: int) -> None:
    now = T0 + hour * 3600
    report = component_report(runs, maint, "api", now, tz)
    bars = report.bars
    assert len(bars) == 90
    whole = report.timeline.window(bars[0].window.start, now)
    for field in ("downtime", "covered", "maintenance"):
        total = math.fsum(getattr(b.window, field) for b in bars)
        assert math.isclose(total, getattr(whole, field), rel_tol=1e-12, abs_tol=1e-6), field
    outage_time = math.fsum(s.end - s.start for b in bars for s in b.outages)
    assert math.isclose(outage_time, math.fsum(s.end - s.start for s in report.timeline.outages(
        bars[0].window.start, now)), abs_tol=1e-6)


# --- shift invariance ------------------------------------------------------------------------------


def _shift_runs(runs: list[StateRun], by: float) -> list[StateRun]:
    return [StateRun(r.monitor, r.state, r.start + by, r.end + by) for r in runs]


def _shift_maint(maint: list[Maintenance], by: float) -> list[Maintenance]:
    return [Maintenance(m.id, m.page, m.title, m.start + by, m.end + by, m.components, cancelled=m.cancelled)
            for m in maint]


def _figures(w: WindowUptime) -> tuple[Any, ...]:
    return (w.downtime, w.covered, w.maintenance, w.uptime, w.coverage, w.end - w.start)


@PROPS
@given(runs=component(T0 - 10 * 86400, T0, 86400), maint=maintenances(T0 - 10 * 86400, T0, 86400),
       now_offset=st.integers(0, 86400), days=st.integers(-400, 400))
def test_shifting_everything_by_whole_days_changes_nothing(
        runs: list[StateRun], maint: list[Maintenance], now_offset: int, days: int) -> None:
    by = days * DAY
    now = T0 + now_offset
    a = component_report(runs, maint, "nps/api", now, UTC)
    b = component_report(_shift_runs(runs, by), _shift_maint(maint, by), "nps/api", now + by, UTC)
    assert {k: _figures(w) for k, w in a.windows.items()} == {k: _figures(w) for k, w in b.windows.items()}
    assert [_figures(x.window) for x in a.bars] == [_figures(x.window) for x in b.bars]
    assert [x.date + timedelta(days=days) for x in a.bars] == [x.date for x in b.bars]
    assert [(s.end - s.start, s.level) for x in a.bars for s in x.outages] == [
        (s.end - s.start, s.level) for x in b.bars for s in x.outages]
    assert a.burn_rates == b.burn_rates
    assert _figures(a.budget_30d.window) == _figures(b.budget_30d.window)


# --- a second-by-second reference ------------------------------------------------------------------

_RANK: dict[Level, int] = {"maintenance": 0, "up": 1, "partial": 2, "major": 3}
_BY_RANK: list[Level] = ["maintenance", "up", "partial", "major"]


def _level_at(runs: list[StateRun], maint: list[Maintenance], key: str, t: float) -> Level | None:
    """The contract, read literally, at one instant."""
    states = [r.state for r in runs if r.start <= t < r.end]
    if not states:
        return None
    page, _, slug = key.rpartition("/")
    if any(m.page == page and m.covers(slug, t) for m in maint):
        return "maintenance"
    down = states.count("down")
    return "major" if down == len(states) else "partial" if down else "up"


def _reference(levels: list[Level | None], weight: float) -> tuple[float, int, int]:
    """(downtime, covered, maintenance) of per-second levels."""
    return (levels.count("major") + weight * levels.count("partial"),
            sum(lv is not None for lv in levels), levels.count("maintenance"))


@PROPS
@given(comps=st.lists(component(T0, T0 + 1200, 300), min_size=1, max_size=3),
       maint=maintenances(T0, T0 + 1200, 400), a=st.integers(T0 - 50, T0 + 1250),
       length=st.integers(0, 600))
def test_matches_a_second_by_second_reference(comps: list[list[StateRun]], maint: list[Maintenance],
                                              a: int, length: int) -> None:
    keys = ["nps/api", "nps/app", "nps/web"][: len(comps)]
    timelines = [component_timeline(runs, maint, key) for key, runs in zip(keys, comps, strict=True)]
    seconds = range(a, a + length)
    per_comp = [[_level_at(runs, maint, key, t) for t in seconds]
                for key, runs in zip(keys, comps, strict=True)]
    page_levels: list[Level | None] = []
    for at_t in zip(*per_comp, strict=True):
        ranks = [_RANK[lv] for lv in at_t if lv is not None]
        page_levels.append(_BY_RANK[max(ranks)] if ranks else None)
    for timeline, levels in [*zip(timelines, per_comp, strict=True),
                             (page_timeline(timelines), page_levels)]:
        w = timeline.window(a, a + length)
        downtime, covered, maintenance = _reference(levels, 0.3)
        assert math.isclose(w.downtime, downtime, abs_tol=1e-9)
        assert (w.covered, w.maintenance) == (covered, maintenance)


# --- response times --------------------------------------------------------------------------------

latencies = st.lists(st.floats(0, 200_000, allow_nan=False), min_size=1, max_size=300)


@PROPS
@given(values=latencies, q=st.sampled_from([0.5, 0.9, 0.95, 0.99, 1.0]))
def test_percentile_is_an_upper_bound_within_one_bucket(values: list[float], q: float) -> None:
    agg = LatencyAggregate()
    for v in values:
        agg.add(v)
    true = sorted(values)[max(1, math.ceil(q * len(values) - 1e-9)) - 1]  # nearest rank
    est = agg.percentile(q)
    assert est is not None and est >= true
    if true <= LATENCY_EDGES[0]:
        assert est <= LATENCY_EDGES[0]
    elif true <= LATENCY_EDGES[-1]:
        assert est < true * 2 ** 0.25 * (1 + 1e-12)
    else:
        assert est == max(values)


@PROPS
@given(a=latencies, b=latencies)
def test_merge_equals_adding_everything_and_json_round_trips(a: list[float], b: list[float]) -> None:
    left, right, both = LatencyAggregate(), LatencyAggregate(), LatencyAggregate()
    for v in a:
        left.add(v)
        both.add(v)
    for v in b:
        right.add(v)
        both.add(v)
    left.merge(right)
    assert (left.count, left.max_ms, left.buckets) == (both.count, both.max_ms, both.buckets)
    assert math.isclose(left.sum_ms, both.sum_ms, rel_tol=1e-9, abs_tol=1e-9)
    assert left.p95() == both.p95()
    assert LatencyAggregate.from_json(left.to_json()) == left
