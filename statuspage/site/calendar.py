"""`<page>/maintenances.ics`: a page's maintenance windows as an iCalendar feed (RFC 5545, through the
`icalendar` library) that calendar clients subscribe to.

One VEVENT per window, a recurring window as one VEVENT with its RRULE. UIDs are stable
(`maintenance-<id>@<host>`), SEQUENCE and LAST-MODIFIED go up when a window changes, and a cancelled
window stays in the feed with STATUS:CANCELLED, so clients remove it rather than keep a stale copy.
Times are in the window's timezone (the site's) with its VTIMEZONE; DTSTAMP is the last change, so
the file changes only when a window does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from statuspage.config import Config
from statuspage.models import Maintenance

PRODID = "-//statuspage//maintenance windows//EN"


def uid(config: Config, m: Maintenance) -> str:
    """The window's stable UID: `maintenance-<id>@<host of site.base_url>`."""
    host = urlsplit(config.site.base_url).hostname or "statuspage"
    return f"maintenance-{m.id}@{host}"


def maintenances_ics(
    config: Config,
    page_slug: str,
    windows: Sequence[Maintenance],
    *,
    name: str,
    summary_prefix: str = "",
    page_url: str = "",
    words: dict[str, str] | None = None,
) -> bytes:
    """The iCalendar document of a page's windows (cancelled ones as STATUS:CANCELLED)."""
    words = words or {}
    page = config.page(page_slug)
    names = {c.slug: c.name for c in page.components} if page else {}
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", config.site.timezone)
    years: list[int] = []
    for m in sorted(windows, key=lambda w: (w.start, w.id)):
        zone = ZoneInfo(m.timezone or config.site.timezone)
        changed = datetime.fromtimestamp(max(m.updated_at, m.created_at), UTC)
        event = Event()
        event.add("uid", uid(config, m))
        event.add("dtstamp", changed)
        event.add("created", datetime.fromtimestamp(m.created_at, UTC))
        event.add("last-modified", changed)
        event.add("sequence", m.sequence)
        start, end = datetime.fromtimestamp(m.start, zone), datetime.fromtimestamp(m.end, zone)
        event.add("dtstart", start)
        event.add("dtend", end)
        if m.rrule:
            event.add("rrule", vRecur.from_ical(m.rrule))
        event.add("summary", f"{summary_prefix}{m.title}")
        comps = ", ".join(names.get(c, c) for c in m.components) or words.get("all", "")
        lines = ([m.message] if m.message else []) + (
            [f"{words.get('components', '')}: {comps}"] if comps else []
        )
        if lines:
            event.add("description", "\n".join(lines))
        if page_url:
            event.add("url", page_url)
        event.add("status", "CANCELLED" if m.cancelled else "CONFIRMED")
        event.add("transp", "OPAQUE")
        cal.add_component(event)
        years += [start.year, end.year]
    if years:
        # Only the years the windows need: the zone's rules for 1970–2038 would be most of the file.
        cal.add_missing_timezones(first_date=date(min(years), 1, 1), last_date=date(max(years) + 2, 1, 1))
    return bytes(cal.to_ical())
