"""Incremental rendering (issue 17): the render worker keeps settled response-time hours and days and
the state runs of monitors not checked since its last render, and re-reads only the rest. Through a
scripted sequence of changes (checks, an outage confirmed with backdating, an incident and its
updates, a maintenance window, hours and a day passing, a recovery) every file of the incrementally
rendered site, in both locales, is byte for byte what a full render of the same database at the same
instant writes into an empty folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from statuspage.config import Config
from statuspage.models import CheckResult, Incident, IncidentUpdate, Maintenance
from statuspage.probe.checks import Checker
from statuspage.probe.scheduler import Prober
from statuspage.site.metrics import SnapshotMetrics
from statuspage.site.render import environment, render_site
from statuspage.site.runtime import render_config
from statuspage.site.snapshot import LatencyCache, RunCache
from statuspage.site.worker import _render
from statuspage.store.sqlite import SQLiteStore
from tests.site_data import NOW, H, open_populated

HTTP = ("nps/app/web", "nps/app/login", "nps/api/health", "nps/reports/reports", "cxm/app/web", "cxm/api/health",
        "cxm/reports/reports", "cxm/email/sender")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


class Script:
    """The running process's writes (Prober.record → flush; incidents and maintenance through the
    store) and the worker's incremental renders, compared with full renders after each step."""

    def __init__(self, config: Config, store: SQLiteStore, tmp: Path) -> None:
        self.config, self.store, self.tmp = config, store, tmp
        # What the worker process holds: monitors cut down to what a render reads (site/runtime.py).
        self.worker_config = render_config(config)
        self.prober = Prober(config, store, Checker())  # never checks: results are fed to record()
        self.latency, self.runs = LatencyCache(), RunCache()
        self.metrics = SnapshotMetrics()
        self.renders = 0

    async def check(self, at: float, outcome: str = "up", keys: tuple[str, ...] = HTTP,
                    latency: float = 95.0, cert: tuple[float, str] | None = None) -> None:
        for i, key in enumerate(keys):
            started = at + i * 0.5
            if outcome == "down":
                result = CheckResult(key, started, "down", None, None, "connect", "connection refused",
                                     ended_at=started + 0.01)
            else:
                result = CheckResult(key, started, outcome, latency + i, 200, None, "HTTP 200",  # type: ignore[arg-type]
                                     ended_at=started + latency / 1000, cert_expires_at=cert and cert[0],
                                     cert_host=cert and cert[1])
            self.prober.record(result)
        await self.store.flush()

    async def render_and_compare(self, now: float) -> int:
        """Render incrementally (the worker's own function and caches) and fully; return files written."""
        done = await _render(self.worker_config, environment(), self.metrics, now, self.latency, self.runs)
        self.renders += 1
        full_dir = self.tmp / f"full-{self.renders}"
        full = await render_site(self.config, self.store, full_dir, now=now)
        incremental, expected = _tree(Path(self.config.site.output_dir)), _tree(full_dir)
        assert sorted(incremental) == sorted(expected), f"render {self.renders}: other files"
        different = [name for name in expected if incremental[name] != expected[name]]
        assert not different, f"render {self.renders} at {now}: {different[:5]} differ"
        assert full.snapshot is not None
        metrics = SnapshotMetrics()
        metrics.update_from_snapshot(full.snapshot)
        assert done.metrics == metrics.render()
        return done.written


async def test_an_incremental_render_is_byte_identical_to_a_full_one_through_a_scripted_day(tmp_path: Path) -> None:
    config, store, ids = await open_populated(tmp_path, locales=["pt-BR", "en"])
    try:
        script = Script(config, store, tmp_path)
        await script.prober.load()
        now = NOW
        assert await script.render_and_compare(now) > 100  # the first render writes everything
        # Ordinary checks every 30 s, renders between them (the worker reuses runs of unchecked monitors).
        for step in range(1, 5):
            await script.check(now + step * 30.0, keys=HTTP[: 2 + step])
            await script.render_and_compare(now + step * 30.0 + 1.0)
        # Certificates about to expire: the monitor's own host (named plainly) and another one met on a
        # redirect (named with its host): the worker's view of a monitor keeps its URL's host.
        await script.check(now + 140.0, keys=HTTP[:1], cert=(now + 3 * 86400.0, "127.0.0.1"))
        await script.check(now + 141.0, keys=HTTP[4:5], cert=(now + 5 * 86400.0, "cdn.example.net"))
        assert await script.render_and_compare(now + 142.0) > 0
        site = Path(config.site.output_dir)
        nps, cxm = (site / "nps" / "index.html").read_text(), (site / "cxm" / "index.html").read_text()
        assert "cert-warning" in nps and "(127.0.0.1)" not in nps and "web (cdn.example.net)" in cxm
        now += 150.0
        # An outage: two failed checks confirm it, backdated to the first (rewriting a run already read).
        await script.check(now, "down", keys=("cxm/api/health",))
        await script.render_and_compare(now + 1.0)
        await script.check(now + 30.0, "down", keys=("cxm/api/health",))
        await script.check(now + 30.0, "degraded", keys=("nps/app/web",), latency=2500.0)
        await script.render_and_compare(now + 31.0)
        # An incident and an update, a maintenance window announced.
        opened = await store.create_incident(Incident(
            id=0, page="cxm", title="API fora do ar", severity="T1", impact="major", status="investigating",
            started_at=now, due_at=now + 4 * H, components=("api",), created_at=now + 31.0,
            updated_at=now + 31.0,
            updates=(IncidentUpdate(0, 0, "investigating", "Investigando.", now + 31.0, "alice"),)))
        await script.render_and_compare(now + 32.0)
        await store.save_incident(replace(opened, status="identified", updated_at=now + 60.0),
                                  [IncidentUpdate(0, opened.id, "identified", "Banco cheio.", now + 60.0, "bob")])
        await store.add_maintenance(Maintenance(
            id=0, page="nps", title="Janela do banco", start=now + 2 * H, end=now + 3 * H, components=("api",),
            message="Manutenção programada.", created_at=now + 61.0, created_by="alice"))
        await script.render_and_compare(now + 62.0)
        # Hours pass (settled hours and days move into the caches), then the recovery.
        for hours in (1, 2, 3, 5):
            at = now + hours * H
            await script.check(at, keys=HTTP[:-2])
            await script.check(at + 5.0, "down", keys=("cxm/api/health",))
            await script.render_and_compare(at + 10.0)
        now += 5 * H + 60.0
        await script.check(now)
        await script.check(now + 30.0)
        await script.render_and_compare(now + 31.0)
        await store.cancel_maintenance(ids["active"])
        # Across the site's midnight (São Paulo) and into the next day: the daily bars and charts move.
        for at in (NOW + 12 * H + 30.0, NOW + 13 * H, NOW + 15 * H + 10.0):
            await script.check(at)
            await script.render_and_compare(at + 1.0)
        # Time alone moves the windows: nothing written, two renders a minute apart.
        await script.render_and_compare(NOW + 15 * H + 70.0)
    finally:
        await store.close()
    assert script.renders == 19
