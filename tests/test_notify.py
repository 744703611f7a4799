"""Notifier against real local receivers: a webhook server (aiohttp) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from statuspage.config import Config, parse_config
from statuspage.incidents.notify import Notifier, incident_from_json, incident_to_json
from statuspage.models import ComponentChange, Incident, IncidentUpdate
from statuspage.store import OutboxRow
from tests.conftest import free_port
from tests.pg import Backend

T0 = 1_795_000_000.0
SECRET = "s3cret-for-hmac"


def incident(status: str = "investigating", title: str = "Relatórios indisponível", **kw: Any) -> Incident:
    update = IncidentUpdate(1, 7, status, "Detectamos a falha.", T0, "statuspage",  # type: ignore[arg-type]
                            (ComponentChange("reports", "operational", "major_outage"),))
    return Incident(id=7, page="nps", title=title, severity="T1", impact="critical", status=status,  # type: ignore[arg-type]
                    started_at=T0, due_at=T0 + 4 * 3600, components=("reports",), automatic=True,
                    created_at=T0, updated_at=T0, updates=(update,), **kw)


def config(hooks: list[dict[str, Any]] | None = None, email: dict[str, Any] | None = None,
           locale: str = "pt-BR") -> Config:
    return parse_config({
        "site": {"locale": locale, "base_url": "https://status.track.test"},
        "notifications": {"webhooks": hooks or [], **({"email": email} if email else {})},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "reports", "name": "Relatórios", "monitors": [{"name": "r", "url": "http://127.0.0.1:9/"}]}]}],
    }, env={})


class Receiver:
    """A webhook receiver that answers with a scripted sequence of status codes."""

    def __init__(self, codes: list[int] | None = None, delay: float = 0.0, slow_attempts: int = 10**6) -> None:
        self.codes = codes or []
        self.delay = delay
        self.slow_attempts = slow_attempts
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.attempts = 0
        self.delivery_ids: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        self.delivery_ids.append(request.headers.get("X-Statuspage-Delivery", ""))
        if self.delay and self.attempts <= self.slow_attempts:
            await asyncio.sleep(self.delay)
        body = await request.read()
        code = self.codes.pop(0) if self.codes else 200
        if code == 200:
            self.got.append((dict(request.headers), body))
        return web.Response(status=code)


async def serve(aiohttp_server: Any, receiver: Receiver) -> str:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    server = await aiohttp_server(app)
    return f"http://127.0.0.1:{server.port}/hook"


async def test_signed_payloads_arrive_in_order(aiohttp_server: Any) -> None:
    rx = Receiver()
    url = await serve(aiohttp_server, rx)
    notifier = Notifier(config([{"url": url, "secret": SECRET}]))
    await notifier.start()
    for event, status in [("incident.created", "investigating"), ("incident.acknowledged", "investigating"),
                          ("incident.updated", "monitoring"), ("incident.resolved", "resolved")]:
        notifier.notify(event, incident(status))
    await notifier.close()
    assert [h["X-Statuspage-Event"] for h, _ in rx.got] == [
        "incident.created", "incident.acknowledged", "incident.updated", "incident.resolved"]
    for headers, body in rx.got:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Statuspage-Signature"], expected)
    data = json.loads(rx.got[0][1])
    inc = data["incident"]
    assert data["meta"]["event"] == "incident.created" and data["page"]["id"] == "nps"
    assert (inc["id"], inc["status"], inc["impact"], inc["severity"]) == ("7", "investigating", "critical", "T1")
    assert inc["started_at"] == "2026-11-18T11:06:40.000Z" and inc["due_at"] == "2026-11-18T15:06:40.000Z"
    assert inc["shortlink"] == "https://status.track.test/nps/incidents/7.html"
    assert inc["incident_updates"][0]["affected_components"] == [
        {"code": "reports", "name": "Relatórios", "old_status": "operational", "new_status": "major_outage"}]
    assert json.loads(rx.got[3][1])["page"]["status_indicator"] == "none"


async def test_failures_are_retried_and_4xx_is_not(aiohttp_server: Any) -> None:
    flaky, refusing = Receiver([500, 503]), Receiver([400])
    urls = [await serve(aiohttp_server, flaky), await serve(aiohttp_server, refusing)]
    notifier = Notifier(config([{"url": u, "retries": 3} for u in urls]), retry_base_delay=0.01)
    await notifier.start()
    notifier.notify("incident.created", incident())
    await notifier.close()
    assert flaky.attempts == 3 and len(flaky.got) == 1
    assert refusing.attempts == 1 and refusing.got == []


async def test_a_retry_after_a_lost_response_carries_the_same_delivery_id(aiohttp_server: Any) -> None:
    # The first attempt reaches the receiver but its answer comes too late: the sender must retry (it
    # cannot know), and the receiver must be able to tell the retry from a new event.
    rx = Receiver(delay=1.0, slow_attempts=1)
    url = await serve(aiohttp_server, rx)
    notifier = Notifier(config([{"url": url, "timeout": "200ms", "retries": 2}]), retry_base_delay=0.01)
    await notifier.start()
    notifier.notify("incident.created", incident())
    notifier.notify("incident.resolved", incident("resolved"))
    await notifier.close()
    first, retry, other = rx.delivery_ids
    assert len(first) == 32 and first == retry and other != first


async def test_a_hanging_receiver_blocks_nobody(aiohttp_server: Any) -> None:
    slow, fast = Receiver(delay=10), Receiver()
    urls = [await serve(aiohttp_server, slow), await serve(aiohttp_server, fast)]
    notifier = Notifier(config([{"url": urls[0], "timeout": "300ms", "retries": 5}, {"url": urls[1]}]),
                        retry_base_delay=0.05)
    await notifier.start()
    started = time.perf_counter()
    for _ in range(20):
        notifier.notify("incident.updated", incident())
    assert time.perf_counter() - started < 0.05, "notify() only queues"
    deadline = time.monotonic() + 5
    while len(fast.got) < 20 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert len(fast.got) == 20
    started = time.perf_counter()
    await notifier.close(timeout=0.5)
    assert time.perf_counter() - started < 2


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.mark.parametrize(
    ("locale", "subject", "lines"),
    [
        ("pt-BR", "[NPS] T1 · Investigando: Relatórios indisponível",
         ["Severidade: T1 — Impacto Crítico", "Situação: Investigando", "Componentes afetados: Relatórios",
          "Ainda não reconhecido", "Detalhes: https://status.track.test/nps/incidents/7.html"]),
        ("en", "[NPS] T1 · Investigating: Relatórios indisponível",
         ["Severity: T1 — Critical impact", "Status: Investigating", "Affected components: Relatórios",
          "Not acknowledged yet"]),
    ],
    ids=["pt-BR", "en"],
)
async def test_email_in_the_site_locale(smtp: tuple[Mailbox, int], locale: str, subject: str,
                                        lines: list[str]) -> None:
    box, port = smtp
    notifier = Notifier(config(email={"host": "127.0.0.1", "port": port, "from": "status@track.test",
                                      "to": ["plantao@track.test", "cto@track.test"]}, locale=locale))
    await notifier.start()
    notifier.notify("incident.created", incident())
    await notifier.close()
    [msg] = box.messages
    assert msg["Subject"] == subject
    assert msg["To"] == "plantao@track.test, cto@track.test" and msg["From"] == "status@track.test"
    body = msg.get_content()  # type: ignore[attr-defined]
    for line in lines:
        assert line in body


async def test_title_cannot_inject_mail_headers(smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    notifier = Notifier(config(email={"host": "127.0.0.1", "port": port, "to": ["a@track.test"]}))
    await notifier.start()
    notifier.notify("incident.created", incident(title="Falha\r\nBcc: attacker@evil.test\r\n\r\nbody"))
    await notifier.close()
    [msg] = box.messages
    assert msg["Bcc"] is None
    assert "\n" not in msg["Subject"] and "Bcc: attacker@evil.test" in msg["Subject"]


async def test_undelivered_notifications_survive_a_crash_in_the_outbox(
    aiohttp_server: Any, backend: Backend
) -> None:
    store = await backend.open()
    down = Receiver([503] * 100)
    cfg = config([{"url": await serve(aiohttp_server, down), "retries": 20}])
    first = Notifier(cfg, store=store, resume=True, retry_base_delay=0.01)
    await first.start()
    first.notify("incident.created", incident())
    while down.attempts < 2:
        await asyncio.sleep(0.01)
    await store.flush()
    await first.close(timeout=0)  # as good as a crash: the delivery never finished
    [row] = await store.outbox()
    assert row.event == "incident.created" and "webhook:" in row.destination

    # The next process, with the receiver back up (same URL, so the same destination).
    down.codes = []
    stale = incident("resolved")
    store.buffer_outbox(OutboxRow("old", row.destination, "incident.resolved", incident_to_json(stale),
                                  time.time() - 2 * 86400))
    store.buffer_outbox(OutboxRow("gone", "webhook:0000000000000000", "incident.updated",
                                  incident_to_json(stale), time.time()))
    await store.flush()
    second = Notifier(cfg, store=store, resume=True, retry_base_delay=0.01)
    await second.start()
    await second.close()
    await store.flush()
    assert [h["X-Statuspage-Event"] for h, _ in down.got] == ["incident.created"]
    assert down.delivery_ids[-1] == down.delivery_ids[0] == row.delivery_id
    assert json.loads(down.got[0][1])["incident"]["id"] == "7"
    assert await store.outbox() == [], "delivered, stale and orphaned rows all leave the outbox"
    await store.close()


def test_incident_json_round_trip() -> None:
    original = incident()
    assert incident_from_json(incident_to_json(original)) == original
