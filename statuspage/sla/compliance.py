"""Incident SLA compliance per severity and calendar month (pure).

An incident belongs to the month (site timezone) in which it started. "Within the limit" is
judged only where the outcome is known: resolved incidents, and open ones already past their
deadline (those count as breached). Open incidents still inside their deadline are counted but
not yet judged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from statuspage.config import Sla
from statuspage.models import Incident

SEVERITIES = ("T1", "T2", "T3", "T4")


def time_to_acknowledge(incident: Incident) -> float | None:
    """Seconds from start to acknowledgement, None if never acknowledged."""
    if incident.acknowledged_at is None:
        return None
    return max(0.0, incident.acknowledged_at - incident.started_at)


def time_to_resolve(incident: Incident) -> float | None:
    """Seconds from start to resolution, None while open."""
    if incident.resolved_at is None:
        return None
    return max(0.0, incident.resolved_at - incident.started_at)


@dataclass(frozen=True, slots=True)
class SeverityMonth:
    """One severity's figures for one month."""

    month: str
    severity: str
    count: int
    resolved: int
    open: int
    mean_time_to_resolve: float | None
    target_mean: float
    limit: float
    within_limit: int
    judged: int
    """Resolved, plus open and already past the deadline."""
    breached: int
    mean_time_to_acknowledge: float | None
    acknowledged: int

    @property
    def within_share(self) -> float | None:
        """Share of judged incidents resolved within the limit; None when none is judged yet."""
        return self.within_limit / self.judged if self.judged else None

    @property
    def mean_met(self) -> bool | None:
        """Whether the mean time to resolve is within the severity's mean target."""
        m = self.mean_time_to_resolve
        return None if m is None else m <= self.target_mean

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "month": self.month, "severity": self.severity, "count": self.count, "resolved": self.resolved,
            "open": self.open, "mean_time_to_resolve_s": self.mean_time_to_resolve,
            "target_mean_s": self.target_mean, "mean_met": self.mean_met, "limit_s": self.limit,
            "within_limit": self.within_limit, "judged": self.judged, "within_share": self.within_share,
            "breached": self.breached, "mean_time_to_acknowledge_s": self.mean_time_to_acknowledge,
            "acknowledged": self.acknowledged,
        }


def month_of(at: float, tz: str) -> str:
    """`YYYY-MM` of an instant in a timezone."""
    return datetime.fromtimestamp(at, ZoneInfo(tz)).strftime("%Y-%m")


def compliance(
    incidents: Iterable[Incident], sla: Sla, tz: str, now: float, month: str | None = None
) -> list[SeverityMonth]:
    """Figures per (month, severity), months newest first, T1..T4 within a month.

    With `month`, only that month, and every severity appears even with no incidents.
    """
    groups: dict[tuple[str, str], list[Incident]] = {}
    for inc in incidents:
        m = month_of(inc.started_at, tz)
        if month is not None and m != month:
            continue
        groups.setdefault((m, inc.severity), []).append(inc)
    if month is not None:
        for sev in SEVERITIES:
            groups.setdefault((month, sev), [])
    rows: list[SeverityMonth] = []
    for (m, sev), items in sorted(groups.items(), key=lambda kv: (kv[0][0], -SEVERITIES.index(kv[0][1])),
                                  reverse=True):
        times = sla.severities[sev]  # type: ignore[index]
        resolve = [t for t in (time_to_resolve(i) for i in items) if t is not None]
        ack = [t for t in (time_to_acknowledge(i) for i in items) if t is not None]
        breached = sum(1 for i in items if i.breached(now))
        judged = [i for i in items if i.resolved_at is not None or i.breached(now)]
        rows.append(SeverityMonth(
            month=m, severity=sev, count=len(items), resolved=len(resolve),
            open=len(items) - len(resolve),
            mean_time_to_resolve=sum(resolve) / len(resolve) if resolve else None,
            target_mean=times.mean, limit=times.limit,
            within_limit=sum(1 for i in judged if not i.breached(now)), judged=len(judged), breached=breached,
            mean_time_to_acknowledge=sum(ack) / len(ack) if ack else None, acknowledged=len(ack),
        ))
    return rows
