"""A realistic database for site tests: two products, 90 days of state runs, incidents, maintenance.

Everything goes in through the SQLiteStore's public API (register_monitors, buffer_runs/buffer_check +
flush, create_incident, add_maintenance), exactly as the running process writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from statuspage.config import Config, parse_config
from statuspage.incidents.service import Policy
from statuspage.models import (
    CheckResult,
    Incident,
    IncidentUpdate,
    LatencyAggregate,
    Maintenance,
    MonitorState,
    Outcome,
    RunRow,
)
from statuspage.store.sqlite import SQLiteStore

NOW = 1763650800.0  # 2025-11-20 15:00 UTC, 12:00 in São Paulo
H, D = 3600.0, 86400.0
XSS_TITLE = "<script>alert(1)</script>"
XSS_MESSAGE = "Fixed <img src=x onerror=alert(1)> & \"quoted\" 'single' ]]> <!-- --> \x01end"
XSS_COMPONENT = "Relatórios <b>&amp;</b> \"PDF\" <svg onload=alert(1)>"
TRACK = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text(encoding="utf-8"))
"""Track's config.yaml: its contact and SLA texts are what the site tests render."""


TRACK_SUPPORT: dict[str, Any] = {
    "channels": {"chat": {"first_response": "4m", "average": "3m"},
                 "whatsapp": {"first_response": "4m", "average": "3m"},
                 "email": {"first_response": "24h", "average": "6h"},
                 "phone": {"first_response": "24h", "average": "1h"}},
    "triage_average": "48h",
}
"""The support section of the repository's config.yaml (Track's SLA)."""


def site_config(tmp_path: Path, *, locale: str = "pt-BR", hostile: bool = False,
                base_url: str = "https://status.track.co", locales: list[str] | None = None,
                domains: dict[str, list[str]] | None = None, extra: dict[str, Any] | None = None) -> Config:
    """Track's two pages; with `hostile`, a component name full of markup; `locales` and `domains`
    (by page slug) as `site.locales` and `pages[].domains`; `extra` top-level sections."""
    def http(name: str, interval: str = "30s") -> dict[str, Any]:
        return {"name": name, "type": "http", "url": "http://127.0.0.1:9/", "interval": interval}

    reports_name = XSS_COMPONENT if hostile else "Relatórios"
    site: dict[str, Any] = {"title": "Track Status", "base_url": base_url, "locale": locale,
                            "timezone": "America/Sao_Paulo", "output_dir": str(tmp_path / "site"),
                            "contact": TRACK["site"]["contact"]}
    if locales is not None:
        site = {**site, "locale": locales[0], "locales": locales}
    domains = domains or {}
    return parse_config({
        "site": site,
        "sla": TRACK["sla"],
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "support": TRACK_SUPPORT,
        "pages": [
            {"slug": "nps", "name": "NPS", "description": "Track NPS — pesquisas de satisfação e relatórios",
             "domains": domains.get("nps", []),
             "components": [
                 {"slug": "app", "name": "Plataforma", "monitors": [http("web"), http("login")]},
                 {"slug": "api", "name": "API", "monitors": [http("health")]},
                 {"slug": "reports", "name": reports_name, "monitors": [http("reports")]},
                 {"slug": "email", "name": "Envio de e-mails",
                  "monitors": [{"name": "sender", "type": "push", "token": "nps-email-token", "interval": "5m"}]},
             ]},
            {"slug": "cxm", "name": "CXM", "description": "Track CXM — gestão da experiência do cliente",
             "domains": domains.get("cxm", []),
             "components": [
                 {"slug": "app", "name": "Plataforma", "monitors": [http("web")]},
                 {"slug": "api", "name": "API", "monitors": [http("health")]},
                 {"slug": "reports", "name": "Relatórios", "monitors": [http("reports")]},
                 {"slug": "email", "name": "Envio de e-mails", "monitors": [http("sender")]},
             ]},
        ],
        **(extra or {}),
    }, env={})


@dataclass
class _Ids:
    last: int = 0

    def next(self) -> int:
        self.last += 1
        return self.last


def _runs(key: str, ids: _Ids, start: float, end: float,
          events: list[tuple[float, float, Outcome]]) -> list[RunRow]:
    """Up from `start` to `end` except the (start, end, state) events; None-state gaps are no data."""
    rows: list[RunRow] = []
    t = start
    for ev_start, ev_end, state in sorted(events):
        if ev_start > t:
            rows.append(RunRow(ids.next(), key, "up", t, ev_start, False))
        if state != "up" or ev_end > ev_start:
            rows.append(RunRow(ids.next(), key, state, ev_start, ev_end, False))
        t = ev_end
    if end > t:
        rows.append(RunRow(ids.next(), key, "up", t, end, False))
    return rows


def _gap(rows: list[RunRow], start: float, end: float) -> list[RunRow]:
    """Cut [start, end) out of the runs: the monitor was not running then (no data)."""
    out: list[RunRow] = []
    for r in rows:
        if r.end <= start or r.start >= end:
            out.append(r)
            continue
        if r.start < start:
            out.append(RunRow(r.id, r.monitor, r.state, r.start, start, False))
        if r.end > end:
            out.append(RunRow(r.id + 100000, r.monitor, r.state, end, r.end, False))
    return out


def add_latency(store: SQLiteStore, keys: list[str], now: float, days: int = 30) -> None:
    """Hourly response times for every HTTP monitor over `days` days: ~120 ms by day, ~90 ms at
    night, NPS reports slow (about 1.5 s) for the last two hours, no data for the platform's gap."""
    first, last = int((now - days * D) // H), int(now // H)
    for key in keys:
        if key.endswith("/email/sender"):
            continue  # push monitors have no response time
        for hour in range(first, last + 1):
            if key.startswith("nps/app/") and now - 20 * D <= hour * H < now - 20 * D + 6 * H:
                continue
            local_hour = (hour - 3) % 24
            base = 120.0 if 8 <= local_hour <= 20 else 90.0
            if key == "nps/reports/reports" and hour * H >= now - 2 * H:
                base = 1500.0
            agg = LatencyAggregate()
            for k in range(12):
                agg.add(base * (0.8 + 0.05 * k) + (hour % 7))
            store.buffer_latency(key, hour, agg)


async def populate(store: SQLiteStore, config: Config, now: float = NOW, *, hostile: bool = False) -> dict[str, int]:
    """Fill `store`; return the ids of the notable incidents and maintenance windows."""
    keys = [m.key for _, _, m in config.monitors()]
    await store.register_monitors(keys)
    ids = _Ids()
    start = now - 92 * D
    last_check = now - 10.0
    outages: dict[str, list[tuple[float, float, Outcome]]] = {
        "nps/app/web": [(now - 3 * D - 5 * H, now - 3 * D - 4 * H - 20 * 60, "down"),
                        (now - 40 * D, now - 40 * D + 25 * 60, "down")],
        "nps/app/login": [(now - 3 * D - 5 * H, now - 3 * D - 4 * H - 20 * 60, "down"),
                          (now - 12 * D, now - 12 * D + 3 * H, "down")],
        "nps/api/health": [(now - 20 * 60, last_check, "down"), (now - 5 * D, now - 5 * D + 2 * H, "down"),
                           (now - 61 * D, now - 61 * D + 9 * H, "down")],
        "nps/reports/reports": [(now - 2 * H, last_check, "degraded"), (now - 8 * D, now - 8 * D + 90 * 60, "down")],
        "cxm/api/health": [(now - 26 * D, now - 26 * D + 50 * 60, "down")],
    }
    for key in keys:
        if key == "nps/email/sender":
            continue  # never reported: no data
        first = now - 10 * D if key == "cxm/email/sender" else start
        rows = _runs(key, ids, first, last_check, outages.get(key, []))
        if key.startswith("nps/app/"):
            rows = _gap(rows, now - 20 * D, now - 20 * D + 6 * H)
        rows[-1] = RunRow(rows[-1].id, key, rows[-1].state, rows[-1].start, rows[-1].end, True)
        store.buffer_runs(rows)
        last = rows[-1].state
        state = MonitorState(confirmed="down" if last == "down" else "up", run_state=last, last_at=last_check, last_outcome=last,
                             down_since=rows[-1].start if last == "down" else None,
                             last_latency_ms=120.0)
        store.buffer_check(CheckResult(key, last_check, last, 120.0, 200 if last != "down" else 503), state)
    add_latency(store, keys, now)
    await store.flush()

    out: dict[str, int] = {}
    # Opened by the automatic policy, as `statuspage run` does: its title and message are stored with
    # their phrase keys, so every locale of the site words them.
    auto = await store.create_incident(Policy(config).open("nps", "api", now - 20 * 60, now - 19 * 60))
    out["open"] = auto.id
    resolved = await store.create_incident(Incident(
        id=0, page="nps", title="Lentidão e falhas no login da plataforma", severity="T1", impact="critical",
        status="resolved", started_at=now - 3 * D - 5 * H, due_at=now - 3 * D - H,
        components=("app",), monitoring_at=now - 3 * D - 4 * H - 20 * 60,
        resolved_at=now - 3 * D - 4 * H, acknowledged_at=now - 3 * D - 5 * H + 4 * 60, acknowledged_by="alice",
        postmortem="Um certificado expirado no balanceador derrubou o login.\nRenovação automática corrigida.",
        created_at=now - 3 * D - 5 * H, updated_at=now - 3 * D - 4 * H,
        updates=(
            IncidentUpdate(0, 0, "investigating", "Usuários relatam erro ao entrar.", now - 3 * D - 5 * H, "alice"),
            IncidentUpdate(0, 0, "identified", "Certificado expirado no balanceador.", now - 3 * D - 4 * H - 40 * 60,
                           "alice"),
            IncidentUpdate(0, 0, "monitoring", "Certificado renovado; acompanhando.", now - 3 * D - 4 * H - 20 * 60,
                           "alice"),
            IncidentUpdate(0, 0, "resolved", "Tudo normal.", now - 3 * D - 4 * H, "alice"),
        ),
    ))
    out["resolved"] = resolved.id
    breached = await store.create_incident(Incident(
        id=0, page="nps", title="Exportação de relatórios falhando", severity="T3", impact="minor",
        status="resolved", started_at=now - 10 * D, due_at=now - 5 * D, components=("reports",),
        resolved_at=now - 4 * D, acknowledged_at=now - 10 * D + H, acknowledged_by="bruno",
        created_at=now - 10 * D, updated_at=now - 4 * D,
        updates=(IncidentUpdate(0, 0, "investigating", "Exportação em PDF falha.", now - 10 * D, "bruno"),
                 IncidentUpdate(0, 0, "resolved", "Corrigido.", now - 4 * D, "bruno")),
    ))
    out["breached"] = breached.id
    title = XSS_TITLE if hostile else "Lentidão na geração de relatórios"
    message = XSS_MESSAGE if hostile else "Investigando lentidão na geração de relatórios."
    xss = await store.create_incident(Incident(
        id=0, page="nps", title=title, severity="T2", impact="major", status="identified",
        started_at=now - 2 * H, due_at=now - 2 * H + D, components=("reports",),
        acknowledged_at=now - 2 * H + 600, acknowledged_by="carla <admin>" if hostile else "carla",
        created_at=now - 2 * H, updated_at=now - H,
        updates=(IncidentUpdate(0, 0, "investigating", message, now - 2 * H, "carla"),
                 IncidentUpdate(0, 0, "identified", message, now - H, "carla")),
    ))
    out["xss"] = xss.id
    cxm_old = await store.create_incident(Incident(
        id=0, page="cxm", title="Atraso no envio de e-mails", severity="T2", impact="major", status="resolved",
        started_at=now - 26 * D, due_at=now - 25 * D, components=("api",), resolved_at=now - 26 * D + 50 * 60,
        acknowledged_at=now - 26 * D + 300, acknowledged_by="alice",
        created_at=now - 26 * D, updated_at=now - 26 * D + 50 * 60,
        updates=(IncidentUpdate(0, 0, "investigating", "Fila de envio parada.", now - 26 * D, "alice"),
                 IncidentUpdate(0, 0, "resolved", "Fila normalizada.", now - 26 * D + 50 * 60, "alice")),
    ))
    out["cxm"] = cxm_old.id
    upcoming = await store.add_maintenance(Maintenance(
        id=0, page="nps", title="Atualização do banco de dados", start=now + D, end=now + D + 2 * H,
        components=("app", "api"), message="Janela de manutenção programada.", created_at=now - D,
        created_by="alice"))
    out["upcoming"] = upcoming.id
    active = await store.add_maintenance(Maintenance(
        id=0, page="cxm", title="Migração do serviço de relatórios", start=now - H, end=now + H,
        components=("reports",), message="Relatórios podem ficar indisponíveis.", created_at=now - 2 * D,
        created_by="alice"))
    out["active"] = active.id
    return out


async def open_populated(tmp_path: Path, *, locale: str = "pt-BR", hostile: bool = False,
                         base_url: str = "https://status.track.co", locales: list[str] | None = None,
                         domains: dict[str, list[str]] | None = None,
                         ) -> tuple[Config, SQLiteStore, dict[str, int]]:
    """A config and an open, populated store under `tmp_path` (close the store when done)."""
    config = site_config(tmp_path, locale=locale, hostile=hostile, base_url=base_url, locales=locales,
                         domains=domains)
    store = await SQLiteStore.open(config.storage.path)
    ids = await populate(store, config, hostile=hostile)
    return config, store, ids


FRESH_NOW = NOW


async def populate_fresh(store: SQLiteStore, config: Config, now: float = FRESH_NOW) -> dict[str, int]:
    """A monitor that just started, as a visitor sees `make run` after a minute: NPS measured for 60 s,
    its reports down for 20 s and recovered (the automatic incident is being monitored); CXM measured
    for an hour, with an automatic incident opened, recovered and resolved 45 minutes ago."""
    keys = [m.key for _, _, m in config.monitors()]
    await store.register_monitors(keys)
    ids = _Ids()
    policy = Policy(config)
    for key in keys:
        first = now - 60 if key.startswith("nps/") else now - H
        events: list[tuple[float, float, Outcome]] = []
        if key == "nps/reports/reports":
            events = [(now - 50, now - 30, "down")]
        if key == "cxm/api/health":
            events = [(now - 50 * 60, now - 45 * 60, "down")]
        rows = _runs(key, ids, first, now - 1, events)
        rows[-1] = RunRow(rows[-1].id, key, rows[-1].state, rows[-1].start, rows[-1].end, True)
        store.buffer_runs(rows)
        state = MonitorState(confirmed="up", run_state="up", last_at=now - 1, last_outcome="up",
                             last_latency_ms=40.0)
        store.buffer_check(CheckResult(key, now - 1, "up", 40.0, 200), state)
        if not key.endswith("/sender"):
            agg = LatencyAggregate()
            for ms in (35.0, 40.0, 45.0):
                agg.add(ms)
            store.buffer_latency(key, int(now // H), agg)
    await store.flush()

    out: dict[str, int] = {}
    nps = await store.create_incident(policy.open("nps", "reports", now - 50, now - 46))
    recovered = policy.recover(nps, now - 30, now - 28, [])
    assert recovered is not None
    out["monitoring"] = (await store.save_incident(recovered[0], [recovered[1]])).id
    cxm = await store.create_incident(policy.open("cxm", "api", now - 50 * 60, now - 49 * 60))
    back = policy.recover(cxm, now - 45 * 60, now - 45 * 60, [])
    assert back is not None
    cxm = await store.save_incident(back[0], [back[1]])
    done = policy.auto_resolve(cxm, now - 44 * 60)
    assert done is not None
    out["resolved"] = (await store.save_incident(done[0], [done[1]])).id
    return out


async def open_fresh(tmp_path: Path, **kwargs: Any) -> tuple[Config, SQLiteStore, dict[str, int]]:
    """A config (automatic incidents resolve after 1 min) and a store filled by `populate_fresh`."""
    config = site_config(tmp_path, extra={"incidents": {"auto_resolve_after": "1m"}}, **kwargs)
    store = await SQLiteStore.open(config.storage.path)
    ids = await populate_fresh(store, config)
    return config, store, ids
