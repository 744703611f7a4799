"""What sla.html shows about support: the promise per channel (with its hours) and the measured
months, formatted for one locale. Figures built from fewer than `MIN_CASES` cases show "—"."""

from __future__ import annotations

from typing import Any

from statuspage.config import Config, WeeklyHours
from statuspage.site.i18n import Translator
from statuspage.site.snapshot import Snapshot
from statuspage.support.indicators import MonthFigures

__all__ = [
    "MONTHS_SHOWN", "business_hours_text", "support_documents", "support_months", "support_policy",
    "triage_text",
]

MONTHS_SHOWN = 3
"""The current month and the two before it; the JSON has twelve."""
DASH = "—"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def business_hours_text(hours: WeeklyHours | None, t: Translator) -> str:
    """`seg–sex 08:00–18:00` / `Mon–Fri 08:00–18:00`; days with the same hours are grouped."""
    if hours is None:
        return t("sla.always_open")
    names = t("days.short").split(",")
    groups: list[tuple[int, int, tuple[tuple[int, int], ...]]] = []
    for day, intervals in enumerate(hours):
        if groups and groups[-1][2] == intervals and groups[-1][1] == day - 1:
            groups[-1] = (groups[-1][0], day, intervals)
        else:
            groups.append((day, day, intervals))
    parts = []
    for first, last, intervals in groups:
        if not intervals:
            continue
        days = names[first] if first == last else f"{names[first]}–{names[last]}"
        parts.append(f"{days} {', '.join(f'{_hhmm(a)}–{_hhmm(b)}' for a, b in intervals)}")
    return "; ".join(parts)


def support_policy(config: Config, t: Translator) -> list[dict[str, str]]:
    """One row per configured channel: the first-response limit, the published average, the hours."""
    if config.support is None:
        return []
    return [
        {"channel": t(f"sla.channel.{name}"),
         "first_response": t.duration(c.first_response, days=False),
         "average": t.duration(c.average, days=False) if c.average is not None else DASH,
         "hours": business_hours_text(c.business_hours, t)}
        for name, c in config.support.channels.items()
    ]


def triage_text(config: Config, t: Translator) -> str | None:
    """The triage average target, or None when not configured."""
    support = config.support
    if support is None or support.triage_average is None:
        return None
    return t.duration(support.triage_average, days=False)


def _n(t: Translator, n: int | None) -> str:
    return DASH if n is None else t.number(n)


def _pct(t: Translator, share: float | None) -> str:
    return DASH if share is None else t.percent(share, 0)


def _dur(t: Translator, seconds: float | None, days: bool = True) -> str:
    return DASH if seconds is None else t.duration(seconds, days=days)


def _month(figures: MonthFigures, t: Translator) -> dict[str, Any]:
    year, month = (int(x) for x in figures.month.split("-"))
    return {
        "name": t.month(year, month),
        "channels": [
            {"name": t(f"sla.channel.{c.channel}"), "cases": _n(t, c.cases),
             "within": _pct(t, c.within_share),
             "mean": _dur(t, c.mean_s, False), "median": _dur(t, c.median_s, False),
             "average": _dur(t, c.average_s, False), "met": c.average_met}
            for c in figures.channels
        ],
        "triage": {"cases": _n(t, figures.triage.cases), "mean": _dur(t, figures.triage.mean_s, False),
                   "target": _dur(t, figures.triage.target_s, False), "met": figures.triage.met},
        "severities": [
            {"code": s.severity, "name": t(f"severity.{s.severity}.name"), "cases": _n(t, s.cases),
             "mean": _dur(t, s.mean_s), "target": t.duration(s.target_mean_s), "met": s.mean_met,
             "within": _pct(t, s.within_share), "limit": t.duration(s.limit_s)}
            for s in figures.severities
        ],
        "outcomes": [{"name": t(f"sla.outcome.{o.outcome}"), "cases": _n(t, o.cases)}
                     for o in figures.outcomes],
    }


def support_months(config: Config, snapshot: Snapshot, t: Translator) -> list[dict[str, Any]]:
    """The measured months, newest first, formatted (empty when support is not configured)."""
    if config.support is None or snapshot.support is None:
        return []
    return [_month(m, t) for m in snapshot.support.all.months[:MONTHS_SHOWN]]


def support_documents(config: Config, snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """`api/v2/support.json` at the site root (every case) and under each page (its cases), keyed by
    path: our extension beside Statuspage's v2 documents. Times in seconds, shares 0–1, null below
    the minimum of cases. Empty when support is not configured."""
    support = config.support
    if support is None or snapshot.support is None:
        return {}
    en = Translator("en", config.site.timezone)
    targets = {
        "channels": {
            name: {"first_response_limit_s": c.first_response, "published_average_s": c.average,
                   "business_hours": None if c.business_hours is None
                   else business_hours_text(c.business_hours, en)}
            for name, c in support.channels.items()
        },
        "triage_average_s": support.triage_average,
        "resolution_clock": support.resolution_clock,
        "severities": {k: {"mean_s": v.mean, "limit_s": v.limit}
                       for k, v in sorted(config.sla.severities.items())},
    }
    common = {"generated_at": en.iso(snapshot.now), "timezone": config.site.timezone, "targets": targets}
    docs = {"api/v2/support.json": {"page": None, **common, **snapshot.support.all.to_json()}}
    for page in config.pages:
        figures = snapshot.support.pages.get(page.slug)
        if figures is not None:
            docs[f"{page.slug}/api/v2/support.json"] = {
                "page": {"id": page.slug, "name": page.name}, **common, **figures.to_json()}
    return docs


def support_metric_lines(snapshot: Snapshot) -> list[str]:
    """Prometheus text of the support gauges, from the current month of every case:

        statuspage_support_cases{channel}                          cases opened this month
        statuspage_support_first_response_within_ratio{channel}    share answered within the limit
        statuspage_support_first_response_mean_seconds{channel}    mean first response
        statuspage_support_first_response_median_seconds{channel}  median first response
        statuspage_support_triage_mean_seconds                     mean triage (steps 1 and 2)
        statuspage_support_resolution_cases{severity}              cases of each current severity
        statuspage_support_resolution_mean_seconds{severity}       mean time to resolve
        statuspage_support_resolution_within_ratio{severity}       share resolved within the limit
        statuspage_support_open_cases{channel}                     open cases now (exact)
        statuspage_support_overdue_cases{channel,clock}            open cases past a limit now (exact;
                                                                   clock first_response|resolution)

    The published figures follow the site's rule: no series when fewer than MIN_CASES cases are
    behind it. The open and overdue counts are exact (they describe no one)."""
    support = snapshot.support
    if support is None or not support.all.months:
        return []
    month = support.all.months[0]
    lines: list[str] = []

    def family(name: str, help_text: str, rows: list[tuple[str, float | int | None]]) -> None:
        lines.extend((f"# HELP {name} {help_text}", f"# TYPE {name} gauge"))
        lines.extend(f"{name}{labels} {float(v)!r}" for labels, v in rows if v is not None)

    ch = month.channels
    family("statuspage_support_cases", "Support cases opened this month, by channel.",
           [(f'{{channel="{c.channel}"}}', c.cases) for c in ch])
    family("statuspage_support_first_response_within_ratio", "Share of this month's cases answered in time.",
           [(f'{{channel="{c.channel}"}}', c.within_share) for c in ch])
    family("statuspage_support_first_response_mean_seconds", "Mean first response this month.",
           [(f'{{channel="{c.channel}"}}', c.mean_s) for c in ch])
    family("statuspage_support_first_response_median_seconds", "Median first response this month.",
           [(f'{{channel="{c.channel}"}}', c.median_s) for c in ch])
    family("statuspage_support_triage_mean_seconds", "Mean triage (steps 1 and 2) this month.",
           [("", month.triage.mean_s)])
    sv = month.severities
    family("statuspage_support_resolution_cases", "This month's cases by current severity.",
           [(f'{{severity="{s.severity}"}}', s.cases) for s in sv])
    family("statuspage_support_resolution_mean_seconds", "Mean time to resolve this month's cases.",
           [(f'{{severity="{s.severity}"}}', s.mean_s) for s in sv])
    family("statuspage_support_resolution_within_ratio", "Share of this month's cases resolved in time.",
           [(f'{{severity="{s.severity}"}}', s.within_share) for s in sv])
    channels = sorted(support.open_cases)
    family("statuspage_support_open_cases", "Support cases not resolved yet.",
           [(f'{{channel="{c}"}}', support.open_cases[c][0]) for c in channels])
    family("statuspage_support_overdue_cases", "Open support cases past a limit, by clock.",
           [(f'{{channel="{c}",clock="{clock}"}}', support.open_cases[c][i])
            for c in channels for i, clock in ((1, "first_response"), (2, "resolution"))])
    return lines
