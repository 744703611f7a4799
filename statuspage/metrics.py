"""Prometheus metrics of one statuspage process, in a registry of its own (no global state).

Series and their labels (names are contract, DESIGN.md section 4):

    statuspage_checks_total{page,component,monitor,outcome}    counter, one per check
    statuspage_check_duration_seconds{page}                    histogram of check durations
    statuspage_schedule_lag_seconds                            histogram, scheduled → actual start
    statuspage_monitor_up{page,component,monitor}              gauge, 1 confirmed up, 0 confirmed down
    statuspage_component_status{page,component,status}         enum gauge: 1 for the current status
    statuspage_page_status{page,indicator}                     enum gauge of the page indicator
    statuspage_uptime_ratio{page,component,window}             gauge, window 24h/7d/30d/90d
    statuspage_error_budget_remaining_seconds{page,component}  gauge, rolling 30 days
    statuspage_incidents_open{page,severity}                   gauge
    statuspage_incidents_unacknowledged{page,severity}         gauge
    statuspage_store_pending_rows                              gauge, rows waiting for the next flush

Page-level figures use `component=""` (in PromQL an empty label equals an absent one, so
`statuspage_uptime_ratio{component=""}` selects pages). A figure with no data (no coverage in its
window) has no series rather than a made-up value.

The check-duration histogram is labelled by page only: at 20,000 monitors a per-monitor histogram
would be ~300,000 series. Per-monitor detail lives in the counters and `statuspage_monitor_up`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.process_collector import ProcessCollector

from statuspage.models import COMPONENT_STATUSES, Incident
from statuspage.scheduler import CheckEvent
from statuspage.snapshot import Snapshot, UptimeView

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The Content-Type of `Metrics.render()`'s output."""

WINDOWS: tuple[str, ...] = ("24h", "7d", "30d", "90d")
INDICATORS: tuple[str, ...] = ("none", "minor", "major", "critical")
OUTCOMES: tuple[str, ...] = ("up", "degraded", "down")
SEVERITIES: tuple[str, ...] = ("T1", "T2", "T3", "T4")

LAG_BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)
DURATION_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)


class _Inc(Protocol):
    def inc(self, amount: float = 1) -> None: ...


class _Observe(Protocol):
    def observe(self, amount: float) -> None: ...


class _Set(Protocol):
    def set(self, value: float) -> None: ...


@dataclass(slots=True)
class _MonitorSeries:
    """The label children of one monitor, looked up once: a check then costs a few dict lookups."""

    outcomes: dict[str, _Inc]
    duration: _Observe
    up: _Set


class Metrics:
    """Owns a CollectorRegistry and the statuspage series; `render()` gives the exposition text."""

    def __init__(self, *, process_metrics: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.checks = Counter(
            "statuspage_checks", "Checks run, by monitor and outcome.",
            ["page", "component", "monitor", "outcome"], registry=r,
        )
        self.check_duration = Histogram(
            "statuspage_check_duration_seconds", "Time one check took, by page.",
            ["page"], buckets=DURATION_BUCKETS, registry=r,
        )
        self.schedule_lag = Histogram(
            "statuspage_schedule_lag_seconds", "Delay between a check's scheduled and actual start.",
            buckets=LAG_BUCKETS, registry=r,
        )
        self.monitor_up = Gauge(
            "statuspage_monitor_up", "Confirmed state of a monitor: 1 up (or degraded), 0 down.",
            ["page", "component", "monitor"], registry=r,
        )
        self.component_status = Gauge(
            "statuspage_component_status", "1 for the component's current status, 0 for the others.",
            ["page", "component", "status"], registry=r,
        )
        self.page_status = Gauge(
            "statuspage_page_status", "1 for the page's current indicator, 0 for the others.",
            ["page", "indicator"], registry=r,
        )
        self.uptime = Gauge(
            "statuspage_uptime_ratio",
            "Time-weighted uptime over a rolling window (component=\"\": the page).",
            ["page", "component", "window"], registry=r,
        )
        self.budget_remaining = Gauge(
            "statuspage_error_budget_remaining_seconds",
            "Error budget left over the rolling 30 days (negative once blown; component=\"\": the page).",
            ["page", "component"], registry=r,
        )
        self.incidents_open = Gauge(
            "statuspage_incidents_open", "Unresolved incidents by page and severity.",
            ["page", "severity"], registry=r,
        )
        self.incidents_unacknowledged = Gauge(
            "statuspage_incidents_unacknowledged", "Unresolved incidents nobody acknowledged yet.",
            ["page", "severity"], registry=r,
        )
        self.store_pending = Gauge(
            "statuspage_store_pending_rows", "Check rows buffered for the next database flush.", registry=r,
        )
        if process_metrics:
            ProcessCollector(registry=r)
        self._monitors: dict[str, _MonitorSeries] = {}
        self._uptime_keys: set[tuple[str, str, str]] = set()
        self._budget_keys: set[tuple[str, str]] = set()

    # --- per check (hot path) ----------------------------------------------------------------------

    def _series(self, key: str) -> _MonitorSeries:
        page, _, rest = key.partition("/")
        component, _, monitor = rest.partition("/")
        series = _MonitorSeries(
            outcomes={o: self.checks.labels(page, component, monitor, o) for o in OUTCOMES},
            duration=self.check_duration.labels(page),
            up=self.monitor_up.labels(page, component, monitor),
        )
        self._monitors[key] = series
        return series

    def observe_check(self, event: CheckEvent) -> None:
        """Count one check, its duration and schedule lag; called for every check, so kept cheap."""
        result = event.result
        series = self._monitors.get(result.monitor) or self._series(result.monitor)
        counter = series.outcomes.get(result.outcome)
        if counter is not None:
            counter.inc()
        series.duration.observe(max(event.duration, 0.0))
        self.schedule_lag.observe(max(event.lag, 0.0))
        series.up.set(0.0 if event.state.confirmed == "down" else 1.0)

    # --- from a snapshot (every render) ------------------------------------------------------------

    def set_component_status(self, page: str, component: str, status: str) -> None:
        """Set the enum gauge of one component: 1 for `status`, 0 for every other status."""
        for s in COMPONENT_STATUSES:
            self.component_status.labels(page, component, s).set(1.0 if s == status else 0.0)

    def set_page_status(self, page: str, indicator: str) -> None:
        """Set the enum gauge of one page's indicator."""
        for i in INDICATORS:
            self.page_status.labels(page, i).set(1.0 if i == indicator else 0.0)

    def set_uptime(self, page: str, component: str, windows: Mapping[str, float | None]) -> None:
        """Set uptime ratios by window name; a None (no data) removes the series."""
        for window, ratio in windows.items():
            key = (page, component, window)
            if ratio is None:
                if key in self._uptime_keys:
                    self.uptime.remove(*key)
                    self._uptime_keys.discard(key)
                continue
            self.uptime.labels(*key).set(ratio)
            self._uptime_keys.add(key)

    def set_budget(self, page: str, component: str, remaining_s: float | None) -> None:
        """Set the remaining error budget in seconds; None (no data) removes the series."""
        key = (page, component)
        if remaining_s is None:
            if key in self._budget_keys:
                self.budget_remaining.remove(*key)
                self._budget_keys.discard(key)
            return
        self.budget_remaining.labels(*key).set(remaining_s)
        self._budget_keys.add(key)

    def set_incidents(self, pages: Iterable[str], incidents: Iterable[Incident]) -> None:
        """Count open and unacknowledged incidents per page and severity (zeros included)."""
        open_counts: dict[tuple[str, str], int] = {(p, s): 0 for p in pages for s in SEVERITIES}
        unacked: dict[tuple[str, str], int] = dict.fromkeys(open_counts, 0)
        for incident in incidents:
            if not incident.is_open:
                continue
            key: tuple[str, str] = (incident.page, incident.severity)
            open_counts[key] = open_counts.get(key, 0) + 1
            if incident.acknowledged_at is None:
                unacked[key] = unacked.get(key, 0) + 1
            else:
                unacked.setdefault(key, 0)
        for key, n in open_counts.items():
            self.incidents_open.labels(*key).set(n)
        for key, n in unacked.items():
            self.incidents_unacknowledged.labels(*key).set(n)

    def set_store_pending(self, rows: int) -> None:
        """Record how many rows the store has buffered (read at scrape time)."""
        self.store_pending.set(rows)

    def update_from_snapshot(self, snapshot: Snapshot) -> None:
        """Refresh statuses, uptime, 30-day budgets and incident counts from a snapshot (every render)."""
        for page in snapshot.pages:
            self.set_page_status(page.slug, page.indicator)
            self._set_uptime_view(page.slug, "", page.uptime)
            for comp in page.components:
                # No data now: every status reads 0 rather than a guessed one.
                self.set_component_status(page.slug, comp.slug, comp.status or "")
                self._set_uptime_view(page.slug, comp.slug, comp.uptime)
        self.set_incidents(
            (p.slug for p in snapshot.pages),
            (view.incident for p in snapshot.pages for view in p.open_incidents),
        )

    def _set_uptime_view(self, page: str, component: str, view: UptimeView) -> None:
        self.set_uptime(page, component, {w: view.ratio(w) for w in WINDOWS if w in view.windows})
        budget = view.budget_30d
        self.set_budget(page, component, None if budget.window.uptime is None else budget.remaining)

    # --- exposition --------------------------------------------------------------------------------

    def render(self) -> bytes:
        """The Prometheus text exposition of every series."""
        return generate_latest(self.registry)
