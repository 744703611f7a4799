"""The texts statuspage writes itself on incidents, in every site locale.

An automatic incident stores its title and each automatic update as an `AutoText` (a phrase key and
its values) beside the same text already worded in the default locale. The site words the key again
in each of its locales with `word()`, so an English visitor reads English even though the incident
was opened while the default locale was pt-BR; texts stored before keys existed have no `AutoText`
and are shown as they were written.

Values: `component` (slug) and `name` (its name when the text was written, used when the slug is no
longer configured), `start` / `at` (UTC epoch seconds, shown as the time of day in the site
timezone, with seconds unless they are 0), `quiet` (seconds, shown in words: "1 min", "15 min").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from statuspage.durations import human_duration
from statuspage.models import AutoParam, AutoText

__all__ = ["PHRASES", "auto_text", "word"]

PHRASES: Final[dict[str, dict[str, str]]] = {
    "pt-BR": {
        "title": "{name} indisponível",
        "opened": "Detectamos que {name} está indisponível desde {start}. Estamos investigando.",
        "joined": "{name} também está indisponível desde {start}.",
        "relapse": "{name} voltou a falhar às {start}. Retomamos a investigação.",
        "recovered": "Todos os componentes afetados se recuperaram às {at}. Monitorando.",
        "resolved": "Resolvido: sem nova falha por {quiet} desde a recuperação às {at}.",
        "resolved_manual": "Resolvido.",
    },
    "en": {
        "title": "{name} unavailable",
        "opened": "We detected that {name} has been unavailable since {start}. We are investigating.",
        "joined": "{name} is also unavailable since {start}.",
        "relapse": "{name} failed again at {start}. We are investigating again.",
        "recovered": "Every affected component recovered at {at}. We are monitoring.",
        "resolved": "Resolved: no new failure for {quiet} since the recovery at {at}.",
        "resolved_manual": "Resolved.",
    },
}
"""Phrases by locale and key; every key exists in every locale (a test checks it)."""

_TIMES: Final = ("start", "at")
_DURATIONS: Final = ("quiet",)


def auto_text(key: str, **params: str | float) -> AutoText:
    """An `AutoText` for phrase `key` (KeyError when no locale knows it) with its values."""
    if key not in PHRASES["pt-BR"]:
        raise KeyError(key)
    pairs: tuple[AutoParam, ...] = tuple(sorted(params.items()))
    return AutoText(key, pairs)


def word(text: AutoText, locale: str, timezone: str, names: Mapping[str, str] | None = None) -> str | None:
    """`text` worded in `locale` (pt-BR for any other), times shown in `timezone`; None when the key is
    unknown to this version (the caller then shows the stored text).

    `names` maps component slugs to their current names; the stored `name` is the fallback.
    """
    phrases = PHRASES.get(locale, PHRASES["pt-BR"])
    template = phrases.get(text.key)
    if template is None:
        return None
    zone = ZoneInfo(timezone)
    values: dict[str, str] = {}
    for name, value in text.params:
        if name in _TIMES and isinstance(value, float):
            at = datetime.fromtimestamp(value, zone)
            values[name] = at.strftime("%H:%M:%S" if at.second else "%H:%M")
        elif name in _DURATIONS and isinstance(value, float):
            values[name] = human_duration(value, locale)
        else:
            values[name] = str(value)
    component = text.param("component")
    if names is not None and isinstance(component, str) and component in names:
        values["name"] = names[component]
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return None  # a value missing from an old row: the stored text is the better choice
