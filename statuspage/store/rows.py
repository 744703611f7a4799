"""Row mappings both backends share (SQLite and PostgreSQL store these columns alike): support
cases (the columns of support_sql.py), the automatic texts of incidents (schema version 4) and
maintenance windows with their recurrence (subscriptions_sql.MAINTENANCE_COLUMNS, version 7)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from statuspage.models import AutoText, CaseEvent, CaseRow, Maintenance

__all__ = ["auto_json", "case_from_row", "case_params", "event_params", "flag", "locations_json",
           "maintenance_from_row", "maintenance_params", "parse_auto", "parse_locations"]

log = logging.getLogger(__name__)


def event_params(e: CaseEvent) -> tuple[Any, ...]:
    """A case event as the parameters of `support_sql.INSERT_EVENT` (its `EVENT_COLUMNS` order)."""
    return (e.case_id, e.event_id, e.kind, e.at, e.channel, e.page, e.severity, e.outcome, e.recorded_at)


def flag(value: bool | None) -> int | None:
    """A yes/no/unknown figure as the INTEGER 1/0/NULL both schemas store."""
    return None if value is None else int(value)


def case_params(c: CaseRow) -> tuple[Any, ...]:
    """A case's figures as the parameters of `support_sql.UPSERT_CASE` (its `CASE_COLUMNS` order)."""
    return (
        c.case_id, c.channel, c.page, c.month, c.opened_at, c.first_response_at, c.first_response_s,
        c.first_response_limit_s, c.first_response_due_at, c.first_response_warn_at,
        flag(c.first_response_within), c.triaged_at, c.triage_s, c.severity,
        json.dumps([[at, sev] for at, sev in c.severity_changes]), int(c.waiting), c.waiting_s, c.resolved_at,
        c.resolution_s, c.resolution_limit_s, c.resolution_due_at, c.resolution_warn_at,
        flag(c.resolution_within), c.outcome, c.events, c.updated_at,
    )


def case_from_row(r: Sequence[Any]) -> CaseRow:
    """A row of `CASE_COLUMNS` back into a `CaseRow`."""
    return CaseRow(
        case_id=r[0], channel=r[1], page=r[2], month=r[3], opened_at=r[4], first_response_at=r[5],
        first_response_s=r[6], first_response_limit_s=r[7], first_response_due_at=r[8],
        first_response_warn_at=r[9], first_response_within=None if r[10] is None else bool(r[10]),
        triaged_at=r[11], triage_s=r[12], severity=r[13],
        severity_changes=tuple((float(at), sev) for at, sev in json.loads(r[14])), waiting=bool(r[15]),
        waiting_s=r[16], resolved_at=r[17], resolution_s=r[18], resolution_limit_s=r[19],
        resolution_due_at=r[20], resolution_warn_at=r[21],
        resolution_within=None if r[22] is None else bool(r[22]), outcome=r[23], events=int(r[24]),
        updated_at=r[25],
    )


def auto_json(auto: AutoText | None) -> str | None:
    """The `title_auto` / `auto` column (JSON) of an automatic text; NULL for text people wrote."""
    return None if auto is None else json.dumps(auto.to_data(), ensure_ascii=False)


def parse_auto(text: str | None) -> AutoText | None:
    """An automatic text column; an unreadable one is dropped (the plain text beside it still shows)."""
    if text is None:
        return None
    try:
        return AutoText.from_data(json.loads(text))
    except ValueError:
        log.warning("ignoring an unreadable automatic text %r", text[:80])
        return None


def locations_json(locations: Sequence[str]) -> str | None:
    """The `locations` column of an incident (schema version 6): a JSON list, NULL when empty."""
    return json.dumps(list(locations)) if locations else None


def parse_locations(text: str | None) -> tuple[str, ...]:
    """An incident's `locations` column; an unreadable one is read as none."""
    if not text:
        return ()
    try:
        value = json.loads(text)
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def maintenance_params(m: Maintenance, created_at: float) -> tuple[Any, ...]:
    """A window as the parameters of `subscriptions_sql.INSERT_MAINTENANCE` (`cancelled` as a bool:
    SQLite stores 0/1, PostgreSQL a BOOLEAN). `series_end` is when its last occurrence ends (None: a
    rule without end), so a database finds the windows still running without expanding rules."""
    series_end: float | None = m.end
    if m.rrule:
        from statuspage.recurrence import series_end as last_end

        series_end = last_end(m.rrule, m.start, m.end, m.timezone or "UTC")
    return (m.page, m.title, m.message, json.dumps(list(m.components)), float(m.start), float(m.end),
            float(created_at), m.created_by, bool(m.cancelled), m.rrule or None, m.timezone or None,
            series_end, int(m.sequence), m.updated_at or None)


def maintenance_from_row(r: Sequence[Any]) -> Maintenance:
    """A row of `subscriptions_sql.MAINTENANCE_COLUMNS` back into a `Maintenance`."""
    return Maintenance(id=int(r[0]), page=r[1], title=r[2], message=r[3], components=tuple(json.loads(r[4])),
                       start=r[5], end=r[6], created_at=r[7], created_by=r[8], cancelled=bool(r[9]),
                       rrule=r[10] or "", timezone=r[11] or "", sequence=int(r[12] or 0),
                       updated_at=float(r[13] or 0.0))
