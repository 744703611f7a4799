"""How much of a page's incidents each public document shows: every document is bounded.

With 1,500 incidents of three long updates, the feed had grown to 25–80 MB, the page to 3–15 MB and
the unresolved JSON to 5.6 MB, every one rewritten by each render and read whole by every visitor.
Now (pure functions of a `PageView`, used by the renderer):

- the feed carries the `FEED_ENTRIES` most recently updated incidents, each with its
  `UPDATES_SHOWN` latest updates (the incident's own page has them all);
- the status page shows `OPEN_ON_PAGE` open incidents (and says how many more there are) and at most
  `PER_DAY_ON_PAGE` incidents per day of its recent history;
- the history is paginated, `HISTORY_PER_PAGE` incidents a page: `history.html`, `history-2.html`, …;
- the Statuspage JSON lists at most `JSON_INCIDENTS` unresolved incidents (incidents.json has always
  listed the 50 most recent), each with its `UPDATES_SHOWN` latest updates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from statuspage.site.snapshot import HistoryDay, IncidentView, PageView

__all__ = ["FEED_ENTRIES", "HISTORY_PER_PAGE", "JSON_INCIDENTS", "OPEN_ON_PAGE", "PER_DAY_ON_PAGE",
           "UPDATES_SHOWN", "HistoryPage", "feed_page", "history_pages", "latest_updates", "status_page"]

FEED_ENTRIES: Final = 50
OPEN_ON_PAGE: Final = 20
PER_DAY_ON_PAGE: Final = 10
HISTORY_PER_PAGE: Final = 50
JSON_INCIDENTS: Final = 50
UPDATES_SHOWN: Final = 20


def latest_updates(view: IncidentView, count: int = UPDATES_SHOWN) -> IncidentView:
    """The incident with only its `count` latest updates (by time)."""
    updates = view.incident.updates
    if len(updates) <= count:
        return view
    kept = tuple(sorted(updates, key=lambda u: (u.at, u.id))[-count:])
    return replace(view, incident=replace(view.incident, updates=kept))


def feed_page(page: PageView) -> PageView:
    """The page as the feed shows it: the most recently updated incidents, their latest updates."""
    recent = sorted(page.incidents, key=lambda v: (max(v.incident.updated_at, v.incident.started_at),
                                                   v.incident.id), reverse=True)[:FEED_ENTRIES]
    return replace(page, incidents=tuple(latest_updates(v) for v in recent))


def status_page(page: PageView) -> tuple[PageView, int]:
    """The page as its index shows it, and how many open incidents it leaves out."""
    shown = page.open_incidents[:OPEN_ON_PAGE]
    days = tuple(HistoryDay(d.date, d.incidents[:PER_DAY_ON_PAGE]) for d in page.history)
    return replace(page, open_incidents=shown, history=days), len(page.open_incidents) - len(shown)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of the incident history: its file, its incidents, and its neighbours' files."""

    path: str
    """`history.html` for the first, `history-<n>.html` after."""
    number: int
    pages: int
    incidents: tuple[IncidentView, ...]
    newer: str | None
    older: str | None


def _history_file(number: int) -> str:
    return "history.html" if number == 1 else f"history-{number}.html"


def history_pages(page: PageView) -> list[HistoryPage]:
    """The history in pages of `HISTORY_PER_PAGE`, newest first (one empty page when there is none)."""
    views = page.incidents
    count = max(1, -(-len(views) // HISTORY_PER_PAGE))
    return [
        HistoryPage(
            path=_history_file(n), number=n, pages=count,
            incidents=views[(n - 1) * HISTORY_PER_PAGE:n * HISTORY_PER_PAGE],
            newer=_history_file(n - 1) if n > 1 else None,
            older=_history_file(n + 1) if n < count else None,
        )
        for n in range(1, count + 1)
    ]
