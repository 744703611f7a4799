"""pt-BR and English words, numbers, dates and durations of the public site."""

from __future__ import annotations

import string
from datetime import date

import pytest

from statuspage.site.i18n import Translator
from statuspage.site.texts import STRINGS
from statuspage.site.view import View

PT = Translator("pt-BR", "America/Sao_Paulo")
EN = Translator("en", "America/Sao_Paulo")
TS = 1763650800.0  # 2025-11-20 15:00 UTC = 12:00 in São Paulo
LATE = 1763692200.0  # 2025-11-21 02:30 UTC = 20 Nov 23:30 in São Paulo


def test_both_locales_have_the_same_phrases_with_the_same_placeholders() -> None:
    assert STRINGS["pt-BR"].keys() == STRINGS["en"].keys()
    fields = string.Formatter()
    for key, pt in STRINGS["pt-BR"].items():
        names_pt = {f for _, f, _, _ in fields.parse(pt) if f}
        names_en = {f for _, f, _, _ in fields.parse(STRINGS["en"][key]) if f}
        assert names_pt == names_en, key


@pytest.mark.parametrize(
    ("ratio", "pt", "en"),
    [(0.9995, "99,95 %", "99.95%"), (0.99996, "99,99 %", "99.99%"), (0.999999999, "99,99 %", "99.99%"),
     (1.0, "100 %", "100%"), (0.5, "50,00 %", "50.00%"), (0.0, "0,00 %", "0.00%"), (None, "Sem dados", "No data")],
    ids=["typical", "never-rounded-up", "never-100-when-imperfect", "perfect", "half", "zero", "no-data"],
)
def test_percentages_are_truncated_and_localised(ratio: float | None, pt: str, en: str) -> None:
    assert (PT.percent(ratio), EN.percent(ratio)) == (pt, en)


def test_numbers_and_targets_use_the_locale_separators() -> None:
    assert (PT.number(1234567.891, 2), EN.number(1234567.891, 2)) == ("1.234.567,89", "1,234,567.89")
    assert (PT.target(0.995), EN.target(0.995)) == ("99,5 %", "99.5%")
    assert (PT.target(0.99), EN.target(0.99)) == ("99 %", "99%")


@pytest.mark.parametrize(
    ("seconds", "pt", "en"),
    [(0, "0 s", "0 s"), (45, "45 s", "45 s"), (12 * 60, "12 min", "12 min"), (12960, "3 h 36 min", "3 h 36 min"),
     (4 * 3600, "4 h", "4 h"), (86400, "1 dia", "1 day"), (2 * 86400 + 4 * 3600, "2 dias 4 h", "2 days 4 h"),
     (38880, "10 h 48 min", "10 h 48 min")],
    ids=["zero", "seconds", "minutes", "budget-30d", "hours", "one-day", "days-and-hours", "budget-90d"],
)
def test_durations(seconds: float, pt: str, en: str) -> None:
    assert (PT.duration(seconds), EN.duration(seconds)) == (pt, en)


def test_durations_can_keep_hours_as_support_promises_are_written() -> None:
    assert PT.duration(86400, days=False) == "24 h" and EN.duration(48 * 3600, days=False) == "48 h"


def test_relative_times() -> None:
    assert PT.relative(TS - 300, TS) == "há 5 min" and EN.relative(TS - 300, TS) == "5 min ago"
    assert PT.relative(TS + 3 * 3600, TS) == "em 3 h" and EN.relative(TS + 3 * 3600, TS) == "in 3 h"
    assert PT.relative(TS - 20, TS) == "agora mesmo" and EN.relative(TS, TS) == "just now"


def test_dates_and_times_are_shown_in_the_site_timezone() -> None:
    assert PT.datetime(TS) == "20 nov 2025, 12:00" and EN.datetime(TS) == "Nov 20, 2025, 12:00"
    # 02:30 UTC on the 21st is still the 20th in São Paulo.
    assert PT.date(LATE) == "20 nov 2025" and PT.time(LATE) == "23:30"
    assert PT.long_date(date(2025, 3, 1)) == "1 de março de 2025" and EN.long_date(date(2025, 3, 1)) == "March 1, 2025"
    assert PT.month(2025, 11) == "novembro de 2025" and EN.month(2025, 11) == "November 2025"
    assert PT.iso(TS) == "2025-11-20T12:00:00.000-03:00"
    assert PT.utc_offset(TS) == "−03:00"
    assert Translator("en", "UTC").datetime(TS) == "Nov 20, 2025, 15:00"


@pytest.mark.parametrize(
    ("kind", "pt", "en"),
    [("operational", "Todos os sistemas operacionais", "All Systems Operational"),
     ("degraded", "Serviço parcialmente degradado", "Partially Degraded Service"),
     ("minor", "Pequena interrupção do serviço", "Minor Service Outage"),
     ("partial", "Interrupção parcial do sistema", "Partial System Outage"),
     ("major", "Interrupção grave do sistema", "Major System Outage"),
     ("maintenance", "Serviço em manutenção", "Service Under Maintenance")],
    ids=["operational", "degraded", "minor", "partial", "major", "maintenance"],
)
def test_banners_use_statuspage_wording(kind: str, pt: str, en: str) -> None:
    assert (PT.banner(kind), EN.banner(kind)) == (pt, en)


def test_status_and_severity_names() -> None:
    assert PT.component_status("major_outage") == "Interrupção grave"
    assert EN.component_status("degraded_performance") == "Degraded Performance"
    assert PT.component_status(None) == "Sem dados" and EN.component_status(None) == "No data"
    assert PT.incident_status("investigating") == "Investigando" and EN.incident_status("resolved") == "Resolved"
    assert [PT.severity(s) for s in ("T1", "T2", "T3", "T4")] == [
        "T1 — Impacto Crítico", "T2 — Alto Impacto", "T3 — Médio Impacto", "T4 — Baixo Impacto"]
    assert EN.severity("T1") == "T1 — Critical Impact"


def test_plural_and_lang_and_unknown_locale() -> None:
    assert PT.plural(1, "bars.outage_one", "bars.outage_many") == "1 interrupção"
    assert EN.plural(3, "bars.outage_one", "bars.outage_many") == "3 outages"
    assert (PT.lang, EN.lang) == ("pt-BR", "en")
    assert Translator("fr", "UTC").lang == "pt-BR"  # the default locale
    assert PT("no.such.key") == "no.such.key"  # a missing phrase never breaks a render


def test_periods_write_the_date_once_when_they_fit_in_a_day() -> None:
    assert PT.period(TS, TS + 3600) == "20 nov 2025, 12:00 – 13:00"
    assert EN.period(TS, TS + 86400) == "Nov 20, 2025, 12:00 – Nov 21, 2025, 12:00"


@pytest.mark.parametrize(
    ("phone", "uri"),
    [("(11) 4858-9924", "tel:+551148589924"), ("+1 (555) 010-9999", "tel:+15550109999"), ("0800 123", "tel:0800123")],
    ids=["brazilian", "international", "short"],
)
def test_phone_links(phone: str, uri: str) -> None:
    assert View.tel(phone) == uri
