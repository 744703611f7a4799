"""Per-client rate limits: heartbeats (`/api/push/…`) and failed authentications (admin API, hooks).

Each client address has a token bucket. A push costs one token of the push bucket
(`server.push_rate_limit` per second, bursts of five seconds' worth); an answer 401 on /api/admin/ or
/api/hooks/ costs one of the auth bucket (`server.auth_failure_limit` per minute). An empty bucket
answers 429 with `Retry-After` before any work is done. Refusals are counted, and logged once per
client per minute, never one line each (a flood must not become a log flood).

Behind a reverse proxy every client has the proxy's address: raise the limits there (0 turns one off).
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from statuspage.web.http_api import error_response

__all__ = ["RateLimits", "TokenBuckets", "rate_limit_middleware"]

log = logging.getLogger(__name__)

MAX_CLIENTS = 10_000
"""Buckets kept at most (the least recently seen client is forgotten first): memory stays bounded."""
LOG_EVERY_S = 60.0


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float
    logged_at: float = -math.inf


class TokenBuckets:
    """One token bucket per key: `rate` tokens a second, at most `burst`; pure apart from the clock."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _bucket(self, key: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            self._buckets.move_to_end(key)
        return bucket

    def retry_after(self, key: str) -> float:
        """Seconds until `key` has a token again (0 when it has one now)."""
        bucket = self._bucket(key)
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / self.rate

    def take(self, key: str) -> bool:
        """Spend a token of `key`'s bucket; False when it is empty."""
        bucket = self._bucket(key)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True
        return False

    def should_log(self, key: str) -> bool:
        """True at most once a minute per key (the first refusal of a flood is logged, not the rest)."""
        bucket = self._bucket(key)
        now = self._clock()
        if now - bucket.logged_at >= LOG_EVERY_S:
            bucket.logged_at = now
            return True
        return False


class RateLimits:
    """The server's limits; `None` buckets are turned off."""

    def __init__(self, push_per_s: float, auth_failures_per_min: float,
                 clock: Callable[[], float] = time.monotonic,
                 on_refused: Callable[[str], None] | None = None) -> None:
        self.on_refused = on_refused
        """Called with `push` or `auth` for every refusal (the metrics count them)."""
        self.push = TokenBuckets(push_per_s, push_per_s * 5, clock) if push_per_s > 0 else None
        self.auth = (TokenBuckets(auth_failures_per_min / 60.0, auth_failures_per_min, clock)
                     if auth_failures_per_min > 0 else None)


LIMITS = web.AppKey("rate_limits", RateLimits)


def _too_many(limits: RateLimits, kind: str, key: str, what: str) -> web.Response:
    buckets = limits.push if kind == "push" else limits.auth
    assert buckets is not None
    if limits.on_refused is not None:
        limits.on_refused(kind)
    wait = max(1, math.ceil(buckets.retry_after(key)))
    if buckets.should_log(key):
        log.warning("rate limited remote=%s kind=%s retry_after=%d (more refusals of this client are not "
                    "logged for %.0fs)", key, what, wait, LOG_EVERY_S)
    return error_response(429, f"too many {what}; try again in {wait}s", headers={"Retry-After": str(wait)})


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """429 for a client over its push rate, or over its authentication failures, before any work."""
    limits = request.app[LIMITS]
    path = request.path
    client = request.remote or "-"
    if limits.push is not None and path.startswith("/api/push/") and not limits.push.take(client):
        return _too_many(limits, "push", client, "heartbeats")
    guarded = limits.auth is not None and path.startswith(("/api/admin/", "/api/hooks/"))
    if guarded and limits.auth is not None and limits.auth.retry_after(client) > 0:
        return _too_many(limits, "auth", client, "failed authentications")
    response = await handler(request)
    if guarded and limits.auth is not None and response.status == 401:
        limits.auth.take(client)
    return response
