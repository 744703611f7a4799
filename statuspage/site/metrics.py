"""The Prometheus series computed from a site snapshot: statuses, uptime, error budgets, incidents.

    statuspage_component_status{page,component,status}         enum gauge: 1 for the current status
    statuspage_page_status{page,indicator}                     enum gauge of the page indicator
    statuspage_uptime_ratio{page,component,window}             gauge, window 24h/7d/30d/90d
    statuspage_error_budget_remaining_seconds{page,component}  gauge, rolling 30 days
    statuspage_incidents_open{page,severity}                   gauge
    statuspage_incidents_unacknowledged{page,severity}         gauge
    statuspage_cert_expiry_timestamp_seconds{page,component,monitor}  gauge, https certificate's notAfter
    statuspage_support_*                                       support cases (site/support_view.py)

They are filled wherever the snapshot is taken (the render worker process, beside the site it writes)
and handed to the live server as exposition text; `statuspage.web.metrics` serves them with the
per-check series.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from statuspage.models import COMPONENT_STATUSES, Incident
from statuspage.site.snapshot import Snapshot, UptimeView
from statuspage.site.support_view import support_metric_lines

WINDOWS: tuple[str, ...] = ("24h", "7d", "30d", "90d")
INDICATORS: tuple[str, ...] = ("none", "minor", "major", "critical")
SEVERITIES: tuple[str, ...] = ("T1", "T2", "T3", "T4")


def escape_label(value: str) -> str:
    """A label value escaped for the text exposition format."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


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
        self.locations: dict[tuple[str, str, str], tuple[int, int]] = {}
        """Several probe locations: (page, component, monitor) → (locations down, locations counting)."""
        self.support: list[str] = []

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
        self.support = support_metric_lines(snapshot)
        self.cert_expiry = {
            (page.slug, comp.slug, mon.key.rpartition("/")[2]): mon.cert_expires_at
            for page in snapshot.pages for comp in page.components for mon in comp.monitors
            if mon.cert_expires_at is not None
        }
        self.locations = {
            (page.slug, comp.slug, mon.key.rpartition("/")[2]): (
                len([x for x in mon.state.locations_down.split(",") if x]),
                len([x for x in mon.state.locations_live.split(",") if x]))
            for page in snapshot.pages for comp in page.components for mon in comp.monitors
            if mon.state is not None and mon.state.locations_total
        }

    def _set_uptime_view(self, page: str, component: str, view: UptimeView) -> None:
        self.set_uptime(page, component, {w: view.ratio(w) for w in WINDOWS if w in view.windows})
        budget = view.budget_30d
        self.set_budget(page, component, None if budget.window.uptime is None else budget.remaining)

    def render(self) -> bytes:
        """The exposition text of these series."""
        def pc(page: str, comp: str) -> str:
            return f'page="{escape_label(page)}",component="{escape_label(comp)}"'

        lines: list[str] = []

        def family(name: str, help_text: str, rows: Iterable[str]) -> None:
            lines.extend((f"# HELP {name} {help_text}", f"# TYPE {name} gauge"))
            lines.extend(f"{name}{row}" for row in rows)

        family("statuspage_component_status", "1 for the component's current status, 0 for the others.",
               (f'{{{pc(p, c)},status="{s}"}} {int(s == now)}'
                for (p, c), now in self.component_status.items() for s in COMPONENT_STATUSES))
        family("statuspage_page_status", "1 for the page's current indicator, 0 for the others.",
               (f'{{page="{escape_label(p)}",indicator="{i}"}} {int(i == now)}'
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
            family(name, help_text, (f'{{page="{escape_label(p)}",severity="{escape_label(s)}"}} {n}'
                                     for (p, s), n in counts.items()))
        family("statuspage_cert_expiry_timestamp_seconds",
               "When the TLS certificate an https monitor last saw expires (Unix time).",
               (f'{{{pc(p, c)},monitor="{escape_label(m)}"}} {_number(v)}'
                for (p, c, m), v in self.cert_expiry.items()))
        if self.locations:  # several probe locations only: where locations disagree, engineers see it
            family("statuspage_monitor_locations_down",
                   "Probe locations that have the monitor confirmed down now (the quorum decides).",
                   (f'{{{pc(p, c)},monitor="{escape_label(m)}"}} {down}'
                    for (p, c, m), (down, _) in self.locations.items()))
            family("statuspage_monitor_locations_live",
                   "Probe locations whose results for the monitor count now (fresh and healthy).",
                   (f'{{{pc(p, c)},monitor="{escape_label(m)}"}} {live}'
                    for (p, c, m), (_, live) in self.locations.items()))
        lines.extend(self.support)
        return ("\n".join(lines) + "\n").encode()
