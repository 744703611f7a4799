"""Injection payloads through every text field a user or config controls end up as inert text in
every output: all HTML pages, Atom, SVG, JSON, and the CLI."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from statuspage.cli.commands import cli
from statuspage.config import Config, parse_config
from statuspage.incidents.service import IncidentService
from statuspage.site.render import render_site
from statuspage.store.sqlite import SQLiteStore
from tests.conftest import write_config

NOW = 1_795_000_000.0
PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "attr": '"><img src=x onerror=alert(1)>',
    "cdata": "]]></title><x>",
    "template": "{{7*7}} {% raw %}",
    "sql": "'; DROP TABLE incidents; --",
    "bidi": "abc\u202edef",
}


class Tags(HTMLParser):
    """Collects element names and event-handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # embed.html previews the site's own badges; any other image is an injection.
        if not (tag == "img" and (dict(attrs).get("src") or "").startswith("badges/")):
            self.tags.add(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


def hostile_config(tmp_path: Path, p: str) -> dict[str, object]:
    return {
        "site": {"title": f"Status {p}", "output_dir": str(tmp_path / "site"),
                 "contact": {"email": f"help{p}@track.test", "phone": p}},
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "pages": [{"slug": "nps", "name": f"NPS {p}", "description": p, "components": [
            {"slug": "app", "name": f"App {p}", "description": p,
             "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}],
    }


@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
async def test_payload_in_every_field_is_inert_everywhere(tmp_path: Path, payload: str) -> None:
    config: Config = parse_config(hostile_config(tmp_path, payload), env={})
    store = await SQLiteStore.open(tmp_path / "db.sqlite")
    svc = IncidentService(store, config, clock=lambda: NOW)
    incident = await svc.open_manual("nps", f"Title {payload}", "T2", ["app"], message=f"Msg {payload}",
                                     author=f"eng {payload}")
    await svc.acknowledge(incident.id, f"ack {payload}")
    await svc.post_update(incident.id, "identified", f"Update {payload}", f"by {payload}")
    await svc.set_postmortem(incident.id, f"Postmortem {payload}")
    await svc.add_maintenance("nps", f"Maint {payload}", NOW + 60, NOW + 3600, ["app"], f"Why {payload}")
    await render_site(config, store, now=NOW + 120)
    assert len(await store.list_incidents()) == 1, "the SQL payload is data, not SQL"
    await store.close()

    out = tmp_path / "site"
    for path in out.rglob("*.html"):
        parser = Tags()
        parser.feed(path.read_text())
        assert not {"script", "img", "x"} & parser.tags, path
        assert not parser.handlers, path
        assert "<script>alert" not in path.read_text(), path
    for path in [*out.rglob("*.atom"), *out.rglob("*.svg")]:
        root = ET.parse(path).getroot()  # well-formed whatever the payload
        assert not [el for el in root.iter() if el.tag.endswith("}x") or el.tag == "x"], path
    feed = ET.parse(out / "nps" / "feed.atom").getroot()
    titles = [el.text for el in feed.iter("{http://www.w3.org/2005/Atom}title")]
    assert f"Title {payload}" in titles
    incidents = json.loads((out / "nps/api/v2/incidents.json").read_text())["incidents"]
    assert incidents[0]["name"] == f"Title {payload}"
    assert incidents[0]["acknowledged_by"] == f"ack {payload}"
    assert {u["body"] for u in incidents[0]["incident_updates"]} == {f"Msg {payload}", f"Update {payload}"}
    maint = json.loads((out / "nps/api/v2/scheduled-maintenances.json").read_text())["scheduled_maintenances"]
    assert maint[0]["name"] == f"Maint {payload}"
    summary = json.loads((out / "nps/api/v2/summary.json").read_text())
    assert summary["page"]["name"] == f"NPS {payload}" and summary["components"][0]["name"] == f"App {payload}"
    badge = json.loads((out / "nps/badges/app/status.json").read_text())
    assert badge["label"] == f"App {payload}"

    # The CLI prints the same text plainly (and its JSON round-trips it).
    cfg = write_config(tmp_path / "config.yaml", hostile_config(tmp_path, payload))
    listed = await asyncio.to_thread(CliRunner().invoke, cli, ["incident", "list", "--config", str(cfg), "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)[0]["title"] == f"Title {payload}"
