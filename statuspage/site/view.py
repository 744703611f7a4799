"""Presentation rules of the HTML site: bar colours and texts, CSS classes, figures with their coverage,
plain-words sentences, localized automatic incident texts, response-time charts.

Templates call these through `View` (bound to a Translator and the uptime target) so every rule
that decides a colour or a sentence lives in Python and is tested, not buried in markup.

Coverage rule for every uptime figure shown (tiles, bars, overview, badges, sla.html): a window
measured over at least `FULL_COVERAGE` of its length shows its figure alone; from `MIN_COVERAGE`
up it shows the figure and how much of the window was measured ("medido em 63 % da janela"); below
that it says "not enough data yet" and how long was measured. The minimum is a share of the
window, so it grows with it: 72 min for 24 h, 8.4 h for 7 days, 36 h for 30 days, 4.5 days for 90.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from markupsafe import Markup, escape

from statuspage.models import IncidentUpdate, Severity
from statuspage.site import charts
from statuspage.site.badges import BadgeColor, uptime_color
from statuspage.site.i18n import Translator
from statuspage.site.snapshot import IncidentView, LatencyHistory, LatencyPoint
from statuspage.sla import uptime

__all__ = ["BAR_TITLE_OUTAGES", "FULL_COVERAGE", "MIN_COVERAGE", "MOBILE_BARS", "BarLevel", "BudgetText",
           "ChartView", "Figure", "View"]

BarLevel = Literal["none", "maint", "ok", "minor", "major", "critical"]

BAR_TITLE_OUTAGES: Final = 4
"""At most this many outages are listed in a bar's text; the rest are counted."""
MOBILE_BARS: Final = 30
"""Bars shown on a phone-sized screen (the CSS hides the older ones, as Statuspage does)."""
FULL_COVERAGE: Final = 0.99
"""Coverage (measured share of a window) at or above which a figure is shown without a note."""
MIN_COVERAGE: Final = 0.05
"""Coverage below which a figure is not shown at all: "not enough data yet"."""
_CRITICAL_BELOW: Final = 0.95

_STATUS_CLASS: Final[dict[str, str]] = {
    "operational": "operational",
    "degraded_performance": "degraded",
    "partial_outage": "partial",
    "major_outage": "major",
    "under_maintenance": "maintenance",
}


_BANNER_CLASSES: Final = frozenset({
    "operational", "monitoring", "maintenance", "degraded", "partial", "major"})


_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    """A text as a template prints it: what XML cannot carry dropped (the environment's `finalize`),
    then HTML-escaped."""
    if not value.isprintable():
        value = _NOT_XML.sub("", value)
    return str(escape(value))


@dataclass(frozen=True, slots=True)
class Figure:
    """An uptime figure as a visitor reads it: the value (or "not enough data"), its colour class and
    how much of its window was measured."""

    text: str
    level: BarLevel
    note: str
    """"medido em 63 % da janela", "2 min medidos", or "" when the window was (nearly) all measured."""
    enough: bool
    """False below `MIN_COVERAGE` or with no data: `text` is then not a percentage."""
    ratio: float | None
    """The uptime ratio when `enough`, else None."""

    @property
    def full(self) -> str:
        """The figure with its note in parentheses, as one line."""
        return f"{self.text} ({self.note})" if self.note else self.text


@dataclass(frozen=True, slots=True)
class ChartView:
    """A response-time chart ready for a template: the SVG, its axis labels and a text equivalent."""

    svg: Markup
    top: str
    """The value at the top of the plot ("450 ms")."""
    start_label: str
    end_label: str
    summary: str
    """One sentence saying what the chart shows, for screen readers and as the figure caption."""
    rows: tuple[tuple[str, str, str], ...]
    """(when, mean, 95 % within) per point with data, for the table of values."""


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

    def bar_cells(self, bars: Sequence[uptime.DailyBar], prefix: str, close: str) -> Markup:
        """The day inputs, bars and tips of `_macros.html`'s `bars` (each bar's three lines, escaped and
        stripped of what XML cannot carry as the template's output is, no newline after the last).

        Written here rather than as a template loop: 90 bars per component, three lines each, were
        the larger part of a render's CPU in the template engine; this is the same text."""
        name, tip_close = _text(prefix), _text(close)
        lines: list[str] = []
        for index, bar in enumerate(bars, start=1):
            text = _text(self.bar_text(bar))
            level = _text(self.bar_level(bar))
            lines.append(
                f'<input class="day-input" type="radio" name="{name}" id="{name}-{index}">\n'
                f'<label class="bar {level}" for="{name}-{index}"><span class="vh">{text}</span></label>\n'
                f'<p class="day-tip" aria-hidden="true"><span>{text}</span> <label class="day-close" '
                f'for="{name}-x" title="{tip_close}">×</label></p>')
        return Markup("\n".join(lines))

    def bar_text(self, bar: uptime.DailyBar) -> str:
        """What a bar says: the day, its uptime, how much of it was measured, and its outages with
        times and durations."""
        t = self.t
        w = bar.window
        parts = [t.date(bar.date)]
        if w.uptime is None:
            parts.append(t("bars.maintenance") if w.maintenance > 0 else t("no_data"))
            return " · ".join(parts)
        parts.append(t("uptime_value", value=t.percent(w.uptime)))
        if w.coverage < FULL_COVERAGE:
            parts.append(t("coverage.day", value=t.percent(w.coverage, 0)))
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

    # --- figures with their coverage ---------------------------------------------------------------

    def figure(self, window: uptime.WindowUptime) -> Figure:
        """An uptime figure with its coverage (see the module docstring for the thresholds)."""
        t = self.t
        if window.uptime is None:
            text = t("legend.maintenance") if window.maintenance > 0 else t("no_data")
            return Figure(text, "maint" if window.maintenance > 0 else "none", "", False, None)
        if window.coverage < MIN_COVERAGE:
            return Figure(t("not_enough_data"), "none", t("coverage.measured_for",
                                                          duration=t.duration(window.covered)), False, None)
        partial = window.coverage < FULL_COVERAGE
        note = t("coverage.window", value=t.percent(window.coverage, 0)) if partial else ""
        return Figure(t.percent(window.uptime), self.uptime_level(window.uptime), note, True, window.uptime)

    def any_figure(self, windows: Mapping[str, uptime.WindowUptime]) -> bool:
        """True when at least one window has enough data for a figure (a component row shows its
        windows only then; otherwise the bars' caption already says there is not enough data)."""
        return any(self.figure(w).enough for w in windows.values())

    def uptime_words(self, window: uptime.WindowUptime) -> str:
        """A figure for a sentence or a bar caption: "99,95 % de disponibilidade (medido em 63 % da
        janela)", or "dados insuficientes (2 min medidos)"."""
        f = self.figure(window)
        if not f.enough:
            return f.full
        text = self.t("uptime_value", value=f.text)
        return f"{text} ({f.note})" if f.note else text

    def badge_message(self, window: uptime.WindowUptime) -> str:
        """A badge's message: `99,95 %`, `99,95 % (63 % medido)`, `dados insuficientes`, `sem dados`."""
        t = self.t
        f = self.figure(window)
        if window.uptime is None:
            return t("badge.status.no_data")
        if not f.enough:
            return t("badge.not_enough")
        if f.note:
            return t("badge.partial", value=f.text, share=t.percent(window.coverage, 0))
        return f.text

    def badge_color(self, window: uptime.WindowUptime) -> BadgeColor:
        """A badge's colour: against the target when the figure is shown, else grey."""
        return uptime_color(self.figure(window).ratio, self.target)

    def target_sentence(self, window: uptime.WindowUptime) -> str:
        """The last 30 days against the target, in plain words (no "error budget")."""
        t = self.t
        target = t.target(self.target)
        f = self.figure(window)
        if not f.enough:
            return t("target.not_enough", target=target)
        key = "target.met" if window.uptime is not None and window.uptime >= self.target else "target.missed"
        text = t(key, value=f.text, target=target)
        return f"{text} ({f.note})" if f.note else text

    def downtime_sentence(self, window: uptime.WindowUptime) -> str:
        """How long the service was counted as down in a window ("" without enough data)."""
        t = self.t
        if not self.figure(window).enough:
            return ""
        if window.downtime <= 0:
            return t("downtime.none")
        return t("downtime.some", duration=t.duration(window.downtime))

    def month_allowance(self, budget: uptime.ErrorBudget) -> str:
        """sla.html's error budget in plain words: time counted as down against what the target allows
        so far this month."""
        t = self.t
        if budget.remaining_share is None or not self.figure(budget.window).enough:
            return "—"
        return t("allowance.month", down=t.duration(budget.consumed), allowed=t.duration(budget.allowed))

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
        return self.message(view, max(updates, key=lambda u: (u.at, u.id)))

    # --- incident texts in this locale -------------------------------------------------------------

    @staticmethod
    def _names(view: IncidentView) -> dict[str, str]:
        return dict(zip(view.incident.components, view.component_names, strict=False))

    def title(self, view: IncidentView) -> str:
        """The incident's title: an automatic one worded in this locale, else as written."""
        return self.t.auto(view.incident.title_auto, self._names(view)) or view.incident.title

    def message(self, view: IncidentView, update: IncidentUpdate) -> str:
        """An update's message: an automatic one worded in this locale, else as written."""
        return self.t.auto(update.auto, self._names(view)) or update.message

    # --- response-time charts ----------------------------------------------------------------------

    def latency_line(self, mean_ms: float, p95_ms: float) -> str:
        """`média 120 ms · 95 % em até 450 ms` (plain words for a mean and a p95)."""
        t = self.t
        return t("latency.line", mean=self.ms(mean_ms), p95=self.ms(p95_ms))

    def ms(self, value: float) -> str:
        """Milliseconds as shown: `120 ms`, `1,2 s` from 1 s up."""
        t = self.t
        if value >= 1000:
            return f"{t.number(value / 1000, 1)} s"
        return f"{t.number(value)} ms"

    def latency_chart(self, history: LatencyHistory, which: str) -> ChartView | None:
        """The hourly (`24h`) or daily (`30d`) chart of a component; None without any point."""
        t = self.t
        if which == "24h":
            points: list[LatencyPoint | None] = list(history.hours)
            labels = [t.time(p.start) if p else "" for p in points]
            start_label, end_label = t("chart.24h_start"), t("chart.now")
            when = [t.time(h.start) for h in points if h is not None]
        else:
            points = [p for _, p in history.days]
            labels = [t.date(d) for d, _ in history.days]
            start_label, end_label = t("chart.30d_start", n=len(points)), t("today")
            when = [t.date(d) for d, p in history.days if p is not None]
        shown = [p for p in points if p is not None]
        if not shown:
            return None
        top = charts.nice_ceiling(max(p.p95_ms for p in shown))
        svg = charts.step_chart([(p.mean_ms, p.p95_ms) if p else None for p in points], top)
        low = min(shown, key=lambda p: p.mean_ms)
        high = max(shown, key=lambda p: p.mean_ms)
        low_at = labels[points.index(low)]
        high_at = labels[points.index(high)]
        count = sum(p.count for p in shown)
        mean = sum(p.mean_ms * p.count for p in shown) / count if count else 0.0
        summary = t(f"chart.summary.{which}", mean=self.ms(mean), low=self.ms(low.mean_ms), low_at=low_at,
                    high=self.ms(high.mean_ms), high_at=high_at)
        rows = tuple((w, self.ms(p.mean_ms), self.ms(p.p95_ms)) for w, p in zip(when, shown, strict=True))
        return ChartView(svg, self.ms(top), start_label, end_label, summary, rows)
