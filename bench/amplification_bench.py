"""Amplification benchmark (issue 12.4): what 1,500 incidents of 3 long updates cost public readers.

Fills a database with 1,500 incidents on one page (3 updates of 5,000 characters each, a fifth of
them open, all in the last ten days), starts `statuspage run` on it as a real process, and measures:
the size of the public documents (feed, page, history, JSON), the process's resident memory before
and at its peak while 20 concurrent readers fetch the feed 5 times each, their wall time, and the
size and time of `GET /api/admin/incidents`. The ratio printed is peak memory / memory before.

Run: `python bench/amplification_bench.py [--src DIR]` (`--src`: run another source tree, e.g. an
older checkout, for a before/after comparison); `main()` returns the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

INCIDENTS = 1500
UPDATES = 3
MESSAGE = 5000
READERS = 20
ROUNDS = 5
TOKEN = "Zq3-vT8pL1xR6mN0wK5yB2cH"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(root: Path, port: int) -> Path:
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump({
        "site": {"base_url": "https://status.example", "output_dir": str(root / "site")},
        "storage": {"path": str(root / "db.sqlite")},
        "server": {"port": port, "render_every": "1h"},
        "defaults": {"interval": "1h"},
        "admins": [{"name": "bench", "token": TOKEN}],
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "App", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}],
    }))
    return path


def _fill(db: Path, now: float) -> None:
    """The schema as `statuspage run` creates it, then the incidents inserted directly (fast)."""
    conn = sqlite3.connect(db)
    text = ("Investigamos lentidão nos relatórios. " * (MESSAGE // 38 + 1))[:MESSAGE]
    with conn:
        for n in range(INCIDENTS):
            started = now - 10 * 86400 + n * (10 * 86400 / INCIDENTS)
            open_ = n % 5 == 0
            iid = conn.execute(
                "INSERT INTO incidents (page, title, severity, impact, status, components, automatic, "
                "started_at, due_at, resolved_at, postmortem, created_at, updated_at) VALUES ('nps', ?, "
                "'T3', 'minor', ?, '[\"app\"]', 0, ?, ?, ?, '', ?, ?)",
                (f"Incidente {n}", "investigating" if open_ else "resolved", started, started + 5 * 86400,
                 None if open_ else started + 3600, started, started + 3600)).lastrowid
            for u in range(UPDATES):
                conn.execute("INSERT INTO incident_updates (incident_id, status, message, author, at, "
                             "components) VALUES (?, ?, ?, 'bench', ?, '[]')",
                             (iid, "investigating", f"{u}: {text}", started + u * 600))
    conn.close()


def _rss_kb(pid: int) -> int:
    """Resident memory of the server process (its render worker is another process, not counted)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def _fetch(port: int, path: str, headers: str = "") -> tuple[int, float]:
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n".encode())
    size = 0
    while chunk := await reader.read(1 << 16):
        size += len(chunk)
    writer.close()
    return size, time.monotonic() - started


async def _measure(src: str | None) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="amplification-"))
    port = _free_port()
    config = _config(root, port)
    env = dict(os.environ, PYTHONUNBUFFERED="1", **({"PYTHONPATH": src} if src else {}))
    # First start creates the schema; then the incidents go in and a second start renders them.
    for fill in (True, False):
        log = (root / "run.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "statuspage", "run", "--config", str(config)],
                                cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        feed = root / "site/nps/feed.atom"
        ready = (root / "site/index.html") if fill else feed
        for _ in range(1200):
            if ready.exists():
                break
            await asyncio.sleep(0.1)
        if fill:
            proc.terminate()
            proc.wait(60)
            log.close()
            feed.unlink(missing_ok=True)
            _fill(root / "db.sqlite", time.time())
    try:
        for _ in range(600):  # the first render of 1,500 incidents
            try:
                if (await _fetch(port, "/healthz"))[0]:
                    break
            except OSError:
                pass
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        site = root / "site/nps"
        sizes = {name: (site / name).stat().st_size for name in
                 ("feed.atom", "index.html", "history.html", "api/v2/summary.json", "api/v2/incidents.json",
                  "api/v2/incidents/unresolved.json") if (site / name).exists()}
        sizes["history pages"] = len(list(site.glob("history*.html")))
        before = _rss_kb(proc.pid)
        peak = before
        stop = asyncio.Event()

        async def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, _rss_kb(proc.pid))
                await asyncio.sleep(0.02)

        sampler = asyncio.create_task(sample())
        started = time.monotonic()

        async def reader() -> None:
            for _ in range(ROUNDS):
                await _fetch(port, "/nps/feed.atom")

        await asyncio.gather(*(reader() for _ in range(READERS)))
        readers_s = time.monotonic() - started
        stop.set()
        await sampler
        admin_bytes, admin_s = await _fetch(port, "/api/admin/incidents",
                                            f"Authorization: Bearer {TOKEN}\r\n")
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()
    return {"sizes_bytes": sizes, "rss_before_mb": round(before / 1024, 1),
            "rss_peak_mb": round(peak / 1024, 1), "peak_over_before": round(peak / max(before, 1), 2),
            "readers_s": round(readers_s, 2),
            "admin_incidents_bytes": admin_bytes, "admin_incidents_s": round(admin_s, 3)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Print and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--src", default=None, help="source tree to run (PYTHONPATH), e.g. an older checkout")
    args = parser.parse_args(argv)
    figures = asyncio.run(_measure(args.src))
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
