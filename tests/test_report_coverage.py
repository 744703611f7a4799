"""`statuspage report` follows the public page's coverage rule for its figures: below 5 % of a
window measured, "not enough data yet" (a fresh database printed budgets like `-11s (-14689%)`);
from 5 % to 99 %, the figure and how much of the window was measured (pure, exact texts)."""

from __future__ import annotations

from statuspage.site import view
from statuspage.sla import report, uptime
from statuspage.sla.report import Figures, PageFigures, format_uptime_table

DAY = 86400.0
NOW = 1_795_000_000.0


def window(days: float, covered: float, downtime: float) -> uptime.WindowUptime:
    length = days * DAY
    return uptime.WindowUptime(NOW - length, NOW, downtime, covered, 0.0, 1 - downtime / covered, covered / length)


def figures(month: uptime.WindowUptime, last_30d: uptime.WindowUptime) -> Figures:
    return Figures(name="App", month=month, budget_month=uptime.error_budget(month, 0.995),
                   budget_30d=uptime.error_budget(last_30d, 0.995), burn=(), target=0.995)


def row(f: Figures) -> list[str]:
    table = format_uptime_table([PageFigures("nps", f, [])]).splitlines()
    header, line = table[0], table[1]
    starts = [header.index(h) for h in ("UPTIME", "TARGET", "COVERAGE", "DOWNTIME", "BUDGET LEFT (MONTH)",
                                        "BUDGET LEFT (30D)", "BURN")]
    return [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]


def test_the_rule_is_the_public_pages() -> None:
    assert (report.MIN_COVERAGE, report.FULL_COVERAGE) == (view.MIN_COVERAGE, view.FULL_COVERAGE)


def test_a_fresh_database_has_no_budget_figures_yet() -> None:
    # Ten minutes measured in ten days, 70 s of it down: the budget was -11s (-14689%) before.
    f = figures(window(10, 600, 70), window(30, 600, 70))
    uptime_cell, target, _, _, month, last_30d, _ = row(f)
    assert (uptime_cell, target, month, last_30d) == (
        "not enough data yet", "99.5% not judged yet", "not enough data yet", "not enough data yet")
    budget = f.to_json()["budget_month"]
    assert budget["enough_data"] is False and budget["remaining_s"] == 0.005 * 600 - 70  # the figures stay
    assert f.to_json()["enough_data"] is False


def test_a_partly_measured_window_says_how_much() -> None:
    # The month fully measured (10 of 10 days); the 30 days half (15 of 30), 1 h down in each.
    f = figures(window(10, 10 * DAY, 3600), window(30, 15 * DAY, 3600))
    _, target, coverage, _, month, last_30d, _ = row(f)
    assert (target, coverage) == ("99.5% met", "100.0%")
    assert month == "12m (17%)"  # 4,320 s allowed, 3,600 s spent: no note at full coverage
    assert last_30d == "48m (44%) (measured over 50 % of the window)"  # 6,480 s allowed
    assert f.to_json()["budget_30d"]["coverage"] == 0.5 and f.to_json()["budget_30d"]["enough_data"] is True
