"""A probe location's own health: canaries and its failure pattern (pure; the clock is passed in).

A location is *unhealthy* when it cannot tell the services' trouble from its own:
- canaries (`probe.canaries`: endpoints expected to be up, e.g. a provider's) — more than half of
  them failed in the latest round; or
- its failure pattern — within the last `window` seconds, results from at least `MIN_HOSTS`
  different hosts, on every page probed, and on each page most of them (over `PATTERN_SHARE`)
  failed the way a machine's own network fails (dns, connect, local, timeout).
It is healthy again after `recover_rounds` canary rounds with most canaries up and no pattern.

While unhealthy, the location's failed checks count as no data (the prober's gate): never downtime,
never an incident; with several locations it drops out of the quorum once its last results go stale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from statuspage.models import CheckResult

OWN_FAULTS = frozenset({"dns", "connect", "local", "timeout"})
"""Error classes a prober's own network or machine produces when it is cut off."""
MIN_HOSTS = 3
PATTERN_SHARE = 0.8


def target_host(url_or_host: str) -> str:
    """The host a monitor or canary reaches (`https://a.example/x` → `a.example`, `h:443` → `h`)."""
    if "://" in url_or_host:
        return (urlsplit(url_or_host).hostname or "").lower()
    return url_or_host.rsplit(":", 1)[0].strip("[]").lower()


@dataclass(frozen=True, slots=True)
class Seen:
    """A monitor's latest result as the detector remembers it."""

    page: str
    host: str
    at: float
    own_fault: bool


def pattern(seen: Mapping[str, Seen], now: float, window: float) -> str | None:
    """The failure pattern of a location's own trouble in `seen` (monitor → latest), or None."""
    recent = [s for s in seen.values() if now - s.at <= window]
    if len({s.host for s in recent}) < MIN_HOSTS:
        return None
    pages: dict[str, list[Seen]] = {}
    for s in recent:
        pages.setdefault(s.page, []).append(s)
    for items in pages.values():
        if sum(s.own_fault for s in items) <= PATTERN_SHARE * len(items):
            return None
    if len({s.host for s in recent if s.own_fault}) < MIN_HOSTS:
        return None
    failing = sum(s.own_fault for s in recent)
    return f"{failing} of {len(recent)} recent checks on every page failed with dns/connect/timeout errors"


@dataclass
class LocationHealth:
    """One location's health: fed canary rounds and check results, asked whether results count."""

    location: str
    pages: Mapping[str, str]
    """Monitor key → page slug."""
    hosts: Mapping[str, str]
    """Monitor key → the host it reaches."""
    window: float = 60.0
    recover_rounds: int = 2
    healthy: bool = True
    since: float = 0.0
    """When the current health began (UTC epoch)."""
    reason: str = ""
    _canaries_failing: str | None = None
    _good_rounds: int = 0
    _seen: dict[str, Seen] = field(default_factory=dict)

    def canary_round(self, failures: Sequence[str], total: int, now: float) -> bool | None:
        """Record a canary round (`failures`: one description per failed canary); return the new
        health when it changed, else None."""
        failing = total > 0 and len(failures) * 2 > total
        self._canaries_failing = (f"{len(failures)} of {total} canaries failing ({'; '.join(failures)})"
                                  if failing else None)
        self._good_rounds = 0 if failing else self._good_rounds + 1
        return self._judge(now)

    def observe(self, result: CheckResult) -> None:
        """Remember a check's result for the failure pattern."""
        key = result.monitor
        if key in self.pages:
            self._seen[key] = Seen(self.pages[key], self.hosts.get(key, ""), result.at,
                                   result.outcome == "down" and (result.error or "") in OWN_FAULTS)

    def _judge(self, now: float) -> bool | None:
        trouble = self._canaries_failing or pattern(self._seen, now, self.window)
        if trouble and self.healthy:
            self.healthy, self.since, self.reason = False, now, trouble
            return False
        if not trouble and not self.healthy and self._good_rounds >= self.recover_rounds:
            self.healthy, self.since, self.reason = True, now, ""
            return True
        return None

    def counts(self, result: CheckResult) -> bool:
        """Whether `result` counts (a failure while unhealthy does not); remembers it for the pattern,
        which is judged at each canary round (O(monitors) once a round, not at every check)."""
        self.observe(result)
        return self.healthy or result.outcome != "down"
