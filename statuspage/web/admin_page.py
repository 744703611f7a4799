"""The engineers' page (/admin): templates/admin.html rendered in the site's locale, with times said
to be in the site's timezone, and the labels admin.js needs (statuses, severities, impacts, notices).

The page itself holds no data: admin.js reads it from /api/admin/ with the engineer's token. Times
are shown by admin.js with `Intl.DateTimeFormat(locale, {timeZone})`, so they are the site's local
times whatever the browser's timezone, as on the public pages.
"""

from __future__ import annotations

from typing import Any

from statuspage.config import Config
from statuspage.models import INCIDENT_STATUSES, Severity
from statuspage.site.i18n import Translator
from statuspage.site.render import environment
from statuspage.web.admin_texts import ADMIN_STRINGS

__all__ = ["admin_labels", "render_admin"]

IMPACTS = ("none", "minor", "major", "critical")
SEVERITIES: tuple[Severity, ...] = ("T1", "T2", "T3", "T4")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "completed")


def admin_labels(config: Config, now: float) -> dict[str, Any]:
    """What admin.js needs to speak the site's language: locale, timezone and every enum's label."""
    t = Translator(config.site.locale, config.site.timezone)
    words = ADMIN_STRINGS[t.locale]
    maintenance = {s: t.incident_status(s) for s in MAINTENANCE_STATUSES}
    maintenance["cancelled"] = words["js.maintenance.cancelled"]
    return {
        "locale": t.locale,
        "timezone": config.site.timezone,
        "utc_offset": t.utc_offset(now),
        "statuses": {s: t.incident_status(s) for s in INCIDENT_STATUSES},
        "severities": {s: t.severity(s) for s in SEVERITIES},
        "limits": {s: t.duration(config.sla.severities[s].limit) for s in SEVERITIES},
        "impacts": {i: t.impact(i) for i in IMPACTS},
        "maintenance": maintenance,
        "text": {k.removeprefix("js."): v for k, v in words.items() if k.startswith("js.")},
    }


def render_admin(config: Config, now: float) -> str:
    """The /admin page's HTML in the site's locale (autoescaped; the labels as JSON in a data attribute)."""
    t = Translator(config.site.locale, config.site.timezone)
    words = ADMIN_STRINGS[t.locale]

    def a(key: str, **values: object) -> str:
        return words[key].format(**values) if values else words[key]

    return environment().get_template("admin.html").render(
        a=a, t=t, lang=t.lang, tz=config.site.timezone, offset=t.utc_offset(now),
        data=admin_labels(config, now),
    )
