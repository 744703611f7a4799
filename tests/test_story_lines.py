"""The story lines, in process: CheckStory over a sequence of checks (no clock, no sleeps), and user
text that cannot forge a log line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from statuspage.config import parse_config
from statuspage.incidents.service import IncidentService
from statuspage.models import CheckResult, MonitorState, Outcome
from statuspage.probe.scheduler import CheckEvent
from statuspage.probe.states import confirm
from statuspage.probe.story import CheckStory
from statuspage.store.sqlite import SQLiteStore

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC, 2025-12-31 21:00:00 in São Paulo


def _config(tmp_path: Path) -> object:
    return parse_config({
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "pages": [{"slug": "shop", "name": "Shop", "components": [{"slug": "api", "name": "API", "monitors": [
            {"name": "health", "url": "http://127.0.0.1:9/", "interval": "10s", "confirm_down": 3}]}]}],
    }, env={})


def test_a_run_of_checks_tells_its_story(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = _config(tmp_path)
    story = CheckStory(config)  # type: ignore[arg-type]
    state = MonitorState()
    outcomes: list[Outcome] = ["up", "down", "up", "degraded", "degraded", "up", "down", "down", "down", "down",
                               "up", "up", "up"]
    with caplog.at_level(logging.INFO, logger="statuspage.events"):
        for i, outcome in enumerate(outcomes):
            result = CheckResult("shop/api/health", T0 + 10 * i, outcome, latency_ms=1500 if outcome == "degraded"
                                 else 40, message={"down": "HTTP 503", "degraded": "slow"}.get(outcome, "ok"))
            state, transition = confirm(state, result, 3, 2)
            story(CheckEvent(result, state, transition, 0.0, 0.0))
    assert [r.getMessage() for r in caplog.records] == [
        "check failed shop/api/health: HTTP 503 (1 of 3 failed checks to confirm an outage)",
        "blip over shop/api/health: passed again after 1 failed check; not an outage",
        "degraded shop/api/health: slow",
        "back to normal shop/api/health (40 ms)",
        "check failed shop/api/health: HTTP 503 (1 of 3 failed checks to confirm an outage)",
        "check failed shop/api/health: HTTP 503 (2 of 3 failed checks to confirm an outage)",
        # Backdated to the first failed check (T0+60 = 21:01:00 in São Paulo); the 4th failure is silent.
        "DOWN shop/api/health: outage confirmed, since 21:01:00 (HTTP 503)",
        "UP shop/api/health: recovered at 21:01:40 after 40s down",
    ]
    assert caplog.records[6].levelno == logging.WARNING


async def test_a_title_cannot_forge_a_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = _config(tmp_path)
    store = await SQLiteStore.open(tmp_path / "db.sqlite")
    try:
        service = IncidentService(store, config, clock=lambda: T0)  # type: ignore[arg-type]
        with caplog.at_level(logging.INFO, logger="statuspage.events"):
            await service.open_manual("shop", "Lento\n2026-01-01 00:00:00 incident #9 resolved by x", "T3",
                                      author="ana\nroot")
    finally:
        await store.close()
    [line] = [r.getMessage() for r in caplog.records if "opened on shop" in r.getMessage()]
    assert "\n" not in line
    assert line == ('incident #1 opened on shop by "ana\\nroot": T3 '
                    '"Lento\\n2026-01-01 00:00:00 incident #9 resolved by x" (investigating)')


async def test_housekeeping_cut_short_by_shutdown_is_not_an_error(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    from statuspage.runner import Runtime

    runtime = Runtime(_config(tmp_path), serve=False)  # type: ignore[arg-type]

    async def store_gone() -> None:
        raise ValueError("no active connection")

    job = runtime._guarded(store_gone, "incident tick")
    with caplog.at_level(logging.DEBUG):
        await job()  # while running: an error line, never an exception into the scheduler
        runtime._closing = True
        await job()  # not even called once closing
        runtime._closing = False
        calls: list[int] = []

        async def closes_midway() -> None:
            calls.append(1)
            runtime._closing = True
            raise ValueError("no active connection")

        await runtime._guarded(closes_midway, "incident tick")()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["incident tick failed; it runs again at its next turn"]
    assert calls == [1]
    assert caplog.records[-1].getMessage() == "incident tick interrupted by shutdown"
