"""Response-time charts as inline SVG (pure; no JavaScript, no external requests).

A chart is a step line per series: each point (an hour or a day) is drawn as a flat segment across
its slot, so a lone point stays visible and an hour without data is a gap, not a slope invented
between its neighbours. The SVG stretches to its box (`preserveAspectRatio="none"`) with strokes
that do not scale, so it reads the same on a phone and a desktop; axis labels and the text
equivalent are HTML around it (text inside a stretched SVG would be distorted).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from markupsafe import Markup

__all__ = ["SLOT", "nice_ceiling", "step_chart"]

SLOT: Final = 10
"""Width of one point in the SVG's own units."""
_TOP: Final = 4.0
_BOTTOM: Final = 96.0


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above `value` (at least 1): the top of the y axis."""
    if not value > 1.0 or not math.isfinite(value):
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * magnitude + 1e-9:
            return step * magnitude
    return 10.0 * magnitude  # unreachable: 10 × magnitude is always at or above value


def _y(value: float, top: float) -> float:
    share = min(max(value / top, 0.0), 1.0)
    return round(_BOTTOM - share * (_BOTTOM - _TOP), 2)


def _steps(values: Sequence[float | None], top: float) -> str:
    """An SVG path of flat steps, broken where a value is missing."""
    parts: list[str] = []
    previous: float | None = None
    for i, value in enumerate(values):
        if value is None:
            previous = None
            continue
        y = _y(value, top)
        x = i * SLOT
        parts.append(f"M{x} {y}" if previous is None else f"V{y}")
        parts.append(f"H{x + SLOT}")
        previous = value
    return "".join(parts)


def step_chart(points: Sequence[tuple[float, float] | None], top: float) -> Markup:
    """An SVG of the mean (solid) and 95th percentile (dashed) per point, 0 at the bottom and `top`
    at the top; values above `top` are drawn at the top. Decorative for assistive technology: the
    caller gives the text equivalent beside it."""
    width = max(len(points), 1) * SLOT
    mid = _y(top / 2, top)
    means = _steps([p[0] if p else None for p in points], top)
    p95s = _steps([p[1] if p else None for p in points], top)
    return Markup(
        f'<svg class="chart-svg" viewBox="0 0 {width} 100" preserveAspectRatio="none" aria-hidden="true" '
        f'focusable="false" xmlns="http://www.w3.org/2000/svg">'
        f'<path class="chart-grid" d="M0 {_TOP}H{width}M0 {mid}H{width}M0 {_BOTTOM}H{width}" '
        f'vector-effect="non-scaling-stroke"/>'
        f'<path class="chart-p95" d="{p95s}" vector-effect="non-scaling-stroke"/>'
        f'<path class="chart-mean" d="{means}" vector-effect="non-scaling-stroke"/>'
        "</svg>"
    )
