"""The scripted month on the public surfaces: sla.html in both locales, support.json at the root and
per page, and the /metrics gauges — aggregates only, "—" / null below five cases."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from statuspage.config import Config, parse_config
from statuspage.site.metrics import SnapshotMetrics
from statuspage.site.render import render_site
from statuspage.site.snapshot import take_snapshot
from statuspage.store import SQLiteStore
from statuspage.support.service import SupportService
from tests.support_data import EVENTS, NOW, config_data


@pytest.fixture
async def month(tmp_path: Path) -> AsyncIterator[tuple[Config, SQLiteStore]]:
    config = parse_config(config_data(str(tmp_path / "db.sqlite")), env={})
    store = await SQLiteStore.open(config.storage.path)
    service = SupportService(store, config, clock=lambda: NOW)
    for event in EVENTS:
        await service.ingest([event])
    yield config, store
    await store.close()


async def test_sla_page_publishes_the_measured_month(month: tuple[Config, SQLiteStore], tmp_path: Path) -> None:
    config, store = month
    await render_site(config, store, tmp_path / "out", now=NOW)
    html = (tmp_path / "out/sla.html").read_text()
    section = html[html.index("Atendimento medido"):]
    assert "novembro de 2026" in section and "outubro de 2026" in section and "setembro de 2026" in section
    first = section[:section.index("outubro de 2026")]
    # chat: 6 cases, 66 % in time, mean 154 s, median 150 s; WhatsApp meets its 3 min average
    assert "<td>6</td><td>66 %</td>" in first and "<td>5</td><td>80 %</td>" in first
    assert "9 h 6 min" in first and "17 h 48 min" in first   # e-mail mean; triage mean
    assert "10 h 48 min" in first                             # T2 mean time to resolve
    assert "seg–sex 08:00–18:00" in html and "24 horas, todos os dias" in html
    assert first.count("—") > 10                              # phone and the thin cells are withheld


async def test_the_english_site_says_the_same(month: tuple[Config, SQLiteStore], tmp_path: Path) -> None:
    config, store = month
    english = config.model_copy(update={"site": config.site.model_copy(update={"locale": "en", "locales": ("en",)})})
    await render_site(english, store, tmp_path / "out", now=NOW)
    html = (tmp_path / "out/sla.html").read_text()
    assert "Support, as measured" in html and "November 2026" in html and "Mon–Fri 08:00–18:00" in html
    assert "66%" in html and "Answered within target" in html


async def test_support_json_at_the_root_and_per_page(month: tuple[Config, SQLiteStore], tmp_path: Path) -> None:
    config, store = month
    await render_site(config, store, tmp_path / "out", now=NOW)
    root = json.loads((tmp_path / "out/api/v2/support.json").read_text())
    assert root["page"] is None and root["min_cases"] == 5 and len(root["months"]) == 12
    november = root["months"][0]
    assert november["month"] == "2026-11"
    chat = november["channels"][0]
    assert chat == {"channel": "chat", "cases": 6, "within_target_share": 4 / 6, "first_response_mean_s": 154.0,
                    "first_response_median_s": 150.0, "first_response_limit_s": 240.0,
                    "published_average_s": 180.0, "average_met": True}
    assert november["channels"][3]["cases"] is None  # phone: two cases
    assert november["triage"] == {"cases": 5, "mean_s": 64092.0, "target_average_s": 172800.0, "met": True}
    assert root["targets"]["channels"]["email"]["business_hours"] == "Mon–Fri 08:00–18:00"
    cxm = json.loads((tmp_path / "out/cxm/api/v2/support.json").read_text())
    assert cxm["page"] == {"id": "cxm", "name": "CXM"}
    assert all(c["cases"] is None for c in cxm["months"][0]["channels"])  # c5, c6, w5, e5: thin everywhere


async def test_metrics_export_the_month_as_gauges(month: tuple[Config, SQLiteStore]) -> None:
    config, store = month
    metrics = SnapshotMetrics()
    metrics.update_from_snapshot(await take_snapshot(config, store, NOW))
    text = metrics.render().decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(text) for s in f.samples if s.name.startswith("statuspage_support")}
    assert samples[("statuspage_support_cases", (("channel", "chat"),))] == 6
    assert samples[("statuspage_support_first_response_median_seconds", (("channel", "whatsapp"),))] == 180
    assert samples[("statuspage_support_resolution_within_ratio", (("severity", "T2"),))] == 0.8
    assert samples[("statuspage_support_triage_mean_seconds", ())] == 64092
    assert ("statuspage_support_cases", (("channel", "phone"),)) not in samples
    assert samples[("statuspage_support_open_cases", (("channel", "chat"),))] == 5  # c3–c6 and October's o1
    assert samples[("statuspage_support_overdue_cases", (("channel", "chat"), ("clock", "first_response")))] == 1
    assert samples[("statuspage_support_overdue_cases", (("channel", "email"), ("clock", "resolution")))] == 1


async def test_without_a_support_section_nothing_about_support_is_published(tmp_path: Path) -> None:
    data = config_data(str(tmp_path / "db.sqlite"))
    del data["support"]
    config = parse_config(data, env={})
    store = await SQLiteStore.open(config.storage.path)
    try:
        await render_site(config, store, tmp_path / "out", now=NOW)
    finally:
        await store.close()
    assert not (tmp_path / "out/api/v2/support.json").exists()
    assert "Atendimento" not in (tmp_path / "out/sla.html").read_text()
