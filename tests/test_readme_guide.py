"""README's "Running it for real", followed from a clean directory: the minimal config exactly as the
README shows it, `validate`, `check`, `run` against local endpoints, the backup command; the systemd
unit in contrib/ passes `systemd-analyze verify`; every environment variable is documented."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import pytest

from tests.conftest import REPO, Process, free_port

README = (REPO / "README.md").read_text(encoding="utf-8")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"


def _block(marker: str, lang: str) -> str:
    """The fenced block right after the `<!-- marker` comment in README.md."""
    at = README.index(f"<!-- {marker}")
    match = re.compile(rf"```{lang}\n(.*?)```", re.S).search(README, at)
    assert match is not None, marker
    return match.group(1)


class _Shop(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ok" if self.path == "/health" else b"<h1>Loja</h1>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def shop() -> Iterator[str]:
    # A thread: the commands below are blocking subprocesses.
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Shop)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    request = Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urlopen(request, timeout=5) as response:
        return response.status, response.read().decode("utf-8")


@pytest.mark.slow
def test_the_guide_from_a_clean_directory(tmp_path: Path, shop: str, monkeypatch: pytest.MonkeyPatch,
                                          spawn: Callable[..., Process]) -> None:
    (tmp_path / "config.yaml").write_text(_block("minimal-config", "yaml"), encoding="utf-8")
    port, token = free_port(), secrets.token_urlsafe(32)
    env = {"ANA_TOKEN": token, "SHOP_URL": f"{shop}/", "SHOP_API_URL": f"{shop}/health",
           "STATUSPAGE_PORT": str(port)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def statuspage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "statuspage", *args, "--config", "config.yaml"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60, env=os.environ)

    validated = statuspage("validate")
    assert validated.returncode == 0, validated.stderr
    assert "config.yaml: ok (1 pages, 2 monitors)" in validated.stdout
    checked = statuspage("check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert re.search(r"loja/site/home\s+UP", checked.stdout) and re.search(r"loja/api/health\s+UP", checked.stdout)

    proc = spawn("run", "--config", "config.yaml")  # the spawned process inherits the environment
    deadline = time.monotonic() + 30
    while f"serving http://127.0.0.1:{port}/" not in proc.output():
        assert time.monotonic() < deadline and proc.proc.poll() is None, proc.output()
        time.sleep(0.1)
    base = f"http://127.0.0.1:{port}"
    assert _get(f"{base}/healthz")[0] == 200
    status, page = _get(f"{base}/loja/")
    assert status == 200 and "Loja" in page and "suporte@loja.example" in page
    assert _get(f"{base}/api/admin/incidents", token) == (200, '{"next_cursor":null,"incidents":[]}')
    assert proc.stop(signal.SIGTERM) == 0
    assert "Traceback" not in proc.output()
    assert (tmp_path / "data" / "statuspage.db").is_file()

    # The backup line, as written, while nothing else changes the database.
    if shutil.which("sqlite3") is None:
        pytest.skip("no sqlite3 command line here to try the README's backup line")
    backup = subprocess.run(_block("backup-command", "sh").strip(), shell=True, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert backup.returncode == 0, backup.stderr
    conn = sqlite3.connect(tmp_path / "statuspage-backup.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert {r[0] for r in conn.execute("SELECT key FROM monitors")} == {"loja/site/home", "loja/api/health"}
    finally:
        conn.close()


@pytest.mark.skipif(not Path(SYSTEMD_ANALYZE).exists(), reason="systemd-analyze is not installed here")
def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (REPO / "contrib" / "statuspage.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/statuspage/venv/bin/statuspage run --config /etc/statuspage/config.yaml" in unit
    # verify checks that ExecStart's program exists: point it at this checkout's, nothing else changes.
    program = Path(sys.executable).with_name("statuspage")
    assert program.exists(), program
    copy = tmp_path / "statuspage.service"
    copy.write_text(unit.replace("/opt/statuspage/venv/bin/statuspage", str(program)), encoding="utf-8")
    result = subprocess.run([SYSTEMD_ANALYZE, "verify", str(copy)], capture_output=True, text=True, timeout=120)
    # Unknown keys and bad values are only warnings (exit 0): any output at all is a failure.
    assert result.returncode == 0 and result.stderr.strip() == "" and result.stdout.strip() == "", (
        result.stdout + result.stderr)


def test_every_environment_variable_is_in_the_readme_table() -> None:
    table = README[README.index("| variable | used by | meaning |"):]
    table = table[:table.index("\n\n")]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    track = "\n".join(line for line in (REPO / "config.yaml").read_text(encoding="utf-8").splitlines()
                      if not line.lstrip().startswith("#"))  # the header's "${VAR}" is an example
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", track))
    used |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", _block("minimal-config", "yaml")))
    used.add("STATUSPAGE_CONFIG")
    assert used <= documented, used - documented
