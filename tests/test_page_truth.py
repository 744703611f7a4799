"""The public page tells the truth (issue 13), checked in the rendered files and the live server:
figures with their coverage, a banner that says what is true now, plain words, per-status favicons,
automatic incident texts in every locale, self-contained page folders and routing by Host.

What a visitor sees in a real browser is in test_page_browser.py; this module reads what was written.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from statuspage.config import ConfigError, parse_config
from statuspage.durations import human_duration
from statuspage.incidents.messages import PHRASES, auto_text, word
from statuspage.incidents.service import IncidentService
from statuspage.models import AutoText
from statuspage.probe.checks import PushBoard
from statuspage.site import charts
from statuspage.site.i18n import Translator
from statuspage.site.render import render_site
from statuspage.site.snapshot import LatencyCache, take_snapshot
from statuspage.site.view import View
from statuspage.sla.uptime import DAY, WindowUptime
from statuspage.store.sqlite import MIGRATIONS, SQLiteStore
from statuspage.web.metrics import Metrics
from statuspage.web.server import build_app
from tests.site_data import NOW, H, open_fresh, open_populated, site_config
from tests.test_site import API_FILES, _check_component, _check_incident, _check_maintenance, _check_page

ATOM = "{http://www.w3.org/2005/Atom}"
SVG = "{http://www.w3.org/2000/svg}"
NPS_HOST = "nps.status.test"
PT = View(Translator("pt-BR", "America/Sao_Paulo"), 0.995)
EN = View(Translator("en", "America/Sao_Paulo"), 0.995)


@dataclass
class Sites:
    full: Path
    """90 days of data, pt-BR + en, NPS on its own domain."""
    fresh: Path
    """A minute of data, an automatic incident being monitored and one resolved, pt-BR + en."""
    full_ids: dict[str, int]
    fresh_ids: dict[str, int]

    def read(self, rel: str, site: str = "full") -> str:
        return (getattr(self, site) / rel).read_text(encoding="utf-8")

    def json(self, rel: str, site: str = "full") -> Any:
        return json.loads(self.read(rel, site))


async def _build(root: Path) -> Sites:
    config, store, ids = await open_populated(root / "full", locales=["pt-BR", "en"], domains={"nps": [NPS_HOST]})
    try:
        await render_site(config, store, root / "full" / "site", now=NOW)
    finally:
        await store.close()
    fconfig, fstore, fids = await open_fresh(root / "fresh", locales=["pt-BR", "en"])
    try:
        await render_site(fconfig, fstore, root / "fresh" / "site", now=NOW)
    finally:
        await fstore.close()
    return Sites(root / "full" / "site", root / "fresh" / "site", ids, fids)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Sites:
    return asyncio.run(_build(tmp_path_factory.mktemp("truth")))


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _window(length: float, coverage: float, uptime: float | None, maintenance: float = 0.0) -> WindowUptime:
    covered = coverage * length
    downtime = 0.0 if uptime is None else (1 - uptime) * (covered - maintenance)
    return WindowUptime(0.0, length, downtime, covered, maintenance, uptime, coverage)


# --- (1) coverage ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "pt", "en"),
    [(_window(DAY, 1.0, 0.9995), ("99,95 %", ""), ("99.95%", "")),
     (_window(DAY, 0.995, 0.9995), ("99,95 %", ""), ("99.95%", "")),
     (_window(DAY, 0.63, 0.9995), ("99,95 %", "medido em 63 % da janela"), ("99.95%", "measured over 63% of the window")),
     (_window(DAY, 0.05, 1.0), ("100 %", "medido em 5 % da janela"), ("100%", "measured over 5% of the window")),
     (_window(DAY, 0.04, 1.0), ("Dados insuficientes", "apenas 57 min de medição"), ("Not enough data yet", "only 57 min measured")),
     (_window(90 * DAY, 6 / (90 * DAY), 1.0), ("Dados insuficientes", "apenas 6 s de medição"), ("Not enough data yet", "only 6 s measured")),
     (_window(90 * DAY, 10 / 90, 0.999), ("99,90 %", "medido em 11 % da janela"), ("99.90%", "measured over 11% of the window")),
     (_window(DAY, 0.0, None), ("Sem dados", ""), ("No data", "")),
     (_window(DAY, 0.5, None, maintenance=0.5 * DAY), ("Manutenção", ""), ("Maintenance", ""))],
    ids=["full", "nearly-full", "partial", "at-the-minimum", "below-the-minimum", "90d-after-6s", "90d-after-10-days",
         "no-data", "only-maintenance"],
)
def test_every_figure_says_how_much_of_its_window_was_measured(
    window: WindowUptime, pt: tuple[str, str], en: tuple[str, str]
) -> None:
    assert (PT.figure(window).text, PT.figure(window).note) == pt
    assert (EN.figure(window).text, EN.figure(window).note) == en


def test_the_minimum_grows_with_the_window() -> None:
    """5 % of the window: 72 min make a 24-hour figure but not a 90-day one (that needs 4.5 days)."""
    for length, shown in ((DAY, True), (7 * DAY, False), (90 * DAY, False)):
        assert PT.figure(_window(length, 73 * 60 / length, 1.0)).enough is shown
    assert PT.figure(_window(90 * DAY, 4.5 / 90, 1.0)).enough
    assert not PT.figure(_window(90 * DAY, 4.4 / 90, 1.0)).enough


def test_a_90_day_badge_after_six_seconds_does_not_say_100_percent() -> None:
    w = _window(90 * DAY, 6 / (90 * DAY), 1.0)
    assert (PT.badge_message(w), PT.badge_color(w)) == ("dados insuficientes", "lightgrey")
    assert (EN.badge_message(w), EN.badge_color(w)) == ("not enough data", "lightgrey")
    partial = _window(30 * DAY, 1 / 3, 1.0)
    assert (PT.badge_message(partial), EN.badge_message(partial)) == ("100 % (33 % medido)", "100% (33% measured)")


async def test_badges_and_shields_json_in_each_locale_carry_the_coverage(sites: Sites) -> None:
    for folder, expected in (("", {"7d": "100 %", "30d": "100 % (33 % medido)", "90d": "100 % (11 % medido)"}),
                             ("en/", {"7d": "100%", "30d": "100% (33% measured)", "90d": "100% (11% measured)"})):
        for window, message in expected.items():
            data = sites.json(f"cxm/{folder}badges/email/uptime-{window}.json")
            assert data["message"] == message and data["color"] == "brightgreen"
            svg = ET.fromstring(sites.read(f"cxm/{folder}badges/email/uptime-{window}.svg"))
            assert svg.findtext(f"{SVG}title") == f"{data['label']}: {message}"
    # A minute of data: every uptime badge says so, in both locales, never "100 %".
    for folder, text in (("", "dados insuficientes"), ("en/", "not enough data")):
        for window in ("24h", "7d", "30d", "90d"):
            data = sites.json(f"nps/{folder}badges/uptime-{window}.json", "fresh")
            assert (data["message"], data["color"]) == (text, "lightgrey")


async def test_v2_json_keeps_the_raw_figures_with_their_coverage_beside_them(sites: Sites) -> None:
    email = next(c for c in sites.json("cxm/api/v2/components.json")["components"] if c["id"] == "email")
    assert email["uptime"] == {"24h": 1.0, "7d": 1.0, "30d": 1.0, "90d": 1.0}
    assert email["uptime_coverage"] == {"24h": 1.0, "7d": 1.0, "30d": 0.333333, "90d": 0.111111}
    page = sites.json("nps/api/v2/summary.json", "fresh")["page"]
    assert page["uptime"]["90d"] is not None and page["uptime_coverage"]["90d"] < 0.0001


async def test_the_page_shows_not_enough_data_rather_than_a_percentage(sites: Sites) -> None:
    words = _text(sites.read("nps/index.html", "fresh"))
    assert words.count("Dados insuficientes (apenas 1 min de medição)") == 4 + 4 * 2  # tiles, 90/30-day captions
    assert "Ainda não há dados suficientes dos últimos 30 dias para comparar com a meta de 99,5 %." in words
    assert not re.search(r"\d %", words.split("Componentes")[0].split("Disponibilidade")[-1])
    sla = _text(sites.read("sla.html", "fresh"))
    assert "Dados insuficientes" in sla and "Meta cumprida" not in sla and "Meta não cumprida" not in sla


# --- (2) banner ------------------------------------------------------------------------------------


async def test_banner_says_recovered_while_json_keeps_statuspage_semantics(sites: Sites) -> None:
    html = sites.read("nps/index.html", "fresh")
    assert '<div class="banner monitoring" role="status">' in html
    assert "Serviço restabelecido, em observação" in html and "Interrupção grave do sistema" not in html
    assert '<span class="chip status">Monitorando</span>' in html  # the incident card keeps its status
    assert "Service restored, being monitored" in sites.read("nps/en/index.html", "fresh")
    for folder in ("", "en/"):
        status = sites.json(f"nps/{folder}api/v2/status.json", "fresh")["status"]
        assert status == {"indicator": "critical", "description": "Major System Outage"}
        (incident,) = sites.json(f"nps/{folder}api/v2/incidents/unresolved.json", "fresh")["incidents"]
        assert incident["status"] == "monitoring" and incident["impact"] == "critical"
    assert sites.json("nps/badges/status.json", "fresh")["message"] == "restabelecido"
    assert sites.json("nps/en/badges/status.json", "fresh")["message"] == "restored"
    # Still down: the open T1 makes it a major outage, in the banner as in the JSON.
    assert "Interrupção grave do sistema" in sites.read("nps/index.html")
    assert sites.json("nps/api/v2/status.json")["status"]["indicator"] == "critical"


# --- (3) plain words ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", ["nps/index.html", "nps/en/index.html", "cxm/index.html", "index.html", "en/index.html"])
async def test_no_engineers_words_on_the_public_pages(sites: Sites, rel: str) -> None:
    words = _text(sites.read(rel)).lower()
    for jargon in ("orçamento", "error budget", "burn", "p95", "consumo acelerado"):
        assert jargon not in words, (rel, jargon)


async def test_uptime_against_the_target_in_plain_words(sites: Sites) -> None:
    assert ("Nos últimos 30 dias: 99,25 % de disponibilidade, abaixo da meta de 99,5 %. "
            "Tempo fora do ar no período: 5 h 24 min.") in _text(sites.read("nps/index.html"))
    assert ("Over the last 30 days: 99.25% uptime, below the 99.5% target. Time down in that time: 5 h 24 min."
            in _text(sites.read("nps/en/index.html")))
    sla = _text(sites.read("sla.html"))
    assert "Tempo fora do ar no mês" in sla and "a meta permite até" in sla and "rçamento" not in sla


# --- (4) small things ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "rel", "kind"),
    [("full", "nps/index.html", "major"), ("full", "nps/en/incidents/1.html", "major"),
     ("full", "cxm/index.html", "maintenance"), ("full", "index.html", "major"), ("fresh", "nps/index.html", "monitoring"),
     ("fresh", "cxm/index.html", "operational")],
)
async def test_logo_and_favicon_follow_the_page_status(sites: Sites, site: str, rel: str, kind: str) -> None:
    html = sites.read(rel, site)
    assert f'<svg class="brand-mark {kind}"' in html
    href = re.search(r'<link rel="icon" href="([^"]+)"', html)
    assert href is not None and href.group(1).endswith(f"static/favicon-{kind}.svg")
    icon = (getattr(sites, site) / posixpath.dirname(rel) / href.group(1)).resolve()
    assert ET.parse(icon).getroot().tag == f"{SVG}svg"


async def test_automatic_durations_read_as_words_in_both_languages(sites: Sites) -> None:
    rid = sites.fresh_ids["resolved"]
    assert "Resolvido: sem nova falha por 1 min desde a recuperação às 11:15." in sites.read(
        f"cxm/incidents/{rid}.html", "fresh")
    assert "Resolved: no new failure for 1 min since the recovery at 11:15." in sites.read(
        f"cxm/en/incidents/{rid}.html", "fresh")
    assert human_duration(900, "pt-BR") == "15 min" and human_duration(2 * 86400 + 3600, "en") == "2 days 1 h"


async def test_sla_page_has_the_same_container_as_every_other_page(sites: Sites) -> None:
    assert 'class="wide"' not in sites.read("sla.html")
    assert ".wide" not in sites.read("static/style.css")


# --- (5) locales -----------------------------------------------------------------------------------


async def test_every_locale_has_its_pages_json_feed_and_badges(sites: Sites) -> None:
    for folder, lang in (("", "pt-BR"), ("en/", "en")):
        for rel in ("index.html", "sla.html"):
            assert f'<html lang="{lang}">' in sites.read(f"{folder}{rel}")
        for page in ("nps", "cxm"):
            root = f"{page}/{folder}"
            assert f'<html lang="{lang}">' in sites.read(f"{root}index.html")
            docs = {name: sites.json(f"{root}api/v2/{name}") for name in API_FILES}
            for doc in docs.values():
                _check_page(doc["page"])
            for c in docs["components.json"]["components"]:
                _check_component(c)
            for i in docs["incidents.json"]["incidents"]:
                _check_incident(i)
            for m in docs["scheduled-maintenances.json"]["scheduled_maintenances"]:
                _check_maintenance(m)
            feed = ET.fromstring(sites.read(f"{root}feed.atom").encode())
            assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == lang
            titles = [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")]
            assert titles == [i["name"] for i in docs["incidents.json"]["incidents"]]
            for badge in ("status", "uptime-24h", "app/status", "app/uptime-90d"):
                data = sites.json(f"{root}badges/{badge}.json")
                svg = ET.fromstring(sites.read(f"{root}badges/{badge}.svg"))
                assert svg.findtext(f"{SVG}title") == f"{data['label']}: {data['message']}"
    assert sites.json("nps/badges/api/status.json")["message"] == "interrupção grave"
    assert sites.json("nps/en/badges/api/status.json")["message"] == "major outage"


async def test_automatic_incidents_are_worded_in_each_locale(sites: Sites) -> None:
    iid = sites.fresh_ids["monitoring"]
    pt, en = sites.json("nps/api/v2/incidents.json", "fresh"), sites.json("nps/en/api/v2/incidents.json", "fresh")
    (pt_incident,), (en_incident,) = pt["incidents"], en["incidents"]
    assert (pt_incident["name"], en_incident["name"]) == ("Relatórios indisponível", "Relatórios unavailable")
    assert [u["body"] for u in en_incident["incident_updates"]] == [
        "Every affected component recovered at 11:59:30. We are monitoring.",
        "We detected that Relatórios has been unavailable since 11:59:10. We are investigating."]
    assert [u["body"] for u in pt_incident["incident_updates"]] == [
        "Todos os componentes afetados se recuperaram às 11:59:30. Monitorando.",
        "Detectamos que Relatórios está indisponível desde 11:59:10. Estamos investigando."]
    feed = ET.fromstring(sites.read("nps/en/feed.atom", "fresh").encode())
    entry = feed.find(f"{ATOM}entry")
    assert entry is not None and entry.findtext(f"{ATOM}title") == "Relatórios unavailable"
    assert "We are monitoring." in (entry.findtext(f"{ATOM}content") or "")
    html = sites.read(f"nps/en/incidents/{iid}.html", "fresh")
    assert "<h1>Relatórios unavailable</h1>" in html and "We detected that Relatórios" in html
    # People's own words are shown as written, in every locale.
    assert "Lentidão na geração de relatórios" in sites.read("nps/en/index.html")


async def test_the_stored_text_stays_in_the_default_locale_for_notifications(tmp_path: Path) -> None:
    _, store, ids = await open_fresh(tmp_path)
    try:
        incident = await store.get_incident(ids["monitoring"])
    finally:
        await store.close()
    assert incident is not None and incident.title == "Relatórios indisponível"
    assert incident.title_auto == AutoText("title", (("component", "reports"), ("name", "Relatórios")))
    assert incident.updates[-1].message == "Todos os componentes afetados se recuperaram às 11:59:30. Monitorando."
    assert incident.updates[-1].auto is not None and incident.updates[-1].auto.key == "recovered"


async def test_rows_from_before_keys_existed_stay_readable(tmp_path: Path) -> None:
    """A database written by the previous version (schema 2): its texts are shown as stored."""
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db)
    for script in MIGRATIONS[:2]:
        conn.executescript(script)
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO incidents (page, title, severity, impact, status, components, automatic, started_at, "
                 "due_at, created_at, updated_at) VALUES ('nps', 'API indisponível', 'T1', 'critical', "
                 "'investigating', '[\"api\"]', 1, ?, ?, ?, ?)", (NOW - 600, NOW + 3 * H, NOW - 600, NOW - 600))
    conn.execute("INSERT INTO incident_updates (incident_id, status, message, author, at, components) VALUES "
                 "(1, 'investigating', 'Detectamos que API está indisponível desde 11:50:00.', 'statuspage', ?, '[]')",
                 (NOW - 600,))
    conn.commit()
    conn.close()
    store = await SQLiteStore.open(str(db))
    try:
        assert await store.schema_version() == len(MIGRATIONS)
        (old,) = await store.list_incidents()
        assert old.title_auto is None and old.updates[0].auto is None
        config = site_config(tmp_path, locales=["pt-BR", "en"]).model_copy(
            update={"storage": site_config(tmp_path).storage.model_copy(update={"path": str(db)})})
        await render_site(config, store, tmp_path / "site", now=NOW)
    finally:
        await store.close()
    english = (tmp_path / "site" / "nps" / "en" / "incidents" / "1.html").read_text()
    assert "<h1>API indisponível</h1>" in english and "Detectamos que API está indisponível desde 11:50:00." in english


def test_every_automatic_phrase_exists_in_every_locale_with_the_same_values() -> None:
    names = {loc: {k: set(re.findall(r"{(\w+)}", v)) for k, v in phrases.items()} for loc, phrases in PHRASES.items()}
    assert names["pt-BR"] == names["en"]
    auto = auto_text("opened", component="api", name="API", start=NOW)
    assert word(auto, "en", "UTC") == "We detected that API has been unavailable since 15:00. We are investigating."
    assert word(auto, "en", "UTC", {"api": "API v2"}).startswith("We detected that API v2 has")  # type: ignore[union-attr]
    assert word(AutoText("from.a.newer.version"), "en", "UTC") is None  # the stored text is shown instead
    assert word(AutoText("opened", (("name", "API"),)), "en", "UTC") is None  # a value missing: stored text


async def test_a_manual_resolve_without_words_is_worded_in_each_locale(tmp_path: Path) -> None:
    config = site_config(tmp_path, locales=["pt-BR", "en"])
    store = await SQLiteStore.open(config.storage.path)
    try:
        service = IncidentService(store, config, clock=lambda: NOW)
        opened = await service.open_manual("nps", "Painel lento", "T3", ["app"], message="Olhando.")
        resolved = await service.resolve(opened.id)
        assert resolved.updates[-1].message == "Resolvido."
        assert Translator("en", "UTC").auto(resolved.updates[-1].auto) == "Resolved."
    finally:
        await store.close()


# --- (7) every page folder works alone ---------------------------------------------------------------


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.refs.append(value)


def _refs(path: Path) -> list[str]:
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8"))
    return [r for r in parser.refs if not r.startswith(("#", "mailto:", "tel:"))]


async def test_no_relative_link_on_the_site_is_broken(sites: Sites) -> None:
    for site in (sites.full, sites.fresh):
        for html in site.rglob("*.html"):
            if html.name == "404.html":
                continue  # its links start at the host's root (checked below)
            for ref in _refs(html):
                if ref.startswith(("https://", "http://")):
                    continue
                target = (html.parent / ref.split("#")[0]).resolve()
                assert target.is_file(), (html.relative_to(site).as_posix(), ref)


async def test_the_folder_of_a_page_on_its_own_domain_never_links_outside_itself(sites: Sites) -> None:
    folder = sites.full / "nps"
    for html in folder.rglob("*.html"):
        for ref in _refs(html):
            if ref.startswith("https://"):
                assert ref.startswith(("https://status.track.co/", f"https://{NPS_HOST}/")), (html, ref)
                continue
            if html.name == "404.html":
                assert ref.startswith("/") and (folder / ref.lstrip("/")).exists(), ref
                continue
            target = (html.parent / ref.split("#")[0]).resolve()
            assert target.is_relative_to(folder.resolve()) and target.is_file(), (html.relative_to(folder), ref)
    assert (folder / "static" / "style.css").is_file() and (folder / "sla.html").is_file()
    page = sites.read("nps/index.html")
    assert '<a href="https://status.track.co/cxm/">CXM</a>' in page
    assert '<a href="https://status.track.co/">Visão geral</a>' in page
    assert '<link rel="alternate" hreflang="en" href="https://nps.status.test/en/">' in page
    assert '<link rel="alternate" hreflang="x-default" href="https://nps.status.test/">' in page
    assert '<a href="en/index.html" hreflang="en" lang="en">English</a>' in page
    summary = sites.json("nps/en/api/v2/summary.json")
    assert summary["page"]["url"] == "https://nps.status.test/en/"
    assert summary["incidents"][0]["shortlink"].startswith("https://nps.status.test/en/incidents/")
    # Feed ids keep their old form, so readers do not see every entry again.
    feed = ET.fromstring(sites.read("nps/feed.atom").encode())
    assert feed.findtext(f"{ATOM}id") == "https://status.track.co/nps/feed.atom"


# --- (7) the live server routes by Host ----------------------------------------------------------------


@pytest.fixture
async def live(tmp_path: Path, sites: Sites, aiohttp_client: Any) -> Any:
    config = site_config(tmp_path, locales=["pt-BR", "en"], domains={"nps": [NPS_HOST]})
    store = await SQLiteStore.open(config.storage.path)
    app = build_app(config=config, store=store, push_board=PushBoard(lambda: NOW),
                    incidents=IncidentService(store, config, clock=lambda: NOW), site_dir=sites.full,
                    metrics=Metrics(), clock=lambda: NOW)
    client = await aiohttp_client(app)
    yield client
    await store.close()


async def test_a_page_domain_serves_its_page_at_the_root(live: TestClient[Any, Any]) -> None:
    host = {"Host": f"{NPS_HOST}:8080"}
    root = await live.get("/", headers=host)
    assert root.status == 200 and "<h1>NPS</h1>" in await root.text()
    english = await live.get("/en/", headers={"Host": "NPS.Status.Test"})
    assert english.status == 200 and '<html lang="en">' in await english.text()
    summary = await live.get("/api/v2/summary.json", headers=host)
    assert summary.status == 200 and (await summary.json())["page"]["id"] == "nps"
    assert summary.headers["Access-Control-Allow-Origin"] == "*"
    en_status = await live.get("/en/api/v2/status.json", headers=host)
    assert (await en_status.json())["status"]["indicator"] == "critical"
    for path in ("/feed.atom", "/badges/status.svg", "/history.html", "/sla.html", "/incidents/1.html"):
        assert (await live.get(path, headers=host)).status == 200, path
    css = await live.get("/static/style.css", headers=host)
    assert css.status == 200 and css.headers["Cache-Control"] == "public, max-age=3600"
    missing = await live.get("/nope.html", headers=host)
    assert missing.status == 404 and 'href="/static/style.css"' in await missing.text()
    assert (await live.get("/incidents", headers=host, allow_redirects=False)).headers["Location"] == "/incidents/"
    # The engineers' routes stay where they were on every host.
    assert (await live.get("/healthz", headers=host)).status == 200
    assert (await live.post("/api/v2/summary.json", headers=host)).status in (404, 405)


async def test_other_hosts_get_the_whole_site(live: TestClient[Any, Any]) -> None:
    index = await live.get("/", headers={"Host": "status.track.co"})
    assert "<h1>Status dos produtos</h1>" in await index.text()
    assert (await live.get("/nps/api/v2/status.json")).status == 200
    api = await live.get("/api/v2/summary.json")
    assert api.status == 404 and (await api.json())["error"]
    moved = await live.get("/en/nps/history.html", allow_redirects=False)
    assert moved.status == 301 and moved.headers["Location"] == "/nps/en/history.html"
    assert (await live.get("/en/", headers={"Host": "127.0.0.1"})).status == 200


# --- config ------------------------------------------------------------------------------------------

_PAGE = {"slug": "nps", "name": "NPS", "components": [{"slug": "a", "name": "A",
                                                      "monitors": [{"name": "w", "url": "http://127.0.0.1:9/"}]}]}


@pytest.mark.parametrize(
    ("site", "domains", "problem"),
    [({"locales": []}, [], "site: locales is empty"),
     ({"locales": ["fr"]}, [], 'site.locales[0]: "fr" is invalid'),
     ({"locale": "en", "locales": ["pt-BR", "en"]}, [], 'site: locale "en" must be the first of locales'),
     ({"locales": ["en", "en"]}, [], "site: locales lists a locale twice"),
     ({}, ["https://nps.status.track.co/"], 'pages[0].domains[0]: "https://nps.status.track.co/" is not a host name'),
     ({}, ["nps.status.track.co", "NPS.status.track.co"], 'pages[0].domains[1]: "nps.status.track.co" is already'),
     ],
    ids=["empty", "unknown", "default-not-first", "twice", "url-not-host", "duplicate"],
)
def test_locales_and_domains_errors_name_their_key(site: dict[str, Any], domains: list[str], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"site": site, "pages": [{**_PAGE, "domains": domains}]}, env={})
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems


def test_site_locale_alone_is_a_one_locale_list() -> None:
    assert parse_config({"site": {"locale": "en"}, "pages": [_PAGE]}, env={}).site.locales == ("en",)
    both = parse_config({"site": {"locales": ["en", "pt-BR"]}, "pages": [_PAGE]}, env={})
    assert (both.site.locale, both.site.locales) == ("en", ("en", "pt-BR"))


# --- (6) response-time charts --------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "top"), [(0.4, 1.0), (1.0, 1.0), (1.5, 2.0), (168.0, 200.0), (230.0, 250.0),
                                            (450.0, 500.0), (1500.0, 2000.0), (9001.0, 10000.0)])
def test_the_chart_axis_ends_at_a_round_figure(value: float, top: float) -> None:
    assert charts.nice_ceiling(value) == top


def test_a_chart_is_a_step_line_broken_where_there_is_no_data() -> None:
    svg = str(charts.step_chart([(50.0, 100.0), (50.0, 100.0), None, (100.0, 100.0)], 100.0))
    means = re.search(r'class="chart-mean" d="([^"]+)"', svg)
    assert means is not None and means.group(1) == "M0 50.0H10V50.0H20M30 4.0H40"
    assert 'aria-hidden="true"' in svg and "<script" not in svg


async def test_each_component_has_hourly_and_daily_charts_with_a_text_equivalent(sites: Sites) -> None:
    html = sites.read("nps/index.html")
    assert html.count('<svg class="chart-svg"') == 2 * 3  # every component with response times: 24 h and 30 d
    words = _text(html)
    assert "Tempo de resposta (24 h): média 117 ms · 95 % das respostas em até 168 ms" in words
    assert "Tempo de resposta (24 h): média 303 ms · 95 % das respostas em até 2,0 s" in words  # slow reports
    assert "Tempo médio de resposta por hora nas últimas 24 horas" in words
    assert "Tempo médio de resposta por dia nos últimos 30 dias" in words
    assert "Response time (24 h): mean 117 ms · 95% of responses within 168 ms" in _text(sites.read("nps/en/index.html"))


async def test_the_latency_cache_gives_the_same_charts_reading_a_day_instead_of_a_month(tmp_path: Path) -> None:
    config, store, _ = await open_populated(tmp_path)
    reads: list[int] = []
    original = store.latency_hours_of

    async def counting(monitors: Iterable[str], since_hour: int) -> dict[str, list[tuple[int, str]]]:
        reads.append(since_hour)
        return await original(monitors, since_hour)

    store.latency_hours_of = counting  # type: ignore[method-assign]
    try:
        plain = await take_snapshot(config, store, NOW)
        cache = LatencyCache()
        first = await take_snapshot(config, store, NOW, cache)
        reads.clear()
        later = await take_snapshot(config, store, NOW + 600, cache)
        cached_reads = list(reads)
        uncached = await take_snapshot(config, store, NOW + 600)
    finally:
        await store.close()
    assert [c.latency for p in first.pages for c in p.components] == [
        c.latency for p in plain.pages for c in p.components]
    assert [c.latency for p in later.pages for c in p.components] == [
        c.latency for p in uncached.pages for c in p.components]
    assert cached_reads and min(cached_reads) >= int((NOW + 600) // H) - 36  # a day and a half, not 30 days
