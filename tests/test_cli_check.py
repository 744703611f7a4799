"""`statuspage check` against real local servers: monitoring-plugin exit codes, and no data is never up."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from statuspage.cli import cli
from tests.conftest import write_config


class _Handler(BaseHTTPRequestHandler):
    """/ok answers at once, /slow after 0.6 s, /down with 503."""

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(0.6)
        status = 503 if self.path == "/down" else 200
        body = b"down" if status == 503 else b"ok"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    # A thread, not the test's event loop: `check` runs its own asyncio.run inside CliRunner.
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _monitor(kind: str, base: str) -> dict[str, Any]:
    if kind == "push":
        return {"name": "push", "type": "push", "token": "heartbeat-token", "interval": "1m"}
    return {"name": kind, "url": f"{base}/{kind}", "degraded_after": "300ms", "timeout": "3s"}


def _check(tmp_path: Path, base: str, kinds: list[str], *args: str) -> Any:
    cfg = write_config(tmp_path / "config.yaml", {
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "pages": [{"slug": "shop", "name": "Shop", "components": [
            {"slug": "web", "name": "Web", "monitors": [_monitor(k, base) for k in kinds]}]}],
    })
    return CliRunner().invoke(cli, ["check", "--config", str(cfg), *args])


@pytest.mark.parametrize(
    ("kinds", "code", "state"),
    [
        (["ok"], 0, "OK"),
        (["ok", "slow"], 1, "WARNING"),
        (["ok", "slow", "down"], 2, "CRITICAL"),
        (["ok", "push"], 3, "UNKNOWN"),
        (["slow", "push"], 1, "WARNING"),
        (["down", "push"], 2, "CRITICAL"),
    ],
    ids=["all-up", "degraded-is-warning", "down-is-critical", "no-data-is-unknown", "warning-beats-unknown",
         "critical-beats-unknown"],
)
def test_exit_code_follows_monitoring_plugins(tmp_path: Path, server: str, kinds: list[str], code: int,
                                              state: str) -> None:
    result = _check(tmp_path, server, kinds)
    assert result.exit_code == code, result.output
    assert result.output.rstrip().endswith(f"{state} (exit {code})")


def test_json_calls_no_data_unknown_never_up(tmp_path: Path, server: str) -> None:
    result = _check(tmp_path, server, ["ok", "slow", "down", "push"], "--json")
    assert result.exit_code == 2
    outcomes = {r["monitor"].rsplit("/", 1)[1]: (r["outcome"], r["error"]) for r in json.loads(result.output)}
    assert outcomes == {"ok": ("up", None), "slow": ("degraded", None), "down": ("down", "http_status"),
                        "push": ("unknown", "no_data")}


def test_table_shows_unknown_and_counts(tmp_path: Path, server: str) -> None:
    result = _check(tmp_path, server, ["ok", "push"])
    row = next(line for line in result.output.splitlines() if line.startswith("shop/web/push"))
    assert row.split()[1] == "UNKNOWN"
    assert "2 monitors: 1 up, 0 degraded, 0 down, 1 unknown" in result.output


def test_help_states_the_exit_codes() -> None:
    text = CliRunner().invoke(cli, ["check", "--help"]).output
    for line in ("0 OK", "1 WARNING", "2 CRITICAL", "3 UNKNOWN", "CRITICAL > WARNING > UNKNOWN > OK"):
        assert line in text, line
