"""The render worker's view of the config: the validated `Config` with each monitor cut down to what a
render reads of it.

A render needs six things of a monitor (its key and name, its type, interval and timeout for the
live-state and run holds, and its certificate warning days with its own host); the pydantic
`Monitor` carries some thirty fields, and at 50,000 monitors the pickled config the worker holds
was ~45 MB of its memory. `MonitorSpec` is a slotted record of the six; strings many monitors share
(types, hosts) are shared. Everything else of the config (site, sla, support, storage, pages and
components) is the parent's validated objects, copied as they are.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from statuspage.config import Config, Monitor

__all__ = ["MonitorSpec", "monitor_spec", "render_config"]


@dataclass(frozen=True, slots=True)
class MonitorSpec:
    """What a render reads of a configured monitor (same names and meanings as `config.Monitor`)."""

    key: str
    """`page/component/name`."""
    name: str
    type: str
    interval_s: float
    """Seconds between checks."""
    timeout_s: float
    """Seconds a check may take."""
    cert_warn_days: int | None
    url_host: str | None
    """The host of the monitor's own URL (a certificate met on another host is named), or None."""


def _host(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).hostname
    return None if host is None else sys.intern(host)


def monitor_spec(monitor: Monitor | MonitorSpec, shared: dict[object, object] | None = None) -> MonitorSpec:
    """The render's record of a monitor (a `MonitorSpec` is returned as it is); equal numbers share one
    object through `shared` (a pickle then writes each once)."""
    if isinstance(monitor, MonitorSpec):
        return monitor
    same = shared if shared is not None else {}
    interval = same.setdefault(monitor.interval_s, monitor.interval_s)
    timeout = same.setdefault(monitor.timeout_s, monitor.timeout_s)
    assert isinstance(interval, float) and isinstance(timeout, float)
    return MonitorSpec(monitor.key, monitor.name, sys.intern(monitor.type), interval, timeout,
                       monitor.cert_warn_days, _host(monitor.url))


def own_host(monitor: Monitor | MonitorSpec) -> str | None:
    """The host of a monitor's own URL, from either form."""
    return monitor.url_host if isinstance(monitor, MonitorSpec) else _host(monitor.url)


def render_config(config: Config) -> Config:
    """`config` with every component's monitors as `MonitorSpec`s: what the parent sends the worker.

    Shallow copies (`model_copy`, no validation): nothing but the monitors is rebuilt, and the
    parent's config is not changed. Code that renders reads a component's monitors only through the
    attributes `MonitorSpec` has."""
    shared: dict[object, object] = {}
    pages = [
        page.model_copy(update={"components": [
            comp.model_copy(update={"monitors": [monitor_spec(m, shared) for m in comp.monitors]})
            for comp in page.components]})
        for page in config.pages
    ]
    return config.model_copy(update={"pages": pages})
