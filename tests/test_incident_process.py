"""End to end: `statuspage run --no-serve` opens exactly one backdated T1 on an outage, monitors the
recovery, resolves it, and notifies a real webhook receiver (signed, in order) and a real SMTP server."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller

from tests.conftest import Process, db_rows, free_port, start_app, write_config

SECRET = "webhook-secret-for-tests"


class Mailbox:
    """aiosmtpd handler keeping every message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


async def test_outage_to_resolved_incident_with_notifications(
    tmp_path: Path, spawn: Callable[..., Process]
) -> None:
    target_port, hook_port, smtp_port = free_port(), free_port(), free_port()
    hooks: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        hooks.append({"valid": hmac.compare_digest(request.headers.get("X-Statuspage-Signature", ""), expected),
                      "event": request.headers.get("X-Statuspage-Event"), "json": json.loads(body)})
        return web.Response(text="ok")

    hook_app = web.Application()
    hook_app.router.add_post("/hook", receive)
    hook_runner = await start_app(hook_app, hook_port)
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()

    async def reports(request: web.Request) -> web.Response:
        return web.Response(text="relatórios ok")

    async def target() -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/", reports)
        return await start_app(app, target_port)

    db = tmp_path / "db.sqlite"
    cfg = write_config(tmp_path / "config.yaml", {
        "site": {"output_dir": str(tmp_path / "site"), "base_url": "http://status.test"},
        "storage": {"path": str(db)},
        "defaults": {"interval": "1s", "timeout": "1s"},
        "incidents": {"auto_resolve_after": "3s"},
        "notifications": {
            "webhooks": [{"url": f"http://127.0.0.1:{hook_port}/hook", "secret": SECRET}],
            "email": {"host": "127.0.0.1", "port": smtp_port, "from": "status@track.test",
                      "to": ["plantao@track.test"]},
        },
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "reports", "name": "Relatórios", "monitors": [
                {"name": "reports", "url": f"http://127.0.0.1:{target_port}/"}]}]}],
    })
    runner = await target()
    proc = spawn("run", "--no-serve", "--config", str(cfg))

    async def until(pred: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not pred():
            assert time.monotonic() < deadline, proc.output()
            await asyncio.sleep(0.1)

    try:
        await until(lambda: len(db_rows(db, "SELECT 1 FROM results WHERE outcome='up'")) >= 2)
        await runner.cleanup()
        await until(lambda: bool(db_rows(db, "SELECT 1 FROM incidents")))
        # An engineer acknowledges from the command line while the outage lasts.
        # Run it without blocking this loop: the loop serves the webhook receiver, and a frozen receiver
        # makes the daemon's in-flight delivery time out and retry.
        ack = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "statuspage", "incident", "ack", "1", "--by", "alice", "--config", str(cfg),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        ack_out, _ = await asyncio.wait_for(ack.communicate(), 60)
        assert ack.returncode == 0, ack_out.decode()
        await asyncio.sleep(1.5)
        runner = await target()
        await until(lambda: db_rows(db, "SELECT status FROM incidents") == [("resolved",)], timeout=40)
        await until(lambda: len(hooks) >= 4 and len(mailbox.messages) >= 4)
    finally:
        code = proc.stop()
        await runner.cleanup()
        await hook_runner.cleanup()
        smtp.stop()
    assert code == 0, proc.output()

    results = db_rows(db, "SELECT at, outcome FROM results ORDER BY at")
    first_down = next(at for at, o in results if o == "down")
    first_up_after = next(at for at, o in results if o == "up" and at > first_down)
    incidents = db_rows(db, "SELECT severity, impact, status, started_at, monitoring_at, resolved_at, "
                          "acknowledged_by, automatic FROM incidents")
    assert len(incidents) == 1, incidents
    sev, impact, status, started, monitoring, resolved, acked_by, automatic = incidents[0]
    assert (sev, impact, status, acked_by, automatic) == ("T1", "critical", "resolved", "alice", 1)
    assert started == first_down, "the incident starts at the first failed check"
    assert monitoring == first_up_after and resolved == first_up_after

    events = [h["event"] for h in hooks]
    assert events == ["incident.created", "incident.acknowledged", "incident.updated", "incident.resolved"]
    assert all(h["valid"] for h in hooks), "every webhook is signed with the secret"
    assert [h["json"]["incident"]["status"] for h in hooks] == ["investigating", "investigating", "monitoring",
                                                                "resolved"]
    assert hooks[0]["json"]["incident"]["severity"] == "T1"
    # The SLA report counts it: one T1 this month, resolved well within its 4 h limit.
    report = subprocess.run([sys.executable, "-m", "statuspage", "report", "--json", "--config", str(cfg)],
                            capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    nps = json.loads(report.stdout)["pages"][0]
    [t1] = [row for row in nps["incidents"] if row["severity"] == "T1"]
    assert (t1["count"], t1["resolved"], t1["within_limit"], t1["judged"], t1["mean_met"]) == (1, 1, 1, 1, True)
    assert t1["mean_time_to_resolve_s"] == first_up_after - first_down
    print("\nreport:", json.dumps({"t1": t1, "uptime": nps["uptime"], "downtime_s": nps["downtime_s"],
                                   "coverage": nps["coverage"]}))
    subjects = [m["Subject"] for m in mailbox.messages]
    assert len(subjects) == 4 and all("[NPS]" in s for s in subjects), subjects
    assert "Relatórios" in mailbox.messages[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
