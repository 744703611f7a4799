"""A check that waits longer than the interval (issue 11, kind 5): the time it waited counts with its
result, and a confirmed-down hanging endpoint never reads as no data on the page. Pure, explicit clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from statuspage.cli.commands import cli
from statuspage.config import Config, parse_config
from statuspage.models import CheckResult, MonitorState, Outcome, RunRow, StateRun
from statuspage.probe.states import RunIds, apply_check
from statuspage.site.snapshot import Snapshot, build_page
from statuspage.site.statuspage_api import page_documents
from statuspage.sla.uptime import Timeline, component_segments

KEY = "nps/app/web"


def scheduled(interval: float, timeout: float, hang: tuple[float, float], until: float
              ) -> list[tuple[float, float, Outcome]]:
    """(start, end, outcome) of each check as the prober runs them: one interval job, slots at
    k × interval, a slot is skipped while the previous check still runs (APScheduler max_instances=1),
    a request sent while the target hangs waits `timeout` and fails (and ends just after the slot
    that falls at its deadline, which is therefore skipped)."""
    checks: list[tuple[float, float, Outcome]] = []
    free_at = 0.0
    slot = 0.0
    while slot <= until:
        if slot >= free_at + (1e-6 if checks and checks[-1][2] == "down" else 0.0):
            if hang[0] <= slot < hang[1]:
                checks.append((slot, slot + timeout, "down"))
                free_at = slot + timeout
            else:
                checks.append((slot, slot, "up"))
                free_at = slot
        slot += interval
    return checks


def replay(checks: list[tuple[float, float, Outcome]], interval: float, *, with_end: bool = True
           ) -> tuple[list[tuple[float, MonitorState]], list[RunRow]]:
    """Confirm each result in the order they finish; the states as known at each end, and every run."""
    state, tail, ids = MonitorState(), [], RunIds()
    rows: dict[int, RunRow] = {}
    known: list[tuple[float, MonitorState]] = []
    for start, end, outcome in sorted(checks, key=lambda c: c[1]):
        result = CheckResult(KEY, start, outcome, ended_at=end if with_end else None,
                             error=None if outcome == "up" else "timeout")
        state, _, changed = apply_check(state, tail, result, confirm_down=2, confirm_up=2, interval=interval,
                                        ids=ids)
        rows.update({r.id: r for r in changed})
        known.append((end, state))
    return known, sorted(rows.values(), key=lambda r: (r.start, r.id))


def window(runs: list[RunRow], interval: float, start: float, end: float) -> tuple[float, float]:
    """(downtime, covered) seconds of one monitor's component over [start, end)."""
    spans = [StateRun(r.monitor, r.state, r.start, r.to_run(end, 2 * interval).end) for r in runs]
    figures = Timeline(component_segments(spans)).window(start, end)
    return figures.downtime, figures.covered


def test_input_5_a_22s_hang_is_down_throughout_with_full_coverage() -> None:
    """Input 5: interval 1 s, timeout 3 s, the target hangs from t=5 to t=27 (22 s), over [0, 30).

    Checks run at 0–4 (up); 5, 9, 13, 17, 21 and 25 each wait 3 s and time out (the slots in between
    are skipped while they wait); 29 and 30 are up. The outage runs from the first failed check (5)
    to the first good one (29): 24 s down, all 30 s covered. Before, each result held only from its
    start and at most 2 s, so the hang read as 12 s of downtime and 18 s of coverage."""
    checks = scheduled(interval=1, timeout=3, hang=(5, 27), until=31)
    assert [c[0] for c in checks if c[2] == "down"] == [5, 9, 13, 17, 21, 25]
    _, runs = replay(checks, interval=1)
    assert window(runs, 1, 0, 30) == (24.0, 30.0)
    _, before = replay(checks, interval=1, with_end=False)
    assert window(before, 1, 0, 30) == (12.0, 18.0)


def site_config(interval: str, timeout: str) -> Config:
    return parse_config({"site": {"locale": "pt-BR"}, "pages": [{"slug": "nps", "name": "NPS", "components": [
        {"slug": "app", "name": "Plataforma", "monitors": [
            {"name": "web", "url": "http://127.0.0.1:9/", "interval": interval, "timeout": timeout}]}]}]},
        env={})


@pytest.mark.parametrize(("interval", "timeout"), [(2.0, 2.0), (2.0, 5.0), (1.0, 3.0), (30.0, 10.0)])
def test_a_hanging_confirmed_down_endpoint_stays_down_on_the_page(interval: float, timeout: float) -> None:
    """Input 5, the page: with interval 2 s and timeout 2 s (or 5 s), a confirmed-down endpoint that hangs
    must read major_outage in the v2 JSON and the HTML view at every moment of the hang, never no data."""
    config = site_config(f"{interval:g}s", f"{timeout:g}s")
    page = config.pages[0]
    checks = scheduled(interval, timeout, hang=(0, 1000), until=600)
    known, _ = replay(checks, interval)
    confirmed_at = next(t for t, s in known if s.confirmed == "down")
    now = confirmed_at
    while now < 590:
        state = [s for t, s in known if t <= now][-1]
        view = build_page(config, page, 1, now, {KEY: state}, {}, [], [])
        component = view.components[0]
        assert component.status == "major_outage", (now, state)
        json = page_documents(Snapshot(now, "UTC", 0.995, (view,)), view)["components.json"]
        assert json["components"][0]["status"] == "major_outage"
        assert json["components"][0]["no_data"] is False
        now += 0.25
    # A process that stopped is still noticed: no result for longer than the live hold is no data.
    last_end, last = known[-1]
    quiet = build_page(config, page, 1, last_end + 2 * interval + timeout + 0.01, {KEY: last}, {}, [], [])
    assert quiet.components[0].status is None


@pytest.mark.parametrize(("interval", "timeout", "warns"), [("1s", "3s", True), ("2s", "2s", True),
                                                           ("30s", "10s", False)])
def test_validate_warns_when_timeout_is_not_below_interval(
    tmp_path: Path, interval: str, timeout: str, warns: bool
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"""
pages:
  - slug: nps
    name: NPS
    components:
      - slug: app
        name: Plataforma
        monitors:
          - {{name: web, url: "http://127.0.0.1:9/", interval: {interval}, timeout: {timeout}}}
""")
    result = CliRunner().invoke(cli, ["validate", "--config", str(path)])
    assert result.exit_code == 0, result.output
    warning = (f"warning: pages[0].components[0].monitors[0].timeout: {timeout} is not shorter than the "
               f"interval ({interval})")
    assert (warning in result.output) is warns, result.output


async def test_a_real_hung_check_covers_its_wait() -> None:
    """The checker reports when a check ended: a request to a server that never answers covers the timeout."""
    import asyncio

    from statuspage.probe.checks import Checker
    from tests.test_faults import hang_before_headers, make_monitor, raw_server

    async with raw_server(hang_before_headers) as base, Checker() as checker:
        result = await checker.check(make_monitor(url=base + "/", interval="1s", timeout="0.5s"))
        await asyncio.sleep(0)
    assert (result.outcome, result.error) == ("down", "timeout")
    assert result.ended_at is not None and 0.5 <= result.ended_at - result.at < 0.8
