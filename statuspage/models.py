"""Value objects shared by every module: check results, state runs, incidents, maintenance windows.

Times are UTC epoch seconds (float) everywhere behind the public surfaces; they are formatted
in the site's timezone only when shown. Monitors are named by key `page/component/monitor`,
components by `page/component`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["up", "degraded", "down"]
"""What one check found. `degraded` is up but slow (over `degraded_after`)."""

ComponentStatus = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]
"""Statuspage's component status enum."""

IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved"]
"""Statuspage's incident status enum (realtime incidents)."""

Impact = Literal["none", "minor", "major", "critical"]
"""Statuspage's impact / page-indicator enum."""

Severity = Literal["T1", "T2", "T3", "T4"]
"""Track's SLA severity classes."""

SEVERITY_IMPACT: dict[str, Impact] = {"T1": "critical", "T2": "major", "T3": "minor", "T4": "none"}
INCIDENT_STATUSES: tuple[IncidentStatus, ...] = ("investigating", "identified", "monitoring", "resolved")
COMPONENT_STATUSES: tuple[ComponentStatus, ...] = (
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance",
)


def monitor_key(page: str, component: str, monitor: str) -> str:
    """Return the key that names one monitor everywhere (store, metrics, logs)."""
    return f"{page}/{component}/{monitor}"


def component_key(page: str, component: str) -> str:
    """Return the key that names one component."""
    return f"{page}/{component}"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check of one monitor. A check never raises: every failure becomes one of these."""

    monitor: str
    at: float
    outcome: Outcome
    latency_ms: float | None = None
    status: int | None = None
    error: str | None = None
    """Error class: dns, connect, tls, timeout, http_status, body_mismatch, push_missing, ..."""
    message: str = ""
    cert_expires_at: float | None = None


@dataclass(frozen=True, slots=True)
class StateRun:
    """A stretch of time [start, end) during which a monitor held one confirmed state.

    `state` is `up`, `degraded` or `down`. Time not covered by any run is no data.
    """

    monitor: str
    state: Outcome
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Maintenance:
    """A scheduled maintenance window on a page; empty `components` means the whole page."""

    id: int
    page: str
    title: str
    start: float
    end: float
    components: tuple[str, ...] = ()
    message: str = ""
    created_at: float = 0.0
    created_by: str = ""
    cancelled: bool = False

    def covers(self, component: str, at: float) -> bool:
        """True when this window is in force for `component` (a component slug) at `at`."""
        return (
            not self.cancelled
            and self.start <= at < self.end
            and (not self.components or component in self.components)
        )


@dataclass(frozen=True, slots=True)
class ComponentChange:
    """A component's status before and after an incident update."""

    component: str
    old_status: ComponentStatus
    new_status: ComponentStatus


@dataclass(frozen=True, slots=True)
class IncidentUpdate:
    """One entry of an incident's timeline."""

    id: int
    incident_id: int
    status: IncidentStatus
    message: str
    at: float
    author: str = ""
    components: tuple[ComponentChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident on one page, with its SLA severity, deadline and timeline."""

    id: int
    page: str
    title: str
    severity: Severity
    impact: Impact
    status: IncidentStatus
    started_at: float
    due_at: float
    components: tuple[str, ...] = ()
    automatic: bool = False
    monitoring_at: float | None = None
    resolved_at: float | None = None
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None
    recovered_at: float | None = None
    """For automatic incidents: when every affected component last recovered (None while down)."""
    postmortem: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    updates: tuple[IncidentUpdate, ...] = field(default=())

    @property
    def is_open(self) -> bool:
        """True until the incident is resolved."""
        return self.status != "resolved"

    def breached(self, now: float) -> bool:
        """True when unresolved past `due_at`, or resolved after it."""
        if self.resolved_at is not None:
            return self.resolved_at > self.due_at
        return now > self.due_at
