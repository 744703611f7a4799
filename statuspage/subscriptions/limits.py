"""Rate limits of the subscribe form: a token bucket per key (client address, e-mail address), in
memory, bounded, pure (the caller gives the time)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimit:
    """At most `count` requests per `per` seconds for each key, refilled continuously.

    `take(key, now)` returns 0 when the request may go ahead, else the seconds to wait (for
    `Retry-After`). At most `max_keys` keys are remembered; full buckets are forgotten first."""

    def __init__(self, count: int, per: float, max_keys: int = 100_000) -> None:
        if count < 1 or per <= 0:
            raise ValueError("a rate limit needs count >= 1 and per > 0")
        self.capacity = float(count)
        self.rate = count / per
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, now: float) -> float:
        """Spend one request of `key` at `now`; 0.0 when allowed, else seconds until one is."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget(now)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + max(0.0, now - bucket.at) * self.rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def _forget(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.capacity]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:  # still full of busy keys: drop the oldest half
            for key in sorted(self._buckets, key=lambda k: self._buckets[k].at)[: self.max_keys // 2]:
                del self._buckets[key]


def retry_after(seconds: float) -> str:
    """A `Retry-After` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
