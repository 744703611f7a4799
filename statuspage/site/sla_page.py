"""What sla.html shows: the SLA as configured (section 2 of DESIGN) beside what was measured this month.

Per-severity compliance is `compliance.compliance` over the snapshot's incidents for the current
calendar month in the site timezone (the same figures `statuspage report` prints).
"""

from __future__ import annotations

from typing import Any

from statuspage.config import Config
from statuspage.site.i18n import Translator
from statuspage.site.snapshot import Snapshot
from statuspage.sla.compliance import compliance

__all__ = ["sla_context"]


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
    month = f"{today.year:04d}-{today.month:02d}"
    incidents = [view.incident for page in snapshot.pages for view in page.incidents]
    rows = compliance(incidents, sla, config.site.timezone, now, month=month)
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
        "compliance": [{"row": row, "target": t.duration(row.target_mean)} for row in rows],
        "outcomes": [t(f"outcome.{n}") for n in range(1, 7)],
    }
