"""The operator's story of the checks: one concise log line when something worth noticing happens.

Logged on the `statuspage.events` logger (shown by `statuspage run` and `statuspage demo`):

    check failed shop/api/health: HTTP 503 (1 of 2 failed checks to confirm an outage)
    blip over shop/api/health: passed again after 1 failed check; not an outage
    DOWN shop/api/health: outage confirmed, since 14:03:00 (HTTP 503)
    UP shop/api/health: recovered at 14:04:30 after 1m 30s down
    degraded shop/api/health: slow: 1203 ms (over 0.8s)
    back to normal shop/api/health (42 ms)

Checks that pass, and checks that keep failing during a confirmed outage, print nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from statuspage.config import Config
from statuspage.durations import format_duration
from statuspage.probe.scheduler import CheckEvent

events = logging.getLogger("statuspage.events")

__all__ = ["CheckStory"]


@dataclass(slots=True)
class _Seen:
    run_state: str = "up"
    failures: int = 0
    """Unconfirmed failed checks in a row while the monitor is confirmed up."""
    down_since: float | None = None


class CheckStory:
    """A check observer (`Runtime.check_hooks`) that logs failures, outages, recoveries and slowness."""

    def __init__(self, config: Config) -> None:
        self._confirm_down = {m.key: m.confirm_down or 2 for _, _, m in config.monitors()}
        self._seen: dict[str, _Seen] = {}
        self._tz = ZoneInfo(config.site.timezone)

    def _clock(self, at: float) -> str:
        # The site's timezone, as the log lines' stamps (`statuspage run`) and the site itself.
        return datetime.fromtimestamp(at, self._tz).strftime("%H:%M:%S")

    def __call__(self, event: CheckEvent) -> None:
        """Log what this check changed, if anything."""
        result, state = event.result, event.state
        key = result.monitor
        seen = self._seen.get(key)
        if seen is None:
            if (event.transition is None and result.outcome == "up" and state.run_state == "up"
                    and state.confirmed == "up" and state.down_since is None):
                return  # a quiet check says nothing: no entry kept for the many quiet monitors
            seen = self._seen[key] = _Seen(down_since=state.down_since)
        message = result.message or result.error or result.outcome
        if event.transition is not None and event.transition.kind == "down":
            events.warning("DOWN %s: outage confirmed, since %s (%s)", key, self._clock(event.transition.at),
                           message)
            seen.failures, seen.down_since = 0, event.transition.at
        elif event.transition is not None:
            took = f" after {format_duration(event.transition.at - seen.down_since)} down" if (
                seen.down_since is not None) else ""
            events.info("UP %s: recovered at %s%s", key, self._clock(event.transition.at), took)
            seen.down_since = None
        elif state.confirmed == "up" and result.outcome == "down":
            seen.failures += 1
            events.info("check failed %s: %s (%d of %d failed checks to confirm an outage)", key, message,
                        seen.failures, self._confirm_down.get(key, 2))
        elif state.confirmed == "up" and seen.failures:
            plural = "s" if seen.failures > 1 else ""
            events.info("blip over %s: passed again after %d failed check%s; not an outage", key,
                        seen.failures, plural)
            seen.failures = 0
        if state.confirmed == "up" and result.outcome != "down":
            if result.outcome == "degraded" and seen.run_state != "degraded":
                events.info("degraded %s: %s", key, message)
            elif result.outcome == "up" and seen.run_state == "degraded":
                latency = "" if result.latency_ms is None else f" ({result.latency_ms:.0f} ms)"
                events.info("back to normal %s%s", key, latency)
        seen.run_state = state.run_state
