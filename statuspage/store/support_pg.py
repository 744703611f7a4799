"""The support cases' SQL in PostgreSQL's dialect: support_sql.py's statements, numbered.

support_sql.py holds every statement once, in standard SQL with `?` placeholders; PostgreSQL takes
the same text with `$1…$n`. Its text columns compare byte by byte (`COLLATE "C"`), as SQLite's do,
so case ids order and page the same in both backends. Only the list of sent alerts differs (one
array parameter instead of `IN (?, ?, …)`).
"""

from __future__ import annotations

from statuspage.store import support_sql

__all__ = [
    "ALERTS_SENT", "ALERT_CANDIDATES", "CASE_EVENTS", "CASE_IDS", "CHANNEL_TOTALS", "COUNT_OPEN",
    "GET_CASE", "GET_META", "INSERT_ALERT", "INSERT_EVENT", "MEDIANS", "OUTCOME_TOTALS", "PAGE_MEDIANS",
    "SCHEMA", "SET_META", "SEVERITY_TOTALS", "TRIAGE_TOTALS", "UPSERT_CASE", "list_cases", "numbered",
]


def numbered(sql: str) -> str:
    """`?` placeholders → `$1`, `$2`, … in order (support_sql's statements have no `?` in literals)."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))


SCHEMA = support_sql.SCHEMA.replace(" TEXT", ' TEXT COLLATE "C"')
"""Schema version 3 (the same tables and indexes as SQLite's)."""

INSERT_EVENT = numbered(support_sql.INSERT_EVENT)
CASE_EVENTS = numbered(support_sql.CASE_EVENTS)
UPSERT_CASE = numbered(support_sql.UPSERT_CASE)
GET_CASE = numbered(support_sql.GET_CASE)
CASE_IDS = numbered(support_sql.CASE_IDS)
CHANNEL_TOTALS = numbered(support_sql.CHANNEL_TOTALS)
PAGE_MEDIANS = numbered(support_sql.PAGE_MEDIANS)
MEDIANS = numbered(support_sql.MEDIANS)
TRIAGE_TOTALS = numbered(support_sql.TRIAGE_TOTALS)
SEVERITY_TOTALS = numbered(support_sql.SEVERITY_TOTALS)
OUTCOME_TOTALS = numbered(support_sql.OUTCOME_TOTALS)
ALERT_CANDIDATES = numbered(support_sql.ALERT_CANDIDATES) + " ORDER BY case_id"
ALERTS_SENT = "SELECT case_id, kind FROM support_alerts WHERE case_id = ANY($1::text[])"
INSERT_ALERT = numbered(support_sql.INSERT_ALERT)
GET_META = numbered(support_sql.GET_META)
SET_META = numbered(support_sql.SET_META)
COUNT_OPEN = numbered(support_sql.COUNT_OPEN)


def list_cases(open_only: bool, since: bool) -> str:
    """support_sql.list_cases, numbered."""
    return numbered(support_sql.list_cases(open_only, since))
