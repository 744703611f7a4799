"""Property-based runs of the HTTP API: no input gets a 5xx.

1. schemathesis against the OpenAPI document: valid and schema-violating data (positive and negative
   modes), once with a valid engineer's token (to reach the handlers) and once with whatever auth
   is generated; every response must also match the document (status codes, content types, bodies).
2. hypothesis directly: mutated and arbitrary JSON bodies (lone surrogates, control characters,
   deep nesting, wrong types), raw bytes, odd content types, ids and paths, sent with `http.client`
   so nothing is normalised on the way.

The server runs in a thread with its own event loop, because both clients block.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statuspage.models import Incident, Maintenance
from statuspage.probe.checks import PushBoard
from statuspage.store.sqlite import SQLiteStore
from statuspage.support.service import SupportService
from statuspage.web.metrics import Metrics
from statuspage.web.server import build_app
from tests.server_env import ALICE, CHATWOOT_SECRET, NOW, PUSH_TOKEN, Clock, make_config, make_service

try:
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )
except ImportError:  # pragma: no cover - the hypothesis run below still covers every route
    schemathesis = None

OPENAPI = Path(__file__).resolve().parents[1] / "statuspage" / "web" / "openapi.yaml"
EXAMPLES = 60


class ThreadedServer:
    """build_app on a real store, served from a background thread's event loop."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="api-under-test", daemon=True)
        self.base_url = ""
        self.changes = 0

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    async def _start(self) -> None:
        config = make_config(self.tmp, max_body_bytes=16 * 1024)
        clock = Clock()
        self.store = await SQLiteStore.open(config.storage.path)
        await self.store.register_monitors(m.key for _, _, m in config.monitors())
        # Small ids exist, so generated ids reach the handlers' success paths too.
        for n in range(3):
            await self.store.create_incident(Incident(
                id=0, page="nps", title=f"incident {n}", severity="T2", impact="major", status="investigating",
                started_at=NOW, due_at=NOW + 86400, components=("app",), created_at=NOW, updated_at=NOW))
            await self.store.add_maintenance(Maintenance(
                id=0, page="cxm", title=f"window {n}", start=NOW + 3600, end=NOW + 7200, created_at=NOW))
            await SupportService(self.store, config, clock).open_case(str(n + 1), "chat", at=NOW)
        site = self.tmp / "site"
        site.mkdir(exist_ok=True)
        app = build_app(config=config, store=self.store, push_board=PushBoard(clock),
                        incidents=make_service(config, self.store, clock), site_dir=site, metrics=Metrics(),
                        clock=clock, on_change=self._changed)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        tcp = web.TCPSite(self.runner, "127.0.0.1", 0)
        await tcp.start()
        port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"

    def _changed(self) -> None:
        self.changes += 1

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    with ThreadedServer(tmp_path_factory.mktemp("fuzz")) as running:
        yield running


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much],
)


# --- 1. schemathesis against the OpenAPI document --------------------------------------------------

if schemathesis is not None:
    schema = schemathesis.openapi.from_path(OPENAPI)
    schema.config.generation.update(modes=list(GenerationMode), max_examples=EXAMPLES)
    CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]

    @schema.parametrize()
    @FUZZ_SETTINGS
    def test_openapi_run_with_a_valid_token(case: Any, server: ThreadedServer) -> None:
        case.call_and_validate(base_url=server.base_url, headers={"Authorization": f"Bearer {ALICE}"},
                               checks=CHECKS, timeout=10)

    @schema.parametrize()
    @FUZZ_SETTINGS
    def test_openapi_run_with_generated_auth(case: Any, server: ThreadedServer) -> None:
        case.call_and_validate(base_url=server.base_url, checks=CHECKS, timeout=10)

else:  # pragma: no cover

    @pytest.mark.skip(reason="schemathesis is not installed (pip install schemathesis)")
    def test_openapi_run() -> None:
        """Placeholder so the skipped run shows up in the report."""


# --- 2. hypothesis: bodies and paths nobody would write --------------------------------------------

SPECIAL = ["\ud800", "\udfff", "\x00", "\x07", "\n", "\u202e", "\ufeff", "\uffff", "%2e%2e", "../", "'", '"']
WORDS = ["nps", "cxm", "app", "api", "email", "T1", "T4", "investigating", "identified", "resolved", "up", "down",
         "2026-01-02T01:00:00Z", "2026-01-02T03:00:00-03:00", "2025-12-31T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]

texts = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(SPECIAL),
    st.lists(st.one_of(st.characters(exclude_categories=()), st.sampled_from(SPECIAL)), max_size=12).map("".join),
    st.text(max_size=300),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=10,
)
VALID = {
    "/api/admin/incidents": {"page": "nps", "title": "t", "severity": "T2", "components": ["app"],
                             "status": "investigating", "message": "m"},
    "/api/admin/incidents/{id}/updates": {"status": "identified", "message": "m"},
    "/api/admin/incidents/{id}/resolve": {"message": "m"},
    "/api/admin/incidents/{id}/ack": {},
    "/api/admin/maintenances": {"page": "cxm", "title": "t", "start": "2026-01-02T01:00:00Z",
                                "end": "2026-01-02T02:00:00Z", "components": ["api"], "message": "m"},
    "/api/push/{token}": {"status": "down", "msg": "m"},
    "/api/admin/cases": {"id": "c-1", "channel": "chat", "opened_at": "2025-12-31T20:00:00Z", "severity": "T2"},
    "/api/admin/cases/{id}/events": {"kind": "resolved", "outcome": "solved", "at": "2025-12-31T22:00:00Z"},
    "/api/hooks/chatwoot?token=" + CHATWOOT_SECRET: {
        "event": "message_created", "id": 7, "message_type": "outgoing", "private": False,
        "created_at": "2025-12-31T21:00:00Z", "sender": {"type": "user"},
        "conversation": {"id": 3, "inbox_id": 1, "channel": "Channel::WebWidget", "created_at": 1767214800}},
}


def q(text: str) -> str:
    """Percent-encode any text, lone surrogates included (as the bytes a client could send)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any]) -> Any:
    """A valid body with some fields replaced, dropped or added; or any JSON at all."""
    if draw(st.integers(0, 4)) == 0:
        return draw(json_values)
    body = dict(valid)
    for key in list(body):
        choice = draw(st.integers(0, 3))
        if choice == 1:
            body[key] = draw(json_values)
        elif choice == 2:
            del body[key]
    if draw(st.booleans()):
        body[draw(texts)] = draw(json_values)
    return body


ids = st.one_of(st.integers(0, 5).map(str), st.integers(0, 2**70).map(str), texts.map(q))
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded",
                                 "text/plain", "multipart/form-data; boundary=x", "", "application/problem+json"])


def send(server: ThreadedServer, method: str, target: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes, str]:
    host, port = server.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read(), response.getheader("Content-Type") or ""
    finally:
        conn.close()


DIRECT_SETTINGS = settings(FUZZ_SETTINGS, max_examples=400)


@given(data=st.data())
@DIRECT_SETTINGS
def test_no_body_reaches_a_5xx(server: ThreadedServer, data: st.DataObject) -> None:
    template = data.draw(st.sampled_from(sorted(VALID)), label="route")
    target = template.format(id=data.draw(ids, label="id"),
                             token=data.draw(st.sampled_from([PUSH_TOKEN, "nope"]), label="token"))
    if data.draw(st.booleans(), label="raw bytes"):
        body = data.draw(st.binary(max_size=300), label="bytes")
    else:
        value = data.draw(mutated(VALID[template]), label="body")
        body = json.dumps(value, ensure_ascii=True).encode()
    headers = {"Authorization": f"Bearer {ALICE}"}
    content_type = data.draw(content_types, label="content type")
    if content_type:
        headers["Content-Type"] = content_type
    status, payload, got_type = send(server, "POST", target, body, headers)
    assert status < 500, (target, body, payload)
    if status >= 400:
        assert got_type.startswith("application/json"), (target, got_type)
        assert isinstance(json.loads(payload)["error"], str)


@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    segments=st.lists(st.one_of(texts.map(q), st.sampled_from(
        ["api", "admin", "incidents", "maintenances", "push", "..", "%2e%2e", "nps", "static", "1", "",
         "cases", "events", "hooks", "chatwoot"])),
        max_size=5),
    query=texts,
)
@DIRECT_SETTINGS
def test_no_path_or_method_reaches_a_5xx(server: ThreadedServer, method: str, segments: list[str], query: str) -> None:
    target = "/" + "/".join(segments) + ("?q=" + q(query) if query else "")
    status, _, _ = send(server, method, target, None, {"Authorization": f"Bearer {ALICE}"})
    assert status < 500, target
