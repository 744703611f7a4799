"""Incidents: the automatic T1 policy, the engineers' lifecycle, acknowledgement, deadlines, maintenance.

The decisions are pure functions of (incident, facts, now) → (incident, update); `IncidentService`
reads the store, applies them, writes the result in one transaction and notifies. Every error an
engineer can cause is an `IncidentError`:

    IncidentError
    ├── NotFound            unknown incident or maintenance id        (HTTP 404)
    ├── BadTransition       e.g. updating a resolved incident          (HTTP 409)
    └── BadInput            what was sent is wrong                     (HTTP 400)
        ├── UnknownPage
        ├── UnknownComponent
        ├── BadSeverity
        ├── BadWindow       maintenance ending before it starts, ...
        └── BadTime         a time no output could show (field: which one)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Protocol

from statuspage.config import Config, Page
from statuspage.durations import format_duration
from statuspage.models import (
    INCIDENT_STATUSES,
    SEVERITY_IMPACT,
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

_TEXT = {
    "pt-BR": {
        "title": "{name} indisponível",
        "opened": "Detectamos que {name} está indisponível desde {start}. Estamos investigando.",
        "joined": "{name} também está indisponível desde {start}.",
        "relapse": "{name} voltou a falhar às {start}. Retomamos a investigação.",
        "recovered": "Todos os componentes afetados se recuperaram às {at}. Monitorando.",
        "resolved": "Resolvido: sem nova falha por {quiet} desde a recuperação às {at}.",
    },
    "en": {
        "title": "{name} unavailable",
        "opened": "We detected that {name} has been unavailable since {start}. We are investigating.",
        "joined": "{name} is also unavailable since {start}.",
        "relapse": "{name} failed again at {start}. We are investigating again.",
        "recovered": "Every affected component recovered at {at}. We are monitoring.",
        "resolved": "Resolved: no new failure for {quiet} since the recovery at {at}.",
    },
}


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
    changes: Sequence[ComponentChange] = (),
) -> tuple[Incident, IncidentUpdate]:
    """Move an incident to `status` with a timeline entry (checks the transition)."""
    check_transition(incident, status)
    fields: dict[str, object] = {"status": status, "updated_at": now}
    if status == "monitoring" and incident.status != "monitoring":
        fields["monitoring_at"] = now
    if status == "resolved":
        fields["resolved_at"] = now
    update = IncidentUpdate(0, incident.id, status, message, now, author, tuple(changes))
    return replace(incident, **fields), update  # type: ignore[arg-type]


class Policy:
    """The automatic-incident decisions for one config (pure: no I/O, no clock)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.text = _TEXT[config.site.locale]
        self._tz = config.site.timezone

    def _name(self, page: str, component: str) -> str:
        p = self.config.page(page)
        comp = next((c for c in p.components if c.slug == component), None) if p else None
        return comp.name if comp else component

    def _clock_time(self, at: float) -> str:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        return datetime.fromtimestamp(at, ZoneInfo(self._tz)).strftime("%H:%M:%S")

    def open(self, page: str, component: str, outage_start: float, now: float) -> Incident:
        """A new automatic incident for a component's confirmed major outage."""
        severity: Severity = self.config.incidents.auto_severity
        name = self._name(page, component)
        msg = self.text["opened"].format(name=name, start=self._clock_time(outage_start))
        update = IncidentUpdate(0, 0, "investigating", msg, now, SYSTEM_AUTHOR,
                                (ComponentChange(component, "operational", "major_outage"),))
        return Incident(
            id=0, page=page, title=self.text["title"].format(name=name), severity=severity,
            impact=SEVERITY_IMPACT[severity], status="investigating", started_at=outage_start,
            due_at=due_at(self.config, severity, outage_start), components=(component,), automatic=True,
            created_at=now, updated_at=now, updates=(update,),
        )

    def join(
        self, incident: Incident, component: str, outage_start: float, now: float
    ) -> tuple[Incident, IncidentUpdate] | None:
        """Add a component's outage to the page's open automatic incident; None when already in it."""
        name = self._name(incident.page, component)
        start = self._clock_time(outage_start)
        change = (ComponentChange(component, "operational", "major_outage"),)
        if component in incident.components and incident.status != "monitoring":
            return None  # already tracked (a restart or a repeated confirmation): never twice
        if incident.status == "monitoring":
            key = "relapse" if component in incident.components else "joined"
            text = self.text[key].format(name=name, start=start)
            updated, update = apply_update(incident, "investigating", text, SYSTEM_AUTHOR, now, change)
        else:
            update = IncidentUpdate(0, incident.id, incident.status, self.text["joined"].format(
                name=name, start=start), now, SYSTEM_AUTHOR, change)
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
        msg = self.text["recovered"].format(at=self._clock_time(recovered_at))
        updated, update = apply_update(incident, "monitoring", msg, SYSTEM_AUTHOR, now, changes)
        return replace(updated, monitoring_at=recovered_at, recovered_at=recovered_at), update

    def auto_resolve(self, incident: Incident, now: float) -> tuple[Incident, IncidentUpdate] | None:
        """Resolve an automatic incident quiet for `auto_resolve_after` since recovery."""
        quiet = self.config.incidents.auto_resolve_after
        if (not incident.automatic or incident.status != "monitoring" or incident.recovered_at is None
                or now - incident.recovered_at < quiet):
            return None
        msg = self.text["resolved"].format(quiet=format_duration(quiet),
                                           at=self._clock_time(incident.recovered_at))
        updated, update = apply_update(incident, "resolved", msg, SYSTEM_AUTHOR, now)
        # The outage ended when the service recovered, not when we stopped watching.
        return replace(updated, resolved_at=incident.recovered_at), update

    def outage_start_after_maintenance(
        self, component: str, down_since: float, windows: Iterable[Maintenance], now: float
    ) -> float | None:
        """A component confirmed down since `down_since` whose incident maintenance held back: the
        moment its outage counts from, once no window covers it at `now` (the end of the window, or
        chain of windows, it was down in), or None while one still does.

        A component already down before a window began keeps `down_since`: its outage is older than
        the window (its incident, if it has one, simply continues).
        """
        mine = sorted(
            (m for m in windows if not m.cancelled and m.end > m.start
             and (not m.components or component in m.components)),
            key=lambda m: m.start,
        )
        if any(m.covers(component, now) for m in mine):
            return None
        start = down_since
        moved = True
        while moved:  # windows may overlap or follow each other
            moved = False
            for m in mine:
                if m.start <= start < m.end:
                    start, moved = m.end, True
        return min(start, now)

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

    async def component_down(self, page: str, component: str, outage_start: float) -> Incident | None:
        """A component's major outage was confirmed: open a T1, join the open one, or do nothing."""
        now = self.clock()
        if await self._in_maintenance(page, component, now):
            log.info("no incident: maintenance page=%s component=%s", page, component)
            return None
        current = await self._open_auto(page)
        if current is None:
            incident = await self.store.create_incident(self.policy.open(page, component, outage_start, now))
            log.info("incident opened id=%d page=%s component=%s", incident.id, page, component)
            self._notify("incident.created", incident)
            return incident
        joined = self.policy.join(current, component, outage_start, now)
        if joined is None:
            return current
        incident = await self.store.save_incident(*_pair(joined))
        self._notify("incident.updated", incident)
        return incident

    async def component_still_down(self, page: str, component: str, down_since: float) -> Incident | None:
        """A component whose confirmed outage got no incident because maintenance covered it: once
        no window does, it is a confirmed outage from the window's end (open or join, and notify).

        Returns the incident, or None while a window still covers the component."""
        now = self.clock()
        windows = await self.store.list_maintenances(page=page, ending_after=min(down_since, now))
        start = self.policy.outage_start_after_maintenance(component, down_since, windows, now)
        if start is None:
            return None
        log.info("maintenance over, still down page=%s component=%s since=%.3f", page, component, start)
        return await self.component_down(page, component, start)

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
                log.info("incident auto-resolved id=%d", saved.id)
                self._notify("incident.resolved", saved)
                changed += 1
                continue
            if self.policy.needs_reminder(incident, await self.store.reminded_at(incident.id), now):
                await self.store.mark_reminded(incident.id, now)
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
        self._notify("incident.created", incident)
        return incident

    def _live(self, page: str, component: str) -> ComponentStatus:
        return self._status(page, component) if self._status is not None else "operational"

    async def acknowledge(self, incident_id: int, who: str) -> Incident:
        """Record who acknowledged the incident and when; the first acknowledgement stands."""
        who = _text(who, "engineer name", MAX_AUTHOR, required=True)
        incident = await self.get(incident_id)
        if incident.acknowledged_at is not None:
            return incident
        if await self.store.acknowledge_incident(incident_id, who, self.clock()):
            incident = await self.get(incident_id)
            self._notify("incident.acknowledged", incident)
            return incident
        return await self.get(incident_id)  # someone else acknowledged it a moment earlier

    async def post_update(self, incident_id: int, status: str, message: str, author: str = "",
                          preflight: Preflight | None = None) -> Incident:
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
        updated, update = apply_update(incident, st, message, author, self.clock(), changes)
        if preflight is not None:
            preflight(replace(updated, updates=(*updated.updates, update)))
        saved = await self.store.save_incident(updated, [update])
        self._notify("incident.resolved" if st == "resolved" else "incident.updated", saved)
        return saved

    async def resolve(self, incident_id: int, message: str = "", author: str = "",
                      preflight: Preflight | None = None) -> Incident:
        """Resolve an incident (a final update)."""
        text = message or ("Resolvido." if self.config.site.locale == "pt-BR" else "Resolved.")
        return await self.post_update(incident_id, "resolved", text, author, preflight)

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
        preflight: Callable[[Maintenance], object] | None = None,
    ) -> Maintenance:
        """Schedule a maintenance window on a page (all components when none are named); `preflight`
        as in `open_manual`."""
        p = self._page(page)
        comps = self._components(p, components)
        title = _text(title, "title", MAX_TITLE, required=True)
        message = _text(message, "message", MAX_MESSAGE)
        start, end = _time(start, "start"), _time(end, "end")
        if end <= start:
            raise BadWindow("the maintenance window ends before it starts")
        now = self.clock()
        if end <= now:
            raise BadWindow("the maintenance window is already over")
        if end - start > 31 * 86400:
            raise BadWindow("a maintenance window may last at most 31 days")
        window = Maintenance(
            id=0, page=page, title=title, start=start, end=end, components=comps, message=message,
            created_at=now, created_by=_text(author, "author", MAX_AUTHOR),
        )
        if preflight is not None:
            preflight(window)
        return await self.store.add_maintenance(window)

    async def cancel_maintenance(self, maintenance_id: int) -> Maintenance:
        """Cancel a maintenance window."""
        if not await self.store.cancel_maintenance(maintenance_id):
            raise NotFound(f"maintenance {maintenance_id} does not exist")
        m = await self.store.get_maintenance(maintenance_id)
        assert m is not None
        return m


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
