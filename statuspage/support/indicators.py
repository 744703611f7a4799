"""The published support indicators (pure): the database's aggregates turned into figures per month.

Per month and channel: cases, share answered within the first-response limit, mean and median first
response against the published average. Per month: triage mean against its average target. Per
month and current severity: cases, mean time to resolve against the mean target, share resolved
within the limit. Per month and outcome: resolved cases.

"Within" is judged where the outcome is known: answered (resolved) cases, plus open ones already
past their limit (missed); open cases still inside their limit are counted but not judged yet.

Privacy (LGPD): aggregates only, and any figure built from fewer than `MIN_CASES` cases is None
(shown as "—", null in JSON), so no published number describes one customer's case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from statuspage.config import Config
from statuspage.models import CASE_OUTCOMES, CHANNELS, SupportTotals

__all__ = [
    "MIN_CASES", "ChannelFigures", "MonthFigures", "OutcomeFigures", "SeverityFigures", "SupportIndicators",
    "TriageFigures", "build_indicators", "months_back",
]

MIN_CASES = 5
SEVERITIES = ("T1", "T2", "T3", "T4")


def _enough(n: int) -> bool:
    return n >= MIN_CASES


@dataclass(frozen=True, slots=True)
class ChannelFigures:
    """First response of one channel in one month (None: fewer than MIN_CASES behind the figure)."""

    channel: str
    cases: int | None
    within_share: float | None
    """Answered within the limit / (answered + unanswered past the limit)."""
    mean_s: float | None
    median_s: float | None
    limit_s: float
    average_s: float | None
    """The published average the mean is held against."""

    @property
    def average_met(self) -> bool | None:
        """True when the mean first response is at most the published average."""
        if self.mean_s is None or self.average_s is None:
            return None
        return self.mean_s <= self.average_s


@dataclass(frozen=True, slots=True)
class TriageFigures:
    """Triage (steps 1 and 2) in one month."""

    cases: int | None
    mean_s: float | None
    target_s: float | None

    @property
    def met(self) -> bool | None:
        """True when the mean is within the average target."""
        if self.mean_s is None or self.target_s is None:
            return None
        return self.mean_s <= self.target_s


@dataclass(frozen=True, slots=True)
class SeverityFigures:
    """Resolution of the cases of one current severity in one month."""

    severity: str
    cases: int | None
    mean_s: float | None
    target_mean_s: float
    within_share: float | None
    limit_s: float

    @property
    def mean_met(self) -> bool | None:
        """True when the mean time to resolve is within the mean target."""
        return None if self.mean_s is None else self.mean_s <= self.target_mean_s


@dataclass(frozen=True, slots=True)
class OutcomeFigures:
    """Resolved cases of one outcome in one month."""

    outcome: str
    cases: int | None


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """One calendar month (site timezone) of support figures."""

    month: str
    channels: tuple[ChannelFigures, ...]
    triage: TriageFigures
    severities: tuple[SeverityFigures, ...]
    outcomes: tuple[OutcomeFigures, ...]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (seconds, ratios 0–1, null below MIN_CASES)."""
        return {
            "month": self.month,
            "channels": [
                {"channel": c.channel, "cases": c.cases, "within_target_share": c.within_share,
                 "first_response_mean_s": c.mean_s, "first_response_median_s": c.median_s,
                 "first_response_limit_s": c.limit_s, "published_average_s": c.average_s,
                 "average_met": c.average_met}
                for c in self.channels
            ],
            "triage": {"cases": self.triage.cases, "mean_s": self.triage.mean_s,
                       "target_average_s": self.triage.target_s, "met": self.triage.met},
            "severities": [
                {"severity": s.severity, "cases": s.cases, "mean_resolution_s": s.mean_s,
                 "target_mean_s": s.target_mean_s, "mean_met": s.mean_met,
                 "within_limit_share": s.within_share, "limit_s": s.limit_s}
                for s in self.severities
            ],
            "outcomes": [{"outcome": o.outcome, "cases": o.cases} for o in self.outcomes],
        }


@dataclass(frozen=True, slots=True)
class SupportIndicators:
    """The published figures of a span of months, newest first."""

    months: tuple[MonthFigures, ...]
    min_cases: int = MIN_CASES

    def month(self, label: str) -> MonthFigures | None:
        """The figures of one `YYYY-MM`, or None."""
        return next((m for m in self.months if m.month == label), None)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON of every month."""
        return {"min_cases": self.min_cases, "months": [m.to_json() for m in self.months]}


def months_back(now: float, tz: str, count: int) -> list[str]:
    """`count` month labels ending with the current one (site timezone), newest first."""
    today = datetime.fromtimestamp(now, ZoneInfo(tz))
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def _share(part: int, whole: int) -> float | None:
    return part / whole if _enough(whole) else None


def _mean(total: float, n: int) -> float | None:
    return total / n if _enough(n) else None


def build_indicators(totals: SupportTotals, config: Config, months: Sequence[str]) -> SupportIndicators:
    """Figures for each of `months` (newest first) from the database's aggregates."""
    support = config.support
    if support is None:
        return SupportIndicators(())
    sev_times = config.sla.severities
    channels = {(c.month, c.channel): c for c in totals.channels}
    triage = {m: (n, s) for m, n, s in totals.triage}
    severities = {(s.month, s.severity): s for s in totals.severities}
    outcomes = {(m, o): n for m, o, n in totals.outcomes}
    out = []
    for month in months:
        rows = []
        for name in CHANNELS:
            target = support.channels.get(name)
            if target is None:
                continue
            c = channels.get((month, name))
            if c is None:
                rows.append(ChannelFigures(name, None, None, None, None, target.first_response,
                                           target.average))
                continue
            rows.append(ChannelFigures(
                channel=name, cases=c.cases if _enough(c.cases) else None,
                within_share=_share(c.within, c.answered + c.overdue),
                mean_s=_mean(c.first_response_sum, c.answered),
                median_s=c.first_response_median if _enough(c.answered) else None,
                limit_s=target.first_response, average_s=target.average,
            ))
        n_triaged, triage_sum = triage.get(month, (0, 0.0))
        sev_rows = []
        for sev in SEVERITIES:
            times = sev_times[sev]  # type: ignore[index]
            s = severities.get((month, sev))
            if s is None:
                sev_rows.append(SeverityFigures(sev, None, None, times.mean, None, times.limit))
                continue
            sev_rows.append(SeverityFigures(
                severity=sev, cases=s.cases if _enough(s.cases) else None,
                mean_s=_mean(s.resolution_sum, s.resolved), target_mean_s=times.mean,
                within_share=_share(s.within, s.resolved + s.overdue), limit_s=times.limit,
            ))
        outcome_rows = []
        for outcome in CASE_OUTCOMES:
            n = outcomes.get((month, outcome), 0)
            outcome_rows.append(OutcomeFigures(outcome, n if _enough(n) else None))
        out.append(MonthFigures(
            month=month, channels=tuple(rows),
            triage=TriageFigures(n_triaged if _enough(n_triaged) else None, _mean(triage_sum, n_triaged),
                                 support.triage_average),
            severities=tuple(sev_rows), outcomes=tuple(outcome_rows),
        ))
    return SupportIndicators(tuple(out))


@dataclass(frozen=True, slots=True)
class SupportSnapshot:
    """What a render publishes about support at one instant: every case's figures, each page's, and
    the open cases per channel (for /metrics)."""

    now: float
    all: SupportIndicators
    pages: dict[str, SupportIndicators]
    open_cases: dict[str, tuple[int, int, int]]
    """Per channel: open cases, of which past the first-response limit, past the resolution limit."""
