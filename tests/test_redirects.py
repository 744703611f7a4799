"""Redirect chains behave as a browser visiting the monitored URL (issue 11, kind 1): real local servers."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trustme
from aiohttp import web
from aiohttp.pytest_plugin import AiohttpServer

from statuspage.probe.checks import Checker
from tests.test_faults import make_monitor


@pytest.fixture
async def checker() -> AsyncIterator[Checker]:
    async with Checker() as c:
        yield c


async def serve(aiohttp_server: AiohttpServer, routes: dict[str, Any], **kw: Any) -> str:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_route("*", path, handler)
    server = await aiohttp_server(app, **kw)
    scheme = "https" if "ssl" in kw else "http"
    return f"{scheme}://127.0.0.1:{server.port}"


# --- (a) a redirect can be the expected answer -----------------------------------------------------


async def test_input_1a_expected_301_with_follow_redirects_false(
    checker: Checker, aiohttp_server: AiohttpServer
) -> None:
    """Input 1a: expect_status [301] on a URL answering 301 → /new; the right value is up, HTTP 301."""
    async def old(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/new")

    async def new(request: web.Request) -> web.Response:
        return web.Response(text="new home")

    base = await serve(aiohttp_server, {"/old": old, "/new": new})
    judged_first = await checker.check(make_monitor(url=f"{base}/old", expect_status=[301],
                                                    follow_redirects=False, timeout=2))
    assert (judged_first.outcome, judged_first.status, judged_first.message) == ("up", 301, "HTTP 301")
    followed = await checker.check(make_monitor(url=f"{base}/old", expect_status=[301], timeout=2))
    assert (followed.outcome, followed.status, followed.error) == ("down", 200, "http_status")
    assert followed.message == f"HTTP 200 after 1 redirect to {base}/new"


# --- (b) cookies set along the chain ---------------------------------------------------------------


async def test_input_1b_cookie_set_on_a_redirect_to_itself(
    checker: Checker, aiohttp_server: AiohttpServer
) -> None:
    """Input 1b: 302 to itself with Set-Cookie, 200 once the cookie comes back; the right value is up."""
    seen: list[str | None] = []

    async def gate(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Cookie"))
        if request.cookies.get("session") == "granted":
            return web.Response(text="welcome")
        response = web.HTTPFound("/app")
        response.set_cookie("session", "granted", path="/", httponly=True)
        raise response

    base = await serve(aiohttp_server, {"/app": gate})
    monitor = make_monitor(url=f"{base}/app", body_contains="welcome", timeout=2)
    first = await checker.check(monitor)
    assert (first.outcome, first.status, first.error) == ("up", 200, None)
    assert first.message == f"HTTP 200 after 1 redirect to {base}/app"
    # A fresh jar per check: the next check (and any other monitor) starts without the cookie.
    second = await checker.check(monitor)
    other = await checker.check(make_monitor(url=f"{base}/app", timeout=2, max_redirects=0))
    assert second.outcome == "up"
    assert (other.outcome, other.error) == ("down", "too_many_redirects")
    assert seen == [None, "session=granted", None, "session=granted", None]


async def test_redirect_loop_without_new_cookies_is_detected_at_once(
    checker: Checker, aiohttp_server: AiohttpServer
) -> None:
    calls = [0]

    async def loop(request: web.Request) -> web.Response:
        calls[0] += 1
        response = web.HTTPFound("/loop")
        response.set_cookie("tries", "1")  # the same cookie again: the next request is identical
        raise response

    base = await serve(aiohttp_server, {"/loop": loop})
    result = await checker.check(make_monitor(url=f"{base}/loop", timeout=2))
    assert (result.outcome, result.error, result.message) == (
        "down", "too_many_redirects", f"redirect loop at {base}/loop")
    assert calls[0] == 2


# --- (c) everything else a chain touches -----------------------------------------------------------


@pytest.mark.parametrize(("status", "method", "after"), [
    (301, "POST", "GET"), (302, "POST", "GET"), (303, "POST", "GET"), (303, "PUT", "GET"),
    (303, "HEAD", "HEAD"), (307, "POST", "POST"), (308, "PUT", "PUT"), (301, "PUT", "PUT"),
    (302, "HEAD", "HEAD"), (302, "GET", "GET"),
])
async def test_method_after_redirect_follows_rfc_9110(
    checker: Checker, aiohttp_server: AiohttpServer, status: int, method: str, after: str
) -> None:
    got: list[tuple[str, str | None]] = []

    async def start(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": "next"})

    async def target(request: web.Request) -> web.Response:
        got.append((request.method, request.headers.get("Content-Type")))
        return web.Response(text="ok")

    base = await serve(aiohttp_server, {"/a/start": start, "/a/next": target})
    result = await checker.check(make_monitor(url=f"{base}/a/start", method=method, timeout=2,
                                              headers={"Content-Type": "application/json"}))
    assert result.outcome == "up", result.message
    assert got == [(after, "application/json" if after == method else None)]


async def test_credentials_stay_with_their_origin(
    checker: Checker, aiohttp_server: AiohttpServer
) -> None:
    """Authorization, Cookie and API-key headers reach the monitor's origin, never another one."""
    received: dict[str, dict[str, str | None]] = {}

    def recorder(name: str, then: str | None) -> Any:
        async def handler(request: web.Request) -> web.Response:
            received[name] = {h: request.headers.get(h) for h in ("Authorization", "Cookie", "X-Api-Key",
                                                                  "X-Trace")}
            if then:
                raise web.HTTPFound(then)
            return web.Response(text="done")
        return handler

    other = await serve(aiohttp_server, {"/elsewhere": recorder("other", None)})
    home = await serve(aiohttp_server, {"/start": recorder("start", "/same"),
                                        "/same": recorder("same", f"{other}/elsewhere")})
    result = await checker.check(make_monitor(url=f"{home}/start", timeout=2, headers={
        "Authorization": "Bearer s3cret", "Cookie": "sid=1", "X-Api-Key": "k3y", "X-Trace": "t"}))
    assert result.outcome == "up", result.message
    sent = {"Authorization": "Bearer s3cret", "Cookie": "sid=1", "X-Api-Key": "k3y", "X-Trace": "t"}
    assert received["start"] == sent and received["same"] == sent
    assert received["other"] == {"Authorization": None, "Cookie": None, "X-Api-Key": None, "X-Trace": "t"}


async def test_url_credentials_are_sent_to_their_origin_only(
    checker: Checker, aiohttp_server: AiohttpServer
) -> None:
    received: dict[str, str | None] = {}

    async def away(request: web.Request) -> web.Response:
        received["other"] = request.headers.get("Authorization")
        return web.Response(text="ok")

    other = await serve(aiohttp_server, {"/": away})

    async def start(request: web.Request) -> web.Response:
        received["home"] = request.headers.get("Authorization")
        raise web.HTTPFound(f"{other}/")

    home = await serve(aiohttp_server, {"/": start})
    result = await checker.check(make_monitor(url=home.replace("://", "://ops:pw@") + "/", timeout=2))
    assert result.outcome == "up"
    assert received == {"home": "Basic b3BzOnB3", "other": None}
    assert "pw" not in result.message


@pytest.mark.parametrize(("location", "error", "message"), [
    ("ftp://files.example/x", "protocol", "redirect to an invalid or non-HTTP location"),
    ("javascript:alert(1)", "protocol", "redirect to an invalid or non-HTTP location"),
])
async def test_a_location_a_browser_refuses(
    checker: Checker, aiohttp_server: AiohttpServer, location: str, error: str, message: str
) -> None:
    async def start(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": location})

    base = await serve(aiohttp_server, {"/": start})
    result = await checker.check(make_monitor(url=f"{base}/", timeout=2))
    assert (result.outcome, result.error, result.message) == ("down", error, message)


async def test_relative_locations_latency_body_and_hop_limit(
    checker: Checker, aiohttp_server: AiohttpServer
) -> None:
    async def slow_start(request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)
        raise web.HTTPFound("../b/end?x=1")

    async def end(request: web.Request) -> web.Response:
        assert request.query["x"] == "1"
        return web.Response(text="final page", headers={"Retry-After": "5"}, status=200)

    async def no_location(request: web.Request) -> web.Response:
        return web.Response(status=302, text="moved, somewhere")

    base = await serve(aiohttp_server, {"/a/start": slow_start, "/b/end": end, "/odd": no_location})
    result = await checker.check(make_monitor(url=f"{base}/a/start", body_contains="final page", timeout=2,
                                              degraded_after="200ms"))
    # Latency is the whole chain's: the slow first hop makes the visit slow.
    assert (result.outcome, result.status) == ("degraded", 200)
    assert result.latency_ms is not None and result.latency_ms >= 300
    assert result.message.endswith(f"after 1 redirect to {base}/b/end?x=1")
    # A 3xx without Location is a final response, judged by expect_status like any other.
    odd = await checker.check(make_monitor(url=f"{base}/odd", timeout=2))
    assert (odd.outcome, odd.status, odd.message) == ("up", 302, "HTTP 302")
    blocked = await checker.check(make_monitor(url=f"{base}/a/start", timeout=2, max_redirects=0))
    assert (blocked.outcome, blocked.error, blocked.message) == ("down", "too_many_redirects",
                                                                 "more than 0 redirects")


async def test_the_whole_chain_shares_one_timeout(checker: Checker, aiohttp_server: AiohttpServer) -> None:
    async def hop(request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)
        raise web.HTTPFound(f"/hop/{int(request.match_info['n']) + 1}")

    app = web.Application()
    app.router.add_get("/hop/{n}", hop)
    server = await aiohttp_server(app)
    result = await checker.check(make_monitor(url=str(server.make_url("/hop/0")), timeout=1))
    assert (result.outcome, result.error) == ("down", "timeout")
    assert result.message.startswith("timed out after 1s waiting for response (after 3 redirects to ")


# --- certificates along the chain ------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    return ctx


@pytest.mark.parametrize("short_first", [True, False], ids=["first-hop-expires-first", "last-hop-expires-first"])
async def test_certificate_warning_covers_every_hop(
    ca: trustme.CA, aiohttp_server: AiohttpServer, short_first: bool
) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    soon, later = now + dt.timedelta(days=5), now + dt.timedelta(days=300)
    first_cert = ca.issue_cert("127.0.0.1", not_after=soon if short_first else later)
    last_cert = ca.issue_cert("localhost", not_after=later if short_first else soon)

    async def land(request: web.Request) -> web.Response:
        return web.Response(text="landed")

    last = await serve(aiohttp_server, {"/": land}, ssl=tls_context(last_cert))
    last = last.replace("127.0.0.1", "localhost")

    async def start(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(f"{last}/")

    first = await serve(aiohttp_server, {"/": start}, ssl=tls_context(first_cert))
    client = ssl.create_default_context()
    ca.configure_trust(client)
    async with Checker(ssl_context=client) as checker:
        result = await checker.check(make_monitor(url=f"{first}/", timeout=3))
    assert (result.outcome, result.status) == ("up", 200), result.message
    assert result.cert_expires_at == soon.timestamp()
    assert result.cert_host == ("127.0.0.1" if short_first else "localhost")


async def test_https_to_http_downgrade_keeps_secure_cookies_and_credentials_home(
    ca: trustme.CA, aiohttp_server: AiohttpServer
) -> None:
    received: dict[str, str | None] = {}

    async def plain(request: web.Request) -> web.Response:
        received["cookie"] = request.headers.get("Cookie")
        received["authorization"] = request.headers.get("Authorization")
        return web.Response(text="plain")

    http_base = await serve(aiohttp_server, {"/": plain})

    async def secure(request: web.Request) -> web.Response:
        response = web.HTTPFound(f"{http_base}/")
        response.set_cookie("secure_sid", "1", secure=True)
        response.set_cookie("plain_pref", "2")
        raise response

    https_base = await serve(aiohttp_server, {"/": secure}, ssl=tls_context(ca.issue_cert("127.0.0.1")))
    client = ssl.create_default_context()
    ca.configure_trust(client)
    async with Checker(ssl_context=client) as checker:
        result = await checker.check(make_monitor(url=f"{https_base}/", timeout=3,
                                                  headers={"Authorization": "Bearer t0ken"}))
    assert result.outcome == "up", result.message
    assert received == {"cookie": "plain_pref=2", "authorization": None}


@pytest.mark.parametrize(("host", "label"), [("app.example", "web"), ("login.example", "web (login.example)")])
def test_page_warning_names_the_host_a_redirect_led_to(host: str, label: str) -> None:
    from statuspage.config import parse_config
    from statuspage.models import MonitorState
    from statuspage.site.snapshot import build_page

    config = parse_config({"pages": [{"slug": "nps", "name": "NPS", "components": [
        {"slug": "app", "name": "App", "monitors": [{"name": "web", "url": "https://app.example/"}]}]}]}, env={})
    now = 1_767_225_600.0
    state = MonitorState(last_at=now - 1, last_outcome="up", cert_expires_at=now + 5.5 * 86400, cert_host=host)
    view = build_page(config, config.pages[0], 1, now, {"nps/app/web": state}, {}, [], [])
    [warning] = view.components[0].cert_warnings
    assert (warning.monitor, warning.days_left, warning.host) == (label, 5, host)
