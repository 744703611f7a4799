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
    statuspage_cert_expiry_timestamp_seconds{page,component,monitor}  gauge, https certificate's notAfter

Page-level figures use `component=""` (in PromQL an empty label equals an absent one, so
`statuspage_uptime_ratio{component=""}` selects pages). A figure with no data (no coverage in its
window) has no series rather than a made-up value.

Cost at scale: the per-monitor series and the snapshot series are plain numbers formatted straight
into exposition text (one f-string a sample; prometheus_client's generic formatting took 1.8 s of the
event loop per scrape at 20,000 monitors); the snapshot series are computed by the render worker
process (`SnapshotMetrics`) and reach this process as text.

The check-duration histogram is labelled by page only: at 20,000 monitors a per-monitor histogram
would be ~300,000 series. Per-monitor detail lives in the counters and `statuspage_monitor_up`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.process_collector import ProcessCollector

from statuspage.models import COMPONENT_STATUSES, Incident
from statuspage.snapshot import Snapshot, UptimeView

if TYPE_CHECKING:  # the render worker imports this module and needs no aiohttp or APScheduler
    from statuspage.scheduler import CheckEvent

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The Content-Type of `Metrics.render()`'s output."""

WINDOWS: tuple[str, ...] = ("24h", "7d", "30d", "90d")
INDICATORS: tuple[str, ...] = ("none", "minor", "major", "critical")
OUTCOMES: tuple[str, ...] = ("up", "degraded", "down")
SEVERITIES: tuple[str, ...] = ("T1", "T2", "T3", "T4")
_OUTCOME_INDEX: dict[str, int] = {o: i for i, o in enumerate(OUTCOMES)}

LAG_BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)
DURATION_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)


class _Observe(Protocol):
    def observe(self, amount: float) -> None: ...


def _label(value: str) -> str:
    """A label value escaped for the text exposition format."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


CHECKS_HELP = "Checks run, by monitor and outcome."
UP_HELP = "Confirmed state of a monitor: 1 up (or degraded), 0 down."


@dataclass(slots=True)
class _MonitorSeries:
    """One monitor's per-check series as plain numbers, with their exposition prefixes built once.

    prometheus_client formats ~45,000 samples a second; at 20,000 monitors its exposition of these
    80,000 series (plus a `_created` sample each) took 1.8 s of the event loop per scrape, which is
    a 1.8 s schedule lag for every check due meanwhile. Formatting them here is one f-string each."""

    counts: list[int]
    up: int
    duration: _Observe
    checks_prefixes: tuple[str, ...]
    up_prefix: str

def _number(value: float) -> str:
    return repr(float(value))


class SnapshotMetrics:
    """The series computed from a site snapshot (statuses, uptime, budgets, incidents).

    Plain dicts formatted straight into exposition text: at 20,000 components these are ~220,000
    samples, which as prometheus_client gauges cost ~100 MB and seconds per exposition. The render
    worker fills them in its process and hands the text to the main process."""

    def __init__(self) -> None:
        self.component_status: dict[tuple[str, str], str] = {}
        self.page_status: dict[str, str] = {}
        self.uptime: dict[tuple[str, str, str], float] = {}
        self.budget_remaining: dict[tuple[str, str], float] = {}
        self.incidents_open: dict[tuple[str, str], int] = {}
        self.incidents_unacknowledged: dict[tuple[str, str], int] = {}
        self.cert_expiry: dict[tuple[str, str, str], float] = {}

    def set_component_status(self, page: str, component: str, status: str) -> None:
        """Set the enum gauge of one component: 1 for `status`, 0 for every other status."""
        self.component_status[(page, component)] = status

    def set_page_status(self, page: str, indicator: str) -> None:
        """Set the enum gauge of one page's indicator."""
        self.page_status[page] = indicator

    def set_uptime(self, page: str, component: str, windows: Mapping[str, float | None]) -> None:
        """Set uptime ratios by window name; a None (no data) removes the series."""
        for window, ratio in windows.items():
            if ratio is None:
                self.uptime.pop((page, component, window), None)
            else:
                self.uptime[(page, component, window)] = ratio

    def set_budget(self, page: str, component: str, remaining_s: float | None) -> None:
        """Set the remaining error budget in seconds; None (no data) removes the series."""
        if remaining_s is None:
            self.budget_remaining.pop((page, component), None)
        else:
            self.budget_remaining[(page, component)] = remaining_s

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
        self.incidents_open, self.incidents_unacknowledged = open_counts, unacked

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
        self.cert_expiry = {
            (page.slug, comp.slug, mon.key.rpartition("/")[2]): mon.cert_expires_at
            for page in snapshot.pages for comp in page.components for mon in comp.monitors
            if mon.cert_expires_at is not None
        }

    def _set_uptime_view(self, page: str, component: str, view: UptimeView) -> None:
        self.set_uptime(page, component, {w: view.ratio(w) for w in WINDOWS if w in view.windows})
        budget = view.budget_30d
        self.set_budget(page, component, None if budget.window.uptime is None else budget.remaining)

    def render(self) -> bytes:
        """The exposition text of these series."""
        def pc(page: str, comp: str) -> str:
            return f'page="{_label(page)}",component="{_label(comp)}"'

        lines: list[str] = []

        def family(name: str, help_text: str, rows: Iterable[str]) -> None:
            lines.extend((f"# HELP {name} {help_text}", f"# TYPE {name} gauge"))
            lines.extend(f"{name}{row}" for row in rows)

        family("statuspage_component_status", "1 for the component's current status, 0 for the others.",
               (f'{{{pc(p, c)},status="{s}"}} {int(s == now)}'
                for (p, c), now in self.component_status.items() for s in COMPONENT_STATUSES))
        family("statuspage_page_status", "1 for the page's current indicator, 0 for the others.",
               (f'{{page="{_label(p)}",indicator="{i}"}} {int(i == now)}'
                for p, now in self.page_status.items() for i in INDICATORS))
        family("statuspage_uptime_ratio",
               'Time-weighted uptime over a rolling window (component="": the page).',
               (f'{{{pc(p, c)},window="{w}"}} {_number(v)}' for (p, c, w), v in self.uptime.items()))
        family("statuspage_error_budget_remaining_seconds",
               'Error budget left over the rolling 30 days (negative once blown; component="": the page).',
               (f"{{{pc(p, c)}}} {_number(v)}" for (p, c), v in self.budget_remaining.items()))
        for name, help_text, counts in (
            ("statuspage_incidents_open", "Unresolved incidents by page and severity.", self.incidents_open),
            ("statuspage_incidents_unacknowledged", "Unresolved incidents nobody acknowledged yet.",
             self.incidents_unacknowledged),
        ):
            family(name, help_text, (f'{{page="{_label(p)}",severity="{_label(s)}"}} {n}'
                                     for (p, s), n in counts.items()))
        family("statuspage_cert_expiry_timestamp_seconds",
               "When the TLS certificate an https monitor last saw expires (Unix time).",
               (f'{{{pc(p, c)},monitor="{_label(m)}"}} {_number(v)}'
                for (p, c, m), v in self.cert_expiry.items()))
        return ("\n".join(lines) + "\n").encode()


class Metrics:
    """Owns a CollectorRegistry and the statuspage series; `render()` gives the exposition text.

    The per-check series live here; the snapshot series come from `snapshot` (filled in this process
    by `update_from_snapshot`) or, when a render worker computed them, from `set_snapshot_text`."""

    def __init__(self, *, process_metrics: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.check_duration = Histogram(
            "statuspage_check_duration_seconds", "Time one check took, by page.",
            ["page"], buckets=DURATION_BUCKETS, registry=r,
        )
        self.schedule_lag = Histogram(
            "statuspage_schedule_lag_seconds", "Delay between a check's scheduled and actual start.",
            buckets=LAG_BUCKETS, registry=r,
        )
        self.store_pending = Gauge(
            "statuspage_store_pending_rows", "Check rows buffered for the next database flush.", registry=r,
        )
        if process_metrics:
            ProcessCollector(registry=r)
        self._monitors: dict[str, _MonitorSeries] = {}
        self.snapshot = SnapshotMetrics()
        self._snapshot_text: bytes | None = None

    # --- per check (hot path) ----------------------------------------------------------------------

    def _series(self, key: str) -> _MonitorSeries:
        page, _, rest = key.partition("/")
        component, _, monitor = rest.partition("/")
        labels = f'page="{_label(page)}",component="{_label(component)}",monitor="{_label(monitor)}"'
        series = _MonitorSeries(
            counts=[0] * len(OUTCOMES),
            up=1,
            duration=self.check_duration.labels(page),
            checks_prefixes=tuple(f'statuspage_checks_total{{{labels},outcome="{o}"}} ' for o in OUTCOMES),
            up_prefix=f"statuspage_monitor_up{{{labels}}} ",
        )
        self._monitors[key] = series
        return series

    def observe_check(self, event: CheckEvent) -> None:
        """Count one check, its duration and schedule lag; called for every check, so kept cheap."""
        result = event.result
        series = self._monitors.get(result.monitor) or self._series(result.monitor)
        index = _OUTCOME_INDEX.get(result.outcome)
        if index is not None:
            series.counts[index] += 1
        series.duration.observe(max(event.duration, 0.0))
        self.schedule_lag.observe(max(event.lag, 0.0))
        series.up = 0 if event.state.confirmed == "down" else 1

    def _monitor_text(self) -> bytes:
        series = self._monitors.values()
        lines = [f"# HELP statuspage_checks_total {CHECKS_HELP}", "# TYPE statuspage_checks_total counter"]
        lines += [f"{prefix}{n}" for s in series
                  for prefix, n in zip(s.checks_prefixes, s.counts, strict=True)]
        lines += [f"# HELP statuspage_monitor_up {UP_HELP}", "# TYPE statuspage_monitor_up gauge"]
        lines += [f"{s.up_prefix}{s.up}" for s in series]
        return ("\n".join(lines) + "\n").encode()

    # --- from a snapshot (every render) ------------------------------------------------------------

    def update_from_snapshot(self, snapshot: Snapshot) -> None:
        """Fill the snapshot series in this process (no render worker)."""
        self.snapshot.update_from_snapshot(snapshot)
        self._snapshot_text = None

    def set_snapshot_text(self, text: bytes) -> None:
        """Serve the snapshot series as a render worker exposed them (its own SnapshotMetrics)."""
        self._snapshot_text = text

    def set_store_pending(self, rows: int) -> None:
        """Record how many rows the store has buffered (read at scrape time)."""
        self.store_pending.set(rows)

    # --- exposition --------------------------------------------------------------------------------

    def render(self) -> bytes:
        """The Prometheus text exposition of every series (the two registries share no family)."""
        snapshot = self._snapshot_text if self._snapshot_text is not None else self.snapshot.render()
        return generate_latest(self.registry) + self._monitor_text() + snapshot
