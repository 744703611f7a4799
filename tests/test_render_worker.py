"""The render worker: a child process renders exactly what an in-process render does, reads the
database without being able to write it, survives its own death, and never outlives a killed parent."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from statuspage.models import CheckResult, Incident, MonitorState
from statuspage.site.metrics import SnapshotMetrics
from statuspage.site.render import render_site
from statuspage.site.worker import RenderError, RenderWorker
from statuspage.store.sqlite import SQLiteStore
from tests.conftest import Process, write_config
from tests.site_data import NOW, open_populated


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


async def test_worker_renders_what_an_in_process_render_does(tmp_path: Path) -> None:
    config, store, _ = await open_populated(tmp_path)
    try:
        local = await render_site(config, store, tmp_path / "local", now=NOW)
        assert local.snapshot is not None
        expected_metrics = SnapshotMetrics()
        expected_metrics.update_from_snapshot(local.snapshot)
        worker = RenderWorker(config)
        try:
            first = await worker.render(NOW)
            again = await worker.render(NOW)
        finally:
            await worker.close()
    finally:
        await store.close()
    site = _tree(Path(config.site.output_dir))
    assert len(site) > 40 and site == _tree(tmp_path / "local")
    assert first.written == len(site) and (again.written, again.unchanged) == (0, len(site))
    assert first.metrics == expected_metrics.render()
    assert b'statuspage_uptime_ratio{page="nps",component="api",window="30d"}' in first.metrics


async def test_a_dead_worker_is_replaced_and_a_failed_render_is_reported(tmp_path: Path) -> None:
    config, store, _ = await open_populated(tmp_path)
    await store.close()
    worker = RenderWorker(config)
    try:
        await worker.render(NOW)
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        with pytest.raises(RenderError, match="died"):
            await worker.render(NOW)
        again = await worker.render(NOW)
        Path(config.storage.path).rename(tmp_path / "moved.sqlite")
        with pytest.raises(RenderError, match="does not exist"):
            await worker.render(NOW)
    finally:
        await worker.close()
    assert again.unchanged > 40


async def test_the_readonly_store_cannot_write(tmp_path: Path) -> None:
    config, store, _ = await open_populated(tmp_path)
    await store.close()
    reader = await SQLiteStore.open_readonly(config.storage.path)
    try:
        assert await reader.list_incidents(page="nps")
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await reader.create_incident(Incident(id=0, page="nps", title="x", severity="T3", impact="minor",
                                                  status="investigating", started_at=NOW, due_at=NOW))
    finally:
        await reader.close()
    with pytest.raises(FileNotFoundError):
        await SQLiteStore.open_readonly(tmp_path / "missing.sqlite")


async def test_a_read_transaction_sees_one_commit_while_the_writer_goes_on(tmp_path: Path) -> None:
    writer = await SQLiteStore.open(tmp_path / "db.sqlite")
    await writer.register_monitors(["nps/app/web"])
    writer.buffer_check(CheckResult("nps/app/web", NOW, "up", 10.0), MonitorState())
    await writer.flush()
    reader = await SQLiteStore.open_readonly(tmp_path / "db.sqlite")
    try:
        async with reader.read_transaction():
            assert await reader.count_results() == 1
            writer.buffer_check(CheckResult("nps/app/web", NOW + 1, "up", 10.0), MonitorState())
            assert await writer.flush() == 2  # committed while the reader is inside its transaction
            assert await reader.count_results() == 1
        assert await reader.count_results() == 2
    finally:
        await reader.close()
        await writer.close()


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


async def test_the_worker_exits_when_the_process_is_killed(tmp_path: Path, spawn: Callable[..., Process]) -> None:
    cfg = write_config(tmp_path / "config.yaml", {
        "site": {"output_dir": str(tmp_path / "site"), "base_url": "http://status.test"},
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "defaults": {"interval": "1s", "timeout": "1s"},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "App", "monitors": [{"name": "app", "url": "http://127.0.0.1:9/"}]}]}],
    })
    proc = spawn("run", "--no-serve", "--config", str(cfg))
    for _ in range(300):
        if (tmp_path / "site" / "index.html").exists():
            break
        await asyncio.sleep(0.1)
    children = _children(proc.proc.pid)
    assert children, proc.output()
    proc.stop(signal.SIGKILL)
    for _ in range(100):
        if not any(_alive(c) for c in children):
            break
        await asyncio.sleep(0.1)
    assert not any(_alive(c) for c in children), "no orphan outlives a killed statuspage"


async def test_the_worker_gets_monitors_as_the_few_fields_a_render_reads(tmp_path: Path) -> None:
    """What the parent sends: every page and component as configured, each monitor a MonitorSpec with
    the values of its Monitor (certificate host included); the parent's own config is untouched."""
    import pickle

    from statuspage.site.runtime import MonitorSpec, render_config

    config, store, _ = await open_populated(tmp_path)
    await store.close()
    sent = render_config(config)
    assert sent.site == config.site and sent.sla == config.sla and sent.storage == config.storage
    for page, mine in zip(config.pages, sent.pages, strict=True):
        assert (mine.slug, mine.name, [c.slug for c in mine.components]) == (
            page.slug, page.name, [c.slug for c in page.components])
        for comp, copied in zip(page.components, mine.components, strict=True):
            for mon, spec in zip(comp.monitors, copied.monitors, strict=True):
                assert isinstance(spec, MonitorSpec) and not isinstance(mon, MonitorSpec)
                assert (spec.key, spec.name, spec.type, spec.interval_s, spec.timeout_s, spec.cert_warn_days) == (
                    mon.key, mon.name, mon.type, mon.interval_s, mon.timeout_s, mon.cert_warn_days)
                assert spec.url_host == ("127.0.0.1" if mon.url else None)
    assert len(pickle.dumps(sent)) < len(pickle.dumps(config))
