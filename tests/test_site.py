"""The static site rendered from a real SQLite store: layout, Statuspage JSON shapes, Atom, badges,
escaping of hostile text, atomic and minimal writes, locales."""

from __future__ import annotations

import json
import os
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from statuspage.config import Config
from statuspage.models import Incident, IncidentUpdate
from statuspage.site.i18n import Translator
from statuspage.site.render import render_site
from statuspage.site.snapshot import banner_kind, take_snapshot
from statuspage.site.view import View
from statuspage.store.sqlite import SQLiteStore
from tests.site_data import NOW, XSS_COMPONENT, XSS_MESSAGE, XSS_TITLE, D, H, open_populated

ATOM = "{http://www.w3.org/2005/Atom}"
SVG = "{http://www.w3.org/2000/svg}"
INDICATORS = {"none", "minor", "major", "critical"}
COMPONENT_STATUSES = {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
IMPACTS = {"none", "minor", "major", "critical"}
API_FILES = ["summary.json", "status.json", "components.json", "incidents.json", "incidents/unresolved.json",
             "scheduled-maintenances.json"]
BADGES = ["status", "uptime-24h", "uptime-7d", "uptime-30d", "uptime-90d"]


@dataclass
class Site:
    config: Config
    store: SQLiteStore
    ids: dict[str, int]
    out: Path

    def read(self, rel: str) -> str:
        return (self.out / rel).read_text(encoding="utf-8")

    def json(self, rel: str) -> Any:
        return json.loads(self.read(rel))


async def _site(tmp_path: Path, **kwargs: Any) -> AsyncIterator[Site]:
    config, store, ids = await open_populated(tmp_path, **kwargs)
    out = tmp_path / "site"
    await render_site(config, store, out, now=NOW)
    try:
        yield Site(config, store, ids, out)
    finally:
        await store.close()


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async for s in _site(tmp_path):
        yield s


@pytest.fixture
async def hostile(tmp_path: Path) -> AsyncIterator[Site]:
    async for s in _site(tmp_path, hostile=True):
        yield s


def _text(html: str) -> str:
    """The text of an HTML document, tags dropped and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- layout ------------------------------------------------------------------------------------------


async def test_every_contract_path_is_written(site: Site) -> None:
    expected = ["index.html", "sla.html", "static/style.css"]
    for page in ("nps", "cxm"):
        expected += [f"{page}/index.html", f"{page}/history.html", f"{page}/feed.atom"]
        expected += [f"{page}/api/v2/{name}" for name in API_FILES]
        expected += [f"{page}/badges/{b}.{ext}" for b in BADGES for ext in ("svg", "json")]
        for comp in ("app", "api", "reports", "email"):
            expected += [f"{page}/badges/{comp}/{b}.{ext}" for b in BADGES for ext in ("svg", "json")]
    expected += [f"nps/incidents/{site.ids[k]}.html" for k in ("open", "resolved", "breached", "xss")]
    expected.append(f"cxm/incidents/{site.ids['cxm']}.html")
    missing = [p for p in expected if not (site.out / p).is_file()]
    assert missing == []


async def test_render_site_writes_to_the_configured_output_dir(tmp_path: Path) -> None:
    config, store, _ = await open_populated(tmp_path)
    try:
        result = await render_site(config, store, now=NOW)
    finally:
        await store.close()
    assert (Path(config.site.output_dir) / "nps" / "index.html").is_file()
    assert result.written > 100 and result.unchanged == 0
    assert result.snapshot is not None and result.snapshot.now == NOW


# --- Statuspage JSON ------------------------------------------------------------------------------


def _check_keys(obj: dict[str, Any], keys: set[str], where: str) -> None:
    missing = keys - obj.keys()
    assert not missing, f"{where} lacks {sorted(missing)}"


def _check_page(page: dict[str, Any]) -> None:
    _check_keys(page, {"id", "name", "url", "time_zone", "updated_at"}, "page")
    assert page["time_zone"] == "America/Sao_Paulo"


def _check_component(c: dict[str, Any]) -> None:
    _check_keys(c, {"id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
                    "start_date", "group_id", "page_id", "group", "only_show_if_degraded"}, "component")
    assert c["status"] in COMPONENT_STATUSES
    assert isinstance(c["position"], int) and isinstance(c["group"], bool)
    assert set(c["uptime"]) == {"24h", "7d", "30d", "90d"}


def _check_update(u: dict[str, Any], statuses: set[str]) -> None:
    _check_keys(u, {"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
                    "affected_components"}, "incident_update")
    assert u["status"] in statuses
    for ac in u["affected_components"]:
        _check_keys(ac, {"code", "name", "old_status", "new_status"}, "affected_component")
        assert {ac["old_status"], ac["new_status"]} <= COMPONENT_STATUSES


def _check_incident(i: dict[str, Any]) -> None:
    _check_keys(i, {"id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact",
                    "shortlink", "started_at", "page_id", "incident_updates", "components"}, "incident")
    _check_keys(i, {"severity", "acknowledged_at", "acknowledged_by", "due_at", "sla_breached"}, "incident extras")
    assert i["status"] in INCIDENT_STATUSES and i["impact"] in IMPACTS
    assert i["severity"] in {"T1", "T2", "T3", "T4"} and isinstance(i["sla_breached"], bool)
    for u in i["incident_updates"]:
        _check_update(u, INCIDENT_STATUSES)
    for c in i["components"]:
        _check_component(c)


def _check_maintenance(m: dict[str, Any]) -> None:
    _check_keys(m, {"id", "name", "status", "scheduled_for", "scheduled_until", "impact", "incident_updates",
                    "components", "created_at", "updated_at", "shortlink", "page_id"}, "scheduled_maintenance")
    assert m["status"] in MAINTENANCE_STATUSES
    assert m["impact"] in IMPACTS | {"maintenance"}
    for u in m["incident_updates"]:
        _check_update(u, MAINTENANCE_STATUSES)


@pytest.mark.parametrize("page", ["nps", "cxm"])
async def test_json_documents_have_statuspage_shapes(site: Site, page: str) -> None:
    docs = {name: site.json(f"{page}/api/v2/{name}") for name in API_FILES}
    for name, doc in docs.items():
        _check_page(doc["page"])
        assert doc["page"]["id"] == page, name
    summary = docs["summary.json"]
    _check_keys(summary, {"page", "components", "incidents", "scheduled_maintenances", "status"}, "summary")
    for status in (summary["status"], docs["status.json"]["status"]):
        _check_keys(status, {"indicator", "description"}, "status")
        assert status["indicator"] in INDICATORS
    for c in summary["components"] + docs["components.json"]["components"]:
        _check_component(c)
    for i in docs["incidents.json"]["incidents"] + docs["incidents/unresolved.json"]["incidents"]:
        _check_incident(i)
    for i in summary["incidents"]:
        _check_incident(i)
    for m in summary["scheduled_maintenances"] + docs["scheduled-maintenances.json"]["scheduled_maintenances"]:
        _check_maintenance(m)


async def test_json_reflects_the_database(site: Site) -> None:
    nps = site.json("nps/api/v2/summary.json")
    assert nps["status"] == {"indicator": "critical", "description": "Major System Outage"}
    status = {c["id"]: (c["status"], c["no_data"]) for c in nps["components"]}
    assert status == {"app": ("operational", False), "api": ("major_outage", False),
                      "reports": ("degraded_performance", False), "email": ("operational", True)}
    assert [c["position"] for c in nps["components"]] == [1, 2, 3, 4]
    unresolved = site.json("nps/api/v2/incidents/unresolved.json")["incidents"]
    assert {i["id"] for i in unresolved} == {str(site.ids["open"]), str(site.ids["xss"])}
    auto = next(i for i in unresolved if i["id"] == str(site.ids["open"]))
    assert auto["severity"] == "T1" and auto["impact"] == "critical" and auto["acknowledged_at"] is None
    assert auto["due_at"] == "2025-11-20T15:40:00.000-03:00"
    assert auto["started_at"] == "2025-11-20T11:40:00.000-03:00"
    assert auto["shortlink"] == f"https://status.track.co/nps/incidents/{site.ids['open']}.html"
    assert auto["incident_updates"][0]["affected_components"] == [
        {"code": "api", "name": "API", "old_status": "operational", "new_status": "major_outage"}]
    everything = site.json("nps/api/v2/incidents.json")["incidents"]
    breached = next(i for i in everything if i["id"] == str(site.ids["breached"]))
    assert breached["sla_breached"] is True and breached["status"] == "resolved"
    resolved = next(i for i in everything if i["id"] == str(site.ids["resolved"]))
    assert resolved["sla_breached"] is False and resolved["acknowledged_by"] == "alice"
    assert [u["status"] for u in resolved["incident_updates"]] == [
        "resolved", "monitoring", "identified", "investigating"]  # newest first, as Statuspage
    upcoming = nps["scheduled_maintenances"]
    assert [(m["id"], m["status"]) for m in upcoming] == [(str(site.ids["upcoming"]), "scheduled")]
    cxm = site.json("cxm/api/v2/summary.json")
    assert {c["id"]: c["status"] for c in cxm["components"]}["reports"] == "under_maintenance"
    assert [m["status"] for m in cxm["scheduled_maintenances"]] == ["in_progress"]
    assert cxm["status"]["indicator"] == "none"
    uptime = {c["id"]: c["uptime"] for c in nps["components"]}
    assert uptime["email"] == {"24h": None, "7d": None, "30d": None, "90d": None}
    assert 0.98 < uptime["api"]["24h"] < 0.99  # down for the last 20 minutes of 24 h


# --- Atom --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["nps", "cxm"])
async def test_feed_is_valid_atom_with_one_entry_per_incident(site: Site, page: str) -> None:
    root = ET.fromstring(site.read(f"{page}/feed.atom").encode())
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{tag}") is not None, tag
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "Track Status"
    rels = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert rels["self"] == f"https://status.track.co/{page}/feed.atom"
    entries = root.findall(f"{ATOM}entry")
    incidents = site.json(f"{page}/api/v2/incidents.json")["incidents"]
    assert len(entries) == len(incidents) > 0
    for entry, incident in zip(entries, incidents, strict=True):
        assert entry.findtext(f"{ATOM}title") == incident["name"]
        assert entry.findtext(f"{ATOM}id", "").endswith(f"/incidents/{incident['id']}.html")
        content = entry.find(f"{ATOM}content")
        assert content is not None and content.get("type") == "html"
        for update in incident["incident_updates"]:
            assert update["body"] in (content.text or "")


# --- SVG badges ------------------------------------------------------------------------------------


async def test_every_svg_is_well_formed_and_every_badge_has_its_endpoint_json(site: Site) -> None:
    svgs = sorted(site.out.rglob("*.svg"))
    assert len(svgs) >= 2 * 5 * 5
    for path in svgs:
        root = ET.parse(path).getroot()
        assert root.tag == f"{SVG}svg", path
        if "/badges/" in path.as_posix():
            data = json.loads(path.with_suffix(".json").read_text())
            assert set(data) == {"schemaVersion", "label", "message", "color"} and data["schemaVersion"] == 1
            assert root.findtext(f"{SVG}title") == f"{data['label']}: {data['message']}"
    status = site.json("nps/badges/api/status.json")
    assert (status["message"], status["color"]) == ("interrupção grave", "red")
    assert site.json("nps/badges/email/uptime-30d.json")["color"] == "lightgrey"
    assert site.json("cxm/badges/status.json")["color"] == "blue"


# --- hostile text ------------------------------------------------------------------------------------


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]


async def test_markup_in_titles_messages_and_names_is_shown_as_text(hostile: Site) -> None:
    xss = hostile.ids["xss"]
    pages = ["index.html", "nps/index.html", "nps/history.html", f"nps/incidents/{xss}.html"]
    for rel in pages:
        html = hostile.read(rel)
        parser = _Elements()
        parser.feed(html)
        assert "script" not in parser.tags and "img" not in parser.tags and "b" not in parser.tags, rel
        assert not [a for a in parser.attrs if a.startswith("on")], rel
        assert "\x01" not in html
    incident_html = hostile.read(f"nps/incidents/{xss}.html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in incident_html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;quoted&#34;" in incident_html
    assert "carla &lt;admin&gt;" in incident_html

    # Atom: the title comes back exactly; the content is HTML in which the message is escaped text.
    feed = ET.fromstring(hostile.read("nps/feed.atom").encode())
    entry = next(e for e in feed.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == XSS_TITLE)
    content = entry.findtext(f"{ATOM}content") or ""
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;quoted&#34;" in content
    assert "<img" not in content and "]]>" not in content.replace("]]&gt;", "")

    # SVG: the component's markup is the badge's text, not elements.
    for name in ("status", "uptime-30d"):
        root = ET.parse(hostile.out / f"nps/badges/reports/{name}.svg").getroot()
        assert [el.tag for el in root.iter() if el.tag in (f"{SVG}b", f"{SVG}svg")] == [f"{SVG}svg"]
        texts = [el.text for el in root.iter(f"{SVG}text")]
        assert texts[0] is not None and texts[0].startswith(XSS_COMPONENT)

    # JSON: json.loads gives back the exact strings, control characters included.
    incident = next(i for i in hostile.json("nps/api/v2/incidents.json")["incidents"] if i["id"] == str(xss))
    assert incident["name"] == XSS_TITLE
    assert {u["body"] for u in incident["incident_updates"]} == {XSS_MESSAGE}
    assert incident["acknowledged_by"] == "carla <admin>"
    names = {c["id"]: c["name"] for c in hostile.json("nps/api/v2/components.json")["components"]}
    assert names["reports"] == XSS_COMPONENT
    assert hostile.json("nps/badges/reports/status.json")["label"] == XSS_COMPONENT


# --- writes ------------------------------------------------------------------------------------------


def _mtimes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


async def test_unchanged_files_are_not_rewritten(site: Site) -> None:
    before = _mtimes(site.out)
    again = await render_site(site.config, site.store, site.out, now=NOW)
    assert again.written == 0 and again.unchanged == len(before)
    assert _mtimes(site.out) == before

    # One new incident changes its page, the lists and the feed; badges and the other page stay.
    await site.store.create_incident(Incident(
        id=0, page="nps", title="Novo incidente", severity="T4", impact="none", status="investigating",
        started_at=NOW - 60, due_at=NOW + 7 * D, created_at=NOW - 60, updated_at=NOW - 60,
        updates=(IncidentUpdate(0, 0, "investigating", "Olhando.", NOW - 60),)))
    third = await render_site(site.config, site.store, site.out, now=NOW)
    after = _mtimes(site.out)
    changed = {p for p in after if after[p] != before.get(p)}
    assert 0 < third.written == len(changed) < 20
    assert "nps/feed.atom" in changed and "nps/api/v2/incidents.json" in changed
    # Every page folder carries its own sla.html (Track's SLA with every product's figures).
    assert not any((p.startswith("cxm/") and p != "cxm/sla.html") or "/badges/" in p for p in changed)
    assert not [p for p in after if Path(p).name.startswith(".")]  # no temporary files left behind


async def test_a_failed_write_leaves_the_old_file_and_no_temporary(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    old = site.read("nps/index.html")

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        await render_site(site.config, site.store, site.out, now=NOW + 3600)
    assert site.read("nps/index.html") == old
    assert not [p for p in site.out.rglob(".*")]


async def test_readers_never_see_a_partial_file(site: Site) -> None:
    target = site.out / "nps" / "index.html"
    seen: list[str] = []
    stop = threading.Event()

    def read_forever() -> None:
        while not stop.is_set():
            seen.append(target.read_text(encoding="utf-8"))

    reader = threading.Thread(target=read_forever)
    reader.start()
    try:
        for k in range(1, 6):
            await render_site(site.config, site.store, site.out, now=NOW + k * 61)
    finally:
        stop.set()
        reader.join()
    assert len(seen) > 5
    assert all(text.startswith("<!doctype html>") and text.rstrip().endswith("</html>") for text in seen)


async def test_pages_of_incidents_no_longer_in_the_database_are_removed(site: Site) -> None:
    stale = site.out / "nps" / "incidents" / "9999.html"
    stale.write_text("old")
    result = await render_site(site.config, site.store, site.out, now=NOW)
    assert result.removed == 1 and not stale.exists()


# --- content -----------------------------------------------------------------------------------------


async def test_page_shows_banner_bars_figures_incidents_maintenance_and_history(site: Site) -> None:
    html = site.read("nps/index.html")
    assert '<html lang="pt-BR">' in html
    assert "Interrupção grave do sistema" in html
    assert html.count('<div class="days" role="radiogroup"') == 4
    assert html.count('<label class="bar ') == 4 * 90
    # The bar of 17 Nov (3 days ago) carries the day's figure and the outage with its times.
    assert "17 nov 2025 · 97,22 % de disponibilidade · 1 interrupção: 07:00–07:40 (40 min, total)" in html
    # Plain words against the target; no error budget or burn rate on a customers' page.
    assert "de disponibilidade, abaixo da meta de 99,5 %." in html
    words = _text(html)
    assert "rçamento" not in words and "p95" not in words and "<meter" not in html
    assert "T1 — Impacto Crítico" in html and "Ainda não reconhecido" in html
    assert "Reconhecido por carla em 20 nov 2025, 10:10" in html
    assert "Prazo de resolução (SLA)" in html and "20 nov 2025, 15:40 · 3 h 40 min restantes" in _text(html)
    assert "Atualização do banco de dados" in html  # upcoming maintenance
    assert "Nenhum incidente relatado." in html and html.count('<div class="day">') == 14
    assert "Sem dados" in html  # the e-mail sender never reported
    cxm = site.read("cxm/index.html")
    assert "Serviço em manutenção" in cxm and "Migração do serviço de relatórios" in cxm


async def test_history_lists_every_incident_newest_first(site: Site) -> None:
    html = site.read("nps/history.html")
    titles = ["API indisponível", "Lentidão na geração de relatórios", "Lentidão e falhas no login da plataforma",
              "Exportação de relatórios falhando"]
    positions = [html.index(t) for t in titles]
    assert positions == sorted(positions)
    assert "novembro de 2025" in html


async def test_incident_page_shows_severity_timeline_acknowledgement_due_time_and_breach(site: Site) -> None:
    html = site.read(f"nps/incidents/{site.ids['breached']}.html")
    assert "T3 — Médio Impacto" in html and "Prazo do SLA estourado" in html
    assert "15 nov 2025, 12:00" in html  # due: 5 days after the start, in São Paulo time
    assert "Reconhecido por bruno" in html
    assert html.index("Corrigido.") < html.index("Exportação em PDF falha.")  # newest first
    resolved = site.read(f"nps/incidents/{site.ids['resolved']}.html")
    assert "Post-mortem" in resolved and "certificado expirado" in resolved


async def test_sla_page_states_the_policy_and_the_measured_figures(site: Site) -> None:
    html = site.read("sla.html")
    for text in ("99,5 %", "4 min", "3 min", "24 h", "6 h", "48 h", "Impacto Crítico", "Alto Impacto",
                 "Médio Impacto", "Baixo Impacto", "Máxima", "Alta", "Média", "Baixa", "Não entrega de e-mails",
                 "3 h 36 min", "10 h 48 min", "novembro de 2025", "suporte@track.co", "(11) 4858-9924"):
        assert text in html, text
    assert html.count("Meta não cumprida") == 1 and html.count("Meta cumprida") == 1


async def test_english_site_uses_english_words_and_numbers(tmp_path: Path) -> None:
    async for s in _site(tmp_path, locale="en"):
        html = s.read("nps/index.html")
        assert '<html lang="en">' in html
        assert "Major System Outage" in html and "Open incidents" in html and "Critical Impact" in html
        assert "99.92%" in html and "99,92" not in html
        assert "Nov 17, 2025" in html
        assert "Operational" in s.read("cxm/index.html")
        assert s.json("nps/badges/api/status.json")["message"] == "major outage"
        assert "Service Level Agreement" in s.read("sla.html")


async def test_pages_make_no_external_requests(site: Site) -> None:
    for path in site.out.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        for attr in ("src=\"http", "href=\"//", "src=\"//", "@import", "url(http"):
            assert attr not in html, (path, attr)
        assert 'rel="stylesheet" href="http' not in html
    css = (site.out / "static" / "style.css").read_text()
    assert "http" not in css and "@import" not in css


# --- snapshot ----------------------------------------------------------------------------------------


async def test_monitors_whose_last_check_is_too_old_count_as_no_data(site: Site) -> None:
    later = NOW + 2 * H  # nothing checked for two hours: every state has expired
    snap = await take_snapshot(site.config, site.store, later)
    nps = snap.page("nps")
    assert nps is not None
    assert [c.status for c in nps.components] == [None, None, None, None]
    assert (nps.indicator, nps.banner) == ("critical", "major")  # the open T1 incident still counts
    now_snap = await take_snapshot(site.config, site.store, NOW)
    page = now_snap.page("nps")
    assert page is not None and page.component("email") is not None
    assert page.component("email").status is None  # type: ignore[union-attr]
    assert page.component("api").status == "major_outage"  # type: ignore[union-attr]


def _open(impact: str, status: str = "investigating") -> Incident:
    return Incident(id=1, page="nps", title="x", severity="T1", impact=impact,  # type: ignore[arg-type]
                    status=status, started_at=0.0, due_at=1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("statuses", "incidents", "banner"),
    [(["operational", "operational"], [], "operational"),
     (["operational", "under_maintenance"], [], "maintenance"),
     ([None, None], [], "no_data"),
     (["degraded_performance", "operational"], [], "degraded"),
     (["degraded_performance"], [("minor", "investigating")], "minor"),
     (["partial_outage", "operational"], [], "partial"),
     (["major_outage", "operational"], [], "partial"),
     (["major_outage", "major_outage", "under_maintenance"], [], "major"),
     (["operational"], [("critical", "investigating")], "major"),
     (["operational"], [("major", "identified")], "partial"),
     (["operational"], [("none", "investigating")], "operational"),
     (["operational", "operational"], [("critical", "monitoring")], "monitoring"),
     (["degraded_performance"], [("critical", "monitoring")], "degraded"),
     ([None], [("critical", "monitoring")], "no_data")],
    ids=["operational", "maintenance", "no-data", "only-slow", "slow-with-incident", "partial-outage",
         "one-component-down", "all-down", "critical-incident", "major-incident", "no-impact-incident",
         "recovered-and-monitoring", "monitoring-but-slow", "monitoring-without-data"],
)
def test_banner_says_what_is_true_now(statuses: list[str | None], incidents: list[tuple[str, str]],
                                      banner: str) -> None:
    assert banner_kind(statuses, [_open(i, s) for i, s in incidents]) == banner  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ratio", "level"),
    [(None, "none"), (1.0, "ok"), (0.995, "ok"), (0.993, "minor"), (0.99, "minor"), (0.97, "major"),
     (0.95, "major"), (0.9, "critical")],
    ids=["no-data", "perfect", "target", "near", "half-point", "below", "floor", "bad"],
)
def test_bar_colours_against_the_target(ratio: float | None, level: str) -> None:
    assert View(Translator("pt-BR", "UTC"), 0.995).uptime_level(ratio) == level
