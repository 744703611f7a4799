"""Which maintenance notices are due: scheduled, started, ended, cancelled — for every occurrence of
a recurring window (pure: windows, what was already told, now → notices).

Each notice is told once: it is keyed by (window id, occurrence start, kind), with occurrence 0 for
what concerns the whole window (scheduled, cancelled). Only what happened within `max_age` is told:
a process that was stopped for a day does not announce yesterday's windows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from statuspage.models import Maintenance

MAX_AGE_S = 3600.0


@dataclass(frozen=True, slots=True)
class MaintenanceNotice:
    """One notice to hand out: `event` is `maintenance.<kind>`, `window` the occurrence it is about."""

    event: str
    window: Maintenance
    key: tuple[int, float, str]
    at: float
    """When it happened (for ordering)."""


def due_notices(
    windows: Iterable[Maintenance], sent: set[tuple[int, float, str]], now: float, max_age: float = MAX_AGE_S
) -> list[MaintenanceNotice]:
    """The notices due at `now` that are not in `sent`, in the order they happened."""
    out: list[MaintenanceNotice] = []

    def add(kind: str, window: Maintenance, occurrence: float, at: float) -> None:
        key = (window.id, occurrence, kind)
        if key not in sent and now - max_age <= at <= now:
            out.append(MaintenanceNotice(f"maintenance.{kind}", window, key, at))

    for m in windows:
        upcoming = m.occurrence(now)
        if m.cancelled:
            if (m.id, 0.0, "scheduled") in sent:
                add("cancelled", upcoming, 0.0, m.updated_at or now)
            continue
        if upcoming.start > now:
            add("scheduled", upcoming, 0.0, m.created_at)
        for start, end in m.occurrences(now - max_age, now + 1e-6):
            occurrence = replace(m, start=start, end=end, rrule="")
            add("started", occurrence, start, start)
            add("ended", occurrence, start, end)
    return sorted(out, key=lambda n: (n.at, n.key))
