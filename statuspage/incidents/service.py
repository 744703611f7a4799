"""Incidents: the automatic T1 policy, the engineers' lifecycle, acknowledgement, deadlines, maintenance.

The decisions are pure functions of (incident, facts, now) → (incident, update); `IncidentService`
reads the store, applies them, writes the result in one transaction and notifies. Every error an
engineer can cause is an `IncidentError`:

    IncidentError
    ├── NotFound            unknown incident or maintenance id        (HTTP 404)
    ├── BadTransition       e.g. updating a resolved incident          (HTTP 409)
    │   └── AlreadyAcknowledged  another engineer acknowledged it first  (HTTP 409)
    └── BadInput            what was sent is wrong                     (HTTP 400)
        ├── UnknownPage
        ├── UnknownComponent
        ├── BadSeverity
        ├── BadWindow       maintenance ending before it starts, ...
        └── BadTime         a time no output could show (field: which one)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from statuspage.config import Config, Page
from statuspage.durations import format_duration
from statuspage.incidents.messages import auto_text, word
from statuspage.incidents.outages import (
    HoldForMaintenance,
    MarkRecovered,
    OpenIncident,
    OutageAction,
    outage_start_after_maintenance,
)
from statuspage.models import (
    INCIDENT_STATUSES,
    SEVERITY_IMPACT,
    AutoText,
    ComponentChange,
    ComponentStatus,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    Maintenance,
    Severity,
    accepted_time_problem,
)
from statuspage.store import Store

log = logging.getLogger(__name__)
events = logging.getLogger("statuspage.events")
"""The operator's story (incidents opened, acknowledged, resolved, ...): shown by `run` and `demo`."""

SYSTEM_AUTHOR = "statuspage"
MAX_TITLE = 200
MAX_MESSAGE = 5000
MAX_AUTHOR = 80
MAX_UPDATES = 500
"""Updates an engineer may post to one incident (resolving it is always allowed): every page that
shows the incident stays bounded."""


class IncidentError(Exception):
    """Something an engineer asked for cannot be done; the message says why."""


class NotFound(IncidentError):
    """No incident or maintenance window with that id."""


class BadTransition(IncidentError):
    """The incident cannot move to that status from where it is."""


class AlreadyAcknowledged(BadTransition):
    """Another engineer acknowledged the incident first; the first acknowledgement stands."""

    def __init__(self, incident: Incident, tz: str) -> None:
        self.incident = incident
        self.tz = tz
        when = _local(incident.acknowledged_at or 0.0, tz, "%Y-%m-%d %H:%M:%S")
        super().__init__(f"incident {incident.id} is already acknowledged by {incident.acknowledged_by} "
                         f"since {when} ({tz})")


class BadInput(IncidentError):
    """A value sent is not acceptable."""


class UnknownPage(BadInput):
    """No page with that slug."""


class UnknownComponent(BadInput):
    """No component with that slug on the page."""


class BadSeverity(BadInput):
    """Not one of T1–T4."""


class BadWindow(BadInput):
    """A maintenance window that ends before it starts, or is already over."""


class BadTime(BadInput):
    """A time no output could show (outside the years 2000–2099, or not finite); `field` names it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class Notify(Protocol):
    """Where incident events go (the Notifier); must not block."""

    def notify(self, event: str, incident: Incident) -> None: ...


Preflight = Callable[[Incident], object]
"""Called with an incident just before it is written; raising stops the write."""

StatusOf = Callable[[str, str], ComponentStatus]
"""(page, component) → the component's live status."""

TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    "investigating": frozenset(INCIDENT_STATUSES),
    "identified": frozenset(INCIDENT_STATUSES),
    "monitoring": frozenset(INCIDENT_STATUSES),
    "resolved": frozenset(),
}
"""Forward moves and steps back are allowed while open; nothing follows `resolved`."""

# --- pure policy ---------------------------------------------------------------------------------


def due_at(config: Config, severity: Severity, started_at: float) -> float:
    """The SLA deadline: start + the severity's resolution limit."""
    return started_at + config.sla.severities[severity].limit


def check_transition(incident: Incident, status: IncidentStatus) -> None:
    """Raise BadTransition unless `incident` may move to `status`."""
    if status not in INCIDENT_STATUSES:
        raise BadInput(f'status "{status}" is not one of {", ".join(INCIDENT_STATUSES)}')
    if status not in TRANSITIONS[incident.status]:
        raise BadTransition(f"incident {incident.id} is {incident.status}; it cannot move to {status}")


def apply_update(
    incident: Incident, status: IncidentStatus, message: str, author: str, now: float,
    changes: Sequence[ComponentChange] = (), auto: AutoText | None = None,
) -> tuple[Incident, IncidentUpdate]:
    """Move an incident to `status` with a timeline entry (checks the transition); `auto` is the
    message as a phrase key when statuspage wrote it."""
    check_transition(incident, status)
    fields: dict[str, object] = {"status": status, "updated_at": now}
    if status == "monitoring" and incident.status != "monitoring":
        fields["monitoring_at"] = now
    if status == "resolved":
        fields["resolved_at"] = now
    update = IncidentUpdate(0, incident.id, status, message, now, author, tuple(changes), auto)
    return replace(incident, **fields), update  # type: ignore[arg-type]


class Policy:
    """The automatic-incident decisions for one config (pure: no I/O, no clock).

    Titles and messages are stored worded in the site's default locale and, beside them, as an
    `AutoText` (phrase key + values) that the site words again in each of its locales."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._locale = config.site.locale
        self._tz = config.site.timezone

    def _name(self, page: str, component: str) -> str:
        p = self.config.page(page)
        comp = next((c for c in p.components if c.slug == component), None) if p else None
        return comp.name if comp else component

    def phrase(self, key: str, **params: str | float) -> tuple[str, AutoText]:
        """The phrase in the default locale and its `AutoText`."""
        auto = auto_text(key, **params)
        worded = word(auto, self._locale, self._tz)
        assert worded is not None  # every phrase of PHRASES takes exactly these values
        return worded, auto

    def _about(self, page: str, component: str) -> dict[str, str]:
        return {"component": component, "name": self._name(page, component)}
    def _clock_time(self, at: float) -> str:
        return _local(at, self._tz, "%H:%M:%S")

    def open(self, page: str, component: str, outage_start: float, now: float) -> Incident:
        """A new automatic incident for a component's confirmed major outage."""
        severity: Severity = self.config.incidents.auto_severity
        about = self._about(page, component)
        msg, auto = self.phrase("opened", **about, start=outage_start)
        title, title_auto = self.phrase("title", **about)
        update = IncidentUpdate(0, 0, "investigating", msg, now, SYSTEM_AUTHOR,
                                (ComponentChange(component, "operational", "major_outage"),), auto)
        return Incident(
            id=0, page=page, title=title, severity=severity,
            impact=SEVERITY_IMPACT[severity], status="investigating", started_at=outage_start,
            due_at=due_at(self.config, severity, outage_start), components=(component,), automatic=True,
            created_at=now, updated_at=now, updates=(update,), title_auto=title_auto,
        )

    def join(
        self, incident: Incident, component: str, outage_start: float, now: float
    ) -> tuple[Incident, IncidentUpdate] | None:
        """Add a component's outage to the page's open automatic incident; None when already in it."""
        about = self._about(incident.page, component)
        change = (ComponentChange(component, "operational", "major_outage"),)
        if component in incident.components and incident.status != "monitoring":
            return None  # already tracked (a restart or a repeated confirmation): never twice
        if incident.status == "monitoring":
            key = "relapse" if component in incident.components else "joined"
            text, auto = self.phrase(key, **about, start=outage_start)
            updated, update = apply_update(incident, "investigating", text, SYSTEM_AUTHOR, now, change, auto)
        else:
            text, auto = self.phrase("joined", **about, start=outage_start)
            update = IncidentUpdate(0, incident.id, incident.status, text, now, SYSTEM_AUTHOR, change, auto)
            updated = replace(incident, updated_at=now)
        components = incident.components if component in incident.components else (
            *incident.components, component)
        return replace(updated, components=components, recovered_at=None), update

    def recover(
        self, incident: Incident, recovered_at: float, now: float, still_down: Iterable[str]
    ) -> tuple[Incident, IncidentUpdate] | None:
        """Every affected component back up → `monitoring`; None while any is still down."""
        if incident.status in ("monitoring", "resolved") or any(c in incident.components for c in still_down):
            return None
        changes = [ComponentChange(c, "major_outage", "operational") for c in incident.components]
        msg, auto = self.phrase("recovered", at=recovered_at)
        updated, update = apply_update(incident, "monitoring", msg, SYSTEM_AUTHOR, now, changes, auto)
        return replace(updated, monitoring_at=recovered_at, recovered_at=recovered_at), update

    def auto_resolve(self, incident: Incident, now: float) -> tuple[Incident, IncidentUpdate] | None:
        """Resolve an automatic incident quiet for `auto_resolve_after` since recovery."""
        quiet = self.config.incidents.auto_resolve_after
        if (not incident.automatic or incident.status != "monitoring" or incident.recovered_at is None
                or now - incident.recovered_at < quiet):
            return None
        msg, auto = self.phrase("resolved", quiet=quiet, at=incident.recovered_at)
        updated, update = apply_update(incident, "resolved", msg, SYSTEM_AUTHOR, now, (), auto)
        # The outage ended when the service recovered, not when we stopped watching.
        return replace(updated, resolved_at=incident.recovered_at), update

    def outage_start_after_maintenance(
        self, component: str, down_since: float, windows: Iterable[Maintenance], now: float
    ) -> float | None:
        """A held outage's start once no window covers it, or None while one does
        (`outages.outage_start_after_maintenance`)."""
        return outage_start_after_maintenance(component, down_since, windows, now)

    def needs_reminder(self, incident: Incident, reminded_at: float | None, now: float) -> bool:
        """An open, unacknowledged T1 past the reminder delay (once per delay)."""
        delay = self.config.incidents.remind_unacknowledged_after
        if incident.status == "resolved" or incident.acknowledged_at is not None or incident.severity != "T1":
            return False
        last = reminded_at if reminded_at is not None else incident.started_at
        return now - last >= delay


# --- the service ---------------------------------------------------------------------------------


class IncidentService:
    """Applies the policy and the engineers' commands through the store, and notifies."""

    def __init__(
        self,
        store: Store,
        config: Config,
        notifier: Notify | None = None,
        clock: Callable[[], float] = time.time,
        component_status: StatusOf | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.notifier = notifier
        self.clock = clock
        self.policy = Policy(config)
        self._status = component_status

    def _notify(self, event: str, incident: Incident) -> None:
        if self.notifier is not None:
            try:
                self.notifier.notify(event, incident)
            except Exception:  # a notifier fault never stops incident handling
                log.exception("notify failed event=%s incident=%d", event, incident.id)

    async def _open_auto(self, page: str) -> Incident | None:
        found = [i for i in await self.store.list_incidents(page=page, open_only=True) if i.automatic]
        return found[0] if found else None

    async def _in_maintenance(self, page: str, component: str, *times: float) -> bool:
        windows = await self.store.list_maintenances(page=page, ending_after=min(times))
        return any(m.covers(component, t) for m in windows for t in times)

    # automatic policy

    async def component_down(self, page: str, component: str, outage_start: float,
                             locations: Iterable[str] = ()) -> Incident | None:
        """A component's major outage was confirmed: open a T1, join the open one, or do nothing.

        `locations`: with several probe locations, those that saw it (kept on the incident)."""
        seen = tuple(sorted(set(locations)))
        now = self.clock()
        if await self._in_maintenance(page, component, now):
            events.info("no incident for %s/%s: it is under maintenance", page, component)
            return None
        current = await self._open_auto(page)
        if current is None:
            opened = self.policy.open(page, component, outage_start, now)
            incident = await self.store.create_incident(replace(opened, locations=seen) if seen else opened)
            events.info("incident #%d opened on %s: %s %s (automatic: %s/%s down since %s)", incident.id,
                        page, incident.severity, _shown(incident.title), page, component,
                        self._time(outage_start))
            self._notify("incident.created", incident)
            return incident
        joined = self.policy.join(current, component, outage_start, now)
        if joined is None:
            return current
        if seen and not set(seen) <= set(current.locations):
            joined = (replace(joined[0], locations=tuple(sorted(set(current.locations) | set(seen)))),
                      joined[1])
        incident = await self.store.save_incident(*_pair(joined))
        if current.status == "monitoring":
            events.info("incident #%d back to investigating: %s/%s down again since %s", incident.id, page,
                        component, self._time(outage_start))
        else:
            events.info("incident #%d: %s/%s down too since %s", incident.id, page, component,
                        self._time(outage_start))
        self._notify("incident.updated", incident)
        return incident

    async def maintenance_windows(self, page: str, ending_after: float) -> list[Maintenance]:
        """The page's maintenance windows (cancelled ones included) ending after `ending_after`: what
        the outage tracker judges holds by."""
        return await self.store.list_maintenances(page=page, ending_after=ending_after)

    async def carry_out(self, action: OutageAction) -> OutageAction:
        """Do what the outage tracker asked (open or join the automatic T1, move it to monitoring, or
        say that maintenance holds it) and return what was done, for `OutageTracker.done` once
        committed: a hold when a window covers the component after all (added meanwhile)."""
        page, _, comp = action.component.partition("/")
        if isinstance(action, MarkRecovered):
            await self.component_recovered(page, comp, action.at)
            return action
        if isinstance(action, OpenIncident):
            if action.after_maintenance:
                log.info("maintenance over, still down page=%s component=%s since=%.3f", page, comp,
                         action.since)
            if await self.component_down(page, comp, action.since, action.locations) is not None:
                return action
            return HoldForMaintenance(action.component, action.since, action.locations)
        events.info("no incident for %s/%s: it is under maintenance", page, comp)
        return action

    async def component_recovered(self, page: str, component: str, recovered_at: float) -> Incident | None:
        """A component left major outage: move the automatic incident to monitoring once all are back."""
        current = await self._open_auto(page)
        if current is None or component not in current.components:
            return None
        still_down = [c for c in current.components if c != component and self._status is not None
                      and self._status(page, c) == "major_outage"]
        recovered = self.policy.recover(current, recovered_at, self.clock(), still_down)
        if recovered is None:
            return current
        incident = await self.store.save_incident(*_pair(recovered))
        events.info("incident #%d monitoring: every affected component recovered at %s; resolves itself "
                    "after %s without a new failure", incident.id, self._time(recovered_at),
                    format_duration(self.config.incidents.auto_resolve_after))
        self._notify("incident.updated", incident)
        return incident

    async def tick(self) -> int:
        """Auto-resolve quiet incidents and remind about unacknowledged T1s (called every few seconds).

        Returns how many incidents changed (so the caller knows to re-render)."""
        now = self.clock()
        changed = 0
        for incident in await self.store.list_incidents(open_only=True):
            resolved = self.policy.auto_resolve(incident, now)
            if resolved is not None:
                saved = await self.store.save_incident(*_pair(resolved))
                events.info("incident #%d resolved automatically: no new failure for %s since the recovery",
                            saved.id, format_duration(self.config.incidents.auto_resolve_after))
                self._notify("incident.resolved", saved)
                changed += 1
                continue
            if self.policy.needs_reminder(incident, await self.store.reminded_at(incident.id), now):
                await self.store.mark_reminded(incident.id, now)
                events.warning("incident #%d (%s) is still unacknowledged after %s: reminder sent",
                               incident.id, incident.severity, format_duration(now - incident.started_at))
                self._notify("incident.reminder", incident)
        return changed

    # engineers' commands

    def _page(self, slug: str) -> Page:
        page = self.config.page(slug)
        if page is None:
            known = ", ".join(p.slug for p in self.config.pages)
            raise UnknownPage(f'page "{slug}" does not exist (pages: {known})')
        return page

    def _components(self, page: Page, components: Iterable[str]) -> tuple[str, ...]:
        known = [c.slug for c in page.components]
        out: list[str] = []
        for c in components:
            if c not in known:
                raise UnknownComponent(
                    f'component "{c}" is not on page {page.slug} (components: {", ".join(known)})')
            if c not in out:
                out.append(c)
        return tuple(out)

    async def get(self, incident_id: int) -> Incident:
        """One incident, or NotFound."""
        incident = await self.store.get_incident(incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} does not exist")
        return incident

    async def open_manual(
        self,
        page: str,
        title: str,
        severity: str,
        components: Iterable[str] = (),
        status: str = "investigating",
        message: str = "",
        author: str = "",
        started_at: float | None = None,
        preflight: Preflight | None = None,
    ) -> Incident:
        """Open an incident by hand on any page, with any severity.

        `preflight` is called with the incident about to be stored (id 0): the caller builds its
        answer from it, so an incident that cannot be answered is never committed."""
        p = self._page(page)
        comps = self._components(p, components)
        if severity not in SEVERITY_IMPACT:
            raise BadSeverity(f'severity "{severity}" is not one of T1, T2, T3, T4')
        if status not in ("investigating", "identified", "monitoring"):
            raise BadInput(f'status "{status}" is not one of investigating, identified, monitoring')
        title = _text(title, "title", MAX_TITLE, required=True)
        message = _text(message, "message", MAX_MESSAGE)
        author = _text(author, "author", MAX_AUTHOR)
        now = self.clock()
        start = now if started_at is None else _time(started_at, "started_at")
        if start > now:
            raise BadInput("started_at is in the future")
        sev: Severity = severity  # type: ignore[assignment]
        st: IncidentStatus = status  # type: ignore[assignment]
        changes = tuple(ComponentChange(c, self._live(page, c), self._live(page, c)) for c in comps)
        candidate = Incident(
            id=0, page=page, title=title, severity=sev, impact=SEVERITY_IMPACT[sev], status=st,
            started_at=start, due_at=due_at(self.config, sev, start), components=comps,
            monitoring_at=now if st == "monitoring" else None, created_at=now, updated_at=now,
            updates=(IncidentUpdate(0, 0, st, message or title, now, author, changes),),
        )
        if preflight is not None:
            preflight(candidate)
        incident = await self.store.create_incident(candidate)
        events.info("incident #%d opened on %s by %s: %s %s (%s)", incident.id, page, _name(author),
                    sev, _shown(title), st)
        self._notify("incident.created", incident)
        return incident

    def _live(self, page: str, component: str) -> ComponentStatus:
        return self._status(page, component) if self._status is not None else "operational"

    async def acknowledge(self, incident_id: int, who: str) -> Incident:
        """Record who acknowledged the incident and when; the first acknowledgement stands.

        Acknowledging again as the same engineer changes nothing and returns the incident; anyone
        else gets AlreadyAcknowledged naming who holds it."""
        who = _text(who, "engineer name", MAX_AUTHOR, required=True)
        incident = await self.get(incident_id)
        if incident.acknowledged_at is None:
            if await self.store.acknowledge_incident(incident_id, who, self.clock()):
                incident = await self.get(incident_id)
                events.info("incident #%d acknowledged by %s", incident.id, _name(who))
                self._notify("incident.acknowledged", incident)
                return incident
            incident = await self.get(incident_id)  # someone acknowledged it a moment earlier
        held = self._time(incident.acknowledged_at or 0.0)
        if incident.acknowledged_by == who:
            events.info("incident #%d: %s acknowledged it again (acknowledged since %s; nothing changed)",
                        incident.id, _name(who), held)
            return incident
        events.info("incident #%d: acknowledgement by %s refused, %s acknowledged it at %s", incident.id,
                    _name(who), _name(incident.acknowledged_by), held)
        raise AlreadyAcknowledged(incident, self.config.site.timezone)

    async def post_update(self, incident_id: int, status: str, message: str, author: str = "",
                          auto: AutoText | None = None, preflight: Preflight | None = None) -> Incident:
        """Post a timeline update, moving the incident through its lifecycle (`preflight`: as in
        `open_manual`, with the incident as it will be)."""
        incident = await self.get(incident_id)
        message = _text(message, "message", MAX_MESSAGE, required=True)
        author = _text(author, "author", MAX_AUTHOR)
        if status not in INCIDENT_STATUSES:
            raise BadInput(f'status "{status}" is not one of {", ".join(INCIDENT_STATUSES)}')
        st: IncidentStatus = status
        if st != "resolved" and len(incident.updates) >= MAX_UPDATES:
            raise BadTransition(f"incident {incident_id} already has {MAX_UPDATES} updates; resolve it and "
                                "open a new one to go on")
        changes: list[ComponentChange] = []
        if st == "resolved":
            changes = [ComponentChange(c, self._live(incident.page, c), self._live(incident.page, c))
                       for c in incident.components]
        updated, update = apply_update(incident, st, message, author, self.clock(), changes, auto)
        if preflight is not None:
            preflight(replace(updated, updates=(*updated.updates, update)))
        saved = await self.store.save_incident(updated, [update])
        if st == "resolved":
            events.info("incident #%d resolved by %s after %s", saved.id, _name(author),
                        format_duration((saved.resolved_at or saved.started_at) - saved.started_at))
        else:
            events.info("incident #%d updated by %s: %s", saved.id, _name(author), st)
        self._notify("incident.resolved" if st == "resolved" else "incident.updated", saved)
        return saved

    async def resolve(self, incident_id: int, message: str = "", author: str = "",
                      preflight: Preflight | None = None) -> Incident:
        """Resolve an incident (a final update); without a message, "Resolved." in every locale."""
        if message:
            return await self.post_update(incident_id, "resolved", message, author, preflight=preflight)
        text, auto = self.policy.phrase("resolved_manual")
        return await self.post_update(incident_id, "resolved", text, author, auto, preflight=preflight)

    async def set_postmortem(self, incident_id: int, text: str) -> Incident:
        """Attach a postmortem to an incident."""
        incident = await self.get(incident_id)
        body = _text(text, "postmortem", 50_000)
        return await self.store.save_incident(replace(incident, postmortem=body, updated_at=self.clock()))

    async def add_maintenance(
        self,
        page: str,
        title: str,
        start: float,
        end: float,
        components: Iterable[str] = (),
        message: str = "",
        author: str = "",
        rrule: str = "",
        preflight: Callable[[Maintenance], object] | None = None,
    ) -> Maintenance:
        """Schedule a maintenance window on a page (all components when none are named); with an
        RFC 5545 `rrule` it repeats in the site timezone, [start, end) being its first occurrence
        (moved to the rule's first occurrence at or after `start` when they differ); `preflight` as in
        `open_manual`."""
        p = self._page(page)
        comps = self._components(p, components)
        title = _text(title, "title", MAX_TITLE, required=True)
        message = _text(message, "message", MAX_MESSAGE)
        start, end = _time(start, "start"), _time(end, "end")
        if end <= start:
            raise BadWindow("the maintenance window ends before it starts")
        now = self.clock()
        tz = self.config.site.timezone
        if rrule:
            start, end, rrule = _first_occurrence(rrule, start, end, tz)
            from statuspage.recurrence import series_end

            if (series_end(rrule, start, end, tz) or now + 1) <= now:
                raise BadWindow("every occurrence of the recurring window is already over")
        elif end <= now:
            raise BadWindow("the maintenance window is already over")
        if end - start > 31 * 86400:
            raise BadWindow("a maintenance window may last at most 31 days")
        window = Maintenance(
            id=0, page=page, title=title, start=start, end=end, components=comps, message=message,
            created_at=now, created_by=_text(author, "author", MAX_AUTHOR), rrule=rrule,
            timezone=tz if rrule else "",
        )
        if preflight is not None:
            preflight(window)
        window = await self.store.add_maintenance(window)
        events.info("maintenance #%d scheduled on %s by %s: %s %s → %s (%s)", window.id, page,
                    _name(window.created_by), _shown(title), self._time(start, "%Y-%m-%d %H:%M"),
                    self._time(end, "%Y-%m-%d %H:%M"), ", ".join(comps) or "every component")
        if rrule:
            events.info("maintenance #%d repeats: %s (%s)", window.id, rrule, tz)
        return window

    async def cancel_maintenance(self, maintenance_id: int, author: str = "") -> Maintenance:
        """Cancel a maintenance window."""
        if not await self.store.cancel_maintenance(maintenance_id, self.clock()):
            raise NotFound(f"maintenance {maintenance_id} does not exist")
        m = await self.store.get_maintenance(maintenance_id)
        assert m is not None
        events.info("maintenance #%d cancelled by %s: %s", m.id, _name(author), _shown(m.title))
        return m

    def _time(self, at: float, fmt: str = "%H:%M:%S") -> str:
        # The site's timezone: `statuspage run` stamps its log lines in it too.
        return _local(at, self.config.site.timezone, fmt)


def _first_occurrence(rrule: str, start: float, end: float, tz: str) -> tuple[float, float, str]:
    """The normalised rule and its first occurrence at or after `start` (BadWindow when unusable)."""
    from statuspage.recurrence import RecurrenceError, expand, normalise, shortest_gap

    try:
        rule = normalise(rrule, start, tz)
    except RecurrenceError as exc:
        raise BadWindow(f"rrule {exc}") from None
    first = expand(rule, start, end, tz, start, start + 400 * 86400.0)
    if not first:
        raise BadWindow("rrule has no occurrence within a year of the start")
    begin, length = first[0][0], end - start
    # Overlapping occurrences are one long window shown as many (twice in calendars, two notices at
    # once): each must end before the next starts (a DST change makes a daily gap 23 h).
    gap = shortest_gap(rule, begin, begin + length, tz)
    if gap is not None and length >= gap:
        raise BadWindow(f"rrule repeats as often as every {format_duration(gap)}, so windows of "
                        f"{format_duration(length)} would overlap: make the window shorter than "
                        f"{format_duration(gap)}")
    return begin, begin + length, rule


def _local(at: float, tz: str, fmt: str) -> str:
    """`at` (epoch seconds) formatted in the site's timezone."""
    return datetime.fromtimestamp(at, ZoneInfo(tz)).strftime(fmt)


def _shown(text: str) -> str:
    """User text in a log line: quoted, on one line (a title cannot forge a second log line)."""
    return json.dumps(text, ensure_ascii=False)


def _name(who: str | None) -> str:
    """An engineer's name in a log line, its control characters escaped; `?` when unknown."""
    if not who:
        return "?"
    return who if who.isprintable() else json.dumps(who, ensure_ascii=False)


def _pair(pair: tuple[Incident, IncidentUpdate]) -> tuple[Incident, list[IncidentUpdate]]:
    return pair[0], [pair[1]]


def _time(value: float, field: str) -> float:
    """A time as given, or BadTime naming `field` when no output could show it."""
    problem = accepted_time_problem(value)
    if problem is not None:
        raise BadTime(f"{field} {problem}", field)
    return value


def _text(value: object, what: str, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadInput(f"{what} must be text")
    text = value.strip()
    if required and not text:
        raise BadInput(f"{what} must not be empty")
    if len(text) > limit:
        raise BadInput(f"{what} is longer than {limit} characters")
    return text
