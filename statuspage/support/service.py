"""Support cases in and figures out: ingest events idempotently, keep each case's figures current,
find the alerts that are due, publish the indicators.

Every event is stored once per (case id, event id); after each new one the case's figures are
recomputed from all its stored events (`clocks.fold` + `Clocks.figures`), so duplicates change
nothing and late or shuffled events fold into the same final state. The figures depend on the
config (calendars, limits): `ensure_current()` recomputes every case when the config they were
computed with changed (its fingerprint is kept in the database).

Errors (all `SupportError`): `NotConfigured` (no `support:` section), `UnknownCase`, `CaseConflict`
(a case id opened again on another channel), `BadEvent` (a field the event kind needs is missing).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from statuspage.config import Config
from statuspage.models import (
    CaseAlert,
    CaseEvent,
    CaseEventKind,
    CaseOutcome,
    CaseRow,
    Channel,
    Severity,
    SupportTotals,
)
from statuspage.store import Store
from statuspage.support.alerts import ALERT_MAX_AGE_S, pending_alerts
from statuspage.support.clocks import Clocks, fold
from statuspage.support.indicators import SupportIndicators, SupportSnapshot, build_indicators, months_back

__all__ = [
    "BadEvent", "CaseConflict", "NotConfigured", "SupportError", "SupportService", "UnknownCase",
    "config_fingerprint", "default_event_id", "support_snapshot",
]

log = logging.getLogger(__name__)

PUBLISHED_MONTHS = 12
"""How many months (the current one included) the indicators cover."""


class SupportError(Exception):
    """A case request that cannot be carried out."""


class NotConfigured(SupportError):
    """The config has no `support:` section."""


class UnknownCase(SupportError):
    """No case has this id."""


class CaseConflict(SupportError):
    """The case exists with different facts (another channel)."""


class BadEvent(SupportError):
    """An event without what its kind needs (a severity, an outcome)."""


def default_event_id(kind: str, at: float, severity: str | None = None, outcome: str | None = None) -> str:
    """An event id derived from its content, so the same report sent twice is stored once."""
    return f"{kind}@{at:.3f}" + (f":{severity}" if severity else "") + (f":{outcome}" if outcome else "")


def config_fingerprint(config: Config) -> str:
    """A digest of everything the stored figures depend on (not the webhook secret)."""
    support = config.support
    data = {
        "support": None if support is None else support.model_dump(mode="json", exclude={"chatwoot"}),
        "severities": {k: v.model_dump() for k, v in config.sla.severities.items()},
        "timezone": config.site.timezone,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


class SupportService:
    """Cases of one installation: ingestion, figures, alerts and indicators over a `Store`."""

    def __init__(self, store: Store, config: Config, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.clocks = Clocks(config) if config.support is not None else None

    @property
    def enabled(self) -> bool:
        """True when the config has a `support:` section."""
        return self.clocks is not None

    def _clocks(self) -> Clocks:
        if self.clocks is None:
            raise NotConfigured("support is not configured: add a support: section with channels")
        return self.clocks

    # --- ingestion ---------------------------------------------------------------------------------

    async def open_case(self, case_id: str, channel: Channel, *, at: float | None = None,
                        page: str | None = None, severity: Severity | None = None) -> tuple[CaseRow, bool]:
        """Open a case (idempotent: the same id again returns it); True when it is new.

        Raises CaseConflict when the id is already open on another channel."""
        self._clocks()
        existing = await self.store.get_case(case_id)
        if existing is not None and existing.channel != channel:
            raise CaseConflict(f"case {case_id} was opened on {existing.channel}, not {channel}")
        opened_at = self.clock() if at is None else at
        events = [CaseEvent(case_id, f"opened@{opened_at:.3f}", "opened", opened_at, channel=channel,
                            page=page)]
        if severity is not None and existing is None:
            events.append(CaseEvent(case_id, default_event_id("severity", opened_at, severity), "severity",
                                    opened_at, severity=severity))
        row, _ = await self.ingest(events)
        assert row is not None  # it has an opened event now
        return row, existing is None

    async def record(self, case_id: str, kind: CaseEventKind, *, at: float | None = None,
                     severity: Severity | None = None, outcome: CaseOutcome | None = None,
                     event_id: str | None = None) -> tuple[CaseRow, bool]:
        """Record an event on an existing case; True when it was new (False: a repeat, nothing changed).

        Raises UnknownCase, BadEvent."""
        self._clocks()
        if kind == "opened":
            raise BadEvent("open a case with open_case")
        if kind == "severity" and severity is None:
            raise BadEvent("a severity event needs severity (T1–T4)")
        if kind == "resolved" and outcome is None:
            raise BadEvent("a resolved event needs an outcome")
        if await self.store.get_case(case_id) is None:
            raise UnknownCase(f"no case has id {case_id}")
        when = self.clock() if at is None else at
        event = CaseEvent(case_id, event_id or default_event_id(kind, when, severity, outcome), kind, when,
                          severity=severity if kind == "severity" else None,
                          outcome=outcome if kind == "resolved" else None)
        row, new = await self.ingest([event])
        assert row is not None  # the case exists
        return row, new

    async def ingest(self, events: Sequence[CaseEvent]) -> tuple[CaseRow | None, bool]:
        """Store events of one case (repeats ignored) and recompute its figures; True when any was new.

        Every event must name the same case. Events that arrive before the case's `opened` event are
        kept and folded in once it arrives; until then the case has no figures (None)."""
        clocks = self._clocks()
        if not events or len({e.case_id for e in events}) != 1:
            raise BadEvent("ingest takes the events of exactly one case")
        case_id = events[0].case_id
        now = self.clock()
        new = False
        for event in events:
            new |= await self.store.add_case_event(replace(event, recorded_at=now))
        row = await self.store.get_case(case_id)
        if new or row is None:
            stored = await self.store.case_events(case_id)
            if not any(e.kind == "opened" for e in stored):
                return None, new
            row = clocks.figures(fold(stored), now)
            await self.store.save_cases([row])
            row = await self.store.get_case(case_id) or row
        return row, new

    async def recompute(self, case_ids: Iterable[str]) -> int:
        """Recompute these cases' figures from their events; return how many."""
        clocks = self._clocks()
        rows = []
        now = self.clock()
        for case_id in case_ids:
            stored = await self.store.case_events(case_id)
            if any(e.kind == "opened" for e in stored):
                rows.append(clocks.figures(fold(stored), now))
        await self.store.save_cases(rows)
        return len(rows)

    async def ensure_current(self, chunk: int = 1000) -> int:
        """Recompute every case when the config changed since the figures were computed; return how many."""
        if self.clocks is None:
            return 0
        fingerprint = config_fingerprint(self.config)
        if await self.store.support_meta("fingerprint") == fingerprint:
            return 0
        total, after = 0, ""
        while ids := await self.store.case_ids(after, chunk):
            total += await self.recompute(ids)
            after = ids[-1]
        await self.store.set_support_meta("fingerprint", fingerprint)
        if total:
            log.info("support: recomputed cases=%d for a changed config", total)
        return total

    # --- alerts ------------------------------------------------------------------------------------

    async def due_alerts(self, now: float | None = None) -> list[CaseAlert]:
        """Alerts due now and not sent before (call `mark_alerted` once they are handed over)."""
        if self.clocks is None:
            return []
        at = self.clock() if now is None else now
        candidates = await self.store.case_alert_candidates(at, ALERT_MAX_AGE_S)
        sent = await self.store.case_alerts_sent(c.case_id for c in candidates)
        return pending_alerts(candidates, sent, at)

    async def mark_alerted(self, alerts: Iterable[CaseAlert]) -> None:
        """Remember alerts as sent, so each goes out once per case and kind."""
        await self.store.record_case_alerts((a.case_id, a.kind, a.at) for a in alerts)

    # --- publication -------------------------------------------------------------------------------

    async def indicators(self, now: float, page: str | None = None, months: int = PUBLISHED_MONTHS,
                         labels: Sequence[str] | None = None) -> SupportIndicators:
        """The published figures of the last `months` months, or of the `labels` months (YYYY-MM,
        newest first), of all cases or one page's."""
        everything, pages = await self.all_indicators(now, months, labels)
        return everything if page is None else pages.get(page, SupportIndicators(()))

    async def all_indicators(self, now: float, months: int = PUBLISHED_MONTHS,
                             labels: Sequence[str] | None = None,
                             ) -> tuple[SupportIndicators, dict[str, SupportIndicators]]:
        """The published figures of every case and of each configured page, from one set of queries."""
        if self.clocks is None:
            return SupportIndicators(()), {p.slug: SupportIndicators(()) for p in self.config.pages}
        wanted = list(labels) if labels else months_back(now, self.config.site.timezone, months)
        totals = await self.store.support_totals(min(wanted), now)
        return (build_indicators(totals.get(None, SupportTotals()), self.config, wanted),
                {p.slug: build_indicators(totals.get(p.slug, SupportTotals()), self.config, wanted)
                 for p in self.config.pages})


async def support_snapshot(config: Config, store: Store, now: float) -> SupportSnapshot | None:
    """Everything the site and /metrics publish about support at `now` (None when not configured)."""
    if config.support is None:
        return None
    everything, pages = await SupportService(store, config, lambda: now).all_indicators(now)
    return SupportSnapshot(now, everything, pages, await store.open_case_counts(now))
