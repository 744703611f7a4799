"""The Atlassian Statuspage v2 JSON documents of one page, built from a snapshot (pure).

Field names and enums are Statuspage's own, so existing clients and dashboards read them as they
are; our additions sit beside them (`severity`, `acknowledged_at`, `acknowledged_by`, `due_at`,
`sla_breached`, `uptime`, `uptime_coverage`, `error_budget`, `no_data`). Times are ISO 8601 in the
site timezone with its offset, as Statuspage writes them. Descriptions are in English, whatever the
site locale: they are API values that clients compare, not prose. Incident names and update bodies
are in the document's locale (each locale of the site has its own copy of the documents).

`uptime` holds the raw ratios of the rolling windows, whatever their coverage (None with no data);
`uptime_coverage` beside it is the share of each window that was measured (0–1), so a client can
apply its own threshold (the site's is in `view`).
"""

from __future__ import annotations

from typing import Any, Final

from statuspage.models import ComponentStatus, Incident
from statuspage.site.bounds import JSON_INCIDENTS, latest_updates
from statuspage.site.i18n import Translator
from statuspage.site.snapshot import ComponentView, IncidentView, MaintenanceView, PageView, Snapshot

__all__ = ["INCIDENTS_LIMIT", "STATUS_DESCRIPTIONS", "page_documents"]

INCIDENTS_LIMIT: Final = 50
"""Statuspage's incidents.json and scheduled-maintenances.json list the 50 most recent."""

STATUS_DESCRIPTIONS: Final[dict[str, str]] = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}
"""Statuspage's `status.description` for each indicator."""

Json = dict[str, Any]


class _Doc:
    """Builds the documents of one page; holds what every object needs (times, ids, URLs)."""

    def __init__(self, snapshot: Snapshot, page: PageView, base_url: str, locale: str, page_url: str) -> None:
        self.snapshot = snapshot
        self.page = page
        self.base = base_url.rstrip("/")
        self.page_url = page_url or (f"{self.base}/{page.slug}/" if self.base else f"/{page.slug}/")
        self.time = Translator("en", snapshot.timezone)
        self.t = Translator(locale, snapshot.timezone)
        self.components = {c.slug: c for c in page.components}

    def iso(self, ts: float | None) -> str | None:
        return None if ts is None else self.time.iso(ts)

    def url(self, path: str) -> str:
        return f"{self.page_url}{path}"

    # --- objects ---------------------------------------------------------------------------------

    def page_object(self) -> Json:
        p = self.page
        return {
            "id": p.slug,
            "name": p.name,
            "url": p.url or self.url(""),
            "time_zone": self.snapshot.timezone,
            "updated_at": self.iso(p.updated_at),
        }

    def status_object(self) -> Json:
        p = self.page
        description = STATUS_DESCRIPTIONS[p.indicator]
        if p.indicator == "none" and p.banner == "maintenance":
            description = "Service Under Maintenance"
        return {"indicator": p.indicator, "description": description}

    def component(self, c: ComponentView) -> Json:
        now = self.snapshot.now
        status: ComponentStatus = c.status or "operational"  # Statuspage has no "unknown"; see no_data
        first = c.first_seen if c.first_seen is not None else now
        budget = c.uptime.budget_30d
        return {
            "id": c.slug,
            "name": c.name,
            "status": status,
            "created_at": self.iso(first),
            "updated_at": self.iso(c.since if c.since is not None else self.page.updated_at),
            "position": c.position,
            "description": c.description or None,
            "showcase": True,
            "start_date": self.time.local(first).date().isoformat(),
            "group_id": None,
            "page_id": self.page.slug,
            "group": False,
            "only_show_if_degraded": False,
            # ours
            "no_data": c.status is None,
            "uptime": {name: _ratio(w.uptime) for name, w in c.uptime.windows.items()},
            "uptime_coverage": {name: _ratio(w.coverage) for name, w in c.uptime.windows.items()},
            "error_budget": {
                "window": "30d",
                "allowed_seconds": round(budget.allowed, 3),
                "consumed_seconds": round(budget.consumed, 3),
                "remaining_seconds": round(budget.remaining, 3),
            },
        }

    def incident(self, view: IncidentView) -> Json:
        i = view.incident
        created = i.created_at or i.started_at
        names = dict(zip(i.components, view.component_names, strict=False))
        return {
            "id": str(i.id),
            "name": self.t.auto(i.title_auto, names) or i.title,
            "status": i.status,
            "created_at": self.iso(created),
            "updated_at": self.iso(max(i.updated_at, created)),
            "monitoring_at": self.iso(i.monitoring_at),
            "resolved_at": self.iso(i.resolved_at),
            "impact": i.impact,
            "shortlink": self.url(f"incidents/{i.id}.html"),
            "started_at": self.iso(i.started_at),
            "page_id": self.page.slug,
            "incident_updates": self.updates(i, names),
            "components": [self.component(self.components[s]) for s in i.components if s in self.components],
            "reminder_intervals": None,
            # ours
            "severity": i.severity,
            "acknowledged_at": self.iso(i.acknowledged_at),
            "acknowledged_by": i.acknowledged_by,
            "due_at": self.iso(i.due_at),
            "sla_breached": view.breached,
            "automatic": i.automatic,
            "postmortem_body": i.postmortem or None,
        }

    def updates(self, i: Incident, names: dict[str, str]) -> list[Json]:
        out: list[Json] = []
        for u in sorted(i.updates, key=lambda u: (u.at, u.id), reverse=True):  # Statuspage: newest first
            at = self.iso(u.at)
            out.append({
                "id": str(u.id),
                "status": u.status,
                "body": self.t.auto(u.auto, names) or u.message,
                "incident_id": str(i.id),
                "created_at": at,
                "updated_at": at,
                "display_at": at,
                "affected_components": [
                    {"code": ch.component, "name": self._name(ch.component), "old_status": ch.old_status,
                     "new_status": ch.new_status}
                    for ch in u.components
                ],
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            })
        return out

    def maintenance(self, view: MaintenanceView) -> Json:
        m = view.maintenance
        mid = str(m.id)
        created = m.created_at or m.start
        # Statuspage keeps a timeline of status changes; ours are implied by the window itself.
        steps: list[tuple[str, float]] = [("scheduled", min(created, m.start))]
        if view.status in ("in_progress", "completed"):
            steps.append(("in_progress", m.start))
        if view.status == "completed":
            steps.append(("completed", m.end))
        updates = [
            {
                "id": f"{mid}-{status}",
                "status": status,
                "body": m.message or m.title,
                "incident_id": mid,
                "created_at": self.iso(at),
                "updated_at": self.iso(at),
                "display_at": self.iso(at),
                "affected_components": [
                    {"code": s, "name": self._name(s), "old_status": "operational",
                     "new_status": "under_maintenance" if status == "in_progress" else "operational"}
                    for s in view.component_slugs
                ],
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
            for status, at in reversed(steps)
        ]
        return {
            "id": mid,
            "name": m.title,
            "status": view.status,
            "created_at": self.iso(created),
            "updated_at": self.iso(steps[-1][1]),
            "monitoring_at": None,
            "resolved_at": self.iso(m.end) if view.status == "completed" else None,
            "impact": "maintenance",
            "shortlink": self.url("index.html"),
            "started_at": self.iso(m.start),
            "page_id": self.page.slug,
            "incident_updates": updates,
            "components": [self.component(self.components[s]) for s in view.component_slugs
                           if s in self.components],
            "scheduled_for": self.iso(m.start),
            "scheduled_until": self.iso(m.end),
            "reminder_intervals": None,
            # ours
            "created_by": m.created_by or None,
        }

    def _name(self, slug: str) -> str:
        c = self.components.get(slug)
        return c.name if c else slug

    # --- documents -------------------------------------------------------------------------------

    def documents(self) -> dict[str, Json]:
        p = self.page
        page_obj = self.page_object()
        page_obj_with_uptime = {
            **page_obj,
            "uptime": {name: _ratio(w.uptime) for name, w in p.uptime.windows.items()},
            "uptime_coverage": {name: _ratio(w.coverage) for name, w in p.uptime.windows.items()},
        }
        components = [self.component(c) for c in p.components]
        # Bounded (site/bounds.py): at most JSON_INCIDENTS unresolved, each with its latest updates.
        unresolved = [self.incident(latest_updates(v)) for v in p.open_incidents[:JSON_INCIDENTS]]
        recent = [self.incident(latest_updates(v)) for v in p.incidents[:INCIDENTS_LIMIT]]
        active = [self.maintenance(m) for m in p.active_maintenances]
        upcoming = [self.maintenance(m) for m in p.upcoming_maintenances]
        latest = sorted(p.maintenances, key=lambda m: (m.maintenance.start, m.maintenance.id), reverse=True)
        status = self.status_object()
        return {
            "summary.json": {
                "page": page_obj_with_uptime,
                "components": components,
                "incidents": unresolved,
                "scheduled_maintenances": upcoming + active,
                "status": status,
            },
            "status.json": {"page": page_obj, "status": status},
            "components.json": {"page": page_obj, "components": components},
            "incidents.json": {"page": page_obj, "incidents": recent},
            "incidents/unresolved.json": {"page": page_obj, "incidents": unresolved},
            "scheduled-maintenances.json": {
                "page": page_obj,
                "scheduled_maintenances": [self.maintenance(m) for m in latest[:INCIDENTS_LIMIT]],
            },
            "scheduled-maintenances/upcoming.json": {"page": page_obj, "scheduled_maintenances": upcoming},
            "scheduled-maintenances/active.json": {"page": page_obj, "scheduled_maintenances": active},
        }


def _ratio(value: float | None) -> float | None:
    # Six decimals resolve 0.1 s in a day; more would only make files churn.
    return None if value is None else round(value, 6)


def page_documents(
    snapshot: Snapshot, page: PageView, base_url: str = "", locale: str = "en", page_url: str = ""
) -> dict[str, Json]:
    """Every Statuspage document of `page` in `locale`, keyed by its path under the page's `api/v2/`.

    `page_url` is the page's public address in that locale, ending in `/` (its domain, or under
    `base_url`); links (`url`, `shortlink`) are built on it."""
    return _Doc(snapshot, page, base_url, locale, page_url).documents()

