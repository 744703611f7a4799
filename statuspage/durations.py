"""Duration strings of the config (`500ms`, `30s`, `15m`, `4h`, `1d`) to seconds and back."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(text: str) -> float:
    """Return the seconds in a duration such as `30s`, `1h30m` or `500ms`; ValueError if it is not one."""
    s = text.strip().lower()
    if not s:
        raise ValueError(f"{text!r} is not a duration")
    pos = 0
    total = 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s):
        raise ValueError(f'"{text}" is not a duration')
    return total


def format_duration(seconds: float) -> str:
    """Return a short human form of a duration in seconds: `3h 36m`, `45s`, `2d 4h`."""
    seconds = max(0.0, float(seconds))
    if seconds < 1:
        return f"{round(seconds * 1000)}ms" if seconds else "0s"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{n}{u}" for n, u in parts if n]
    return " ".join(shown[:2]) if shown else "0s"


_DAY_WORDS = {"pt-BR": ("dia", "dias"), "en": ("day", "days")}


def human_duration(seconds: float, locale: str = "pt-BR", *, days: bool = True) -> str:
    """A duration as people write it, two units at most: `45 s`, `12 min`, `3 h 36 min`, `2 dias 4 h`
    (`2 days 4 h` in `en`; any other locale reads as pt-BR).

    With `days=False` whole hours stay hours (`24 h`, `48 h`), as support promises are written.
    """
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    minutes = s // 60 if s < 3600 else round(s / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, mins = divmod(minutes, 60)
    if hours < 24 or not days:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    whole, hrs = divmod(hours, 24)
    one, many = _DAY_WORDS.get(locale, _DAY_WORDS["pt-BR"])
    word = one if whole == 1 else many
    return f"{whole} {word} {hrs} h" if hrs else f"{whole} {word}"
