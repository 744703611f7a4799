"""The prober: every monitor's interval runs on one timer (probe/timer.py); check → confirm → record.

APScheduler runs the housekeeping jobs and push monitors' one-off runs. Monitors start spread over
their first interval (so 2,000 monitors at 30 s don't fire together), one
run of a monitor never overlaps the next, and a global semaphore caps concurrent checks. A storage
or incident-hook error is logged and never stops the loop or another monitor.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from statuspage.config import Config, Monitor
from statuspage.locations.quorum import location_key
from statuspage.models import CheckResult, LatencyAggregate, MonitorState, RunRow, component_key
from statuspage.probe.checks import Checker, Push, PushStatus
from statuspage.probe.states import RunIds, Transition, apply_check
from statuspage.probe.timer import Fire, SlotTimer, wake_gap
from statuspage.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CheckEvent:
    """What one scheduled check produced, for observers (metrics, incidents, rendering)."""

    result: CheckResult
    state: MonitorState
    transition: Transition | None
    lag: float
    """Seconds between the intended and the actual start of the check (probe/timer.py)."""
    duration: float
    """Seconds the check took."""


class CheckObserver(Protocol):
    """Receives every check event; must be quick and must not raise into the prober."""

    def __call__(self, event: CheckEvent) -> None: ...


TransitionHook = Callable[[str, CheckEvent], Awaitable[None]]
"""Called with the component key after a monitor's confirmed state changed."""

SkipHook = Callable[[str, int], None]
"""Called with (reason, how many) when scheduled checks produce no result: `local` (the prober's own
machine was short of resources), `late` (slots merged into a later run because the process could not
run them in time) or `overlap` (the monitor's previous check was still running); see probe/timer.py."""

SKIP_LOG_EVERY_S = 60.0


class Prober:
    """Schedules and runs every monitor's checks and records them in the store."""

    def __init__(
        self,
        config: Config,
        store: Store,
        checker: Checker,
        *,
        clock: Callable[[], float] = time.time,
        on_check: CheckObserver | None = None,
        on_transition: TransitionHook | None = None,
        on_skip: SkipHook | None = None,
        location: str = "local",
        gate: Callable[[CheckResult], bool] | None = None,
    ) -> None:
        self.config = config
        self.on_skip = on_skip
        self._skip_logged: dict[str, tuple[float, int]] = {}
        self.store = store
        self.checker = checker
        self._clock = clock
        self._on_check = on_check
        self._on_transition = on_transition
        self.monitors: dict[str, Monitor] = {m.key: m for _, _, m in config.monitors()}
        self.location = location
        """The probe location this prober checks from (statuspage/locations)."""
        self._gate = gate
        """Whether a result counts (False: this location is unhealthy, the failure is no data)."""
        self.store_keys: dict[str, str] = {k: k for k in self.monitors}
        """Monitor key → the key its state and runs are stored under: the monitor's own with one
        location, `key@location` with several (the leader combines them: locations/quorum.py)."""
        if len(config.probe.all_locations()) > 1:
            self.monitors = {k: m for k, m in self.monitors.items() if location in (m.locations or ())}
            self.store_keys = {k: location_key(k, location) for k in self.monitors}
        self.component_of: dict[str, str] = {
            m.key: component_key(p.slug, c.slug) for p, c, m in config.monitors()
        }
        self.states: dict[str, MonitorState] = {}
        self._tails: dict[str, list[RunRow]] = {}
        self._ids = RunIds()
        self._latency: dict[str, tuple[int, LatencyAggregate]] = {}
        self._limit = asyncio.Semaphore(config.scheduler.max_concurrency)
        self._scheduler: AsyncIOScheduler | None = None
        self._timer: SlotTimer | None = None
        self._busy: set[str] = set()
        """Monitors whose interval run is going (a slot that comes meanwhile is refused: overlap)."""
        self._running: dict[asyncio.Task[Any], str] = {}
        self._stopping = False
        self.scheduled: set[str] = set()
        """The monitors this process probes now (all of them, unless several instances share them)."""
        self._push_keys: dict[str, str] = {
            m.token: k for k, m in self.monitors.items() if m.type == "push" and m.token
        }

    async def load(self) -> None:
        """Register monitors and resume their persisted confirmation state and run tails."""
        await self.store.register_monitors(self.monitors)
        if self._located:
            await self.store.register_monitors(self.store_keys.values())
        saved = await self.store.load_monitor_states()
        self.states = {k: saved.get(self.store_keys[k], MonitorState()) for k in self.monitors}
        self._restore_pushes()
        self._tails = await self._load_tails(self.monitors)
        self._ids = RunIds(await self.store.last_run_id())
        # Merge into this hour's stored response times rather than overwrite them after a restart.
        hour = int(self._clock() // 3600)
        key_of = {s: k for k, s in self.store_keys.items()}
        for stored, data in (await self.store.latency_hour(hour)).items():
            key = key_of.get(stored, "")
            if key in self.monitors:
                try:
                    self._latency[key] = (hour, LatencyAggregate.from_json(json.loads(data)))
                except ValueError:
                    log.warning("ignoring unreadable latency aggregate monitor=%s hour=%d", key, hour)

    @property
    def _located(self) -> bool:
        return any(k != s for k, s in self.store_keys.items())

    async def _load_tails(self, keys: Iterable[str]) -> dict[str, list[RunRow]]:
        """Run tails by monitor key, read under their stored keys."""
        wanted = list(keys)
        tails = await self.store.load_run_tails([self.store_keys[k] for k in wanted])
        return {k: tails.get(self.store_keys[k], []) for k in wanted}

    def start(self, keys: Iterable[str] | None = None) -> None:
        """Put every monitor (all, or only `keys`) on the timer, first runs spread over the first
        interval; start APScheduler for housekeeping jobs and push monitors' one-off runs."""
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.start()
        self._scheduler = scheduler
        # Wall-clock time, as APScheduler's: the slots are UTC epoch seconds.
        shortest = min((m.interval_s for m in self.monitors.values()), default=30.0)
        rate = sum(1.0 / m.interval_s for m in self.monitors.values())
        self._timer = SlotTimer(self._fire, self._busy.__contains__, min_gap=wake_gap(shortest, rate))
        chosen = list(self.monitors) if keys is None else list(keys)
        for key in chosen:
            self._schedule(key)
        self._timer.start()
        self.checker.push_board.subscribe(self._on_push)
        for key in chosen:
            self._arm_deadline(key)
        log.info("probing %d monitors", len(chosen))

    def _schedule(self, key: str, aligned: bool = False) -> None:
        assert self._timer is not None
        mon = self.monitors[key]
        now = self._clock()
        # A stable per-monitor offset: restarts keep the same phase, monitors don't bunch up. Adopted
        # from another instance (`aligned`), the offset counts from the epoch instead of from now, so
        # the new owner checks in the very slots the old one did.
        offset = (zlib.crc32(key.encode()) % 10_000) / 10_000 * mon.interval_s
        first = now + ((offset - now) % mon.interval_s if aligned else offset)
        self._timer.add(key, first, mon.interval_s)
        self.scheduled.add(key)

    def _fire(self, fire: Fire) -> None:
        """The timer reached a slot of a monitor: start its run, or count the slots it skips."""
        key = fire.key
        if fire.refused:
            self.skipped("overlap", fire.overlap, f"monitor={key}")
            return
        if fire.late:
            self.skipped("late", fire.late, f"monitor={key}")
        self._busy.add(key)
        asyncio.get_running_loop().create_task(self._run_job(key, fire.intended, slot=True))

    async def adopt(self, keys: Iterable[str]) -> None:
        """Start probing monitors another instance probed until now: their confirmation state, run
        tail and this hour's response times are read from the database first (several instances)."""
        wanted = [k for k in keys if k in self.monitors and k not in self.scheduled]
        if not wanted:
            return
        # Only the adopted monitors' rows, each read in one query (not every monitor's, per round).
        stored = [self.store_keys[k] for k in wanted]
        saved = await self.store.load_monitor_states(stored)
        tails = await self._load_tails(wanted)
        hour = int(self._clock() // 3600)
        latency = await self.store.latency_hour(hour, stored)
        for key in wanted:
            self.states[key] = saved.get(self.store_keys[key], MonitorState())
            self._restore_push(key)
            self._tails[key] = tails.get(key, [])
            self._latency.pop(key, None)
            if self.store_keys[key] in latency:
                with contextlib.suppress(ValueError):
                    self._latency[key] = (hour, LatencyAggregate.from_json(
                        json.loads(latency[self.store_keys[key]])))
            if self._scheduler is not None and not self._stopping:
                self._schedule(key, aligned=True)
                self._arm_deadline(key)
        log.info("prober adopted monitors=%d", len(wanted))

    async def release(self, keys: Iterable[str], grace: float = 15.0) -> None:
        """Stop probing these monitors and wait for their running checks (their rows stay buffered)."""
        gone = {k for k in keys if k in self.scheduled}
        for key in gone:
            self.scheduled.discard(key)
            if self._timer is not None:
                self._timer.remove(key)
            if self._scheduler is not None and self.monitors[key].token is not None:
                # Only push monitors have one-off jobs (the others are on the timer): 25,000
                # released monitors were 75,000 failed lookups.
                for job_id in (f"{key}#push", f"{key}#due"):
                    with contextlib.suppress(JobLookupError):
                        self._scheduler.remove_job(job_id)
        running = [t for t, k in self._running.items() if k in gone]
        if running:
            _, pending = await asyncio.wait(running, timeout=grace)
            for task in pending:
                task.cancel()
        if gone:
            log.info("prober released monitors=%d", len(gone))

    def add_job(self, func: Callable[[], Awaitable[None]], seconds: float, job_id: str) -> None:
        """Run `func` every `seconds` on the prober's scheduler (housekeeping: prune, flush, ticks).

        Like the checks, a run is waited for at `stop()`, and neither an error nor a cancellation
        at shutdown escapes into APScheduler (which would log it as an ERROR with a traceback)."""
        assert self._scheduler is not None, "start() first"

        async def guarded() -> None:
            if self._stopping:
                return
            task = asyncio.current_task()
            assert task is not None
            self._running[task] = ""
            try:
                await func()
            except asyncio.CancelledError:
                log.info("job cancelled at shutdown job=%s", job_id)
            except Exception:
                log.exception("job failed job=%s", job_id)
            finally:
                self._running.pop(task, None)

        self._scheduler.add_job(guarded, "interval", seconds=seconds, id=job_id, max_instances=1,
                                coalesce=True, misfire_grace_time=max(1, int(seconds)))

    async def stop(self, grace: float = 15.0) -> None:
        """Stop scheduling, let running checks and jobs finish (bounded by their timeouts, at most
        `grace` seconds; `hurry()` cuts that short), then record what push monitors last heard."""
        self._stopping = True
        scheduler, self._scheduler = self._scheduler, None
        if self._timer is not None:
            self._timer.stop()
        if scheduler is not None:
            # Pause first: shutting APScheduler down cancels the running jobs' tasks at once.
            scheduler.pause()
        if self._running:
            log.info("waiting for running checks=%d (at most %gs; Ctrl-C again to stop now)",
                     len(self._running), grace)
            _, pending = await asyncio.wait(set(self._running), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5.0)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        self._judge_pushes_now()
        log.info("prober stopped")

    def hurry(self) -> None:
        """Cancel the checks still running (a second Ctrl-C): they end without a result."""
        for task in list(self._running):
            task.cancel()

    async def _run_job(self, key: str, intended: float, slot: bool = False) -> None:
        """Run one check of `key` meant to start at `intended`; `slot`: an interval run of the timer,
        whose monitor is busy until it ends (one coroutine, not a wrapper: it is every check's)."""
        if self._stopping:
            if slot:
                self._busy.discard(key)
            return
        task = asyncio.current_task()
        assert task is not None
        self._running[task] = key
        try:
            async with self._limit:
                now = self._clock()
                # Every run has its own intended start: the timer's slot, a push deadline or heartbeat.
                lag = max(0.0, now - intended)
                await self.run_check(key, lag)
        except asyncio.CancelledError:
            # Only shutdown cancels a check: it ends without a result, and without a traceback.
            log.info("check cancelled at shutdown monitor=%s", key)
        except Exception:  # pragma: no cover - run_check already guards; never kill the scheduler
            log.exception("check job failed monitor=%s", key)
        finally:
            self._running.pop(task, None)
            if slot:
                self._busy.discard(key)

    async def run_check(self, key: str, lag: float = 0.0) -> CheckEvent:
        """Check one monitor now, confirm, record; return the event."""
        mon = self.monitors[key]
        started = time.perf_counter()
        result = await self.checker.check(mon)
        duration = time.perf_counter() - started
        if result.error == "local":
            # The prober's machine, not the service, failed: no data. Nothing is confirmed, recorded
            # or counted as a check; the monitor's last state holds for its usual 2 × interval and
            # then the gap shows as no data, never as downtime or an incident.
            self.skipped("local", 1, f"monitor={key} {result.message}")
            return CheckEvent(result, self.states[key], None, lag, duration)
        if self.location != "local":
            result = replace(result, location=self.location)
        if self._gate is not None and not self._gate(result):
            # This location cannot see out (its canaries fail, or its failures look like its own):
            # the failure is no data, as `local` is, never downtime or an incident.
            self.skipped("unhealthy", 1, f"monitor={key} location={self.location}")
            return CheckEvent(result, self.states[key], None, lag, duration)
        event = self.record(result, lag, duration)
        if mon.type == "push":
            self._arm_deadline(key)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("check monitor=%s outcome=%s ms=%s error=%s", key, result.outcome,
                      None if result.latency_ms is None else round(result.latency_ms), result.error)
        if self._on_check is not None:
            try:
                self._on_check(event)
            except Exception:
                log.exception("check observer failed monitor=%s", key)
        if event.transition is not None:
            # The story line (DOWN / UP) is probe/story.py's; this one is for debugging.
            log.debug("confirmed monitor=%s state=%s at=%.3f", key, event.transition.kind,
                      event.transition.at)
            if self._on_transition is not None:
                try:
                    await self._on_transition(self.component_of[key], event)
                except Exception:
                    log.exception("transition hook failed monitor=%s", key)
        return event

    def skipped(self, reason: str, count: int, detail: str = "") -> None:
        """Count scheduled checks that gave no result; log at most one line a minute per reason."""
        if count <= 0:
            return
        if self.on_skip is not None:
            try:
                self.on_skip(reason, count)
            except Exception:
                log.exception("skip observer failed")
        now = time.monotonic()
        last, quiet = self._skip_logged.get(reason, (-SKIP_LOG_EVERY_S, 0))
        if now - last < SKIP_LOG_EVERY_S:
            self._skip_logged[reason] = (last, quiet + count)
            return
        self._skip_logged[reason] = (now, 0)
        log.warning("checks skipped reason=%s count=%d %s(%d more in the last minute)", reason, count,
                    f"{detail} " if detail else "", quiet)

    def record(self, result: CheckResult, lag: float = 0.0, duration: float = 0.0) -> CheckEvent:
        """Apply a result to confirmation and state runs and buffer it for the store (no I/O here)."""
        key = result.monitor
        mon = self.monitors[key]
        stored = self.store_keys[key]
        as_stored = result if stored == key else replace(result, monitor=stored)
        state, transition, changed = apply_check(
            self.states[key], self._tails.setdefault(key, []), as_stored,
            confirm_down=mon.confirm_down or 2, confirm_up=mon.confirm_up or 2,
            interval=mon.interval_s, ids=self._ids,
        )
        if mon.type == "push":
            state = self._with_push(mon, state)
        self.states[key] = state
        self.store.buffer_check(as_stored, state, changed)
        # Response-time charts show how fast the service answers; a refused connection has no
        # response time worth averaging in.
        if result.latency_ms is not None and result.outcome != "down":
            self._add_latency(key, result.at, result.latency_ms)
        return CheckEvent(result, state, transition, lag, duration)

    # --- push monitors: heartbeats across restarts, and the deadline check -----------------------

    def _restore_pushes(self) -> None:
        """Put the persisted last heartbeats back on the board (a restart is never a recovery)."""
        for key in self._push_keys.values():
            self._restore_push(key)

    def _restore_push(self, key: str) -> None:
        """Put one push monitor's persisted last heartbeat back on the board (an adopted monitor's
        too: the board keeps whichever is newer, this or one shared through the database)."""
        mon = self.monitors[key]
        state = self.states.get(key)
        if mon.type != "push" or mon.token is None or state is None:
            return
        last = None
        if state.push_at is not None:
            status: PushStatus = "down" if state.push_status == "down" else "up"
            last = Push(state.push_at, status, state.push_message)
        self.checker.push_board.restore(mon.token, last, state.push_waiting_since)

    def _with_push(self, mon: Monitor, state: MonitorState) -> MonitorState:
        """The state with the board's last heartbeat, so it is persisted with the confirmation."""
        assert mon.token is not None
        board = self.checker.push_board
        last = board.last(mon.token)
        if last is None:
            return replace(state, push_waiting_since=board.waiting_since(mon.token))
        return replace(state, push_at=last.at, push_status=last.status, push_message=last.message,
                       push_waiting_since=None)

    def _on_push(self, token: str, push: Push) -> None:
        key = self._push_keys.get(token)
        if key is None or key not in self.scheduled or self._scheduler is None or self._stopping:
            return  # another instance probes it (several instances), or shutting down
        self._arm_deadline(key)
        state = self.states.get(key)
        if state is None or state.last_outcome != push.status:
            # A heartbeat that changes the picture (first one, recovery, a reported failure) is
            # judged now, so the change is dated when it happened, not at the next tick.
            self._scheduler.add_job(self._run_job, "date", run_date=datetime.fromtimestamp(push.at, UTC),
                                    args=[key, push.at], id=f"{key}#push", replace_existing=True,
                                    misfire_grace_time=None)

    def _arm_deadline(self, key: str) -> None:
        """Check a push monitor again the moment its heartbeat becomes overdue."""
        mon = self.monitors[key]
        if self._scheduler is None or self._stopping or mon.token is None or key not in self.scheduled:
            return
        due = self.checker.push_board.deadline(mon.token, mon.interval_s + (mon.grace or 0.0))
        if due <= self._clock():
            return  # already overdue: the interval job reports it
        # A hair after the deadline: the scheduler's datetimes are rounded to microseconds.
        self._scheduler.add_job(self._run_job, "date", run_date=datetime.fromtimestamp(due + 0.001, UTC),
                                args=[key, due + 0.001], id=f"{key}#due", replace_existing=True,
                                misfire_grace_time=None)

    def _judge_pushes_now(self) -> None:
        """At shutdown: record a check for every push monitor with a heartbeat newer than persisted."""
        board = self.checker.push_board
        for token, key in self._push_keys.items():
            if key not in self.scheduled:
                continue  # another instance's to judge (several instances)
            last = board.last(token)
            state = self.states.get(key)
            if last is not None and state is not None and (state.push_at is None or last.at > state.push_at):
                self.record(self.checker.check_push(self.monitors[key], self._clock()))

    def _add_latency(self, key: str, at: float, latency_ms: float) -> None:
        hour = int(at // 3600)
        current = self._latency.get(key)
        if current is None or current[0] != hour:
            current = (hour, LatencyAggregate())
            self._latency[key] = current
        current[1].add(max(0.0, latency_ms))
        stored = self.store_keys[key]
        self.store.buffer_latency(stored, hour, current[1])
        if stored != key and self.location == (self.monitors[key].locations or [""])[0]:
            # Several locations: the page's response-time charts are the monitor's first location's.
            self.store.buffer_latency(key, hour, current[1])
