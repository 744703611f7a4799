"""What sla.html shows: the SLA as configured (section 2 of DESIGN) beside what was measured this month.

Per-severity compliance is `compliance.compliance` over the snapshot's incidents for the current
calendar month in the site timezone (the same figures `statuspage report` prints).
"""

from __future__ import annotations

from typing import Any

from statuspage.config import Config, text_for
from statuspage.site.i18n import Translator
from statuspage.site.snapshot import Snapshot
from statuspage.site.support_view import support_months, support_policy, triage_text
from statuspage.sla.compliance import compliance
from statuspage.support.indicators import MIN_CASES

__all__ = ["sla_context"]


def sla_context(config: Config, snapshot: Snapshot, t: Translator) -> dict[str, Any]:
    """Template values of sla.html: policy rows and this month's measured figures.

    The policy's words (intro, severity descriptions and examples, support channels, case outcomes)
    come from the config's `sla` section; without them the page says only generic things."""
    sla = config.sla
    now = snapshot.now
    today = t.local(now)
    target = sla.target_ratio
    day = 86400.0
    support = support_policy(config, t)
    channels = config.support.channels if config.support is not None else {}
    case_channels = [c for name, c in channels.items() if name in ("email", "phone")]
    case_limit = max((c.first_response for c in case_channels), default=None)
    phone = channels.get("phone")
    case_average = phone.average if phone is not None and phone.average else None
    severities = [
        {"code": code, "name": t(f"severity.{code}.name"), "priority": t(f"severity.{code}.priority"),
         "problem": text_for(times.description, t.locale) or t(f"severity.{code}.problem"),
         "example": text_for(times.example, t.locale),
         "mean": t.duration(times.mean), "limit": t.duration(times.limit)}
        for code, times in sorted(sla.severities.items())
    ]
    month = f"{today.year:04d}-{today.month:02d}"
    incidents = [view.incident for page in snapshot.pages for view in page.incidents]
    rows = compliance(incidents, sla, config.site.timezone, now, month=month)
    return {
        "intro": text_for(sla.policy.intro, t.locale) or t("sla.lead"),
        "month_name": t.month(today.year, today.month),
        "target_text": t.target(target),
        "allowed_30d": t.duration((1 - target) * 30 * day),
        "allowed_90d": t.duration((1 - target) * 90 * day),
        "support": support,
        "case_limit": t.duration(case_limit, days=False) if case_limit is not None else None,
        "case_average": t.duration(case_average, days=False) if case_average is not None else None,
        "triage": triage_text(config, t),
        "support_months": support_months(config, snapshot, t),
        "support_min_cases": MIN_CASES,
        "severities": severities,
        "show_examples": any(s["example"] for s in severities),
        "compliance": [{"row": row, "target": t.duration(row.target_mean)} for row in rows],
        "outcomes": [text_for(o, t.locale) for o in sla.policy.outcomes],
    }
