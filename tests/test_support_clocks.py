"""The support clocks, second by second: business calendars, the fold of a case's events, and a
scripted month of cases whose published figures are worked out by hand (tests/support_data.py)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from statuspage.config import SupportHolidays, parse_config
from statuspage.models import CaseEvent
from statuspage.store import SQLiteStore
from statuspage.support.calendar import BusinessCalendar
from statuspage.support.clocks import Clocks, NoOpening, fold
from statuspage.support.service import SupportService
from tests.support_data import EVENTS, EXPECTED_NOVEMBER, NOW, at, config_data

WEEKDAYS = (((480, 1080),),) * 5 + ((), ())  # Mon–Fri 08:00–18:00


def sp_calendar(**kw: object) -> BusinessCalendar:
    return BusinessCalendar("America/Sao_Paulo", WEEKDAYS,  # type: ignore[arg-type]
                            SupportHolidays(country="BR", subdivision="SP"), **kw)


@pytest.mark.parametrize(("start", "end", "seconds"), [
    ("2026-11-03 09:00", "2026-11-03 09:02:30", 150),
    ("2026-11-03 17:59", "2026-11-04 08:01", 120),        # overnight
    ("2026-11-19 17:58", "2026-11-23 08:03", 300),        # holiday Friday + weekend
    ("2026-11-07 10:00", "2026-11-07 23:00", 0),          # Saturday
    ("2026-11-02 09:00", "2026-11-03 10:00", 7200),       # Finados, then two hours
    ("2026-11-04 07:00", "2026-11-04 08:30", 1800),       # before opening
    ("2026-11-03 18:00", "2026-11-03 09:00", 0),          # backwards
], ids=["same-day", "overnight", "holiday-weekend", "saturday", "finados", "before-hours", "backwards"])
def test_business_seconds_between_two_instants(start: str, end: str, seconds: int) -> None:
    assert sp_calendar().seconds(at(start), at(end)) == seconds


def test_adding_business_time_skips_nights_weekends_and_holidays() -> None:
    cal = sp_calendar()
    assert cal.add(at("2026-11-19 17:58"), 240) == at("2026-11-23 08:02")
    assert cal.add(at("2026-11-19 15:00"), 24 * 3600) == at("2026-11-25 09:00")
    assert cal.add(at("2026-11-07 10:00"), 0) == at("2026-11-09 08:00")  # Saturday → Monday's opening
    assert cal.add(at("2026-11-03 18:00"), 0) == at("2026-11-04 08:00")  # closing time is closed


def test_extra_holiday_dates_from_the_config_close_the_day() -> None:
    from datetime import date
    cal = BusinessCalendar("America/Sao_Paulo", WEEKDAYS, SupportHolidays(dates=[date(2026, 12, 24)]))  # type: ignore[arg-type]
    assert cal.seconds(at("2026-12-24 00:00"), at("2026-12-25 00:00")) == 0
    assert cal.seconds(at("2026-12-23 00:00"), at("2026-12-24 00:00")) == 36000


def test_business_hours_follow_the_wall_clock_across_dst() -> None:
    # New York springs forward on 2026-03-08 and falls back on 2026-11-01: an "00:00-24:00" Sunday
    # is 23 h, then 25 h long; 09:00–17:00 stays eight hours on the day after either change.
    allday = (((0, 1440),),) * 7
    cal = BusinessCalendar("America/New_York", allday)  # type: ignore[arg-type]
    from datetime import datetime
    from zoneinfo import ZoneInfo
    ny = ZoneInfo("America/New_York")

    def t(y: int, m: int, d: int, h: int = 0) -> float:
        return datetime(y, m, d, h, tzinfo=ny).timestamp()

    assert cal.seconds(t(2026, 3, 8), t(2026, 3, 9)) == 23 * 3600
    assert cal.seconds(t(2026, 11, 1), t(2026, 11, 2)) == 25 * 3600
    office = BusinessCalendar("America/New_York", (((540, 1020),),) * 7)  # type: ignore[arg-type]
    assert office.seconds(t(2026, 3, 7, 12), t(2026, 3, 9, 12)) == (5 + 8 + 3) * 3600
    assert office.add(t(2026, 3, 7, 16), 2 * 3600) == t(2026, 3, 8, 10)


def test_an_around_the_clock_calendar_ignores_holidays() -> None:
    cal = BusinessCalendar("America/Sao_Paulo", None, SupportHolidays(country="BR"))
    assert cal.seconds(at("2026-11-20 00:00"), at("2026-11-21 00:00")) == 86400
    assert cal.add(100.0, 50.0) == 150.0


def test_the_fold_is_the_same_whatever_the_order_and_repeats() -> None:
    events = [e for e in EVENTS if e.case_id == "c2"]
    expected = fold(events)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = events + rng.sample(events, 3)
        rng.shuffle(shuffled)
        assert fold(shuffled) == expected
    assert expected.pauses == ((at("2026-11-04 09:00"), at("2026-11-04 21:00")),)
    assert expected.severity == "T2" and expected.outcome == "solved"


def test_a_case_without_its_opening_cannot_be_measured() -> None:
    with pytest.raises(NoOpening):
        fold([CaseEvent("x", "1", "first_response", 10.0)])


def test_the_current_severity_sets_the_limit_measured_from_opening(tmp_path: Path) -> None:
    config = parse_config(config_data(str(tmp_path / "db.sqlite")), env={})
    clocks = Clocks(config)
    row = clocks.figures(fold([e for e in EVENTS if e.case_id == "e5"]))
    assert [s for _, s in row.severity_changes] == ["T4", "T1"]
    assert row.severity == "T1" and row.resolution_limit_s == 4 * 3600
    assert row.resolution_due_at == at("2026-11-19 19:00")   # T1: four hours after opening
    assert row.resolution_warn_at == at("2026-11-19 18:00")  # 75 % of the limit


def test_waiting_pauses_the_resolution_deadline_and_resuming_moves_it(tmp_path: Path) -> None:
    config = parse_config(config_data(str(tmp_path / "db.sqlite")), env={})
    clocks = Clocks(config)
    base = [CaseEvent("k", "o", "opened", at("2026-11-10 10:00"), channel="whatsapp"),
            CaseEvent("k", "s", "severity", at("2026-11-10 10:00"), severity="T1")]
    assert clocks.figures(fold(base)).resolution_due_at == at("2026-11-10 14:00")
    waiting = [*base, CaseEvent("k", "w", "waiting", at("2026-11-10 11:00"))]
    row = clocks.figures(fold(waiting))
    assert row.waiting and row.resolution_due_at is None and row.resolution_warn_at is None
    resumed = [*waiting, CaseEvent("k", "r", "resumed", at("2026-11-10 12:30"))]
    row = clocks.figures(fold(resumed))
    assert not row.waiting and row.waiting_s == 5400
    assert row.resolution_due_at == at("2026-11-10 15:30")   # 1 h before + 3 h after the pause


async def _ingest_all(tmp_path: Path, name: str, events: list[CaseEvent]) -> tuple[SupportService, SQLiteStore]:
    config = parse_config(config_data(str(tmp_path / name)), env={})
    store = await SQLiteStore.open(config.storage.path)
    service = SupportService(store, config, clock=lambda: NOW)
    for event in events:
        await service.ingest([event])
    return service, store


async def test_a_scripted_month_gives_exact_figures_second_by_second(tmp_path: Path) -> None:
    # Shuffled, with every fifth event delivered twice: the store keeps one of each and the cases
    # fold into the same state as in the order things happened.
    rng = random.Random(2026)
    shuffled = EVENTS + EVENTS[::5]
    rng.shuffle(shuffled)
    service, store = await _ingest_all(tmp_path, "shuffled.sqlite", shuffled)
    _, ordered_store = await _ingest_all(tmp_path, "ordered.sqlite", EVENTS)
    try:
        rows = {r.case_id: r for r in await store.list_cases(limit=1000)}
        in_order = {r.case_id: r for r in await ordered_store.list_cases(limit=1000)}
        assert rows.keys() == in_order.keys() and len(rows) == 19
        for case_id, row in rows.items():
            assert row == in_order[case_id], case_id

        figures = (await service.indicators(NOW)).month("2026-11")
        assert figures is not None
        for channel in figures.channels:
            cases, share, mean, median = EXPECTED_NOVEMBER["channels"][channel.channel]
            assert (channel.cases, channel.within_share, channel.mean_s, channel.median_s) == (
                cases, pytest.approx(share) if share else share, mean, median), channel.channel
        whatsapp = next(c for c in figures.channels if c.channel == "whatsapp")
        assert whatsapp.average_met is True  # mean 180 s against the published 3 min
        assert figures.triage.cases == 5 and figures.triage.mean_s == EXPECTED_NOVEMBER["triage"][1]
        assert figures.triage.met is True
        for sev in figures.severities:
            cases, mean, share = EXPECTED_NOVEMBER["severities"][sev.severity]
            assert (sev.cases, sev.mean_s, sev.within_share) == (cases, mean, share), sev.severity
        t2 = next(s for s in figures.severities if s.severity == "T2")
        assert t2.mean_met is False  # 10 h 48 min 12 s against a mean target of 8 h
        outcomes = {o.outcome: o.cases for o in figures.outcomes}
        for outcome, n in EXPECTED_NOVEMBER["outcomes"].items():
            assert outcomes[outcome] == n
        october = (await service.indicators(NOW)).month("2026-10")
        assert october is not None and all(c.cases is None for c in october.channels)

        nps = (await service.indicators(NOW, page="nps")).month("2026-11")
        assert nps is not None
        chat = next(c for c in nps.channels if c.channel == "chat")
        assert chat.cases == None  # c1–c4 only: four cases  # noqa: E711
    finally:
        await store.close()
        await ordered_store.close()


async def test_a_repeated_event_changes_nothing(tmp_path: Path) -> None:
    service, store = await _ingest_all(tmp_path, "db.sqlite", [e for e in EVENTS if e.case_id == "c1"])
    try:
        before = await store.get_case("c1")
        _, new = await service.ingest([EVENTS[1]])
        assert new is False and await store.get_case("c1") == before
        assert len(await store.case_events("c1")) == 6
    finally:
        await store.close()


async def test_a_changed_config_recomputes_every_case(tmp_path: Path) -> None:
    events = [e for e in EVENTS if e.case_id in ("c2", "c3")]
    service, store = await _ingest_all(tmp_path, "db.sqlite", events)
    try:
        assert await service.ensure_current() == 2   # first start: fingerprint recorded
        assert await service.ensure_current() == 0
        assert (await store.get_case("c3")).first_response_s == 300  # type: ignore[union-attr]
        around_the_clock = parse_config(
            config_data(str(tmp_path / "db.sqlite"), channels={"chat": {"first_response": "4m"}}), env={})
        again = SupportService(store, around_the_clock, clock=lambda: NOW)
        assert await again.ensure_current() == 2
        row = await store.get_case("c3")
        assert row is not None and row.first_response_s == at("2026-11-23 08:03") - at("2026-11-19 17:58")
    finally:
        await store.close()


@pytest.mark.parametrize(("support", "sla", "problem"), [
    (None, {"support": [{"name": "chat", "first_response": "4m"}]}, "sla.support: moved to support.channels"),
    (None, {"triage_average": "48h"}, "sla.triage_average: moved to support.triage_average"),
    ({"channels": {"fax": {"first_response": "4m"}}}, None, '"fax" is not a channel'),
    ({"channels": {"chat": {"first_response": "4m", "business_hours": {"mon-fry": "08:00-18:00"}}}}, None,
     'support.channels.chat.business_hours: "mon-fry" is not a day'),
    ({"channels": {"chat": {"first_response": "4m", "business_hours": {"mon": "18:00-08:00"}}}}, None,
     "is not a time range within one day"),
    ({"channels": {"chat": {"first_response": "4m"}}, "holidays": {"country": "XX"}}, None,
     'support.holidays: country "XX"'),
    ({"channels": {"chat": {"first_response": "4m"}}, "alert_lead": "150%"}, None, "support.alert_lead"),
    ({"channels": {"chat": {"first_response": "4m"}}, "chatwoot": {"secret": "short"}}, None,
     "support.chatwoot.secret"),
], ids=["old-support", "old-triage", "channel", "day", "range", "country", "lead", "secret"])
def test_support_config_mistakes_name_their_key(support: object, sla: object, problem: str) -> None:
    from statuspage.config import ConfigError
    data = config_data("db.sqlite")
    del data["support"]
    if support is not None:
        data["support"] = support
    if sla is not None:
        data["sla"] = sla
    with pytest.raises(ConfigError) as err:
        parse_config(data, env={})
    assert any(problem in line for line in err.value.problems), err.value.problems


def test_the_repository_config_carries_tracks_support_promises() -> None:
    from statuspage.config import load_config
    support = load_config(Path(__file__).resolve().parents[1] / "config.yaml", env={}).support
    assert support is not None
    assert {k: (c.first_response, c.average) for k, c in support.channels.items()} == {
        "chat": (240, 180), "whatsapp": (240, 180), "email": (86400, 21600), "phone": (86400, 3600)}
    assert support.triage_average == 48 * 3600 and support.holidays.country == "BR"
