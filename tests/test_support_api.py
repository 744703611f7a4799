"""Cases over real HTTP: the admin routes (bearer auth, idempotent events, clear 4xx), the Chatwoot
webhook built from the payload shapes in Chatwoot's documentation (wrong secret → 401, nothing
stored), and a public site that carries no case id, e-mail, phone or message text."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from statuspage.config import Config, parse_config
from statuspage.incidents.service import IncidentService
from statuspage.probe.checks import PushBoard
from statuspage.site.render import render_site
from statuspage.store.sqlite import SQLiteStore
from statuspage.web.metrics import Metrics
from statuspage.web.server import build_app
from tests.support_data import at, config_data

SECRET = "chatwoot-shared-secret-0123"
TOKEN = {"Authorization": "Bearer ana-token-0123456789"}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Env:
    config: Config
    store: SQLiteStore
    http: TestClient[Any, Any]
    clock: Clock


@pytest.fixture
async def env(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[Env]:
    data = config_data(str(tmp_path / "db.sqlite"), chatwoot={
        "secret": SECRET, "channel_types": {"Channel::Api": "whatsapp"}, "inboxes": {7: {"page": "cxm"}}})
    data["site"]["output_dir"] = str(tmp_path / "site")
    config = parse_config(data, env={})
    store = await SQLiteStore.open(config.storage.path)
    clock = Clock(at("2026-11-10 12:00"))
    app = build_app(config=config, store=store, push_board=PushBoard(clock),
                    incidents=IncidentService(store, config, clock=clock), site_dir=tmp_path / "site",
                    metrics=Metrics(process_metrics=False), clock=clock)
    client = await aiohttp_client(app)
    yield Env(config, store, client, clock)
    await store.close()


# --- Chatwoot payloads, shaped as in Chatwoot's webhook documentation ------------------------------------

CONVERSATION: dict[str, Any] = {
    "additional_attributes": {"browser": {"browser_name": "Chrome"}, "referer": "https://app.track.co/"},
    "can_reply": True,
    "channel": "Channel::WebWidget",
    "id": 4242,
    "inbox_id": 1,
    "contact_inbox": {"id": 12, "contact_id": 14, "inbox_id": 1, "source_id": "405f1d30-1af3-4fa0-8ffd-11ea3f86101e"},
    "messages": [{"id": 120, "content": "Minha senha é hunter2, me ajudem", "account_id": 1, "inbox_id": 1,
                  "conversation_id": 4242, "message_type": 0, "created_at": int(at("2026-11-10 10:00")),
                  "private": False, "status": "sent", "content_type": "text"}],
    "labels": [],
    "meta": {"sender": {"email": "jane.doe@acme.example", "id": 14, "name": "Jane Doe",
                        "phone_number": "+5511987654321", "type": "contact"},
             "assignee": {"id": 1, "name": "John", "type": "user"}},
    "status": "open",
    "priority": None,
    "unread_count": 1,
    "timestamp": int(at("2026-11-10 10:00")),
    "created_at": int(at("2026-11-10 10:00")),
}


def conversation_event(event: str, **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(CONVERSATION)
    body.update(changes, event=event)
    return body


def message_event(message_id: int, when: str, *, message_type: str = "outgoing", private: bool = False,
                  sender_type: str = "user", content: str = "Oi Jane, já estou olhando.") -> dict[str, Any]:
    conversation = copy.deepcopy(CONVERSATION)
    conversation.pop("created_at")  # older Chatwoot versions: the case opens at the first message
    return {
        "id": message_id, "content": content, "created_at": f"{_iso(when)}", "message_type": message_type,
        "content_type": "text", "private": private, "content_attributes": {}, "source_id": None,
        "sender": {"id": 1, "name": "John", "email": "john@track.co", "type": sender_type},
        "inbox": {"id": 1, "name": "Track Suporte"}, "conversation": conversation,
        "account": {"id": 1, "name": "Track"}, "event": "message_created",
    }


def _iso(when: str) -> str:
    from datetime import UTC, datetime
    return datetime.fromtimestamp(at(when), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def hook(env: Env, body: dict[str, Any], token: str | None = SECRET) -> Any:
    path = "/api/hooks/chatwoot" + (f"?token={token}" if token is not None else "")
    return await env.http.post(path, json=body)


async def test_chatwoot_deliveries_become_a_case_with_its_first_response_and_resolution(env: Env) -> None:
    deliveries = [
        conversation_event("conversation_created"),
        message_event(121, "2026-11-10 10:01", message_type="incoming", sender_type="contact"),  # the customer
        message_event(122, "2026-11-10 10:01:30", private=True),                # a private note
        message_event(123, "2026-11-10 10:01:40", sender_type="agent_bot"),     # a bot
        message_event(124, "2026-11-10 10:02:30"),                              # the first agent answer
        message_event(125, "2026-11-10 10:05"),                                 # a later one
        conversation_event("conversation_updated", priority="high", updated_at=at("2026-11-10 10:10")),
        conversation_event("conversation_status_changed", status="resolved", labels=["third-party"],
                           updated_at=at("2026-11-10 11:10")),
    ]
    for body in deliveries:
        response = await hook(env, body)
        assert response.status == 200, await response.text()
    case = await env.store.get_case("chatwoot:4242")
    assert case is not None
    assert (case.channel, case.first_response_s, case.first_response_within) == ("chat", 150.0, True)
    assert case.severity == "T2" and case.resolution_s == 70 * 60 and case.resolution_within is True
    assert case.outcome == "third_party"


async def test_repeated_and_out_of_order_deliveries_change_nothing(env: Env, tmp_path: Path) -> None:
    deliveries = [
        conversation_event("conversation_created"),
        message_event(124, "2026-11-10 10:02:30"),
        conversation_event("conversation_status_changed", status="snoozed", updated_at=at("2026-11-10 10:30")),
        conversation_event("conversation_status_changed", status="open", updated_at=at("2026-11-10 11:30")),
        conversation_event("conversation_status_changed", status="resolved", updated_at=at("2026-11-10 12:00")),
    ]
    for body in deliveries:
        await hook(env, body)
    expected = await env.store.get_case("chatwoot:4242")
    assert expected is not None and expected.resolution_s == 3600 and expected.waiting_s == 3600
    events = len(await env.store.case_events("chatwoot:4242"))
    for body in reversed(deliveries + deliveries):
        response = await hook(env, body)
        assert (await response.json())["recorded"] == 0
    assert await env.store.get_case("chatwoot:4242") == expected
    assert len(await env.store.case_events("chatwoot:4242")) == events


async def test_the_inbox_or_its_channel_type_gives_the_channel(env: Env) -> None:
    whatsapp = conversation_event("conversation_created", id=1, channel="Channel::Whatsapp", inbox_id=2)
    email = conversation_event("conversation_created", id=2, channel="Channel::Email", inbox_id=3)
    api = conversation_event("conversation_created", id=3, channel="Channel::Api", inbox_id=7)
    sms = conversation_event("conversation_created", id=4, channel="Channel::TwilioSms", inbox_id=9)
    for body in (whatsapp, email, api, sms):
        assert (await hook(env, body)).status == 200
    cases = {c.case_id: c for c in await env.store.list_cases()}
    assert cases["chatwoot:1"].channel == "whatsapp" and cases["chatwoot:2"].channel == "email"
    assert (cases["chatwoot:3"].channel, cases["chatwoot:3"].page) == ("whatsapp", "cxm")
    assert "chatwoot:4" not in cases
    assert (await (await hook(env, sms)).json())["ignored"].startswith("the inbox's channel")


@pytest.mark.parametrize("token", [None, "", "wrong-secret-0123456789", SECRET[:-1], SECRET + "x"],
                         ids=["missing", "empty", "wrong", "prefix", "suffix"])
async def test_a_wrong_secret_gets_401_and_changes_nothing(env: Env, token: str | None) -> None:
    response = await hook(env, conversation_event("conversation_created"), token=token)
    assert response.status == 401 and "error" in await response.json()
    assert await env.store.list_cases() == [] and await env.store.case_events("chatwoot:4242") == []


async def test_the_secret_may_come_as_a_bearer_token(env: Env) -> None:
    response = await env.http.post("/api/hooks/chatwoot", json=conversation_event("conversation_created"),
                                   headers={"Authorization": f"Bearer {SECRET}"})
    assert response.status == 200 and await env.store.get_case("chatwoot:4242") is not None


# --- the admin routes ------------------------------------------------------------------------------------


async def test_engineers_open_a_phone_case_and_report_its_events(env: Env) -> None:
    body = {"id": "TEL-2026-0042", "channel": "phone", "page": "nps", "opened_at": "2026-11-10T09:00:00-03:00"}
    response = await env.http.post("/api/admin/cases", headers=TOKEN, json=body)
    assert response.status == 201, await response.text()
    again = await env.http.post("/api/admin/cases", headers=TOKEN, json=body)
    assert again.status == 200
    for event in ({"kind": "first_response", "at": "2026-11-10T09:40:00-03:00"},
                  {"kind": "severity", "severity": "T3", "at": "2026-11-10T09:40:00-03:00"},
                  {"kind": "resolved", "outcome": "cannot_reproduce", "at": "2026-11-10T11:40:00-03:00"}):
        response = await env.http.post("/api/admin/cases/TEL-2026-0042/events", headers=TOKEN, json=event)
        assert response.status == 201, await response.text()
        repeat = await env.http.post("/api/admin/cases/TEL-2026-0042/events", headers=TOKEN, json=event)
        assert repeat.status == 200
    case = await (await env.http.get("/api/admin/cases/TEL-2026-0042", headers=TOKEN)).json()
    assert case["first_response_s"] == 2400 and case["first_response_within"] is True
    assert case["resolution_s"] == 9600 and case["outcome"] == "cannot_reproduce"
    assert [e["kind"] for e in case["timeline"]] == ["opened", "first_response", "severity", "resolved"]
    listed = await (await env.http.get("/api/admin/cases", headers=TOKEN)).json()
    assert [c["id"] for c in listed["cases"]] == ["TEL-2026-0042"]


@pytest.mark.parametrize(("path", "body", "status", "field"), [
    ("/api/admin/cases", {"id": "jane@acme.example", "channel": "phone"}, 400, "id"),
    ("/api/admin/cases", {"id": "x1", "channel": "fax"}, 400, "channel"),
    ("/api/admin/cases", {"id": "x1", "channel": "chat", "page": "nope"}, 400, "page"),
    ("/api/admin/cases", {"id": "x1", "channel": "chat", "opened_at": "2030-01-01T00:00:00Z"}, 400, "opened_at"),
    ("/api/admin/cases", {"id": "x1", "channel": "chat", "text": "hi"}, 400, "text"),
    ("/api/admin/cases", {"id": "x1", "channel": "chat", "opened_at": "0261-11-03T03:01:49-06:42"}, 400, "opened_at"),
    ("/api/admin/cases/nope/events", {"kind": "triaged"}, 404, None),
    ("/api/admin/cases/x0/events", {"kind": "severity"}, 400, "severity"),
    ("/api/admin/cases/x0/events", {"kind": "resolved", "outcome": "happy"}, 400, "outcome"),
    ("/api/admin/cases/x0/events", {"kind": "waiting", "severity": "T1"}, 400, "severity"),
    ("/api/admin/cases/x0/events", {"kind": "opened"}, 400, "kind"),
], ids=["email-as-id", "channel", "page", "future", "unknown-field", "ancient", "unknown-case", "no-severity",
        "bad-outcome", "stray-field", "opened-as-event"])
async def test_bad_case_requests_get_a_4xx_naming_the_field(env: Env, path: str, body: dict[str, Any],
                                                             status: int, field: str | None) -> None:
    await env.http.post("/api/admin/cases", headers=TOKEN, json={"id": "x0", "channel": "chat"})
    response = await env.http.post(path, headers=TOKEN, json=body)
    assert response.status == status, await response.text()
    assert (await response.json()).get("field") == field


async def test_a_case_id_opened_again_on_another_channel_is_a_conflict(env: Env) -> None:
    await env.http.post("/api/admin/cases", headers=TOKEN, json={"id": "x0", "channel": "chat"})
    response = await env.http.post("/api/admin/cases", headers=TOKEN, json={"id": "x0", "channel": "email"})
    assert response.status == 409


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/admin/cases"), ("POST", "/api/admin/cases"),
                                              ("GET", "/api/admin/cases/x0"), ("POST", "/api/admin/cases/x0/events")])
async def test_case_routes_need_an_engineers_token(env: Env, method: str, path: str) -> None:
    response = await env.http.request(method, path, json={"id": "x0", "channel": "chat"},
                                      headers={"Authorization": "Bearer wrong-token-0123456789"})
    assert response.status == 401
    assert await env.store.list_cases() == []


# --- privacy ---------------------------------------------------------------------------------------------


async def test_the_public_site_carries_no_case_id_email_phone_or_message(env: Env, tmp_path: Path) -> None:
    # Five chat conversations through Chatwoot (enough for figures to be published) and a phone case.
    for n in range(5):
        await hook(env, conversation_event("conversation_created", id=4240 + n))
        body = message_event(500 + n, "2026-11-10 10:02", content="Oi Jane, seu CPF 123.456.789-00 está ok")
        body["conversation"]["id"] = 4240 + n
        await hook(env, body)
    await env.http.post("/api/admin/cases", headers=TOKEN, json={"id": "TEL-2026-0042", "channel": "phone"})
    result = await render_site(env.config, env.store, tmp_path / "public", now=env.clock())
    assert result.written > 10
    secrets = ["chatwoot:424", "4242", "TEL-2026-0042", "jane.doe@acme.example", "Jane Doe", "+5511987654321",
               "987654321", "hunter2", "123.456.789-00", "Oi Jane", "405f1d30", "john@track.co"]
    files = [p for p in (tmp_path / "public").rglob("*") if p.is_file()]
    assert any(p.name == "support.json" for p in files)
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        for secret in secrets:
            assert secret not in text, f"{secret} in {path}"
    chat = json.loads((tmp_path / "public/api/v2/support.json").read_text())["months"][0]["channels"][0]
    assert chat["channel"] == "chat" and chat["cases"] == 5 and chat["first_response_median_s"] == 120
    # and none of it is stored either: the database keeps ids and times, never content or contacts
    raw = Path(env.config.storage.path).read_bytes() + Path(env.config.storage.path + "-wal").read_bytes()
    for secret in ("jane.doe@acme.example", "Jane Doe", "+5511987654321", "hunter2", "123.456.789-00", "Oi Jane"):
        assert secret.encode() not in raw
