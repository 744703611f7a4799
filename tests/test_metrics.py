"""Prometheus metrics: DESIGN names and labels, enum gauges, no-data series, exposition that parses."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from statuspage.config import parse_config
from statuspage.models import CheckResult, Incident, MonitorState, Outcome, RunRow
from statuspage.probe.scheduler import CheckEvent
from statuspage.site.snapshot import take_snapshot
from statuspage.store.sqlite import SQLiteStore
from statuspage.web.metrics import Metrics

DESIGN_NAMES = {
    "statuspage_checks",  # the parser strips _total from counter family names
    "statuspage_check_duration_seconds",
    "statuspage_schedule_lag_seconds",
    "statuspage_component_status",
    "statuspage_uptime_ratio",
    "statuspage_error_budget_remaining_seconds",
}


def event(key: str, outcome: Outcome, *, duration: float = 0.12, lag: float = 0.003,
          confirmed: str = "up") -> CheckEvent:
    state = MonitorState(confirmed="down" if confirmed == "down" else "up")
    return CheckEvent(CheckResult(key, 1000.0, outcome, 12.0), state, None, lag, duration)


def samples(m: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(m.render().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(m: Metrics, name: str, **labels: str) -> float | None:
    return samples(m).get((name, tuple(sorted(labels.items()))))


def test_exposition_parses_and_has_the_design_names() -> None:
    m = Metrics()
    m.observe_check(event("nps/app/web", "up"))
    m.snapshot.set_component_status("nps", "app", "operational")
    m.snapshot.set_uptime("nps", "app", {"24h": 1.0})
    m.snapshot.set_budget("nps", "app", 12960.0)
    families = {f.name for f in text_string_to_metric_families(m.render().decode())}
    assert families >= DESIGN_NAMES


def test_checks_are_counted_per_monitor_and_outcome() -> None:
    m = Metrics()
    for outcome in ("up", "up", "down", "degraded"):
        m.observe_check(event("nps/app/web", outcome))  # type: ignore[arg-type]
    m.observe_check(event("cxm/api/health", "up"))
    labels = {"page": "nps", "component": "app", "monitor": "web"}
    assert value(m, "statuspage_checks_total", **labels, outcome="up") == 2
    assert value(m, "statuspage_checks_total", **labels, outcome="down") == 1
    assert value(m, "statuspage_checks_total", **labels, outcome="degraded") == 1
    assert value(m, "statuspage_checks_total", page="cxm", component="api", monitor="health", outcome="up") == 1


def test_durations_are_per_page_and_lag_has_millisecond_to_ten_second_buckets() -> None:
    m = Metrics()
    m.observe_check(event("nps/app/web", "up", duration=0.2, lag=0.0005))
    m.observe_check(event("nps/api/health", "up", duration=4.0, lag=7.0))
    assert value(m, "statuspage_check_duration_seconds_count", page="nps") == 2
    assert value(m, "statuspage_check_duration_seconds_sum", page="nps") == 4.2
    assert value(m, "statuspage_schedule_lag_seconds_bucket", le="0.001") == 1
    assert value(m, "statuspage_schedule_lag_seconds_bucket", le="10.0") == 2
    # No per-monitor histogram: at 20,000 monitors it would be hundreds of thousands of series.
    assert not any(name.startswith("statuspage_check_duration") and ("monitor", "web") in labels
                   for name, labels in samples(m))


def test_monitor_up_follows_the_confirmed_state_not_each_check() -> None:
    m = Metrics()
    m.observe_check(event("nps/app/web", "down", confirmed="up"))  # unconfirmed failure
    assert value(m, "statuspage_monitor_up", page="nps", component="app", monitor="web") == 1
    m.observe_check(event("nps/app/web", "down", confirmed="down"))
    assert value(m, "statuspage_monitor_up", page="nps", component="app", monitor="web") == 0


def test_component_status_is_an_enum_gauge() -> None:
    m = Metrics()
    m.snapshot.set_component_status("nps", "app", "operational")
    m.snapshot.set_component_status("nps", "app", "major_outage")
    got = {s: value(m, "statuspage_component_status", page="nps", component="app", status=s)
           for s in ("operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance")}
    assert got == {"operational": 0, "degraded_performance": 0, "partial_outage": 0, "major_outage": 1,
                   "under_maintenance": 0}


def test_uptime_and_budget_without_data_have_no_series() -> None:
    m = Metrics()
    m.snapshot.set_uptime("nps", "", {"24h": 0.99, "7d": 0.999})
    m.snapshot.set_budget("nps", "", 100.0)
    assert value(m, "statuspage_uptime_ratio", page="nps", component="", window="24h") == 0.99
    m.snapshot.set_uptime("nps", "", {"24h": None, "7d": 0.998})
    m.snapshot.set_budget("nps", "", None)
    assert value(m, "statuspage_uptime_ratio", page="nps", component="", window="24h") is None
    assert value(m, "statuspage_uptime_ratio", page="nps", component="", window="7d") == 0.998
    assert value(m, "statuspage_error_budget_remaining_seconds", page="nps", component="") is None


def test_open_and_unacknowledged_incidents_by_severity() -> None:
    m = Metrics()
    base = dict(title="x", impact="critical", started_at=0.0, due_at=14400.0)
    incidents = [
        Incident(id=1, page="nps", severity="T1", status="investigating", **base),  # type: ignore[arg-type]
        Incident(id=2, page="nps", severity="T1", status="identified", acknowledged_at=5.0,  # type: ignore[arg-type]
                 acknowledged_by="alice", **base),
        Incident(id=3, page="nps", severity="T2", status="resolved", resolved_at=9.0, **base),  # type: ignore[arg-type]
    ]
    m.snapshot.set_incidents(["nps", "cxm"], incidents)
    assert value(m, "statuspage_incidents_open", page="nps", severity="T1") == 2
    assert value(m, "statuspage_incidents_unacknowledged", page="nps", severity="T1") == 1
    assert value(m, "statuspage_incidents_open", page="nps", severity="T2") == 0
    assert value(m, "statuspage_incidents_open", page="cxm", severity="T4") == 0


def test_two_instances_do_not_share_a_registry() -> None:
    a, b = Metrics(), Metrics()
    a.observe_check(event("nps/app/web", "up"))
    assert value(b, "statuspage_checks_total", page="nps", component="app", monitor="web", outcome="up") is None


def test_observe_check_is_cheap_at_scale() -> None:
    # 20,000 monitors: the first sighting builds the label children, later checks reuse them.
    m = Metrics(process_metrics=False)
    events = [event(f"p{i % 4}/c{i % 500}/m{i}", "up") for i in range(20_000)]
    for e in events:
        m.observe_check(e)
    started = time.perf_counter()
    for e in events:
        m.observe_check(e)
    per_check = (time.perf_counter() - started) / len(events)
    assert per_check < 50e-6, f"{per_check * 1e6:.1f} µs per check"


async def test_update_from_snapshot_sets_statuses_uptime_budget_and_incidents(tmp_path: Path) -> None:
    config = parse_config({
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "Plataforma", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]},
            {"slug": "api", "name": "API", "monitors": [{"name": "health", "url": "http://127.0.0.1:9/"}]},
            {"slug": "email", "name": "E-mail", "monitors": [{"name": "sender", "type": "push", "token": "push-token-1"}]},
        ]}],
    }, env={})
    now = 1_700_000_000.0
    store = await SQLiteStore.open(config.storage.path)
    try:
        await store.register_monitors(m.key for _, _, m in config.monitors())
        web, api = "nps/app/web", "nps/api/health"
        store.buffer_check(CheckResult(web, now - 10, "up"), MonitorState(last_at=now - 10, last_outcome="up"),
                           [RunRow(1, web, "up", now - 3600, now - 10, True)])
        down = MonitorState(confirmed="down", down_since=now - 600, run_state="down", last_at=now - 5,
                            last_outcome="down")
        store.buffer_check(CheckResult(api, now - 5, "down"), down,
                           [RunRow(2, api, "up", now - 3600, now - 600, False),
                            RunRow(3, api, "down", now - 600, now - 5, True)])
        await store.flush()
        await store.create_incident(Incident(id=0, page="nps", title="API fora", severity="T1", impact="critical",
                                             status="investigating", started_at=now - 600, due_at=now + 13800))
        snapshot = await take_snapshot(config, store, now)
    finally:
        await store.close()

    m = Metrics()
    m.update_from_snapshot(snapshot)
    assert value(m, "statuspage_component_status", page="nps", component="app", status="operational") == 1
    assert value(m, "statuspage_component_status", page="nps", component="api", status="major_outage") == 1
    assert value(m, "statuspage_component_status", page="nps", component="api", status="operational") == 0
    # The push monitor never reported: no status is claimed for it.
    assert not any(value(m, "statuspage_component_status", page="nps", component="email", status=s)
                   for s in ("operational", "major_outage"))
    assert value(m, "statuspage_page_status", page="nps", indicator="critical") == 1
    assert value(m, "statuspage_uptime_ratio", page="nps", component="app", window="24h") == 1.0
    api_24h = value(m, "statuspage_uptime_ratio", page="nps", component="api", window="24h")
    assert api_24h is not None and 0.8 < api_24h < 0.9
    assert value(m, "statuspage_uptime_ratio", page="nps", component="", window="30d") == api_24h
    assert value(m, "statuspage_uptime_ratio", page="nps", component="email", window="24h") is None
    budget = value(m, "statuspage_error_budget_remaining_seconds", page="nps", component="api")
    assert budget is not None and budget < 0  # 595 s down against 0.5 % of ~1 h allowed
    assert value(m, "statuspage_incidents_open", page="nps", severity="T1") == 1
    assert value(m, "statuspage_incidents_unacknowledged", page="nps", severity="T1") == 1


def test_label_values_are_escaped_in_the_exposition() -> None:
    m = Metrics()
    m.observe_check(event('nps/app/we"b\\x\ny', "up"))
    assert value(m, "statuspage_checks_total", page="nps", component="app", monitor='we"b\\x\ny', outcome="up") == 1
    assert value(m, "statuspage_monitor_up", page="nps", component="app", monitor='we"b\\x\ny') == 1
