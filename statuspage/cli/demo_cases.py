"""The demo's support desk: a scripted stream of cases so the support indicators show on `make run`.

At start it backfills the last three months (a dozen cases per channel and month, answered, triaged,
classified and resolved with plausible times; some wait on the customer, a few miss their limit),
then opens a new chat or WhatsApp case every `LIVE_EVERY_S` seconds, answers it within a minute
or so (one in five too late, which raises the `case.first_response.*` alerts) and resolves it a
few minutes later. Everything goes through `SupportService`, as the admin API and Chatwoot do.
The script is seeded: every run tells the same story.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from statuspage.models import CASE_OUTCOMES, CaseEvent, Channel
from statuspage.support.service import SupportService

log = logging.getLogger(__name__)

LIVE_EVERY_S = 20.0
MONTHS = 3
PER_CHANNEL = 12
_FIRST_RESPONSE: dict[str, tuple[float, float]] = {  # seconds, the spread of a plausible answer
    "chat": (20, 260), "whatsapp": (30, 280), "email": (600, 8 * 3600), "phone": (300, 3 * 3600)}
_SEVERITY_WEIGHTS = (("T1", 1), ("T2", 3), ("T3", 5), ("T4", 3))
_MEAN = {"T1": 3600.0, "T2": 8 * 3600.0, "T3": 2 * 86400.0, "T4": 3 * 86400.0}
_OUTCOME_WEIGHTS = (14, 4, 3, 2, 1, 1)


def demo_support() -> dict[str, Any]:
    """The demo's `support:` section: Track's targets; e-mail keeps business hours."""
    return {
        "channels": {
            "chat": {"first_response": "4m", "average": "3m"},
            "whatsapp": {"first_response": "4m", "average": "3m"},
            "email": {"first_response": "24h", "average": "6h", "business_hours": {"mon-fri": "08:00-18:00"}},
            "phone": {"first_response": "24h", "average": "1h"},
        },
        "triage_average": "48h",
        "holidays": {"country": "BR", "subdivision": "SP"},
        "alert_lead": "75%",
    }


def backfill_events(now: float, tz: str, seed: int = 15) -> list[CaseEvent]:
    """Cases of the last `MONTHS` months up to `now`, every one closed before `now`."""
    rng = random.Random(seed)
    zone = ZoneInfo(tz)
    today = datetime.fromtimestamp(now, zone)
    this_month = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    first = (this_month - timedelta(days=62)).replace(day=1)
    out: list[CaseEvent] = []
    n = 0
    month = first
    while month <= today:
        nxt = (month + timedelta(days=32)).replace(day=1)
        span_end = min(nxt.timestamp(), now - 6 * 86400.0)  # every case closed by now
        for channel in ("chat", "whatsapp", "email", "phone"):
            for _ in range(PER_CHANNEL):
                opened = rng.uniform(month.timestamp(), span_end) if span_end > month.timestamp() else None
                if opened is None:
                    continue
                n += 1
                out += _case(rng, f"demo-{n:04d}", channel, opened)
        month = nxt
    return [e for e in out if e.at <= now]


def _case(rng: random.Random, case_id: str, channel: Channel, opened: float) -> list[CaseEvent]:
    page = rng.choice(("nps", "cxm"))
    lo, hi = _FIRST_RESPONSE[channel]
    answer = opened + rng.uniform(lo, hi) * (1.3 if rng.random() < 0.1 else 1.0)
    severity = rng.choices([s for s, _ in _SEVERITY_WEIGHTS], [w for _, w in _SEVERITY_WEIGHTS])[0]
    events = [
        CaseEvent(case_id, "opened", "opened", opened, channel=channel, page=page),
        CaseEvent(case_id, "first_response", "first_response", answer),
        CaseEvent(case_id, "severity", "severity", answer, severity=severity),  # type: ignore[arg-type]
    ]
    if rng.random() < 0.7:
        events.append(CaseEvent(case_id, "triaged", "triaged", answer + rng.uniform(600, 50 * 3600)))
    resolve = opened + _MEAN[severity] * rng.uniform(0.3, 1.6)
    if rng.random() < 0.25:
        start = opened + (resolve - opened) * 0.4
        wait = rng.uniform(1800, 6 * 3600)
        events += [CaseEvent(case_id, "waiting", "waiting", start),
                   CaseEvent(case_id, "resumed", "resumed", start + wait)]
        resolve += wait
    outcome = rng.choices(CASE_OUTCOMES, _OUTCOME_WEIGHTS)[0]
    events.append(CaseEvent(case_id, "resolved", "resolved", max(resolve, answer), outcome=outcome))
    return events


async def feed_cases(get_support: Callable[[], SupportService | None], on_change: Callable[[], None],
                     clock: Callable[[], float] = time.time, seed: int = 15) -> None:
    """Backfill, then run the live stream until cancelled (waits for the runtime's SupportService);
    `on_change` asks for a re-render after each change."""
    while (support := get_support()) is None:
        await asyncio.sleep(0.2)
    if not support.enabled:
        return
    events = backfill_events(clock(), support.config.site.timezone, seed)
    by_case: dict[str, list[CaseEvent]] = {}
    for event in events:
        by_case.setdefault(event.case_id, []).append(event)
    for case_events in by_case.values():
        await support.ingest(case_events)
        await asyncio.sleep(0)  # let probing in between
    log.info("demo: backfilled %d support cases", len(by_case))
    on_change()
    await _live(support, clock, random.Random(seed), on_change)


async def _live(support: SupportService, clock: Callable[[], float], rng: random.Random,
                on_change: Callable[[], None]) -> None:
    plan: list[tuple[float, int, Callable[[], Awaitable[Any]]]] = []
    n = 0
    next_case = clock()
    while True:
        now = clock()
        if now >= next_case:
            n += 1
            case_id = f"live-{int(now)}-{n}"
            channel: Channel = "chat" if n % 2 else "whatsapp"
            await support.open_case(case_id, channel, page="nps" if n % 3 else "cxm", at=now)
            late = n % 5 == 0
            answer_in = rng.uniform(250, 300) if late else rng.uniform(15, 120)
            severity = rng.choice(("T1", "T2", "T3", "T4"))

            def answer(c: str = case_id, s: str = severity) -> Awaitable[Any]:
                async def go() -> None:
                    await support.record(c, "first_response")
                    await support.record(c, "severity", severity=s)  # type: ignore[arg-type]
                return go()

            def resolve(c: str = case_id) -> Awaitable[Any]:
                return support.record(c, "resolved", outcome=rng.choice(CASE_OUTCOMES))

            heapq.heappush(plan, (now + answer_in, n * 2, answer))
            heapq.heappush(plan, (now + answer_in + rng.uniform(60, 600), n * 2 + 1, resolve))
            next_case = now + LIVE_EVERY_S
            on_change()
        while plan and plan[0][0] <= now:
            _, _, action = heapq.heappop(plan)
            try:
                await action()
            except Exception:
                log.exception("demo: a scripted case event failed")
            on_change()
        await asyncio.sleep(1.0)
