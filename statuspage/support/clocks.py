"""The support clocks: a case's events folded into its state, and the state into its SLA figures (pure).

Folding is order-free: events are sorted by (time, kind, event id) before they are read, and every
rule takes a minimum or walks that order, so the same set of events gives the same case however
late, twice or shuffled they arrived.

The rules (helpdesk conventions, as Zendesk's and Freshdesk's SLA policies):

- **opened**: the earliest `opened` event; its channel and page.
- **first response**: the earliest `first_response` event, measured from opening on the channel's
  calendar (business hours when it has them). Waiting on the customer does not pause it: nobody
  has answered yet. Limit: `support.channels.<channel>.first_response`.
- **triage** (steps 1 and 2): the earliest `triaged` event, measured from opening on the resolution
  clock minus waiting time; it has an average target (`support.triage_average`), no limit.
- **resolution**: measured from opening to the final `resolved` on the resolution clock
  (`support.resolution_clock`: around the clock, or the channel's business hours), minus time
  waiting on the customer (`waiting` → `resumed`) and time between a `resolved` and a later
  `reopened`. The limit is the **current** severity's `sla.severities.<T>.limit`, measured from
  opening, as helpdesks recompute a target when a ticket's priority changes; every change is kept
  with its time (`severity_changes`). A case with no severity has no resolution limit yet.
- a `resolved` while already resolved only corrects the outcome; `waiting` while waiting, `resumed`
  while not waiting and `reopened` while open change nothing.

Deadlines (`*_due_at`) and alert instants (`*_warn_at`, at `support.alert_lead` of the limit) are
the instants the clock reaches them if nothing else happens; None once met, or while the
resolution clock is paused (waiting on the customer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from statuspage.config import Config, Support
from statuspage.models import CASE_EVENT_KINDS, CaseEvent, CaseOutcome, CaseRow, Channel, Severity
from statuspage.support.calendar import BusinessCalendar

__all__ = ["CaseState", "Clocks", "NoOpening", "fold"]

_ORDER = {kind: i for i, kind in enumerate(CASE_EVENT_KINDS)}


class NoOpening(ValueError):
    """A case's events hold no `opened` event (it cannot be measured)."""


@dataclass(frozen=True, slots=True)
class CaseState:
    """What a case's events say happened (no targets applied yet)."""

    case_id: str
    channel: Channel
    page: str | None
    opened_at: float
    first_response_at: float | None
    triaged_at: float | None
    severity_changes: tuple[tuple[float, Severity], ...]
    pauses: tuple[tuple[float, float | None], ...]
    """Stretches the resolution clock stood still, in order; the last may still be open (end None)."""
    resolved_at: float | None
    outcome: CaseOutcome | None
    events: int

    @property
    def severity(self) -> Severity | None:
        """The current severity: the latest change."""
        return self.severity_changes[-1][1] if self.severity_changes else None

    @property
    def waiting(self) -> bool:
        """True while waiting on the customer (an open pause on an open case)."""
        return bool(self.pauses) and self.pauses[-1][1] is None


def fold(events: Iterable[CaseEvent]) -> CaseState:
    """One case's events → its state, independent of the order they arrived in and of repeats.

    Raises NoOpening when no `opened` event is among them."""
    ordered = []
    seen: set[str] = set()
    for e in sorted(events, key=lambda e: (e.at, _ORDER[e.kind], e.event_id)):
        if e.event_id not in seen:  # a repeat of an event counts once, as in the store
            seen.add(e.event_id)
            ordered.append(e)
    opened = [e for e in ordered if e.kind == "opened"]
    if not opened:
        raise NoOpening("the case has no opened event")
    first = opened[0]
    assert first.channel is not None
    opened_at = first.at

    def earliest(kind: str) -> float | None:
        found = [e.at for e in ordered if e.kind == kind]
        return max(opened_at, found[0]) if found else None  # a clock never runs backwards

    severities = tuple((max(opened_at, e.at), e.severity) for e in ordered
                       if e.kind == "severity" and e.severity is not None)
    pauses: list[tuple[float, float | None]] = []
    waiting_since: float | None = None
    resolved_at: float | None = None
    outcome: CaseOutcome | None = None
    for e in ordered:
        at = max(opened_at, e.at)
        if e.kind == "waiting" and resolved_at is None and waiting_since is None:
            waiting_since = at
        elif e.kind == "resumed" and waiting_since is not None:
            pauses.append((waiting_since, at))
            waiting_since = None
        elif e.kind == "resolved":
            if resolved_at is None:
                if waiting_since is not None:
                    pauses.append((waiting_since, at))
                    waiting_since = None
                resolved_at = at
            outcome = e.outcome or outcome
        elif e.kind == "reopened" and resolved_at is not None:
            pauses.append((resolved_at, at))
            resolved_at = None
    if waiting_since is not None:
        pauses.append((waiting_since, None))
    return CaseState(
        case_id=first.case_id, channel=first.channel, page=first.page, opened_at=opened_at,
        first_response_at=earliest("first_response"), triaged_at=earliest("triaged"),
        severity_changes=severities, pauses=tuple(pauses), resolved_at=resolved_at,
        outcome=outcome if resolved_at is not None else None, events=len(ordered),
    )


class Clocks:
    """The SLA figures of cases under one config: calendars per channel, limits, alert lead."""

    def __init__(self, config: Config) -> None:
        support = config.support
        if support is None:
            raise ValueError("support is not configured (support.channels)")
        self.support: Support = support
        self.severities = config.sla.severities
        self.zone = ZoneInfo(config.site.timezone)
        self.calendars: Mapping[str, BusinessCalendar] = {
            name: BusinessCalendar(config.site.timezone, channel.business_hours, support.holidays)
            for name, channel in support.channels.items()
        }
        self._always = BusinessCalendar(config.site.timezone)

    def calendar(self, channel: str) -> BusinessCalendar:
        """The first-response calendar of a channel (around the clock for an unconfigured one)."""
        return self.calendars.get(channel, self._always)

    def resolution_calendar(self, channel: str) -> BusinessCalendar:
        """The calendar triage and resolution run on."""
        return self.calendar(channel) if self.support.resolution_clock == "business" else self._always

    def month(self, at: float) -> str:
        """`YYYY-MM` of an instant in the site timezone."""
        return datetime.fromtimestamp(at, self.zone).strftime("%Y-%m")

    def figures(self, state: CaseState, now: float = 0.0) -> CaseRow:
        """The case's derived figures (`now` only stamps `updated_at`: the figures depend on events alone)."""
        channel = self.support.channels.get(state.channel)
        cal = self.calendar(state.channel)
        rcal = self.resolution_calendar(state.channel)
        lead = self.support.alert_lead
        opened = state.opened_at

        fr_limit = channel.first_response if channel is not None else 0.0
        fr_s = fr_due = fr_warn = None
        fr_within: bool | None = None
        if state.first_response_at is not None:
            fr_s = cal.seconds(opened, state.first_response_at)
            fr_within = fr_s <= fr_limit if channel is not None else None
        elif channel is not None:
            fr_due, fr_warn = cal.add(opened, fr_limit), cal.add(opened, lead * fr_limit)

        closed = [(a, b) for a, b in state.pauses if b is not None]
        triage_s = None
        if state.triaged_at is not None:
            triage_s = _active(rcal, opened, state.triaged_at, closed)

        severity = state.severity
        limit = self.severities[severity].limit if severity is not None else None
        res_s = res_due = res_warn = None
        res_within: bool | None = None
        if state.resolved_at is not None:
            res_s = _active(rcal, opened, state.resolved_at, closed)
            res_within = None if limit is None else res_s <= limit
        elif limit is not None and not state.waiting:
            res_due = _reach(rcal, opened, limit, closed)
            res_warn = _reach(rcal, opened, lead * limit, closed)
        waiting_s = sum(rcal.seconds(a, b) for a, b in closed)
        return CaseRow(
            case_id=state.case_id, channel=state.channel, page=state.page, month=self.month(opened),
            opened_at=opened, first_response_at=state.first_response_at, first_response_s=fr_s,
            first_response_limit_s=fr_limit, first_response_due_at=fr_due, first_response_warn_at=fr_warn,
            first_response_within=fr_within, triaged_at=state.triaged_at, triage_s=triage_s,
            severity=severity, severity_changes=state.severity_changes, waiting=state.waiting,
            waiting_s=waiting_s, resolved_at=state.resolved_at, resolution_s=res_s, resolution_limit_s=limit,
            resolution_due_at=res_due, resolution_warn_at=res_warn, resolution_within=res_within,
            outcome=state.outcome, events=state.events, updated_at=now,
        )


def _active(cal: BusinessCalendar, start: float, end: float, pauses: list[tuple[float, float]]) -> float:
    """Calendar seconds in [start, end) outside the pauses."""
    total = cal.seconds(start, end)
    for a, b in pauses:
        lo, hi = max(a, start), min(b, end)
        if hi > lo:
            total -= cal.seconds(lo, hi)
    return max(0.0, total)


def _reach(cal: BusinessCalendar, start: float, seconds: float, pauses: list[tuple[float, float]]) -> float:
    """The instant the clock started at `start` and stopped during `pauses` reaches `seconds`."""
    cur, left = start, seconds
    for a, b in pauses:
        if b <= cur:
            continue
        run = cal.seconds(cur, a) if a > cur else 0.0
        if run >= left:
            return cal.add(cur, left)
        left -= run
        cur = max(cur, b)
    return cal.add(cur, left)
