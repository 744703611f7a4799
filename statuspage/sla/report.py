"""`statuspage report`: uptime vs target per page and component for a calendar month, error budget,
burn-rate state, and the incidents' SLA compliance. Built from state runs, never raw results.

Uptime and budgets are computed on measured time, so the table follows the public page's coverage
rule (issue 13, `statuspage.site.view`): a window measured over less than `MIN_COVERAGE` of its
length says "not enough data yet" instead of a figure; up to `FULL_COVERAGE` the figure says how
much was measured."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from statuspage.config import Config, Page
from statuspage.durations import format_duration
from statuspage.models import StateRun, component_key
from statuspage.sla import uptime
from statuspage.sla.compliance import SeverityMonth, compliance
from statuspage.store import Store, open_store

MIN_COVERAGE = 0.05
"""Below this share of a window measured, no figure: "not enough data yet" (as on the public page)."""
FULL_COVERAGE = 0.99
"""From this share of a window measured, the figure alone; below, with "(measured over N % …)"."""


def enough(coverage: float) -> bool:
    """True when a window is measured enough for its figures to mean something (`MIN_COVERAGE`)."""
    return coverage >= MIN_COVERAGE


def _measured(coverage: float, figure: str) -> str:
    if not enough(coverage):
        return "not enough data yet"
    if coverage < FULL_COVERAGE:
        return f"{figure} (measured over {coverage * 100:.0f} % of the window)"
    return figure


@dataclass(frozen=True, slots=True)
class Figures:
    """Uptime figures of one page or component over the report month (to date)."""

    name: str
    month: uptime.WindowUptime
    budget_month: uptime.ErrorBudget
    budget_30d: uptime.ErrorBudget
    burn: tuple[uptime.BurnRate, ...]
    target: float

    @property
    def met(self) -> bool | None:
        """True when the month's uptime reaches the target; None with no data."""
        u = self.month.uptime
        return None if u is None else u >= self.target

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for `report --json`."""
        return {
            "name": self.name,
            "uptime": self.month.uptime,
            "target": self.target,
            "met": self.met,
            "coverage": self.month.coverage,
            "enough_data": enough(self.month.coverage),
            "downtime_s": self.month.downtime,
            "maintenance_s": self.month.maintenance,
            "budget_month": _budget_json(self.budget_month),
            "budget_30d": _budget_json(self.budget_30d),
            "burn_rates": [
                {"long_window_s": b.long_window, "short_window_s": b.short_window, "threshold": b.threshold,
                 "long_rate": b.long_rate, "short_rate": b.short_rate, "fires": b.fires}
                for b in self.burn
            ],
        }


def _budget_json(b: uptime.ErrorBudget) -> dict[str, Any]:
    return {"allowed_s": b.allowed, "consumed_s": b.consumed, "remaining_s": b.remaining,
            "remaining_share": b.remaining_share, "coverage": b.window.coverage,
            "enough_data": enough(b.window.coverage)}


@dataclass(frozen=True, slots=True)
class PageFigures:
    """A page's figures and its components'."""

    slug: str
    page: Figures
    components: list[Figures]


def parse_month(text: str | None, now: float, tz: str) -> tuple[int, int]:
    """`YYYY-MM` to (year, month); None means the current month in `tz`. ValueError when malformed."""
    if text is None:
        today = datetime.fromtimestamp(now, ZoneInfo(tz))
        return today.year, today.month
    try:
        parsed = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise ValueError(f'--month "{text}" is not a month like 2026-11') from None
    return parsed.year, parsed.month


async def uptime_figures(
    config: Config, store: Store, now: float, year: int, month: int
) -> list[PageFigures]:
    """Month-to-date uptime, budgets and burn rates for every page and component."""
    tz = config.site.timezone
    target = config.sla.target_ratio
    weight = config.sla.partial_outage_weight
    m_start, m_end = uptime.month_window(year, month, tz)
    m_stop = max(m_start, min(m_end, now))
    span = (min(m_start, now - 30 * uptime.DAY), max(m_stop, now))
    out: list[PageFigures] = []
    for page in config.pages:
        maintenances = await store.list_maintenances(page=page.slug, include_cancelled=False)
        timelines: list[tuple[str, uptime.Timeline]] = []
        for comp in page.components:
            runs = await _runs(store, page, comp.slug, span, now)
            timeline = uptime.component_timeline(
                runs, maintenances, component_key(page.slug, comp.slug), start=span[0], end=span[1],
                partial_weight=weight)
            timelines.append((comp.name, timeline))
        page_tl = uptime.page_timeline([t for _, t in timelines], weight)
        out.append(PageFigures(
            page.slug,
            _figures(page.name, page_tl, m_start, m_stop, now, target),
            [_figures(name, t, m_start, m_stop, now, target) for name, t in timelines],
        ))
    return out


async def _runs(store: Store, page: Page, comp: str, span: tuple[float, float], now: float) -> list[StateRun]:
    component = next(c for c in page.components if c.slug == comp)
    holds = {m.key: 2 * m.interval_s for m in component.monitors}
    rows = await store.runs(holds, span[0], span[1])
    return [r.to_run(now, holds[r.monitor]) for r in rows]


def _figures(name: str, timeline: uptime.Timeline, start: float, stop: float, now: float,
             target: float) -> Figures:
    month = timeline.window(start, stop)
    return Figures(
        name=name,
        month=month,
        budget_month=uptime.error_budget(month, target),
        budget_30d=uptime.error_budget(timeline.window(now - 30 * uptime.DAY, now), target),
        burn=uptime.burn_rates(timeline, now, target),
        target=target,
    )


def format_uptime_table(pages: Sequence[PageFigures]) -> str:
    """The terminal table of uptime figures."""
    header = ("", "UPTIME", "TARGET", "COVERAGE", "DOWNTIME", "BUDGET LEFT (MONTH)", "BUDGET LEFT (30D)",
              "BURN")
    rows: list[tuple[str, ...]] = [header]
    for pf in pages:
        rows.append(_row(pf.page, pf.slug.upper()))
        for comp in pf.components:
            rows.append(_row(comp, "  " + comp.name))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows)


def _row(f: Figures, label: str) -> tuple[str, ...]:
    u = f.month.uptime
    verdict = "no data" if f.met is None else ("met" if f.met else "MISSED")
    if u is not None and not enough(f.month.coverage):
        verdict = "not judged yet"
    firing = [f"{b.long_window / 3600:g}h" for b in f.burn if b.fires]
    return (
        label,
        # The COVERAGE column beside it says how much was measured; below the minimum, no figure.
        "-" if u is None else (f"{u * 100:.3f}%" if enough(f.month.coverage) else "not enough data yet"),
        f"{f.target * 100:g}% {verdict}",
        f"{f.month.coverage * 100:.1f}%",
        format_duration(f.month.downtime),
        _left(f.budget_month),
        _left(f.budget_30d),
        ("FIRING " + ",".join(firing)) if firing else "ok",
    )


def _left(b: uptime.ErrorBudget) -> str:
    if b.remaining_share is None:
        return "-"
    sign = "-" if b.remaining < 0 else ""
    figure = f"{sign}{format_duration(abs(b.remaining))} ({b.remaining_share * 100:.0f}%)"
    return _measured(b.window.coverage, figure)


@dataclass(frozen=True, slots=True)
class Report:
    """The whole SLA report of one month."""

    year: int
    month: int
    generated_at: float
    timezone: str
    pages: list[PageFigures]
    incidents: dict[str, list[SeverityMonth]]
    """Per page slug: the month's T1–T4 compliance rows."""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for `report --json`."""
        return {
            "month": f"{self.year:04d}-{self.month:02d}",
            "generated_at": self.generated_at,
            "timezone": self.timezone,
            "pages": [
                {"slug": p.slug, **p.page.to_json(), "components": [c.to_json() for c in p.components],
                 "incidents": [row.to_json() for row in self.incidents.get(p.slug, [])]}
                for p in self.pages
            ],
        }


async def build_report(config: Config, now: float, year: int, month: int) -> Report:
    """Open the configured database and compute the month's report."""
    store = await open_store(config.storage)
    try:
        pages = await uptime_figures(config, store, now, year, month)
        label = f"{year:04d}-{month:02d}"
        incidents = {
            p.slug: compliance(await store.list_incidents(page=p.slug), config.sla, config.site.timezone, now,
                               month=label)
            for p in config.pages
        }
    finally:
        await store.close()
    return Report(year, month, now, config.site.timezone, pages, incidents)


def format_report(report: Report) -> str:
    """The report as a terminal would show it."""
    title = f"SLA report {report.year:04d}-{report.month:02d} ({report.timezone}), month to date"
    parts = [title, "", "Uptime", format_uptime_table(report.pages), "", "Incidents (SLA resolution times)"]
    parts.append(format_compliance_table(report.incidents))
    return "\n".join(parts)


def format_compliance_table(by_page: dict[str, list[SeverityMonth]]) -> str:
    """Per page and severity: count, mean time to resolve vs target, share within limit, time to ack."""
    header = ("", "SEV", "COUNT", "OPEN", "MEAN RESOLVE", "TARGET", "WITHIN LIMIT", "BREACHED", "MEAN ACK")
    rows: list[tuple[str, ...]] = [header]
    for slug, items in by_page.items():
        for row in items:
            share = row.within_share
            rows.append((
                slug.upper(), row.severity, str(row.count), str(row.open),
                _dur(row.mean_time_to_resolve),
                f"{format_duration(row.target_mean)} / {format_duration(row.limit)}"
                + ("" if row.mean_met is None else (" met" if row.mean_met else " MISSED")),
                "-" if share is None else f"{row.within_limit}/{row.judged} ({share * 100:.0f}%)",
                str(row.breached),
                _dur(row.mean_time_to_acknowledge),
            ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows)


def _dur(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(seconds)
