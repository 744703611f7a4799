"""Recurring maintenance windows: RFC 5545 RRULEs expanded on wall times in a timezone (pure).

A recurring window is its first occurrence (`start`, `end`: UTC epoch seconds) plus an RRULE such as
`FREQ=WEEKLY;BYDAY=SU`. Occurrences are expanded by python-dateutil on the *wall time* of `start`
in the window's timezone and then localised, so "every Sunday 02:00" stays at 02:00 local time on
both sides of a DST change. Following RFC 5545 (3.3.5, 3.8.5.3):
- a wall time that does not exist (the hour skipped when DST starts) is read with the UTC offset
  before the gap (02:30 on the spring-forward day in New York is 03:30 EDT);
- a wall time that happens twice (when DST ends) is the first of the two;
- every occurrence lasts exactly `end − start` seconds (DTSTART + DTEND, not DURATION).

`UNTIL` is kept in UTC (`…Z`), as RFC 5545 requires when DTSTART has a TZID; a local or date
`UNTIL` given by a person is converted when the rule is normalised.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from dateutil import rrule as _rrule

__all__ = ["ALLOWED_FREQ", "MAX_OCCURRENCES", "RecurrenceError", "expand", "normalise", "series_end",
           "shortest_gap"]

ALLOWED_FREQ = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
"""Maintenance repeats at most daily (several times a day with BYHOUR)."""
MAX_OCCURRENCES = 100_000
"""A bound on any one expansion (a daily rule for 270 years)."""
_PARTS = (
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYHOUR",
    "BYMINUTE",
    "BYSETPOS",
    "BYWEEKNO",
    "BYYEARDAY",
    "WKST",
)


class RecurrenceError(ValueError):
    """An RRULE that cannot be used; the message says why in one line."""


def _local_naive(at: float, tz: str) -> datetime:
    return datetime.fromtimestamp(at, ZoneInfo(tz)).replace(tzinfo=None)


def _epoch(wall: datetime, zone: ZoneInfo) -> float:
    # fold=0: the first of a repeated wall time, and the offset before a gap (RFC 5545 3.3.5).
    return wall.replace(tzinfo=zone, fold=0).timestamp()


def normalise(text: str, start: float, tz: str) -> str:
    """The rule in canonical form (`FREQ=WEEKLY;BYDAY=SU`, upper case, UNTIL in UTC), or
    RecurrenceError naming the problem. `start` is the first occurrence (UTC epoch), `tz` the zone."""
    rule = text.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[6:]
    if not rule or len(rule) > 500 or not rule.isprintable():
        raise RecurrenceError("is not an RRULE like FREQ=WEEKLY;BYDAY=SU")
    parts: dict[str, str] = {}
    for item in rule.split(";"):
        name, eq, value = item.partition("=")
        name, value = name.strip().upper(), value.strip().upper()
        if not eq or not value:
            raise RecurrenceError(f"{item.strip()!r} is not NAME=VALUE (write it like FREQ=WEEKLY;BYDAY=SU)")
        if name not in _PARTS:
            raise RecurrenceError(f"{name} is not supported (use {', '.join(_PARTS)})")
        if name in parts:
            raise RecurrenceError(f"{name} is given twice")
        parts[name] = value
    if parts.get("FREQ") not in ALLOWED_FREQ:
        raise RecurrenceError(f"FREQ must be one of {', '.join(ALLOWED_FREQ)}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError("COUNT and UNTIL cannot both be given")
    for name in ("INTERVAL", "COUNT"):
        # RFC 5545 3.3.10: both are positive integers (INTERVAL=0 would make an invalid iCalendar file).
        if name in parts and not (parts[name].isdigit() and int(parts[name]) >= 1):
            raise RecurrenceError(f"{name} must be a whole number of at least 1")
    if "UNTIL" in parts:
        parts["UNTIL"] = _until_utc(parts["UNTIL"], tz)
    canonical = ";".join(f"{k}={parts[k]}" for k in _PARTS if k in parts)
    try:
        first = _compiled(canonical, _local_naive(start, tz).isoformat(), tz)[0]
        occurrence = first[0] if first else None
    except (ValueError, TypeError, OverflowError) as exc:
        raise RecurrenceError(f"is not a valid RRULE: {exc}") from None
    if occurrence is None:
        raise RecurrenceError("has no occurrence at or after the start")
    return canonical


def _until_utc(value: str, tz: str) -> str:
    zone = ZoneInfo(tz)
    try:
        if value.endswith("Z"):
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        elif "T" in value:
            moment = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
        else:  # a date: up to the end of that day, local time
            moment = (datetime.strptime(value, "%Y%m%d") + timedelta(days=1, seconds=-1)).replace(tzinfo=zone)
    except ValueError:
        raise RecurrenceError(
            f"UNTIL {value} is not a date (20261231) or date-time (20261231T235959Z)"
        ) from None
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@lru_cache(maxsize=256)
def _compiled(rule: str, dtstart: str, tz: str) -> tuple[list[datetime], _rrule.rrule]:
    """The dateutil rule on naive wall times (UNTIL turned back into local wall time), and its first
    occurrence (as a one-element list, empty when there is none)."""
    parts = dict(p.split("=", 1) for p in rule.split(";"))
    until = parts.pop("UNTIL", None)
    start = datetime.fromisoformat(dtstart)
    text = ";".join(f"{k}={v}" for k, v in parts.items())
    compiled = _rrule.rrulestr(text, dtstart=start, cache=False)
    assert isinstance(compiled, _rrule.rrule)
    if until is not None:
        moment = datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        compiled = compiled.replace(until=moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None))
    first = compiled.after(start, inc=True)
    return ([first] if first is not None else []), compiled


def expand(rule: str, start: float, end: float, tz: str, lo: float, hi: float) -> list[tuple[float, float]]:
    """The occurrences `(start, end)` (UTC epoch seconds) of a normalised rule that overlap [lo, hi),
    in order. `start`/`end` are the first occurrence; each lasts `end − start` seconds."""
    duration = end - start
    if hi <= lo or duration <= 0:
        return []
    zone = ZoneInfo(tz)
    _, compiled = _compiled(rule, _local_naive(start, tz).isoformat(), tz)
    # Wall times a little wider than [lo − duration, hi): offsets move wall time by hours at most.
    lo_wall = _local_naive(max(lo - duration, start), tz) - timedelta(days=1)
    hi_wall = _local_naive(hi, tz) + timedelta(days=1)
    out: list[tuple[float, float]] = []
    for wall in compiled.xafter(lo_wall, count=MAX_OCCURRENCES, inc=True):
        if wall > hi_wall:
            break
        s = _epoch(wall, zone)
        e = s + duration
        if e > lo and s < hi and s >= start:
            out.append((s, e))
    return out


def series_end(rule: str, start: float, end: float, tz: str) -> float | None:
    """The end of the last occurrence (UTC epoch), or None when the rule repeats forever."""
    parts = dict(p.split("=", 1) for p in rule.split(";"))
    if "COUNT" not in parts and "UNTIL" not in parts:
        return None
    _, compiled = _compiled(rule, _local_naive(start, tz).isoformat(), tz)
    last = None
    for n, wall in enumerate(compiled):
        last = wall
        if n >= MAX_OCCURRENCES:
            break
    if last is None:
        return end
    return _epoch(last, ZoneInfo(tz)) + (end - start)


GAP_HORIZON = 800 * 86400.0
"""How far `shortest_gap` looks: past two of every DST change, month length and leap day."""


def shortest_gap(rule: str, start: float, end: float, tz: str) -> float | None:
    """The shortest time in seconds from one occurrence's start to the next one's, over the
    occurrences starting within `GAP_HORIZON` of `start` (the first occurrence; `end` its end); None
    with fewer than two. A window lasting this long or longer overlaps the next occurrence."""
    starts = [s for s, _ in expand(rule, start, end, tz, start, start + GAP_HORIZON)]
    gaps = [b - a for a, b in pairwise(starts)]
    return min(gaps) if gaps else None
