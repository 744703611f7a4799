"""Business time: the weekly hours a support channel is staffed, in the site timezone, minus holidays.

A `BusinessCalendar` answers two questions, both pure and exact to the second:

- `seconds(a, b)`: how many business seconds lie in [a, b) (UTC epoch seconds in, seconds out);
- `add(a, s)`: the instant at which `s` business seconds have passed since `a`.

Open intervals are wall-clock times of each local date ("08:00-18:00" on a Monday), turned into
instants through the timezone on that date, so a DST change shortens or lengthens that day's
hours exactly as a clock on the wall does; a nonexistent local time (spring forward) maps the way
`zoneinfo` maps it (fold 0). Holidays are local dates on which nothing is open. A calendar without
weekly hours is around the clock (24×7): holidays do not apply to it.

Holidays come from the `holidays` library (a country and optional subdivision, e.g. BR/SP) plus extra
dates from the config (`support.holidays`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from statuspage.config import SupportHolidays, WeeklyHours

__all__ = ["BusinessCalendar", "holiday_dates"]

_MAX_DAYS = 3660
"""How far `add` looks ahead for business time (ten years): a calendar open for a minute a week
still answers; one that is never open (every open day a holiday) raises instead of looping."""


@lru_cache(maxsize=64)
def _library_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


def holiday_dates(config: SupportHolidays, years: Iterable[int]) -> frozenset[date]:
    """The configured holidays of these years: the library's for the country/subdivision, plus extras."""
    out: set[date] = set(config.dates)
    if config.country is not None:
        for year in years:
            out |= _library_holidays(config.country, config.subdivision, year)
    return frozenset(out)


class BusinessCalendar:
    """Business seconds of one channel: weekly open hours in a timezone, closed on holidays.

    `weekly` is None for around the clock. `holidays` is a fixed set of dates, or a `SupportHolidays`
    config read lazily per year (so a calendar works for any year without listing them up front)."""

    def __init__(self, timezone: str, weekly: WeeklyHours | None = None,
                 holidays: SupportHolidays | frozenset[date] | None = None) -> None:
        self.zone = ZoneInfo(timezone)
        self.weekly = weekly
        if weekly is not None and not any(weekly):
            raise ValueError("business hours open on no day of the week")
        self._config = holidays if isinstance(holidays, SupportHolidays) else None
        self._fixed = holidays if isinstance(holidays, frozenset) else frozenset()
        self._years: dict[int, frozenset[date]] = {}

    @property
    def always_open(self) -> bool:
        """True for a 24×7 calendar."""
        return self.weekly is None

    def is_holiday(self, day: date) -> bool:
        """True when `day` (a local date) is a holiday."""
        if day in self._fixed:
            return True
        if self._config is None:
            return False
        found = self._years.get(day.year)
        if found is None:
            found = self._years[day.year] = holiday_dates(self._config, [day.year])
        return day in found

    def _open(self, day: date) -> Iterator[tuple[float, float]]:
        """The open intervals of one local date as UTC instants, in order."""
        assert self.weekly is not None
        if self.is_holiday(day):
            return
        for start, end in self.weekly[day.weekday()]:
            yield self._instant(day, start), self._instant(day, end)

    def _instant(self, day: date, minute: int) -> float:
        if minute >= 24 * 60:
            return datetime.combine(day + timedelta(days=1), time(0, 0), self.zone).timestamp()
        return datetime.combine(day, time(minute // 60, minute % 60), self.zone).timestamp()

    def _local_date(self, at: float) -> date:
        return datetime.fromtimestamp(at, self.zone).date()

    def seconds(self, start: float, end: float) -> float:
        """Business seconds in [start, end); 0 when end <= start."""
        if end <= start:
            return 0.0
        if self.weekly is None:
            return end - start
        total = 0.0
        # A local day's intervals never start before its local midnight, so beginning the day
        # before `start` is enough to catch every overlapping interval.
        day, last = self._local_date(start) - timedelta(days=1), self._local_date(end)
        while day <= last:
            for a, b in self._open(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def add(self, start: float, seconds: float) -> float:
        """The instant when `seconds` business seconds have passed since `start`.

        With `seconds` 0 that is `start` itself when it is inside business hours, else the next
        opening. Raises ValueError when the calendar has no business time within ten years."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be a finite number >= 0, not {seconds}")
        if self.weekly is None:
            return start + seconds
        left = seconds
        day = self._local_date(start) - timedelta(days=1)
        for _ in range(_MAX_DAYS):
            for a, b in self._open(day):
                lo = max(a, start)
                if b <= lo:
                    continue
                if b - lo >= left:
                    return lo + left
                left -= b - lo
            day += timedelta(days=1)
        raise ValueError("no business time within ten years (every open day a holiday?)")
