"""The live server over real HTTP: healthz, push heartbeats, the static site, headers, metrics, logging."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import ClientSession
from prometheus_client.parser import text_string_to_metric_families

from statuspage.models import CheckResult, MonitorState
from statuspage.probe.scheduler import CheckEvent
from statuspage.web.server import redact_path, serve
from tests.server_env import ALICE, PUSH_TOKEN, ServerEnv, auth, close_env, open_env


@pytest.fixture
async def env(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[ServerEnv]:
    e = await open_env(tmp_path, aiohttp_client)
    yield e
    await close_env(e)


def write(site: Path, rel: str, content: str | bytes) -> Path:
    path = site / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


async def raw_get(server_port: int, target: bytes, method: bytes = b"GET") -> tuple[int, bytes, bytes]:
    """Send a request line exactly as given (clients would normalise `..` and percent-escapes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server_port)
    writer.write(method + b" " + target + b" HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head, body


# --- healthz and headers ---------------------------------------------------------------------------


async def test_healthz_is_ok_json_with_security_headers(env: ServerEnv) -> None:
    response = await env.http.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


# --- push ----------------------------------------------------------------------------------------------


async def test_push_get_records_an_up_heartbeat(env: ServerEnv) -> None:
    env.clock.now += 42
    response = await env.http.get(f"/api/push/{PUSH_TOKEN}")
    assert response.status == 200
    assert await response.json() == {"ok": True, "monitor": "nps/email/sender"}
    push = env.push_board.last(PUSH_TOKEN)
    assert push is not None and push.at == env.clock.now and push.status == "up"


@pytest.mark.parametrize(
    ("kwargs", "status", "msg"),
    [
        ({"params": {"status": "down", "msg": "fila parada"}}, "down", "fila parada"),
        ({"data": {"status": "down", "msg": "smtp 451"}}, "down", "smtp 451"),
        ({"json": {"status": "up", "msg": "batch 17 sent"}}, "up", "batch 17 sent"),
        ({"params": {"msg": "x" * 1000}}, "up", "x" * 200),
        ({"params": {"msg": "a\x00b\nc"}}, "up", "abc"),
    ],
    ids=["query", "form", "json", "long-msg-is-cut", "control-chars-dropped"],
)
async def test_push_post_status_and_message(env: ServerEnv, kwargs: dict[str, Any], status: str, msg: str) -> None:
    response = await env.http.post(f"/api/push/{PUSH_TOKEN}", **kwargs)
    assert response.status == 200, await response.text()
    push = env.push_board.last(PUSH_TOKEN)
    assert push is not None and (push.status, push.message) == (status, msg)


async def test_push_unknown_token_is_404_and_bad_status_400(env: ServerEnv) -> None:
    response = await env.http.get("/api/push/not-a-token")
    assert response.status == 404
    assert "error" in await response.json()
    response = await env.http.get(f"/api/push/{PUSH_TOKEN}", params={"status": "sideways"})
    assert response.status == 400
    assert (await response.json())["field"] == "status"
    assert env.push_board.last(PUSH_TOKEN) is None


async def test_push_body_over_the_limit_is_413(env: ServerEnv) -> None:
    response = await env.http.post(f"/api/push/{PUSH_TOKEN}", data=b"msg=" + b"x" * 20_000,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 413
    assert env.push_board.last(PUSH_TOKEN) is None


# --- the static site ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "url", "content_type", "max_age"),
    [
        ("index.html", "/", "text/html; charset=utf-8", 30),
        ("nps/index.html", "/nps/", "text/html; charset=utf-8", 30),
        ("nps/history.html", "/nps/history.html", "text/html; charset=utf-8", 30),
        ("nps/api/v2/summary.json", "/nps/api/v2/summary.json", "application/json", 30),
        ("nps/feed.atom", "/nps/feed.atom", "application/atom+xml", 30),
        ("nps/badges/status.svg", "/nps/badges/status.svg", "image/svg+xml", 30),
        ("static/site.css", "/static/site.css", "text/css; charset=utf-8", 3600),
    ],
    ids=["root", "page-dir", "history", "json", "atom", "svg", "css"],
)
async def test_site_files_have_their_content_type_and_cache_policy(
    env: ServerEnv, rel: str, url: str, content_type: str, max_age: int
) -> None:
    write(env.site_dir, rel, f"content of {rel}")
    response = await env.http.get(url)
    assert response.status == 200
    assert await response.text() == f"content of {rel}"
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Cache-Control"] == f"public, max-age={max_age}"
    assert response.headers["ETag"].startswith('"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_html_gets_a_csp_without_inline_script(env: ServerEnv) -> None:
    write(env.site_dir, "nps/index.html", "<h1>NPS</h1>")
    response = await env.http.get("/nps/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


async def test_a_page_directory_without_slash_redirects(env: ServerEnv) -> None:
    write(env.site_dir, "nps/index.html", "nps")
    response = await env.http.get("/nps", allow_redirects=False)
    assert response.status == 301
    assert response.headers["Location"] == "/nps/"


async def test_etag_gives_304_and_changes_when_the_file_is_replaced(env: ServerEnv) -> None:
    path = write(env.site_dir, "nps/api/v2/status.json", '{"a": 1}')
    first = await env.http.get("/nps/api/v2/status.json")
    etag = first.headers["ETag"]
    again = await env.http.get("/nps/api/v2/status.json", headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    assert again.headers["ETag"] == etag
    weak = await env.http.get("/nps/api/v2/status.json", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status == 304
    # The renderer replaces files atomically: a new inode and mtime make a new ETag.
    tmp = path.with_name(".status.json.tmp")
    tmp.write_text('{"a": 2}')
    os.replace(tmp, path)
    changed = await env.http.get("/nps/api/v2/status.json", headers={"If-None-Match": etag})
    assert changed.status == 200
    assert await changed.json() == {"a": 2}
    assert changed.headers["ETag"] != etag


async def test_head_has_the_headers_without_the_body(env: ServerEnv) -> None:
    write(env.site_dir, "nps/badges/uptime-30d.svg", "<svg/>")
    status, head, body = await raw_get(env.http.port or 0, b"/nps/badges/uptime-30d.svg", b"HEAD")
    assert status == 200
    assert body == b""
    assert b"Content-Length: 6" in head and b"image/svg+xml" in head


async def test_missing_files_get_the_404_page(env: ServerEnv) -> None:
    response = await env.http.get("/nps/incidents/999.html")
    assert response.status == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "404" in await response.text()
    write(env.site_dir, "404.html", "<p>Não encontrada</p>")
    response = await env.http.get("/nope")
    assert response.status == 404
    assert await response.text() == "<p>Não encontrada</p>"


TRAVERSALS = [
    b"/../secret.txt",
    b"/%2e%2e/secret.txt",
    b"/%2E%2E/secret.txt",
    b"/nps/../../secret.txt",
    b"/nps/%2e%2e/%2e%2e/secret.txt",
    b"/..%2fsecret.txt",
    b"/%2e%2e%2fsecret.txt",
    b"/..%5csecret.txt",
    b"//secret.txt",
    b"/%2F..%2Fsecret.txt",
    b"/SECRET_ABSOLUTE",
    b"/%2FSECRET_ABSOLUTE",
    b"/nps/%00/../../secret.txt",
    b"/.hidden",
    b"/nps/.tmp-index.html",
    b"/link/secret.txt",
]


async def test_path_traversal_never_reaches_a_file_outside_the_site(env: ServerEnv, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    write(env.site_dir, ".hidden", "TOP-SECRET")
    write(env.site_dir, "nps/.tmp-index.html", "TOP-SECRET")
    (env.site_dir / "link").symlink_to(tmp_path)
    for target in TRAVERSALS:
        target = target.replace(b"SECRET_ABSOLUTE", str(secret).lstrip("/").encode())
        status, _, body = await raw_get(env.http.port or 0, target)
        assert status in (400, 404), (target, status)
        assert b"TOP-SECRET" not in body, target


# --- the admin page and the API document ----------------------------------------------------------------


async def test_admin_page_is_static_html_with_an_external_script_and_strict_csp(env: ServerEnv) -> None:
    response = await env.http.get("/admin")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = await response.text()
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/admin/admin.js" defer>']
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["Cache-Control"] == "no-store"
    js = await env.http.get("/admin/admin.js")
    assert js.status == 200
    assert js.headers["Content-Type"] == "text/javascript; charset=utf-8"
    source = await js.text()
    # User text only ever goes in as text, and nothing is fetched from another origin.
    assert "innerHTML" not in source and "outerHTML" not in source and "insertAdjacentHTML" not in source
    assert "http://" not in source and "https://" not in source
    assert "localStorage" not in source and "document.cookie" not in source


async def test_openapi_is_served_without_auth_and_documents_every_api_route(env: ServerEnv) -> None:
    response = await env.http.get("/api/admin/openapi.yaml")
    assert response.status == 200
    spec = yaml.safe_load(await response.text())
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops
                  if method in ("get", "post", "delete", "put", "patch")}
    served = set()
    for resource in env.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter", "")
        if not path.startswith(("/api/", "/healthz", "/metrics")) or "{tail" in path:
            continue
        path = re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path)
        for route in resource:
            if route.method != "HEAD":
                served.add((path, route.method))
    assert served == documented


# --- metrics ------------------------------------------------------------------------------------------------


async def test_metrics_endpoint_serves_parseable_prometheus_text(env: ServerEnv) -> None:
    env.metrics.observe_check(CheckEvent(CheckResult("nps/app/web", 1.0, "down"), MonitorState(), None, 0.01, 0.5))
    response = await env.http.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(await response.text())}
    assert {"statuspage_checks", "statuspage_check_duration_seconds", "statuspage_schedule_lag_seconds",
            "statuspage_store_pending_rows"} <= set(families)
    counts = {s.labels["outcome"]: s.value for s in families["statuspage_checks"].samples
              if s.name == "statuspage_checks_total" and s.labels["monitor"] == "web"}
    assert counts == {"up": 0, "degraded": 0, "down": 1}


# --- failures and logging ------------------------------------------------------------------------------------


async def test_an_unexpected_error_is_a_logged_json_500_not_a_crash(
    env: ServerEnv, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    incident = await env.open_incident()

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(env.incidents, "acknowledge", broken)
    with caplog.at_level(logging.ERROR, logger="statuspage.web.server"):
        response = await env.http.post(f"/api/admin/incidents/{incident}/ack", headers=auth())
    assert response.status == 500
    assert (await response.json())["error"].startswith("internal error")
    assert "database on fire" in caplog.text
    assert ALICE not in caplog.text
    assert (await env.http.get("/healthz")).status == 200  # the server goes on


async def test_serve_logs_requests_without_authorization_or_push_tokens(
    env: ServerEnv, caplog: pytest.LogCaptureFixture
) -> None:
    runner = await serve(env.app, "127.0.0.1", 0)
    port = runner.addresses[0][1]
    try:
        with caplog.at_level(logging.DEBUG):
            async with ClientSession(f"http://127.0.0.1:{port}") as http:
                for headers in (auth(), auth("wrong-token-but-still-secret")):
                    async with http.get("/api/admin/incidents", headers=headers) as response:
                        assert response.status in (200, 401)
                async with http.get(f"/api/push/{PUSH_TOKEN}?msg=hello") as response:
                    assert response.status == 200
    finally:
        await runner.cleanup()
    access = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(access) == 2  # an accepted heartbeat is counted in /metrics, not logged (issue 12.9)
    assert not any("/api/push/" in line for line in access)
    for secret in (ALICE, "wrong-token-but-still-secret", PUSH_TOKEN, "Bearer", "hello"):
        assert secret not in caplog.text


def test_redact_path_hides_push_tokens_only() -> None:
    assert redact_path("/api/push/abc123") == "/api/push/…"
    assert redact_path("/api/push/abc123/extra") == "/api/push/…/extra"
    assert redact_path("/nps/index.html") == "/nps/index.html"

