"""A location watching itself: its canaries every `probe.canary_every`, and its failure pattern.

The rule is statuspage/locations/health.py's; this module does the network part (an HTTP GET that
gets any answer below 500, or a TCP connection) and tells the operator, in the story's words:

    LOCATION UNHEALTHY sp: 1 of 1 canaries failing (10.9.0.1:9: connect); its failures are no data
    LOCATION HEALTHY sp again after 1m 2s
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import aiohttp

from statuspage.config import Config
from statuspage.durations import format_duration
from statuspage.locations.health import LocationHealth, target_host
from statuspage.models import CheckResult

events = logging.getLogger("statuspage.events")
log = logging.getLogger(__name__)

__all__ = ["LocationWatch", "canary_failures"]


async def _one(session: aiohttp.ClientSession, target: str, timeout: float) -> str | None:
    try:
        async with asyncio.timeout(timeout):
            if "://" in target:
                async with session.get(target, allow_redirects=False) as response:
                    await response.content.read(1024)
                    return None if response.status < 500 else f"{target}: HTTP {response.status}"
            host, _, port = target.rpartition(":")
            _, writer = await asyncio.open_connection(host.strip("[]"), int(port))
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return None
    except TimeoutError:
        return f"{target}: timeout"
    except (OSError, aiohttp.ClientError) as exc:
        return f"{target}: {exc.__class__.__name__}"


async def canary_failures(targets: list[str], timeout: float) -> list[str]:
    """Check every canary at once; return one line per failed canary (none: all answered)."""
    if not targets:
        return []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        outcomes = await asyncio.gather(*(_one(session, t, timeout) for t in targets))
    return [o for o in outcomes if o is not None]


class LocationWatch:
    """This instance's location health: the prober's gate and the canary loop."""

    def __init__(self, config: Config, location: str, *, clock: Callable[[], float] = time.time,
                 on_change: Callable[[str, bool], None] | None = None) -> None:
        pages = {m.key: p.slug for p, _, m in config.monitors()}
        hosts = {m.key: target_host(m.url or f"{m.host}:{m.port}") for _, _, m in config.monitors()
                 if m.type != "push"}
        interval = min((m.interval_s for _, _, m in config.monitors()), default=30.0)
        self.health = LocationHealth(location, {k: v for k, v in pages.items() if k in hosts}, hosts,
                                     window=interval, since=clock())
        self.canaries = list(config.probe.canaries)
        self.every = config.probe.canary_every
        self._clock = clock
        self._on_change = on_change
        self._task: asyncio.Task[None] | None = None

    def gate(self, result: CheckResult) -> bool:
        """Whether a check result counts (the prober's gate)."""
        return self.health.counts(result)

    def _told(self, healthy: bool) -> None:
        h = self.health
        if healthy:
            events.warning("LOCATION HEALTHY %s again after %s", h.location,
                           format_duration(max(0.0, self._clock() - self._unhealthy_since)))
        else:
            self._unhealthy_since = h.since
            events.warning("LOCATION UNHEALTHY %s: %s; its failures are no data until it is healthy",
                           h.location, h.reason)
        if self._on_change is not None:
            self._on_change(h.location, healthy)

    _unhealthy_since = 0.0

    async def round(self) -> None:
        """One canary round (also judges the failure pattern when there are no canaries)."""
        failures = await canary_failures(self.canaries, max(0.2, min(5.0, self.every * 0.8)))
        change = self.health.canary_round(failures, len(self.canaries), self._clock())
        if change is not None:
            self._told(change)

    def start(self) -> None:
        """Run rounds every `probe.canary_every` until `stop()`."""
        async def loop() -> None:
            while True:
                try:
                    await self.round()
                except Exception:
                    log.exception("canary round failed")
                await asyncio.sleep(self.every)
        self._task = asyncio.create_task(loop(), name="canaries")

    async def stop(self) -> None:
        """Stop the canary loop."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
