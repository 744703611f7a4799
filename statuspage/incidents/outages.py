"""Which components are in a major outage, and what the automatic-incident policy must do about it.

One tracker serves both drivers of automatic incidents: `statuspage run` alone (runner.py, on each
confirmed transition and its incident tick) and the leader of several instances (cluster/duties.py,
each round from the states in the database). It is pure and takes the time as an argument: the
callers read the monitor states and maintenance windows, ask the tracker, carry the actions out
through `IncidentService.carry_out`, and tell the tracker `done(action)` once the action is committed
(a write the database refused leaves the tracker as it was, so the next call asks again).

    Sighting (a component's status now, its monitors' states)  ──┐
    maintenance windows of its page                               ├─► OutageTracker ─► actions:
    time                                                        ──┘
        OpenIncident     open the page's automatic T1 (or join it), dated `since`, naming `locations`
        HoldForMaintenance  a window covers the component: no incident now; `due()` opens one dated
                         the window's end if the component is still down when no window covers it
        MarkRecovered    the component left its major outage at `at`: the incident moves to monitoring
                         once all its components are back
        (nothing)        a blip, a partial outage, a status that did not cross major outage

Rules (DESIGN.md "Automatic incidents", issue 11 input 4):
- only `major_outage` counts (every monitor of the component confirmed down); the outage dates from
  the moment the last monitor went down (the largest `down_since`);
- a recovery dates from the earliest `recovered_at` among the monitors up again;
- the tracker starts knowing no outage, so a first sighting that is not down is never a recovery
  (a restart is never a recovery); `reconcile` is that first sighting of every component, and moves
  on the open automatic incidents whose components all recovered while nobody watched;
- a component already down before a window began keeps its start (and its one incident).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from statuspage.models import ComponentStatus, Incident, Maintenance, MonitorState, component_key

MAINTENANCE_LOOKBACK_S = 31 * 86400.0
"""Windows last at most 31 days (IncidentService.add_maintenance): an older one cannot cover an outage."""


@dataclass(frozen=True, slots=True)
class Sighting:
    """One component as seen now: its live status (maintenance not applied) and its monitors' states."""

    component: str
    """`page/component`."""
    status: ComponentStatus
    states: tuple[MonitorState, ...] = ()

    @property
    def page(self) -> str:
        return self.component.partition("/")[0]

    @property
    def major(self) -> bool:
        return self.status == "major_outage"


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """Open the page's automatic incident (or add the component to it) for an outage since `since`
    (UTC epoch seconds); `locations`: the probe locations that saw it (several locations only)."""

    component: str
    since: float
    locations: tuple[str, ...] = ()
    after_maintenance: bool = False
    """The outage outlasted the maintenance window that held its incident back (`since` is its end)."""


@dataclass(frozen=True, slots=True)
class HoldForMaintenance:
    """A maintenance window covers the component's confirmed outage (since `since`): no incident now."""

    component: str
    since: float
    locations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MarkRecovered:
    """The component left its major outage at `at` (UTC epoch seconds)."""

    component: str
    at: float


OutageAction = OpenIncident | HoldForMaintenance | MarkRecovered


def outage_start(states: Iterable[MonitorState], fallback: float) -> float:
    """When a component went fully down: the moment its last monitor went down (`fallback` if none says)."""
    return max((s.down_since for s in states if s.down_since is not None), default=fallback)


def recovery_time(states: Iterable[MonitorState], fallback: float) -> float:
    """When a component left its major outage: the earliest recovery among its monitors now up."""
    times = [s.recovered_at for s in states if s.confirmed == "up" and s.recovered_at is not None]
    return min(times) if times else fallback


def locations_down(states: Iterable[MonitorState]) -> tuple[str, ...]:
    """The probe locations that see any of these monitors down, sorted (empty with one location)."""
    return tuple(sorted({loc for s in states for loc in s.locations_down.split(",") if loc}))


def under_maintenance(component: str, windows: Iterable[Maintenance], at: float) -> bool:
    """True when one of `windows` (of the component's page) is in force for `component` (`page/slug`)."""
    slug = component.partition("/")[2]
    return any(m.covers(slug, at) for m in windows)


def outage_start_after_maintenance(
    component: str, down_since: float, windows: Iterable[Maintenance], now: float
) -> float | None:
    """A component (slug) confirmed down since `down_since` whose incident maintenance held back: the
    moment its outage counts from, once no window covers it at `now` (the end of the window, or chain
    of windows, it was down in), or None while one still does.

    A component already down before a window began keeps `down_since`: its outage is older than
    the window (its incident, if it has one, simply continues).
    """
    mine = sorted(
        (occurrence for m in windows if not m.cancelled and m.end > m.start
         and (not m.components or component in m.components)
         for occurrence in m.occurrences(min(down_since, now) - MAINTENANCE_LOOKBACK_S, now + 1.0)),
    )
    if any(s <= now < e for s, e in mine):
        return None
    start = down_since
    moved = True
    while moved:  # windows (and occurrences) may overlap or follow each other
        moved = False
        for s, e in mine:
            if s <= start < e:
                start, moved = e, True
    return min(start, now)


@dataclass(frozen=True, slots=True)
class _Held:
    since: float
    locations: tuple[str, ...]


class OutageTracker:
    """The components in major outage as last acted on, and the outages maintenance holds back.

    Asking (`starts_outage`, `change`, `reconcile`, `windows_needed`, `due`) never changes it, except
    that `reconcile` starts over and `due` forgets holds of components no longer down; `done(action)`
    records an action once carried out and committed."""

    def __init__(self) -> None:
        self._major: dict[str, bool] = {}
        self._held: dict[str, _Held] = {}

    def is_major(self, component: str) -> bool:
        """Whether the component's major outage was acted on (and its recovery not yet)."""
        return self._major.get(component, False)

    @property
    def held(self) -> dict[str, float]:
        """Components whose incident maintenance holds back: `page/component` → outage start."""
        return {c: h.since for c, h in self._held.items()}

    def starts_outage(self, sighting: Sighting) -> bool:
        """True when `change` needs the page's maintenance windows: the component just went fully down."""
        return sighting.major and not self.is_major(sighting.component)

    def change(
        self, sighting: Sighting, now: float, windows: Sequence[Maintenance] = ()
    ) -> OutageAction | None:
        """What a component's status now asks for, compared with what was last acted on.

        `windows`: its page's maintenance windows still running at `now` (only read when
        `starts_outage(sighting)`)."""
        was = self.is_major(sighting.component)
        if sighting.major and not was:
            return self._down(sighting, now, windows)
        if was and not sighting.major:
            return MarkRecovered(sighting.component, recovery_time(sighting.states, now))
        return None

    def _down(self, sighting: Sighting, now: float, windows: Sequence[Maintenance]) -> OutageAction:
        since = outage_start(sighting.states, now)
        seen = locations_down(sighting.states)
        if under_maintenance(sighting.component, windows, now):
            return HoldForMaintenance(sighting.component, since, seen)
        return OpenIncident(sighting.component, since, seen)

    def reconcile(
        self,
        sightings: Iterable[Sighting],
        open_incidents: Iterable[Incident],
        now: float,
        windows: Mapping[str, Sequence[Maintenance]] | None = None,
    ) -> list[OutageAction]:
        """Start over from what is seen now (a start, or leadership taken): every component down gets
        (or keeps) its incident, and an open automatic incident whose components are all up again moves
        on, dated by its components' recoveries. `windows`: page → its windows running at `now` (the
        pages of the components down). Forgets what it knew; `done` records the actions."""
        seen = {s.component: s for s in sightings}
        self._major, self._held = {}, {}
        windows = windows or {}
        actions: list[OutageAction] = [
            self._down(s, now, windows.get(s.page, ())) for s in seen.values() if s.major]
        for incident in open_incidents:
            keys = [component_key(incident.page, c) for c in incident.components]
            if not incident.automatic or incident.status in ("monitoring", "resolved") or any(
                    k in seen and seen[k].major for k in keys):
                continue
            for key in keys:
                states = seen[key].states if key in seen else ()
                actions.append(MarkRecovered(key, recovery_time(states, now)))
        return actions

    def windows_needed(self, now: float) -> dict[str, float]:
        """The pages `due` needs the maintenance windows of: page → read those ending after this time."""
        needed: dict[str, float] = {}
        for component, held in self._held.items():
            page = component.partition("/")[0]
            needed[page] = min(needed.get(page, now), held.since, now)
        return needed

    def due(self, windows: Mapping[str, Sequence[Maintenance]], now: float) -> list[OpenIncident]:
        """Held outages no window covers any more: an incident dated the end of the window (or chain of
        windows) the component was down in. Forgets the holds of components that recovered meanwhile.
        `windows`: page → its windows ending after `windows_needed(now)[page]`."""
        due: list[OpenIncident] = []
        for component, held in list(self._held.items()):
            if not self.is_major(component):
                del self._held[component]
                continue
            page, _, slug = component.partition("/")
            start = outage_start_after_maintenance(slug, held.since, windows.get(page, ()), now)
            if start is not None:
                due.append(OpenIncident(component, start, held.locations, after_maintenance=True))
        return due

    def done(self, action: OutageAction) -> None:
        """Record an action once carried out (and committed); a hold keeps the oldest outage start."""
        if isinstance(action, MarkRecovered):
            self._major[action.component] = False
            self._held.pop(action.component, None)
            return
        self._major[action.component] = True
        if isinstance(action, HoldForMaintenance):
            self._held.setdefault(action.component, _Held(action.since, action.locations))
        else:
            self._held.pop(action.component, None)
