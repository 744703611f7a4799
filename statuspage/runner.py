"""`statuspage run`: wire the store, checker, prober, incidents, renderer and server together.

Order of a check: check → confirm → record (buffered) → metrics; on a confirmed transition the
store is flushed first, then the incident policy acts, then the site is re-rendered. Housekeeping
(flush, prune, incident ticks, periodic renders) runs beside it; none of it can stop probing.

On a database several instances share (PostgreSQL), the cluster protocol of statuspage/cluster/
decides which monitors this process probes (shard leases) and whether it leads: only the leader
acts on incidents (from every monitor's state in the database), delivers notifications and writes
`site.output_dir`; a follower renders into a private folder it serves from.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from statuspage.cluster.duties import LeaderDuties
from statuspage.cluster.node import ClusterNode, default_instance_name, shard_of
from statuspage.cluster.pushes import SharedPushBoard
from statuspage.config import Config
from statuspage.durations import format_duration
from statuspage.incidents.notify import Notifier
from statuspage.incidents.outages import HoldForMaintenance, OutageAction, OutageTracker, Sighting
from statuspage.incidents.service import IncidentService
from statuspage.locations.combiner import QuorumCombiner
from statuspage.models import ComponentStatus, component_key
from statuspage.probe.canaries import LocationWatch
from statuspage.probe.checks import Checker, PushBoard
from statuspage.probe.scheduler import CheckEvent, Prober
from statuspage.probe.states import component_status
from statuspage.probe.story import CheckStory
from statuspage.site.worker import UNAVAILABLE, RenderWorker
from statuspage.store import (
    Coordinator,
    Store,
    StoreUnavailable,
    database_problem,
    open_coordinator,
    open_store,
    unavailable_reason,
)
from statuspage.support.service import SupportService
from statuspage.web.health import Health, file_identity
from statuspage.web.metrics import Metrics

if TYPE_CHECKING:
    from statuspage.announce import Announcer
    from statuspage.subscriptions.mailer import Mailer
    from statuspage.subscriptions.service import SubscriptionService

log = logging.getLogger(__name__)
events = logging.getLogger("statuspage.events")

FLUSH_EVERY_S = 0.5
"""How often buffered results are committed: the most a crash can lose is this much probing."""
FLUSH_BACKOFF_MAX = 10
"""While flushes fail, the wait between attempts doubles up to this many times FLUSH_EVERY_S (5 s)."""
TICK_EVERY_S = 5.0
"""How often incidents are checked for auto-resolve and reminders."""
RENDER_COALESCE_S = 0.3
"""Changes arriving this close together share one render."""


class StartError(Exception):
    """`statuspage run` cannot start; the message is one line naming the config key to fix."""


class Runtime:
    """Everything one `statuspage run` process owns, created once and closed once."""

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time, serve: bool = True) -> None:
        self.config = config
        self.clock = clock
        self.serve = serve
        self.push_board = PushBoard(clock)
        self.metrics = Metrics(location=config.probe.location if config.located else None)
        self.watch = LocationWatch(config, config.probe.location, clock=clock,
                                   on_change=self.metrics.set_location_health)
        """This location's own health: canaries and failure pattern (statuspage/locations/health.py)."""
        self.metrics.set_location_health(config.probe.location, True)
        self.combiner: QuorumCombiner | None = None
        self.store: Store | None = None
        self.checker: Checker | None = None
        self.prober: Prober | None = None
        self.notifier: Notifier | None = None
        self.incidents: IncidentService | None = None
        self.support: SupportService | None = None
        self.subscriptions: SubscriptionService | None = None
        self.mailer: Mailer | None = None
        self.announcer: Announcer | None = None
        self.server: web.AppRunner | None = None
        self.render_worker = RenderWorker(config)
        self.health = Health(clock)
        """What /healthz reports: renders and flushes that keep failing make it 503."""
        self._tasks: list[asyncio.Task[None]] = []
        self._dirty = asyncio.Event()
        self._run_states: dict[str, str] = {}
        self.outages = OutageTracker()
        """Components in major outage, and those whose incident maintenance holds back."""
        self._monitors_of: dict[str, list[str]] = {}
        for page, comp, mon in config.monitors():
            self._monitors_of.setdefault(component_key(page.slug, comp.slug), []).append(mon.key)
        self.check_hooks: list[Callable[[CheckEvent], None]] = [
            self.metrics.observe_check, CheckStory(config)]
        self.transition_hooks: list[Callable[[str, CheckEvent], Awaitable[None]]] = [self._incident_hook]
        self.renders = 0
        self._render_seconds = 0.0
        """How long the last render took in the worker: changes wait at least that long to share one."""
        # Several instances on one database (set up in start() when the store is shared).
        self.coordinator: Coordinator | None = None
        self.node: ClusterNode | None = None
        self.duties: LeaderDuties | None = None
        self.app: web.Application | None = None
        self._duties_task: asyncio.Task[None] | None = None
        self._follower_worker: RenderWorker | None = None
        self._private_site: Path | None = None
        self._keys_by_shard: dict[int, list[str]] = {}
        self._announce_states = False
        self._served_dir = Path(config.site.output_dir)
        self._closing = False
        self._sockets: list[socket.socket] = []
        self._database_file: tuple[int, int] | None = None
        self._unacted: list[tuple[str, CheckEvent]] = []
        """Confirmed transitions the incident policy could not act on yet (the database refused)."""
        self._started = False

    @property
    def is_leader(self) -> bool:
        """True when this process acts (incidents, notifications, site): always with SQLite."""
        return self.node is None or self.node.is_leader

    def bind(self) -> None:
        """Claim the server's address now (idempotent; nothing without `serve`).

        Raises ListenError (one line naming host:port) before anything else is opened or printed."""
        if self.serve and not self._sockets:
            from statuspage.web.listen import bind_sockets

            self._sockets = bind_sockets(self.config.server.host, self.config.server.port)

    def _check_secrets(self) -> None:
        """Refuse to serve beyond loopback with a weak secret; on loopback, warn (credentials.py)."""
        from statuspage.credentials import exposure_problems

        addresses = [str(sock.getsockname()[0]) for sock in self._sockets]
        errors, warnings = exposure_problems(self.config, addresses)
        for line in warnings:
            log.warning("WEAK SECRET %s", line)
        if errors:
            where = ", ".join(sorted(set(addresses)))
            raise StartError(f"refusing to serve on {where} (beyond loopback) with weak secrets:\n"
                             + "\n".join(errors))

    @property
    def port(self) -> int | None:
        """The port the server listens on once bound (the real one when the config says 0)."""
        return int(self._sockets[0].getsockname()[1]) if self._sockets else None

    async def start(self) -> None:
        """Open the store and HTTP session, resume state, reconcile incidents, render, probe, serve."""
        cfg = self.config
        from statuspage.web.limits import raise_open_file_limit

        before, after = raise_open_file_limit()
        if after != before:
            log.info("open files limit raised from %d to %d", before, after)
        self.bind()
        self._check_secrets()
        try:
            self.store = await open_store(cfg.storage)
        except Exception as exc:
            # SQLite: damaged, a directory, a newer schema, full; PostgreSQL: unreachable, refusing the
            # password, missing (one line naming the URL without its password).
            problem = database_problem(exc, cfg.storage.where)
            if problem is not None:
                raise StartError(problem) from None
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            key = "storage.path" if cfg.storage.url is None else "storage.url"
            raise StartError(f"cannot open the database at {cfg.storage.where}: {detail} "
                             f"(check {key})") from None
        shared = self.store.shared
        if shared:
            try:
                await self._start_cluster_parts(self.store)
            except StoreUnavailable as exc:
                raise StartError(str(exc)) from None
        else:
            self._database_file = file_identity(cfg.storage.path)
        self.notifier = Notifier(cfg, store=self.store, resume=not shared, dispatch=shared)
        await self._start_subscriptions()
        await self.notifier.start()
        self.incidents = IncidentService(self.store, cfg, self.notifier, self.clock, self.component_status)
        self.support = SupportService(self.store, cfg, self.clock)
        self.checker = Checker(scheduler=cfg.scheduler, push_board=self.push_board, clock=self.clock,
                               probe=cfg.probe)
        await self.checker.start()
        self.prober = Prober(cfg, self.store, self.checker, clock=self.clock,
                             on_check=self._on_check, on_transition=self._on_transition,
                             on_skip=self.metrics.count_skipped, location=cfg.probe.location,
                             gate=self.watch.gate)
        await self.prober.load()
        if not shared:
            await self._reconcile_incidents()
        try:
            await self.render()
        except Exception as exc:
            # Probing matters more than the page: the render loop tries again.
            _render_failed(exc, self.config.server.render_every)
        # Several instances: the leases decide which monitors this one probes, from nothing.
        self.prober.start(keys=[] if shared else None)
        self.watch.start()
        self.prober.add_job(self._guarded(self.prune, "prune"), cfg.storage.prune_every, "prune")
        if not shared:
            # Several instances: the leader's duties run these (cluster/duties.py), and the leader
            # alone sends subscriber mail (`_lead`).
            self.prober.add_job(self._guarded(self.tick, "incident tick"), TICK_EVERY_S, "incidents")
            if self.support.enabled:
                self.prober.add_job(self._guarded(self.support_tick, "support tick"), TICK_EVERY_S,
                                    "support")
            if self.announcer is not None and self.announcer.active:
                self.prober.add_job(self._guarded(self.announcer.tick, "maintenance notices"), 1.0,
                                    "announce")
            if self.mailer is not None:
                self.mailer.start()
        if self.subscriptions is not None:
            self.prober.add_job(self._guarded(self.subscriptions_housekeeping, "subscriptions housekeeping"),
                                cfg.storage.prune_every, "subscriptions")
        self._tasks.append(asyncio.create_task(self._flush_loop(), name="flush"))
        self._tasks.append(asyncio.create_task(self._render_loop(), name="render"))
        # After a config change every case's figures are recomputed: in the background, as it takes
        # about a millisecond a case; the figures of a case not reached yet stay as they were.
        self._tasks.append(asyncio.create_task(self._refresh_support(), name="support-refresh"))
        if self.serve:
            from statuspage.web.limits import server_limits
            from statuspage.web.server import build_app, serve

            self.app = build_app(
                config=cfg, store=self.store, push_board=self.push_board, incidents=self.incidents,
                site_dir=self._served_dir, metrics=self.metrics, clock=self.clock,
                on_change=self._admin_changed if shared else self.mark_dirty, support=self.support,
                health=self.health, subscriptions=self.subscriptions,
            )
            self.server = await serve(self.app, cfg.server.host, cfg.server.port, self._sockets,
                                      access_log=cfg.server.access_log, limits=server_limits(cfg))
        if shared:
            self._start_cluster_loops()
        self._update_cluster_metrics()
        self._started = True

    # --- several instances (a shared database) -------------------------------------------------------

    async def _start_cluster_parts(self, store: Store) -> None:
        cfg = self.config
        instance = cfg.cluster.instance or default_instance_name()
        # Instances of one location share its monitors (their own set of shard leases).
        self.coordinator = await open_coordinator(cfg.storage, instance,
                                                  cfg.probe.location if cfg.located else "")
        assert self.coordinator is not None
        self.coordinator.on_announce(self._announced)
        tokens = {m.token: m.key for _, _, m in cfg.monitors() if m.type == "push" and m.token}
        self.push_board = SharedPushBoard(store, tokens, self.clock)
        for _, _, mon in cfg.monitors():
            self._keys_by_shard.setdefault(shard_of(mon.key, cfg.cluster.shards), []).append(mon.key)
        # Confirmed transitions are the leader's business here; this instance only reports them.
        self.transition_hooks = []
        self._private_site = Path(tempfile.mkdtemp(prefix="statuspage-site-"))
        site = cfg.site.model_copy(update={"output_dir": str(self._private_site)})
        self._follower_worker = RenderWorker(cfg.model_copy(update={"site": site}))
        self._served_dir = self._private_site
        log.info("cluster: instance=%s database=%s", instance, store.path)

    def _start_cluster_loops(self) -> None:
        assert self.coordinator is not None and self.store is not None and self.incidents is not None
        assert self.notifier is not None and self.prober is not None
        prober = self.prober
        combiner = self.combiner = (QuorumCombiner(self.config, self.store, clock=self.clock)
                                    if self.config.located else None)
        self.duties = LeaderDuties(
            self.config, self.store, self.incidents, self.notifier, instance=self.coordinator.instance,
            local_states=(lambda: combiner.states) if combiner is not None else (
                lambda: {k: prober.states[k] for k in prober.scheduled if k in prober.states}),
            before_refresh=combiner.round if combiner is not None else None,
            on_changed=self.mark_dirty, on_round=self._leader_round, clock=self.clock,
            on_tick=self.support_tick if self.support is not None and self.support.enabled else None,
            each_round=self.announcer.tick if self.announcer is not None and self.announcer.active else None)
        self.node = ClusterNode(self.coordinator, self.config.cluster, on_gained=self._gained,
                                on_lost=self._lost, on_lead=self._lead, on_depose=self._depose)
        self.node.start()
        self._tasks.append(asyncio.create_task(self._push_sync_loop(), name="push-sync"))

    def _leader_round(self, exc: Exception | None) -> None:
        # A leader that cannot act (its database full or away) is on /healthz, like a failing flush.
        if exc is None:
            self.health.ok("leader")
            return
        reason = unavailable_reason(exc)
        self.health.failed("leader", f"incidents and notifications wait: the database {reason}" if reason
                           else f"incidents and notifications wait: {exc.__class__.__name__}: {exc}")

    def _update_cluster_metrics(self) -> None:
        probed = len(self.prober.scheduled) if self.prober is not None else 0
        self.metrics.set_cluster(self.is_leader, probed)

    def _keys(self, shards: set[int]) -> list[str]:
        return [k for shard in sorted(shards) for k in self._keys_by_shard.get(shard, [])]

    async def _gained(self, shards: set[int]) -> None:
        assert self.prober is not None
        await self.prober.adopt(self._keys(shards))
        self._update_cluster_metrics()

    async def _lost(self, shards: set[int]) -> None:
        assert self.prober is not None and self.store is not None
        await self.prober.release(self._keys(shards))
        self._update_cluster_metrics()
        await self.store.flush()  # before anyone else loads these monitors' state

    async def _lead(self, epoch: int) -> None:
        assert self.duties is not None
        self._duties_task = asyncio.create_task(self._lead_loop(epoch), name="leader")
        if self.mailer is not None:
            self.mailer.start(epoch)  # the leader alone sends subscriber mail, claimed under its epoch
        self._update_cluster_metrics()
        self.mark_dirty()  # the leader writes site.output_dir from now on

    async def _lead_loop(self, epoch: int) -> None:
        assert self.duties is not None and self.node is not None
        await self.duties.run(epoch, self.config.cluster.poll_every)
        await self.node.depose("a leader write was refused: another instance leads")

    async def _depose(self) -> None:
        task, self._duties_task = self._duties_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.notifier is not None:
            self.notifier.drop_queued()  # claimed rows not sent yet: the next leader claims them again
        if self.mailer is not None:
            await self.mailer.close()  # what it sent leaves the outbox; the rest waits for the next leader
        self.health.ok("leader")  # a follower has no leader round to fail
        self._update_cluster_metrics()
        if not self._closing:
            self.mark_dirty()

    def _announced(self, payload: str) -> None:
        # Another instance changed something: show it, and if we lead, act on it now.
        self.mark_dirty()
        if self.duties is not None and self.is_leader:
            self.duties.wake.set()

    async def _admin_changed(self) -> None:
        self.mark_dirty()
        assert self.store is not None and self.coordinator is not None
        try:
            await self.store.flush()  # the outbox rows of its notifications, for the leader
            await self.coordinator.announce("admin")
        except Exception as exc:
            log.warning("cluster: could not announce an admin change (%s)", exc.__class__.__name__)

    async def _push_sync_loop(self) -> None:
        board = self.push_board
        assert isinstance(board, SharedPushBoard)
        while True:
            await asyncio.sleep(self.config.cluster.poll_every)
            try:
                await board.sync()
            except Exception as exc:
                log.debug("push sync failed: %s", exc.__class__.__name__)

    async def _start_subscriptions(self) -> None:
        # Before the notifier starts: subscribers are one of its destinations (the same outbox).
        from statuspage.announce import Announcer

        assert self.store is not None and self.notifier is not None
        if self.config.subscriptions is not None:
            from statuspage.subscriptions.mailer import Mailer
            from statuspage.subscriptions.service import SubscriptionService

            self.subscriptions = SubscriptionService(self.config, self.store, self.clock)
            await self.subscriptions.start()
            self.mailer = Mailer(self.config, self.store, self.subscriptions.secret, clock=self.clock)
            self.subscriptions.on_mail = self.mailer.wake
        self.announcer = Announcer(self.config, self.store, self.notifier, self.subscriptions, self.clock)

    # --- component status and incidents ------------------------------------------------------------

    def component_status(self, page: str, component: str) -> ComponentStatus:
        """A component's live status from its monitors' confirmed states (maintenance not applied)."""
        if self.duties is not None:
            return self.duties.status(page, component)  # every instance's monitors, as the leader read them
        assert self.prober is not None
        states = [self.prober.states[k] for k in self._monitors_of.get(component_key(page, component), [])]
        return component_status(states)

    def _sighting(self, component: str) -> Sighting:
        assert self.prober is not None
        page, _, comp = component.partition("/")
        states = tuple(self.prober.states[m] for m in self._monitors_of.get(component, []))
        return Sighting(component, self.component_status(page, comp), states)

    async def _act(self, action: OutageAction) -> bool:
        """Carry out what the outage tracker asked; True when an incident changed."""
        assert self.incidents is not None
        done = await self.incidents.carry_out(action)
        self.outages.done(done)  # only once acted on: a failed write is asked again (`tick`)
        return not isinstance(done, HoldForMaintenance)

    async def _reconcile_incidents(self) -> None:
        # After a restart: outages confirmed before the stop get (or keep) their incident, and an
        # automatic incident whose components all recovered while we were away moves on.
        assert self.incidents is not None and self.store is not None
        now = self.clock()
        sightings = [self._sighting(key) for key in self._monitors_of]
        windows = {page: await self.incidents.maintenance_windows(page, now)
                   for page in {s.page for s in sightings if s.major}}
        open_incidents = await self.store.list_incidents(open_only=True)
        for action in self.outages.reconcile(sightings, open_incidents, now, windows):
            await self._act(action)

    async def _incident_hook(self, component: str, event: CheckEvent) -> None:
        assert self.incidents is not None
        sighting = self._sighting(component)
        now = self.clock()
        windows = (await self.incidents.maintenance_windows(sighting.page, now)
                   if self.outages.starts_outage(sighting) else [])
        action = self.outages.change(sighting, now, windows)
        if action is not None:
            await self._act(action)

    async def tick(self) -> None:
        """Auto-resolve and reminders; outages that outlast their maintenance window become incidents;
        re-render when an incident changed."""
        assert self.incidents is not None
        try:
            await self._act_on_missed_transitions()
        except Exception as exc:
            log.debug("incidents still wait for the database: %s", exc)  # /healthz says why
        changed = False
        now = self.clock()
        windows = {page: await self.incidents.maintenance_windows(page, after)
                   for page, after in self.outages.windows_needed(now).items()}
        for action in self.outages.due(windows, now):
            changed = await self._act(action) or changed
        if await self.incidents.tick() or changed:
            self.mark_dirty()

    async def _refresh_support(self) -> None:
        assert self.support is not None
        try:
            if await self.support.ensure_current():
                self.mark_dirty()
        except Exception:
            log.exception("support: recomputing the cases failed; the next start tries again")

    async def support_tick(self) -> None:
        """Hand the support-case alerts that fell due to the notifier (`case.*` events), once each."""
        assert self.support is not None and self.notifier is not None and self.store is not None
        alerts = await self.support.due_alerts()
        if not alerts:
            return
        for alert in alerts:
            log.warning("support alert case=%s kind=%s due=%.0f", alert.case_id, alert.kind, alert.due_at)
            self.notifier.notify_case(alert)
        await self.store.flush()  # the outbox rows first: an alert marked sent is never lost
        await self.support.mark_alerted(alerts)

    # --- checks ------------------------------------------------------------------------------------

    def _on_check(self, event: CheckEvent) -> None:
        for hook in self.check_hooks:
            hook(event)
        key = event.result.monitor
        if self._run_states.get(key) != event.state.run_state:
            # A monitor's first result, or it turned degraded (or back): the page shows it without
            # waiting for the periodic render.
            self.mark_dirty()
            self._announce_states = self.node is not None
            self._run_states[key] = event.state.run_state

    async def _on_transition(self, component: str, event: CheckEvent) -> None:
        # Commit the transition before incidents act on it: an incident never refers to an
        # outage the database does not have.
        assert self.store is not None
        try:
            await self.store.flush()
            for hook in self.transition_hooks:
                await hook(component, event)
        except Exception:
            if self.transition_hooks:
                # The database refused (disk full): the incident policy acts on it at a later tick.
                self._unacted.append((component, event))
            else:
                # Several instances: the leader reads the state once a flush gets it into the database.
                self._announce_states = True
            raise
        # The outbox rows of the notifications it caused: committed now, not at the next flush.
        await self.store.flush()
        self.mark_dirty()
        if self.coordinator is not None:
            # The leader acts on it at once (it also re-reads the states every poll_every).
            if self.duties is not None and self.is_leader:
                self.duties.wake.set()
            with contextlib.suppress(Exception):
                await self.coordinator.announce("states")

    async def _act_on_missed_transitions(self) -> None:
        """Transitions the incident policy could not act on while the database refused writes, in order
        (each judged on the component's status now: an outage that ended meanwhile opens nothing)."""
        while self._unacted:
            component, event = self._unacted[0]
            assert self.store is not None
            await self.store.flush()
            for hook in self.transition_hooks:
                await hook(component, event)
            self._unacted.pop(0)
            self.mark_dirty()

    # --- housekeeping --------------------------------------------------------------------------------

    def mark_dirty(self) -> None:
        """Ask for a re-render soon (coalesced)."""
        self._dirty.set()

    async def render(self) -> None:
        """Write the site from the database now and refresh the metrics from the same snapshot.

        The work happens in the render worker process; flushing first means it sees every check."""
        assert self.store is not None
        try:
            await self.flush()
        except Exception:
            # The database refuses writes (disk full, away; /healthz says so): render what it has.
            log.debug("rendering without the latest checks: the flush failed")
        leading = self.is_leader
        worker = self.render_worker if leading or self._follower_worker is None else self._follower_worker
        try:
            done = await worker.render(self.clock())
        except Exception as exc:
            self.health.failed("render", exc)
            raise
        self.health.ok("render")
        if self.node is not None:
            # Serve what was just rendered: site.output_dir while leading, the private folder otherwise.
            target = Path(self.config.site.output_dir) if leading else self._private_site
            if target is not None and target != self._served_dir:
                self._served_dir = target
                if self.app is not None:
                    from statuspage.web.server import set_site_dir

                    set_site_dir(self.app, target)
                # The other worker's process is idle now: stop it.
                idle = self._follower_worker if leading else self.render_worker
                if idle is not None:
                    await idle.close()
        self.renders += 1
        self._render_seconds = done.seconds
        self.metrics.set_snapshot_text(done.metrics)
        self.metrics.set_store_pending(self.store.pending)
        log.debug("rendered written=%d unchanged=%d removed=%d seconds=%.3f", done.written, done.unchanged,
                  done.removed, done.seconds)

    async def _render_loop(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that
            # arrives as the event is set, and the loop then outlived close() by render_every.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.server.render_every):
                    await self._dirty.wait()
            # Changes share a render for at least as long as the last one took: at 50,000 monitors
            # (seconds a render, a change every few milliseconds at start-up) the worker then takes
            # at most half a core from the checks, and a small site still renders within 0.3 s.
            await asyncio.sleep(max(RENDER_COALESCE_S, min(self._render_seconds, 30.0)))
            self._dirty.clear()
            try:
                await self.render()
            except Exception as exc:
                if str(exc).startswith(UNAVAILABLE) or isinstance(exc, StoreUnavailable):
                    log.warning("render skipped: %s", exc)
                else:
                    _render_failed(exc, self.config.server.render_every)

    async def flush(self) -> None:
        """Commit what the store buffered; /healthz says so while it keeps failing (rows stay buffered)."""
        assert self.store is not None
        try:
            await self.store.flush()
        except Exception as exc:
            reason = unavailable_reason(exc) or str(exc) or type(exc).__name__
            self.health.failed("flush", f"the database {reason}; {self.store.pending} rows wait in memory")
            raise
        self.health.ok("flush")
        self._check_database_file()

    def _check_database_file(self) -> None:
        # A database file deleted (or replaced) under a running process still takes every write, into
        # a file nobody will ever open again: say so on /healthz.
        path = self.config.storage.path
        if self._database_file is not None and file_identity(path) != self._database_file:
            self.health.failed("database", f"the database file {path} was deleted or replaced while running; "
                               "what is written now is lost: restore it and restart statuspage")

    async def _flush_loop(self) -> None:
        assert self.store is not None
        failures, logged = 0, -math.inf
        while True:
            # While the database refuses writes (disk full, a restart), try less often: every retry
            # rewrites the whole buffer. Every row stays buffered until one succeeds.
            await asyncio.sleep(FLUSH_EVERY_S * min(2 ** min(failures, 8), FLUSH_BACKOFF_MAX))
            try:
                await self.flush()
            except Exception as exc:
                failures += 1
                if time.monotonic() - logged >= 60.0:
                    logged = time.monotonic()
                    reason = unavailable_reason(exc)
                    if reason is not None:  # the database's own state (full, away): no traceback
                        log.warning("flush failed: the database %s; rows stay buffered and are retried "
                                    "(pending=%d)", reason, self.store.pending)
                    else:
                        log.exception("flush failed; rows stay buffered and are retried (pending=%d)",
                                      self.store.pending)
                continue
            if failures:
                log.info("flush works again after %d failed attempts", failures)
            failures = 0
            self.metrics.set_store_pending(self.store.pending)
            self.metrics.set_store_dropped(int(getattr(self.store, "dropped", 0)))
            if self._announce_states and self.coordinator is not None:
                self._announce_states = False
                with contextlib.suppress(Exception):
                    await self.coordinator.announce("states")

    async def prune(self) -> None:
        """Delete raw results older than the retention; state runs and hourly figures stay."""
        assert self.store is not None
        if not self.is_leader:
            return  # one instance of several prunes the shared database
        before = self.clock() - self.config.storage.raw_retention
        deleted = await self.store.prune_results(before)
        if deleted:
            log.info("pruned results=%d", deleted)

    async def subscriptions_housekeeping(self) -> None:
        """Delete subscription requests never confirmed in time and notices long delivered."""
        if self.subscriptions is not None and self.is_leader:  # one instance of several does it
            await self.subscriptions.housekeeping()

    def hurry(self) -> None:
        """Cut the wait for running checks short (a second Ctrl-C while stopping)."""
        if self.prober is not None:
            self.prober.hurry()
    def _guarded(self, job: Callable[[], Awaitable[None]], name: str) -> Callable[[], Awaitable[None]]:
        """`job` for the scheduler: an error is one log line and the job runs again at its next turn;
        a run cut short by shutdown (its store closing under it) is not an error at all."""

        async def run() -> None:
            if self._closing:
                return
            try:
                await job()
            except Exception:
                if self._closing:
                    log.debug("%s interrupted by shutdown", name, exc_info=True)
                else:
                    log.exception("%s failed; it runs again at its next turn", name)

        return run

    async def close(self) -> None:
        """Stop serving and scheduling, let running checks end, flush, close everything."""
        self._closing = True
        if self.server is not None:
            await self.server.cleanup()
            self.server = None
        for sock in self._sockets:
            sock.close()  # bound but never served (start failed), or already closed by the server
        self._sockets = []
        if self.node is not None:
            await self.node.pause()  # no more lease or leadership changes while we stop
            await self._depose()
        await self.watch.stop()
        if self.prober is not None:
            await self.prober.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.render_worker.close()
        if self._follower_worker is not None:
            await self._follower_worker.close()
        if self.checker is not None:
            await self.checker.close()
        if self.subscriptions is not None:
            await self.subscriptions.close()
        if self.notifier is not None:
            # Before the store: what it delivers while closing leaves the outbox in the last flush.
            await self.notifier.close()
        if self.mailer is not None:
            # Mail not sent yet stays in the subscriber outbox for the next start.
            await self.mailer.close()
        if self.store is not None:
            try:
                await self.store.close()
            finally:
                if self.node is not None:
                    await self.node.close()  # releases our shards: after our last rows are written
                if self.coordinator is not None:
                    await self.coordinator.close()
                if self._private_site is not None:
                    shutil.rmtree(self._private_site, ignore_errors=True)
        if self._started:  # a start that failed says so in one line, not two
            log.info("stopped")


def _render_failed(exc: Exception, retry_in: float) -> None:
    """One line on the story (what failed, that the old site stays); the traceback at debug level."""
    text = str(exc).strip().splitlines()
    # A RenderError carries the worker's traceback: its last line names the actual error.
    reason = text[-1] if text else type(exc).__name__
    events.error("render failed: %s (the site keeps its last files; next try within %s)", reason,
                 format_duration(retry_in))
    log.debug("render failure", exc_info=exc)


async def run_until_stopped(runtime: Runtime, stop: asyncio.Event | None = None,
                            before_close: Callable[[], Awaitable[None]] | None = None) -> None:
    """Start `runtime`, run until SIGINT/SIGTERM (or `stop` is set), then await `before_close()` (what
    still uses the runtime's store stops first) and close it."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            log.info("stopping now: running checks are cancelled")
            runtime.hurry()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal)
    refreeze: asyncio.TimerHandle | None = None
    try:
        await runtime.start()
        # What exists now (config, the timer, states) lives as long as the process: out of the cyclic
        # collector's sight, a full collection no longer walks every monitor's objects, which at
        # 50,000 monitors paused the event loop (and every check due meanwhile) for 100 ms and more.
        # Once more when every monitor has had its first check (its run tail, response-time hour).
        gc.freeze()
        settle = max((m.interval_s + m.timeout_s for _, _, m in runtime.config.monitors()), default=0.0)
        refreeze = loop.call_later(min(settle, 600.0) + 5.0, gc.freeze)
        await stop.wait()
        log.info("stopping")
    finally:
        if refreeze is not None:
            refreeze.cancel()
        if before_close is not None:
            await before_close()
        await runtime.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
