"""Support cases in the store, on both backends: the case methods behave alike on SQLite and
PostgreSQL, and the scripted month (tests/support_data.py) gives the very same figures from either."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from statuspage.config import Storage, parse_config
from statuspage.models import CaseEvent
from statuspage.store import Store, open_store
from statuspage.support.alerts import ALERT_MAX_AGE_S
from statuspage.support.service import SupportService
from tests.pg import Backend
from tests.support_data import EVENTS, EXPECTED_NOVEMBER, NOW, at, config_data


async def _month(storage: Storage, tmp_path: Path) -> tuple[SupportService, Store]:
    """The scripted month, shuffled with every fifth event delivered twice, ingested into `storage`."""
    data = config_data(str(tmp_path / "unused.sqlite"))
    config = parse_config(data, env={}).model_copy(update={"storage": storage})
    store = await open_store(storage)
    service = SupportService(store, config, clock=lambda: NOW)
    shuffled = EVENTS + EVENTS[::5]
    random.Random(2026).shuffle(shuffled)
    for event in shuffled:
        await service.ingest([event])
    return service, store


async def test_the_scripted_month_gives_identical_figures_on_sqlite_and_postgresql(
        tmp_path: Path, pg_url: str) -> None:
    lite_service, lite = await _month(Storage(path=str(tmp_path / "db.sqlite")), tmp_path)
    pg_service, pg = await _month(Storage(url=pg_url), tmp_path)
    try:
        # Every aggregate query, row for row (medians by the same window functions), at two instants.
        for now in (NOW, at("2026-11-25 10:03")):
            assert await pg.support_totals("2026-10", now) == await lite.support_totals("2026-10", now)
            assert await pg.open_case_counts(now) == await lite.open_case_counts(now)
            assert await pg.case_alert_candidates(now, ALERT_MAX_AGE_S) == \
                await lite.case_alert_candidates(now, ALERT_MAX_AGE_S)
        assert await pg.list_cases(limit=1000) == await lite.list_cases(limit=1000)
        assert await pg.list_cases(open_only=True, since=at("2026-11-10 00:00"), limit=3) == \
            await lite.list_cases(open_only=True, since=at("2026-11-10 00:00"), limit=3)
        for case_id in ("c2", "e1", "w4"):
            assert await pg.case_events(case_id) == await lite.case_events(case_id)

        figures = (await pg_service.indicators(NOW)).month("2026-11")
        assert figures is not None and figures == (await lite_service.indicators(NOW)).month("2026-11")
        for channel in figures.channels:
            cases, share, mean, median = EXPECTED_NOVEMBER["channels"][channel.channel]
            assert (channel.cases, channel.within_share, channel.mean_s, channel.median_s) == (
                cases, pytest.approx(share) if share else share, mean, median), channel.channel
        assert (figures.triage.cases, figures.triage.mean_s) == EXPECTED_NOVEMBER["triage"]
        for sev in figures.severities:
            assert (sev.cases, sev.mean_s, sev.within_share) == EXPECTED_NOVEMBER["severities"][sev.severity]
        outcomes = {o.outcome: o.cases for o in figures.outcomes}
        assert {k: outcomes[k] for k in EXPECTED_NOVEMBER["outcomes"]} == EXPECTED_NOVEMBER["outcomes"]
    finally:
        await lite.close()
        await pg.close()


async def test_case_rows_events_alerts_and_facts_behave_alike(backend: Backend) -> None:
    store = await backend.open()
    try:
        opened = CaseEvent("b-2", "o", "opened", at("2026-11-10 10:00"), channel="chat", page="nps",
                           recorded_at=at("2026-11-10 10:00"))
        assert await store.add_case_event(opened) is True
        assert await store.add_case_event(replace(opened, at=opened.at + 1)) is False  # a repeat
        await store.add_case_event(CaseEvent("b-2", "b", "first_response", at("2026-11-10 10:01")))
        await store.add_case_event(CaseEvent("b-2", "a", "triaged", at("2026-11-10 10:01")))
        assert [e.event_id for e in await store.case_events("b-2")] == ["o", "a", "b"]  # by time, then id

        config = parse_config(config_data("unused.sqlite"), env={})
        service = SupportService(store, config, clock=lambda: at("2026-11-10 12:00"))
        for case_id, channel in (("B-1", "email"), ("a-3", "whatsapp"), ("Z", "chat")):
            await service.open_case(case_id, channel, at=at("2026-11-10 09:00"))  # type: ignore[arg-type]
        await service.ingest(await store.case_events("b-2"))
        # Ids page in byte order on both backends (as SQLite compares text).
        assert await store.case_ids("", 2) == ["B-1", "Z"]
        assert await store.case_ids("Z", 10) == ["a-3", "b-2"]

        full = await store.get_case("b-2")
        assert full is not None and full.events == 3 and full.first_response_s == 60
        # A writer that saw fewer events never overwrites a fuller row; one that saw as many does.
        await store.save_cases([replace(full, events=2, first_response_s=None)])
        assert await store.get_case("b-2") == full
        await store.save_cases([replace(full, updated_at=full.updated_at + 5)])
        again = await store.get_case("b-2")
        assert again is not None and again.updated_at == full.updated_at + 5
        assert await store.get_case("nope") is None

        assert await store.case_alerts_sent([]) == set()
        await store.record_case_alerts([("Z", "first_response.warning", 1.0)])
        await store.record_case_alerts([("Z", "first_response.warning", 2.0),
                                        ("Z", "first_response.breached", 3.0)])
        assert await store.case_alerts_sent(["Z", "Z", "B-1"]) == {
            ("Z", "first_response.warning"), ("Z", "first_response.breached")}

        assert await store.support_meta("fingerprint") is None
        await store.set_support_meta("fingerprint", "one")
        await store.set_support_meta("fingerprint", "two")
        assert await store.support_meta("fingerprint") == "two"
    finally:
        await store.close()
