"""Click parameter types for values the CLI checks before doing anything: a bad one is click's usage
error (exit 2, `Invalid value for '--duration': …`), like a bad `--severity` or a non-number id."""

from __future__ import annotations

from typing import Any

import click

from statuspage.config import is_postgres_url
from statuspage.durations import parse_duration

_CHECK_FROM = 946_684_800.0
"""2000-01-01 UTC: the start an RRULE's syntax is checked against (before any UNTIL it may give);
the rule is checked again against the window's real start and timezone when it is scheduled."""


class DurationType(click.ParamType):  # type: ignore[type-arg]  # generic in recent click, not in 8.1
    """`2h`, `90m`, `1h30m`, `500ms` → seconds (more than zero)."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        try:
            seconds = parse_duration(str(value))
        except ValueError:
            self.fail(f'"{value}" is not a duration like 2h, 90m or 1h30m', param, ctx)
        if seconds <= 0:
            self.fail(f'"{value}" is not longer than zero', param, ctx)
        return seconds


class RRuleType(click.ParamType):  # type: ignore[type-arg]  # generic in recent click, not in 8.1
    """An RFC 5545 RRULE such as `FREQ=WEEKLY;BYDAY=SU`, checked for syntax (returned as given)."""

    name = "rrule"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from statuspage.recurrence import RecurrenceError, normalise

        text = str(value)
        if not text:
            return text
        try:
            normalise(text, _CHECK_FROM, "UTC")
        except RecurrenceError as exc:
            self.fail(str(exc), param, ctx)
        return text


DURATION = DurationType()
RRULE = RRuleType()


class MonthType(click.ParamType):  # type: ignore[type-arg]  # generic in recent click, not in 8.1
    """`YYYY-MM`, a calendar month (returned as given)."""

    name = "month"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from datetime import datetime

        try:
            datetime.strptime(str(value), "%Y-%m")
        except ValueError:
            self.fail(f'"{value}" is not a month like 2026-11', param, ctx)
        return str(value)


class PostgresUrlType(click.ParamType):  # type: ignore[type-arg]  # generic in recent click, not in 8.1
    """A `postgresql://` URL; refused without ever showing it (it carries a password)."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not is_postgres_url(text):  # the rule of storage.url (a bad port or host was a traceback)
            self.fail("must be a postgresql://user:password@host:5432/database URL", param, ctx)
        return text


MONTH = MonthType()
POSTGRES_URL = PostgresUrlType()
