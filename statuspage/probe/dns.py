"""The probes' name lookups: c-ares (aiodns) with a timeout of their own, cached, never in a thread pool.

With getaddrinfo in the event loop's default thread pool (six threads on two cores), twelve
monitors whose name server never answers held every thread for ten seconds at a time: the site's
file reads and a healthy monitor on `localhost` queued behind them (pages took 9 s, the healthy
monitor was confirmed down). Here a lookup is a socket in the event loop, bounded by
`probe.dns_timeout`, and a check looks its host up *before* connecting, so a name server that never
answers is a `dns` failure, not a `timeout`.

`Resolver` is also the HTTP connector's resolver (aiohttp's `AbstractResolver`): it caches answers for
`ttl` seconds, so the check's own lookup and the connector's are one query, and checks of one host
share a lookup in flight (a cancelled check does not cancel it for the others).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable, Sequence

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import AsyncResolver

__all__ = ["Resolver"]

_Key = tuple[str, int, int]


class Resolver(AbstractResolver):
    """aiodns lookups with a timeout, cached for `ttl` seconds, concurrent lookups of a name shared."""

    def __init__(self, servers: Sequence[str] = (), timeout: float = 5.0, ttl: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        # tries=1: the timeout is the whole wait; c-ares would otherwise retry with doubled timeouts.
        self._lookups = AsyncResolver(nameservers=list(servers) or None, timeout=timeout, tries=1)
        self.timeout = timeout
        self.ttl = ttl
        self._clock = clock
        self._cache: dict[_Key, tuple[float, list[ResolveResult]]] = {}
        self._flying: dict[_Key, asyncio.Task[list[ResolveResult]]] = {}

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        """The host's addresses (cached); OSError naming the resolver's reason when it cannot say."""
        key = (host, port, int(family))
        cached = self._cache.get(key)
        now = self._clock()
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        task = self._flying.get(key)
        if task is None:
            task = asyncio.ensure_future(self._lookup(key, host, port, family))
            # Read its outcome even when every check that wanted it gave up meanwhile.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._flying[key] = task
        # Shielded: a check that gives up (its own timeout) leaves the lookup to the others.
        return await asyncio.shield(task)

    async def _lookup(self, key: _Key, host: str, port: int,
                      family: socket.AddressFamily) -> list[ResolveResult]:
        try:
            async with asyncio.timeout(self.timeout + 0.5):  # c-ares' timer, with a margin of ours
                found = await self._lookups.resolve(host, port, family)
        except TimeoutError:
            raise OSError(None, "Timeout while contacting DNS servers") from None
        finally:
            self._flying.pop(key, None)
        self._cache[key] = (self._clock(), found)
        if len(self._cache) > 10_000:  # bounded: forget the oldest answers
            for old in list(self._cache)[:1000]:
                del self._cache[old]
        return found

    async def close(self) -> None:
        """Cancel lookups in flight and close the c-ares channel (idempotent)."""
        for task in list(self._flying.values()):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        self._flying.clear()
        await self._lookups.close()
