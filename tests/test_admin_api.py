"""The admin API over real HTTP: auth on every route, the incident and maintenance lifecycle, and the
documented 4xx for every kind of bad request."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.server_env import ALICE, BOB, NOW, ServerEnv, auth, close_env, open_env

MAX_BODY = 16 * 1024


@pytest.fixture
async def env(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[ServerEnv]:
    e = await open_env(tmp_path, aiohttp_client, max_body_bytes=MAX_BODY)
    yield e
    await close_env(e)


NEW_INCIDENT = {"page": "nps", "title": "Relatórios lentos", "severity": "T2", "components": ["app", "api"],
                "status": "investigating", "message": "Estamos investigando."}
NEW_MAINTENANCE = {"page": "cxm", "title": "Banco de dados", "start": "2026-01-02T01:00:00-03:00",
                   "end": "2026-01-02T03:00:00-03:00", "components": ["api"], "message": "Janela semanal."}


def at(text: str) -> float:
    """The instant an API time names (they carry the site timezone's offset)."""
    parsed = datetime.fromisoformat(text)
    assert parsed.utcoffset() is not None, text
    return parsed.timestamp()


async def error_of(response: Any) -> dict[str, Any]:
    assert response.headers["Content-Type"].startswith("application/json"), await response.text()
    body = await response.json()
    assert isinstance(body.get("error"), str) and body["error"]
    return dict(body)


# --- auth ------------------------------------------------------------------------------------------------

ROUTES = [
    ("GET", "/api/admin/pages", None),
    ("GET", "/api/admin/incidents", None),
    ("POST", "/api/admin/incidents", NEW_INCIDENT),
    ("GET", "/api/admin/incidents/{id}", None),
    ("POST", "/api/admin/incidents/{id}/ack", None),
    ("POST", "/api/admin/incidents/{id}/updates", {"status": "identified", "message": "Achamos."}),
    ("POST", "/api/admin/incidents/{id}/resolve", {"message": "Resolvido."}),
    ("GET", "/api/admin/maintenances", None),
    ("POST", "/api/admin/maintenances", NEW_MAINTENANCE),
    ("DELETE", "/api/admin/maintenances/{mid}", None),
]
ROUTE_IDS = [f"{m} {p.removeprefix('/api/admin/')}" for m, p, _ in ROUTES]

BAD_AUTH = {
    "missing": {},
    "empty-bearer": {"Authorization": "Bearer "},
    "basic-scheme": {"Authorization": f"Basic {ALICE}"},
    "wrong-token": {"Authorization": "Bearer alice-token-0123456789abcdeX"},
    "prefix-of-token": {"Authorization": f"Bearer {ALICE[:-1]}"},
    "token-plus-suffix": {"Authorization": f"Bearer {ALICE}x"},
    "non-ascii": {"Authorization": "Bearer tökén-ção-0123456789"},
}


async def _ids(env: ServerEnv) -> dict[str, int]:
    incident = await env.open_incident()
    response = await env.http.post("/api/admin/maintenances", headers=auth(), json=NEW_MAINTENANCE)
    return {"id": incident, "mid": int((await response.json())["id"])}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
async def test_every_admin_route_refuses_missing_and_wrong_tokens(
    env: ServerEnv, method: str, path: str, body: dict[str, Any] | None
) -> None:
    url = path.format(**await _ids(env))
    before = await env.store.list_incidents()
    changes = len(env.changes)
    for name, headers in BAD_AUTH.items():
        response = await env.http.request(method, url, headers=headers, json=body)
        assert response.status == 401, name
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
        await error_of(response)
    assert await env.store.list_incidents() == before
    assert len(env.changes) == changes


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("token", [ALICE, BOB], ids=["alice", "bob"])
async def test_every_admin_route_works_with_any_admins_token(
    env: ServerEnv, method: str, path: str, body: dict[str, Any] | None, token: str
) -> None:
    url = path.format(**await _ids(env))
    response = await env.http.request(method, url, headers=auth(token), json=body)
    assert response.status in (200, 201), await response.text()
    assert response.headers["Cache-Control"] == "no-store"


async def test_auth_failures_do_not_depend_on_the_body(env: ServerEnv) -> None:
    # Unauthenticated callers learn nothing about validation: 401 comes before 400/413/415.
    for kwargs in ({"data": b"{not json", "headers": {"Content-Type": "application/json"}},
                   {"data": b"x" * (MAX_BODY * 2), "headers": {"Content-Type": "application/json"}},
                   {"data": b"page=nps", "headers": {"Content-Type": "text/plain"}}):
        response = await env.http.post("/api/admin/incidents", **kwargs)
        assert response.status == 401


# --- incidents -------------------------------------------------------------------------------------------------


async def test_open_incident_returns_statuspage_shape_with_sla_fields(env: ServerEnv) -> None:
    response = await env.http.post("/api/admin/incidents", headers=auth(), json=NEW_INCIDENT)
    assert response.status == 201
    incident = await response.json()
    assert incident["name"] == "Relatórios lentos"
    assert (incident["status"], incident["severity"], incident["impact"]) == ("investigating", "T2", "major")
    assert incident["page_id"] == "nps"
    assert [c["name"] for c in incident["components"]] == ["Plataforma", "API"]
    assert incident["started_at"] == "2025-12-31T21:00:00.000-03:00"  # site timezone, as the public JSON
    assert at(incident["due_at"]) == NOW + 86400  # T2: limit 1 day
    assert incident["acknowledged_at"] is None and incident["acknowledged_by"] is None
    assert incident["sla_breached"] is False
    assert incident["incident_updates"][0]["body"] == "Estamos investigando."
    assert incident["shortlink"] == f"http://status.test/nps/incidents/{incident['id']}.html"
    assert env.changes == [env.clock.now]  # the site is re-rendered


async def test_lifecycle_ack_update_resolve(env: ServerEnv) -> None:
    iid = await env.open_incident(severity="T1")
    env.clock.now += 120
    ack = await env.http.post(f"/api/admin/incidents/{iid}/ack", headers=auth(BOB))
    assert ack.status == 200
    acked = await ack.json()
    assert acked["acknowledged_by"] == "bob"
    assert at(acked["acknowledged_at"]) == NOW + 120

    env.clock.now += 600
    update = await env.http.post(f"/api/admin/incidents/{iid}/updates", headers=auth(),
                                 json={"status": "identified", "message": "Disco cheio no banco."})
    assert update.status == 201
    updated = await update.json()
    assert updated["status"] == "identified"
    assert updated["incident_updates"][0]["body"] == "Disco cheio no banco."

    env.clock.now += 5 * 3600  # past the T1 limit of 4 h
    listed = await (await env.http.get("/api/admin/incidents", headers=auth())).json()
    assert [(i["id"], i["sla_breached"]) for i in listed["incidents"]] == [(str(iid), True)]

    resolve = await env.http.post(f"/api/admin/incidents/{iid}/resolve", headers=auth(),
                                  json={"message": "Espaço liberado."})
    assert resolve.status == 200
    resolved = await resolve.json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"] is not None
    assert resolved["sla_breached"] is True
    assert len(env.changes) == 4


async def test_an_incident_may_start_before_now_and_its_deadline_counts_from_then(env: ServerEnv) -> None:
    body = incident(severity="T1", started_at="2025-12-31T20:00:00-03:00", message=...)
    response = await env.http.post("/api/admin/incidents", headers=auth(), json=body)
    assert response.status == 201
    created = await response.json()
    assert at(created["started_at"]) == NOW - 3600
    assert at(created["due_at"]) == NOW - 3600 + 4 * 3600
    assert created["incident_updates"][0]["body"] == body["title"]  # no message: the title


async def test_maintenance_that_is_over_or_too_long_is_refused(env: ServerEnv) -> None:
    for start, end in (("2025-12-30T00:00:00Z", "2025-12-31T00:00:00Z"),
                       ("2026-01-02T00:00:00Z", "2026-02-03T00:00:00Z")):
        response = await env.http.post("/api/admin/maintenances", headers=auth(),
                                       json=maintenance(start=start, end=end))
        assert response.status == 400, (start, end)
        assert (await error_of(response))["field"] == "end"


async def test_list_filters_by_page(env: ServerEnv) -> None:
    await env.open_incident(page="nps")
    await env.open_incident(page="cxm", components=())
    nps = await (await env.http.get("/api/admin/incidents?page=nps", headers=auth())).json()
    assert [i["page_id"] for i in nps["incidents"]] == ["nps"]
    both = await (await env.http.get("/api/admin/incidents", headers=auth())).json()
    assert sorted(i["page_id"] for i in both["incidents"]) == ["cxm", "nps"]
    bad = await env.http.get("/api/admin/incidents?page=nope", headers=auth())
    assert bad.status == 400
    assert (await error_of(bad))["field"] == "page"


async def test_pages_lists_the_config_and_who_you_are(env: ServerEnv) -> None:
    data = await (await env.http.get("/api/admin/pages", headers=auth(BOB))).json()
    assert data["user"] == "bob"
    assert [p["slug"] for p in data["pages"]] == ["nps", "cxm"]
    assert [c["slug"] for c in data["pages"][0]["components"]] == ["app", "api", "email"]
    assert [(s["name"], s["limit_s"]) for s in data["severities"]] == [
        ("T1", 14400.0), ("T2", 86400.0), ("T3", 432000.0), ("T4", 604800.0)]


# --- maintenance --------------------------------------------------------------------------------------------------


async def test_schedule_list_and_cancel_maintenance(env: ServerEnv) -> None:
    response = await env.http.post("/api/admin/maintenances", headers=auth(), json=NEW_MAINTENANCE)
    assert response.status == 201
    created = await response.json()
    assert at(created["scheduled_for"]) == datetime.fromisoformat("2026-01-02T04:00:00Z").timestamp()
    assert at(created["scheduled_until"]) == datetime.fromisoformat("2026-01-02T06:00:00Z").timestamp()
    assert (created["status"], created["page_id"], created["created_by"]) == ("scheduled", "cxm", "alice")
    assert [c["code"] for c in created["components"]] == ["api"]
    listed = await (await env.http.get("/api/admin/maintenances", headers=auth())).json()
    assert [m["id"] for m in listed["maintenances"]] == [created["id"]]
    cancel = await env.http.delete(f"/api/admin/maintenances/{created['id']}", headers=auth())
    assert cancel.status == 200
    assert (await cancel.json())["status"] == "cancelled"
    listed = await (await env.http.get("/api/admin/maintenances", headers=auth())).json()
    assert listed["maintenances"] == []


# --- bad requests ---------------------------------------------------------------------------------------------------


def incident(**changes: Any) -> dict[str, Any]:
    body = dict(NEW_INCIDENT)
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


def maintenance(**changes: Any) -> dict[str, Any]:
    body = dict(NEW_MAINTENANCE)
    body.update(changes)
    return body


BAD_BODIES: list[tuple[str, str, Any, int, str | None]] = [
    # (id, path, JSON body or raw bytes, status, field)
    ("malformed-json", "/api/admin/incidents", b'{"page": "nps",', 400, None),
    ("json-array", "/api/admin/incidents", [NEW_INCIDENT], 400, None),
    ("json-string", "/api/admin/incidents", "hello", 400, None),
    ("nan", "/api/admin/incidents", b'{"page": NaN}', 400, None),
    ("not-utf8", "/api/admin/incidents", b'{"page": "\xff"}', 400, None),
    ("deep-nesting", "/api/admin/incidents", b"[" * 100_0 + b"]" * 100_0, 400, None),
    ("empty-body", "/api/admin/incidents", b"", 400, None),
    ("missing-title", "/api/admin/incidents", incident(title=...), 400, "title"),
    ("missing-page", "/api/admin/incidents", incident(page=...), 400, "page"),
    ("title-number", "/api/admin/incidents", incident(title=5), 400, "title"),
    ("title-blank", "/api/admin/incidents", incident(title="   "), 400, "title"),
    ("title-too-long", "/api/admin/incidents", incident(title="x" * 201), 400, "title"),
    ("title-control-char", "/api/admin/incidents", incident(title="a\x07b"), 400, "title"),
    ("title-newline", "/api/admin/incidents", incident(title="a\nb"), 400, "title"),
    ("lone-surrogate", "/api/admin/incidents", b'{"page":"nps","title":"\\ud800","severity":"T1","message":"m"}',
     400, "title"),
    ("unknown-field", "/api/admin/incidents", incident(priority="high"), 400, "priority"),
    # Echoed back in the error: a lone surrogate must not break encoding the error itself.
    ("unknown-field-lone-surrogate", "/api/admin/incidents", b'{"\\udc80": 1}', 400, "?"),
    ("unknown-component-lone-surrogate", "/api/admin/incidents",
     b'{"page":"nps","title":"t","severity":"T1","components":["\\ud800"]}', 400, "components"),
    ("unknown-page", "/api/admin/incidents", incident(page="crm"), 400, "page"),
    ("unknown-component", "/api/admin/incidents", incident(components=["app", "billing"]), 400, "components"),
    ("components-not-list", "/api/admin/incidents", incident(components="app"), 400, "components"),
    ("components-of-numbers", "/api/admin/incidents", incident(components=[1]), 400, "components"),
    ("unknown-severity", "/api/admin/incidents", incident(severity="T5"), 400, "severity"),
    ("severity-lowercase", "/api/admin/incidents", incident(severity="t1"), 400, "severity"),
    ("open-as-resolved", "/api/admin/incidents", incident(status="resolved"), 400, "status"),
    ("status-bool", "/api/admin/incidents", incident(status=True), 400, "status"),
    ("message-too-long", "/api/admin/incidents", incident(message="x" * 5001), 400, "message"),
    ("started-in-the-future", "/api/admin/incidents", incident(started_at="2026-01-01T00:00:01Z"), 400,
     "started_at"),
    ("started-without-offset", "/api/admin/incidents", incident(started_at="2025-12-31T23:00:00"), 400,
     "started_at"),
    ("update-unknown-status", "/api/admin/incidents/{id}/updates", {"status": "fixed", "message": "m"}, 400,
     "status"),
    ("update-missing-message", "/api/admin/incidents/{id}/updates", {"status": "identified"}, 400, "message"),
    ("update-null-status", "/api/admin/incidents/{id}/updates", {"status": None, "message": "m"}, 400, "status"),
    ("ack-with-fields", "/api/admin/incidents/{id}/ack", {"who": "mallory"}, 400, "who"),
    ("resolve-message-number", "/api/admin/incidents/{id}/resolve", {"message": 1}, 400, "message"),
    ("maintenance-bad-hour", "/api/admin/maintenances", maintenance(start="2026-01-02T25:00:00"), 400, "start"),
    ("maintenance-garbage-time", "/api/admin/maintenances", maintenance(end="tomorrow"), 400, "end"),
    ("maintenance-epoch-number", "/api/admin/maintenances", maintenance(start=1767322800), 400, "start"),
    ("maintenance-end-before-start", "/api/admin/maintenances",
     maintenance(start="2026-01-02T03:00:00Z", end="2026-01-02T01:00:00Z"), 400, "end"),
    ("maintenance-unknown-component", "/api/admin/maintenances", maintenance(components=["app", "nope"]), 400,
     "components"),
    ("maintenance-component-of-other-page", "/api/admin/maintenances", maintenance(page="nps", components=["x"]),
     400, "components"),
]


@pytest.mark.parametrize(("path", "body", "status", "field"), [b[1:] for b in BAD_BODIES],
                         ids=[b[0] for b in BAD_BODIES])
async def test_bad_bodies_get_a_4xx_that_says_what_is_wrong(
    env: ServerEnv, path: str, body: Any, status: int, field: str | None
) -> None:
    url = path.format(id=await env.open_incident())
    before = len(env.changes)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await env.http.post(url, data=raw, headers={**auth(), "Content-Type": "application/json"})
    assert response.status == status, await response.text()
    error = await error_of(response)
    assert error.get("field") == field, error
    assert len(env.changes) == before  # nothing was written


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None],
    ids=["text", "form", "multipart", "none"],
)
async def test_a_body_that_is_not_json_is_415(env: ServerEnv, content_type: str | None) -> None:
    headers = auth()
    if content_type:
        headers["Content-Type"] = content_type
    response = await env.http.post("/api/admin/incidents", data=json.dumps(NEW_INCIDENT).encode(),
                                   headers=headers, skip_auto_headers=["Content-Type"])
    assert response.status == 415
    await error_of(response)


async def test_json_with_charset_and_vendor_types_is_accepted(env: ServerEnv) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        response = await env.http.post("/api/admin/incidents", data=json.dumps(NEW_INCIDENT).encode(),
                                       headers={**auth(), "Content-Type": content_type})
        assert response.status == 201, content_type


async def test_oversized_bodies_are_413_by_length_and_by_what_arrives(env: ServerEnv) -> None:
    big = json.dumps(incident(message="x" * MAX_BODY)).encode()
    response = await env.http.post("/api/admin/incidents", data=big,
                                    headers={**auth(), "Content-Type": "application/json"})
    assert response.status == 413
    await error_of(response)

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: the server must count
        for _ in range(10):
            yield b" " * 1024
        yield big

    response = await env.http.post("/api/admin/incidents", data=chunked(),
                                   headers={**auth(), "Content-Type": "application/json"})
    assert response.status == 413
    assert await env.store.list_incidents() == []


async def test_a_body_just_under_the_limit_is_accepted(env: ServerEnv) -> None:
    body = incident(message="x")
    raw = json.dumps(body).encode()
    raw = raw[:-1] + b" " * (MAX_BODY - len(raw)) + b"}"
    assert len(raw) == MAX_BODY
    response = await env.http.post("/api/admin/incidents", data=raw,
                                   headers={**auth(), "Content-Type": "application/json"})
    assert response.status == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/admin/incidents/999"),
        ("POST", "/api/admin/incidents/999/ack"),
        ("POST", "/api/admin/incidents/999/resolve"),
        ("POST", "/api/admin/incidents/99999999999999999999999999/ack"),
        ("DELETE", "/api/admin/maintenances/999"),
        ("DELETE", "/api/admin/maintenances/99999999999999999999999999"),
        ("GET", "/api/admin/incidents/abc"),
        ("GET", "/api/admin/nothing-here"),
    ],
    ids=["get", "ack", "resolve", "ack-huge-id", "cancel", "cancel-huge-id", "non-numeric", "unknown-route"],
)
async def test_unknown_ids_and_routes_are_404(env: ServerEnv, method: str, path: str) -> None:
    response = await env.http.request(method, path, headers=auth())
    assert response.status == 404
    await error_of(response)


async def test_updates_with_unknown_id_are_404(env: ServerEnv) -> None:
    response = await env.http.post("/api/admin/incidents/999/updates", headers=auth(),
                                   json={"status": "identified", "message": "m"})
    assert response.status == 404


async def test_wrong_method_is_a_json_405(env: ServerEnv) -> None:
    response = await env.http.put("/api/admin/incidents", headers=auth(), json=NEW_INCIDENT)
    assert response.status == 405
    assert "POST" in response.headers["Allow"]
    await error_of(response)


async def test_updating_a_resolved_incident_is_a_409(env: ServerEnv) -> None:
    iid = await env.open_incident()
    response = await env.http.post(f"/api/admin/incidents/{iid}/resolve", headers=auth())
    assert response.status == 200
    before = len(env.changes)
    for path, body in ((f"/api/admin/incidents/{iid}/updates", {"status": "identified", "message": "de novo"}),
                       (f"/api/admin/incidents/{iid}/resolve", {"message": "outra vez"})):
        response = await env.http.post(path, headers=auth(), json=body)
        assert response.status == 409, path
        await error_of(response)
    assert len(env.changes) == before


async def test_the_first_acknowledgement_is_kept(env: ServerEnv) -> None:
    iid = await env.open_incident()
    first = await env.http.post(f"/api/admin/incidents/{iid}/ack", headers=auth(ALICE))
    assert first.status == 200
    env.clock.now += 60
    changes = len(env.changes)
    # Someone else: 409 saying who holds it and since when; nothing changes.
    second = await env.http.post(f"/api/admin/incidents/{iid}/ack", headers=auth(BOB))
    assert second.status == 409
    body = await second.json()
    assert body["acknowledged_by"] == "alice" and at(body["acknowledged_at"]) == NOW
    assert "already acknowledged by alice" in body["error"]
    assert len(env.changes) == changes
    # The same engineer again (a double click): 200 and the unchanged incident.
    again = await env.http.post(f"/api/admin/incidents/{iid}/ack", headers=auth(ALICE))
    assert again.status == 200
    assert (await again.json())["acknowledged_by"] == "alice"
    current = await (await env.http.get(f"/api/admin/incidents/{iid}", headers=auth())).json()
    assert (current["acknowledged_by"], at(current["acknowledged_at"])) == ("alice", NOW)
