"""A scripted month of support cases (November 2026, São Paulo) with figures worked out by hand.

Every channel has several cases; chat, e-mail and phone keep business hours (Mon–Fri 08:00–18:00),
WhatsApp is around the clock. 2026-11-02 (Finados) and 2026-11-20 (Consciência Negra) are holidays,
11-15 a Sunday. Cases wait on the customer, change severity, are resolved, reopened and resolved
again. The expected figures below are computed by hand, second by second, in the comments.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from statuspage.models import CaseEvent

TZ = ZoneInfo("America/Sao_Paulo")
HOURS = {"mon-fri": "08:00-18:00"}


def at(text: str) -> float:
    """`2026-11-03 09:00:30` in São Paulo time → epoch seconds."""
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(text, fmt).replace(tzinfo=TZ).timestamp()


NOW = at("2026-11-30 12:00")


def support_section(**extra: Any) -> dict[str, Any]:
    """The `support:` config of the script (Track's targets, business hours on chat, e-mail, phone)."""
    return {
        "channels": {
            "chat": {"first_response": "4m", "average": "3m", "business_hours": HOURS},
            "whatsapp": {"first_response": "4m", "average": "3m"},
            "email": {"first_response": "24h", "average": "6h", "business_hours": HOURS},
            "phone": {"first_response": "24h", "average": "1h", "business_hours": HOURS},
        },
        "triage_average": "48h",
        "holidays": {"country": "BR", "subdivision": "SP"},
        "alert_lead": "75%",
        **extra,
    }


def config_data(tmp_db: str, **support: Any) -> dict[str, Any]:
    """A whole config with the script's support section."""
    return {
        "site": {"timezone": "America/Sao_Paulo", "output_dir": str(tmp_db) + ".site"},
        "storage": {"path": tmp_db},
        "support": support_section(**support),
        "admins": [{"name": "ana", "token": "ana-token-0123456789"}],
        "pages": [
            {"slug": "nps", "name": "NPS", "components": [
                {"slug": "app", "name": "Plataforma", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]},
            {"slug": "cxm", "name": "CXM", "components": [
                {"slug": "app", "name": "Plataforma", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]},
        ],
    }


def _events() -> list[CaseEvent]:
    out: list[CaseEvent] = []

    def ev(case: str, kind: str, when: str, **kw: Any) -> None:
        out.append(CaseEvent(case, f"{kind}-{len(out)}", kind, at(when), **kw))  # type: ignore[arg-type]

    def opened(case: str, channel: str, when: str, page: str = "nps") -> None:
        ev(case, "opened", when, channel=channel, page=page)

    # --- chat: business hours; limit 4 min ---------------------------------------------------------
    opened("c1", "chat", "2026-11-03 09:00")
    ev("c1", "first_response", "2026-11-03 09:02:30")        # 150 s
    ev("c1", "triaged", "2026-11-03 10:00")                   # triage 3600 s
    ev("c1", "severity", "2026-11-03 10:00", severity="T3")
    ev("c1", "severity", "2026-11-03 11:00", severity="T2")   # current: T2 (limit 1 d from opening)
    ev("c1", "resolved", "2026-11-03 17:00", outcome="solved")  # 8 h = 28800 s, within
    opened("c2", "chat", "2026-11-03 17:59")
    ev("c2", "first_response", "2026-11-04 08:01")            # 60 s Tue + 60 s Wed = 120 s
    ev("c2", "triaged", "2026-11-04 17:59")                   # 24 h − 8h59m waiting = 54060 s
    ev("c2", "severity", "2026-11-04 08:01", severity="T2")
    ev("c2", "waiting", "2026-11-04 09:00")
    ev("c2", "resumed", "2026-11-04 21:00")                   # 12 h waiting
    ev("c2", "resolved", "2026-11-05 09:00", outcome="solved")  # 39h01m − 12 h = 97260 s, missed
    opened("c3", "chat", "2026-11-19 17:58")
    ev("c3", "first_response", "2026-11-23 08:03")            # 120 s + holiday + weekend + 180 s = 300 s
    opened("c4", "chat", "2026-11-07 10:00")                  # a Saturday
    ev("c4", "first_response", "2026-11-07 10:30")            # 0 business seconds
    opened("c5", "chat", "2026-11-11 12:00", page="cxm")
    ev("c5", "first_response", "2026-11-11 12:03:20")         # 200 s
    opened("c6", "chat", "2026-11-25 10:00", page="cxm")      # never answered: overdue at NOW
    # --- WhatsApp: around the clock --------------------------------------------------------------------
    opened("w1", "whatsapp", "2026-11-01 23:58")
    ev("w1", "first_response", "2026-11-02 00:01")            # 180 s
    ev("w1", "triaged", "2026-11-03 23:58")                   # 172800 s
    ev("w1", "severity", "2026-11-01 23:59", severity="T2")
    ev("w1", "resolved", "2026-11-02 07:58", outcome="solved")  # 28800 s, within
    opened("w2", "whatsapp", "2026-11-20 10:00")              # the holiday does not stop a 24×7 clock
    ev("w2", "first_response", "2026-11-20 10:02")            # 120 s
    ev("w2", "severity", "2026-11-20 10:02", severity="T2")
    ev("w2", "resolved", "2026-11-20 12:00", outcome="works_as_expected")  # 7200 s
    opened("w3", "whatsapp", "2026-11-10 14:00")
    ev("w3", "first_response", "2026-11-10 14:05")            # 300 s, missed
    ev("w3", "severity", "2026-11-10 14:05", severity="T1")
    ev("w3", "resolved", "2026-11-10 15:00", outcome="solved")  # 3600 s
    opened("w4", "whatsapp", "2026-11-12 09:00")
    ev("w4", "first_response", "2026-11-12 09:01")            # 60 s
    ev("w4", "severity", "2026-11-12 09:01", severity="T3")
    ev("w4", "resolved", "2026-11-12 10:00", outcome="solved")
    ev("w4", "reopened", "2026-11-12 12:00")
    ev("w4", "resolved", "2026-11-12 13:00", outcome="third_party")  # 1 h + 1 h = 7200 s
    opened("w5", "whatsapp", "2026-11-12 09:00", page="cxm")
    ev("w5", "first_response", "2026-11-12 09:04")            # 240 s: exactly the limit, within
    # --- e-mail: business hours; limit 24 business hours ----------------------------------------------------
    opened("e1", "email", "2026-11-02 09:00")                 # Finados
    ev("e1", "severity", "2026-11-02 09:30", severity="T2")
    ev("e1", "waiting", "2026-11-02 12:00")
    ev("e1", "resumed", "2026-11-03 12:00")                   # 24 h waiting
    ev("e1", "first_response", "2026-11-03 10:00")            # 2 h = 7200 s (waiting never pauses it)
    ev("e1", "triaged", "2026-11-04 09:00")                   # 48 h − 24 h = 86400 s
    ev("e1", "resolved", "2026-11-03 18:00", outcome="solved")  # 33 h − 24 h = 32400 s
    opened("e2", "email", "2026-11-06 16:00")
    ev("e2", "first_response", "2026-11-09 09:00")            # 2 h + 1 h = 10800 s
    ev("e2", "triaged", "2026-11-06 17:00")                   # 3600 s
    opened("e3", "email", "2026-11-04 07:00")
    ev("e3", "first_response", "2026-11-04 08:30")            # 1800 s
    opened("e4", "email", "2026-11-17 11:00")
    ev("e4", "first_response", "2026-11-19 11:00")            # 7 h + 10 h + 3 h = 72000 s
    opened("e5", "email", "2026-11-19 15:00", page="cxm")
    ev("e5", "first_response", "2026-11-24 15:00")            # 3 h + holiday + weekend + 10 h + 7 h = 72000 s
    ev("e5", "severity", "2026-11-19 15:00", severity="T4")
    ev("e5", "severity", "2026-11-20 10:00", severity="T1")   # now T1: 4 h from opening, long overdue
    # --- phone: fewer than five cases, so nothing of it is published ------------------------------------------
    opened("p1", "phone", "2026-11-05 10:00")
    ev("p1", "first_response", "2026-11-05 10:30")
    opened("p2", "phone", "2026-11-06 10:00")
    ev("p2", "first_response", "2026-11-06 11:00")
    # --- October: one case, outside the month ------------------------------------------------------
    opened("o1", "chat", "2026-10-30 10:00")
    ev("o1", "first_response", "2026-10-30 10:01")
    return out


EVENTS: list[CaseEvent] = _events()
"""Every event of the script, in the order things happened."""

EXPECTED_NOVEMBER: dict[str, Any] = {
    "channels": {
        # cases, within share, mean, median
        "chat": (6, 4 / 6, 770 / 5, 150.0),       # answered 150, 120, 300, 0, 200; c6 overdue
        "whatsapp": (5, 4 / 5, 900 / 5, 180.0),   # 180, 120, 300, 60, 240
        "email": (5, 1.0, 163800 / 5, 10800.0),   # 7200, 10800, 1800, 72000, 72000
        "phone": (None, None, None, None),        # two cases: not published
    },
    "triage": (5, 320460 / 5),                    # 3600, 54060, 172800, 86400, 3600
    "severities": {
        "T1": (None, None, None),                 # w3 resolved, e5 overdue: two cases
        "T2": (5, 194460 / 5, 4 / 5),             # 28800, 97260 (missed), 28800, 7200, 32400
        "T3": (None, None, None),
        "T4": (None, None, None),
    },
    "outcomes": {"solved": 5, "works_as_expected": None, "third_party": None},
}
