"""Example tests of statuspage.sla.uptime: exact seconds for the contract in DESIGN.md §3 "Uptime"."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from statuspage.models import LATENCY_EDGES, LatencyAggregate, Maintenance, Outcome, StateRun
from statuspage.sla.uptime import (
    DAY,
    HOUR,
    Level,
    Segment,
    WindowUptime,
    component_report,
    component_segments,
    component_timeline,
    day_window,
    error_budget,
    month_budget,
    month_window,
    page_report,
    page_segments,
    page_timeline,
    report_span,
    runs_from_checks,
    uptime_report,
)

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
T0 = datetime(2024, 6, 3, tzinfo=UTC).timestamp()  # all relative times below are seconds after T0
M = 60.0


def ts(text: str, tz: ZoneInfo | None = None) -> float:
    """Epoch seconds of a wall-clock time in `tz` (UTC by default)."""
    return datetime.fromisoformat(text).replace(tzinfo=tz or UTC).timestamp()


def run(state: Outcome, start: float, end: float, monitor: str = "m1") -> StateRun:
    """A run at times relative to T0."""
    return StateRun(monitor, state, T0 + start, T0 + end)


def maint(start: float, end: float, components: tuple[str, ...] = (), *, page: str = "nps",
          cancelled: bool = False) -> Maintenance:
    """A maintenance window at times relative to T0."""
    return Maintenance(1, page, "upgrade", T0 + start, T0 + end, components, cancelled=cancelled)


def rel(segments: list[Segment]) -> list[tuple[float, float, str]]:
    """Segments with times relative to T0, for readable expectations."""
    return [(s - T0, e - T0, level) for s, e, level in segments]


def assert_window(w: WindowUptime, downtime: float, covered: float, maintenance: float,
                  uptime: float | None, coverage: float) -> None:
    """Compare a window's figures (seconds) exactly, up to float rounding."""
    def exactly(x: float) -> object:
        return pytest.approx(x, rel=1e-12, abs=1e-9)

    assert w.downtime == exactly(downtime)
    assert w.covered == exactly(covered)
    assert w.maintenance == exactly(maintenance)
    assert w.coverage == exactly(coverage)
    if uptime is None:
        assert w.uptime is None
    else:
        assert w.uptime == exactly(uptime)


# --- the gap rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checks", "now", "expected"),
    [
        pytest.param([(0, "up"), (30, "up"), (60, "up")], None, [("up", 0, 120)], id="same-state-merges"),
        pytest.param([(0, "up"), (60, "up")], None, [("up", 0, 120)], id="gap-of-exactly-2x-is-covered"),
        pytest.param([(0, "up"), (100, "up")], None, [("up", 0, 60), ("up", 100, 160)],
                     id="gap-over-2x-is-no-data"),
        pytest.param([(0, "up"), (30, "down"), (60, "up")], None,
                     [("up", 0, 30), ("down", 30, 60), ("up", 60, 120)], id="state-change-splits"),
        pytest.param([(0, "down"), (500, "down")], None, [("down", 0, 60), ("down", 500, 560)],
                     id="monitor-stopped-mid-outage"),
        pytest.param([(0, "up")], 45.0, [("up", 0, 45)], id="last-check-holds-until-now"),
        pytest.param([(0, "up")], 500.0, [("up", 0, 60)], id="last-check-holds-at-most-2x"),
        pytest.param([(60, "up"), (0, "degraded"), (30, "degraded")], None,
                     [("degraded", 0, 60), ("up", 60, 120)], id="unsorted-input"),
        pytest.param([], None, [], id="no-checks"),
    ],
)
def test_runs_from_checks(checks: list[tuple[float, Outcome]], now: float | None,
                          expected: list[tuple[str, float, float]]) -> None:
    runs = runs_from_checks(checks, interval=30.0, monitor="m", now=now)
    assert [(r.state, r.start, r.end) for r in runs] == expected
    assert all(r.monitor == "m" for r in runs)


def test_gap_longer_than_2x_interval_is_not_counted() -> None:
    # Checks every 30 s for 20 min, then the monitor stops for 20 min, then 20 min more.
    checks: list[tuple[float, Outcome]] = [(T0 + t, "up") for t in range(0, 1200, 30)]
    checks += [(T0 + t, "down") for t in range(2400, 3600, 30)]
    runs = runs_from_checks(checks, interval=30.0, now=T0 + 3600)
    w = component_timeline(runs).window(T0, T0 + 3600)
    # up 0..1170+60, no data 1230..2400, down 2400..3600
    assert_window(w, downtime=1200, covered=1230 + 1200, maintenance=0,
                  uptime=1 - 1200 / 2430, coverage=2430 / 3600)


# --- component levels ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        pytest.param([run("up", 0, 100), run("up", 0, 100, "m2")], [(0, 100, "up")], id="all-up"),
        pytest.param([run("down", 0, 100), run("up", 0, 100, "m2")], [(0, 100, "partial")], id="some-down"),
        pytest.param([run("down", 0, 100), run("down", 0, 100, "m2")], [(0, 100, "major")], id="all-down"),
        pytest.param([run("degraded", 0, 100), run("up", 0, 100, "m2")], [(0, 100, "up")],
                     id="degraded-counts-as-up"),
        pytest.param([run("down", 0, 100), run("up", 50, 100, "m2")],
                     [(0, 50, "major"), (50, 100, "partial")], id="all-covered-down-is-major"),
        pytest.param([run("up", 0, 40), run("up", 60, 100)], [(0, 40, "up"), (60, 100, "up")],
                     id="gap-is-no-segment"),
        pytest.param([run("up", 0, 50), run("degraded", 50, 100)], [(0, 100, "up")],
                     id="adjacent-runs-merge"),
        pytest.param(
            [run("up", 0, 10), run("down", 10, 50), run("up", 50, 100),
             run("up", 0, 30, "m2"), run("down", 30, 70, "m2"), run("up", 70, 100, "m2")],
            [(0, 10, "up"), (10, 30, "partial"), (30, 50, "major"), (50, 70, "partial"), (70, 100, "up")],
            id="staggered-outages",
        ),
        pytest.param([run("up", 0, 100), run("down", 20, 40)], [(0, 100, "up")],
                     id="overlapping-runs-of-one-monitor-clipped"),
        pytest.param([], [], id="never-reported"),
    ],
)
def test_component_segments(runs: list[StateRun], expected: list[tuple[float, float, str]]) -> None:
    assert rel(component_segments(runs)) == expected


def test_component_segments_accepts_runs_by_monitor_and_clips() -> None:
    runs = {"m1": [run("down", 0, 100)], "m2": [run("up", 0, 100, "m2")]}
    assert rel(component_segments(runs, start=T0 + 20, end=T0 + 60)) == [(20, 60, "partial")]


# --- windows ---------------------------------------------------------------------------------------

_H = HOUR
WINDOW_CASES = [
    pytest.param([run("down", -1800, 1800), run("up", 1800, 3600)], [], (0, _H),
                 (1800, 3600, 0, 0.5, 1.0), id="outage-across-window-start"),
    pytest.param([run("up", 0, 3000), run("down", 3000, 7200)], [], (0, _H),
                 (600, 3600, 0, 1 - 600 / 3600, 1.0), id="outage-across-window-end"),
    pytest.param([run("up", 0, 10000), run("up", 0, 4000, "m2"), run("down", 4000, 5000, "m2"),
                  run("up", 5000, 10000, "m2")], [], (0, 10000),
                 (300, 10000, 0, 0.97, 1.0), id="partial-at-weight-0.3"),
    pytest.param([run("down", 0, 600), run("down", 0, 600, "m2"), run("up", 600, 3600),
                  run("down", 600, 1200, "m2"), run("up", 1200, 3600, "m2")], [], (0, _H),
                 (600 + 0.3 * 600, 3600, 0, 1 - 780 / 3600, 1.0), id="major-then-partial"),
    pytest.param([run("up", 1800, 3600)], [], (0, _H),
                 (0, 1800, 0, 1.0, 0.5), id="window-starts-before-first-check"),
    pytest.param([run("down", 1800, 2400), run("up", 2400, 3600)], [], (0, _H),
                 (600, 1800, 0, 1 - 600 / 1800, 0.5), id="no-data-is-not-up"),
    pytest.param([], [], (0, _H), (0, 0, 0, None, 0.0), id="never-reported"),
    pytest.param([run("up", 0, 3600)], [], (-_H, 0), (0, 0, 0, None, 0.0), id="window-before-any-data"),
    pytest.param([run("up", 0, 1200), run("down", 1200, 3000), run("up", 3000, 3600)],
                 [maint(1000, 2000), maint(1500, 2500)], (0, _H),
                 (500, 3600, 1500, 1 - 500 / 2100, 1.0), id="overlapping-maintenance-counted-once"),
    pytest.param([run("up", 500, 3600)], [maint(0, 1000)], (0, _H),
                 (0, 3100, 500, 1.0, 3100 / 3600), id="maintenance-counts-only-covered-time"),
    pytest.param([run("down", 0, 3600)], [maint(0, 3600, cancelled=True)], (0, _H),
                 (3600, 3600, 0, 0.0, 1.0), id="cancelled-maintenance-ignored"),
    pytest.param([run("down", 0, 3600)], [maint(0, 3600, ("other",))], (0, _H),
                 (3600, 3600, 0, 0.0, 1.0), id="maintenance-of-another-component-ignored"),
    pytest.param([run("down", 0, 3600)], [maint(0, 1800, ("api",))], (0, _H),
                 (1800, 3600, 1800, 0.0, 1.0), id="maintenance-of-this-component"),
    pytest.param([run("down", 0, 3600)], [maint(0, 3600, page="cxm")], (0, _H),
                 (3600, 3600, 0, 0.0, 1.0), id="maintenance-of-another-page-ignored"),
    pytest.param([run("down", 0, 3600)], [maint(-_H, 2 * _H)], (0, _H),
                 (0, 3600, 3600, None, 1.0), id="all-in-maintenance-is-no-data"),
]


@pytest.mark.parametrize(("runs", "maintenances", "window", "expected"), WINDOW_CASES)
def test_window(runs: list[StateRun], maintenances: list[Maintenance], window: tuple[float, float],
                expected: tuple[float, float, float, float | None, float]) -> None:
    timeline = component_timeline(runs, maintenances, "nps/api")
    w = timeline.window(T0 + window[0], T0 + window[1])
    assert (w.start, w.end) == (T0 + window[0], T0 + window[1])
    assert_window(w, *expected)


def test_maintenance_by_slug_applies_whatever_the_page() -> None:
    # A bare slug cannot tell pages apart: the caller passes only its page's windows.
    timeline = component_timeline([run("down", 0, 3600)], [maint(0, 3600, page="cxm")], "api")
    assert timeline.window(T0, T0 + 3600).maintenance == 3600


def test_window_rejects_reversed_bounds() -> None:
    with pytest.raises(ValueError, match="ends before"):
        component_timeline([]).window(T0 + 1, T0)


# --- page = worst component ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param("up", "major", "major", id="up+major"),
        pytest.param("partial", "major", "major", id="partial+major"),
        pytest.param("up", "partial", "partial", id="up+partial"),
        pytest.param("up", "up", "up", id="up+up"),
        pytest.param("maintenance", "major", "major", id="maintenance-does-not-hide-an-outage"),
        pytest.param("maintenance", "up", "up", id="maintenance+up-is-up"),
        pytest.param("maintenance", "maintenance", "maintenance", id="all-in-maintenance"),
        pytest.param("maintenance", None, "maintenance", id="maintenance+no-data"),
        pytest.param(None, "partial", "partial", id="no-data-component-ignored"),
        pytest.param(None, None, None, id="no-data-anywhere"),
    ],
)
def test_page_is_worst_component(a: Level | None, b: Level | None, expected: Level | None) -> None:
    comps = [[Segment(0.0, 10.0, level)] if level else [] for level in (a, b)]
    assert page_segments(comps) == ([Segment(0.0, 10.0, expected)] if expected else [])


def test_page_window_takes_the_worst_component_at_each_moment() -> None:
    app = component_timeline([run("down", 0, 600), run("up", 600, 3600)])
    api = component_timeline([run("up", 0, 300), run("up", 0, 300, "m2"), run("down", 300, 900, "m2"),
                              run("up", 300, 3600), run("up", 900, 3600, "m2")])
    page = page_timeline([app, api])
    assert rel(page.segments) == [(0, 600, "major"), (600, 900, "partial"), (900, 3600, "up")]
    assert_window(page.window(T0, T0 + 3600), downtime=600 + 0.3 * 300, covered=3600, maintenance=0,
                  uptime=1 - 690 / 3600, coverage=1.0)


def test_page_report_applies_maintenance_per_component() -> None:
    now = T0 + 3600
    runs = {
        "nps/app": [run("down", 0, 3600, "nps/app/web")],
        "nps/api": [run("up", 0, 3600, "nps/api/web")],
    }
    # app is down but in maintenance for the first half hour; api is in maintenance for the first 10 min.
    windows = [maint(0, 1800, ("app",)), maint(0, 600, ("api",))]
    report = page_report(runs, windows, now, UTC)
    assert_window(report.components["nps/app"].windows["24h"], 1800, 3600, 1800, 0.0, 3600 / DAY)
    assert_window(report.components["nps/api"].windows["24h"], 0, 3600, 600, 1.0, 3600 / DAY)
    # Page: 0-600 both in maintenance, 600-1800 api up (app's maintenance counts as up), then major.
    assert rel(report.page.timeline.segments) == [(0, 600, "maintenance"), (600, 1800, "up"),
                                                  (1800, 3600, "major")]
    assert_window(report.page.windows["24h"], 1800, 3600, 600, 1 - 1800 / 3000, 3600 / DAY)


# --- calendar: daily bars, DST, months -------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        pytest.param("America/Sao_Paulo", date(2024, 11, 3), 24, id="sao-paulo-no-dst-now"),
        pytest.param("America/Sao_Paulo", date(2018, 11, 4), 23, id="sao-paulo-2018-missing-midnight"),
        pytest.param("America/Sao_Paulo", date(2019, 2, 16), 25, id="sao-paulo-2019-fall-back"),
        pytest.param("Europe/Berlin", date(2024, 3, 31), 23, id="berlin-spring-forward"),
        pytest.param("Europe/Berlin", date(2024, 10, 27), 25, id="berlin-fall-back"),
        pytest.param("America/New_York", date(2024, 3, 10), 23, id="new-york-spring-forward"),
        pytest.param("America/New_York", date(2024, 11, 3), 25, id="new-york-fall-back"),
        pytest.param("UTC", date(2024, 6, 3), 24, id="utc"),
    ],
)
def test_daily_bar_follows_local_day_length(tz: str, day: date, hours: int) -> None:
    start, end = day_window(day, tz)
    assert end - start == hours * HOUR
    assert datetime.fromtimestamp(start, ZoneInfo(tz)).date() == day
    # Up the whole day except one hour down: the bar's figures use the real day length.
    runs = [StateRun("m", "up", start - DAY, start + HOUR),
            StateRun("m", "down", start + HOUR, start + 2 * HOUR),
            StateRun("m", "up", start + 2 * HOUR, end + DAY)]
    now = end + 2 * HOUR  # the day after, so the bar is a whole day
    bar = component_timeline(runs).daily_bars(now, tz, days=3)[1]
    assert bar.date == day
    assert (bar.window.start, bar.window.end) == (start, end)
    assert_window(bar.window, HOUR, hours * HOUR, 0, 1 - 1 / hours, 1.0)
    assert bar.outages == (Segment(start + HOUR, start + 2 * HOUR, "major"),)


def test_outage_across_midnight_splits_between_bars() -> None:
    # Down from 23:30 to 00:45 (São Paulo): 30 min on the 4th, 45 min on the 5th.
    down_from, down_to = ts("2024-06-04 23:30", SAO_PAULO), ts("2024-06-05 00:45", SAO_PAULO)
    runs = [StateRun("m", "up", ts("2024-06-01 00:00", SAO_PAULO), down_from),
            StateRun("m", "down", down_from, down_to),
            StateRun("m", "up", down_to, ts("2024-06-06 12:00", SAO_PAULO))]
    now = ts("2024-06-06 12:00", SAO_PAULO)
    bars = component_timeline(runs).daily_bars(now, SAO_PAULO)
    assert len(bars) == 90
    assert [b.date for b in bars[-3:]] == [date(2024, 6, 4), date(2024, 6, 5), date(2024, 6, 6)]
    day4, day5, today = bars[-3:]
    midnight = ts("2024-06-05 00:00", SAO_PAULO)
    assert_window(day4.window, 1800, DAY, 0, 1 - 1800 / DAY, 1.0)
    assert day4.outages == (Segment(down_from, midnight, "major"),)
    assert_window(day5.window, 2700, DAY, 0, 1 - 2700 / DAY, 1.0)
    assert day5.outages == (Segment(midnight, down_to, "major"),)
    # Today's bar ends at now: half a day, all of it covered.
    assert today.window.end == now
    assert_window(today.window, 0, 12 * HOUR, 0, 1.0, 1.0)
    assert today.outages == ()
    # Days before the first run have no data.
    assert bars[0].date == date(2024, 3, 9)
    assert_window(bars[0].window, 0, 0, 0, None, 0.0)


def test_90_bars_are_consecutive_local_days() -> None:
    now = ts("2024-11-04 10:00", ZoneInfo("Europe/Berlin"))
    bars = component_timeline([]).daily_bars(now, "Europe/Berlin")
    assert len(bars) == 90
    assert all(b.date + timedelta(days=1) == n.date for b, n in pairwise(bars))
    assert all(b.window.end == n.window.start for b, n in pairwise(bars))
    assert bars[-1].date == date(2024, 11, 4)
    assert bars[0].window.start == ts("2024-08-07 00:00", ZoneInfo("Europe/Berlin"))
    assert report_span(now, "Europe/Berlin")[0] == min(bars[0].window.start, now - 90 * DAY)


def test_today_is_empty_when_now_is_midnight() -> None:
    now = ts("2024-06-05 00:00", SAO_PAULO)
    runs = [StateRun("m", "down", now - HOUR, now)]
    yesterday, today = component_timeline(runs).daily_bars(now, SAO_PAULO, days=2)
    assert yesterday.outages == (Segment(now - HOUR, now, "major"),)
    assert (today.window.start, today.window.end, today.outages) == (now, now, ())
    assert_window(today.window, 0, 0, 0, None, 0.0)


@pytest.mark.parametrize(
    ("year", "month", "tz", "start", "end"),
    [
        pytest.param(2024, 2, "America/Sao_Paulo", "2024-02-01 03:00", "2024-03-01 03:00",
                     id="sao-paulo-leap-feb"),
        pytest.param(2024, 3, "Europe/Berlin", "2024-02-29 23:00", "2024-03-31 22:00", id="berlin-dst-month"),
        pytest.param(2024, 12, "America/New_York", "2024-12-01 05:00", "2025-01-01 05:00", id="december"),
        pytest.param(2023, 6, "UTC", "2023-06-01 00:00", "2023-07-01 00:00", id="utc"),
    ],
)
def test_month_window(year: int, month: int, tz: str, start: str, end: str) -> None:
    assert month_window(year, month, tz) == (ts(start), ts(end))


# --- error budget ----------------------------------------------------------------------------------

_30D = 30 * DAY


@pytest.mark.parametrize(
    ("runs", "maintenances", "allowed", "consumed"),
    [
        pytest.param([run("up", -_30D, -3600), run("down", -3600, 0)], [], 0.005 * _30D, 3600,
                     id="one-hour-down"),
        pytest.param([run("up", -_30D, -5 * 3600), run("down", -5 * 3600, 0)], [], 0.005 * _30D, 5 * 3600,
                     id="blown-budget-goes-negative"),
        pytest.param([run("up", -_30D, -3600), run("down", -3600, 0)], [maint(-_30D, -_30D + DAY)],
                     0.005 * (_30D - DAY), 3600, id="maintenance-shrinks-allowed"),
        pytest.param([run("up", -_30D, 0), run("up", -_30D, -3600, "m2"), run("down", -3600, 0, "m2")], [],
                     0.005 * _30D, 0.3 * 3600, id="partial-outage-weighted"),
        pytest.param([run("up", -DAY, 0)], [], 0.005 * DAY, 0, id="one-day-of-data-only"),
    ],
)
def test_error_budget_30d(runs: list[StateRun], maintenances: list[Maintenance], allowed: float,
                          consumed: float) -> None:
    report = component_report(runs, maintenances, "api", T0, UTC, target=0.995)
    b = report.budget_30d
    assert (b.window.start, b.window.end) == (T0 - _30D, T0)
    assert b.allowed == pytest.approx(allowed)
    assert b.consumed == pytest.approx(consumed)
    assert b.remaining == pytest.approx(allowed - consumed)
    assert b.consumed_share == pytest.approx(consumed / allowed)
    assert b.remaining_share == pytest.approx(1 - consumed / allowed)


def test_error_budget_without_data_has_no_shares() -> None:
    b = error_budget(component_timeline([]).window(T0, T0 + DAY), 0.995)
    assert (b.allowed, b.consumed, b.remaining, b.consumed_share, b.remaining_share) == (0, 0, 0, None, None)


def test_month_budget() -> None:
    start, end = month_window(2024, 5, SAO_PAULO)
    runs = [StateRun("m", "up", start, end - 2 * HOUR), StateRun("m", "down", end - 2 * HOUR, end)]
    b = month_budget(component_timeline(runs), 2024, 5, SAO_PAULO, 0.995)
    assert b.allowed == pytest.approx(0.005 * 31 * DAY)
    assert b.consumed == 2 * HOUR
    # Month to date: `now` cuts the window (and the outage) short.
    mtd = month_budget(component_timeline(runs), 2024, 5, SAO_PAULO, 0.995, now=end - HOUR)
    assert (mtd.window.end, mtd.consumed) == (end - HOUR, HOUR)


@pytest.mark.parametrize("target", [99.5, 0.0, 1.0])
def test_target_must_be_a_ratio(target: float) -> None:
    with pytest.raises(ValueError, match="ratio"):
        component_report([], [], "api", T0, UTC, target=target)


def test_partial_weight_is_checked() -> None:
    with pytest.raises(ValueError, match="partial_weight"):
        component_timeline([], partial_weight=2.0)


# --- burn rates ------------------------------------------------------------------------------------


def _down_between(since: float, until: float) -> list[StateRun]:
    """Up for the 3 days before T0 except down in [since, until) (relative to T0)."""
    return [run("up", -3 * DAY, since), run("down", since, until), run("up", until, 0)]


@pytest.mark.parametrize(
    ("runs", "rates", "fires"),
    [
        pytest.param(_down_between(-300, 0),
                     [(300 / 3600, 1), (300 / 21600, 300 / 1800), (300 / 259200, 300 / 21600)],
                     (True, False, False), id="down-last-5m-fires-fast-pair"),
        pytest.param(_down_between(-1800, 0),
                     [(0.5, 1), (1800 / 21600, 1), (1800 / 259200, 1800 / 21600)],
                     (True, True, True), id="down-last-30m-fires-all"),
        pytest.param(_down_between(-2400, -1200),
                     [(1200 / 3600, 0), (1200 / 21600, 600 / 1800), (1200 / 259200, 1200 / 21600)],
                     (False, True, False), id="recovered-20m-ago-slow-pair-still-fires"),
        pytest.param(_down_between(-840, -600),
                     [(240 / 3600, 0), (240 / 21600, 240 / 1800), (240 / 259200, 240 / 21600)],
                     (False, False, False), id="four-minutes-under-every-threshold"),
        pytest.param(_down_between(-2 * DAY, -2 * DAY + 4 * 3600),
                     [(0, 0), (0, 0), (4 * 3600 / 259200, 0)],
                     (False, False, False), id="old-outage-short-window-clean"),
        pytest.param([run("up", -3 * DAY, -3 * HOUR), run("down", -3 * HOUR, -HOUR)],
                     [(None, None), (2 / 5, None), (2 * 3600 / (3 * DAY - 3600), 2 / 5)],
                     (False, False, True), id="no-data-short-window-never-fires"),
    ],
)
def test_burn_rates(runs: list[StateRun], rates: list[tuple[float | None, float | None]],
                    fires: tuple[bool, bool, bool]) -> None:
    report = component_report(runs, [], "api", T0, UTC, target=0.995)
    got = report.burn_rates
    assert [(b.long_window, b.short_window, b.threshold) for b in got] == [
        (3600, 300, 14.4), (21600, 1800, 6.0), (259200, 21600, 1.0)]
    for b, (long_fraction, short_fraction) in zip(got, rates, strict=True):
        for rate, fraction in ((b.long_rate, long_fraction), (b.short_rate, short_fraction)):
            if fraction is None:
                assert rate is None
            else:
                assert rate == pytest.approx(fraction / 0.005)
    assert tuple(b.fires for b in got) == fires
    assert report.alerting == any(fires)


# --- reports ---------------------------------------------------------------------------------------


def test_component_report_windows_and_bars() -> None:
    now = ts("2024-06-10 12:00", SAO_PAULO)
    runs = [StateRun("m", "up", now - 10 * DAY, now - 2 * DAY),
            StateRun("m", "down", now - 2 * DAY, now - 2 * DAY + HOUR),
            StateRun("m", "up", now - 2 * DAY + HOUR, now)]
    report = component_report(runs, [], "nps/app", now, "America/Sao_Paulo")
    assert list(report.windows) == ["24h", "7d", "30d", "90d"]
    assert_window(report.windows["24h"], 0, DAY, 0, 1.0, 1.0)
    assert_window(report.windows["7d"], HOUR, 7 * DAY, 0, 1 - HOUR / (7 * DAY), 1.0)
    assert_window(report.windows["30d"], HOUR, 10 * DAY, 0, 1 - HOUR / (10 * DAY), 1 / 3)
    assert_window(report.windows["90d"], HOUR, 10 * DAY, 0, 1 - HOUR / (10 * DAY), 1 / 9)
    assert len(report.bars) == 90 and report.bars[-1].date == date(2024, 6, 10)
    assert report.bars[-3].outages == (Segment(now - 2 * DAY, now - 2 * DAY + HOUR, "major"),)
    assert sum(b.window.downtime for b in report.bars) == HOUR
    assert report.budget_month.window.start == ts("2024-06-01 00:00", SAO_PAULO)
    assert report.budget_month.window.end == now


def test_history_outside_the_span_changes_nothing() -> None:
    now = T0
    recent = [run("up", -10 * DAY, -HOUR), run("down", -HOUR, 0)]
    ancient = [run("down", -400 * DAY, -300 * DAY), run("up", -300 * DAY, -100 * DAY)]
    straddling = [run("up", -100 * DAY, -10 * DAY)]
    a = component_report(recent, [], "api", now, UTC)
    b = component_report(ancient + recent, [], "api", now, UTC)
    assert a.windows == b.windows and a.bars == b.bars and a.burn_rates == b.burn_rates
    assert b.timeline.segments == a.timeline.segments
    # A run straddling the span start is clipped to it.
    c = component_report(ancient + straddling + recent, [], "api", now, UTC)
    assert c.timeline.segments[0].start == report_span(now, UTC)[0]


def test_page_report_matches_component_reports() -> None:
    runs = {"app": [run("up", -DAY, 0)], "api": [run("up", -DAY, -600), run("down", -600, 0)]}
    report = page_report(runs, [], T0, UTC)
    for key, comp_runs in runs.items():
        alone = component_report(comp_runs, [], key, T0, UTC)
        assert report.components[key].windows == alone.windows
        assert report.components[key].bars == alone.bars
    assert report.page.windows["24h"].downtime == 600
    assert uptime_report(report.page.timeline, T0, UTC).windows == report.page.windows


# --- response times --------------------------------------------------------------------------------


def test_latency_p95_is_an_upper_bound_within_the_bucket_ratio() -> None:
    agg = LatencyAggregate()
    values = [float(v) for v in range(1, 1001)]  # 1..1000 ms: nearest-rank p95 is 950
    for v in values:
        agg.add(v)
    p95 = agg.p95()
    assert p95 is not None and 950 <= p95 < 950 * 2 ** 0.25
    assert agg.mean() == pytest.approx(500.5)
    assert (agg.count, agg.max_ms) == (1000, 1000.0)


@pytest.mark.parametrize(
    ("values", "p95"),
    [
        pytest.param([], None, id="empty"),
        pytest.param([0.0], 0.0, id="zero-is-capped-at-max"),
        pytest.param([0.4, 0.7], 0.7, id="sub-millisecond"),
        pytest.param([120.0] * 20, 120.0, id="constant-is-exact"),
        pytest.param([10.0] * 95 + [5000.0] * 5, LATENCY_EDGES[14], id="tail-outside-the-95th"),
        pytest.param([10.0] * 94 + [5000.0] * 6, 5000.0, id="tail-inside-the-95th"),
        pytest.param([100_000.0], 100_000.0, id="overflow-bucket-is-the-max"),
    ],
)
def test_latency_percentiles(values: list[float], p95: float | None) -> None:
    agg = LatencyAggregate()
    for v in values:
        agg.add(v)
    assert agg.p95() == p95


def test_latency_merge_and_json_round_trip() -> None:
    a, b, both = LatencyAggregate(), LatencyAggregate(), LatencyAggregate()
    for i, v in enumerate([3.0, 45.0, 80.0, 250.0, 1200.0, 9.5, 70_000.0]):
        (a if i % 2 else b).add(v)
        both.add(v)
    a.merge(b)
    assert a.buckets == both.buckets and a.count == both.count and a.max_ms == both.max_ms
    assert a.sum_ms == pytest.approx(both.sum_ms)
    data = json.loads(json.dumps(a.to_json()))
    assert LatencyAggregate.from_json(data) == a
    assert len(data["b"]) == 7  # sparse: only non-empty buckets


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"v": 2, "n": 0, "sum": 0, "max": 0, "b": []}, id="unknown-version"),
        pytest.param({"v": 1, "n": 2, "sum": 1, "max": 1, "b": [[0, 1]]}, id="counts-disagree"),
        pytest.param({"v": 1, "n": 1, "sum": 1, "max": 1, "b": [[999, 1]]}, id="bucket-out-of-range"),
        pytest.param({"v": 1, "n": 1}, id="missing-keys"),
    ],
)
def test_latency_from_json_rejects_bad_data(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        LatencyAggregate.from_json(data)


@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf")])
def test_latency_rejects_bad_values(value: float) -> None:
    with pytest.raises(ValueError):
        LatencyAggregate().add(value)
