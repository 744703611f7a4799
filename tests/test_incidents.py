"""Incident policy and lifecycle with an injected clock on a real SQLite file."""

from __future__ import annotations

from typing import Any

import pytest

from statuspage.config import Config, parse_config
from statuspage.incidents.service import (
    AlreadyAcknowledged,
    BadInput,
    BadSeverity,
    BadTransition,
    BadWindow,
    IncidentService,
    NotFound,
    UnknownComponent,
    UnknownPage,
)
from statuspage.models import ComponentStatus, Incident
from statuspage.sla.compliance import compliance, time_to_acknowledge, time_to_resolve
from statuspage.store import Store
from tests.pg import Backend

T0 = 1_795_000_000.0  # an instant in November 2026
MIN = 60.0
HOUR = 3600.0


def make_config(**incidents: Any) -> Config:
    comps = [{"slug": s, "name": n, "monitors": [{"name": "m", "url": f"http://127.0.0.1:9/{s}"}]}
             for s, n in (("app", "Plataforma"), ("reports", "Relatórios"), ("email", "Envio de e-mails"))]
    return parse_config({
        "incidents": {"auto_resolve_after": "15m", "remind_unacknowledged_after": "30m", **incidents},
        "pages": [{"slug": "nps", "name": "NPS", "components": comps},
                  {"slug": "cxm", "name": "CXM", "components": comps}],
    }, env={})


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Recorder:
    """Collects notifications in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int, str]] = []

    def notify(self, event: str, incident: Incident) -> None:
        self.events.append((event, incident.id, incident.status))


class World:
    """A service over a real database, with live component statuses the test sets."""

    def __init__(self, store: Store, config: Config) -> None:
        self.clock = Clock()
        self.sent = Recorder()
        self.status: dict[tuple[str, str], ComponentStatus] = {}
        self.store = store
        self.service = IncidentService(store, config, self.sent, self.clock,
                                       lambda p, c: self.status.get((p, c), "operational"))

    async def down(self, comp: str, start: float, page: str = "nps") -> Incident | None:
        self.status[(page, comp)] = "major_outage"
        return await self.service.component_down(page, comp, start)

    async def up(self, comp: str, at: float, page: str = "nps") -> Incident | None:
        self.status[(page, comp)] = "operational"
        return await self.service.component_recovered(page, comp, at)


@pytest.fixture
async def world(backend: Backend) -> Any:
    store = await backend.open()
    yield World(store, make_config())
    await store.close()


async def test_confirmed_outage_opens_one_backdated_t1(world: World) -> None:
    world.clock.now = T0 + 60
    incident = await world.down("reports", start=T0)
    assert incident is not None
    assert (incident.severity, incident.impact, incident.status) == ("T1", "critical", "investigating")
    assert incident.started_at == T0 and incident.due_at == T0 + 4 * HOUR
    assert incident.automatic and incident.components == ("reports",)
    assert incident.title == "Relatórios indisponível"
    assert incident.updates[0].components[0].new_status == "major_outage"
    assert world.sent.events == [("incident.created", incident.id, "investigating")]


async def test_second_component_joins_the_open_incident(world: World) -> None:
    first = await world.down("reports", start=T0)
    world.clock.now = T0 + 5 * MIN
    joined = await world.down("email", start=T0 + 4 * MIN)
    assert first is not None and joined is not None and joined.id == first.id
    assert joined.components == ("reports", "email")
    assert joined.started_at == T0  # the incident started with the first outage
    assert len(await world.store.list_incidents()) == 1
    assert joined.updates[-1].message == "Envio de e-mails também está indisponível desde 08:10:40."


async def test_other_page_gets_its_own_incident(world: World) -> None:
    a = await world.down("app", start=T0)
    b = await world.down("app", start=T0, page="cxm")
    assert a is not None and b is not None and a.id != b.id and b.page == "cxm"


async def test_recovery_moves_to_monitoring_only_when_all_recovered(world: World) -> None:
    await world.down("reports", start=T0)
    await world.down("email", start=T0 + MIN)
    world.clock.now = T0 + 20 * MIN
    still = await world.up("reports", at=T0 + 19 * MIN)
    assert still is not None and still.status == "investigating"
    world.clock.now = T0 + 31 * MIN
    mon = await world.up("email", at=T0 + 30 * MIN)
    assert mon is not None and mon.status == "monitoring"
    assert mon.monitoring_at == T0 + 30 * MIN and mon.recovered_at == T0 + 30 * MIN


async def test_auto_resolve_after_quiet_period_with_recovery_time(world: World) -> None:
    inc = await world.down("reports", start=T0)
    assert inc is not None
    world.clock.now = T0 + 10 * MIN
    await world.up("reports", at=T0 + 9 * MIN)
    world.clock.now = T0 + 9 * MIN + 15 * MIN - 1
    await world.service.tick()
    assert (await world.service.get(inc.id)).status == "monitoring"
    world.clock.now = T0 + 9 * MIN + 15 * MIN
    await world.service.tick()
    done = await world.service.get(inc.id)
    assert done.status == "resolved" and done.resolved_at == T0 + 9 * MIN
    assert not done.breached(world.clock.now)
    assert [e[0] for e in world.sent.events] == ["incident.created", "incident.updated", "incident.resolved"]


async def test_relapse_during_monitoring_reopens_the_same_incident(world: World) -> None:
    inc = await world.down("reports", start=T0)
    assert inc is not None
    world.clock.now = T0 + 10 * MIN
    await world.up("reports", at=T0 + 9 * MIN)
    world.clock.now = T0 + 14 * MIN
    again = await world.down("reports", start=T0 + 13 * MIN)
    assert again is not None and again.id == inc.id
    assert again.status == "investigating" and again.recovered_at is None
    assert "voltou a falhar" in again.updates[-1].message
    # The quiet period starts over from the next recovery.
    world.clock.now = T0 + 30 * MIN
    await world.service.tick()
    assert (await world.service.get(inc.id)).status == "investigating"
    assert len(await world.store.list_incidents()) == 1


async def test_no_incident_inside_maintenance(world: World) -> None:
    await world.service.add_maintenance("nps", "Banco de dados", T0 - MIN, T0 + HOUR, ["reports"])
    assert await world.down("reports", start=T0) is None
    assert await world.store.list_incidents() == []
    # Another component of the page is not covered by that window.
    assert await world.down("app", start=T0) is not None


async def test_restart_mid_outage_never_opens_a_second_incident(backend: Backend) -> None:
    config = make_config()
    store = await backend.open()
    first = await IncidentService(store, config, clock=Clock()).component_down("nps", "reports", T0)
    await store.close()
    store = await backend.open()  # the process restarted
    again = await IncidentService(store, config, clock=Clock(T0 + HOUR)).component_down("nps", "reports", T0)
    assert first is not None and again is not None and again.id == first.id
    assert len(again.updates) == 1
    assert len(await store.list_incidents()) == 1
    await store.close()


async def test_acknowledgement_first_wins_and_times(world: World) -> None:
    inc = await world.down("reports", start=T0)
    assert inc is not None
    world.clock.now = T0 + 7 * MIN
    acked = await world.service.acknowledge(inc.id, "alice")
    world.clock.now = T0 + 9 * MIN
    with pytest.raises(AlreadyAcknowledged, match="already acknowledged by alice"):
        await world.service.acknowledge(inc.id, "bob")
    again = await world.service.acknowledge(inc.id, "alice")
    assert (acked.acknowledged_by, acked.acknowledged_at) == ("alice", T0 + 7 * MIN)
    assert (again.acknowledged_by, again.acknowledged_at) == ("alice", T0 + 7 * MIN)
    assert time_to_acknowledge(again) == 7 * MIN
    assert [e[0] for e in world.sent.events].count("incident.acknowledged") == 1


async def test_reminder_for_unacknowledged_t1_once_per_delay(world: World) -> None:
    inc = await world.down("reports", start=T0)
    assert inc is not None
    for minutes in (29, 30, 45, 60):
        world.clock.now = T0 + minutes * MIN
        await world.service.tick()
    reminders = [e for e in world.sent.events if e[0] == "incident.reminder"]
    assert len(reminders) == 2  # at 30 and 60 minutes
    await world.service.acknowledge(inc.id, "alice")
    world.clock.now = T0 + 120 * MIN
    await world.service.tick()
    assert len([e for e in world.sent.events if e[0] == "incident.reminder"]) == 2


@pytest.mark.parametrize(
    ("severity", "limit"),
    [("T1", 4 * HOUR), ("T2", 86400.0), ("T3", 5 * 86400.0), ("T4", 7 * 86400.0)],
    ids=["T1-4h", "T2-1d", "T3-5d", "T4-7d"],
)
async def test_deadline_and_breach_per_severity(world: World, severity: str, limit: float) -> None:
    inc = await world.service.open_manual("nps", "Painel com erro 500", severity, ["app"], message="x",
                                          author="alice")
    assert inc.due_at == T0 + limit and inc.impact == {"T1": "critical", "T2": "major", "T3": "minor",
                                                        "T4": "none"}[severity]
    assert not inc.breached(T0 + limit) and inc.breached(T0 + limit + 1)
    world.clock.now = T0 + limit - 1
    on_time = await world.service.resolve(inc.id, "Corrigido", "alice")
    assert on_time.resolved_at == T0 + limit - 1 and not on_time.breached(T0 + 10 * limit)
    late = await world.service.open_manual("nps", "Outro", severity, [], message="x")
    world.clock.now = late.started_at + limit + 1
    late_done = await world.service.resolve(late.id)
    assert late_done.breached(world.clock.now) and time_to_resolve(late_done) == limit + 1


async def test_lifecycle_and_bad_transitions(world: World) -> None:
    inc = await world.service.open_manual("nps", "Lento", "T3", ["reports"], message="Investigando")
    world.clock.now = T0 + MIN
    inc = await world.service.post_update(inc.id, "identified", "Causa encontrada", "bob")
    world.clock.now = T0 + 2 * MIN
    inc = await world.service.post_update(inc.id, "monitoring", "Corrigido", "bob")
    assert inc.monitoring_at == T0 + 2 * MIN
    inc = await world.service.post_update(inc.id, "monitoring", "Ainda observando", "bob")
    world.clock.now = T0 + 3 * MIN
    inc = await world.service.post_update(inc.id, "resolved", "Resolvido", "bob")
    assert [u.status for u in inc.updates] == ["investigating", "identified", "monitoring", "monitoring",
                                               "resolved"]
    with pytest.raises(BadTransition, match="resolved; it cannot move to investigating"):
        await world.service.post_update(inc.id, "investigating", "de novo", "bob")
    with pytest.raises(BadInput, match='status "fixed" is not one of'):
        await world.service.post_update(inc.id, "fixed", "x")


@pytest.mark.parametrize(
    ("call", "error", "text"),
    [
        (lambda s: s.get(999), NotFound, "incident 999 does not exist"),
        (lambda s: s.acknowledge(999, "alice"), NotFound, "incident 999"),
        (lambda s: s.post_update(999, "identified", "x"), NotFound, "incident 999"),
        (lambda s: s.open_manual("xyz", "t", "T1"), UnknownPage, 'page "xyz" does not exist'),
        (lambda s: s.open_manual("nps", "t", "T1", ["db"]), UnknownComponent, 'component "db" is not on page nps'),
        (lambda s: s.open_manual("nps", "t", "T9"), BadSeverity, 'severity "T9"'),
        (lambda s: s.open_manual("nps", "   ", "T1"), BadInput, "title must not be empty"),
        (lambda s: s.open_manual("nps", "x" * 201, "T1"), BadInput, "title is longer than 200"),
        (lambda s: s.open_manual("nps", "t", "T1", status="resolved"), BadInput, 'status "resolved"'),
        (lambda s: s.add_maintenance("nps", "m", T0 + 100, T0 + 50), BadWindow, "ends before it starts"),
        (lambda s: s.add_maintenance("nps", "m", T0 - 100, T0 - 50), BadWindow, "already over"),
        (lambda s: s.cancel_maintenance(5), NotFound, "maintenance 5 does not exist"),
    ],
    ids=["get", "ack", "update", "page", "component", "severity", "empty title", "long title",
         "open resolved", "window order", "window past", "cancel unknown"],
)
async def test_engineer_mistakes_are_clear_errors(world: World, call: Any, error: type, text: str) -> None:
    with pytest.raises(error, match=text):
        await call(world.service)


async def test_compliance_per_severity_and_month(world: World) -> None:
    svc = world.service
    a = await svc.open_manual("nps", "a", "T1", message="x")   # resolved in 30 min, acked at 5 min
    b = await svc.open_manual("nps", "b", "T1", message="x")   # resolved in 5 h: breached
    c = await svc.open_manual("nps", "c", "T2", message="x")   # open, within its 1 day
    world.clock.now = T0 + 5 * MIN
    await svc.acknowledge(a.id, "alice")
    world.clock.now = T0 + 30 * MIN
    await svc.resolve(a.id)
    world.clock.now = T0 + 5 * HOUR
    await svc.resolve(b.id)
    rows = compliance(await world.store.list_incidents(), svc.config.sla, "America/Sao_Paulo", T0 + 5 * HOUR,
                      month="2026-11")
    t1, t2, t3, t4 = rows
    assert (t1.severity, t1.count, t1.resolved, t1.breached, t1.judged, t1.within_limit) == ("T1", 2, 2, 1, 2, 1)
    assert t1.mean_time_to_resolve == (30 * MIN + 5 * HOUR) / 2 and t1.mean_met is False
    assert t1.within_share == 0.5 and t1.mean_time_to_acknowledge == 5 * MIN
    assert (t2.count, t2.open, t2.judged, t2.within_share) == (1, 1, 0, None)
    assert c.id and t3.count == 0 and t4.count == 0
