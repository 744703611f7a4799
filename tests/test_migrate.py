"""`statuspage migrate`: a SQLite history copied into PostgreSQL renders the very same site."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner

from statuspage.cli.commands import cli
from statuspage.config import Storage, parse_config
from statuspage.models import CheckResult, Maintenance, MonitorState
from statuspage.site.render import render_site
from statuspage.store import Notice, OutboxRow, open_store
from statuspage.support.service import SupportService
from tests.pg import PgCluster
from tests.site_data import NOW, open_populated
from tests.support_data import EVENTS as CASE_EVENTS
from tests.support_data import NOW as CASES_NOW
from tests.support_data import config_data


def _json_files(root: Path) -> dict[str, object]:
    return {str(p.relative_to(root)): json.loads(p.read_text()) for p in sorted(root.rglob("*.json"))}


async def test_migrated_history_renders_identical_json_and_a_second_copy_is_refused(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    config, lite, _ = await open_populated(tmp_path)
    # A week of raw results, a pending notification and a heartbeat beside the runs and incidents.
    key = next(iter(m.key for _, _, m in config.monitors()))
    for n in range(7 * 24 * 12):
        lite.buffer_check(CheckResult(key, NOW - 7 * 86400 + n * 300, "up", 40.0, 200), MonitorState(), [])
    lite.buffer_push(key, NOW - 10, "up", "ok")
    lite.buffer_outbox(OutboxRow("d1", "webhook:abc", "incident.created", "{}", NOW - 5))
    await lite.flush()
    # A month of support cases (their events, figures, one alert sent) and the automatic incidents'
    # phrase keys come along too.
    cases = SupportService(lite, parse_config(config_data("unused.sqlite"), env={}), clock=lambda: CASES_NOW)
    for event in CASE_EVENTS:
        await cases.ingest([event])
    await lite.record_case_alerts([("c6", "first_response.breached", CASES_NOW)])
    await lite.set_support_meta("fingerprint", "f")
    incidents = await lite.list_incidents()
    assert any(i.title_auto is not None for i in incidents)
    support = (await lite.support_totals("2026-10", CASES_NOW), await lite.list_cases(limit=100),
               await lite.case_events("e1"))
    n_results = await lite.count_results()
    before = await render_site(config, lite, tmp_path / "before", now=NOW)
    assert before.written
    await lite.close()

    url = pg_cluster.url(pg_cluster.create_database())
    runner = CliRunner()
    done = await asyncio.to_thread(runner.invoke, cli, ["migrate", "--from", config.storage.path, "--to", url])
    assert done.exit_code == 0, done.output
    assert f"results={n_results}" in done.output and "outbox=1" in done.output and pg_cluster.password not in done.output

    pg_config = config.model_copy(update={"storage": Storage(url=url)})
    store = await open_store(pg_config.storage)
    try:
        await render_site(pg_config, store, tmp_path / "after", now=NOW)
        assert await store.count_results() == n_results
        assert await store.list_incidents() == incidents
        assert (await store.support_totals("2026-10", CASES_NOW), await store.list_cases(limit=100),
                await store.case_events("e1")) == support
        assert await store.case_alerts_sent(["c6"]) == {("c6", "first_response.breached")}
        assert await store.support_meta("fingerprint") == "f"
        assert [p.monitor for p in await store.pushes()] == [key]
        # Ids continue after the copied ones.
        assert await store.last_run_id() > max(r.id for r in await store.runs([key], 0, NOW + 1))
    finally:
        await store.close()
    before_json, after_json = _json_files(tmp_path / "before"), _json_files(tmp_path / "after")
    assert len(before_json) > 20 and before_json == after_json
    for page in ("nps", "cxm"):
        assert (tmp_path / "before" / page / "index.html").read_text() == \
            (tmp_path / "after" / page / "index.html").read_text()

    again = await asyncio.to_thread(runner.invoke, cli, ["migrate", "--from", config.storage.path, "--to", url])
    assert again.exit_code == 1
    assert "already holds a history" in again.output and "refusing to copy again" in again.output
    assert pg_cluster.password not in again.output


def test_migrate_into_an_unreachable_database_is_one_clear_line(tmp_path: Path, pg_cluster: PgCluster) -> None:
    (tmp_path / "db.sqlite").write_bytes(b"")
    wrong = pg_cluster.url(password="not-the-password")
    done = CliRunner().invoke(cli, ["migrate", "--from", str(tmp_path / "db.sqlite"), "--to", wrong])
    assert done.exit_code == 1
    assert "password authentication failed" in done.output and "not-the-password" not in done.output
    assert "Traceback" not in done.output


async def test_subscriptions_and_recurring_maintenance_are_copied_and_links_keep_working(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    lite = await open_store(Storage(path=str(tmp_path / "db.sqlite")))
    weekly = await lite.add_maintenance(Maintenance(
        0, "nps", "Backup", NOW, NOW + 3600, ("app",), "", NOW - 60, "alice", rrule="FREQ=WEEKLY",
        timezone="America/Sao_Paulo"))
    await lite.cancel_maintenance((await lite.add_maintenance(
        Maintenance(0, "nps", "Once", NOW, NOW + 60, (), "", NOW - 60, "bob"))).id, NOW - 30)
    await lite.record_maintenance_notices([(weekly.id, 0.0, "scheduled"), (weekly.id, NOW, "started")], NOW)
    assert await lite.subscription_secret("the-source-key") == "the-source-key"
    for n, email in enumerate(("ana@x.test", "bia@x.test", "cai@x.test")):
        await lite.request_subscription(email, "nps", ("app",) if n == 1 else (), "en", f"{n}" * 32, NOW, NOW + 86400)
    for job in (await lite.due_mail(NOW, 100))[:2]:
        assert await lite.confirm_subscriber(job.subscriber.id, job.subscriber.salt, NOW + 1)
        await lite.mail_done([job.id])
    assert await lite.publish_notice(Notice("incident:d1", "nps", "incident.created", "{}"), NOW + 2) == 2
    await lite.mail_retry([((await lite.due_mail(NOW + 2, 100))[-1].id, NOW + 90)])
    ids = [j.subscriber.id for j in await lite.due_mail(NOW + 100, 100)]
    source = (await lite.due_mail(NOW + 100, 100), await lite.mail_queued(), await lite.subscriber_counts(),
              [await lite.get_subscriber(i) for i in ids],
              await lite.list_maintenances(include_cancelled=True),
              await lite.maintenance_notices_sent([weekly.id]))
    await lite.close()

    url = pg_cluster.url(pg_cluster.create_database())
    target = await open_store(Storage(url=url))  # a target that started once made a link key of its own
    assert await target.subscription_secret("the-target-key") == "the-target-key"
    await target.close()
    done = await asyncio.to_thread(CliRunner().invoke, cli, ["migrate", "--from", str(tmp_path / "db.sqlite"),
                                                              "--to", url])
    assert done.exit_code == 0, done.output
    assert "subscribers=3" in done.output and "subscription_deliveries=3" in done.output

    pg = await open_store(Storage(url=url))
    try:
        assert (await pg.due_mail(NOW + 100, 100), await pg.mail_queued(), await pg.subscriber_counts(),
                [await pg.get_subscriber(i) for i in ids],
                await pg.list_maintenances(include_cancelled=True),
                await pg.maintenance_notices_sent([weekly.id])) == source
        # Links already mailed are signed with the source's key; a notice told is not told again;
        # new rows take ids after the copied ones.
        assert await pg.subscription_secret("another") == "the-source-key"
        assert await pg.publish_notice(Notice("incident:d1", "nps", "incident.created", "{}"), NOW + 200) == 0
        assert await pg.request_subscription("dan@x.test", "nps", (), "en", "d" * 32, NOW, NOW + 86400) == "confirm"
        assert max(j.subscriber.id for j in await pg.due_mail(NOW + 100, 100)) == max(ids) + 1
        assert (await pg.add_maintenance(Maintenance(0, "nps", "New", NOW, NOW + 60))).id == weekly.id + 2
    finally:
        await pg.close()
