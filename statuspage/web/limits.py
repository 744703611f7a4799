"""Bounds on what clients can hold: connections, idle and header time, busy time; open files.

Every connection costs the process a file descriptor, and so does every probe. With no cap, 1,100
slow clients at the common limit of 1,024 open files left none for the probes, which then failed
with "Too many open files" and published a false outage. So:

- at start the soft open-file limit is raised to the hard one (`raise_open_file_limit`);
- the server holds at most `ServerLimits.max_connections` connections, never more than the open-file
  limit minus a reserve for the probes, the database, the render worker and logging
  (`server_limits`). At the cap a new connection closes the oldest *idle* one (waiting for a request,
  or still sending its headers, for at least a second) to take its place: slow clients only ever
  displace each other, and a real visitor gets in. When none can be displaced the newcomer is
  answered 503 (Retry-After: 5) and closed;
- a connection gets `idle_timeout` to send each request's headers and between requests (aiohttp's
  keep-alive timer, which also runs from the moment a connection opens), and one request may keep a
  connection busy (a client that never reads the answer) for `request_timeout` at most.

The counters (`evicted`, `refused`, `timed_out`) are exported as `statuspage_http_connections_*`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from statuspage.config import Config

__all__ = ["ConnectionGate", "GatedAppRunner", "GatedSockSite", "ServerLimits", "raise_open_file_limit",
           "server_limits"]

log = logging.getLogger(__name__)

BASE_RESERVE = 64
"""Descriptors for everything but connections and probes: database and WAL files, the render worker's
pipes, the listening sockets, the event loop, log files, DNS sockets, certificates being read."""
WATCH_EVERY_S = 5.0
MIN_IDLE_S = 1.0
"""An idle connection younger than this is never displaced at the cap (the newcomer is refused)."""

_BUSY_BODY = b"busy: too many connections\r\n"
_BUSY_503 = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
             b"Retry-After: 5\r\nConnection: close\r\nContent-Length: " + str(len(_BUSY_BODY)).encode()
             + b"\r\n\r\n" + _BUSY_BODY)


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """What one server may hold."""

    max_connections: int
    idle_timeout: float
    request_timeout: float
    backlog: int = 64


def raise_open_file_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (idempotent); return (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft >= hard:
        return soft, soft
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):  # some systems cap it below the hard limit (macOS: OPEN_MAX)
        return soft, soft
    return soft, target


def probe_reserve(config: Config) -> int:
    """Descriptors kept for probing: one per check that can run at once (its socket), plus the HTTP
    pool's kept-alive connections, bounded by the scheduler's caps."""
    monitors = [m for _, _, m in config.monitors() if m.type != "push"]
    http = sum(1 for m in monitors if m.type == "http")
    running = min(config.scheduler.max_concurrency, len(monitors))
    pooled = min(config.scheduler.http_connections, 2 * http)
    return running + pooled


def server_limits(config: Config, open_files: int | None = None) -> ServerLimits:
    """The server's limits: `server.max_connections`, lowered to fit `open_files` (the soft
    RLIMIT_NOFILE by default) minus what the probes and the rest of the process need."""
    if open_files is None:
        open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    backlog = 64
    # asyncio accepts up to `backlog` connections in one go, and the idle ones they displace close
    # their descriptors only at the next turn of the loop: both are in hand at once.
    room = open_files - BASE_RESERVE - 2 * backlog - probe_reserve(config)
    cap = max(16, min(config.server.max_connections, room))
    return ServerLimits(cap, config.server.idle_timeout, config.server.request_timeout, backlog)


class _Refuse(asyncio.Protocol):
    """A connection over the cap when none can be displaced: one 503 and close (no request is read)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(_BUSY_503)
        transport.close()


def _busy(handler: RequestHandler) -> bool:
    # aiohttp's own flag: a request is being handled or its answer written.
    return bool(getattr(handler, "_request_in_progress", False))


class ConnectionGate:
    """The protocol factory of the listening sockets: keeps the server within `limits`."""

    def __init__(self, server: web.Server, limits: ServerLimits) -> None:
        self.server = server
        self.limits = limits
        self.evicted = 0
        """Idle connections closed to make room for a new one."""
        self.refused = 0
        """New connections answered 503 because every connection was busy."""
        self.timed_out = 0
        """Connections closed because one request kept them busy past `request_timeout`."""
        self._seen: dict[RequestHandler, tuple[int, float]] = {}
        self._opened: dict[RequestHandler, float] = {}
        """When each connection came in (handlers have __slots__: no weak references)."""
        self._watch: asyncio.Task[None] | None = None

    def __call__(self) -> asyncio.BaseProtocol:
        loop = asyncio.get_running_loop()
        now = loop.time()
        live = [h for h in self.server.connections if h.transport is not None]
        if len(live) >= self.limits.max_connections:
            # The oldest idle connection makes room (dicts keep the order connections came in), but
            # not one younger than MIN_IDLE_S: in a burst, a visitor whose request is not read yet
            # must not be displaced by the connections arriving just after it.
            idle = next((h for h in live if not _busy(h) and now - self._opened.get(h, now) >= MIN_IDLE_S),
                        None)
            if idle is None:
                self.refused += 1
                return _Refuse()
            idle.force_close()
            self.evicted += 1
        if self._watch is None:
            self._watch = loop.create_task(self._watch_busy(), name="connection-watch")
        handler = self.server()
        self._opened[handler] = now
        if len(self._opened) > 2 * self.limits.max_connections + 64:
            self._forget_closed()
        return handler

    def _forget_closed(self) -> None:
        # A handler just made has no transport yet: keep what came in during the last few seconds.
        cutoff = asyncio.get_running_loop().time() - WATCH_EVERY_S
        self._opened = {h: t for h, t in self._opened.items() if h.transport is not None or t > cutoff}

    async def _watch_busy(self) -> None:
        """Close connections one request has kept busy for longer than `request_timeout`."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(WATCH_EVERY_S)
            now = loop.time()
            seen: dict[RequestHandler, tuple[int, float]] = {}
            for handler in self.server.connections:
                if handler.transport is None or not _busy(handler):
                    continue
                count = int(getattr(handler, "_request_count", 0))
                previous = self._seen.get(handler)
                since = previous[1] if previous is not None and previous[0] == count else now
                if now - since >= self.limits.request_timeout:
                    handler.force_close()
                    self.timed_out += 1
                    continue
                seen[handler] = (count, since)
            self._seen = seen
            self._forget_closed()

    async def close(self) -> None:
        """Stop the watchdog (idempotent)."""
        task, self._watch = self._watch, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class GatedAppRunner(web.AppRunner):
    """aiohttp's AppRunner that also stops its `ConnectionGate` when cleaned up."""

    gate: ConnectionGate | None = None

    async def cleanup(self) -> None:
        if self.gate is not None:
            await self.gate.close()
        await super().cleanup()


class GatedSockSite(web.SockSite):
    """aiohttp's SockSite with the `ConnectionGate` as its protocol factory."""

    def __init__(self, runner: web.AppRunner, sock: socket.socket, gate: ConnectionGate,
                 **kwargs: Any) -> None:
        super().__init__(runner, sock, backlog=gate.limits.backlog, **kwargs)
        self._gate = gate

    async def start(self) -> None:
        # BaseSite.start registers the site; SockSite.start would serve the bare server instead.
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._gate, sock=self._sock, backlog=self._backlog)
