"""A real server for the HTTP tests: build_app on a real SQLiteStore under tmp_path, a real IncidentService."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from statuspage.config import Config, parse_config
from statuspage.incidents.service import IncidentService
from statuspage.probe.checks import PushBoard
from statuspage.store.sqlite import SQLiteStore
from statuspage.web.metrics import Metrics
from statuspage.web.server import build_app

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-fedcba9876543210"
PUSH_TOKEN = "nps-email-heartbeat"
CHATWOOT_SECRET = "fuzz-chatwoot-secret-0000"
NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class Clock:
    """A settable clock for the server and the incident service."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_config(tmp_path: Path, max_body_bytes: int = 8192, locale: str = "en") -> Config:
    """Two pages like Track's, two engineers, a push monitor."""
    def components(page: str) -> list[dict[str, Any]]:
        return [
            {"slug": "app", "name": "Plataforma", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]},
            {"slug": "api", "name": "API", "monitors": [{"name": "health", "url": "http://127.0.0.1:9/h"}]},
            {"slug": "email", "name": "Envio de e-mails", "monitors": [
                {"name": "sender", "type": "push", "token": f"{page}-email-heartbeat", "interval": "5m"}]},
        ]

    return parse_config({
        "site": {"title": "Track Status", "base_url": "http://status.test", "output_dir": str(tmp_path / "site"),
                 "locale": locale},
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "server": {"max_body_bytes": max_body_bytes},
        "admins": [{"name": "alice", "token": ALICE}, {"name": "bob", "token": BOB}],
        "support": {"channels": {"chat": {"first_response": "4m", "average": "3m"},
                                 "phone": {"first_response": "24h", "average": "1h"}},
                    "chatwoot": {"secret": CHATWOOT_SECRET}},
        "pages": [
            {"slug": "nps", "name": "NPS", "components": components("nps")},
            {"slug": "cxm", "name": "CXM", "components": components("cxm")},
        ],
    }, env={})


def make_service(config: Config, store: SQLiteStore, clock: Callable[[], float]) -> IncidentService:
    """The real incident service (notifications off)."""
    return IncidentService(store, config, clock=clock)


@dataclass
class ServerEnv:
    """Everything one server test touches."""

    config: Config
    store: SQLiteStore
    push_board: PushBoard
    incidents: IncidentService
    metrics: Metrics
    site_dir: Path
    clock: Clock
    app: web.Application
    changes: list[float] = field(default_factory=list)
    client: TestClient[Any, Any] | None = None

    @property
    def http(self) -> TestClient[Any, Any]:
        """The test client (always set once the env is started)."""
        assert self.client is not None
        return self.client

    async def open_incident(self, page: str = "nps", severity: str = "T2", title: str = "Relatórios lentos",
                            components: tuple[str, ...] = ("app",)) -> int:
        """Open a manual incident through the API; return its id."""
        response = await self.http.post("/api/admin/incidents", headers=auth(), json={
            "page": page, "title": title, "severity": severity, "components": list(components),
            "message": "Investigating.",
        })
        assert response.status == 201, await response.text()
        return int((await response.json())["id"])


def auth(token: str = ALICE) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


async def open_env(
    tmp_path: Path,
    start_client: Callable[[web.Application], Awaitable[TestClient[Any, Any]]],
    *,
    max_body_bytes: int = 8192,
    on_change: Callable[[ServerEnv], Any] | None = None,
    locale: str = "en",
) -> ServerEnv:
    """Open the store and start the server through `start_client` (aiohttp_client)."""
    config = make_config(tmp_path, max_body_bytes, locale)
    clock = Clock()
    store = await SQLiteStore.open(config.storage.path)
    await store.register_monitors(m.key for _, _, m in config.monitors())
    site_dir = tmp_path / "site"
    site_dir.mkdir(exist_ok=True)
    push_board = PushBoard(clock)
    incidents = make_service(config, store, clock)
    metrics = Metrics()
    holder: list[ServerEnv] = []

    def changed() -> Any:
        env = holder[0]
        env.changes.append(clock())
        return on_change(env) if on_change is not None else None

    app = build_app(config=config, store=store, push_board=push_board, incidents=incidents, site_dir=site_dir,
                    metrics=metrics, clock=clock, on_change=changed)
    env = ServerEnv(config, store, push_board, incidents, metrics, site_dir, clock, app)
    holder.append(env)
    env.client = await start_client(app)
    return env


async def close_env(env: ServerEnv) -> None:
    """Close the store (the client is closed by its fixture)."""
    await asyncio.sleep(0)
    await env.store.close()
