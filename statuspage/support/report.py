"""The support part of `statuspage report`: one month's published figures as a terminal table."""

from __future__ import annotations

from statuspage.durations import format_duration
from statuspage.support.indicators import MIN_CASES, MonthFigures

__all__ = ["format_support"]


def _d(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(seconds)


def _n(n: int | None) -> str:
    return "-" if n is None else str(n)


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"


def _met(met: bool | None) -> str:
    return "" if met is None else (" met" if met else " MISSED")


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]


def format_support(month: MonthFigures) -> str:
    """First response per channel, triage, resolution per severity and outcomes of one month."""
    lines = [f"Support (first response, triage, resolution; '-' = fewer than {MIN_CASES} cases)"]
    rows: list[tuple[str, ...]] = [("CHANNEL", "CASES", "WITHIN LIMIT", "MEAN", "MEDIAN", "LIMIT", "AVERAGE")]
    for c in month.channels:
        rows.append((c.channel, _n(c.cases), _pct(c.within_share), _d(c.mean_s), _d(c.median_s),
                     _d(c.limit_s), _d(c.average_s) + _met(c.average_met)))
    lines += _table(rows)
    tri = month.triage
    lines += ["", f"Triage: {_n(tri.cases)} cases, mean {_d(tri.mean_s)}, "
                  f"target {_d(tri.target_s)}{_met(tri.met)}", ""]
    rows = [("SEV", "CASES", "MEAN RESOLVE", "TARGET", "WITHIN LIMIT", "LIMIT")]
    for s in month.severities:
        rows.append((s.severity, _n(s.cases), _d(s.mean_s), _d(s.target_mean_s) + _met(s.mean_met),
                     _pct(s.within_share), _d(s.limit_s)))
    lines += _table(rows)
    lines += ["", "Outcomes: " + ", ".join(f"{o.outcome} {_n(o.cases)}" for o in month.outcomes)]
    return "\n".join(lines)
