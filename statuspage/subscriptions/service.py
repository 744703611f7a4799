"""Visitors' subscriptions: requests (rate-limited, answered the same whatever the address),
double opt-in, one-click unsubscribe, erasure on request, and notices handed to the mail outbox.

    SubscriptionError
    ├── BadRequest     an address or choice that cannot be used       (HTTP 400)
    └── RateLimited    too many requests from a client or for an address (HTTP 429, Retry-After)

A request is checked (shape, limits) and answered at once; what the database knows about the address
is looked up afterwards, by a background task, so the answer — status, body and timing — is the same
for a new, a pending and a confirmed address. Addresses are never logged: log lines name subscriber ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from statuspage.config import Config
from statuspage.redaction import install_log_redaction
from statuspage.store import Notice, Store, Subscriber
from statuspage.subscriptions.limits import RateLimit
from statuspage.subscriptions.tokens import Token, parse_token, token_matches

log = logging.getLogger(__name__)
events = logging.getLogger("statuspage.events")

MAX_EMAIL = 254
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
"""An address a relay will take: dot-atom local part (no quotes, spaces, commas or angle brackets,
so it can never change a header), a host name with a dot."""
QUEUE_MAX = 10_000
NOTICES_KEPT_S = 7 * 86400.0


class SubscriptionError(Exception):
    """A subscription request that cannot be taken; the message says why."""


class BadRequest(SubscriptionError):
    """An address, page, component or locale that cannot be used."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class RateLimited(SubscriptionError):
    """Too many requests; `retry_after` seconds until the next is taken."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many subscription requests; try again later")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Request:
    """A checked subscription request."""

    email: str
    page: str
    components: tuple[str, ...]
    locale: str


def normalise_email(value: object) -> str:
    """The address as stored (trimmed, lower case), or BadRequest."""
    if not isinstance(value, str):
        raise BadRequest("must be an e-mail address", "email")
    email = value.strip().lower()
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise BadRequest("is not an e-mail address like ana@example.com", "email")
    return email


class SubscriptionService:
    """Takes subscription requests, confirmations and unsubscriptions; publishes notices."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Callable[[], float] = time.time,
        on_mail: Callable[[], None] | None = None,
    ) -> None:
        assert config.subscriptions is not None, "subscriptions: is not configured"
        self.config = config
        self.settings = config.subscriptions
        self.store = store
        self.clock = clock
        self.on_mail = on_mail or (lambda: None)
        """Called when mail was queued (wakes the mailer)."""
        self.per_client = RateLimit(*self.settings.per_client)
        self.per_address = RateLimit(*self.settings.per_address)
        self.secret = ""
        self._requests: asyncio.Queue[Request] = asyncio.Queue(QUEUE_MAX)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Read (or create) the token secret and start taking requests (idempotent)."""
        if not self.secret:
            self.secret = await self.store.subscription_secret(secrets.token_urlsafe(32))
            install_log_redaction([self.secret])  # it signs every confirmation and unsubscribe link
        if self._task is None:
            self._task = asyncio.create_task(self._take_requests(), name="subscription-requests")

    async def close(self) -> None:
        """Record the requests already answered, then stop (safe to call twice)."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self._requests.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    # --- requests -----------------------------------------------------------------------------------

    def check(self, email: object, page: object, components: Iterable[object], locale: object) -> Request:
        """A request's fields, checked against the config (BadRequest naming the field)."""
        address = normalise_email(email)
        conf = self.config.page(page) if isinstance(page, str) else None
        if conf is None:
            raise BadRequest("is not a page of this site", "page")
        known = {c.slug for c in conf.components}
        chosen: list[str] = []
        for comp in components:
            if not isinstance(comp, str) or comp not in known:
                raise BadRequest("is not a component of this page", "components")
            if comp not in chosen:
                chosen.append(comp)
        if len(chosen) == len(known) or not self.settings.components:
            chosen = []  # every component is the whole page (and later components too)
        # Not given: the site's default. Given but not one of the site's: refused, not silently
        # replaced (the subscriber would get mail in a language they did not ask for).
        locales = self.config.site.locales
        if locale is None or locale == "":
            lang = self.config.site.locale
        elif isinstance(locale, str) and locale in locales:
            lang = locale
        else:
            raise BadRequest(f"is not a locale of this site (use {' or '.join(locales)})", "locale")
        return Request(address, conf.slug, tuple(sorted(chosen)), lang)

    def submit(self, request: Request, client: str) -> None:
        """Take a checked request from `client` (its address): RateLimited when over a limit. The
        answer never depends on what is stored about the address; the mail follows in the background."""
        now = self.clock()
        wait = max(self.per_client.take(f"c:{client}", now), self.per_address.take(f"a:{request.email}", now))
        if wait > 0:
            raise RateLimited(wait)
        try:
            self._requests.put_nowait(request)
        except asyncio.QueueFull:
            raise RateLimited(60.0) from None

    async def _take_requests(self) -> None:
        while True:
            request = await self._requests.get()
            try:
                await self.record(request)
            except Exception:
                log.exception("subscription request failed; the visitor can send it again")
            finally:
                self._requests.task_done()

    async def record(self, request: Request) -> str:
        """Store a request and queue its mail: `confirm` (new or pending) or `already` (confirmed)."""
        now = self.clock()
        kind = await self.store.request_subscription(
            request.email,
            request.page,
            request.components,
            request.locale,
            secrets.token_hex(16),
            now,
            now + self.settings.confirm_within,
        )
        log.debug("subscription request page=%s mail=%s", request.page, kind)
        self.on_mail()
        return kind

    # --- tokens ---------------------------------------------------------------------------------------

    async def _holder(self, text: str, purpose: str) -> tuple[Token, Subscriber] | None:
        token = parse_token(text)
        if token is None or token.purpose != purpose:
            return None
        sub = await self.store.get_subscriber(token.subscriber_id)
        # An unknown row costs the same MAC as a known one.
        salt = sub.salt if sub is not None else "-" * 32
        if not token_matches(self.secret, token, salt) or sub is None:
            return None
        return token, sub

    async def confirm(self, text: str) -> Subscriber | None:
        """Confirm the subscription a confirmation token names; None (and nothing changes) for a
        forged, expired, already used or unknown token."""
        found = await self._holder(text, "c")
        now = self.clock()
        if found is None:
            return None
        token, sub = found
        if (
            token.expires < now
            or sub.confirm_expires_at is None
            or int(sub.confirm_expires_at) != token.expires
        ):
            return None
        if not await self.store.confirm_subscriber(sub.id, sub.salt, now):
            return None
        events.info("subscriber #%d confirmed on %s", sub.id, sub.page)
        return sub

    async def unsubscribe(self, text: str) -> bool:
        """Delete the subscriber an unsubscribe token names (its address, choices and pending mail);
        False for a forged or unknown token."""
        found = await self._holder(text, "u")
        if found is None:
            return False
        _, sub = found
        deleted = await self.store.delete_subscriber(sub.id)
        if deleted:
            events.info("subscriber #%d unsubscribed from %s (address deleted)", sub.id, sub.page)
        return deleted

    async def erase(self, email: str) -> int:
        """Delete every subscription of an address (LGPD erasure on request); how many went."""
        count = await self.store.erase_address(normalise_email(email))
        if count:
            events.info("erased an address on request: %d subscription(s) deleted", count)
        return count

    # --- notices ------------------------------------------------------------------------------------

    async def publish(self, notice: Notice) -> int:
        """Queue a notice for its page's subscribers (once per key); how many mails were queued."""
        queued = await self.store.publish_notice(notice, self.clock())
        if queued:
            log.info("subscribers notified event=%s page=%s mails=%d", notice.event, notice.page, queued)
            self.on_mail()
        return queued

    async def housekeeping(self) -> None:
        """Delete subscribers who never confirmed in time, and notices long delivered."""
        now = self.clock()
        gone = await self.store.purge_subscriptions(now, now - NOTICES_KEPT_S)
        if gone:
            log.info("deleted %d unconfirmed subscription request(s) past their link's expiry", gone)
