"""Checks against real local servers: http outcomes, timeouts, refused/unresolvable targets, tcp, push."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.pytest_plugin import AiohttpServer
from aiohttp.test_utils import TestServer

from statuspage.config import Monitor, parse_config
from statuspage.probe.checks import USER_AGENT, Checker, PushBoard

STREAMED = web.AppKey("streamed", list[int])


def make_monitor(**fields: Any) -> Monitor:
    """A monitor as the validated config resolves it (key p/c/m, interval, timeout, grace filled in)."""
    config = parse_config({"pages": [{"slug": "p", "name": "P", "components": [
        {"slug": "c", "name": "C", "monitors": [{"name": "m", **fields}]}]}]})
    return config.pages[0].components[0].monitors[0]


class FakeClock:
    """A settable clock for push and `at` tests."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def closed_port() -> int:
    """A port nothing listens on: bind it, then let it go."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
async def checker() -> AsyncIterator[Checker]:
    async with Checker() as c:
        yield c


@pytest.fixture
async def server(aiohttp_server: AiohttpServer) -> TestServer:
    """A small site with one route per behaviour."""
    streamed: list[int] = [0]
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="hello world")

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="status page")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)
        return web.Response(text="eventually")

    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(text="too late")

    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=f"ua={request.headers.get('User-Agent')} x={request.headers.get('X-Check')}")

    async def huge(request: web.Request) -> web.StreamResponse:
        # 100 MB streamed without Content-Length: a check that drained it would take seconds.
        resp = web.StreamResponse()
        await resp.prepare(request)
        chunk = b"x" * 65536
        await resp.write(b"MARKER" + chunk[6:])
        for _ in range(100 * 16 - 1):
            await resp.write(chunk)
            streamed[0] += len(chunk)
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/slow", slow)
    app.router.add_get("/hang", hang)
    app.router.add_get("/echo", echo)
    app.router.add_get("/huge", huge)
    app[STREAMED] = streamed
    return await aiohttp_server(app)


@pytest.fixture
def site(server: TestServer) -> str:
    """The base URL of `server`."""
    return str(server.make_url("")).rstrip("/")


@pytest.mark.parametrize(
    ("path", "fields", "outcome", "error", "status", "message"),
    [
        pytest.param("/ok", {}, "up", None, 200, "HTTP 200", id="200-up"),
        pytest.param("/status/204", {"expect_status": [200, 204]}, "up", None, 204, "HTTP 204",
                     id="expected-status-list"),
        pytest.param("/status/404", {"expect_status": "400-404"}, "up", None, 404, "HTTP 404",
                     id="expected-status-range-includes-404"),
        pytest.param("/status/201", {"expect_status": 200}, "down", "http_status", 201, "HTTP 201",
                     id="status-outside-expected"),
        pytest.param("/status/500", {}, "down", "http_status", 500, "HTTP 500", id="500-http-status"),
        pytest.param("/ok", {"body_contains": "hello"}, "up", None, 200, "HTTP 200",
                     id="body-contains-found"),
        pytest.param("/ok", {"body_contains": "maintenance"}, "down", "body_mismatch", 200,
                     "expected text not found", id="body-mismatch"),
        pytest.param("/slow", {"degraded_after": 0.1}, "degraded", None, 200, "slow:", id="slow-degraded"),
        pytest.param("/ok", {"degraded_after": 1}, "up", None, 200, "HTTP 200", id="fast-not-degraded"),
        pytest.param("/status/500", {"degraded_after": 0.000001}, "down", "http_status", 500, "HTTP 500",
                     id="down-beats-degraded"),
    ],
)
async def test_http_outcomes(
    checker: Checker, site: str, path: str, fields: dict[str, Any], outcome: str, error: str | None,
    status: int, message: str,
) -> None:
    result = await checker.check(make_monitor(url=site + path, timeout=2, **fields))
    assert (result.outcome, result.error, result.status) == (outcome, error, status)
    assert result.message.startswith(message)
    assert result.monitor == "p/c/m"
    assert result.latency_ms is not None and result.latency_ms > 0
    assert result.cert_expires_at is None  # plain http


async def test_head_method(checker: Checker, site: str) -> None:
    result = await checker.check(make_monitor(url=site + "/ok", method="HEAD", body_contains=None))
    assert (result.outcome, result.status) == ("up", 200)


@pytest.mark.parametrize(
    "expected",
    [pytest.param(f"ua={USER_AGENT} ", id="user-agent"), pytest.param("x=yes", id="monitor-header")],
)
async def test_request_headers_sent(checker: Checker, site: str, expected: str) -> None:
    # The echo route answers with what it received; body_contains turns that into the outcome.
    mon = make_monitor(url=site + "/echo", headers={"X-Check": "yes"}, body_contains=expected)
    result = await checker.check(mon)
    assert result.outcome == "up", result.message


async def test_keep_alive_reuses_one_connection(aiohttp_server: AiohttpServer) -> None:
    peers: list[object] = []

    async def handler(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", handler)
    server = await aiohttp_server(app)
    async with Checker() as checker:
        for _ in range(3):
            assert (await checker.check(make_monitor(url=str(server.make_url("/"))))).outcome == "up"
    assert len(peers) == 3 and len(set(map(str, peers))) == 1


async def test_timeout_returns_within_the_monitor_timeout(checker: Checker, site: str) -> None:
    started = time.monotonic()
    result = await checker.check(make_monitor(url=site + "/hang", timeout=0.5))
    elapsed = time.monotonic() - started
    assert (result.outcome, result.error) == ("down", "timeout")
    assert result.message == "timed out after 0.5s waiting for response"
    assert elapsed < 0.5 + 0.3


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"type": "http", "url": "http://127.0.0.1:{port}/"}, id="http"),
        pytest.param({"type": "tcp", "host": "127.0.0.1", "port": "{port}"}, id="tcp"),
    ],
)
async def test_connection_refused(checker: Checker, fields: dict[str, str]) -> None:
    port = closed_port()
    filled: dict[str, Any] = {k: v.format(port=port) for k, v in fields.items()}
    if "port" in filled:
        filled["port"] = int(filled["port"])
    result = await checker.check(make_monitor(timeout=2, **filled))
    assert (result.outcome, result.error, result.message) == ("down", "connect", "connection refused")


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"type": "http", "url": "http://nowhere.invalid/"}, id="http"),
        pytest.param({"type": "tcp", "host": "nowhere.invalid", "port": 80}, id="tcp"),
    ],
)
async def test_unresolvable_host_is_dns(checker: Checker, fields: dict[str, Any]) -> None:
    result = await checker.check(make_monitor(timeout=2, **fields))
    assert (result.outcome, result.error) == ("down", "dns")
    assert "nowhere.invalid" in result.message


@pytest.mark.parametrize(
    ("fields", "outcome", "error"),
    [
        pytest.param({}, "up", None, id="no-body-check"),
        pytest.param({"body_contains": "MARKER"}, "up", None, id="text-inside-bound"),
        pytest.param({"body_contains": "never-there"}, "down", "body_mismatch", id="text-not-in-bound"),
    ],
)
async def test_huge_body_reads_only_the_bound(
    checker: Checker, server: TestServer, site: str, fields: dict[str, Any], outcome: str, error: str | None
) -> None:
    started = time.monotonic()
    result = await checker.check(make_monitor(url=site + "/huge", timeout=5, max_body_bytes=65536, **fields))
    assert time.monotonic() - started < 0.5
    await asyncio.sleep(0.05)  # let the server notice the hang-up
    # The server got to write what socket buffers hold (a few MB), not the 100 MB body.
    assert server.app is not None and server.app[STREAMED][0] < 20 * 1024 * 1024
    assert (result.outcome, result.error) == (outcome, error)
    if error:
        assert result.message == "expected text not found in the first 65536 bytes"


async def test_tcp_up(checker: Checker) -> None:
    accepted = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await checker.check(make_monitor(type="tcp", host="127.0.0.1", port=port, timeout=1))
        await asyncio.wait_for(accepted.wait(), 1)
    assert (result.outcome, result.error) == ("up", None)
    assert result.latency_ms is not None


async def test_at_comes_from_the_injected_clock(site: str) -> None:
    clock = FakeClock(1_234.5)
    async with Checker(clock=clock) as checker:
        result = await checker.check(make_monitor(url=site + "/ok"))
    assert result.at == 1_234.5


# --- push --------------------------------------------------------------------------------------


PUSH = {"type": "push", "token": "tok-12345678", "interval": 60, "grace": 30}


def test_push_board_keeps_the_newest_and_rejects_unknown_status() -> None:
    board = PushBoard(FakeClock(0))
    board.record("t", 100.0)
    board.record("t", 50.0, "down", "late")  # arrives late: older than what we have
    last = board.last("t")
    assert last is not None and (last.at, last.status) == (100.0, "up")
    assert board.last("other") is None
    with pytest.raises(ValueError, match="not up or down"):
        board.record("t", 200.0, "sideways")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pushes", "elapsed", "outcome", "error", "message"),
    [
        pytest.param([], 10, "up", None, "waiting for the first push", id="fresh-process"),
        pytest.param([], 91, "down", "push_missing", "no push received in 91s (allowed 90s)",
                     id="never-pushed"),
        pytest.param([(5, "up", "")], 80, "up", None, "push received", id="recent-up"),
        pytest.param([(5, "up", "")], 96, "down", "push_missing", "no push for 91s (allowed 90s)",
                     id="push-missing"),
        pytest.param([(5, "down", "smtp 451 queue full")], 10, "down", "push_down", "smtp 451 queue full",
                     id="down-with-message"),
        pytest.param([(5, "down", "")], 10, "down", "push_down", "push reported down", id="down-no-message"),
        pytest.param([(5, "down", "x"), (8, "up", "")], 10, "up", None, "push received", id="recovered"),
        pytest.param([(5, "down", "x")], 200, "down", "push_missing", "no push for 195s (allowed 90s)",
                     id="missing-beats-stale-down"),
    ],
)
async def test_push(
    pushes: list[tuple[float, str, str]], elapsed: float, outcome: str, error: str | None, message: str
) -> None:
    clock = FakeClock(1000.0)
    board = PushBoard(clock)
    for offset, status, msg in pushes:
        board.record("tok-12345678", 1000.0 + offset, status, msg)  # type: ignore[arg-type]
    async with Checker(push_board=board, clock=clock) as checker:
        clock.now = 1000.0 + elapsed
        result = await checker.check(make_monitor(**PUSH))
    assert (result.outcome, result.error, result.message) == (outcome, error, message)
    # An overdue heartbeat is dated at its deadline (last push or start + 90 s), not at the check.
    deadline = 1000.0 + (pushes[-1][0] if pushes else 0.0) + 90.0
    assert result.at == (deadline if error == "push_missing" else 1000.0 + elapsed)


# --- robustness ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("update", "message"),
    [
        # A monitor built without the config's defaults: interval_s asserts, inside the check.
        pytest.param({"interval": None}, "unexpected error: AssertionError", id="unresolved-monitor"),
        pytest.param({"type": "smtp"}, "unknown monitor type 'smtp'", id="unknown-type"),
    ],
)
async def test_unexpected_failures_become_internal(
    checker: Checker, update: dict[str, Any], message: str
) -> None:
    monitor = make_monitor(**PUSH).model_copy(update=update)
    result = await checker.check(monitor)
    assert (result.outcome, result.error, result.message) == ("down", "internal", message)


async def test_cancellation_propagates(checker: Checker, site: str) -> None:
    task = asyncio.create_task(checker.check(make_monitor(url=site + "/hang", timeout=5)))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_close_is_idempotent_and_later_checks_do_not_raise(site: str) -> None:
    checker = Checker()
    await checker.start()
    await checker.start()
    await checker.close()
    await checker.close()
    result = await checker.check(make_monitor(url=site + "/ok"))
    assert (result.outcome, result.error, result.message) == ("down", "internal", "the checker is closed")
