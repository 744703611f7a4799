"""The leader's work when several instances share a database: automatic incidents from every
monitor's confirmation state (wherever it was probed), and delivering the outbox.

The leader cannot rely on its own prober's transitions (most monitors are probed elsewhere), so it
re-reads the confirmation states from the database every `poll_every` seconds, or at once when an
instance announces a confirmed change, and asks the outage tracker (incidents/outages.py, the one a
single `statuspage run` uses too) what each component's status asks for since the last round. The
first round after taking leadership reconciles instead: every component down gets (or keeps) its
incident, and open automatic incidents whose components all recovered move on. A component whose
incident maintenance held back becomes a confirmed outage when its window ends (as with one instance).
Every `TICK_EVERY_S` it also runs the incident tick (auto-resolve, reminders) and `on_tick` (the
support-case alerts), and every round `each_round` (the maintenance notices: told within a round of
a window's start or end, as one instance tells them within its 1 s tick). Every write runs inside
`store.fenced(epoch)`, and each action commits together with the outbox rows of the notifications it
caused (`store.atomic()`): a leader killed right after opening an incident never leaves it without
its notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from statuspage.config import Config
from statuspage.incidents.notify import Notifier
from statuspage.incidents.outages import HoldForMaintenance, OutageTracker, Sighting
from statuspage.incidents.service import IncidentService
from statuspage.models import ComponentStatus, MonitorState, component_key
from statuspage.probe.states import component_status
from statuspage.store import LeadershipLost, Store

log = logging.getLogger(__name__)

TICK_EVERY_S = 5.0


class LeaderDuties:
    """Runs while this instance leads; `run(epoch)` returns when leadership is refused by a fence."""

    def __init__(
        self,
        config: Config,
        store: Store,
        incidents: IncidentService,
        notifier: Notifier,
        *,
        instance: str,
        local_states: Callable[[], Mapping[str, MonitorState]],
        on_changed: Callable[[], None],
        on_tick: Callable[[], Awaitable[None]] | None = None,
        each_round: Callable[[], Awaitable[None]] | None = None,
        on_round: Callable[[Exception | None], None] | None = None,
        clock: Callable[[], float] = time.time,
        before_refresh: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._before_refresh = before_refresh
        """Several probe locations: the quorum round, which produces the states `local_states` gives."""
        self.config = config
        self.store = store
        self.incidents = incidents
        self.notifier = notifier
        self.instance = instance
        self._local_states = local_states
        self._on_changed = on_changed
        self._on_tick = on_tick
        self._each_round = each_round
        self._on_round = on_round
        """Told how each round went (None: it succeeded; /healthz shows a failing one)."""
        self.clock = clock
        self.states: dict[str, MonitorState] = {}
        self._stored: dict[str, MonitorState] = {}
        self._cursor = 0
        self.wake = asyncio.Event()
        self.outages = OutageTracker()
        """Components in major outage, and those whose incident maintenance holds back."""
        self._monitors_of: dict[str, list[str]] = {}
        for page, comp, mon in config.monitors():
            self._monitors_of.setdefault(component_key(page.slug, comp.slug), []).append(mon.key)
        self._last_tick = 0.0

    def status(self, page: str, component: str) -> ComponentStatus:
        """A component's status from the latest states the leader read (maintenance not applied)."""
        monitors = self._monitors_of.get(component_key(page, component), [])
        return component_status([self.states.get(m, MonitorState()) for m in monitors])

    async def refresh(self, full: bool = False) -> None:
        """Bring every monitor's state up to date (only rows written since the last read, unless
        `full`); this process's own probes are fresher than its last flush."""
        if full:
            self._stored, self._cursor = {}, 0
        if self._before_refresh is not None:
            await self._before_refresh()
        changed, self._cursor = await self.store.monitor_states_since(self._cursor)
        self._stored.update(changed)
        states = dict(self._stored)
        states.update(self._local_states())
        self.states = states

    def _sighting(self, component: str) -> Sighting:
        """The component as `status` sees it, with its monitors' states (for the outage tracker)."""
        states = tuple(self.states.get(m, MonitorState()) for m in self._monitors_of.get(component, []))
        return Sighting(component, component_status(states), states)

    async def reconcile(self, epoch: int) -> None:
        """First round as leader: incidents for every outage, monitoring for every recovery missed."""
        await self.refresh(full=True)
        now = self.clock()
        sightings = [self._sighting(key) for key in self._monitors_of]
        # All or nothing (a failure is retried whole), notifications included.
        async with self.store.fenced(epoch), self.store.atomic():
            windows = {page: await self.incidents.maintenance_windows(page, now)
                       for page in {s.page for s in sightings if s.major}}
            open_incidents = await self.store.list_incidents(open_only=True)
            for action in self.outages.reconcile(sightings, open_incidents, now, windows):
                self.outages.done(await self.incidents.carry_out(action))

    async def evaluate(self, epoch: int) -> bool:
        """Act on components whose major outage started or ended since the last round; True if any did."""
        await self.refresh()
        changed = False
        async with self.store.fenced(epoch):
            for key in self._monitors_of:
                sighting = self._sighting(key)
                now = self.clock()
                windows = (await self.incidents.maintenance_windows(sighting.page, now)
                           if self.outages.starts_outage(sighting) else [])
                action = self.outages.change(sighting, now, windows)
                if action is None:
                    continue
                # The incident and its notifications commit together: a leader killed in between
                # leaves neither, and the next one acts (and notifies) again.
                async with self.store.atomic():
                    done = await self.incidents.carry_out(action)
                self.outages.done(done)  # only once committed: a failed write is retried next round
                changed = True
            if self.clock() - self._last_tick >= TICK_EVERY_S:
                self._last_tick = now = self.clock()
                async with self.store.atomic():
                    windows_of = {page: await self.incidents.maintenance_windows(page, after)
                                  for page, after in self.outages.windows_needed(now).items()}
                    opened = [await self.incidents.carry_out(a) for a in self.outages.due(windows_of, now)]
                    changed = bool(await self.incidents.tick()) or changed
                    if self._on_tick is not None:
                        await self._on_tick()
                for done in opened:  # once committed
                    self.outages.done(done)
                    changed = changed or not isinstance(done, HoldForMaintenance)
            if self._each_round is not None:
                async with self.store.atomic():
                    await self._each_round()
        return changed

    async def dispatch(self, epoch: int) -> int:
        """Claim the outbox rows not yet claimed under this epoch and queue them for delivery."""
        async with self.store.fenced(epoch):
            rows = await self.store.claim_outbox(self.instance, epoch)
        return self.notifier.deliver(rows) if rows else 0

    def _report(self, exc: Exception | None) -> None:
        if self._on_round is not None:
            try:
                self._on_round(exc)
            except Exception:
                log.exception("leader round observer failed")

    async def run(self, epoch: int, every: float) -> None:
        """The leader's loop. Returns when a fenced write was refused (another instance leads now)."""
        failures = 0
        reconciled = False
        while True:
            try:
                if not reconciled:
                    await self.reconcile(epoch)
                    reconciled = True
                    self._on_changed()
                elif await self.evaluate(epoch):
                    self._on_changed()
                await self.store.flush()  # the notifications just caused: into the outbox now
                await self.dispatch(epoch)
                failures = 0
                self._report(None)
            except LeadershipLost as exc:
                log.warning("cluster: leader write refused, stepping down: %s", exc)
                return
            except Exception as exc:
                # The database refused (full, away): nothing was acted on (the tracker moves only once
                # committed), so the next round acts on it, backdated as always.
                failures += 1
                if failures == 1 or failures % 10 == 0:
                    log.warning("cluster: leader round failed (%s: %s); retrying", exc.__class__.__name__,
                                (str(exc).splitlines() or [""])[0][:200])
                self._report(exc)
            delay = every if not failures else min(every * 2 ** failures, 10.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), delay)
            self.wake.clear()
