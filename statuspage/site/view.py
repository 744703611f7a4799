"""Presentation rules of the HTML site: bar colours and texts, CSS classes, budget wording.

Templates call these through `View` (bound to a Translator and the uptime target) so every rule
that decides a colour or a sentence lives in Python and is tested, not buried in markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from statuspage.models import Severity
from statuspage.site.i18n import Translator
from statuspage.site.snapshot import IncidentView
from statuspage.sla import uptime

__all__ = ["BAR_TITLE_OUTAGES", "MOBILE_BARS", "BarLevel", "BudgetText", "View"]

BarLevel = Literal["none", "maint", "ok", "minor", "major", "critical"]

BAR_TITLE_OUTAGES: Final = 4
"""At most this many outages are listed in a bar's text; the rest are counted."""
MOBILE_BARS: Final = 30
"""Bars shown on a phone-sized screen (the CSS hides the older ones, as Statuspage does)."""
_CRITICAL_BELOW: Final = 0.95

_STATUS_CLASS: Final[dict[str, str]] = {
    "operational": "operational",
    "degraded_performance": "degraded",
    "partial_outage": "partial",
    "major_outage": "major",
    "under_maintenance": "maintenance",
}


_BANNER_CLASSES: Final = frozenset({"operational", "maintenance", "degraded", "partial", "major"})


@dataclass(frozen=True, slots=True)
class BudgetText:
    """An error budget as words plus the share left, for a `<meter>` (0..1)."""

    text: str
    share_left: float | None
    overspent: bool


class View:
    """Presentation helpers for templates, in one locale and against one uptime target."""

    def __init__(self, t: Translator, target: float) -> None:
        """Bind the translator and the uptime target ratio (0.995)."""
        self.t = t
        self.target = target

    # --- daily bars ------------------------------------------------------------------------------

    def bar_level(self, bar: uptime.DailyBar) -> BarLevel:
        """The colour class of a day: by uptime against the target, or maintenance / no data."""
        u = bar.window.uptime
        if u is None:
            return "maint" if bar.window.maintenance > 0 else "none"
        return self.uptime_level(u)

    def uptime_level(self, ratio: float | None) -> BarLevel:
        """ok at or above target, minor within 0.5 pp of it, major down to 95 %, critical below."""
        if ratio is None:
            return "none"
        if ratio >= self.target:
            return "ok"
        if ratio >= self.target - 0.005:
            return "minor"
        return "major" if ratio >= _CRITICAL_BELOW else "critical"

    def bar_text(self, bar: uptime.DailyBar) -> str:
        """What a bar says: the day, its uptime, and its outages with times and durations."""
        t = self.t
        w = bar.window
        parts = [t.date(bar.date)]
        if w.uptime is None:
            parts.append(t("bars.maintenance") if w.maintenance > 0 else t("no_data"))
            return " · ".join(parts)
        parts.append(t("uptime_value", value=t.percent(w.uptime)))
        if w.coverage < 0.995:
            parts.append(t("coverage", value=t.percent(w.coverage, 0)))
        if w.maintenance > 0:
            parts.append(t("bars.maintenance"))
        if not bar.outages:
            parts.append(t("bars.no_outages"))
            return " · ".join(parts)
        listed = [
            f"{t.time(o.start)}–{t.time(o.end)} ({t.duration(o.end - o.start)}, {t(f'outage.{o.level}')})"
            for o in bar.outages[:BAR_TITLE_OUTAGES]
        ]
        if len(bar.outages) > BAR_TITLE_OUTAGES:
            listed.append("…")
        count = t.plural(len(bar.outages), "bars.outage_one", "bars.outage_many")
        parts.append(f"{count}: {'; '.join(listed)}")
        return " · ".join(parts)

    def legend(self) -> list[tuple[BarLevel, str]]:
        """The bar colours and what each means, with the thresholds in figures."""
        t = self.t
        low = max(self.target - 0.005, 0.0)
        return [
            ("ok", f"≥ {t.target(self.target)}"),
            ("minor", f"≥ {t.target(low)}"),
            ("major", f"≥ {t.target(_CRITICAL_BELOW)}"),
            ("critical", f"< {t.target(_CRITICAL_BELOW)}"),
            ("maint", t("legend.maintenance")),
            ("none", t("legend.none")),
        ]

    # --- statuses --------------------------------------------------------------------------------

    @staticmethod
    def status_class(status: str | None) -> str:
        """CSS class of a component status pill (None is no data)."""
        return _STATUS_CLASS.get(status, "nodata") if status else "nodata"

    @staticmethod
    def banner_class(kind: str) -> str:
        """CSS class of a page banner kind (see `snapshot.BannerKind`)."""
        return {"minor": "degraded"}.get(kind, kind if kind in _BANNER_CLASSES else "nodata")

    @staticmethod
    def impact_class(impact: str) -> str:
        """CSS class of an incident by its Statuspage impact."""
        return {"critical": "major", "major": "partial", "minor": "degraded"}.get(impact, "nodata")

    @staticmethod
    def severity_class(severity: Severity | str) -> str:
        """CSS class of an SLA severity chip."""
        return {"T1": "major", "T2": "partial", "T3": "degraded"}.get(severity, "nodata")

    # --- error budget, deadlines ------------------------------------------------------------------

    def budget(self, budget: uptime.ErrorBudget) -> BudgetText:
        """The budget as "x left of y allowed" (or overspent), with the share left for a meter."""
        t = self.t
        if budget.remaining_share is None:
            return BudgetText(t("budget.none"), None, False)
        if budget.remaining < 0:
            text = t("budget.over", over=t.duration(-budget.remaining), allowed=t.duration(budget.allowed))
            return BudgetText(text, 0.0, True)
        text = t("budget.left", left=t.duration(budget.remaining), allowed=t.duration(budget.allowed))
        return BudgetText(text, max(0.0, min(1.0, budget.remaining_share)), False)

    def deadline(self, view: IncidentView) -> str:
        """Time left before the SLA deadline, or how late an incident is."""
        t = self.t
        if view.time_left is None:
            return t("incident.breached") if view.breached else t("incident.within")
        if view.time_left < 0:
            return t("incident.overdue", over=t.duration(-view.time_left))
        return t("incident.left", left=t.duration(view.time_left))

    @staticmethod
    def tel(phone: str) -> str:
        """A `tel:` URI for a phone as people write it; Brazilian numbers get +55 (Track's support)."""
        digits = re.sub(r"\D", "", phone)
        if phone.strip().startswith("+"):
            return f"tel:+{digits}"
        return f"tel:+55{digits}" if len(digits) in (10, 11) else f"tel:{digits}"

    def latest_update(self, view: IncidentView) -> str:
        """The message of the newest update (what a visitor wants to read first)."""
        updates = view.incident.updates
        if not updates:
            return ""
        return max(updates, key=lambda u: (u.at, u.id)).message
