"""Every public document is bounded, files are streamed, the admin list is paged (issue 12.4).

Before (bench/amplification_bench.py on main, 1,500 incidents of 3 updates of 5,000 characters):
feed.atom 25.1 MB, the page 2.8 MB, summary.json 5.6 MB; 20 concurrent feed readers took the process
from 63 MB to 934 MB, and GET /api/admin/incidents answered 19.6 MB in one piece.
"""

from __future__ import annotations

import asyncio
import re
import tracemalloc
from pathlib import Path

import pytest
from aiohttp import ClientSession

from statuspage.incidents import service as incident_service
from statuspage.incidents.service import IncidentService
from statuspage.models import Incident, IncidentUpdate
from statuspage.site import bounds
from statuspage.site.render import render_site
from tests.harden_env import served
from tests.server_env import ALICE, NOW

AUTH = {"Authorization": f"Bearer {ALICE}"}


async def many_incidents(store: object, count: int, updates: int = 3, open_every: int = 3,
                         since: float = NOW - 86400 * 5) -> None:
    for n in range(count):
        started = since + n * 60
        ups = tuple(IncidentUpdate(0, 0, "investigating", f"update {u} of incident {n}", started + u, "alice")
                    for u in range(updates))
        await store.create_incident(Incident(  # type: ignore[attr-defined]
            id=0, page="nps", title=f"Incidente {n}", severity="T3", impact="minor",
            status="investigating" if n % open_every == 0 else "resolved", started_at=started,
            due_at=started + 86400, resolved_at=None if n % open_every == 0 else started + 3600,
            created_at=started, updated_at=started + updates, updates=ups))


async def test_public_documents_are_bounded_and_the_history_is_paged(tmp_path: Path) -> None:
    async with served(tmp_path) as server:
        await many_incidents(server.store, 120)
        await many_incidents(server.store, 1, updates=45, since=NOW - 60)  # a long one, the latest
        site = server.site
        await render_site(server.config, server.store, site, NOW)
        feed = (site / "nps/feed.atom").read_text()
        assert feed.count("<entry>") == bounds.FEED_ENTRIES
        assert "update 44 of incident 0" in feed and "update 24 of incident 0" not in feed  # its 20 latest
        page = (site / "nps/index.html").read_text()
        assert page.count('class="incident-card') == bounds.OPEN_ON_PAGE
        assert "And 21 more open incidents" in page  # 41 open, 20 shown
        pages = sorted(p.name for p in (site / "nps").glob("history*.html"))
        assert pages == ["history-2.html", "history-3.html", "history.html"]
        first, last = (site / "nps/history.html").read_text(), (site / "nps/history-3.html").read_text()
        assert first.count('class="incident-summary') == 50 and last.count('class="incident-summary') == 21
        assert 'rel="next" href="history-2.html"' in first and 'rel="prev" href="history-2.html"' in last
        unresolved = (site / "nps/api/v2/incidents/unresolved.json").read_text()
        assert unresolved.count('"shortlink"') == 41 and len(unresolved) < 200_000
        # Fewer incidents later: history pages beyond the last one go.
        for incident in (await server.store.list_incidents())[:80]:
            await server.store._conn.execute("DELETE FROM incident_updates WHERE incident_id = ?", (incident.id,))
            await server.store._conn.execute("DELETE FROM incidents WHERE id = ?", (incident.id,))
        await render_site(server.config, server.store, site, NOW)
        assert sorted(p.name for p in (site / "nps").glob("history*.html")) == ["history.html"]
        assert 'rel="next"' not in (site / "nps/history.html").read_text()


async def test_site_files_are_streamed_not_read_into_memory(tmp_path: Path) -> None:
    async with served(tmp_path) as server, ClientSession() as http:
        (server.site / "nps").mkdir()
        big = server.site / "nps/feed.atom"
        big.write_bytes(b"<feed>" + b"x" * (30 << 20) + b"</feed>")

        async def read() -> int:
            size = 0
            async with http.get(f"{server.url}/nps/feed.atom") as response:
                assert response.status == 200
                async for chunk in response.content.iter_chunked(1 << 20):
                    size += len(chunk)
            return size

        tracemalloc.start()
        try:
            sizes = await asyncio.gather(*(read() for _ in range(20)))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert sizes == [big.stat().st_size] * 20
        # 20 readers of a 30 MB file: the old server held a copy per reader (600 MB); this test's own
        # client chunks are most of what is left.
        assert peak < 40 << 20, peak


async def test_the_admin_incident_list_is_paged_with_a_cursor(tmp_path: Path) -> None:
    async with served(tmp_path) as server, ClientSession() as http:
        server.clock.now = NOW
        await many_incidents(server.store, 120, open_every=1)
        seen: list[str] = []
        url = f"{server.url}/api/admin/incidents?limit=50"
        while True:
            response = await http.get(url, headers=AUTH)
            assert response.status == 200
            body = await response.json()
            assert len(body["incidents"]) <= 50
            seen += [i["id"] for i in body["incidents"]]
            if body["next_cursor"] is None:
                break
            url = f"{server.url}/api/admin/incidents?limit=50&cursor={body['next_cursor']}"
        assert len(seen) == 120 == len(set(seen))
        assert [int(i) for i in seen] == sorted((int(i) for i in seen), reverse=True)  # newest first
        default = await (await http.get(f"{server.url}/api/admin/incidents", headers=AUTH)).json()
        assert len(default["incidents"]) == 50
        for query, field in (("limit=0", "limit"), ("limit=201", "limit"), ("cursor=%25%25", "cursor"),
                             ("cursor=bmFuOjE", "cursor")):
            bad = await http.get(f"{server.url}/api/admin/incidents?{query}", headers=AUTH)
            assert bad.status == 400 and (await bad.json())["field"] == field, query


async def test_an_incident_takes_a_bounded_number_of_updates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(incident_service, "MAX_UPDATES", 4)
    async with served(tmp_path) as server, ClientSession() as http:
        created = await http.post(f"{server.url}/api/admin/incidents", headers=AUTH, json={
            "page": "nps", "title": "Lento", "severity": "T3", "message": "olhando"})
        iid = (await created.json())["id"]
        statuses = []
        for n in range(4):
            response = await http.post(f"{server.url}/api/admin/incidents/{iid}/updates", headers=AUTH,
                                       json={"status": "identified", "message": f"passo {n}"})
            statuses.append(response.status)
        assert statuses == [201, 201, 201, 409]
        assert re.search(r"already has 4 updates", (await response.json())["error"])
        resolved = await http.post(f"{server.url}/api/admin/incidents/{iid}/resolve", headers=AUTH)
        assert resolved.status == 200  # resolving is always possible
    assert isinstance(IncidentService, type)
