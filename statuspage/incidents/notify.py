"""Incident notifications: signed webhooks (Statuspage webhook shape) and plain-text e-mail (SMTP).

`Notifier.notify()` only queues: each destination has its own bounded queue and worker, so a slow
or failing receiver never blocks probing, the caller, or the other receivers, and one receiver
gets its events in order. Failed deliveries are retried with exponential backoff.

With a store, each queued delivery is also an outbox row (committed with the next flush; `statuspage
run` flushes right after a transition's incident work) and is removed once delivered, refused or given
up on. A process that crashes leaves its rows; the next `statuspage run` sends them first, with the
same `X-Statuspage-Delivery` id, so a T1 opened just before a crash still pages someone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import aiosmtplib

from statuspage.config import MAINTENANCE_EVENTS, Apprise, Config, Email, Webhook
from statuspage.durations import format_duration
from statuspage.models import AutoText, CaseAlert, ComponentChange, Incident, IncidentUpdate, Maintenance
from statuspage.redaction import quiet_url_loggers
from statuspage.store import OutboxRow, Store

log = logging.getLogger(__name__)

EVENTS = ("incident.created", "incident.acknowledged", "incident.updated", "incident.resolved",
          "incident.reminder")
CASE_EVENTS = ("case.first_response.warning", "case.first_response.breached", "case.resolution.warning",
               "case.resolution.breached")
"""Support-case alerts (statuspage.support.alerts), delivered by `notify_case`."""
MAX_BACKOFF_S = 300.0
OUTBOX_MAX_AGE_S = 86400.0
"""Undelivered notifications older than this are dropped at start-up rather than sent late."""
USER_AGENT = "statuspage/0.1 (+webhook)"

_WORDS = {
    "pt-BR": {
        "investigating": "Investigando", "identified": "Identificado", "monitoring": "Monitorando",
        "resolved": "Resolvido", "T1": "Impacto Crítico", "T2": "Alto Impacto", "T3": "Médio Impacto",
        "T4": "Baixo Impacto", "reminder": "Lembrete: {sev} sem reconhecimento",
        "page": "Página", "title": "Incidente", "severity": "Severidade", "status": "Situação",
        "started": "Início", "due": "Prazo (SLA)", "breached": "PRAZO ESTOURADO", "ack": "Reconhecido por",
        "not_acked": "Ainda não reconhecido", "components": "Componentes afetados",
        "latest": "Última atualização", "link": "Detalhes", "none": "nenhum",
    },
    "en": {
        "investigating": "Investigating", "identified": "Identified", "monitoring": "Monitoring",
        "resolved": "Resolved", "T1": "Critical impact", "T2": "High impact", "T3": "Medium impact",
        "T4": "Low impact", "reminder": "Reminder: {sev} not acknowledged",
        "page": "Page", "title": "Incident", "severity": "Severity", "status": "Status",
        "started": "Started", "due": "Due (SLA)", "breached": "DEADLINE BREACHED", "ack": "Acknowledged by",
        "not_acked": "Not acknowledged yet", "components": "Affected components", "latest": "Latest update",
        "link": "Details", "none": "none",
    },
}


def iso_utc(ts: float | None) -> str | None:
    """ISO 8601 in UTC with milliseconds, as Statuspage writes webhook times."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def webhook_payload(config: Config, event: str, incident: Incident, now: float) -> dict[str, Any]:
    """The Statuspage webhook body for an incident event, with our SLA fields beside theirs."""
    page = config.page(incident.page)
    names = {c.slug: c.name for c in page.components} if page else {}
    base = config.site.base_url.rstrip("/")
    updates = [
        {
            "id": str(u.id), "status": u.status, "body": u.message, "incident_id": str(incident.id),
            "created_at": iso_utc(u.at), "updated_at": iso_utc(u.at), "display_at": iso_utc(u.at),
            "affected_components": [
                {"code": c.component, "name": names.get(c.component, c.component), "old_status": c.old_status,
                 "new_status": c.new_status} for c in u.components
            ],
        }
        for u in reversed(incident.updates)
    ]
    resolved = incident.status == "resolved"
    return {
        "meta": {"unsubscribe": None, "documentation": None, "event": event, "generated_at": iso_utc(now)},
        "page": {
            "id": incident.page,
            "status_indicator": "none" if resolved else incident.impact,
            "status_description": page.name if page else incident.page,
        },
        "incident": {
            "id": str(incident.id), "name": incident.title, "status": incident.status,
            "impact": incident.impact, "created_at": iso_utc(incident.created_at or incident.started_at),
            "updated_at": iso_utc(incident.updated_at or incident.started_at),
            "started_at": iso_utc(incident.started_at), "monitoring_at": iso_utc(incident.monitoring_at),
            "resolved_at": iso_utc(incident.resolved_at),
            "shortlink": f"{base}/{incident.page}/incidents/{incident.id}.html",
            "page_id": incident.page,
            "incident_updates": updates,
            "components": [{"id": c, "name": names.get(c, c), "page_id": incident.page}
                           for c in incident.components],
            "postmortem_body": incident.postmortem or None,
            # ours
            "severity": incident.severity, "automatic": incident.automatic,
            "acknowledged_at": iso_utc(incident.acknowledged_at), "acknowledged_by": incident.acknowledged_by,
            "due_at": iso_utc(incident.due_at), "sla_breached": incident.breached(now),
        },
    }


def incident_to_json(incident: Incident) -> str:
    """The incident as it is now, for the outbox."""
    return json.dumps(dataclasses.asdict(incident), ensure_ascii=False)


def incident_from_json(text: str) -> Incident:
    """The inverse of `incident_to_json`."""
    data = json.loads(text)
    data["components"] = tuple(data["components"])
    data["updates"] = tuple(
        IncidentUpdate(**{**u, "components": tuple(ComponentChange(**c) for c in u["components"]),
                          "auto": _auto(u.get("auto"))})
        for u in data["updates"])
    data["title_auto"] = _auto(data.get("title_auto"))
    data["locations"] = tuple(data.get("locations", ()))  # outbox rows written before schema 6 lack it
    return Incident(**data)


def _auto(data: Any) -> AutoText | None:
    # Rows queued by an older version have no automatic texts; the plain text is all they need.
    return None if data is None else AutoText.from_data(data)


def sign(secret: str, body: bytes) -> str:
    """The `X-Statuspage-Signature` header value: HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def email_message(config: Config, email: Email, event: str, incident: Incident, now: float) -> EmailMessage:
    """A plain-text mail about an incident event, in the site's locale."""
    w = _WORDS[config.site.locale]
    tz = ZoneInfo(config.site.timezone)
    page = config.page(incident.page)
    page_name = page.name if page else incident.page
    names = {c.slug: c.name for c in page.components} if page else {}

    def when(ts: float) -> str:
        return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M %Z")

    title = " ".join(incident.title.split())  # no CR/LF can reach a header
    if event == "incident.reminder":
        subject = f"[{page_name}] {w['reminder'].format(sev=incident.severity)}: {title}"
    else:
        subject = f"[{page_name}] {incident.severity} · {w[incident.status]}: {title}"
    ack = (f"{w['ack']}: {incident.acknowledged_by} ({when(incident.acknowledged_at)})"
           if incident.acknowledged_by and incident.acknowledged_at is not None else w["not_acked"])
    latest = incident.updates[-1].message if incident.updates else ""
    comps = ", ".join(names.get(c, c) for c in incident.components) or w["none"]
    base = config.site.base_url.rstrip("/")
    lines = [
        f"{w['page']}: {page_name}",
        f"{w['title']}: {incident.title}",
        f"{w['severity']}: {incident.severity} — {w[incident.severity]}",
        f"{w['status']}: {w[incident.status]}",
        f"{w['started']}: {when(incident.started_at)}",
        f"{w['due']}: {when(incident.due_at)}" + (f" — {w['breached']}" if incident.breached(now) else ""),
        ack,
        f"{w['components']}: {comps}",
        "",
        f"{w['latest']}:",
        latest,
        "",
        f"{w['link']}: {base}/{incident.page}/incidents/{incident.id}.html",
    ]
    msg = EmailMessage()
    msg["Subject"] = subject[:250]
    msg["From"] = email.sender
    msg["To"] = ", ".join(email.to)
    msg["X-Statuspage-Event"] = event
    msg.set_content("\n".join(lines))
    return msg


@dataclass(frozen=True)
class Delivery:
    """One event on its way to a destination; `id` is the same on every retry, so a receiver that got a
    delivery whose response was lost (a timeout, a reset) can recognise the retry and drop it."""

    event: str
    incident: Incident | None
    at: float
    id: str
    alert: CaseAlert | None = None
    """Set (and `incident` None) for a `case.*` event."""
    maintenance: Maintenance | None = None
    """Set (and `incident` None) for a `maintenance.*` event: the window, or the occurrence it is about."""


Sender = Callable[[Delivery], Awaitable[None]]


class _Destination:
    """One receiver: a bounded queue and a worker that delivers in order with retries.

    `name` is for logs; `key` identifies the receiver in the outbox across restarts (a hash, never
    the URL itself: webhook URLs often carry secrets)."""

    def __init__(self, name: str, key: str, deliver: Sender, retries: int,
                 base_delay: float, queue_size: int, events: Iterable[str] | None = None) -> None:
        self.name = name
        self.key = key
        self.events = frozenset(events if events is not None else EVENTS + CASE_EVENTS)
        """The events this receiver takes (webhooks and e-mail: every incident and case event)."""
        self.deliver = deliver
        self.on_done: Callable[[Delivery, str], None] = lambda delivery, key: None
        self.retries = retries
        self.base_delay = base_delay
        self.queue: asyncio.Queue[Delivery] = asyncio.Queue(queue_size)
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            delivery = await self.queue.get()
            try:
                await self._deliver_with_retries(delivery)
                # Delivered, refused or given up on: either way it leaves the outbox.
                self.on_done(delivery, self.key)
            finally:
                self.queue.task_done()

    async def _deliver_with_retries(self, delivery: Delivery) -> None:
        event = delivery.event
        for attempt in range(self.retries + 1):
            try:
                await self.deliver(delivery)
                log.info("notified destination=%s event=%s id=%s", self.name, event, delivery.id)
                return
            except _Permanent as exc:
                log.warning("notification refused destination=%s event=%s: %s", self.name, event, exc)
                return
            except Exception as exc:  # network, timeout, 5xx: worth another try
                if attempt == self.retries:
                    log.warning("notification failed destination=%s event=%s attempts=%d: %s", self.name,
                                event, attempt + 1, exc)
                    return
                await asyncio.sleep(min(self.base_delay * 2**attempt, MAX_BACKOFF_S))


class _Permanent(Exception):
    """A receiver said no in a way retrying cannot fix (a 4xx other than 429)."""


class Notifier:
    """Delivers incident events to every configured webhook and e-mail destination."""

    def __init__(self, config: Config, *, store: Store | None = None, resume: bool = False,
                 retry_base_delay: float = 1.0, queue_size: int = 1000,
                 clock: Callable[[], float] = time.time, dispatch: bool = False) -> None:
        """With a `store`, every queued delivery is kept in its outbox until it is done, and with
        `resume` (the one long-running process only) `start()` delivers what an earlier process left.

        With `dispatch` (several instances on one database) `notify()` only writes the outbox, and
        the leader hands the rows it claimed to `deliver()`: one instance sends, whoever caused it."""
        self.dispatch = dispatch
        self.config = config
        self.clock = clock
        self.store = store
        self.resume = resume
        self._session: aiohttp.ClientSession | None = None
        self._destinations: list[_Destination] = []
        for n, hook in enumerate(config.notifications.webhooks):
            key = "webhook:" + hashlib.sha256(str(hook.url).encode()).hexdigest()[:16]
            self._destinations.append(_Destination(
                f"webhook[{n}]", key, self._webhook_sender(hook), hook.retries, retry_base_delay, queue_size))
        email = config.notifications.email
        if email is not None:
            self._destinations.append(_Destination(
                "email", "email", self._email_sender(email), 3, retry_base_delay, queue_size))
        for n, target in enumerate(config.notifications.apprise):
            key = "apprise:" + hashlib.sha256(target.url.encode()).hexdigest()[:16]
            self._destinations.append(_Destination(
                f"apprise[{n}]", key, self._apprise_sender(target), target.retries, retry_base_delay,
                queue_size,
                target.events))
        self._store_done()
        self._started = False
        self._closed = False

    def _store_done(self) -> None:
        store = self.store
        if store is not None:
            for dest in self._destinations:
                dest.on_done = lambda delivery, key: store.buffer_outbox_done(delivery.id, key)

    def add_destination(self, name: str, key: str, deliver: Sender, events: Iterable[str], retries: int = 20,
                        retry_base_delay: float = 1.0, queue_size: int = 1000) -> None:
        """Another receiver of the events in `events` (before `start()`), with the same queue, retries
        and outbox as the configured ones; `key` names it in the outbox across restarts."""
        assert not self._started, "destinations are added before start()"
        self._destinations.append(
            _Destination(name, key, deliver, retries, retry_base_delay, queue_size, events))
        self._store_done()

    async def start(self) -> None:
        """Start one worker per destination (idempotent), after queueing what the outbox still holds."""
        if self._started or not self._destinations:
            return
        self._started = True
        if self.config.notifications.webhooks:
            self._session = aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}, trust_env=False)
        if self.store is not None and self.resume:
            await self._resume(self.store)
        for dest in self._destinations:
            dest.task = asyncio.create_task(dest.run(), name=f"notify-{dest.name}")

    async def _resume(self, store: Store) -> None:
        resumed = self.deliver(await store.outbox())
        if resumed:
            log.info("outbox: resuming %d undelivered notifications", resumed)

    def deliver(self, rows: list[OutboxRow]) -> int:
        """Queue outbox rows (an earlier process's, or claimed by the leader) for delivery, each with
        its own delivery id; return how many were queued. Rows for a receiver no longer configured, a
        day old, or unreadable leave the outbox."""
        store = self.store
        by_key = {d.key: d for d in self._destinations}
        queued = 0
        for row in rows:
            dest = by_key.get(row.destination)
            stale = self.clock() - row.at > OUTBOX_MAX_AGE_S
            incident: Incident | None = None
            alert: CaseAlert | None = None
            maintenance: Maintenance | None = None
            try:
                if row.event in CASE_EVENTS:
                    alert = CaseAlert(**json.loads(row.incident))
                elif row.event in MAINTENANCE_EVENTS:
                    data = json.loads(row.incident)
                    maintenance = Maintenance(**{**data, "components": tuple(data["components"])})
                else:
                    incident = incident_from_json(row.incident)
            except (ValueError, TypeError, KeyError):
                pass
            if dest is None or stale or (incident is None and alert is None and maintenance is None) \
                    or dest.queue.full():
                # A receiver no longer configured, a day-old event, an unreadable row: drop it.
                log.warning("outbox: dropping event=%s destination=%s", row.event, row.destination)
                if store is not None:
                    store.buffer_outbox_done(row.delivery_id, row.destination)
                continue
            dest.queue.put_nowait(Delivery(row.event, incident, row.at, row.delivery_id, alert, maintenance))
            queued += 1
        return queued

    def drop_queued(self) -> int:
        """Forget deliveries not started yet (a deposed leader: the next one claims them again)."""
        dropped = 0
        for dest in self._destinations:
            while not dest.queue.empty():
                dest.queue.get_nowait()
                dest.queue.task_done()
                dropped += 1
        return dropped

    def notify(self, event: str, incident: Incident) -> None:
        """Queue an event for every destination; never blocks, drops (with a warning) when a queue is full."""
        if self._closed or not self._destinations:
            return
        if event not in EVENTS:
            raise ValueError(f"unknown notification event {event!r}")
        delivery = Delivery(event, incident, self.clock(), uuid.uuid4().hex)
        self._queue(delivery, incident_to_json(incident) if self.store is not None else "")

    def notify_case(self, alert: CaseAlert) -> None:
        """Queue a support-case alert (`case.*`) for every destination, as `notify` does for incidents."""
        if self._closed or not self._destinations:
            return
        delivery = Delivery(alert.event, None, self.clock(), uuid.uuid4().hex, alert)
        self._queue(delivery, json.dumps(dataclasses.asdict(alert)) if self.store is not None else "")

    def notify_maintenance(self, event: str, window: Maintenance) -> None:
        """Queue a `maintenance.*` event (the window, or one occurrence of a recurring one) for the
        destinations that asked for it (`notifications.apprise[].events`)."""
        if self._closed or not self._destinations:
            return
        if event not in MAINTENANCE_EVENTS:
            raise ValueError(f"unknown notification event {event!r}")
        delivery = Delivery(event, None, self.clock(), uuid.uuid4().hex, maintenance=window)
        self._queue(delivery, json.dumps(dataclasses.asdict(window)) if self.store is not None else "")

    def _queue(self, delivery: Delivery, snapshot: str) -> None:
        event = delivery.event
        if self.dispatch and self.store is not None:
            # Several instances: only the outbox is written; the leader claims and delivers the rows.
            for dest in self._destinations:
                if event in dest.events:
                    self.store.buffer_outbox(OutboxRow(delivery.id, dest.key, event, snapshot, delivery.at))
            return
        for dest in self._destinations:
            if event not in dest.events:
                continue
            try:
                dest.queue.put_nowait(delivery)
            except asyncio.QueueFull:
                log.warning("notification dropped destination=%s event=%s: queue full", dest.name, event)
                continue
            if self.store is not None:
                self.store.buffer_outbox(OutboxRow(delivery.id, dest.key, event, snapshot, delivery.at))

    async def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued (for at most `timeout` seconds), then stop; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._started:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(d.queue.join() for d in self._destinations)), timeout)
        for dest in self._destinations:
            if dest.task is not None:
                dest.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await dest.task
        if self._session is not None:
            await self._session.close()

    def _webhook_sender(self, hook: Webhook) -> Sender:
        async def send(d: Delivery) -> None:
            assert self._session is not None
            if d.alert is not None:
                payload = case_webhook_payload(self.config, d.alert, d.at)
            else:
                assert d.incident is not None
                payload = webhook_payload(self.config, d.event, d.incident, d.at)
            body = json.dumps(payload, ensure_ascii=False).encode()
            headers = {"Content-Type": "application/json", "X-Statuspage-Event": d.event,
                       "X-Statuspage-Delivery": d.id}
            if hook.secret:
                headers["X-Statuspage-Signature"] = sign(hook.secret, body)
            async with self._session.post(hook.url, data=body, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=hook.timeout),
                                          allow_redirects=False) as resp:
                if resp.status == 429 or resp.status >= 500:
                    raise RuntimeError(f"HTTP {resp.status}")
                if resp.status >= 400:
                    raise _Permanent(f"HTTP {resp.status}")

        return send

    def _email_sender(self, email: Email) -> Sender:
        async def send(d: Delivery) -> None:
            if d.alert is not None:
                msg = case_email_message(self.config, email, d.alert, d.at)
            else:
                assert d.incident is not None
                msg = email_message(self.config, email, d.event, d.incident, d.at)
            # A stable Message-ID lets mail clients fold a retried message into the first one.
            msg["Message-ID"] = f"<{d.id}@statuspage>"
            await aiosmtplib.send(
                msg, hostname=email.host, port=email.port, start_tls=email.starttls,
                use_tls=False, username=email.username or None, password=email.password or None,
                timeout=email.timeout,
            )

        return send


    def _apprise_sender(self, target: Apprise) -> Sender:
        async def send(d: Delivery) -> None:
            title, body = apprise_text(self.config, d)
            # apprise is synchronous (requests): a worker thread, never the event loop.
            if not await asyncio.to_thread(_apprise_notify, target.url, title, body):
                raise RuntimeError("apprise could not deliver it")

        return send


# --- apprise (engineers' chat channels) ----------------------------------------------------------------

_MAINTENANCE_WORDS = {
    "pt-BR": {"maintenance.scheduled": "Manutenção programada", "maintenance.started": "Manutenção iniciada",
              "maintenance.ended": "Manutenção encerrada", "maintenance.cancelled": "Manutenção cancelada",
              "components": "Componentes", "all": "todos", "when": "Quando"},
    "en": {"maintenance.scheduled": "Maintenance scheduled", "maintenance.started": "Maintenance started",
           "maintenance.ended": "Maintenance ended", "maintenance.cancelled": "Maintenance cancelled",
           "components": "Components", "all": "all", "when": "When"},
}


def apprise_text(config: Config, d: Delivery) -> tuple[str, str]:
    """The title and body of a notification for a chat channel: the e-mail's subject and text."""
    if d.maintenance is not None:
        m = d.maintenance
        w = _MAINTENANCE_WORDS[config.site.locale]
        tz = ZoneInfo(config.site.timezone)
        page = config.page(m.page)
        names = {c.slug: c.name for c in page.components} if page else {}
        span = (f"{datetime.fromtimestamp(m.start, tz):%Y-%m-%d %H:%M} → "
                f"{datetime.fromtimestamp(m.end, tz):%Y-%m-%d %H:%M %Z}")
        comps = ", ".join(names.get(c, c) for c in m.components) or w["all"]
        title = f"[{page.name if page else m.page}] {w[d.event]}: {' '.join(m.title.split())}"
        lines = [f"{w['when']}: {span}", f"{w['components']}: {comps}"] + ([m.message] if m.message else [])
        return title[:250], "\n".join(lines)
    sender = Email(host="localhost", to=["apprise@localhost"])  # only its texts are used
    if d.alert is not None:
        msg = case_email_message(config, sender, d.alert, d.at)
    else:
        assert d.incident is not None
        msg = email_message(config, sender, d.event, d.incident, d.at)
    return str(msg["Subject"]), str(msg.get_content()).rstrip()


def _apprise_notify(url: str, title: str, body: str) -> bool:
    """Send one notification through apprise (blocking; run in a thread)."""
    import apprise

    quiet_url_loggers(secret_url=url)
    sender = apprise.Apprise()
    if not sender.add(url):
        raise _Permanent("apprise does not take this URL")
    try:
        return bool(sender.notify(title=title, body=body))
    except Exception as exc:  # its message may quote the URL: only the kind of failure goes on
        raise RuntimeError(f"apprise failed: {type(exc).__name__}") from None


# --- support-case alerts ----------------------------------------------------------------------------

_CASE_WORDS = {
    "pt-BR": {"first_response": "primeira resposta", "resolution": "resolução", "warning": "vence em breve",
              "breached": "PRAZO ESTOURADO", "case": "Caso", "channel": "Canal", "page": "Página",
              "severity": "Severidade", "opened": "Aberto em", "due": "Prazo", "limit": "Limite",
              "support": "Suporte", "none": "—"},
    "en": {"first_response": "first response", "resolution": "resolution", "warning": "due soon",
           "breached": "DEADLINE BREACHED", "case": "Case", "channel": "Channel", "page": "Page",
           "severity": "Severity", "opened": "Opened", "due": "Due", "limit": "Limit", "support": "Support",
           "none": "—"},
}


def case_webhook_payload(config: Config, alert: CaseAlert, now: float) -> dict[str, Any]:
    """The webhook body of a `case.*` alert (our own shape; no Statuspage equivalent):

    `{"meta": {"event", "generated_at"}, "case": {"id", "channel", "page", "severity", "clock":
    first_response|resolution, "state": warning|breached, "opened_at", "due_at", "limit_s"}}`.
    `id` is the helpdesk's opaque case id; no customer data is ever in it."""
    clock, _, state = alert.kind.partition(".")
    return {
        "meta": {"event": alert.event, "generated_at": iso_utc(now)},
        "case": {"id": alert.case_id, "channel": alert.channel, "page": alert.page,
                 "severity": alert.severity, "clock": clock, "state": state,
                 "opened_at": iso_utc(alert.opened_at), "due_at": iso_utc(alert.due_at),
                 "limit_s": alert.limit_s},
    }


def case_email_message(config: Config, email: Email, alert: CaseAlert, now: float) -> EmailMessage:
    """A plain-text mail about a support-case alert, in the site's locale."""
    w = _CASE_WORDS[config.site.locale]
    tz = ZoneInfo(config.site.timezone)

    def when(ts: float) -> str:
        return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M %Z")

    clock, _, state = alert.kind.partition(".")
    subject = (f"[{w['support']}] {w['case']} {alert.case_id} ({alert.channel}): {w[clock]} {w[state]} "
               f"— {w['due']} {when(alert.due_at)}")
    lines = [
        f"{w['case']}: {alert.case_id}",
        f"{w['channel']}: {alert.channel}",
        f"{w['page']}: {alert.page or w['none']}",
        f"{w['severity']}: {alert.severity or w['none']}",
        f"{w['opened']}: {when(alert.opened_at)}",
        f"{w['due']} ({w[clock]}): {when(alert.due_at)} — {w[state]}",
        f"{w['limit']}: {format_duration(alert.limit_s)}",
    ]
    msg = EmailMessage()
    msg["Subject"] = " ".join(subject.split())[:250]
    msg["From"] = email.sender
    msg["To"] = ", ".join(email.to)
    msg["X-Statuspage-Event"] = alert.event
    msg.set_content("\n".join(lines))
    return msg
