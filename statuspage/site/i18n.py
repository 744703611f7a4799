"""Words, numbers, dates and durations of the public site in pt-BR (the default) and English.

A `Translator` is bound to one locale and one timezone: `t("key", **values)` looks a string up,
`percent`, `number`, `datetime`, `duration`, `relative` format values the way a reader of that locale
expects (pt-BR `99,95 %`, en `99.95%`), always in the site's timezone. The phrase tables live in
`statuspage.site.texts`; this module holds only the formatting rules.

Uptime percentages are truncated, never rounded up: 99.996 % shows as 99.99 %, and only a spotless
window shows 100 %, so the page never looks better than the measurement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date as Date
from datetime import datetime as DateTime
from datetime import tzinfo
from typing import Final, Literal
from zoneinfo import ZoneInfo

from statuspage.durations import human_duration
from statuspage.incidents.messages import word
from statuspage.models import AutoText
from statuspage.site.texts import MONTHS, MONTHS_SHORT, STRINGS

__all__ = ["DEFAULT_LOCALE", "LOCALES", "Locale", "Translator", "translator"]

Locale = Literal["pt-BR", "en"]
LOCALES: Final[tuple[Locale, ...]] = ("pt-BR", "en")
DEFAULT_LOCALE: Final[Locale] = "pt-BR"


class Translator:
    """Strings and formats of one locale, with times shown in one timezone."""

    def __init__(self, locale: str = DEFAULT_LOCALE, timezone: str | tzinfo = "America/Sao_Paulo") -> None:
        """Bind a locale (`pt-BR` or `en`; anything else falls back to pt-BR) and a timezone."""
        self.locale: Locale = "en" if locale == "en" else "pt-BR"
        self.tz: tzinfo = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self.tz_name = timezone if isinstance(timezone, str) else str(timezone)
        self._strings: Mapping[str, str] = STRINGS[self.locale]
        self._fallback: Mapping[str, str] = STRINGS["en"]

    # --- strings ---------------------------------------------------------------------------------

    def __call__(self, key: str, /, **values: object) -> str:
        """The phrase `key`, with `{placeholders}` filled from `values`."""
        text = self._strings.get(key)
        if text is None:
            text = self._fallback.get(key, key)  # a missing phrase shows its key, never crashes a render
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """True when the locale (or the English fallback) knows `key`."""
        return key in self._strings or key in self._fallback

    @property
    def lang(self) -> str:
        """The value of the html `lang` attribute."""
        return self.locale

    def plural(self, n: int, one: str, many: str, **values: object) -> str:
        """`one` when n == 1 else `many` (both keys), with `{n}` filled in."""
        return self(one if n == 1 else many, n=self.number(n), **values)

    # --- numbers ---------------------------------------------------------------------------------

    def number(self, value: float, digits: int = 0) -> str:
        """A number with the locale's separators: pt-BR `1.234,5`, en `1,234.5`."""
        text = f"{value:,.{digits}f}"
        if self.locale == "pt-BR":
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text

    def percent(self, ratio: float | None, digits: int = 2, *, no_data: str | None = None) -> str:
        """A ratio as a percentage (0.9995 → `99,95 %` / `99.95%`), truncated; None → "no data"."""
        if ratio is None or math.isnan(ratio):
            return no_data if no_data is not None else self("no_data")
        if ratio >= 1.0:
            text = "100"
        else:
            # Never 100 for an imperfect window, however close it is.
            shown = min(_truncate(ratio * 100.0, digits), 100.0 - 10.0 ** -digits)
            text = self.number(shown, digits)
        return f"{text} %" if self.locale == "pt-BR" else f"{text}%"

    def target(self, ratio: float) -> str:
        """A target such as 99.5 % with only the digits it needs."""
        value = round(ratio * 100.0, 4)
        digits = 0 if value == int(value) else len(f"{value:g}".partition(".")[2])
        text = self.number(value, digits)
        return f"{text} %" if self.locale == "pt-BR" else f"{text}%"

    # --- dates and times -------------------------------------------------------------------------

    def local(self, ts: float) -> DateTime:
        """An epoch time as an aware datetime in the site timezone."""
        return DateTime.fromtimestamp(ts, self.tz)

    def date(self, value: float | Date) -> str:
        """A short date: `24 nov 2025` / `Nov 24, 2025`."""
        d = self.local(value).date() if isinstance(value, int | float) else value
        short = MONTHS_SHORT[self.locale][d.month - 1]
        return f"{d.day} {short} {d.year}" if self.locale == "pt-BR" else f"{short} {d.day}, {d.year}"

    def long_date(self, value: float | Date) -> str:
        """A date as a heading: `24 de novembro de 2025` / `November 24, 2025`."""
        d = self.local(value).date() if isinstance(value, int | float) else value
        month = MONTHS[self.locale][d.month - 1]
        return f"{d.day} de {month} de {d.year}" if self.locale == "pt-BR" else f"{month} {d.day}, {d.year}"

    def time(self, ts: float) -> str:
        """The time of day, 24-hour: `22:10`."""
        return self.local(ts).strftime("%H:%M")

    def datetime(self, ts: float) -> str:
        """Date and time: `24 nov 2025, 22:10` / `Nov 24, 2025, 22:10`."""
        return f"{self.date(ts)}, {self.time(ts)}"

    def period(self, start: float, end: float) -> str:
        """A stretch of time, the date written once when both ends fall on the same day."""
        if self.local(start).date() == self.local(end).date():
            return f"{self.datetime(start)} – {self.time(end)}"
        return f"{self.datetime(start)} – {self.datetime(end)}"

    def month(self, year: int, month: int) -> str:
        """A calendar month: `novembro de 2025` / `November 2025`."""
        name = MONTHS[self.locale][month - 1]
        return f"{name} de {year}" if self.locale == "pt-BR" else f"{name} {year}"

    def iso(self, ts: float) -> str:
        """ISO 8601 with milliseconds and the site's UTC offset, as Statuspage writes times."""
        return self.local(ts).isoformat(timespec="milliseconds")

    def utc_offset(self, ts: float) -> str:
        """The site timezone's offset at `ts`: `−03:00`."""
        offset = self.local(ts).utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        sign = "+" if minutes >= 0 else "−"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    # --- durations -------------------------------------------------------------------------------

    def duration(self, seconds: float, *, days: bool = True) -> str:
        """A duration, two units at most: `45 s`, `12 min`, `3 h 36 min`, `2 dias 4 h` / `2 days 4 h`.

        With `days=False` whole hours stay hours (`24 h`, `48 h`), as support promises are written.
        """
        return human_duration(seconds, self.locale, days=days)

    def relative(self, ts: float, now: float) -> str:
        """How far `ts` is from `now`: `há 5 min` / `5 min ago`, `em 3 h` / `in 3 h`."""
        delta = ts - now
        if abs(delta) < 60:
            return self("just_now")
        key = "in_time" if delta > 0 else "time_ago"
        return self(key, duration=self.duration(abs(delta)))

    # --- statuses --------------------------------------------------------------------------------

    def component_status(self, status: str | None) -> str:
        """A component status (`None` is no data)."""
        return self(f"component.{status}" if status else "no_data")

    def incident_status(self, status: str) -> str:
        """An incident or maintenance status (investigating, scheduled, …)."""
        return self(f"incident.{status}")

    def impact(self, impact: str) -> str:
        """A Statuspage impact (none, minor, major, critical)."""
        return self(f"impact.{impact}")

    def banner(self, kind: str) -> str:
        """The page banner in Statuspage wording ("All Systems Operational", …)."""
        return self(f"banner.{kind}")

    def severity(self, severity: str) -> str:
        """`T1 — Impacto Crítico` / `T1 — Critical Impact`."""
        return f"{severity} — {self(f'severity.{severity}.name')}"

    def auto(self, text: AutoText | None, names: Mapping[str, str] | None = None) -> str | None:
        """A text statuspage wrote itself (an automatic incident's title or update) in this locale;
        None when there is none or this version cannot word it (show the stored text then)."""
        return None if text is None else word(text, self.locale, self.tz_name, names)


def translator(locale: str, timezone: str) -> Translator:
    """A Translator for a site's locale and timezone."""
    return Translator(locale, timezone)


def _truncate(value: float, digits: int) -> float:
    scale = 10.0 ** digits
    # The epsilon absorbs binary noise (0.9995 × 100 × 100 = 9994.999…) without rounding real values up.
    return math.floor(value * scale + 1e-6) / scale
