"""The storage interface: what every layer above `store/` may ask of the database, and nothing else.

Code above this package never knows which database it talks to; it holds a `Store` and calls these
methods. Times are UTC epoch seconds; monitors are named by their `page/component/monitor` key.

Writes come in two kinds:
- check results, state runs, confirmation states, latency hours and outbox rows are *buffered*
  (`buffer_*`, no I/O) and committed together by `flush()`, a few times a second; a failed flush
  keeps every buffered row for the next one;
- incidents, acknowledgements and maintenance windows are written at once, each in one transaction.

Errors: opening raises `StoreUnavailable` (one line, no secret) when the database cannot be reached,
refuses the credentials or does not exist; afterwards a backend raises its driver's errors
(`sqlite3.Error`, `asyncpg.PostgresError`, `OSError`) for faults of the database itself, and
`LeadershipLost` from a write inside `fenced(epoch)` when another instance has become the leader.
Reads of an id that does not exist return None rather than raise.

Several processes: a SQLite file belongs to one `statuspage run` (`shared` is False; it is always
the leader). A PostgreSQL database may be shared by several (`shared` is True); they coordinate
through the `Coordinator` that `open_coordinator` returns (see statuspage/cluster/).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from statuspage.models import (
    CaseEvent,
    CaseRow,
    CheckResult,
    Incident,
    IncidentUpdate,
    Maintenance,
    MonitorState,
    RunRow,
    SupportTotals,
)


class StoreUnavailable(Exception):
    """The database cannot be used: unreachable, wrong credentials, missing (at open), or gone away
    under a running store (a flush then keeps its rows for the next one).

    The message is one line for the operator and never carries a password; `reason` is the part
    after the database's name ("is unreachable (Connection refused)"), for sentences that name the
    database themselves (/healthz, 503 answers)."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class LeadershipLost(Exception):
    """A leader-only write was refused: another instance holds leadership now (fencing)."""


class JsonAble(Protocol):
    """Something stored as JSON (serialised at flush time, not on every check)."""

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A notification not yet delivered to one destination (the incident as JSON, as it was then)."""

    delivery_id: str
    destination: str
    event: str
    incident: str
    at: float


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A visitor subscribed (or waiting to confirm) to one page's updates by e-mail.

    `components` empty: the whole page. `salt` is random per row and enters every token's MAC.
    `confirmed_at` None until the confirmation link is used, before `confirm_expires_at`."""

    id: int
    email: str
    page: str
    locale: str
    salt: str
    created_at: float
    confirm_expires_at: float | None = None
    confirmed_at: float | None = None
    components: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Notice:
    """Something subscribers of a page are told once: `key` is unique (a repeat is ignored), `body`
    is JSON with the texts in every locale (composed by statuspage.subscriptions)."""

    key: str
    page: str
    event: str
    body: str
    components: tuple[str, ...] = ()
    """The components it is about (none: the whole page)."""


@dataclass(frozen=True, slots=True)
class MailJob:
    """One subscriber e-mail due: a `confirm`ation, an `already` subscribed reminder, or a `notice`."""

    id: int
    kind: str
    attempts: int
    subscriber: Subscriber
    notice_id: int | None = None
    notice: Notice | None = None


@dataclass(frozen=True, slots=True)
class PushRow:
    """The last heartbeat of a push monitor as the database shares it between instances."""

    monitor: str
    at: float
    status: str
    message: str


class Store(Protocol):
    """The database of one statuspage installation."""

    path: str
    """Where the database is (a file path for SQLite, the URL without password for PostgreSQL)."""
    readonly: bool
    shared: bool
    """True when several `statuspage run` processes may use this database at once (PostgreSQL)."""

    def read_transaction(self) -> AbstractAsyncContextManager[None]:
        """Every read inside sees one commit, however long it takes (a render never mixes two)."""
        ...

    async def close(self) -> None:
        """Write what is buffered and close; safe to call twice."""
        ...

    async def schema_version(self) -> int:
        """The schema version of the open database."""
        ...

    # --- monitors and their confirmation state ---------------------------------------------------

    async def register_monitors(self, keys: Iterable[str]) -> dict[str, int]:
        """Make sure every monitor key has an id; return key → id."""
        ...

    async def load_monitor_states(self, keys: Iterable[str] | None = None) -> dict[str, MonitorState]:
        """The persisted confirmation state of every monitor (or only of `keys`: what an instance
        adopts from another, read in one query), by key."""
        ...

    async def monitor_states_since(self, cursor: int) -> tuple[dict[str, MonitorState], int]:
        """The confirmation states written since `cursor` (0: every one) and the cursor for the next
        call: how the leader of several instances follows states probed elsewhere, reading only what
        changed (also rows flushed late). SQLite returns every state and cursor 0."""
        ...

    async def load_run_tails(self, keys: Iterable[str], depth: int = 3) -> dict[str, list[RunRow]]:
        """The last `depth` runs of each monitor, oldest first: what backdating may still rewrite."""
        ...

    async def last_run_id(self) -> int:
        """A run id base: ids above it are unused, and this process may hand them out in memory.

        SQLite: the largest run id so far. PostgreSQL: a fresh block of 2^32 ids per call, so several
        processes never hand out the same id."""
        ...

    # --- buffered writes -------------------------------------------------------------------------

    def buffer_check(self, result: CheckResult, state: MonitorState, runs: Iterable[RunRow] = ()) -> None:
        """Queue a check result with the monitor's new state and changed runs for the next flush."""
        ...

    def buffer_state(self, monitor: str, state: MonitorState) -> None:
        """Queue a monitor's state without a check result (the leader's combined quorum state)."""
        ...

    def buffer_runs(self, runs: Iterable[RunRow]) -> None:
        """Queue changed state runs (backdating) for the next flush."""
        ...

    def buffer_latency(self, monitor: str, hour: int, data: JsonAble) -> None:
        """Queue a monitor-hour latency aggregate (epoch hour) to be upserted at the next flush."""
        ...

    def buffer_outbox(self, row: OutboxRow) -> None:
        """Queue a notification for the outbox: it survives a crash from the next flush on."""
        ...

    def buffer_outbox_done(self, delivery_id: str, destination: str) -> None:
        """Queue the removal of a delivered (or abandoned) notification."""
        ...

    def buffer_push(self, monitor: str, at: float, status: str, message: str) -> None:
        """Queue a push monitor's heartbeat for the database (where every instance sees it)."""
        ...

    @property
    def pending(self) -> int:
        """How many buffered rows wait for the next flush."""
        ...

    async def flush(self) -> int:
        """Write everything buffered in one transaction; return how many rows were written."""
        ...

    # --- reads of probing history ----------------------------------------------------------------

    async def outbox(self) -> list[OutboxRow]:
        """Notifications left undelivered by an earlier process, oldest first."""
        ...

    async def claim_outbox(self, owner: str, epoch: int, limit: int = 100) -> list[OutboxRow]:
        """Claim, for the leader of leadership `epoch`, up to `limit` undelivered notifications not yet
        claimed under that epoch, oldest first (`FOR UPDATE SKIP LOCKED` on PostgreSQL). Rows claimed
        under an older epoch are claimed again: their leader is gone."""
        ...

    async def pushes(self) -> list[PushRow]:
        """The last heartbeat of every push monitor that has one in the database."""
        ...

    def fenced(self, epoch: int) -> AbstractAsyncContextManager[None]:
        """Inside, every write first checks that leadership `epoch` is still current and raises
        `LeadershipLost` otherwise (in the same transaction, so no write of a deposed leader lands)."""
        ...

    def atomic(self) -> AbstractAsyncContextManager[None]:
        """Inside, the writes and the outbox rows buffered (`buffer_outbox`) commit together, or none
        of them: an incident the leader opened never lacks its notification because the process died
        before the next flush (PostgreSQL; a no-op with SQLite's single process). `flush()` inside
        writes nothing (buffered rows wait for the next flush outside)."""
        ...

    async def results(self, monitor: str, since: float = 0.0, limit: int = 1000) -> list[CheckResult]:
        """Raw results of a monitor since `since`, oldest first (at most `limit`, the newest ones)."""
        ...

    async def count_results(self) -> int:
        """How many raw results are stored."""
        ...

    async def runs(self, monitors: Iterable[str], start: float, end: float) -> list[RunRow]:
        """State runs of these monitors that overlap [start, end), oldest first."""
        ...

    async def rewrite_runs(self, monitor: str, since: float, rows: Sequence[RunRow]) -> None:
        """Replace the monitor's runs that start at or after `since` by `rows` (upserted by id), at
        once, in one transaction (the leader's combined quorum runs: statuspage/locations)."""
        ...

    async def latency_hours(self, monitor: str, since_hour: int) -> list[tuple[int, str]]:
        """Hourly latency aggregates (epoch hour, JSON) of a monitor from `since_hour` on."""
        ...

    async def latency_hours_of(
        self, monitors: Iterable[str], since_hour: int
    ) -> dict[str, list[tuple[int, str]]]:
        """`latency_hours` of many monitors in a few queries: key → [(epoch hour, JSON)], hours ascending."""
        ...

    async def latency_hour(self, hour: int, keys: Iterable[str] | None = None) -> dict[str, str]:
        """Every monitor's (or only `keys`') latency aggregate (JSON) for one epoch hour, by key."""
        ...

    async def prune_results(self, before: float, chunk: int = 5000) -> int:
        """Delete raw results older than `before` in small transactions; return how many."""
        ...

    # --- incidents -------------------------------------------------------------------------------

    async def create_incident(self, incident: Incident) -> Incident:
        """Insert an incident with its updates; return it with the ids assigned."""
        ...

    async def save_incident(self, incident: Incident, new_updates: Iterable[IncidentUpdate] = ()) -> Incident:
        """Write an incident's fields and append new timeline updates, in one transaction."""
        ...

    async def acknowledge_incident(self, incident_id: int, who: str, at: float) -> bool:
        """Record the first acknowledgement atomically; False if it was already acknowledged."""
        ...

    async def mark_reminded(self, incident_id: int, at: float) -> None:
        """Remember that an acknowledgement reminder went out for this incident."""
        ...

    async def reminded_at(self, incident_id: int) -> float | None:
        """When the last acknowledgement reminder went out, if ever."""
        ...

    async def get_incident(self, incident_id: int) -> Incident | None:
        """One incident with its timeline, or None."""
        ...

    async def list_incidents(
        self,
        page: str | None = None,
        open_only: bool = False,
        since: float | None = None,
        limit: int | None = None,
        before: tuple[float, int] | None = None,
    ) -> list[Incident]:
        """Incidents newest first (started_at, then id, descending), optionally of one page, only open
        ones, active since `since`, or after the (started_at, id) `before` in that order (keyset paging)."""
        ...

    # --- maintenance -----------------------------------------------------------------------------

    async def add_maintenance(self, m: Maintenance) -> Maintenance:
        """Schedule a maintenance window; return it with its id."""
        ...

    async def cancel_maintenance(self, maintenance_id: int, at: float | None = None) -> bool:
        """Cancel a window at `at` (now by default; its iCalendar SEQUENCE goes up); False if there
        is no such window."""
        ...

    async def get_maintenance(self, maintenance_id: int) -> Maintenance | None:
        """One maintenance window, or None."""
        ...

    async def list_maintenances(
        self, page: str | None = None, ending_after: float | None = None, include_cancelled: bool = False
    ) -> list[Maintenance]:
        """Maintenance windows by start time, optionally of one page and still running after a time."""
        ...

    async def maintenance_notices_sent(self, maintenance_ids: Iterable[int]) -> set[tuple[int, float, str]]:
        """The (window id, occurrence start, kind) maintenance notices already handed out."""
        ...

    async def record_maintenance_notices(self, rows: Iterable[tuple[int, float, str]], at: float) -> None:
        """Remember maintenance notices as handed out (repeats ignored); occurrence rows older than a
        week go."""
        ...

    # --- subscriptions (statuspage.subscriptions; SQL in store/subscriptions_sql.py) -------------------

    async def subscription_secret(self, new: str) -> str:
        """The secret subscription tokens are signed with: the stored one, or `new` stored now."""
        ...

    async def request_subscription(self, email: str, page: str, components: Iterable[str], locale: str,
                                   salt: str, now: float, expires_at: float) -> str:
        """Record a subscription request and queue the mail it calls for, in one transaction; return
        that mail's kind: `confirm` (a new or still unconfirmed address: a fresh expiry, its choices
        replaced) or `already` (a confirmed address: nothing changes). At most one such mail waits per
        subscriber (a repeat queues nothing more and returns the same kind)."""
        ...

    async def get_subscriber(self, subscriber_id: int) -> Subscriber | None:
        """One subscriber with its components, or None."""
        ...

    async def confirm_subscriber(self, subscriber_id: int, salt: str, now: float) -> bool:
        """Confirm a pending subscriber whose link has not expired; False otherwise (nothing changes)."""
        ...

    async def delete_subscriber(self, subscriber_id: int) -> bool:
        """Delete a subscriber, its choices and its pending mail; False when there was none."""
        ...

    async def erase_address(self, email: str) -> int:
        """Delete every subscription of an address (LGPD erasure); return how many."""
        ...

    async def purge_subscriptions(self, now: float, notices_before: float) -> int:
        """Delete subscribers whose confirmation expired unused, and delivered notices older than
        `notices_before`; return how many subscribers went."""
        ...

    async def subscriber_counts(self) -> dict[tuple[str, bool], int]:
        """(page, confirmed) → subscribers."""
        ...

    async def publish_notice(self, notice: Notice, now: float) -> int:
        """Store a notice and queue it for every confirmed subscriber who follows its page or one of
        its components, in one transaction; return how many mails were queued (0 for a repeated key)."""
        ...

    async def due_mail(self, now: float, limit: int) -> list[MailJob]:
        """Subscriber mail due at `now`, confirmations first, oldest first."""
        ...

    async def claim_mail(self, delivery_ids: Iterable[int], now: float, until: float) -> set[int]:
        """Claim mail about to be sent: of these deliveries, those still due at `now` move out of reach
        (`due_mail` skips them) until `until`; return their ids. With several instances the leader
        claims inside `fenced(epoch)` before sending, so a deposed leader sends nothing more and two
        leaders never send the same mail; sent mail then leaves (`mail_done`), the rest is due again
        at `until`."""
        ...

    async def mail_done(self, delivery_ids: Iterable[int]) -> None:
        """Remove sent (or abandoned) mail from the outbox, in one transaction."""
        ...

    async def mail_retry(self, retries: Iterable[tuple[int, float]]) -> None:
        """Count a failed attempt of each (delivery id, next attempt time)."""
        ...

    async def mail_queued(self) -> dict[int, int]:
        """Priority (0 confirmations, 1 notices) → mails waiting."""
        ...

    # --- support cases (statuspage.support; SQL in store/support_sql.py) -----------------------------

    async def add_case_event(self, event: CaseEvent) -> bool:
        """Store one case event at once; False when (case_id, event_id) is already stored (a repeat)."""
        ...

    async def case_events(self, case_id: str) -> list[CaseEvent]:
        """Every stored event of a case, by time."""
        ...

    async def save_cases(self, rows: Iterable[CaseRow]) -> None:
        """Upsert cases' figures in one transaction; a stored row computed from more events is kept."""
        ...

    async def get_case(self, case_id: str) -> CaseRow | None:
        """One case's figures, or None."""
        ...

    async def list_cases(self, *, open_only: bool = False, since: float | None = None,
                         limit: int = 100) -> list[CaseRow]:
        """Cases newest first (by opening), optionally only open ones or opened since `since`."""
        ...

    async def case_ids(self, after: str = "", limit: int = 1000) -> list[str]:
        """Case ids in order, `limit` at a time after `after` (to walk every case in chunks)."""
        ...

    async def support_totals(self, since_month: str, now: float) -> dict[str | None, SupportTotals]:
        """Aggregates of the cases opened in months `since_month` (YYYY-MM, site timezone) and later,
        per page slug and under None for every case; deadlines judged at `now`. Computed in the
        database (GROUP BY; the SQL and the assembly are in store/support_sql.py)."""
        ...

    async def open_case_counts(self, now: float) -> dict[str, tuple[int, int, int]]:
        """Per channel: open cases, of which past the first-response limit, past the resolution limit."""
        ...

    async def case_alert_candidates(self, now: float, max_age: float) -> list[CaseRow]:
        """Open cases past an alert lead whose deadline is at most `max_age` seconds old."""
        ...

    async def case_alerts_sent(self, case_ids: Iterable[str]) -> set[tuple[str, str]]:
        """The (case id, alert kind) pairs already sent among these cases."""
        ...

    async def record_case_alerts(self, alerts: Iterable[tuple[str, str, float]]) -> None:
        """Remember sent alerts as (case id, kind, at); repeats are ignored."""
        ...

    async def support_meta(self, key: str) -> str | None:
        """A stored support fact (the config fingerprint the figures were computed with)."""
        ...

    async def set_support_meta(self, key: str, value: str) -> None:
        """Store a support fact."""
        ...

    async def integrity_check(self) -> str:
        """The database's own verdict on its consistency (`ok` when sound)."""
        ...



class Coordinator(Protocol):
    """How instances sharing one database agree on who probes what and who leads (PostgreSQL only;
    the protocol is described in statuspage/cluster/__init__.py)."""

    instance: str
    """This instance's name, unique among the live ones."""

    async def heartbeat(self, ttl: float) -> int:
        """Record this instance as alive; return how many instances are alive (seen within `ttl` s)."""
        ...

    async def claim_shards(self, shards: int, want: int, ttl: float) -> set[int]:
        """Renew this instance's shard leases for `ttl` s and claim free or expired ones up to `want`;
        return the shards it holds now."""
        ...

    async def release_shards(self, shards: Iterable[int]) -> None:
        """Give shards up at once (their monitors stopped and were flushed first)."""
        ...

    async def try_lead(self) -> int | None:
        """Become the leader if nobody is; return the new leadership epoch (the fencing token) or None."""
        ...

    async def still_leading(self, timeout: float) -> bool:
        """True while leadership is certainly held; False (and given up) once in doubt."""
        ...

    async def resign(self) -> None:
        """Stop leading."""
        ...

    def on_announce(self, callback: Callable[[str], None]) -> None:
        """Call `callback(payload)` for every announcement any instance makes."""
        ...

    async def listen(self) -> None:
        """(Re)connect the announcement listener; called periodically."""
        ...

    async def announce(self, payload: str) -> None:
        """Tell every instance that something changed (`states`, `admin`)."""
        ...

    async def close(self) -> None:
        """Close its connections (leases expire by themselves); idempotent."""
        ...


def log_schema(log: logging.Logger, where: str, before: int, after: int) -> None:
    """One line for what opening the database did to its schema: created at version `after` (an
    empty database), upgraded from `before` to `after`, or nothing when it was current."""
    if before == 0 and after > 0:
        log.info("created database=%s schema=v%d", where, after)
    elif before < after:
        log.info("migrated database=%s schema=v%d→v%d", where, before, after)
