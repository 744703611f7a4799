"""The lag metric shows lag, and skipped runs are counted (issue 12.7).

Before: `statuspage_schedule_lag_seconds` was (start − first run) modulo the interval, so a process
frozen for 6 s never showed more than one interval (1 s here), and the runs APScheduler merged or
refused were not counted anywhere (its warnings were silenced).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import free_port, wait_for, write_config


def _metrics(port: int) -> dict[tuple[str, tuple[str, ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {(s.name, tuple(s.labels.values())): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


@pytest.mark.slow
async def test_a_process_frozen_for_6s_shows_the_lag_and_counts_the_runs_it_missed(tmp_path: Path) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = free_port()
    config = write_config(tmp_path / "config.yaml", {
        "storage": {"path": str(tmp_path / "db.sqlite")}, "site": {"output_dir": str(tmp_path / "site")},
        "server": {"port": port}, "defaults": {"interval": "1s", "timeout": "500ms"},
        "admins": [{"name": "a", "token": "Zq3-vT8pL1xR6mN0wK5yB2cH"}],
        "pages": [{"slug": "nps", "name": "NPS", "components": [{"slug": "db", "name": "DB", "monitors": [
            {"name": f"tcp{i}", "type": "tcp", "host": "127.0.0.1", "port": server.sockets[0].getsockname()[1]}
            for i in range(4)]}]}]})
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "statuspage", "run", "--config", str(config)], cwd=tmp_path,
                            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        def checked(n: float) -> bool:
            try:
                return _metrics(port).get(("statuspage_schedule_lag_seconds_count", ()), 0) >= n
            except OSError:
                return False

        assert await asyncio.to_thread(wait_for, lambda: checked(12), 60), (tmp_path / "run.log").read_text()
        before = _metrics(port)
        proc.send_signal(signal.SIGSTOP)
        time.sleep(6.0)
        proc.send_signal(signal.SIGCONT)
        total = before[("statuspage_schedule_lag_seconds_count", ())] + 8
        assert await asyncio.to_thread(wait_for, lambda: checked(total), 30)
        after = _metrics(port)
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(30)
        log.close()
        server.close()

    def over(seconds: str, m: dict[tuple[str, tuple[str, ...]], float]) -> float:
        return (m[("statuspage_schedule_lag_seconds_count", ())]
                - m[("statuspage_schedule_lag_seconds_bucket", (seconds,))])

    assert over("5.0", before) == 0  # no lag above 5 s before the freeze...
    assert over("5.0", after) >= 4  # ...then each of the 4 monitors' next run started over 5 s late
    skipped = after.get(("statuspage_checks_skipped_total", ("late",)), 0)
    assert skipped >= 4 * 4, skipped  # at least 4 slots a monitor were merged into one run
