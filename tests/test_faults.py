"""Fault injection: broken servers, bad TLS, redirect loops, hangs. Each becomes one classified result."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trustme
from aiohttp import web
from aiohttp.pytest_plugin import AiohttpServer

from statuspage.config import Monitor, parse_config
from statuspage.probe.checks import Checker

RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def make_monitor(**fields: Any) -> Monitor:
    """A monitor as the validated config resolves it (key p/c/m, interval, timeout filled in)."""
    config = parse_config({"pages": [{"slug": "p", "name": "P", "components": [
        {"slug": "c", "name": "C", "monitors": [{"name": "m", **fields}]}]}]})
    return config.pages[0].components[0].monitors[0]


@asynccontextmanager
async def raw_server(handler: RawHandler) -> AsyncIterator[str]:
    """A TCP server running `handler` per connection; yields its http:// base URL."""
    writers: list[asyncio.StreamWriter] = []

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            await reader.readuntil(b"\r\n\r\n")  # the request head
            await handler(reader, writer)
        except (OSError, asyncio.IncompleteReadError):
            pass  # the checker hung up on us, which is the point of most of these tests
        finally:
            writer.close()

    server = await asyncio.start_server(tracked, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for writer in writers:
            writer.close()


@pytest.fixture
async def checker() -> AsyncIterator[Checker]:
    async with Checker() as c:
        yield c


# --- broken HTTP servers -----------------------------------------------------------------------


async def reset_mid_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.transport.abort()  # RST, not FIN


async def close_mid_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.close()


async def close_before_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.6\r\nthis is not http at all\r\n\r\n")
    await writer.drain()
    await asyncio.sleep(1)


async def bad_header(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: banana\r\n\r\nhello")
    await writer.drain()
    await asyncio.sleep(1)


async def hang_before_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


async def drip_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    for _ in range(100):
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(1)


@pytest.mark.parametrize(
    ("handler", "error", "message"),
    [
        pytest.param(reset_mid_body, "connection_reset", "connection closed mid-response",
                     id="reset-mid-body"),
        pytest.param(close_mid_body, "connection_reset", "connection closed mid-response",
                     id="fin-mid-body"),
        pytest.param(close_before_headers, "connection_reset",
                     "server closed the connection before responding", id="close-before-headers"),
        pytest.param(garbage, "protocol", "malformed HTTP response", id="not-http"),
        pytest.param(bad_header, "protocol", "malformed HTTP response", id="bad-content-length"),
        pytest.param(hang_before_headers, "timeout", "timed out after 0.5s waiting for response",
                     id="hang-before-headers"),
        pytest.param(drip_body, "timeout", "timed out after 0.5s reading body", id="drip-one-byte-a-second"),
    ],
)
async def test_broken_server(checker: Checker, handler: RawHandler, error: str, message: str) -> None:
    async with raw_server(handler) as base:
        started = time.monotonic()
        result = await checker.check(make_monitor(url=base + "/", timeout=0.5))
        elapsed = time.monotonic() - started
    assert (result.outcome, result.error, result.message) == ("down", error, message)
    assert elapsed < 0.5 + 0.3


async def test_100mb_body_is_not_drained(checker: Checker) -> None:
    sent = [0]

    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        total = 100 * 1024 * 1024
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n".encode())
        chunk = b"y" * (1024 * 1024)
        for _ in range(100):
            writer.write(chunk)
            await writer.drain()
            sent[0] += len(chunk)

    async with raw_server(huge) as base:
        started = time.monotonic()
        result = await checker.check(make_monitor(url=base + "/", timeout=5, max_body_bytes=65536,
                                                  body_contains="yyyy"))
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.05)  # let the server notice the hang-up
    assert (result.outcome, result.error) == ("up", None)
    assert elapsed < 0.5
    # What was written is bounded by socket buffers (a few MB), not the body: the checker hung up.
    assert sent[0] < 20 * 1024 * 1024


async def test_503_with_retry_after(checker: Checker, aiohttp_server: AiohttpServer) -> None:
    async def unavailable(request: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": "120"}, text="maintenance")

    app = web.Application()
    app.router.add_get("/", unavailable)
    server = await aiohttp_server(app)
    result = await checker.check(make_monitor(url=str(server.make_url("/")), timeout=1))
    assert (result.outcome, result.error, result.status) == ("down", "http_status", 503)
    assert result.message == "HTTP 503, Retry-After 120"


async def test_nxdomain(checker: Checker) -> None:
    result = await checker.check(make_monitor(url="https://status.nowhere.invalid/health", timeout=1))
    assert (result.outcome, result.error) == ("down", "dns")
    assert result.message == "cannot resolve status.nowhere.invalid"


# --- redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hops", "outcome", "error"),
    [
        pytest.param(5, "up", None, id="five-redirects-followed"),
        pytest.param(6, "down", "too_many_redirects", id="six-redirects-too-many"),
        pytest.param(-1, "down", "too_many_redirects", id="redirect-loop-is-seen-at-once"),
    ],
)
async def test_redirects(
    checker: Checker, aiohttp_server: AiohttpServer, hops: int, outcome: str, error: str | None
) -> None:
    async def hop(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if hops < 0:  # loop forever between two URLs
            raise web.HTTPFound(f"/hop/{1 - n}")
        if n < hops:
            raise web.HTTPFound(f"/hop/{n + 1}")
        return web.Response(text="arrived")

    app = web.Application()
    app.router.add_get("/hop/{n}", hop)
    server = await aiohttp_server(app)
    started = time.monotonic()
    result = await checker.check(make_monitor(url=str(server.make_url("/hop/0")), timeout=2, max_redirects=5))
    assert time.monotonic() - started < 1
    assert (result.outcome, result.error) == (outcome, error)
    if hops > 0 and error:
        assert result.message == "more than 5 redirects"
    if hops < 0:
        assert result.message == f"redirect loop at {server.make_url('/hop/0')}"


# --- TLS -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """Default verification, trusting only the test CA."""
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


async def tls_server(aiohttp_server: AiohttpServer, cert: trustme.LeafCert) -> str:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="secure hello")

    app = web.Application()
    app.router.add_get("/", hello)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    server = await aiohttp_server(app, ssl=ctx)
    return f"https://127.0.0.1:{server.port}/"


async def test_valid_tls_records_cert_expiry(ca: trustme.CA, aiohttp_server: AiohttpServer) -> None:
    not_after = dt.datetime(2031, 5, 17, 12, 0, 0, tzinfo=dt.UTC)
    url = await tls_server(aiohttp_server, ca.issue_cert("127.0.0.1", not_after=not_after))
    async with Checker(ssl_context=client_context(ca)) as checker:
        first = await checker.check(make_monitor(url=url, timeout=2, body_contains="secure"))
        again = await checker.check(make_monitor(url=url, timeout=2))  # over the pooled connection
    for result in (first, again):
        assert (result.outcome, result.error, result.status) == ("up", None, 200)
        assert result.cert_expires_at == not_after.timestamp()


@pytest.mark.parametrize(
    ("issue", "trusted", "message"),
    [
        pytest.param({"identities": ["other.example"]}, True, "certificate: IP address mismatch",
                     id="wrong-hostname"),
        pytest.param({"not_before": -10, "not_after": -1}, True, "certificate: certificate has expired",
                     id="expired"),
        pytest.param({}, False, "certificate: ", id="untrusted-ca"),
    ],
)
async def test_bad_certificate_is_tls(
    ca: trustme.CA, aiohttp_server: AiohttpServer, issue: dict[str, Any], trusted: bool, message: str
) -> None:
    now = dt.datetime.now(dt.UTC)
    cert = ca.issue_cert(
        *issue.get("identities", ["127.0.0.1"]),
        not_before=now + dt.timedelta(days=issue["not_before"]) if "not_before" in issue else None,
        not_after=now + dt.timedelta(days=issue["not_after"]) if "not_after" in issue else None,
    )
    url = await tls_server(aiohttp_server, cert)
    trust = client_context(ca if trusted else trustme.CA())
    async with Checker(ssl_context=trust) as checker:
        result = await checker.check(make_monitor(url=url, timeout=2))
    assert (result.outcome, result.error, result.status) == ("down", "tls", None)
    assert result.message.startswith(message)
    assert result.cert_expires_at is None


async def test_https_to_a_plain_http_port_is_tls(checker: Checker, aiohttp_server: AiohttpServer) -> None:
    app = web.Application()
    server = await aiohttp_server(app)
    result = await checker.check(make_monitor(url=f"https://127.0.0.1:{server.port}/", timeout=2))
    assert (result.outcome, result.error) == ("down", "tls")
    assert result.message.startswith("TLS handshake failed")


# --- isolation -----------------------------------------------------------------------------------


async def test_hanging_targets_do_not_delay_the_others(
    checker: Checker, aiohttp_server: AiohttpServer
) -> None:
    async def fast(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", fast)
    server = await aiohttp_server(app)
    fast_monitor = make_monitor(url=str(server.make_url("/")), timeout=1)

    async def timed(monitor: Monitor) -> tuple[str, float]:
        started = time.monotonic()
        result = await checker.check(monitor)
        return result.outcome, time.monotonic() - started

    async with raw_server(hang_before_headers) as hanging:
        hang_monitor = make_monitor(url=hanging + "/", timeout=1)
        results = await asyncio.gather(*[timed(hang_monitor) for _ in range(5)],
                                       *[timed(fast_monitor) for _ in range(20)])
    hung, quick = results[:5], results[5:]
    assert all(outcome == "down" and 1 <= took < 1.3 for outcome, took in hung)
    assert all(outcome == "up" and took < 0.5 for outcome, took in quick)
