"""Time-weighted uptime: timelines, rolling windows, daily bars, error budget, burn rates (pure, no I/O).

The input is monitor state runs (`StateRun`, covered time only: gaps are no data) and maintenance
windows; the output is plain data. Nothing here reads a clock: `now` is always a parameter.

How it stays cheap: the runs of a component's monitors (already restricted by the store to
`report_span`) are swept once into a `Timeline` — a sorted list of `Segment(start, end, level)`
with per-level prefix sums. Any window (rolling, burn-rate, calendar month) is then two binary
searches and a subtraction, and the daily bars are one walk over days and segments together, so a
report costs O(runs · log runs + days) whatever the length of the history.

Levels of a timeline:
- `up` (degraded counts as up), `partial` (some covered monitors down), `major` (every covered
  monitor down), `maintenance` (covered time inside a maintenance window); no segment = no data.
- Page rule: at each moment the page takes the worst level of its components, ranked
  `maintenance < up < partial < major`, ignoring components with no data. So a moment is page
  maintenance only when every component with data is in maintenance; otherwise a component in
  maintenance counts as up for the page (it neither hurts the page nor hides another's outage).

Uptime over a window: downtime = major + partial_weight × partial; eligible = covered − maintenance;
uptime = 1 − downtime / eligible, or None when nothing is eligible (no data is never 1.0).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from statuspage.models import Maintenance, Outcome, StateRun

__all__ = [
    "BAR_DAYS", "BURN_PAIRS", "DAY", "DEFAULT_PARTIAL_WEIGHT", "DEFAULT_TARGET", "HOUR",
    "ROLLING_WINDOWS", "BurnRate", "DailyBar", "ErrorBudget", "Level", "PageReport",
    "Runs", "Segment", "Timeline", "UptimeReport", "WindowUptime", "burn_rate", "burn_rates",
    "component_report", "component_segments", "component_timeline", "day_window", "error_budget",
    "month_budget", "month_window", "page_report", "page_segments", "page_timeline", "report_span",
    "runs_from_checks", "uptime_report",
]

Level = Literal["up", "partial", "major", "maintenance"]
"""The state of a component or page at one moment (no data is the absence of a segment)."""

HOUR = 3600.0
DAY = 86400.0
ROLLING_WINDOWS: dict[str, float] = {"24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY}
"""The rolling windows every report carries, by name, in seconds, ending at `now`."""
BURN_PAIRS: tuple[tuple[float, float, float], ...] = (
    (HOUR, 5 * 60.0, 14.4),
    (6 * HOUR, 30 * 60.0, 6.0),
    (3 * DAY, 6 * HOUR, 1.0),
)
"""(long window, short window, threshold): multi-window multi-burn-rate alerting (SRE workbook)."""
BAR_DAYS = 90
DEFAULT_TARGET = 0.995
DEFAULT_PARTIAL_WEIGHT = 0.3

Runs = Mapping[str, Iterable[StateRun]] | Iterable[StateRun]
"""Runs of one component's monitors: keyed by monitor, or flat (grouped by `StateRun.monitor`)."""


class Segment(NamedTuple):
    """A stretch [start, end) of a component or page timeline at one level."""

    start: float
    end: float
    level: Level


# --- monitor runs from checks (the gap rule) -------------------------------------------------------


def runs_from_checks(
    checks: Iterable[tuple[float, Outcome]], interval: float, monitor: str = "", now: float | None = None
) -> list[StateRun]:
    """Turn checks `(at, state)` into state runs, applying the gap rule.

    A check's state holds from its time until the next check, but at most 2 × interval; the
    rest of a longer gap is no data. The last check holds until `now` (if given), at most
    2 × interval. Consecutive checks in one state merge into one run, as the store keeps them.
    """
    hold = 2.0 * interval
    ordered = sorted(checks, key=itemgetter(0))
    runs: list[StateRun] = []
    last = math.inf if now is None else now
    for i, (at, state) in enumerate(ordered):
        following = ordered[i + 1][0] if i + 1 < len(ordered) else last
        end = min(following, at + hold)
        if end <= at:
            continue  # a duplicate timestamp (the later check wins) or a check after `now`
        if runs and runs[-1].state == state and runs[-1].end == at:
            runs[-1] = StateRun(monitor, state, runs[-1].start, end)
        else:
            runs.append(StateRun(monitor, state, at, end))
    return runs


# --- sweeps: monitors → component, components → page -----------------------------------------------

# Codes of the component sweep. Degraded is up for a component, so it shares up's code: runs
# that differ only by up/degraded then merge before the sweep (they are most runs in practice).
_UP, _DOWN, _IN_MAINTENANCE = 0, 1, 2
_Event = tuple[float, int, int]  # (time, code, +1 at a start / -1 at an end)


def _sweep(events: list[_Event], size: int, classify: Callable[[list[int]], Level | None]) -> list[Segment]:
    """Merge start/end events into segments; `classify` maps the live counts per code to a level."""
    events.sort(key=itemgetter(0))
    counts = [0] * size
    out: list[Segment] = []
    level: Level | None = None
    since = prev = -math.inf
    for t, code, delta in events:
        if t != prev:
            # Every event at `prev` is applied: `counts` now holds for [prev, t). Classifying only
            # between distinct times means back-to-back runs leave no sliver of another level.
            new = classify(counts)
            if new != level:
                if level is not None:
                    out.append(Segment(since, prev, level))
                level, since = new, prev
            prev = t
        counts[code] += delta
    if level is not None:  # every count is back to 0 after the last event: close the last segment
        out.append(Segment(since, prev, level))
    return out


def _component_level(counts: list[int]) -> Level | None:
    down = counts[_DOWN]
    covered = counts[_UP] + down
    if not covered:
        return None
    if counts[_IN_MAINTENANCE]:
        return "maintenance"
    if down == covered:
        return "major"
    return "partial" if down else "up"


def _maintenance_intervals(maintenances: Iterable[Maintenance], component: str, lo: float = -math.inf,
                           hi: float = math.inf) -> list[tuple[float, float]]:
    """The windows that cover `component` (a slug, or a `page/slug` key that also checks the page),
    a recurring window as each of its occurrences overlapping [lo, hi)."""
    page, _, slug = component.rpartition("/")
    out: list[tuple[float, float]] = []
    for m in maintenances:
        if m.end > m.start and (not page or m.page == page) and not m.cancelled and (
                not m.components or slug in m.components):
            out += m.occurrences(lo, hi) if m.recurring else [(m.start, m.end)]
    return out


def component_segments(
    runs: Runs,
    maintenances: Iterable[Maintenance] = (),
    component: str = "",
    start: float = -math.inf,
    end: float = math.inf,
) -> list[Segment]:
    """Sweep a component's monitor runs into its timeline, clipped to [start, end).

    At each moment, among monitors with data: all down → `major`, some down → `partial`, else
    `up`; none with data → no segment. Covered time inside a maintenance window that covers
    `component` (cancelled ones never do) becomes `maintenance`. Each monitor's runs are assumed
    disjoint; overlaps (which the store never writes) are clipped rather than double counted.
    """
    if isinstance(runs, Mapping):
        per_monitor: Iterable[Iterable[StateRun]] = runs.values()
    else:
        by_monitor: dict[str, list[StateRun]] = {}
        for run in runs:
            by_monitor.setdefault(run.monitor, []).append(run)
        per_monitor = by_monitor.values()
    events: list[_Event] = []
    add = events.append
    for monitor_runs in per_monitor:
        ordered = sorted(monitor_runs, key=attrgetter("start"))
        # One pass per monitor, merging neighbours of equal code; plain comparisons rather than
        # min/max calls, as this loop runs once per stored run.
        prev_end, cur_start, cur_end, cur_code = start, 0.0, 0.0, -1
        for run in ordered:
            s, e = run.start, run.end
            if s < prev_end:
                s = prev_end
            if e > end:
                e = end
            if e <= s:
                continue
            code = _DOWN if run.state == "down" else _UP
            if code == cur_code and s == cur_end:
                cur_end = e
            else:
                if cur_code >= 0:
                    add((cur_start, cur_code, 1))
                    add((cur_end, cur_code, -1))
                cur_start, cur_end, cur_code = s, e, code
            prev_end = e
        if cur_code >= 0:
            add((cur_start, cur_code, 1))
            add((cur_end, cur_code, -1))
    if events:  # maintenance alone is never covered time, so skip it when there is no data
        lo = min(e[0] for e in events)
        hi = max(e[0] for e in events)
        for ms, me in _maintenance_intervals(maintenances, component, lo, hi):
            s, e = max(ms, start), min(me, end)
            if e > s:
                events += ((s, _IN_MAINTENANCE, 1), (e, _IN_MAINTENANCE, -1))
    return _sweep(events, 3, _component_level)


_PAGE_RANK: dict[Level, int] = {"maintenance": 0, "up": 1, "partial": 2, "major": 3}
_BY_RANK: tuple[Level, ...] = ("maintenance", "up", "partial", "major")


def _worst_level(counts: list[int]) -> Level | None:
    for rank in (3, 2, 1, 0):
        if counts[rank]:
            return _BY_RANK[rank]
    return None


def page_segments(components: Iterable[Iterable[Segment]]) -> list[Segment]:
    """The page timeline: at each moment the worst component level (see the module doc for maintenance)."""
    events: list[_Event] = []
    for segments in components:
        for s, e, level in segments:
            rank = _PAGE_RANK[level]
            events += ((s, rank, 1), (e, rank, -1))
    return _sweep(events, 4, _worst_level)


# --- windows over a timeline -----------------------------------------------------------------------


# WindowUptime and DailyBar are NamedTuples, not frozen dataclasses: a render builds thousands
# (90 bars per component) and a NamedTuple is about six times cheaper to construct.


class WindowUptime(NamedTuple):
    """Uptime over [start, end), all in seconds; `uptime` is None when no eligible time (no data)."""

    start: float
    end: float
    downtime: float
    """major + partial_weight × partial."""
    covered: float
    """Time with data, including maintenance."""
    maintenance: float
    """Covered time inside maintenance (excluded from uptime)."""
    uptime: float | None
    coverage: float
    """covered / (end − start)."""


class DailyBar(NamedTuple):
    """One of the daily bars: a calendar day in the site timezone (today's bar ends at `now`)."""

    date: date
    window: WindowUptime
    outages: tuple[Segment, ...]
    """The day's partial and major stretches, clipped to the day, for the bar's tooltip."""


_LEVEL_CODE: dict[Level, int] = {"up": 0, "partial": 1, "major": 2, "maintenance": 3}


class Timeline:
    """A component's or page's segments with per-level prefix sums, for O(log n) windows."""

    __slots__ = ("_codes", "_cum", "_ends", "_outage_ends", "_outages", "_starts", "partial_weight",
                 "segments")

    def __init__(self, segments: Sequence[Segment], partial_weight: float = DEFAULT_PARTIAL_WEIGHT) -> None:
        """Index `segments` (sorted, disjoint, as the sweeps return them)."""
        if not 0.0 <= partial_weight <= 1.0:
            raise ValueError(f"partial_weight must be within [0, 1], not {partial_weight}")
        self.segments: list[Segment] = list(segments)
        self.partial_weight = partial_weight
        self._starts = [s.start for s in self.segments]
        self._ends = [s.end for s in self.segments]
        self._codes = [_LEVEL_CODE[s.level] for s in self.segments]
        # _cum[i]: seconds per level before segment i (up, partial, major, maintenance).
        self._cum: list[tuple[float, float, float, float]] = []
        acc = [0.0, 0.0, 0.0, 0.0]
        for seg, code in zip(self.segments, self._codes, strict=True):
            self._cum.append((acc[0], acc[1], acc[2], acc[3]))
            acc[code] += seg.end - seg.start
        self._outages = [s for s in self.segments if s.level in ("partial", "major")]
        self._outage_ends = [s.end for s in self._outages]

    def _at(self, t: float) -> list[float]:
        """Seconds per level (up, partial, major, maintenance) from the timeline's beginning up to `t`."""
        i = bisect_right(self._starts, t) - 1
        if i < 0:
            return [0.0, 0.0, 0.0, 0.0]
        acc = list(self._cum[i])
        acc[self._codes[i]] += min(t, self._ends[i]) - self._starts[i]
        return acc

    def _between(self, start: float, end: float, lo: list[float], hi: list[float]) -> WindowUptime:
        return self._figures(start, end, hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2], hi[3] - lo[3])

    def _figures(self, start: float, end: float, up: float, partial: float, major: float,
                 maintenance: float) -> WindowUptime:
        # Summing the eligible levels directly (not covered − maintenance) keeps downtime ≤ eligible
        # exact in floating point, so uptime can never leave [0, 1].
        eligible = major + partial + up
        downtime = major + self.partial_weight * partial
        length = end - start
        return WindowUptime(
            start, end, downtime, eligible + maintenance, maintenance,
            1.0 - downtime / eligible if eligible > 0 else None,
            (eligible + maintenance) / length if length > 0 else 0.0,
        )

    def window(self, start: float, end: float) -> WindowUptime:
        """Uptime over [start, end)."""
        if end < start:
            raise ValueError(f"window ends before it starts: [{start}, {end})")
        return self._between(start, end, self._at(start), self._at(end))

    def outages(self, start: float, end: float) -> tuple[Segment, ...]:
        """The partial and major segments overlapping [start, end), clipped to it."""
        out: list[Segment] = []
        i = bisect_right(self._outage_ends, start)  # the first outage ending after `start`
        while i < len(self._outages) and self._outages[i].start < end:
            s, e, level = self._outages[i]
            out.append(Segment(max(s, start), min(e, end), level))
            i += 1
        return tuple(out)

    def daily_bars(self, now: float, tz: tzinfo | str, days: int = BAR_DAYS) -> list[DailyBar]:
        """`days` bars, oldest first, one per calendar day in `tz`, the last being today up to `now`."""
        dates, bounds = _day_bounds(_today(now, tz), _zone(tz), days)
        stops = [*bounds[:-1], now]  # today's bar stops at now (coverage is of the elapsed day)
        starts, ends, codes, n = self._starts, self._ends, self._codes, len(self._starts)
        # One walk over days and segments together (a segment spanning days is visited once per
        # day): cheaper than two prefix-sum lookups per bar, and it collects the outages as it goes.
        i = bisect_right(ends, stops[0])
        bars: list[DailyBar] = []
        for k, day in enumerate(dates):
            lo, hi = stops[k], stops[k + 1]
            acc = [0.0, 0.0, 0.0, 0.0]
            outages: list[Segment] = []
            j = i if hi > lo else n  # an empty day (now exactly at midnight) has nothing in it
            while j < n and starts[j] < hi:
                s, e, code = starts[j], ends[j], codes[j]
                if s < lo:
                    s = lo
                if e > hi:
                    e = hi
                acc[code] += e - s
                if code == 1 or code == 2:  # partial, major
                    outages.append(Segment(s, e, self.segments[j].level))
                j += 1
            while i < n and ends[i] <= hi:
                i += 1
            bars.append(DailyBar(day, self._figures(lo, hi, *acc), tuple(outages)))
        return bars


def component_timeline(
    runs: Runs,
    maintenances: Iterable[Maintenance] = (),
    component: str = "",
    *,
    start: float = -math.inf,
    end: float = math.inf,
    partial_weight: float = DEFAULT_PARTIAL_WEIGHT,
) -> Timeline:
    """A component's timeline over [start, end) (pass the span the runs were queried for)."""
    return Timeline(component_segments(runs, maintenances, component, start, end), partial_weight)


def page_timeline(components: Iterable[Timeline], partial_weight: float | None = None) -> Timeline:
    """The page's timeline from its components' (worst level at each moment)."""
    parts = list(components)
    if partial_weight is None:
        partial_weight = parts[0].partial_weight if parts else DEFAULT_PARTIAL_WEIGHT
    return Timeline(page_segments(p.segments for p in parts), partial_weight)


# --- calendar --------------------------------------------------------------------------------------


def _zone(tz: tzinfo | str) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _today(now: float, tz: tzinfo | str) -> date:
    return datetime.fromtimestamp(now, _zone(tz)).date()


def _midnight(d: date, tz: tzinfo) -> float:
    # fold=0: if midnight does not exist (a DST jump at 00:00) this is the instant of the jump,
    # which is where the day really starts; if it exists twice it is the first one.
    return datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()


@lru_cache(maxsize=32)
def _day_bounds(today: date, tz: tzinfo, days: int) -> tuple[tuple[date, ...], tuple[float, ...]]:
    """The last `days` dates up to `today` and their `days + 1` midnights (cached: every component
    of a render shares them)."""
    dates = tuple(today - timedelta(days=days - 1 - k) for k in range(days))
    return dates, (*(_midnight(d, tz) for d in dates), _midnight(today + timedelta(days=1), tz))


def day_window(d: date, tz: tzinfo | str) -> tuple[float, float]:
    """[start, end) of calendar day `d` in `tz`, as epoch seconds (23 or 25 h long on DST days)."""
    zone = _zone(tz)
    return _midnight(d, zone), _midnight(d + timedelta(days=1), zone)


def month_window(year: int, month: int, tz: tzinfo | str) -> tuple[float, float]:
    """[start, end) of a calendar month in `tz`, as epoch seconds."""
    zone = _zone(tz)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return _midnight(date(year, month, 1), zone), _midnight(following, zone)


def report_span(now: float, tz: tzinfo | str, days: int = BAR_DAYS) -> tuple[float, float]:
    """The [start, end) span a report reads: the daily bars, the rolling and burn-rate windows.

    The store should fetch exactly the runs overlapping this span.
    """
    first_bar = _midnight(_today(now, tz) - timedelta(days=days - 1), _zone(tz))
    longest = max(max(ROLLING_WINDOWS.values()), max(p[0] for p in BURN_PAIRS))
    return min(first_bar, now - longest), now


# --- error budget and burn rate --------------------------------------------------------------------


def _check_target(target: float) -> None:
    if not 0.0 < target < 1.0:
        raise ValueError(f"target is a ratio like 0.995, not {target}")


@dataclass(frozen=True, slots=True)
class ErrorBudget:
    """The downtime a window may have at `target`, and how much of it is spent (seconds)."""

    window: WindowUptime
    target: float
    allowed: float
    """(1 − target) × (covered − maintenance)."""
    consumed: float
    """The window's downtime."""
    remaining: float
    """allowed − consumed; negative once the budget is blown."""
    consumed_share: float | None
    """consumed / allowed; None when nothing is allowed (no data)."""
    remaining_share: float | None


def error_budget(window: WindowUptime, target: float = DEFAULT_TARGET) -> ErrorBudget:
    """The error budget of a window at an uptime `target` ratio (0.995)."""
    _check_target(target)
    allowed = (1.0 - target) * max(window.covered - window.maintenance, 0.0)
    remaining = allowed - window.downtime
    return ErrorBudget(
        window=window,
        target=target,
        allowed=allowed,
        consumed=window.downtime,
        remaining=remaining,
        consumed_share=window.downtime / allowed if allowed > 0 else None,
        remaining_share=remaining / allowed if allowed > 0 else None,
    )


def month_budget(
    timeline: Timeline, year: int, month: int, tz: tzinfo | str, target: float = DEFAULT_TARGET,
    now: float | None = None,
) -> ErrorBudget:
    """The error budget of a calendar month (month to date when `now` falls inside it)."""
    start, end = month_window(year, month, tz)
    if now is not None:
        end = max(start, min(end, now))
    return error_budget(timeline.window(start, end), target)


@dataclass(frozen=True, slots=True)
class BurnRate:
    """One multi-window burn-rate pair; a rate is None when its window has no data."""

    long_window: float
    short_window: float
    threshold: float
    long_rate: float | None
    short_rate: float | None
    fires: bool
    """Both rates exceed `threshold`."""


def burn_rate(window: WindowUptime, target: float = DEFAULT_TARGET) -> float | None:
    """Downtime fraction / (1 − target): 1 spends the budget exactly over the window's length."""
    _check_target(target)
    return None if window.uptime is None else (1.0 - window.uptime) / (1.0 - target)


def burn_rates(timeline: Timeline, now: float, target: float = DEFAULT_TARGET) -> tuple[BurnRate, ...]:
    """The (1h, 5m), (6h, 30m), (3d, 6h) burn-rate pairs ending at `now`."""
    out: list[BurnRate] = []
    for long, short, threshold in BURN_PAIRS:
        lr = burn_rate(timeline.window(now - long, now), target)
        sr = burn_rate(timeline.window(now - short, now), target)
        fires = lr is not None and sr is not None and lr > threshold and sr > threshold
        out.append(BurnRate(long, short, threshold, lr, sr, fires))
    return tuple(out)


# --- reports ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class UptimeReport:
    """Everything the site shows for one component or page at `now`."""

    now: float
    windows: dict[str, WindowUptime]
    """By name: 24h, 7d, 30d, 90d."""
    bars: list[DailyBar]
    budget_30d: ErrorBudget
    budget_month: ErrorBudget
    """The current calendar month, to date."""
    burn_rates: tuple[BurnRate, ...]
    timeline: Timeline
    """The swept timeline (report span only), for further windows and outage listings."""

    @property
    def alerting(self) -> bool:
        """True when any burn-rate pair fires."""
        return any(b.fires for b in self.burn_rates)


def uptime_report(
    timeline: Timeline, now: float, tz: tzinfo | str, target: float = DEFAULT_TARGET, days: int = BAR_DAYS
) -> UptimeReport:
    """Rolling windows, daily bars, 30-day and month-to-date budgets and burn rates of a timeline."""
    _check_target(target)
    today = _today(now, tz)
    return UptimeReport(
        now=now,
        windows={name: timeline.window(now - length, now) for name, length in ROLLING_WINDOWS.items()},
        bars=timeline.daily_bars(now, tz, days),
        budget_30d=error_budget(timeline.window(now - 30 * DAY, now), target),
        budget_month=month_budget(timeline, today.year, today.month, tz, target, now),
        burn_rates=burn_rates(timeline, now, target),
        timeline=timeline,
    )


def component_report(
    runs: Runs,
    maintenances: Iterable[Maintenance],
    component: str,
    now: float,
    tz: tzinfo | str,
    target: float = DEFAULT_TARGET,
    partial_weight: float = DEFAULT_PARTIAL_WEIGHT,
    days: int = BAR_DAYS,
) -> UptimeReport:
    """The report of one component from its monitors' runs overlapping `report_span(now, tz)`.

    `component` is its slug, or its `page/slug` key (then only that page's maintenance applies).
    """
    start, end = report_span(now, tz, days)
    timeline = component_timeline(runs, maintenances, component, start=start, end=end,
                                  partial_weight=partial_weight)
    return uptime_report(timeline, now, tz, target, days)


@dataclass(frozen=True, slots=True, eq=False)
class PageReport:
    """A page's report and each of its components' (keyed as given)."""

    page: UptimeReport
    components: dict[str, UptimeReport]


def page_report(
    runs_by_component: Mapping[str, Runs],
    maintenances: Iterable[Maintenance],
    now: float,
    tz: tzinfo | str,
    target: float = DEFAULT_TARGET,
    partial_weight: float = DEFAULT_PARTIAL_WEIGHT,
    days: int = BAR_DAYS,
) -> PageReport:
    """Reports for a page and its components, sweeping each component once.

    Keys of `runs_by_component` are component slugs or `page/slug` keys (see `component_report`).
    """
    start, end = report_span(now, tz, days)
    windows = list(maintenances)
    timelines = {
        key: component_timeline(runs, windows, key, start=start, end=end, partial_weight=partial_weight)
        for key, runs in runs_by_component.items()
    }
    return PageReport(
        page=uptime_report(page_timeline(timelines.values(), partial_weight), now, tz, target, days),
        components={key: uptime_report(t, now, tz, target, days) for key, t in timelines.items()},
    )
