"""Maintenance in people's calendars and inboxes: `<page>/maintenances.ics` parsed by a calendar
parser (icalendar, RFC 5545 essentials, stable UIDs, SEQUENCE on cancel, recurring windows as RRULE
expanding to the same occurrences across DST), and subscriber notices at each occurrence's start
and end (injected clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dateutil.rrule import rrulestr
from icalendar import Calendar

from statuspage.site.render import render_site
from tests.pg import Backend
from tests.subscription_env import close_subscription_env, open_subscription_env
from tests.test_recurring_maintenance import utc


async def test_maintenances_ics_is_a_valid_calendar_with_recurring_and_cancelled_windows(
        tmp_path: Path, aiohttp_client: Any, backend: Backend) -> None:
    now = [utc("2026-03-01 12:00")]
    env = await open_subscription_env(tmp_path, aiohttp_client, clock=lambda: now[0], storage=backend.storage)
    svc = env.incidents
    svc.config = env.config.model_copy(update={"site": env.config.site.model_copy(update={"timezone": "America/New_York"})})
    try:
        single = await svc.add_maintenance("nps", "Troca de banco", utc("2026-03-03 03:00"), utc("2026-03-03 05:00"),
                                           ("reports",), "Relatórios ficam fora do ar.", "alice")
        weekly = await svc.add_maintenance("nps", "Janela semanal", utc("2026-03-01 14:00"), utc("2026-03-01 15:00"),
                                           (), "", "alice", rrule="FREQ=WEEKLY;BYDAY=SU;COUNT=4")
        doomed = await svc.add_maintenance("nps", "Cancelada", utc("2026-03-05 03:00"), utc("2026-03-05 04:00"))
        config = svc.config
        out = Path(config.site.output_dir)

        async def ics() -> Calendar:
            await render_site(config, env.store, out, now=now[0])
            return Calendar.from_ical((out / "nps" / "maintenances.ics").read_bytes())

        first = await ics()
        assert str(first["PRODID"]) and str(first["VERSION"]) == "2.0"
        events = {str(e["SUMMARY"]): e for e in first.walk("VEVENT")}
        assert set(events) == {"Troca de banco", "Janela semanal", "Cancelada"}
        for e in events.values():
            assert e.get("DTSTAMP") is not None and str(e["UID"]).startswith("maintenance-")
            assert str(e["UID"]).endswith("@status.track.test")
        assert [tz["TZID"] for tz in first.walk("VTIMEZONE")] == ["America/New_York"]
        rec = events["Janela semanal"]
        assert rec["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=4;BYDAY=SU"
        start = rec.decoded("DTSTART")
        assert str(start.tzinfo) == "America/New_York" and (start.hour, start.minute) == (9, 0)
        # An independent expansion (dateutil on the parsed, zone-aware DTSTART) gives our occurrences.
        theirs = [d.astimezone(UTC) for d in rrulestr(rec["RRULE"].to_ical().decode(), dtstart=start)]
        ours = weekly.occurrences(utc("2026-03-01 00:00"), utc("2026-04-01 00:00"))
        assert [d.timestamp() for d in theirs] == [s for s, _ in ours]
        assert [d.strftime("%m-%d %H:%M") for d in theirs] == ["03-01 14:00", "03-08 13:00", "03-15 13:00",
                                                               "03-22 13:00"]
        assert str(events["Troca de banco"]["STATUS"]) == "CONFIRMED"
        assert "Relatórios ficam fora do ar." in str(events["Troca de banco"]["DESCRIPTION"])
        uids = {k: str(e["UID"]) for k, e in events.items()}

        now[0] += 60
        await svc.cancel_maintenance(doomed.id, "alice")
        second = {str(e["SUMMARY"]): e for e in (await ics()).walk("VEVENT")}
        assert {k: str(e["UID"]) for k, e in second.items()} == uids, "UIDs are stable"
        assert str(second["Cancelada"]["STATUS"]) == "CANCELLED"
        assert int(second["Cancelada"]["SEQUENCE"]) == int(events["Cancelada"]["SEQUENCE"]) + 1
        assert second["Cancelada"].decoded("LAST-MODIFIED") > events["Cancelada"].decoded("LAST-MODIFIED")
        assert second["Troca de banco"].to_ical() == events["Troca de banco"].to_ical(), "unchanged windows stay as they were"
        assert single.id != weekly.id

        served = await env.http.get("/nps/maintenances.ics")
        assert served.status == 200 and served.headers["Content-Type"] == "text/calendar; charset=utf-8"
        english = Calendar.from_ical((out / "nps" / "en" / "maintenances.ics").read_bytes())
        assert str(english["X-WR-CALNAME"]) == "NPS — Maintenance"
    finally:
        await close_subscription_env(env)


async def test_subscribers_hear_of_each_occurrence_start_and_end(
        tmp_path: Path, aiohttp_client: Any, backend: Backend) -> None:
    now = [utc("2026-01-03 12:00")]  # a Saturday; Sao Paulo (UTC-3)
    env = await open_subscription_env(tmp_path, aiohttp_client, clock=lambda: now[0], storage=backend.storage)
    store = env.store
    try:
        await store.request_subscription("ana@cliente.test", "nps", (), "pt-BR", "a" * 32, now[0], now[0] + 3600)
        sub = await store.get_subscriber(1)
        assert sub is not None and await store.confirm_subscriber(1, sub.salt, now[0])
        await store.mail_done([j.id for j in await store.due_mail(now[0], 10)])  # the confirmation is not the point
        window = await env.incidents.add_maintenance(
            "nps", "Janela semanal", utc("2026-01-04 05:00"), utc("2026-01-04 06:00"), rrule="FREQ=WEEKLY;BYDAY=SU")

        async def tick_at(when: str) -> list[str]:
            now[0] = utc(when)
            before = len(env.inbox.to("ana@cliente.test"))
            await env.announcer.tick()
            await env.announcer.tick()  # a second tick tells nothing twice
            await env.settle()
            return [m["Subject"] for m in env.inbox.to("ana@cliente.test")[before:]]

        assert await tick_at("2026-01-03 12:00") == ["[NPS] Manutenção programada: Janela semanal"]
        assert await tick_at("2026-01-04 05:00") == ["[NPS] Manutenção iniciada: Janela semanal"]
        assert await tick_at("2026-01-04 05:30") == []
        assert await tick_at("2026-01-04 06:00") == ["[NPS] Manutenção encerrada: Janela semanal"]
        # The next occurrence, a week later: started and ended again (told late when the tick is late).
        assert await tick_at("2026-01-11 05:20") == ["[NPS] Manutenção iniciada: Janela semanal"]
        assert await tick_at("2026-01-11 06:10") == ["[NPS] Manutenção encerrada: Janela semanal"]
        mail = env.inbox.to("ana@cliente.test")[-1]
        body = mail.get_content()
        assert "Quando: 2026-01-11 02:00 → 2026-01-11 03:00 -03" in body
        assert "https://status.track.test/nps/maintenances.ics" in body
        # A process stopped for a day does not announce what it missed long ago.
        assert await tick_at("2026-01-19 12:00") == []
        await env.incidents.cancel_maintenance(window.id)
        assert await tick_at("2026-01-19 12:01") == ["[NPS] Manutenção cancelada: Janela semanal"]
    finally:
        await close_subscription_env(env)


def test_the_ics_parses_without_windows() -> None:
    from statuspage.config import parse_config
    from statuspage.site.calendar import maintenances_ics

    config = parse_config({"pages": [{"slug": "nps", "name": "NPS", "components": [
        {"slug": "a", "name": "A", "monitors": [{"name": "m", "url": "http://x/"}]}]}]}, env={})
    cal = Calendar.from_ical(maintenances_ics(config, "nps", [], name="NPS"))
    assert str(cal["VERSION"]) == "2.0" and not cal.walk("VEVENT")
    assert datetime.now(UTC)
