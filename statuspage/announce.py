"""Telling people about incidents and maintenance: the runner's glue between the incident and
maintenance events and the subscribers (statuspage.subscriptions) and engineers' channels.

Subscribers hear of incidents through a Notifier destination (`incident.created/updated/resolved`),
so the event shares the Notifier's outbox: a T1 opened just before a crash still reaches them, once
(a notice is keyed by the delivery id). Maintenance notices (scheduled, started, ended, cancelled,
per occurrence of a recurring window) come from `tick()`, which compares the windows with the
notices already told (kept in the database). Texts are worded here in every site locale (automatic
incident texts through `incidents.messages`), so the subscriptions package never reads incidents.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from statuspage.config import MAINTENANCE_EVENTS, Config, subscription_endpoint
from statuspage.incidents.messages import word
from statuspage.incidents.notify import Delivery, Notifier
from statuspage.models import Incident, Maintenance
from statuspage.site.links import Links
from statuspage.store import Notice, Store
from statuspage.subscriptions.compose import notice_body
from statuspage.subscriptions.schedule import due_notices
from statuspage.subscriptions.service import SubscriptionService
from statuspage.subscriptions.texts import words

log = logging.getLogger(__name__)

SUBSCRIBER_EVENTS = ("incident.created", "incident.updated", "incident.resolved")
"""What subscribers hear of incidents (not acknowledgements or reminders: those are engineers')."""


def _absolute(config: Config, links: Links, locale: str) -> str:
    url = links.url(locale)
    if url.startswith(("http://", "https://")):
        return url
    return f"{subscription_endpoint(config) or config.site.base_url.rstrip('/')}/{links.here}"


def incident_notice(config: Config, key: str, event: str, incident: Incident) -> Notice:
    """The notice subscribers get about an incident event, worded in every site locale."""
    page = config.page(incident.page)
    page_name = page.name if page else incident.page
    names = {c.slug: c.name for c in page.components} if page else {}
    texts: dict[str, tuple[str, str]] = {}
    for locale in config.site.locales:
        w = words(locale)
        title = (
            word(incident.title_auto, locale, config.site.timezone, names) if incident.title_auto else None
        )
        title = " ".join((title or incident.title).split())
        latest = incident.updates[-1] if incident.updates else None
        message = ""
        if latest is not None:
            message = (
                word(latest.auto, locale, config.site.timezone, names) if latest.auto else None
            ) or latest.message
        comps = ", ".join(names.get(c, c) for c in incident.components) or w["all"]
        link = _absolute(
            config, Links(config, locale, f"incidents/{incident.id}.html", incident.page), locale
        )
        subject = f"[{page_name}] {w[incident.status]}: {title}"
        body = "\n".join([message, "", w["components"].format(names=comps), w["details"].format(link=link)])
        texts[locale] = (subject, body.strip())
    return Notice(
        key=key, page=incident.page, event=event, body=notice_body(texts), components=incident.components
    )


def maintenance_notice(
    config: Config, event: str, window: Maintenance, key: tuple[int, float, str]
) -> Notice:
    """The notice subscribers get about a maintenance window (one occurrence), in every site locale."""
    page = config.page(window.page)
    page_name = page.name if page else window.page
    names = {c.slug: c.name for c in page.components} if page else {}
    tz = ZoneInfo(config.site.timezone)
    texts: dict[str, tuple[str, str]] = {}
    for locale in config.site.locales:
        w = words(locale)
        span = (
            f"{datetime.fromtimestamp(window.start, tz):%Y-%m-%d %H:%M} → "
            f"{datetime.fromtimestamp(window.end, tz):%Y-%m-%d %H:%M %Z}"
        )
        comps = ", ".join(names.get(c, c) for c in window.components) or w["all"]
        link = _absolute(config, Links(config, locale, "index.html", window.page), locale)
        calendar = _absolute(config, Links(config, locale, "maintenances.ics", window.page), locale)
        subject = f"[{page_name}] {w[event]}: {' '.join(window.title.split())}"
        lines = [w["when"].format(span=span), w["components"].format(names=comps)]
        lines += ["", window.message] if window.message else []
        lines += ["", w["details"].format(link=link), w["calendar"].format(link=calendar)]
        texts[locale] = (subject, "\n".join(lines))
    notice_key = f"maintenance:{key[0]}:{key[1]:.0f}:{key[2]}"
    return Notice(
        key=notice_key, page=window.page, event=event, body=notice_body(texts), components=window.components
    )


class Announcer:
    """Hands incident and maintenance events to subscribers and engineers' channels."""

    def __init__(
        self,
        config: Config,
        store: Store,
        notifier: Notifier,
        subscriptions: SubscriptionService | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = store
        self.notifier = notifier
        self.subscriptions = subscriptions
        self.clock = clock
        self.engineers = any(e in MAINTENANCE_EVENTS for a in config.notifications.apprise for e in a.events)
        if subscriptions is not None:
            notifier.add_destination("subscribers", "subscribers", self.deliver_incident, SUBSCRIBER_EVENTS)

    @property
    def active(self) -> bool:
        """True when anyone hears of maintenance (subscribers, or an engineers' channel)."""
        return self.subscriptions is not None or self.engineers

    async def deliver_incident(self, delivery: Delivery) -> None:
        """The Notifier's `subscribers` destination: one notice per delivery (repeats change nothing)."""
        assert self.subscriptions is not None and delivery.incident is not None
        await self.subscriptions.publish(
            incident_notice(self.config, f"incident:{delivery.id}", delivery.event, delivery.incident)
        )

    async def tick(self) -> None:
        """Tell what maintenance did since the last tick (scheduled, started, ended, cancelled)."""
        if not self.active:
            return
        now = self.clock()
        windows = await self.store.list_maintenances(ending_after=now - 3600.0, include_cancelled=True)
        if not windows:
            return
        sent = await self.store.maintenance_notices_sent(m.id for m in windows)
        due = due_notices(windows, sent, now)
        if not due:
            return
        for notice in due:
            if self.subscriptions is not None:
                await self.subscriptions.publish(
                    maintenance_notice(self.config, notice.event, notice.window, notice.key)
                )
            self.notifier.notify_maintenance(notice.event, notice.window)
        await self.store.flush()  # the engineers' outbox rows first: a notice marked told is never lost
        await self.store.record_maintenance_notices((n.key for n in due), now)
        for notice in due:
            log.info("maintenance notice event=%s window=%d", notice.event, notice.window.id)


__all__ = ["SUBSCRIBER_EVENTS", "Announcer", "incident_notice", "maintenance_notice"]
