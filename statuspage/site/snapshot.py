"""Everything a render needs, read from the Store at one instant `now`, as plain immutable view data.

`take_snapshot` is the only coroutine here; the rest is pure. The snapshot is UI-agnostic: the static
site, `/metrics` and `statuspage report` all read it, so it carries figures and states, never text
or markup.

What "now" means for a component: each monitor's persisted confirmation state counts only while its
last check still holds (at most 2 × interval, the same rule as uptime); a monitor that was never
checked, or whose last check is older than that, is *no data*. A component whose monitors all have
no data has `status=None` and does not influence the page indicator.
"""

from __future__ import annotations

import json
import logging
import math
import struct
import sys
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Final, Literal
from zoneinfo import ZoneInfo

from statuspage.config import Component, Config, Monitor, Page
from statuspage.models import (
    ComponentStatus,
    Impact,
    Incident,
    LatencyAggregate,
    Maintenance,
    MonitorState,
    RunRow,
    StateRun,
    component_key,
    showable_time,
)
from statuspage.probe.states import component_status, live_hold, page_indicator
from statuspage.site.runtime import MonitorSpec, own_host
from statuspage.sla import uptime
from statuspage.store import Store
from statuspage.support.indicators import SupportSnapshot
from statuspage.support.service import support_snapshot

CALENDAR_DAYS = 30
"""maintenances.ics keeps windows that ended this many days ago or less (cancelled ones too)."""

__all__ = [
    "HISTORY_DAYS", "LATENCY_DAYS", "BannerKind", "ComponentView", "HistoryDay", "IncidentView",
    "LatencyCache", "LatencyHistory", "LatencyPoint", "LatencySummary", "MaintenanceStatus",
    "MaintenanceView", "MonitorView", "PageView", "RunCache", "Snapshot", "UptimeView", "banner_kind",
    "build_page",
    "take_snapshot",
]

log = logging.getLogger(__name__)

HISTORY_DAYS = 14
"""Days of incident history on a page (today included), as on Atlassian Statuspage."""

LATENCY_DAYS = 30
"""Days of the daily response-time chart (today included); the hourly chart covers 24 hours."""

BannerKind = Literal[
    "operational", "monitoring", "maintenance", "degraded", "minor", "partial", "major", "no_data"]
"""Which banner a page shows (`i18n` turns it into words, the site into a colour): what is true now."""

MaintenanceStatus = Literal["scheduled", "in_progress", "completed"]
"""Statuspage's scheduled-maintenance statuses we can tell apart from the windows we store."""


# --- view data -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UptimeView:
    """Time-weighted uptime of a component or page: rolling windows, daily bars, budget, burn rates."""

    windows: Mapping[str, uptime.WindowUptime]
    """By name: 24h, 7d, 30d, 90d (ending at `now`)."""
    bars: tuple[uptime.DailyBar, ...]
    """90 calendar days in the site timezone, oldest first; the last one is today up to `now`."""
    budget_30d: uptime.ErrorBudget
    budget_month: uptime.ErrorBudget
    """The current calendar month to date: what the SLA page reports as "this month"."""
    burn_rates: tuple[uptime.BurnRate, ...]

    @property
    def alerting(self) -> bool:
        """True when any multi-window burn-rate pair fires."""
        return any(b.fires for b in self.burn_rates)

    def ratio(self, window: str) -> float | None:
        """The uptime ratio of a rolling window (`24h`, `7d`, `30d`, `90d`); None with no data."""
        return self.windows[window].uptime

    @property
    def month(self) -> uptime.WindowUptime:
        """The current calendar month to date."""
        return self.budget_month.window


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Response times over the last 24 hours (merged hourly aggregates of a component's monitors)."""

    count: int
    mean_ms: float
    p95_ms: float
    max_ms: float


@dataclass(frozen=True, slots=True)
class LatencyPoint:
    """Response times of one hour or one day, a component's monitors merged (ms)."""

    start: float
    """The hour (UTC epoch) or the day's local midnight."""
    count: int
    mean_ms: float
    p95_ms: float
    """Upper bound of the 95th percentile's bucket (`LatencyAggregate.p95`)."""
    max_ms: float


@dataclass(frozen=True, slots=True)
class LatencyHistory:
    """A component's response-time charts: hourly over 24 hours, daily over `LATENCY_DAYS` days.

    A None point is an hour or a day without any successful check (no response time to show).
    """

    hours: tuple[LatencyPoint | None, ...]
    """24 points, oldest first; the last is the current (partial) hour."""
    days: tuple[tuple[date, LatencyPoint | None], ...]
    """`LATENCY_DAYS` calendar days in the site timezone, oldest first; the last is today so far."""

    @property
    def has_data(self) -> bool:
        """True when any hour or day has a response time."""
        return any(p is not None for p in self.hours) or any(p is not None for _, p in self.days)


class LatencyCache:
    """Daily response-time points of days that are over, and merged hours that are over, kept between
    renders.

    A long-lived renderer (the render worker) passes one to every `take_snapshot`, so each render reads
    only the hours of the last couple of hours instead of 30 days of hourly rows per monitor. A day or
    an hour is kept once it ended `SETTLED` seconds ago (its hourly rows no longer change: the prober
    writes an hour only while checks that started in it finish). Hours are kept merged over the
    component's monitors: the cache's size is per component, not per monitor."""

    SETTLED: Final = 2 * 3600.0

    def __init__(self) -> None:
        self._days: dict[str, dict[date, LatencyPoint | None]] = {}
        self._hours: dict[str, tuple[int, int, dict[int, LatencyAggregate]]] = {}

    def hours(self, component: str) -> tuple[int, int, dict[int, LatencyAggregate]] | None:
        """(lo, hi, merged hours): every epoch hour in [lo, hi) with data, merged over the monitors."""
        return self._hours.get(component)

    def put_hours(self, component: str, lo: int, hi: int, hours: dict[int, LatencyAggregate]) -> None:
        """Keep the settled hours [lo, hi) of a component (the aggregates are not changed afterwards)."""
        if hi > lo:
            self._hours[component] = (lo, hi, {h: a for h, a in hours.items() if lo <= h < hi})
        else:
            self._hours.pop(component, None)

    def get(self, component: str) -> dict[date, LatencyPoint | None]:
        """The settled days known for a component key."""
        return self._days.get(component, {})

    def put(self, component: str, days: dict[date, LatencyPoint | None]) -> None:
        """Replace the settled days of a component (the caller passes only days still charted)."""
        self._days[component] = days


class RunCache:
    """State runs of each monitor as of the last render, with the monitor state they were read with.

    State runs change only in the flush that also writes the monitor's new confirmation state (the
    prober's `buffer_check`, one transaction), and every check changes the state (its `last_at`). So a
    monitor whose persisted state equals the one of the last render has exactly the runs it had then:
    a render re-reads only the runs of monitors checked since (at 50,000 monitors and renders a few
    seconds apart, a few thousand instead of all of them). The windows still slide: every render
    recomputes every component's uptime from these runs at its own `now`."""

    def __init__(self) -> None:
        self._runs: dict[str, bytes] = {}
        """key → its state's fingerprint when read (`_MARK`), the start of the span read, then every
        run ending after that start (`_ROW` each).

        Packed: at 50,000 monitors the cache is held between renders, and as objects (a tuple, two
        floats, a RunRow with its own floats and id) it was ~360 B a monitor; packed it is ~100 B."""
        self._codes: dict[str, int] = {}
        self._texts: list[str] = []
        """The outcome and confirmation texts met, by code (a handful: up, degraded, down)."""

    def _code(self, text: str) -> int:
        code = self._codes.get(text)
        if code is None:
            code = self._codes[text] = len(self._texts)
            self._texts.append(sys.intern(text))
        return code

    def _mark(self, state: MonitorState) -> bytes:
        # What every recorded check changes (its start, end and what it confirmed); far smaller than
        # the state, which the cache would otherwise keep alive beside the next render's. None packs
        # as NaN, whose bytes compare equal to themselves.
        return _MARK.pack(math.nan if state.last_at is None else state.last_at,
                          math.nan if state.last_ended_at is None else state.last_ended_at,
                          state.streak, self._code(state.confirmed), self._code(state.run_state))

    def _current(self, key: str, states: Mapping[str, MonitorState], start: float) -> bool:
        kept = self._runs.get(key)
        if kept is None or key not in states:
            return False
        return (kept[:_MARK.size] == self._mark(states[key])
                and _SPAN.unpack_from(kept, _MARK.size)[0] <= start)

    def _pack(self, mark: bytes, start: float, rows: Iterable[RunRow]) -> bytes:
        return b"".join([mark, _SPAN.pack(start),
                         *(_ROW.pack(r.id, self._code(r.state), r.start, r.end, r.open) for r in rows)])

    async def runs(self, store: Store, keys: Sequence[str], states: Mapping[str, MonitorState],
                   start: float, end: float) -> list[RunRow]:
        """The runs of `keys` overlapping [start, end), oldest first per monitor, in the order of `keys`
        (what `store.runs(keys, start, end)` returns)."""
        stale = [k for k in keys if not self._current(k, states, start)]
        fresh: dict[str, list[RunRow]] = {k: [] for k in stale}
        # Every run ending after `start`, whenever it starts: a later render's `end` may reach further.
        for row in await store.runs(stale, start, math.inf) if stale else ():
            fresh[row.monitor].append(row)
        texts, head = self._texts, _MARK.size + _SPAN.size
        out: list[RunRow] = []
        for key in keys:
            if key in fresh:
                rows = fresh[key]
                if key in states:
                    self._runs[key] = self._pack(self._mark(states[key]), start, rows)
                else:
                    self._runs.pop(key, None)  # never checked: nothing to tell its runs' changes by
            else:
                kept = self._runs[key]
                rows = [RunRow(i, key, texts[code], a, b, bool(o))
                        for i, code, a, b, o in _ROW.iter_unpack(kept[head:]) if b >= start]
                if _SPAN.unpack_from(kept, _MARK.size)[0] != start:
                    self._runs[key] = self._pack(kept[:_MARK.size], start, rows)
            out += [r for r in rows if r.start < end]
        return out


_MARK: Final = struct.Struct("<ddqHH")
"""A `RunCache` entry's fingerprint: last_at, last_ended_at, streak, confirmed, run_state (codes)."""
_SPAN: Final = struct.Struct("<d")
_ROW: Final = struct.Struct("<qHdd?")
"""A cached run: id, state (code), start, end, open."""


@dataclass(frozen=True, slots=True)
class MonitorView:
    """One monitor's current reading; `state` is None when it has no data now."""

    key: str
    name: str
    type: str
    interval: float
    state: MonitorState | None
    cert_expires_at: float | None = None
    """When the TLS certificate last seen by an https check expires (known even while it has no data).

    The earliest of the certificates met on the way: a redirect may lead to another host."""
    cert_host: str | None = None
    """The host whose certificate that is."""

    @property
    def has_data(self) -> bool:
        """True while the monitor's last check still holds."""
        return self.state is not None


@dataclass(frozen=True, slots=True)
class CertWarning:
    """An https monitor whose certificate expires within its `cert_warn_days` (not downtime)."""

    monitor: str
    """The monitor's name, with the certificate's host in brackets when a redirect led to another host."""
    expires_at: float
    days_left: int
    host: str | None = None


@dataclass(frozen=True, slots=True)
class ComponentView:
    """A component of a page: its current status, monitors, uptime and response times."""

    key: str
    """`page/component`."""
    slug: str
    name: str
    description: str
    position: int
    """1-based, in config order (Statuspage's `position`)."""
    status: ComponentStatus | None
    """None when no monitor of the component has data now."""
    monitors: tuple[MonitorView, ...]
    uptime: UptimeView
    latency_24h: LatencySummary | None
    since: float | None
    """When the component entered its current level (up / partial / major / maintenance), if known."""
    first_seen: float | None
    """The start of the oldest data in the snapshot's span (Statuspage's `created_at` stand-in)."""
    maintenance_ids: tuple[int, ...]
    """Maintenance windows in force for this component now."""
    cert_warnings: tuple[CertWarning, ...] = ()
    latency: LatencyHistory | None = None
    """Hourly (24 h) and daily (30 d) response times for the charts; None when never measured."""

    @property
    def has_data(self) -> bool:
        """True when at least one monitor has data now (or the component is in maintenance)."""
        return self.status is not None

    @property
    def locations_agreeing(self) -> tuple[int, int] | None:
        """Several probe locations, a component in trouble: (locations that have its worst monitor
        down, locations probing it), e.g. (2, 3) for "down from 2 of 3 locations"; else None."""
        if self.status not in ("partial_outage", "major_outage"):
            return None
        found = [(len([x for x in m.state.locations_down.split(",") if x]), m.state.locations_total)
                 for m in self.monitors
                 if m.state is not None and m.state.confirmed == "down" and m.state.locations_total]
        return max(found) if found else None


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident with what `now` says about it: breach, time left, names of its components."""

    incident: Incident
    component_names: tuple[str, ...]
    """Names of `incident.components`, in the same order (the slug when it is no longer configured)."""
    breached: bool
    """Unresolved past `due_at`, or resolved after it."""
    time_left: float | None
    """Seconds until `due_at` while open (negative once overdue); None when resolved."""
    duration: float
    """From `started_at` to `resolved_at`, or to `now` while open."""

    @property
    def id(self) -> int:
        """The incident id."""
        return self.incident.id

    @property
    def is_open(self) -> bool:
        """True until resolved."""
        return self.incident.is_open


@dataclass(frozen=True, slots=True)
class MaintenanceView:
    """A maintenance window and its state at `now`."""

    maintenance: Maintenance
    status: MaintenanceStatus
    component_names: tuple[str, ...]
    """Names of the covered components (every component of the page when the window names none)."""
    component_slugs: tuple[str, ...]
    rrule: str = ""
    """The rule of a recurring window (`maintenance` is then its current or next occurrence)."""


@dataclass(frozen=True, slots=True)
class HistoryDay:
    """One calendar day (site timezone) of a page's recent history, with the incidents started that day."""

    date: date
    incidents: tuple[IncidentView, ...]


@dataclass(frozen=True, slots=True)
class PageView:
    """One product's status page at `now`."""

    slug: str
    name: str
    description: str
    url: str
    position: int
    indicator: Impact
    """Statuspage's page indicator: worst of open incidents' impacts and components' statuses."""
    banner: BannerKind
    components: tuple[ComponentView, ...]
    uptime: UptimeView
    """The page as a whole: at each moment as down as its worst component."""
    open_incidents: tuple[IncidentView, ...]
    """Unresolved incidents, newest first."""
    incidents: tuple[IncidentView, ...]
    """Every incident of the page, newest first."""
    history: tuple[HistoryDay, ...]
    """The last `HISTORY_DAYS` days, today first; days without incidents have none."""
    active_maintenances: tuple[MaintenanceView, ...]
    upcoming_maintenances: tuple[MaintenanceView, ...]
    maintenances: tuple[MaintenanceView, ...]
    """Every non-cancelled window ending inside the snapshot's span or later, by start time."""
    updated_at: float
    """The last change a visitor could notice: an incident update, a maintenance, a status change."""
    calendar: tuple[Maintenance, ...] = ()
    """Every window of the last `CALENDAR_DAYS` days and later, cancelled ones too (maintenances.ics)."""

    def component(self, slug: str) -> ComponentView | None:
        """The component with this slug, or None."""
        return next((c for c in self.components if c.slug == slug), None)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every page at one instant; built by `take_snapshot`."""

    now: float
    timezone: str
    target: float
    """The uptime target as a ratio (0.995)."""
    pages: tuple[PageView, ...]
    support: SupportSnapshot | None = None
    """The published support indicators (None when `support:` is not configured)."""

    def page(self, slug: str) -> PageView | None:
        """The page with this slug, or None."""
        return next((p for p in self.pages if p.slug == slug), None)

    @property
    def indicator(self) -> Impact:
        """The worst indicator over every page (for an overview)."""
        return page_indicator((), (p.indicator for p in self.pages))

    @property
    def banner(self) -> BannerKind:
        """The banner of all pages together (for an overview)."""
        return banner_kind(
            [c.status for p in self.pages for c in p.components],
            [v.incident for p in self.pages for v in p.open_incidents],
        )


# --- reading the store -----------------------------------------------------------------------------


async def take_snapshot(
    config: Config, store: Store, now: float, latency_cache: LatencyCache | None = None,
    run_cache: RunCache | None = None,
) -> Snapshot:
    """Read states, runs, incidents, maintenance and latency from `store` and build the snapshot at `now`.

    `latency_cache` keeps the response times of past hours and days between calls (see `LatencyCache`),
    `run_cache` the state runs of monitors not checked since the last call (see `RunCache`): a
    long-lived renderer passes both and renders incrementally, byte for byte what a fresh one renders.
    """
    tz = config.site.timezone
    span_start, _ = uptime.report_span(now, tz)
    states = _shared_strings(await store.load_monitor_states())
    inputs: list[tuple[Page, int, dict[str, list[StateRun]], list[Maintenance], list[Incident],
                       dict[str, _Latency]]] = []
    for position, page in enumerate(config.pages, start=1):
        maintenances = await store.list_maintenances(page=page.slug, ending_after=span_start)
        runs: dict[str, list[StateRun]] = {}
        latency: dict[str, _Latency] = {}
        for comp in page.components:
            holds = {m.key: 2.0 * m.interval_s for m in comp.monitors}
            rows = (await run_cache.runs(store, list(holds), states, span_start, now) if run_cache is not None
                    else await store.runs(holds, span_start, now))
            runs[comp.slug] = [r.to_run(now, holds[r.monitor]) for r in rows]
            latency[comp.slug] = await _latency(store, component_key(page.slug, comp.slug), comp.monitors,
                                                now, tz, latency_cache)
        incidents = await store.list_incidents(page=page.slug)
        inputs.append((page, position, runs, maintenances, incidents, latency))

    # The uptime sweeps are pure CPU (seconds for tens of thousands of components); `statuspage run`
    # calls this in its render worker process, never on the probes' event loop.
    pages = tuple(
        build_page(config, page, position, now, states, runs, maintenances, incidents,
                   {slug: summary for slug, (summary, _) in latency.items()},
                   {slug: history for slug, (_, history) in latency.items()})
        for page, position, runs, maintenances, incidents, latency in inputs)
    since = now - CALENDAR_DAYS * 86400.0
    calendars = []
    for page, _, _, checked, _, _ in inputs:
        seen = {m.id for m in checked}  # build_page has already said which of these it left out
        windows = await store.list_maintenances(page=page.slug, ending_after=since, include_cancelled=True)
        calendars.append(tuple(
            m for m in windows
            if (all(showable_time(t) for t in (m.start, m.end, m.created_at, m.updated_at)) if m.id in seen
                else _showable(m.id, "maintenance", (m.start, m.end, m.created_at, m.updated_at)))))
    pages = tuple(replace(view, calendar=windows) for view, windows in zip(pages, calendars, strict=True))
    support = await support_snapshot(config, store, now)
    return Snapshot(now=now, timezone=tz, target=config.sla.target_ratio, pages=pages, support=support)


_Latency = tuple[LatencySummary | None, LatencyHistory | None]

_STATE_TEXTS: Final = ("confirmed", "run_state", "last_outcome", "last_error", "last_message", "cert_host",
                       "push_status", "push_message")


def _shared_strings(states: dict[str, MonitorState]) -> dict[str, MonitorState]:
    """`states` with their short texts interned, in place: each state read from JSON has its own copy
    of "up", "HTTP 200" and the like, ~250 B per monitor that the snapshot holds through the render
    (12 MB at 50,000 monitors). Equal strings, so nothing rendered changes. The states are frozen but
    were just read for this snapshot alone, so swapping a string for an equal one is safe."""
    intern, put = sys.intern, object.__setattr__
    for state in states.values():
        for name in _STATE_TEXTS:
            value = getattr(state, name)
            if value.__class__ is str and len(value) <= 64:
                put(state, name, intern(value))
    return states


def _point(start: float, agg: LatencyAggregate | None) -> LatencyPoint | None:
    if agg is None:
        return None
    mean, p95 = agg.mean(), agg.p95()
    if mean is None or p95 is None:
        return None
    return LatencyPoint(start, agg.count, mean, p95, agg.max_ms)


async def _latency(
    store: Store, key: str, monitors: Sequence[Monitor | MonitorSpec], now: float, tz: str,
    cache: LatencyCache | None,
) -> _Latency:
    """The 24-hour summary and the hourly/daily charts of one component, its monitors merged."""
    zone = ZoneInfo(tz)
    hour_now = int(now // uptime.HOUR)
    first_24 = hour_now - 23
    today = datetime.fromtimestamp(now, zone).date()
    dates = [today - timedelta(days=LATENCY_DAYS - 1 - k) for k in range(LATENCY_DAYS)]
    starts = [datetime(d.year, d.month, d.day, tzinfo=zone).timestamp() for d in dates]
    ends = [*starts[1:], datetime.combine(today + timedelta(days=1), datetime.min.time(), zone).timestamp()]
    settled = {d for d, end in zip(dates, ends, strict=True) if end <= now - LatencyCache.SETTLED}
    known = {d: p for d, p in (cache.get(key) if cache is not None else {}).items() if d in settled}
    missing = [k for k, d in enumerate(dates) if d not in known]
    first_hour = first_24 if not missing else min(first_24, int(starts[missing[0]] // uptime.HOUR))

    # Each hour merged over the monitors in config order; settled hours come from the cache, merged
    # the same way when they were read, so a cached render is byte-identical to a fresh one.
    hours: dict[int, LatencyAggregate] = {}
    read_from = first_hour
    kept = cache.hours(key) if cache is not None else None
    if kept is not None and kept[0] <= first_hour < kept[1]:
        hours = {h: a for h, a in kept[2].items() if h >= first_hour}
        read_from = kept[1]
    fresh = await store.latency_hours_of([m.key for m in monitors], read_from)
    for monitor in monitors:
        for hour, data in fresh.get(monitor.key, ()):
            if hour * uptime.HOUR > now or hour < read_from:
                continue
            try:
                agg = LatencyAggregate.from_json(json.loads(data))
            except ValueError:
                continue  # an unreadable hour is left out rather than failing the whole render
            if hour in hours:
                hours[hour].merge(agg)
            else:
                hours[hour] = agg
    if cache is not None:
        cache.put_hours(key, first_hour, int((now - LatencyCache.SETTLED) // uptime.HOUR), hours)

    merged = LatencyAggregate()
    for hour in range(first_24, hour_now + 1):
        if hour in hours:
            merged.merge(hours[hour])
    mean, p95 = merged.mean(), merged.p95()
    summary = None if mean is None or p95 is None else LatencySummary(merged.count, mean, p95, merged.max_ms)

    by_day: dict[date, LatencyAggregate] = {}
    need = {dates[k] for k in missing}
    for hour, agg in sorted(hours.items()):
        k = bisect_right(starts, hour * uptime.HOUR) - 1  # the day the hour starts in
        if k < 0 or dates[k] not in need:
            continue
        if dates[k] in by_day:
            by_day[dates[k]].merge(agg)
        else:
            by_day[dates[k]] = LatencyAggregate(agg.count, agg.sum_ms, agg.max_ms, list(agg.buckets))
    days = {d: known[d] if d in known else _point(start, by_day.get(d)) for d, start in zip(dates, starts,
                                                                                             strict=True)}
    if cache is not None:
        cache.put(key, {d: p for d, p in days.items() if d in settled})
    history = LatencyHistory(
        hours=tuple(_point(h * uptime.HOUR, hours.get(h)) for h in range(first_24, hour_now + 1)),
        days=tuple(days.items()),
    )
    return summary, history if history.has_data else None


# --- pure assembly ---------------------------------------------------------------------------------


def build_page(
    config: Config,
    page: Page,
    position: int,
    now: float,
    states: Mapping[str, MonitorState],
    runs: Mapping[str, Sequence[StateRun]],
    maintenances: Sequence[Maintenance],
    incidents: Sequence[Incident],
    latency: Mapping[str, LatencySummary | None] | None = None,
    charts: Mapping[str, LatencyHistory | None] | None = None,
) -> PageView:
    """Assemble one page's view from already-read data (`runs`, `latency` and `charts` keyed by
    component slug)."""
    tz = config.site.timezone
    target = config.sla.target_ratio
    weight = config.sla.partial_outage_weight
    latency = latency or {}
    charts = charts or {}
    windows = [m for m in maintenances if m.page == page.slug and not m.cancelled]
    report = uptime.page_report(
        {component_key(page.slug, c.slug): runs.get(c.slug, ()) for c in page.components},
        windows, now, tz, target, weight,
    )
    windows = [m for m in windows if _showable(m.id, "maintenance", (m.start, m.end, m.created_at))]
    incidents = [i for i in incidents if i.page != page.slug or _showable(i.id, "incident", i.times())]
    names = {c.slug: c.name for c in page.components}
    components = tuple(
        _component(page, comp, i, now, states, report.components[component_key(page.slug, comp.slug)],
                   windows, latency.get(comp.slug), charts.get(comp.slug))
        for i, comp in enumerate(page.components, start=1)
    )
    views = tuple(_incident(i, names, now) for i in incidents if i.page == page.slug)
    views = tuple(sorted(views, key=lambda v: (v.incident.started_at, v.incident.id), reverse=True))
    open_views = tuple(v for v in views if v.is_open)
    ordered = sorted(((m.occurrence(now), m.rrule) for m in windows), key=lambda p: (p[0].start, p[0].id))
    maint_views = tuple(_maintenance(m, page, names, now, rule) for m, rule in ordered)
    indicator = page_indicator(
        (c.status for c in components if c.status is not None),
        (v.incident.impact for v in open_views),
    )
    changes = [v.incident.updated_at for v in views] + [v.incident.started_at for v in views]
    changes += [m.maintenance.created_at for m in maint_views]
    changes += [t for m in maint_views for t in (m.maintenance.start, m.maintenance.end) if t <= now]
    changes += [c.since for c in components if c.since is not None]
    return PageView(
        slug=page.slug,
        name=page.name,
        description=page.description,
        url=page.url,
        position=position,
        indicator=indicator,
        banner=banner_kind([c.status for c in components], [v.incident for v in open_views]),
        components=components,
        uptime=_uptime_view(report.page),
        open_incidents=open_views,
        incidents=views,
        history=_history(views, now, tz),
        active_maintenances=tuple(m for m in maint_views if m.status == "in_progress"),
        upcoming_maintenances=tuple(m for m in maint_views if m.status == "scheduled"),
        maintenances=maint_views,
        updated_at=max((t for t in changes if t <= now), default=now),
    )


_BANNER_RANK: Final[dict[str, int]] = {
    "operational": 0, "monitoring": 1, "maintenance": 2, "degraded": 3, "minor": 4, "partial": 5, "major": 6,
}
_INCIDENT_BANNER: Final[dict[str, BannerKind]] = {"critical": "major", "major": "partial", "minor": "minor"}


def _showable(row_id: int, kind: str, times: Iterable[float | None]) -> bool:
    """False (and a log line) for a row stored with a time no output can show: it is left out of
    the site so that every other row is still published (the admin API still lists it)."""
    if all(showable_time(t) for t in times):
        return True
    log.warning("%s id=%d left out of the site: it holds a time no output can show", kind, row_id)
    return False


def banner_kind(
    statuses: Iterable[ComponentStatus | None], open_incidents: Iterable[Incident] = ()
) -> BannerKind:
    """The banner of a page: what is true now, the worst of what its components show and what its
    active incidents declare.

    Components (those with data): every one outside maintenance in major outage → major ("Major
    System Outage"); some in major or partial outage → partial; some slow → degraded; some in
    maintenance → maintenance; else operational. An open incident still being worked on (not
    `monitoring`) adds its impact: critical → major, major → partial, minor → minor, none → nothing.
    An incident in `monitoring` means the service recovered and is being watched: the banner says
    so (monitoring) unless something else is worse. Nothing known → no data.

    Statuspage's `status.indicator` in the JSON keeps counting every open incident's impact; this
    is only what a visitor reads at the top of the page.
    """
    known = [s for s in statuses if s is not None]
    active = [s for s in known if s != "under_maintenance"]
    kinds: list[BannerKind] = []
    if active and all(s == "major_outage" for s in active):
        kinds.append("major")
    elif any(s in ("major_outage", "partial_outage") for s in active):
        kinds.append("partial")
    elif any(s == "degraded_performance" for s in active):
        kinds.append("degraded")
    elif len(active) < len(known):
        kinds.append("maintenance")
    elif known:
        kinds.append("operational")
    watching = False
    for incident in open_incidents:
        if incident.status == "monitoring":
            watching = True
        elif incident.impact in _INCIDENT_BANNER:
            kinds.append(_INCIDENT_BANNER[incident.impact])
    if known and watching:
        kinds.append("monitoring")
    if not kinds:
        return "no_data"
    return max(kinds, key=_BANNER_RANK.__getitem__)


def _uptime_view(report: uptime.UptimeReport) -> UptimeView:
    return UptimeView(
        windows=MappingProxyType(dict(report.windows)),
        bars=tuple(report.bars),
        budget_30d=report.budget_30d,
        budget_month=report.budget_month,
        burn_rates=report.burn_rates,
    )


def _live_state(
    state: MonitorState | None, monitor: Monitor | MonitorSpec, now: float
) -> MonitorState | None:
    """The state while its last check still holds, else None (see `live_hold`: from the check's end,
    long enough for the next check to finish, so a hung check in flight never reads as no data)."""
    if state is None or state.last_at is None:
        return None
    ended = state.last_ended_at if state.last_ended_at is not None else state.last_at
    if now - ended > live_hold(monitor.interval_s, monitor.timeout_s):
        return None
    return state


def _component(
    page: Page,
    comp: Component,
    position: int,
    now: float,
    states: Mapping[str, MonitorState],
    report: uptime.UptimeReport,
    maintenances: Sequence[Maintenance],
    latency: LatencySummary | None,
    chart: LatencyHistory | None = None,
) -> ComponentView:
    monitors = tuple(
        MonitorView(m.key, m.name, m.type, m.interval_s, _live_state(states.get(m.key), m, now),
                    _cert_expiry(states.get(m.key)), _cert_host(states.get(m.key)))
        for m in comp.monitors
    )
    live = [m.state for m in monitors if m.state is not None]
    in_force = tuple(m.id for m in maintenances if m.covers(comp.slug, now))
    status: ComponentStatus | None = None
    if in_force or live:
        status = component_status(live, in_maintenance=bool(in_force))
    segments = report.timeline.segments
    since = segments[-1].start if segments and segments[-1].end >= now else None
    first_seen = segments[0].start if segments else None
    if first_seen is not None and not math.isfinite(first_seen):
        first_seen = None
    return ComponentView(
        key=component_key(page.slug, comp.slug),
        slug=comp.slug,
        name=comp.name,
        description=comp.description,
        position=position,
        status=status,
        monitors=monitors,
        uptime=_uptime_view(report),
        latency_24h=latency,
        since=since,
        first_seen=first_seen,
        maintenance_ids=in_force,
        cert_warnings=_cert_warnings(comp, monitors, now),
        latency=chart,
    )


def _cert_expiry(state: MonitorState | None) -> float | None:
    return None if state is None else state.cert_expires_at


def _cert_host(state: MonitorState | None) -> str | None:
    return None if state is None else state.cert_host


def _cert_warnings(comp: Component, monitors: Sequence[MonitorView], now: float) -> tuple[CertWarning, ...]:
    configured = {m.key: m for m in comp.monitors}
    out = []
    for view in monitors:
        expires = view.cert_expires_at
        if expires is None:
            continue  # no https check seen: nothing to parse (at 50,000 monitors, most of them)
        mon = configured.get(view.key)
        days = mon.cert_warn_days if mon is not None else 0
        # An expired certificate fails the check itself (a tls error), so only the future warns.
        if days and now < expires <= now + days * 86400.0:
            host = view.cert_host
            own = own_host(mon) if mon is not None else None
            label = view.name if host is None or host == own else f"{view.name} ({host})"
            out.append(CertWarning(label, expires, math.floor((expires - now) / 86400.0), host))
    return tuple(out)


def _incident(incident: Incident, names: Mapping[str, str], now: float) -> IncidentView:
    end = incident.resolved_at if incident.resolved_at is not None else now
    return IncidentView(
        incident=incident,
        component_names=tuple(names.get(c, c) for c in incident.components),
        breached=incident.breached(now),
        time_left=None if not incident.is_open else incident.due_at - now,
        duration=max(0.0, end - incident.started_at),
    )


def _maintenance(m: Maintenance, page: Page, names: Mapping[str, str], now: float,
                 rrule: str = "") -> MaintenanceView:
    status: MaintenanceStatus = "in_progress" if now < m.end else "completed"
    if now < m.start:
        status = "scheduled"
    slugs = m.components or tuple(c.slug for c in page.components)
    return MaintenanceView(m, status, tuple(names.get(s, s) for s in slugs), tuple(slugs), rrule)


def _history(views: Sequence[IncidentView], now: float, tz: str) -> tuple[HistoryDay, ...]:
    zone = ZoneInfo(tz)
    today = datetime.fromtimestamp(now, zone).date()
    days = [today - timedelta(days=k) for k in range(HISTORY_DAYS)]
    by_day: dict[date, list[IncidentView]] = {d: [] for d in days}
    for view in views:
        started = datetime.fromtimestamp(view.incident.started_at, zone).date()
        if started in by_day:
            by_day[started].append(view)
    return tuple(HistoryDay(d, tuple(by_day[d])) for d in days)
