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
    statuspage_cluster_leader                                  gauge, 1 while this instance leads (always
                                                               with SQLite)
    statuspage_cluster_monitors_probed                         gauge, monitors this instance probes now
    statuspage_cert_expiry_timestamp_seconds{page,component,monitor}  gauge, https certificate's notAfter

Page-level figures use `component=""` (in PromQL an empty label equals an absent one, so
`statuspage_uptime_ratio{component=""}` selects pages). A figure with no data (no coverage in its
window) has no series rather than a made-up value.

Cost at scale: the per-monitor series and the snapshot series are plain numbers formatted straight
into exposition text (one f-string a sample; prometheus_client's generic formatting took 1.8 s of the
event loop per scrape at 20,000 monitors); the snapshot series are computed by the render worker
process (`statuspage.site.metrics.SnapshotMetrics`) and reach this process as text.

The check-duration histogram is labelled by page only: at 20,000 monitors a per-monitor histogram
would be ~300,000 series. Per-monitor detail lives in the counters and `statuspage_monitor_up`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.process_collector import ProcessCollector

from statuspage.site.metrics import SnapshotMetrics, escape_label
from statuspage.site.snapshot import Snapshot

if TYPE_CHECKING:  # only for annotations: the hot path needs nothing from the prober
    from statuspage.probe.scheduler import CheckEvent

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The Content-Type of `Metrics.render()`'s output."""

OUTCOMES: tuple[str, ...] = ("up", "degraded", "down")

LAG_BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)
DURATION_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)


class _Gate(Protocol):
    """What the metrics read of a web/limits.py ConnectionGate."""

    server: Any
    evicted: int
    refused: int
    timed_out: int


class _Observe(Protocol):
    def observe(self, amount: float) -> None: ...


CHECKS_HELP = "Checks run, by monitor and outcome."
UP_HELP = "Confirmed state of a monitor: 1 up (or degraded), 0 down."


@dataclass(slots=True)
class _MonitorSeries:
    """One monitor's per-check series as plain numbers, with their escaped labels built once.

    prometheus_client formats ~45,000 samples a second; at 20,000 monitors its exposition of these
    80,000 series (plus a `_created` sample each) took 1.8 s of the event loop per scrape, which is
    a 1.8 s schedule lag for every check due meanwhile. Formatting them here is one f-string each.
    One labels string a monitor, not a prefix a sample: 4 prefixes were ~600 bytes a monitor."""

    labels: str
    up_count: int
    degraded_count: int
    down_count: int
    up: int
    duration: _Observe

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
            "statuspage_schedule_lag_seconds", "Actual start of a check minus the intended start of that "
            "run (a run standing in for skipped slots is late since the first of them).",
            buckets=LAG_BUCKETS, registry=r,
        )
        self.store_pending = Gauge(
            "statuspage_store_pending_rows", "Check rows buffered for the next database flush.", registry=r,
        )
        self.cluster_leader = Gauge(
            "statuspage_cluster_leader", "1 while this instance is the leader (always with SQLite).",
            registry=r,
        )
        self.cluster_probed = Gauge(
            "statuspage_cluster_monitors_probed", "Monitors this instance probes now.", registry=r,
        )
        self.store_dropped = Counter(
            "statuspage_store_dropped_rows", "Raw results dropped (oldest first) because the database "
            "could not be written for so long that the buffer passed its cap.", registry=r,
        )
        self._dropped_seen = 0
        self.rate_limited = Counter(
            "statuspage_http_rate_limited", "Requests answered 429, by limit (push, auth).", ["kind"],
            registry=r,
        )
        self.skipped = Counter(
            "statuspage_checks_skipped", "Scheduled checks that gave no result, by reason: late (the "
            "scheduler merged or skipped runs), local (the prober's machine was short of resources).",
            ["reason"], registry=r,
        )
        self.pushes = Counter(
            "statuspage_pushes", "Heartbeats accepted at /api/push/, by reported status.", ["status"],
            registry=r,
        )
        if process_metrics:
            ProcessCollector(registry=r)
        self._monitors: dict[str, _MonitorSeries] = {}
        self._gates: list[_Gate] = []
        self.snapshot = SnapshotMetrics()
        self._snapshot_text: bytes | None = None

    # --- per check (hot path) ----------------------------------------------------------------------

    def _series(self, key: str) -> _MonitorSeries:
        page, _, rest = key.partition("/")
        component, _, monitor = rest.partition("/")
        labels = (f'page="{escape_label(page)}",component="{escape_label(component)}",'
                  f'monitor="{escape_label(monitor)}"')
        series = _MonitorSeries(labels, 0, 0, 0, 1, self.check_duration.labels(page))
        self._monitors[key] = series
        return series

    def observe_check(self, event: CheckEvent) -> None:
        """Count one check, its duration and schedule lag; called for every check, so kept cheap."""
        result = event.result
        series = self._monitors.get(result.monitor) or self._series(result.monitor)
        outcome = result.outcome
        if outcome == "up":
            series.up_count += 1
        elif outcome == "degraded":
            series.degraded_count += 1
        elif outcome == "down":
            series.down_count += 1
        series.duration.observe(max(event.duration, 0.0))
        self.schedule_lag.observe(max(event.lag, 0.0))
        series.up = 0 if event.state.confirmed == "down" else 1

    def _monitor_text(self) -> bytes:
        return b"".join(self._monitor_chunks(len(self._monitors) + 1))

    def _monitor_chunks(self, size: int) -> Iterator[bytes]:
        """The per-monitor series' exposition, `size` monitors' lines at a time."""
        series = list(self._monitors.values())
        yield (f"# HELP statuspage_checks_total {CHECKS_HELP}\n"
               "# TYPE statuspage_checks_total counter\n").encode()
        for start in range(0, len(series), size):
            lines = []
            for s in series[start:start + size]:
                lines.append(f'statuspage_checks_total{{{s.labels},outcome="up"}} {s.up_count}\n'
                             f'statuspage_checks_total{{{s.labels},outcome="degraded"}} {s.degraded_count}\n'
                             f'statuspage_checks_total{{{s.labels},outcome="down"}} {s.down_count}\n')
            yield "".join(lines).encode()
        yield f"# HELP statuspage_monitor_up {UP_HELP}\n# TYPE statuspage_monitor_up gauge\n".encode()
        for start in range(0, len(series), size):
            yield "".join([f"statuspage_monitor_up{{{s.labels}}} {s.up}\n"
                           for s in series[start:start + size]]).encode()

    # --- from a snapshot (every render) ------------------------------------------------------------

    def update_from_snapshot(self, snapshot: Snapshot) -> None:
        """Fill the snapshot series in this process (no render worker)."""
        self.snapshot.update_from_snapshot(snapshot)
        self._snapshot_text = None

    def set_snapshot_text(self, text: bytes) -> None:
        """Serve the snapshot series as a render worker exposed them (its own SnapshotMetrics)."""
        self._snapshot_text = text

    def set_cluster(self, leader: bool, probed: int) -> None:
        """Record whether this instance leads and how many monitors it probes."""
        self.cluster_leader.set(1 if leader else 0)
        self.cluster_probed.set(probed)

    def watch_connections(self, gate: _Gate) -> None:
        """Export a server's connection counts (web/limits.py `ConnectionGate`) at every scrape."""
        self._gates.append(gate)

    def _connection_text(self) -> bytes:
        if not self._gates:
            return b""
        open_now = sum(len(g.server.connections) for g in self._gates)
        closed = {r: sum(getattr(g, r) for g in self._gates) for r in ("evicted", "refused", "timed_out")}
        lines = ["# HELP statuspage_http_connections Connections the server holds now.",
                 "# TYPE statuspage_http_connections gauge", f"statuspage_http_connections {open_now}",
                 "# HELP statuspage_http_connections_shed_total Connections closed to stay within the "
                 "limits: idle ones displaced at the cap, newcomers refused when all were busy, requests "
                 "past request_timeout.", "# TYPE statuspage_http_connections_shed_total counter"]
        lines += [f'statuspage_http_connections_shed_total{{reason="{r}"}} {n}' for r, n in closed.items()]
        return ("\n".join(lines) + "\n").encode()

    def count_skipped(self, reason: str, count: int = 1) -> None:
        """Count scheduled checks that gave no result (`late`, `local`)."""
        self.skipped.labels(reason).inc(count)

    def count_push(self, status: str) -> None:
        """Count one accepted heartbeat (`up` or `down`)."""
        self.pushes.labels(status).inc()

    def count_rate_limited(self, kind: str) -> None:
        """Count one request refused by a rate limit (`push` or `auth`)."""
        self.rate_limited.labels(kind).inc()

    def set_store_pending(self, rows: int) -> None:
        """Record how many rows the store has buffered (read at scrape time)."""
        self.store_pending.set(rows)

    def set_store_dropped(self, rows: int) -> None:
        """Record how many raw results the store dropped so far (the store's own running count)."""
        if rows > self._dropped_seen:
            self.store_dropped.inc(rows - self._dropped_seen)
            self._dropped_seen = rows

    # --- exposition --------------------------------------------------------------------------------

    def render(self) -> bytes:
        """The Prometheus text exposition of every series (the two registries share no family)."""
        snapshot = self._snapshot_text if self._snapshot_text is not None else self.snapshot.render()
        return generate_latest(self.registry) + self._monitor_text() + self._connection_text() + snapshot

    async def render_async(self, slice_monitors: int = 2000) -> bytes:
        """`render()`, handing the event loop back every `slice_monitors` monitors' lines: at 50,000
        monitors the exposition is 16 MB, and built in one go it held every check due meanwhile."""
        parts = [generate_latest(self.registry)]
        for chunk in self._monitor_chunks(slice_monitors):
            parts.append(chunk)
            await asyncio.sleep(0)
        snapshot = self._snapshot_text if self._snapshot_text is not None else self.snapshot.render()
        parts += [self._connection_text(), snapshot]
        return b"".join(parts)
