"""Probes: one check of one monitor (`http`, `tcp` or `push`) becomes one `CheckResult`.

A check never raises: every failure, including a bug in this module, becomes a `down` result with
an error class. Low-level errors are translated into error classes in one place, `classify_error`:

    dns                 the host name does not resolve
    connect             refused / unreachable / other socket error while connecting
    tls                 bad, expired or untrusted certificate, or a failed handshake
    timeout             the whole check took longer than the monitor's timeout
    connection_reset    the server closed or reset the connection before a full response
    protocol            the server did not speak HTTP (malformed status line, headers or body)
    too_many_redirects  more redirects than the monitor's `max_redirects`, or a redirect loop
    http_status         a status code outside `expect_status`
    body_mismatch       `body_contains` not found in the bounded body prefix
    push_missing        no heartbeat within interval + grace
    push_down           the last heartbeat reported `down`
    internal            an unexpected error in the prober itself
    local               the prober's own machine is out of a resource (open files, buffers, memory,
                        ports): says nothing about the service, so it is *no data*, never downtime
"""

from __future__ import annotations

import asyncio
import errno
import functools
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit

import aiohttp
from aiohttp.connector import Connection
from aiohttp.http_exceptions import HttpProcessingError
from yarl import URL

from statuspage.config import Monitor, Probe, Scheduler
from statuspage.models import CheckResult, Outcome
from statuspage.probe.dns import Resolver
from statuspage.probe.pagetext import contains_text
from statuspage.probe.redirects import Hop, RedirectError, first_hop, next_hop
from statuspage.redaction import redact_url

logger = logging.getLogger(__name__)

ErrorClass = Literal[
    "dns", "connect", "tls", "timeout", "connection_reset", "protocol", "too_many_redirects",
    "http_status", "body_mismatch", "push_missing", "push_down", "internal", "local",
]
"""Every error class a check can report in `CheckResult.error`."""

PushStatus = Literal["up", "down"]

USER_AGENT = "statuspage/0.1 (+status monitor)"
MAX_REDIRECTS = 10
"""Redirects followed when a monitor does not set `max_redirects` (as Uptime Kuma)."""
DEFAULT_MAX_BODY_BYTES = 64 * 1024
# One slow or hanging host must not take every pooled connection away from the other monitors.
LIMIT_PER_HOST = 20
# Long enough that 1 s–30 s intervals reuse connections and DNS answers, short enough that a
# DNS change (failover) is noticed within half a minute.
KEEPALIVE_S = 30.0
DNS_CACHE_TTL_S = 30


# --- push heartbeats ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Push:
    """The last heartbeat received for one push token."""

    at: float
    status: PushStatus = "up"
    message: str = ""


PushListener = Callable[[str, Push], None]
"""Called with (token, heartbeat) right after a heartbeat is recorded; must be quick."""


class PushBoard:
    """The last heartbeat per push token, owned by the running process and restored across restarts.

    A token that never had a heartbeat is awaited from `waiting_since(token)`: the start of the
    first process that watched it (restored), else this board's `created_at`, so a freshly
    configured monitor is not instantly down while one that had heartbeats before a restart is
    judged from its real last one: a restart is never a recovery.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.created_at = clock()
        self._last: dict[str, Push] = {}
        self._waiting: dict[str, float] = {}
        self._judged: dict[str, float] = {}
        self._listeners: list[PushListener] = []

    def record(self, token: str, at: float, status: PushStatus = "up", msg: str = "") -> None:
        """Record a heartbeat; an older one arriving late never replaces a newer one."""
        if status not in ("up", "down"):
            raise ValueError(f"push status {status!r} is not up or down")
        previous = self._last.get(token)
        if previous is None or at >= previous.at:
            push = Push(at=at, status=status, message=msg)
            self._last[token] = push
            for listener in self._listeners:
                try:
                    listener(token, push)
                except Exception:  # a listener's fault never loses the heartbeat
                    logger.exception("push listener failed")

    def last(self, token: str) -> Push | None:
        """The latest heartbeat for `token`, or None if it never had one."""
        return self._last.get(token)

    def restore(self, token: str, last: Push | None, waiting_since: float | None = None) -> None:
        """Resume what an earlier process knew: the last heartbeat, or since when the first is awaited."""
        if last is not None:
            current = self._last.get(token)
            if current is None or last.at > current.at:
                self._last[token] = last
        elif waiting_since is not None and waiting_since < self.created_at:
            self._waiting[token] = waiting_since

    def waiting_since(self, token: str) -> float:
        """Since when a token without heartbeats is awaited."""
        return self._waiting.get(token, self.created_at)

    def deadline(self, token: str, allowed: float) -> float:
        """When the token's heartbeat is overdue: last heartbeat (or the wait's start) + `allowed`."""
        last = self._last.get(token)
        return (last.at if last is not None else self.waiting_since(token)) + allowed

    def subscribe(self, listener: PushListener) -> None:
        """Call `listener` after every recorded heartbeat (the prober re-arms its deadline check)."""
        self._listeners.append(listener)

    def judged(self, token: str) -> float | None:
        """The latest time a check of this token was dated in this process, or None."""
        return self._judged.get(token)

    def mark_judged(self, token: str, at: float) -> None:
        """Note that a check of this token was dated `at`."""
        self._judged[token] = max(at, self._judged.get(token, at))


# --- error classification ----------------------------------------------------------------------


def classify_error(
    exc: BaseException, *, timeout_s: float, host: str | None = None, phase: str = ""
) -> tuple[ErrorClass, str]:
    """Translate any exception raised by a probe into (error class, short human message).

    The most specific cases come first: aiohttp wraps OS and ssl errors in classes that are
    themselves OSErrors, so the order of the checks matters. A shortage on the prober's own machine
    comes before anything else: whatever it is wrapped in, it is `local`.
    """
    local = local_shortage(exc)
    if local is not None:
        return "local", local
    if isinstance(exc, TimeoutError) and phase == RESOLVING:
        # A name server that never answers is a DNS failure, whichever timer noticed it first.
        return "dns", f"DNS lookup of {host or 'the host'} timed out after {timeout_s:g}s"
    if isinstance(exc, TimeoutError):  # asyncio.timeout and aiohttp's own timeouts alike
        return "timeout", f"timed out after {timeout_s:g}s" + (f" {phase}" if phase else "")
    if isinstance(exc, _TooManyRedirects):
        return "too_many_redirects", str(exc)
    if isinstance(exc, RedirectError):
        return "protocol", str(exc)
    if isinstance(exc, aiohttp.TooManyRedirects):
        return "too_many_redirects", f"more than {MAX_REDIRECTS} redirects"
    if isinstance(exc, aiohttp.RedirectClientError):
        return "protocol", "redirect to an invalid or non-HTTP location"
    if isinstance(exc, aiohttp.ClientConnectorDNSError | socket.gaierror | _DNSFailure):
        # After a redirect the failing name is the connector's, not the monitor's.
        name = exc.host if isinstance(exc, aiohttp.ClientConnectorDNSError | _DNSFailure) else host
        cause = exc.os_error if isinstance(exc, aiohttp.ClientConnectorDNSError) else exc
        why = str(getattr(cause, "strerror", None) or "")
        if "timeout" in why.lower():
            return "dns", f"DNS lookup of {name or 'the host'} timed out (no answer from the name server)"
        return "dns", f"cannot resolve {name}" if name else "cannot resolve host"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert_error = exc.certificate_error
        detail = getattr(cert_error, "verify_message", None) or str(cert_error)
        return "tls", f"certificate: {detail}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "tls", f"certificate: {exc.verify_message or exc}"
    if isinstance(exc, aiohttp.ClientSSLError):
        cause = exc.os_error
        return "tls", f"TLS handshake failed: {getattr(cause, 'reason', None) or type(cause).__name__}"
    if isinstance(exc, ssl.SSLError):  # after the handshake, e.g. a corrupt record mid-body
        return "tls", f"TLS error: {exc.reason or type(exc).__name__}"
    if isinstance(exc, aiohttp.ServerFingerprintMismatch):
        return "tls", "certificate fingerprint mismatch"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _classify_connect(exc.os_error)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "connection_reset", "server closed the connection before responding"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "connection_reset", "connection closed mid-response"
    if isinstance(exc, aiohttp.ClientResponseError | HttpProcessingError):
        # Without raise_for_status, aiohttp raises ClientResponseError only for unparsable responses.
        return "protocol", "malformed HTTP response"
    if isinstance(exc, ConnectionResetError | BrokenPipeError | aiohttp.ClientConnectionError):
        return "connection_reset", "connection reset"
    if isinstance(exc, aiohttp.InvalidURL):
        return "internal", "invalid URL"
    if isinstance(exc, OSError):
        return _classify_connect(exc)
    return "internal", f"unexpected error: {type(exc).__name__}"


RESOLVING = "resolving the host name"
"""The phase of a check while its host name is looked up (a timeout then is a `dns` error)."""


class _DNSFailure(OSError):
    """A lookup of a tcp monitor's host that failed (the resolver's own error as strerror)."""

    def __init__(self, host: str, why: str) -> None:
        super().__init__(None, why)
        self.host = host


LOCAL_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.EADDRNOTAVAIL})
"""Errors that mean this machine ran out of something (descriptors, buffers, memory, ephemeral ports)."""


def local_shortage(exc: BaseException) -> str | None:
    """A message when `exc` (or what it wraps) is a shortage on the prober's machine, else None."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        cur = todo.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, OSError) and (cur.errno in LOCAL_ERRNOS or "Too many open files" in str(cur)):
            what = cur.strerror or str(cur)
            return f"the prober is short of resources: {what}"
        if isinstance(cur, MemoryError) or (isinstance(cur, RuntimeError) and "new thread" in str(cur)):
            return f"the prober is short of resources: {type(cur).__name__}"
        todo += [cur.__cause__, cur.__context__, getattr(cur, "os_error", None)]
        todo += list(getattr(cur, "exceptions", ()))  # ExceptionGroup, aiohappyeyeballs' groups
    return None


def _classify_connect(exc: OSError) -> tuple[ErrorClass, str]:
    if isinstance(exc, TimeoutError):  # the kernel gave up before our own timeout did
        return "timeout", "connect timed out"
    if isinstance(exc, socket.gaierror):
        return "dns", "cannot resolve host"
    # aiohappyeyeballs reports several failed addresses as a plain OSError with a shared errno.
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return "connect", "connection refused"
    if exc.errno == errno.EHOSTUNREACH:
        return "connect", "host unreachable"
    if exc.errno == errno.ENETUNREACH:
        return "connect", "network unreachable"
    return "connect", f"cannot connect: {exc.strerror or type(exc).__name__}"


# --- TLS certificate expiry --------------------------------------------------------------------


class _CertAwareResponse(aiohttp.ClientResponse):
    """A response that notes its server certificate's expiry while it still holds the connection.

    aiohttp releases the connection back to the pool as soon as a short body is complete — often
    before `session.request()` even returns — so `resp.connection` is frequently None by the time
    the caller looks. `start()` is the one point where the connection is always attached.
    """

    cert_expires_at: float | None = None

    async def start(self, connection: Connection) -> aiohttp.ClientResponse:
        self.cert_expires_at = _peer_cert_expiry(connection.transport)
        return await super().start(connection)


def _peer_cert_expiry(transport: asyncio.BaseTransport | None) -> float | None:
    """The verified peer certificate's notAfter as epoch seconds, or None (plain HTTP, unverified)."""
    if transport is None:
        return None
    try:
        ssl_object = transport.get_extra_info("ssl_object")
        if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
            return None
        # The decoded form is only filled in when the certificate was verified, which ours always is.
        cert = ssl_object.getpeercert()
        not_after = cert.get("notAfter") if cert else None
        return float(ssl.cert_time_to_seconds(not_after)) if isinstance(not_after, str) else None
    except (ValueError, OSError):  # an odd certificate must not fail an otherwise good check
        return None


# --- the checker -------------------------------------------------------------------------------


class Checker:
    """Runs checks. Owns one shared HTTP session; use `async with Checker(...)` or `start()`/`close()`."""

    def __init__(
        self,
        *,
        scheduler: Scheduler | None = None,
        push_board: PushBoard | None = None,
        clock: Callable[[], float] = time.time,
        ssl_context: ssl.SSLContext | None = None,
        probe: Probe | None = None,
    ) -> None:
        self._scheduler = scheduler or Scheduler()
        self._probe = probe or Probe()
        self._resolver: Resolver | None = None
        self._clock = clock
        self.push_board = push_board if push_board is not None else PushBoard(clock)
        self._ssl_context = ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def start(self) -> None:
        """Create the HTTP session (idempotent). Must run inside the event loop that runs checks."""
        if self._session is not None:
            return
        if self._closed:
            raise RuntimeError("the checker is closed")
        limit = self._scheduler.http_connections
        # Lookups go through c-ares (aiodns) with their own timeout, never through getaddrinfo in the
        # event loop's thread pool: twelve hung lookups there starved every other monitor and the
        # site's file reads (issue 12.5).
        self._resolver = Resolver(self._probe.dns_servers, self._probe.dns_timeout, DNS_CACHE_TTL_S)
        connector = aiohttp.TCPConnector(
            limit=limit,
            limit_per_host=min(limit, LIMIT_PER_HOST),
            use_dns_cache=False,  # the resolver caches, and shares that with the checks' own lookups
            keepalive_timeout=KEEPALIVE_S,
            ssl=self._ssl_context if self._ssl_context is not None else True,
            resolver=self._resolver,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            # Each check enforces its own total deadline with asyncio.timeout; aiohttp's default
            # 5-minute total and 30 s connect timers would only blur which limit fired.
            timeout=aiohttp.ClientTimeout(total=None, connect=None, sock_connect=None, sock_read=None),
            headers={"User-Agent": USER_AGENT},
            # Monitors share the session: one monitor's cookies must not change another's requests.
            cookie_jar=aiohttp.DummyCookieJar(),
            response_class=_CertAwareResponse,
            trust_env=False,
        )

    async def close(self) -> None:
        """Close the HTTP session and its pooled connections (idempotent)."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        resolver, self._resolver = self._resolver, None
        if resolver is not None:
            await resolver.close()

    async def __aenter__(self) -> Checker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def check(self, monitor: Monitor) -> CheckResult:
        """Check one monitor. Never raises (except asyncio.CancelledError when cancelled)."""
        at = self._clock()
        try:
            if monitor.type == "http":
                result = await self.check_http(monitor, at)
            elif monitor.type == "tcp":
                result = await self.check_tcp(monitor, at)
            elif monitor.type == "push":
                result = self.check_push(monitor, at)
            else:
                result = _down(monitor, at, "internal", f"unknown monitor type {monitor.type!r}")
        except asyncio.CancelledError:
            task = asyncio.current_task()
            # A CancelledError nobody asked for (a library bug) is a failed check, not a shutdown.
            if task is None or task.cancelling():
                raise
            logger.error("check monitor=%s error=internal stray CancelledError", monitor.key)
            result = _down(monitor, at, "internal", "unexpected error: CancelledError")
        except Exception as exc:
            logger.exception("check monitor=%s error=internal", monitor.key)
            result = _down(monitor, at, "internal", f"unexpected error: {type(exc).__name__}")
        if result.ended_at is None and monitor.type != "push":
            # The time a check waited counts with its result (a hung check covers its whole wait).
            result = replace(result, ended_at=max(at, self._clock()))
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "check monitor=%s outcome=%s ms=%s error=%s",
                monitor.key, result.outcome,
                None if result.latency_ms is None else round(result.latency_ms), result.error,
            )
        return result

    async def check_http(self, monitor: Monitor, at: float) -> CheckResult:
        """Visit the monitor's URL as a browser would (redirects, cookies) and judge the final response.

        Latency covers the whole chain; status, `body_contains` and `degraded_after` are judged
        on the final response; the certificate expiry is the earliest of every hop's.
        """
        if self._session is None:
            if self._closed:
                return _down(monitor, at, "internal", "the checker is closed")
            await self.start()
        session = self._session
        assert session is not None and monitor.url is not None
        timeout_s = monitor.timeout_s
        limit = monitor.max_body_bytes or DEFAULT_MAX_BODY_BYTES
        cap = monitor.max_redirects if monitor.max_redirects is not None else MAX_REDIRECTS
        phase = "waiting for response"
        certs = _Certs()
        status: int | None = None
        hop_host: str | None = None
        on_the_way = False  # hop_host is the current hop's (else the configured URL's, parsed only then)
        chain = _Chain(monitor)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout_s):
                hop = chain.first
                while True:
                    hop_host, on_the_way = hop.url.host, True
                    phase = RESOLVING
                    await self._addresses(hop.url.host or "", hop.url.port or 0, family=0)
                    phase = "waiting for response"
                    async with session.request(
                        hop.method, hop.url, headers=chain.headers(hop), allow_redirects=False,
                        raise_for_status=False,
                    ) as resp:
                        if isinstance(resp, _CertAwareResponse):
                            certs.add(resp.cert_expires_at, hop.url.host)
                        status = resp.status
                        chain.keep_cookies(resp)
                        following = (chain.next(hop, resp) if monitor.follow_redirects is not False
                                     else None)
                        if following is not None:
                            if chain.redirects > cap:
                                raise _TooManyRedirects(f"more than {cap} redirects")
                            if chain.seen(following):
                                raise _TooManyRedirects(f"redirect loop at {_shown(following.url)}")
                            hop = following
                            continue  # the redirect's own body is never read
                        body, complete = b"", True
                        if status in monitor.expect_status:
                            phase = "reading body"
                            body, complete = await _read_prefix(resp.content, limit)
                        latency_ms = (time.perf_counter() - started) * 1000.0
                        if not complete:
                            # Closing drops the rest unread; releasing would keep the socket for reuse
                            # only after draining a body that may be huge or endless.
                            resp.close()
                        content_type = resp.headers.get("Content-Type")
                        retry_after = resp.headers.get("Retry-After")
                        break
        except Exception as exc:
            host = hop_host if on_the_way else _url_host(monitor.url)
            error, message = classify_error(exc, timeout_s=timeout_s, host=host, phase=phase)
            if chain.redirects and error != "too_many_redirects":
                message += f" (after {_count(chain.redirects)} to {_shown(chain.hops[-1].url)})"
            return _down(monitor, at, error, message, status=status, cert_expires_at=certs.expires_at,
                         cert_host=certs.host, ended_at=self._clock())
        ended_at = self._clock()
        via = f" after {_count(chain.redirects)} to {_shown(hop.url)}" if chain.redirects else ""

        def result(outcome: Outcome, error: str | None, message: str) -> CheckResult:
            return CheckResult(monitor=monitor.key, at=at, outcome=outcome, latency_ms=latency_ms,
                               status=status, error=error, message=message, cert_expires_at=certs.expires_at,
                               cert_host=certs.host, ended_at=ended_at)

        if status not in monitor.expect_status:
            message = f"HTTP {status}"
            if retry_after:
                message += f", Retry-After {retry_after.strip()[:40]}"
            return result("down", "http_status", message + via)
        if monitor.body_contains is not None and not contains_text(body, content_type, monitor.body_contains):
            where = "" if complete else f" in the first {limit} bytes"
            return result("down", "body_mismatch", f"expected text not found{where}{via}")
        if monitor.degraded_after is not None and latency_ms > monitor.degraded_after * 1000.0:
            return result("degraded", None,
                          f"slow: {latency_ms:.0f} ms (over {monitor.degraded_after:g}s){via}")
        return result("up", None, f"HTTP {status}{via}")

    async def check_tcp(self, monitor: Monitor, at: float) -> CheckResult:
        """Open a TCP connection to host:port within the timeout, then close it."""
        assert monitor.host is not None and monitor.port is not None
        timeout_s = monitor.timeout_s
        started = time.perf_counter()
        phase = RESOLVING
        try:
            async with asyncio.timeout(timeout_s):
                addresses = await self._addresses(monitor.host, monitor.port)
                phase = "connecting"
                _, writer = await _connect_any(addresses, monitor.port)
        except Exception as exc:
            error, message = classify_error(exc, timeout_s=timeout_s, host=monitor.host, phase=phase)
            return _down(monitor, at, error, message)
        latency_ms = (time.perf_counter() - started) * 1000.0
        writer.close()
        # The target was reachable; how it takes our FIN is not part of the result.
        try:
            async with asyncio.timeout(1.0):
                await writer.wait_closed()
        except (OSError, TimeoutError):
            pass
        if monitor.degraded_after is not None and latency_ms > monitor.degraded_after * 1000.0:
            return CheckResult(monitor=monitor.key, at=at, outcome="degraded", latency_ms=latency_ms,
                               message=f"slow: {latency_ms:.0f} ms (over {monitor.degraded_after:g}s)")
        return CheckResult(monitor=monitor.key, at=at, outcome="up", latency_ms=latency_ms,
                           message="connected")

    async def _addresses(self, host: str, port: int, family: int = socket.AF_UNSPEC) -> list[str]:
        """The host's addresses through the checker's resolver (an IP literal is its own; `family` 0
        is what the HTTP connector asks, so its lookup is then answered from the cache)."""
        literal = _ip_literal(host)
        if literal is not None:
            return [literal]
        if self._resolver is None:
            if self._closed:
                raise RuntimeError("the checker is closed")
            await self.start()
        assert self._resolver is not None
        try:
            found = await self._resolver.resolve(host, port, family=socket.AddressFamily(family))
        except OSError as exc:
            raise _DNSFailure(host, exc.strerror or str(exc)) from exc
        return list(dict.fromkeys(str(r["host"]) for r in found))

    def check_push(self, monitor: Monitor, at: float) -> CheckResult:
        """Judge a heartbeat monitor from the push board at time `at`.

        Overdue means no heartbeat by last heartbeat + interval + grace; the down result is dated
        at that deadline (when this check comes later: a tick's phase never delays the outage),
        but never before this process's start or an earlier result of the monitor (the time it was
        not watching stays no data).
        """
        assert monitor.token is not None
        board = self.push_board
        allowed = monitor.interval_s + (monitor.grace or 0.0)
        last = board.last(monitor.token)
        since = last.at if last else board.waiting_since(monitor.token)
        due = since + allowed
        if at >= due:
            # The first overdue result is dated at the deadline, or at the earliest moment this
            # process could have seen it; later ones at their own time.
            previous = board.judged(monitor.token)
            first = previous is None or previous < due
            floor = board.created_at if previous is None else max(previous, board.created_at)
            dated = min(at, max(due, floor)) if first else at
            waited = f"{at - since:.0f}s"
            what = f"no push for {waited}" if last else f"no push received in {waited}"
            result = _down(monitor, dated, "push_missing", f"{what} (allowed {allowed:g}s)")
        elif last is not None and last.status == "down":
            result = _down(monitor, at, "push_down", last.message or "push reported down")
        else:
            result = CheckResult(monitor=monitor.key, at=at, outcome="up",
                                 message="push received" if last else "waiting for the first push")
        board.mark_judged(monitor.token, result.at)
        return result


# --- helpers -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _ip_literal(host: str) -> str | None:
    """The address when `host` is an IP literal (brackets of IPv6 dropped), else None. Cached: it was
    asked at every check, and parsing the address (or failing to) cost ~5 µs of each."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return host.strip("[]")


async def _connect_any(
    addresses: list[str], port: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the first address that accepts, in the resolver's order (each failure is kept;
    the last one is raised when none accepts)."""
    error: OSError | None = None
    for address in addresses:
        try:
            return await asyncio.open_connection(address, port)
        except OSError as exc:
            error = exc
    raise error or OSError(None, "the host has no addresses")


async def _read_prefix(content: aiohttp.StreamReader, limit: int) -> tuple[bytes, bool]:
    """Read at most `limit` bytes of a body; also say whether that was the whole body."""
    buf = bytearray()
    while len(buf) < limit:
        chunk = await content.read(limit - len(buf))
        if not chunk:
            return bytes(buf), True
        buf += chunk
        if content.at_eof():  # the whole body came in one read (most do): no second wait for b""
            return bytes(buf), True
    return bytes(buf), content.at_eof()


class _TooManyRedirects(Exception):
    """More redirects than the monitor allows, or a loop."""


class _Certs:
    """The earliest-expiring certificate met along a redirect chain, and its host."""

    def __init__(self) -> None:
        self.expires_at: float | None = None
        self.host: str | None = None

    def add(self, expires_at: float | None, host: str | None) -> None:
        if expires_at is not None and (self.expires_at is None or expires_at < self.expires_at):
            self.expires_at, self.host = expires_at, host


class _Chain:
    """One check's redirect chain: its hops and its own cookie jar (never shared between checks)."""

    def __init__(self, monitor: Monitor) -> None:
        assert monitor.url is not None
        self.first = first_hop(monitor.method, monitor.url, monitor.headers)
        self.hops: list[Hop] = [self.first]
        self._jar: aiohttp.CookieJar | None = None
        self._sent: list[tuple[Hop, str]] = []
        """Each request sent and its Cookie header; spelled out (`str(url)`) only when a redirect
        asks whether it loops: most checks have no redirect, and that text cost every one of them."""

    @property
    def redirects(self) -> int:
        return len(self.hops) - 1

    def _cookie(self, hop: Hop) -> tuple[str, str]:
        """(header name, value) of the Cookie header for `hop`: configured cookies, then the jar's."""
        name = next((k for k in hop.headers if k.lower() == "cookie"), "Cookie")
        parts = [hop.headers[name]] if name in hop.headers else []
        if self._jar is not None:
            parts += [f"{m.key}={m.coded_value}" for m in self._jar.filter_cookies(hop.url).values()]
        return name, "; ".join(parts)

    def headers(self, hop: Hop) -> dict[str, str] | None:
        """The hop's headers, with the cookies this chain collected for its URL (None: no header of
        its own, the session's defaults alone)."""
        if not hop.headers and self._jar is None:
            self._sent.append((hop, ""))
            return None
        headers = dict(hop.headers)
        name, cookie = self._cookie(hop)
        if cookie:
            headers[name] = cookie
        self._sent.append((hop, cookie))
        return headers

    def keep_cookies(self, resp: aiohttp.ClientResponse) -> None:
        if "Set-Cookie" in resp.headers:
            if self._jar is None:
                # unsafe: monitored hosts may be IP addresses, which a strict jar refuses cookies from.
                self._jar = aiohttp.CookieJar(unsafe=True)
            self._jar.update_cookies(resp.cookies, resp.url)

    def next(self, hop: Hop, resp: aiohttp.ClientResponse) -> Hop | None:
        following = next_hop(hop, resp.status, resp.headers.get("Location"), self.first)
        if following is not None:
            self.hops.append(following)
        return following

    def seen(self, hop: Hop) -> bool:
        """True when this exact request (method, URL, cookies) was already sent in this chain."""
        sent = {(h.method, str(h.url), cookie) for h, cookie in self._sent}
        return (hop.method, str(hop.url), self._cookie(hop)[1]) in sent


def _count(redirects: int) -> str:
    return "1 redirect" if redirects == 1 else f"{redirects} redirects"


def _shown(url: URL) -> str:
    """A URL fit for a message: without credentials or secret query values, and not too long."""
    text = redact_url(str(url))
    return text if len(text) <= 120 else text[:117] + "..."


def _url_host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _down(
    monitor: Monitor,
    at: float,
    error: str,
    message: str,
    *,
    status: int | None = None,
    cert_expires_at: float | None = None,
    cert_host: str | None = None,
    ended_at: float | None = None,
) -> CheckResult:
    return CheckResult(monitor=monitor.key, at=at, outcome="down", status=status, error=error,
                       message=message, cert_expires_at=cert_expires_at, cert_host=cert_host,
                       ended_at=ended_at)


__all__ = ["DEFAULT_MAX_BODY_BYTES", "MAX_REDIRECTS", "USER_AGENT", "Checker", "ErrorClass", "Push",
           "PushBoard", "PushListener", "classify_error", "local_shortage"]
