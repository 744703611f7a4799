"""What sla.html shows: the SLA as configured (section 2 of DESIGN) beside what was measured this month.

Per-severity compliance (count, mean time to resolve vs target, share within the limit, mean time
to acknowledge) is computed from the snapshot's incidents for the current calendar month in the site
timezone, counting an incident in the month it started.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from statuspage.config import Config
from statuspage.i18n import Translator
from statuspage.models import Incident
from statuspage.snapshot import PageView, Snapshot

__all__ = ["SeverityCompliance", "month_compliance", "sla_context"]

SEVERITIES: tuple[str, ...] = ("T1", "T2", "T3", "T4")


@dataclass(frozen=True, slots=True)
class SeverityCompliance:
    """One severity's figures over a set of incidents."""

    severity: str
    count: int
    resolved: int
    mean_resolve: float | None
    """Seconds, over resolved incidents."""
    within_limit: float | None
    """Share of decided incidents (resolved, or open past due) resolved by `due_at`."""
    mean_ack: float | None
    """Seconds from start to acknowledgement, over acknowledged incidents."""


def month_compliance(incidents: Iterable[Incident], now: float) -> list[SeverityCompliance]:
    """Compliance per severity (T1–T4, zeros included) of the given incidents."""
    by_sev: dict[str, list[Incident]] = {s: [] for s in SEVERITIES}
    for i in incidents:
        by_sev.setdefault(i.severity, []).append(i)
    out: list[SeverityCompliance] = []
    for sev, items in by_sev.items():
        resolved = [i for i in items if i.resolved_at is not None]
        # Open incidents not yet due are still undecided: they count neither for nor against.
        decided = [i for i in items if i.resolved_at is not None or now > i.due_at]
        within = [i for i in decided if not i.breached(now)]
        acked = [i for i in items if i.acknowledged_at is not None]
        out.append(SeverityCompliance(
            severity=sev,
            count=len(items),
            resolved=len(resolved),
            mean_resolve=_mean(i.resolved_at - i.started_at for i in resolved if i.resolved_at is not None),
            within_limit=len(within) / len(decided) if decided else None,
            mean_ack=_mean(i.acknowledged_at - i.started_at for i in acked if i.acknowledged_at is not None),
        ))
    return out


def _mean(values: Iterable[float]) -> float | None:
    items = [max(0.0, v) for v in values]
    return sum(items) / len(items) if items else None


def _month_incidents(pages: Iterable[PageView], t: Translator, now: float) -> list[Incident]:
    today = t.local(now)
    out: list[Incident] = []
    for page in pages:
        for view in page.incidents:
            started = t.local(view.incident.started_at)
            if (started.year, started.month) == (today.year, today.month):
                out.append(view.incident)
    return out


def sla_context(config: Config, snapshot: Snapshot, t: Translator) -> dict[str, Any]:
    """Template values of sla.html: policy rows and this month's measured figures."""
    sla = config.sla
    now = snapshot.now
    today = t.local(now)
    target = sla.target_ratio
    day = 86400.0
    support = [
        {"channel": t(f"sla.channel.{c.name}") if t.has(f"sla.channel.{c.name}") else c.name,
         "first_response": t.duration(c.first_response, days=False),
         "average": t.duration(c.average, days=False) if c.average is not None else "—"}
        for c in sla.support
    ]
    case_channels = [c for c in sla.support if c.name in ("email", "phone")]
    case_limit = max((c.first_response for c in case_channels), default=day)
    case_average = next((c.average for c in sla.support if c.name == "phone" and c.average), 3600.0)
    severities = [
        {"code": code, "name": t(f"severity.{code}.name"), "priority": t(f"severity.{code}.priority"),
         "problem": t(f"severity.{code}.problem"), "example": t(f"severity.{code}.example"),
         "mean": t.duration(times.mean), "limit": t.duration(times.limit)}
        for code, times in sorted(sla.severities.items())
    ]
    compliance = month_compliance(_month_incidents(snapshot.pages, t, now), now)
    return {
        "month_name": t.month(today.year, today.month),
        "target_text": t.target(target),
        "allowed_30d": t.duration((1 - target) * 30 * day),
        "allowed_90d": t.duration((1 - target) * 90 * day),
        "support": support,
        "case_limit": t.duration(case_limit, days=False),
        "case_average": t.duration(case_average, days=False),
        "triage": t.duration(sla.triage_average, days=False),
        "severities": severities,
        "compliance": [
            {"row": row, "target": t.duration(sla.severities[row.severity].mean)}
            for row in compliance if row.severity in sla.severities
        ],
        "outcomes": [t(f"outcome.{n}") for n in range(1, 7)],
    }
