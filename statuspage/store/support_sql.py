"""Every SQL statement of the support cases, in one place (used by sqlite.py; a PostgreSQL backend
uses the same text with its own placeholders).

Standard SQL only: `DOUBLE PRECISION`, `INTEGER` 0/1 for booleans, `INSERT … ON CONFLICT … DO
UPDATE` (SQLite ≥ 3.24, PostgreSQL ≥ 9.5), window functions for the median (SQLite ≥ 3.25), partial
indexes. Placeholders are `?` in order; a PostgreSQL driver needs `$1…` / `%s`. The indicators are
aggregated in the database (GROUP BY month and channel / severity / outcome): the program never
loops over the cases to publish them.

Tables:
- `support_events`: every event of every case, unique by (case_id, event_id): a delivery repeated
  by a helpdesk is stored once;
- `support_cases`: one row per case with its figures, recomputed from its events by
  `statuspage.support.clocks` whenever one arrives; `events` guards against a stale writer;
- `support_alerts`: the alerts already sent, once per (case, kind), across restarts;
- `support_meta`: small key/value facts (the fingerprint of the config the figures were computed with).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from statuspage.models import ChannelMonthTotals, SeverityMonthTotals, SupportTotals

SCHEMA = """
CREATE TABLE support_events (
    case_id TEXT NOT NULL, event_id TEXT NOT NULL, kind TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
    channel TEXT, page TEXT, severity TEXT, outcome TEXT, recorded_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (case_id, event_id)
);
CREATE TABLE support_cases (
    case_id TEXT PRIMARY KEY, channel TEXT NOT NULL, page TEXT, month TEXT NOT NULL,
    opened_at DOUBLE PRECISION NOT NULL,
    first_response_at DOUBLE PRECISION, first_response_s DOUBLE PRECISION,
    first_response_limit_s DOUBLE PRECISION NOT NULL, first_response_due_at DOUBLE PRECISION,
    first_response_warn_at DOUBLE PRECISION, first_response_within INTEGER,
    triaged_at DOUBLE PRECISION, triage_s DOUBLE PRECISION,
    severity TEXT, severity_changes TEXT NOT NULL,
    waiting INTEGER NOT NULL, waiting_s DOUBLE PRECISION NOT NULL,
    resolved_at DOUBLE PRECISION, resolution_s DOUBLE PRECISION, resolution_limit_s DOUBLE PRECISION,
    resolution_due_at DOUBLE PRECISION, resolution_warn_at DOUBLE PRECISION, resolution_within INTEGER,
    outcome TEXT, events INTEGER NOT NULL, updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX support_cases_month_channel ON support_cases (month, channel, first_response_s);
CREATE INDEX support_cases_first_response ON support_cases
    (page, month, channel, first_response_s, first_response_within, first_response_due_at);
CREATE INDEX support_cases_triage ON support_cases (page, month, triage_s);
CREATE INDEX support_cases_resolution ON support_cases
    (page, month, severity, resolution_s, resolution_within, resolution_due_at);
CREATE INDEX support_cases_outcome ON support_cases (page, month, outcome);
CREATE INDEX support_cases_opened ON support_cases (opened_at);
CREATE INDEX support_cases_fr_pending ON support_cases (first_response_warn_at)
    WHERE first_response_at IS NULL;
CREATE INDEX support_cases_res_pending ON support_cases (resolution_warn_at) WHERE resolved_at IS NULL;
CREATE TABLE support_alerts (
    case_id TEXT NOT NULL, kind TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, PRIMARY KEY (case_id, kind)
);
CREATE TABLE support_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)
"""
"""Schema version 3 (one statement per `;`, no `;` inside a statement)."""

EVENT_COLUMNS = "case_id, event_id, kind, at, channel, page, severity, outcome, recorded_at"

INSERT_EVENT = (
    f"INSERT INTO support_events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (case_id, event_id) DO NOTHING"
)
CASE_EVENTS = f"SELECT {EVENT_COLUMNS} FROM support_events WHERE case_id = ? ORDER BY at, event_id"

CASE_COLUMNS = (
    "case_id, channel, page, month, opened_at, first_response_at, first_response_s, first_response_limit_s, "
    "first_response_due_at, first_response_warn_at, first_response_within, triaged_at, triage_s, severity, "
    "severity_changes, waiting, waiting_s, resolved_at, resolution_s, resolution_limit_s, resolution_due_at, "
    "resolution_warn_at, resolution_within, outcome, events, updated_at"
)
_UPDATED = [c.strip() for c in CASE_COLUMNS.split(",") if c.strip() != "case_id"]

UPSERT_CASE = (
    f"INSERT INTO support_cases ({CASE_COLUMNS}) VALUES ({', '.join('?' * len(CASE_COLUMNS.split(',')))}) "
    "ON CONFLICT (case_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _UPDATED)
    # A writer that read fewer events (a concurrent CLI and server) never overwrites a fuller row.
    + " WHERE excluded.events >= support_cases.events"
)
GET_CASE = f"SELECT {CASE_COLUMNS} FROM support_cases WHERE case_id = ?"
CASE_IDS = "SELECT case_id FROM support_cases WHERE case_id > ? ORDER BY case_id LIMIT ?"


def list_cases(open_only: bool, since: bool) -> str:
    """Cases newest first; `?` for `since` (opened at or after), then the limit."""
    where = []
    if open_only:
        where.append("resolved_at IS NULL")
    if since:
        where.append("opened_at >= ?")
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return f"SELECT {CASE_COLUMNS} FROM support_cases{clause} ORDER BY opened_at DESC, case_id LIMIT ?"


# --- the published indicators (aggregates only) ---------------------------------------------------------
#
# Each query reads one covering index in its own order (no table lookups, no sort), grouped by page
# as well, so one pass serves the whole site and every page; the store adds the pages' rows up for the
# site-wide figures. Medians cannot be added up: the site-wide one has its own query.

CHANNEL_TOTALS = (
    "SELECT page, month, channel, COUNT(*), COUNT(first_response_s), "
    "SUM(CASE WHEN first_response_within = 1 THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN first_response_s IS NULL AND first_response_due_at < ? THEN 1 ELSE 0 END), "
    "COALESCE(SUM(first_response_s), 0) FROM support_cases WHERE month >= ? GROUP BY page, month, channel"
)
"""Per (page, month, channel): cases, answered, within the limit, overdue unanswered, sum of first
responses. Parameters: now, since_month."""

_MEDIAN = (
    "SELECT {keys}, AVG(first_response_s) FROM ("
    "SELECT {keys}, first_response_s, "
    "ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY first_response_s) AS n, "
    "COUNT(*) OVER (PARTITION BY {keys}) AS total "
    "FROM support_cases WHERE first_response_s IS NOT NULL AND month >= ?"
    ") ranked WHERE n IN ((total + 1) / 2, (total + 2) / 2) GROUP BY {keys}"
)
PAGE_MEDIANS = _MEDIAN.format(keys="page, month, channel")
"""Per (page, month, channel): the median first response (the mean of the middle one or two, by
window functions). Parameters: since_month."""
MEDIANS = _MEDIAN.format(keys="month, channel")
"""Per (month, channel) over every page. Parameters: since_month."""

TRIAGE_TOTALS = ("SELECT page, month, COUNT(*), SUM(triage_s) FROM support_cases "
                 "WHERE triage_s IS NOT NULL AND month >= ? GROUP BY page, month")
"""Per (page, month): triaged cases and the sum of their triage times. Parameters: since_month."""

SEVERITY_TOTALS = (
    "SELECT page, month, severity, COUNT(*), COUNT(resolution_s), "
    "SUM(CASE WHEN resolution_within = 1 THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN resolution_s IS NULL AND resolution_due_at < ? THEN 1 ELSE 0 END), "
    "COALESCE(SUM(resolution_s), 0) FROM support_cases "
    "WHERE severity IS NOT NULL AND month >= ? GROUP BY page, month, severity"
)
"""Per (page, month, current severity): cases, resolved, within the limit, overdue open, sum of
resolution times. Parameters: now, since_month."""

OUTCOME_TOTALS = ("SELECT page, month, outcome, COUNT(*) FROM support_cases "
                  "WHERE outcome IS NOT NULL AND month >= ? GROUP BY page, month, outcome")
"""Per (page, month, outcome): resolved cases. Parameters: since_month."""


# --- alerts -------------------------------------------------------------------------------------------

ALERT_CANDIDATES = (
    f"SELECT {CASE_COLUMNS} FROM support_cases WHERE first_response_at IS NULL "
    "AND first_response_warn_at <= ? AND first_response_due_at > ? "
    "UNION "
    f"SELECT {CASE_COLUMNS} FROM support_cases WHERE resolved_at IS NULL "
    "AND resolution_warn_at <= ? AND resolution_due_at > ?"
)
"""Open clocks past their alert lead whose deadline is not older than the alerts' maximum age.
Parameters: now, now − max_age, now, now − max_age."""


def alerts_sent(n: int) -> str:
    """The (case, kind) alerts already sent for `n` cases."""
    return f"SELECT case_id, kind FROM support_alerts WHERE case_id IN ({', '.join('?' * n)})"


INSERT_ALERT = ("INSERT INTO support_alerts (case_id, kind, at) VALUES (?, ?, ?) "
                "ON CONFLICT (case_id, kind) DO NOTHING")

GET_META = "SELECT value FROM support_meta WHERE key = ?"
SET_META = ("INSERT INTO support_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
COUNT_OPEN = ("SELECT channel, COUNT(*), "
              "SUM(CASE WHEN first_response_at IS NULL AND first_response_due_at < ? THEN 1 ELSE 0 END), "
              "SUM(CASE WHEN resolution_due_at < ? THEN 1 ELSE 0 END) "
              "FROM support_cases WHERE resolved_at IS NULL GROUP BY channel")
"""Per channel: open cases, of which first response overdue, resolution overdue. Parameters: now, now."""


def assemble_totals(channels: Sequence[Sequence[Any]], page_medians: Sequence[Sequence[Any]],
                    medians: Sequence[Sequence[Any]], triage: Sequence[Sequence[Any]],
                    severities: Sequence[Sequence[Any]], outcomes: Sequence[Sequence[Any]],
                    ) -> dict[str | None, SupportTotals]:
    """The rows of the six queries above → totals per page slug, and under None for every case
    (the pages' rows added up; a case without a page counts only there). Shared by every backend."""
    med = {(p, m, c): v for p, m, c, v in page_medians}
    med_all = {(m, c): v for m, c, v in medians}
    by_page: dict[str | None, dict[str, Any]] = {}

    def bucket(page: str | None) -> dict[str, Any]:
        return by_page.setdefault(page, {"channels": {}, "triage": {}, "severities": {}, "outcomes": {}})

    def add(table: dict[Any, list[float]], key: Any, values: Sequence[float]) -> None:
        old = table.get(key)
        table[key] = list(values) if old is None else [a + b for a, b in zip(old, values, strict=True)]

    for page, month, channel, n, answered, within, overdue, total in channels:
        values = [int(n), int(answered), int(within or 0), int(overdue or 0), float(total or 0.0)]
        if page is not None:
            add(bucket(page)["channels"], (month, channel), values)
        add(bucket(None)["channels"], (month, channel), values)
    for page, month, n, total in triage:
        for key in ((page,) if page is not None else ()) + (None,):
            add(bucket(key)["triage"], month, [int(n), float(total or 0.0)])
    for page, month, sev, n, resolved, within, overdue, total in severities:
        values = [int(n), int(resolved), int(within or 0), int(overdue or 0), float(total or 0.0)]
        for key in ((page,) if page is not None else ()) + (None,):
            add(bucket(key)["severities"], (month, sev), values)
    for page, month, outcome, n in outcomes:
        for key in ((page,) if page is not None else ()) + (None,):
            add(bucket(key)["outcomes"], (month, outcome), [int(n)])

    out: dict[str | None, SupportTotals] = {}
    for page, b in by_page.items():
        def median(month: str, channel: str, page: str | None = page) -> float | None:
            value = med_all.get((month, channel)) if page is None else med.get((page, month, channel))
            return None if value is None else float(value)

        out[page] = SupportTotals(
            channels=tuple(ChannelMonthTotals(m, c, int(v[0]), int(v[1]), int(v[2]), int(v[3]), v[4],
                                              median(m, c))
                           for (m, c), v in sorted(b["channels"].items())),
            triage=tuple((m, int(v[0]), v[1]) for m, v in sorted(b["triage"].items())),
            severities=tuple(SeverityMonthTotals(m, s, int(v[0]), int(v[1]), int(v[2]), int(v[3]), v[4])
                             for (m, s), v in sorted(b["severities"].items())),
            outcomes=tuple((m, o, int(v[0])) for (m, o), v in sorted(b["outcomes"].items())),
        )
    return out
