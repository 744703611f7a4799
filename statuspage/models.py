"""Value objects shared by every layer: check results, confirmation state, state runs, incidents,
maintenance windows and response-time aggregates.

Times are UTC epoch seconds (float) everywhere behind the public surfaces; they are formatted
in the site's timezone only when shown. Monitors are named by key `page/component/monitor`,
components by `page/component`.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Mapping, MutableSequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

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


# --- times every output can show -------------------------------------------------------------------

ACCEPTED_FROM = 946684800.0
"""2000-01-01T00:00:00Z: the earliest time the API, the CLI and the config accept."""
ACCEPTED_UNTIL = 4102444800.0
"""2100-01-01T00:00:00Z: times from here on are refused (a window "until 9999" is a typo or a probe)."""
_SHOWABLE = (-62135596800.0 + 2 * 86400.0, 253402300799.0 - 2 * 86400.0)
"""Years 1–9999 minus two days each side: what `datetime` can show in any timezone, with room for a
day boundary. A stored time outside it cannot be rendered at all (OverflowError)."""


def accepted_time_problem(at: float) -> str | None:
    """Why `at` (UTC epoch seconds) is refused at the door, or None: not finite, or outside
    [`ACCEPTED_FROM`, `ACCEPTED_UNTIL`) — the years 2000 to 2099."""
    if not math.isfinite(at):
        return "is not a finite time"
    if not ACCEPTED_FROM <= at < ACCEPTED_UNTIL:
        return "is outside the years 2000 to 2099 (UTC)"
    return None


def showable_time(at: float | None) -> bool:
    """True when a stored time (or None) can be shown by every output in any timezone."""
    return at is None or (isinstance(at, int | float) and math.isfinite(at)
                          and _SHOWABLE[0] <= at <= _SHOWABLE[1])


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
    """The earliest expiry (UTC epoch) of the certificates met on the way, redirects included."""
    cert_host: str | None = None
    """The host whose certificate expires at `cert_expires_at`."""
    ended_at: float | None = None
    """When the check finished (UTC epoch); None when it took no time. A check covers [at, ended_at]."""
    location: str = "local"
    """The probe location that made the check (`probe.location`, `statuspage run --location`)."""

    @property
    def end(self) -> float:
        """When the check finished: `ended_at`, or `at` for an instant check."""
        return self.at if self.ended_at is None or self.ended_at < self.at else self.ended_at


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
    rrule: str = ""
    """A recurring window: the RFC 5545 rule (`FREQ=WEEKLY;BYDAY=SU`, see `statuspage.recurrence`);
    `start`/`end` are then its first occurrence, each occurrence lasts `end − start`. "" = one window."""
    timezone: str = ""
    """The zone `rrule` repeats in (wall times), the site's when the window was scheduled."""
    sequence: int = 0
    """iCalendar SEQUENCE: bumped by every change a calendar client must take in (a cancellation)."""
    updated_at: float = 0.0
    """The last change (LAST-MODIFIED), 0 when never changed after `created_at`."""

    @property
    def recurring(self) -> bool:
        """True for a window with an `rrule`."""
        return bool(self.rrule)

    def occurrences(self, lo: float, hi: float) -> list[tuple[float, float]]:
        """The `(start, end)` times (UTC epoch seconds) of the occurrences overlapping [lo, hi), in
        order: the window itself when it does not recur (cancelled or not)."""
        if not self.rrule:
            return [(self.start, self.end)] if self.end > lo and self.start < hi else []
        from statuspage.recurrence import expand

        return expand(self.rrule, self.start, self.end, self.timezone or "UTC", lo, hi)

    def occurrence(self, now: float) -> Maintenance:
        """This window as one plain window: the occurrence in progress at `now`, else the next one,
        else the last one (a window that does not recur is itself)."""
        if not self.rrule:
            return self
        current = self.occurrences(now, now + 1e-6)
        if not current:
            current = self.occurrences(now, now + 400 * 86400.0)[:1]
        if not current:
            from statuspage.recurrence import series_end

            last_end = series_end(self.rrule, self.start, self.end, self.timezone or "UTC") or self.end
            current = [(last_end - (self.end - self.start), last_end)]
        start, end = current[0]
        return replace(self, start=start, end=end, rrule="")

    def covers(self, component: str, at: float) -> bool:
        """True when this window (an occurrence of it, when it recurs) is in force for `component`
        (a component slug) at `at`."""
        if self.cancelled or (self.components and component not in self.components):
            return False
        if not self.rrule:
            return self.start <= at < self.end
        return any(s <= at < e for s, e in self.occurrences(at, at + 1e-6))


@dataclass(frozen=True, slots=True)
class ComponentChange:
    """A component's status before and after an incident update."""

    component: str
    old_status: ComponentStatus
    new_status: ComponentStatus


AutoParam = tuple[str, str | float]


@dataclass(frozen=True, slots=True)
class AutoText:
    """A text statuspage wrote itself, kept as a phrase key and its values so that every locale of
    the site can word it (`incidents.messages` holds the phrases).

    `params` are (name, value) pairs: component slugs and names as text, times as UTC epoch seconds,
    durations as seconds. The stored `message`/`title` beside it is the same text in the default
    locale, for readers that do not translate (notifications, the admin API, the CLI).
    """

    key: str
    params: tuple[AutoParam, ...] = ()

    def param(self, name: str) -> str | float | None:
        """The value of one parameter, or None."""
        return next((v for k, v in self.params if k == name), None)

    def to_data(self) -> dict[str, Any]:
        """A JSON-able form: `{"key": ..., "params": [[name, value], ...]}`."""
        return {"key": self.key, "params": [[k, v] for k, v in self.params]}

    @classmethod
    def from_data(cls, data: Any) -> AutoText:
        """Read `to_data` output back (also after a JSON round trip); ValueError when it is not one."""
        try:
            key, params = data["key"], data["params"]
            pairs = tuple((str(k), v) for k, v in params)
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"not an automatic text: {data!r:.80}") from None
        if not isinstance(key, str) or any(not isinstance(v, str | int | float) or isinstance(v, bool)
                                           for _, v in pairs):
            raise ValueError(f"not an automatic text: {data!r:.80}")
        return cls(key, tuple((k, float(v) if isinstance(v, int) else v) for k, v in pairs))


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
    auto: AutoText | None = None
    """For updates written by statuspage: the message as a phrase key and values (None otherwise)."""


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
    title_auto: AutoText | None = None
    """For automatic incidents: the title as a phrase key and values (None for titles people wrote)."""
    locations: tuple[str, ...] = ()
    """Several probe locations: the locations that saw the outage (empty with one location)."""

    @property
    def is_open(self) -> bool:
        """True until the incident is resolved."""
        return self.status != "resolved"

    def times(self) -> tuple[float | None, ...]:
        """Every time the incident and its timeline carry (to check they can all be shown)."""
        return (self.started_at, self.due_at, self.monitoring_at, self.resolved_at, self.acknowledged_at,
                self.recovered_at, self.created_at, self.updated_at, *(u.at for u in self.updates))

    def breached(self, now: float) -> bool:
        """True when unresolved past `due_at`, or resolved after it."""
        if self.resolved_at is not None:
            return self.resolved_at > self.due_at
        return now > self.due_at


# --- confirmation state and state runs (the prober writes them, the store keeps them) ---------

Confirmed = Literal["up", "down"]


@dataclass(frozen=True, slots=True)
class MonitorState:
    """What a monitor's confirmation knows between checks (persisted so a restart resumes it)."""

    confirmed: Confirmed = "up"
    streak: int = 0
    """Consecutive checks that contradict `confirmed` (down checks while up, good checks while down)."""
    streak_start: float | None = None
    """Time of the first check of that streak: the backdating point."""
    down_since: float | None = None
    """Start of the confirmed outage, while confirmed down."""
    run_state: Outcome = "up"
    """The state the current run records (up, degraded or down)."""
    last_at: float | None = None
    last_outcome: Outcome | None = None
    last_error: str | None = None
    last_message: str = ""
    last_latency_ms: float | None = None
    cert_expires_at: float | None = None
    cert_host: str | None = None
    """Host of the certificate expiring at `cert_expires_at` (a redirect may lead to another host)."""
    last_ended_at: float | None = None
    """When the last check finished; its state holds from then (a hung check covers its wait)."""
    push_at: float | None = None
    """Push monitors: time of the last heartbeat (None: never had one). Survives restarts."""
    push_status: str = "up"
    push_message: str = ""
    push_waiting_since: float | None = None
    """Push monitors that never had a heartbeat: since when the first one is awaited."""
    recovered_at: float | None = None
    """When the last confirmed outage ended (the first good check of the run that confirmed recovery):
    what the leader of several instances dates a recovery by."""
    locations_down: str = ""
    """Several probe locations: the locations confirmed down now, comma-separated (locations/quorum.py;
    a string, so it reads back from JSON exactly as written)."""
    locations_live: str = ""
    """Several probe locations: the locations whose results count now (fresh and healthy), comma-separated."""
    locations_total: int = 0
    """Several probe locations: how many locations probe this monitor (0: one location, the default)."""


@dataclass(slots=True)
class RunRow:
    """A state run as the store holds it; `open` runs still grow with each check."""

    id: int
    monitor: str
    state: Outcome
    start: float
    end: float
    open: bool = True

    def to_run(self, now: float, hold: float) -> StateRun:
        """The covered stretch: an open run's last check holds until now, at most `hold` seconds."""
        end = min(max(now, self.end), self.end + hold) if self.open else self.end
        return StateRun(self.monitor, self.state, self.start, end)


# --- response times --------------------------------------------------------------------------------

LATENCY_EDGES: tuple[float, ...] = tuple(2.0 ** (i / 4) for i in range(65))
"""Bucket upper bounds in ms: 1 ms to 65.536 s, four buckets per doubling (ratio 2^(1/4) ≈ 1.189).

Bucket 0 holds [0, 1] ms, bucket i holds (EDGES[i−1], EDGES[i]], the last one everything above
65.536 s. A percentile is reported as the upper bound of its bucket (capped at the maximum seen),
so it never understates: it overstates the true nearest-rank value by less than 18.93 %, or by at
most 1 ms below 1 ms; in the overflow bucket it is the exact maximum, an upper bound.
"""
_LATENCY_FORMAT = 1  # bumped if the bucket scheme ever changes, so stored hours are not misread
_NO_BUCKETS = bytes(4 * (len(LATENCY_EDGES) + 1))


def _zero_buckets() -> MutableSequence[int]:
    return array("I", _NO_BUCKETS)


@dataclass(slots=True)
class LatencyAggregate:
    """Response times of one monitor-hour (or any merge of them): count, sum, max, log histogram."""

    count: int = 0
    sum_ms: float = 0.0
    max_ms: float = 0.0
    buckets: MutableSequence[int] = field(default_factory=lambda: _zero_buckets())
    """Counts per bucket of LATENCY_EDGES (+1 overflow). A fresh aggregate keeps them in an unsigned
    32-bit array: the prober holds one per monitor for the current hour (264 bytes, not a 584-byte list)."""

    def add(self, latency_ms: float) -> None:
        """Record one response time."""
        if not 0.0 <= latency_ms < math.inf:
            raise ValueError(f"latency must be a finite number of ms >= 0, not {latency_ms}")
        self.count += 1
        self.sum_ms += latency_ms
        self.max_ms = max(self.max_ms, latency_ms)
        self.buckets[bisect_left(LATENCY_EDGES, latency_ms)] += 1

    def merge(self, other: LatencyAggregate) -> None:
        """Add another aggregate into this one (hours into days, monitors into a component)."""
        self.count += other.count
        self.sum_ms += other.sum_ms
        self.max_ms = max(self.max_ms, other.max_ms)
        self.buckets = array("Q", [a + b for a, b in zip(self.buckets, other.buckets, strict=True)])

    def mean(self) -> float | None:
        """Mean response time, None when empty."""
        return self.sum_ms / self.count if self.count else None

    def percentile(self, q: float) -> float | None:
        """Upper bound of the bucket holding the nearest-rank `q` percentile (0 < q ≤ 1); None when empty."""
        if not 0.0 < q <= 1.0:
            raise ValueError(f"q must be within (0, 1], not {q}")
        if not self.count:
            return None
        rank = max(1, math.ceil(q * self.count - 1e-9))  # 0.95 × 100 must stay 95 despite rounding
        seen = 0
        for i, n in enumerate(self.buckets):
            seen += n
            if seen >= rank:
                return min(LATENCY_EDGES[i], self.max_ms) if i < len(LATENCY_EDGES) else self.max_ms
        return self.max_ms  # unreachable while the buckets sum to count

    def p95(self) -> float | None:
        """The 95th percentile, overstated by less than 18.93 % (see LATENCY_EDGES)."""
        return self.percentile(0.95)

    def to_json(self) -> dict[str, Any]:
        """A compact JSON-able form; empty buckets are left out."""
        return {
            "v": _LATENCY_FORMAT,
            "n": self.count,
            "sum": self.sum_ms,
            "max": self.max_ms,
            "b": [[i, n] for i, n in enumerate(self.buckets) if n],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LatencyAggregate:
        """Read `to_json` output back; raise ValueError when it is not one."""
        try:
            if data["v"] != _LATENCY_FORMAT:
                raise ValueError(f"unknown latency aggregate format {data['v']!r}")
            agg = cls(count=int(data["n"]), sum_ms=float(data["sum"]), max_ms=float(data["max"]))
            for i, n in data["b"]:
                if not 0 <= int(i) < len(agg.buckets) or int(n) < 0:
                    raise ValueError(f"bad bucket {[i, n]!r}")
                agg.buckets[int(i)] += int(n)
        except (KeyError, TypeError, OverflowError) as exc:
            raise ValueError(f"not a latency aggregate: {exc}") from None
        if sum(agg.buckets) != agg.count:
            raise ValueError("bucket counts do not add up to the count")
        return agg


# --- support cases (statuspage.support computes them, the store keeps them) --------------------------

Channel = Literal["chat", "whatsapp", "email", "phone"]
"""Where a support case was opened (Track's SLA: chat, WhatsApp, e-mail, phone)."""
CHANNELS: tuple[Channel, ...] = ("chat", "whatsapp", "email", "phone")

CaseEventKind = Literal[
    "opened", "first_response", "triaged", "severity", "waiting", "resumed", "resolved", "reopened"
]
"""What can happen to a case. `waiting`/`resumed` bracket time waiting on the customer."""
CASE_EVENT_KINDS: tuple[CaseEventKind, ...] = (
    "opened", "first_response", "triaged", "severity", "waiting", "resumed", "resolved", "reopened",
)

CaseOutcome = Literal[
    "solved", "works_as_expected", "feature_request", "cannot_reproduce", "third_party", "not_supported"
]
"""How a case ended, in the order of Track's SLA ("Resolvendo seu caso")."""
CASE_OUTCOMES: tuple[CaseOutcome, ...] = (
    "solved", "works_as_expected", "feature_request", "cannot_reproduce", "third_party", "not_supported",
)

CaseAlertKind = Literal[
    "first_response.warning", "first_response.breached", "resolution.warning", "resolution.breached"
]
CASE_ALERT_KINDS: tuple[CaseAlertKind, ...] = (
    "first_response.warning", "first_response.breached", "resolution.warning", "resolution.breached",
)


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One thing that happened to a support case, as a helpdesk, an engineer or the CLI reported it.

    `(case_id, event_id)` is unique: the same event delivered twice is stored once. `case_id` is the
    helpdesk's opaque id; no message text and no customer identity are ever kept (LGPD). `channel` and
    `page` are set on `opened` events, `severity` on `severity` events, `outcome` on `resolved` events.
    """

    case_id: str
    event_id: str
    kind: CaseEventKind
    at: float
    channel: Channel | None = None
    page: str | None = None
    severity: Severity | None = None
    outcome: CaseOutcome | None = None
    recorded_at: float = 0.0


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A case's derived figures, recomputed from all its events whenever one arrives (pure clocks).

    Durations are seconds of the clock that applies (business seconds where the channel has business
    hours, minus waiting-on-customer time for triage and resolution); `*_due_at` / `*_warn_at` are the
    instants the limit / the alert lead is reached, None once answered or resolved or while the clock
    is paused. `month` is `YYYY-MM` of `opened_at` in the site timezone. `events` counts the events the
    row was computed from (a writer that saw fewer never overwrites one that saw more).
    """

    case_id: str
    channel: Channel
    page: str | None
    month: str
    opened_at: float
    first_response_at: float | None = None
    first_response_s: float | None = None
    first_response_limit_s: float = 0.0
    first_response_due_at: float | None = None
    first_response_warn_at: float | None = None
    first_response_within: bool | None = None
    triaged_at: float | None = None
    triage_s: float | None = None
    severity: Severity | None = None
    severity_changes: tuple[tuple[float, Severity], ...] = ()
    waiting: bool = False
    waiting_s: float = 0.0
    resolved_at: float | None = None
    resolution_s: float | None = None
    resolution_limit_s: float | None = None
    resolution_due_at: float | None = None
    resolution_warn_at: float | None = None
    resolution_within: bool | None = None
    outcome: CaseOutcome | None = None
    events: int = 0
    updated_at: float = 0.0

    @property
    def is_open(self) -> bool:
        """True until resolved (a reopened case is open again)."""
        return self.resolved_at is None


@dataclass(frozen=True, slots=True)
class CaseAlert:
    """A case about to breach (`*.warning`, at the alert lead) or past (`*.breached`) one of its limits."""

    case_id: str
    kind: CaseAlertKind
    channel: Channel
    page: str | None
    severity: Severity | None
    opened_at: float
    due_at: float
    limit_s: float
    at: float
    """When the alert was raised."""

    @property
    def event(self) -> str:
        """The notification event name: `case.first_response.warning`, `case.resolution.breached`, …"""
        return f"case.{self.kind}"


@dataclass(frozen=True, slots=True)
class ChannelMonthTotals:
    """First-response sums of one channel in one month, as the database aggregates them."""

    month: str
    channel: str
    cases: int
    answered: int
    within: int
    overdue: int
    """Not answered and already past the limit (judged as missed)."""
    first_response_sum: float
    first_response_median: float | None


@dataclass(frozen=True, slots=True)
class SeverityMonthTotals:
    """Resolution sums of one current severity in one month."""

    month: str
    severity: str
    cases: int
    resolved: int
    within: int
    overdue: int
    resolution_sum: float


@dataclass(frozen=True, slots=True)
class SupportTotals:
    """Everything the published support indicators are computed from (one query set, aggregates only)."""

    channels: tuple[ChannelMonthTotals, ...] = ()
    triage: tuple[tuple[str, int, float], ...] = ()
    """(month, triaged cases, sum of triage seconds)."""
    severities: tuple[SeverityMonthTotals, ...] = ()
    outcomes: tuple[tuple[str, str, int], ...] = ()
    """(month, outcome, resolved cases)."""
