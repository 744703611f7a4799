"""A live server with subscriptions, in process: the real store (SQLite, or the PostgreSQL `storage`
given), notifier, incident service, announcer, subscription service and mailer (as `statuspage run`
wires them), and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from aiosmtpd.controller import Controller

from statuspage.announce import Announcer
from statuspage.config import Config, Storage, parse_config
from statuspage.incidents.notify import Notifier
from statuspage.incidents.service import IncidentService
from statuspage.probe.checks import PushBoard
from statuspage.store import Store, open_store
from statuspage.subscriptions.mailer import Mailer
from statuspage.subscriptions.service import SubscriptionService
from statuspage.web.metrics import Metrics
from statuspage.web.server import build_app
from tests.conftest import free_port

ADMIN = "alice-token-0123456789abcdef"
ENDPOINT = "https://status.track.test"


class Inbox:
    """aiosmtpd handler: every accepted mail, parsed."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        self.mails.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.mails if address in rcpt]


def subscription_config(tmp_path: Path, smtp_port: int, **subs: Any) -> Config:
    return parse_config({
        "site": {"title": "Track Status", "base_url": ENDPOINT, "output_dir": str(tmp_path / "site"),
                 "locales": ["pt-BR", "en"], "timezone": "America/Sao_Paulo"},
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "admins": [{"name": "alice", "token": ADMIN}],
        "notifications": {"email": {"host": "127.0.0.1", "port": smtp_port, "from": "alerts@track.test",
                                    "to": ["oncall@track.test"]}},
        "subscriptions": {"from": "Track Status <status@track.test>", "rate": "500/s", **subs},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "Plataforma", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]},
            {"slug": "reports", "name": "Relatórios", "monitors": [{"name": "r", "url": "http://127.0.0.1:9/r"}]}]}],
    }, env={})


@dataclass
class SubscriptionEnv:
    config: Config
    store: Store
    inbox: Inbox
    smtp: Controller
    notifier: Notifier
    incidents: IncidentService
    subscriptions: SubscriptionService
    mailer: Mailer
    announcer: Announcer
    app: web.Application
    clock: Callable[[], float]
    client: TestClient[Any, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def http(self) -> TestClient[Any, Any]:
        assert self.client is not None
        return self.client

    async def wait_mail(self, address: str, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        async with asyncio.timeout(timeout):
            while len(self.inbox.to(address)) < count:
                await asyncio.sleep(0.02)
        return self.inbox.to(address)

    async def settle(self) -> None:
        """Wait until nothing is queued anywhere (requests, notifier, subscriber outbox)."""
        async with asyncio.timeout(15):
            while True:
                await self.store.flush()
                queued = await self.store.mail_queued()
                if (not sum(queued.values()) and self.subscriptions._requests.empty()
                        and all(d.queue.empty() for d in self.notifier._destinations)):
                    break
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)


async def open_subscription_env(tmp_path: Path, start_client: Any, clock: Callable[[], float] | None = None,
                                storage: Storage | None = None, **subs: Any) -> SubscriptionEnv:
    import time

    clock = clock or time.time
    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    config = subscription_config(tmp_path, port, **subs)
    if storage is not None:
        config = config.model_copy(update={"storage": storage})
    store = await open_store(config.storage)
    await store.register_monitors(m.key for _, _, m in config.monitors())
    notifier = Notifier(config, store=store, resume=True, retry_base_delay=0.05, clock=clock)
    subscriptions = SubscriptionService(config, store, clock)
    await subscriptions.start()
    mailer = Mailer(config, store, subscriptions.secret, clock=clock, retry_base_delay=0.05)
    subscriptions.on_mail = mailer.wake
    announcer = Announcer(config, store, notifier, subscriptions, clock)
    await notifier.start()
    incidents = IncidentService(store, config, notifier, clock)
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    app = build_app(config=config, store=store, push_board=PushBoard(clock), incidents=incidents, site_dir=site,
                    metrics=Metrics(), clock=clock, subscriptions=subscriptions)
    mailer.start()
    env = SubscriptionEnv(config, store, inbox, smtp, notifier, incidents, subscriptions, mailer, announcer, app,
                          clock)
    env.client = await start_client(app)
    return env


async def close_subscription_env(env: SubscriptionEnv) -> None:
    await env.subscriptions.close()
    await env.notifier.close()
    await env.mailer.close()
    await env.store.close()
    env.smtp.stop()


async def stored_rows(storage: Storage, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a raw query on the test's database, whichever backend it is."""
    if storage.url is not None:
        import asyncpg

        conn = await asyncpg.connect(storage.url)
        try:
            return [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(storage.path)) as db:
        return list(db.execute(sql).fetchall())


def link_in(msg: EmailMessage, path: str) -> str:
    body = msg.get_content()
    found = re.search(rf"https://status\.track\.test{re.escape(path)}\?\S+", body)
    assert found, body
    return found.group(0)
