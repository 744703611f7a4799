"""Recurring maintenance windows: RFC 5545 rules expanded on wall times, DST-correct, and excluded
from uptime exactly like single windows (pure, exact numbers); the admin API and CLI schedule them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from statuspage.cli import cli
from statuspage.models import Maintenance, StateRun
from statuspage.recurrence import RecurrenceError, expand, normalise, series_end
from statuspage.sla.uptime import component_timeline
from tests.conftest import write_config
from tests.server_env import ServerEnv, auth, close_env, open_env


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M")


def weekly(tz: str, first_start: str, hours: float = 1.0, rule: str = "FREQ=WEEKLY;BYDAY=SU",
           components: tuple[str, ...] = ()) -> Maintenance:
    start = utc(first_start)
    return Maintenance(id=1, page="nps", title="janela", start=start, end=start + hours * 3600,
                       components=components, rrule=normalise(rule, start, tz), timezone=tz)


EXPANSIONS = [
    # New York: DST starts Sunday 2026-03-08 02:00 EST → 03:00 EDT. 09:00 local stays 09:00 local.
    pytest.param("America/New_York", "2026-03-01 14:00", "FREQ=WEEKLY;BYDAY=SU",
                 ["2026-03-01 14:00", "2026-03-08 13:00", "2026-03-15 13:00"], id="new-york-spring-forward"),
    # ... and ends Sunday 2026-11-01 02:00 EDT → 01:00 EST.
    pytest.param("America/New_York", "2026-10-25 13:00", "FREQ=WEEKLY;BYDAY=SU",
                 ["2026-10-25 13:00", "2026-11-01 14:00", "2026-11-08 14:00"], id="new-york-fall-back"),
    # 02:30 does not exist on 2026-03-08: read with the offset before the gap (EST) = 03:30 EDT.
    pytest.param("America/New_York", "2026-03-01 07:30", "FREQ=WEEKLY;BYDAY=SU",
                 ["2026-03-01 07:30", "2026-03-08 07:30", "2026-03-15 06:30"], id="nonexistent-wall-time"),
    # 01:30 happens twice on 2026-11-01: the first one (EDT, 05:30 UTC).
    pytest.param("America/New_York", "2026-10-25 05:30", "FREQ=WEEKLY;BYDAY=SU",
                 ["2026-10-25 05:30", "2026-11-01 05:30", "2026-11-08 06:30"], id="ambiguous-wall-time"),
    # Lisbon: WET → WEST on Sunday 2026-03-29 01:00 UTC; daily 23:00 local.
    pytest.param("Europe/Lisbon", "2026-03-27 23:00", "FREQ=DAILY",
                 ["2026-03-27 23:00", "2026-03-28 23:00", "2026-03-29 22:00"], id="lisbon-daily"),
    # BYHOUR moves the time of day: every Sunday at 02:00 local, from a start at 02:00.
    pytest.param("Europe/Lisbon", "2026-03-22 02:00", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2",
                 ["2026-03-22 02:00", "2026-03-29 01:00", "2026-04-05 01:00"], id="lisbon-byhour"),
    # Brazil has had no DST since 2019: 02:00 BRT is always 05:00 UTC.
    pytest.param("America/Sao_Paulo", "2026-10-04 05:00", "FREQ=WEEKLY;BYDAY=SU",
                 ["2026-10-04 05:00", "2026-10-11 05:00", "2026-10-18 05:00"], id="sao-paulo-no-dst"),
]


@pytest.mark.parametrize(("tz", "first", "rule", "expected"), EXPANSIONS)
def test_occurrences_follow_the_wall_clock_across_dst(tz: str, first: str, rule: str, expected: list[str]) -> None:
    m = weekly(tz, first, rule=rule)
    found = m.occurrences(utc(first) - 1, utc(expected[-1]) + 1)
    assert [iso(s) for s, _ in found] == expected
    # Each occurrence lasts exactly end − start (RFC 5545: DTSTART + DTEND is an exact duration).
    assert {e - s for s, e in found} == {3600.0}


def test_until_and_count_end_the_series() -> None:
    start = utc("2026-03-01 14:00")
    rule = normalise("FREQ=WEEKLY;BYDAY=SU;UNTIL=20260315", start, "America/New_York")
    assert rule == "FREQ=WEEKLY;UNTIL=20260316T035959Z;BYDAY=SU"  # end of that day, New York time, in UTC
    assert [iso(s) for s, _ in expand(rule, start, start + 3600, "America/New_York", start, start + 90 * 86400)] == [
        "2026-03-01 14:00", "2026-03-08 13:00", "2026-03-15 13:00"]
    assert series_end(rule, start, start + 3600, "America/New_York") == utc("2026-03-15 14:00")
    counted = normalise("rrule:freq=daily;count=3", start, "America/New_York")
    assert series_end(counted, start, start + 3600, "America/New_York") == utc("2026-03-03 15:00")
    assert series_end(normalise("FREQ=DAILY", start, "UTC"), start, start + 1, "UTC") is None


@pytest.mark.parametrize(("rule", "problem"), [
    ("", "is not an RRULE"),
    ("FREQ=HOURLY", "FREQ must be one of DAILY, WEEKLY, MONTHLY, YEARLY"),
    ("FREQ=WEEKLY;BYDAY=XX", "is not a valid RRULE"),
    ("FREQ=WEEKLY;COUNT=2;UNTIL=20270101", "COUNT and UNTIL cannot both be given"),
    ("FREQ=WEEKLY;DTSTART=20260101", "DTSTART is not supported"),
    ("FREQ=WEEKLY;FREQ=DAILY", "FREQ is given twice"),
    ("FREQ=WEEKLY;UNTIL=yesterday", "UNTIL YESTERDAY is not a date"),
    ("FREQ", "is not NAME=VALUE"),
    ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be a whole number of at least 1"),
    ("FREQ=WEEKLY;COUNT=-1", "COUNT must be a whole number of at least 1"),
], ids=["empty", "hourly", "bad-day", "count-and-until", "dtstart", "twice", "bad-until", "no-value",
        "interval-zero", "count-negative"])
def test_bad_rules_say_what_is_wrong(rule: str, problem: str) -> None:
    with pytest.raises(RecurrenceError, match=problem):
        normalise(rule, utc("2026-03-01 14:00"), "America/New_York")


# --- uptime: a recurring window is excluded exactly like the single windows it stands for ----------------

DOWN_ALL_WEEK = [StateRun("nps/app/web", "down", utc("2026-03-05 00:00"), utc("2026-03-12 00:00"))]


def test_a_recurring_window_excludes_its_time_from_uptime_across_dst() -> None:
    # Daily 09:00–10:00 New York time, over a week in which DST starts (Sunday 2026-03-08).
    daily = weekly("America/New_York", "2026-03-01 14:00", rule="FREQ=DAILY")
    timeline = component_timeline(DOWN_ALL_WEEK, [daily], "nps/app")
    week = timeline.window(utc("2026-03-05 00:00"), utc("2026-03-12 00:00"))
    assert week.maintenance == 7 * 3600.0
    assert week.covered == 7 * 86400.0
    assert week.downtime == 7 * 86400.0 - 7 * 3600.0
    # The occurrences sit at 14:00 UTC before the change and 13:00 UTC after it.
    maintenance = [(iso(s.start), iso(s.end)) for s in timeline.segments if s.level == "maintenance"]
    assert maintenance[2:5] == [("2026-03-07 14:00", "2026-03-07 15:00"), ("2026-03-08 13:00", "2026-03-08 14:00"),
                                ("2026-03-09 13:00", "2026-03-09 14:00")]
    # The same as seven single windows.
    singles = [Maintenance(id=10 + n, page="nps", title="w", start=s, end=e)
               for n, (s, e) in enumerate(daily.occurrences(utc("2026-03-05 00:00"), utc("2026-03-12 00:00")))]
    assert len(singles) == 7
    same = component_timeline(DOWN_ALL_WEEK, singles, "nps/app")
    assert same.segments == timeline.segments


@pytest.mark.parametrize(("change", "maintenance"), [
    ({"cancelled": True}, 0.0),
    ({"components": ("api",)}, 0.0),
    ({"components": ("app",)}, 7 * 3600.0),
    ({"page": "cxm"}, 0.0),
], ids=["cancelled", "other-component", "this-component", "other-page"])
def test_a_recurring_window_obeys_the_same_rules_as_a_single_one(change: dict[str, Any], maintenance: float) -> None:
    from dataclasses import replace

    daily = replace(weekly("America/New_York", "2026-03-01 14:00", rule="FREQ=DAILY"), **change)
    week = component_timeline(DOWN_ALL_WEEK, [daily], "nps/app").window(utc("2026-03-05 00:00"), utc("2026-03-12 00:00"))
    assert week.maintenance == maintenance


def test_covers_and_occurrence_for_status_and_pages() -> None:
    daily = weekly("America/New_York", "2026-03-01 14:00", rule="FREQ=DAILY", components=("app",))
    assert daily.covers("app", utc("2026-03-08 13:30"))
    assert not daily.covers("app", utc("2026-03-08 14:30"))  # 10:30 EDT: that day's window is over
    assert not daily.covers("api", utc("2026-03-08 13:30"))
    now = utc("2026-03-08 12:00")
    shown = daily.occurrence(now)
    assert (iso(shown.start), iso(shown.end), shown.rrule) == ("2026-03-08 13:00", "2026-03-08 14:00", "")
    assert daily.occurrence(utc("2026-03-08 13:10")).start == utc("2026-03-08 13:00")


# --- scheduling through the admin API and the CLI --------------------------------------------------------


@pytest.fixture
async def env(tmp_path: Path, aiohttp_client: Any) -> Any:
    server = await open_env(tmp_path, aiohttp_client)
    yield server
    await close_env(server)


async def test_the_admin_api_schedules_a_recurring_window(env: ServerEnv) -> None:
    # NOW is 2026-01-01 00:00 UTC; the site timezone here is Sao Paulo (UTC-3 all year).
    response = await env.http.post("/api/admin/maintenances", headers=auth(), json={
        "page": "nps", "title": "Janela semanal", "start": "2026-01-04T02:00:00", "end": "2026-01-04T03:00:00",
        "rrule": "FREQ=WEEKLY;BYDAY=SU"})
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["rrule"] == "FREQ=WEEKLY;BYDAY=SU" and body["timezone"] == "America/Sao_Paulo"
    assert body["scheduled_for"] == "2026-01-04T02:00:00.000-03:00" and body["status"] == "scheduled"
    env.clock.now = utc("2026-01-11 05:30")  # the second Sunday, 02:30 local
    listed = await (await env.http.get("/api/admin/maintenances", headers=auth())).json()
    assert [(m["status"], m["scheduled_for"]) for m in listed["maintenances"]] == [
        ("in_progress", "2026-01-11T02:00:00.000-03:00")]
    bad = await env.http.post("/api/admin/maintenances", headers=auth(), json={
        "page": "nps", "title": "x", "start": "2026-01-04T02:00:00", "end": "2026-01-04T03:00:00",
        "rrule": "FREQ=SECONDLY"})
    assert bad.status == 400
    assert await bad.json() == {"error": "rrule FREQ must be one of DAILY, WEEKLY, MONTHLY, YEARLY",
                                "field": "rrule"}


async def _create(path: Path) -> None:
    from statuspage.store.sqlite import SQLiteStore

    await (await SQLiteStore.open(path)).close()


def test_the_cli_schedules_and_lists_a_recurring_window(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config.yaml", {
        "site": {"timezone": "America/New_York"}, "storage": {"path": str(tmp_path / "db.sqlite")},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "App", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}]})
    import asyncio

    asyncio.run(_create(tmp_path / "db.sqlite"))
    runner = CliRunner()
    added = runner.invoke(cli, ["maintenance", "add", "--config", str(cfg), "--page", "nps", "--title", "Backups",
                                "--start", "2099-03-01T09:00", "--duration", "1h", "--rrule", "FREQ=WEEKLY;BYDAY=SU"])
    assert added.exit_code == 0, added.output
    assert "repeats FREQ=WEEKLY;BYDAY=SU (America/New_York)" in added.output
    listed = runner.invoke(cli, ["maintenance", "list", "--config", str(cfg)])
    assert "Backups" in listed.output and "repeats FREQ=WEEKLY;BYDAY=SU" in listed.output
    bad = runner.invoke(cli, ["maintenance", "add", "--config", str(cfg), "--page", "nps", "--title", "x",
                              "--start", "2099-03-01T09:00", "--duration", "1h", "--rrule", "FREQ=WEEKLY;BYDAY=XX"])
    assert bad.exit_code == 2 and "Invalid value for '--rrule': is not a valid RRULE" in bad.output
