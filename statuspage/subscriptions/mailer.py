"""The subscriber mail outbox worker: at-least-once, resumed after a crash, throttled.

The outbox lives in the database (`subscription_deliveries`): a row is deleted only after the SMTP
relay accepted the mail, so a process killed mid-send sends the rest after its restart, and at most
the mails accepted in the last moments before the kill (those whose deletion was not committed yet)
go out twice — with the same Message-ID, which mail systems use to fold repeats.

Sending is paced at `subscriptions.rate` over `subscriptions.connections` SMTP connections, each
reused for many mails. This worker is its own task with its own connections: engineers' alerts (the
Notifier's queues) never wait behind subscriber mail.

Several instances on one database: only the leader runs a Mailer, started with its leadership epoch.
It claims each batch before sending it (`Store.claim_mail` inside `fenced(epoch)`): a leader deposed
meanwhile sends nothing more, and while a new leader takes over, the mail the old one is sending stays
out of the new one's reach for `CLAIM_S` seconds, so no subscriber gets a message twice from two
leaders. (A leader killed mid-batch leaves its unsent mail to the next one after those seconds.)
A deposed leader's `close()` lets the mails being handed to the relay finish and records them: a send
cut off after the relay took the DATA, but before its answer, stayed claimed and was sent again by the
next leader once the claim ran out — one subscriber got "Maintenance scheduled" twice from a leader
change alone. The rest of the batch goes back to the outbox at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr

import aiosmtplib

from statuspage.config import Config, SubscriptionSmtp, subscription_endpoint
from statuspage.store import LeadershipLost, MailJob, Store
from statuspage.subscriptions.compose import NoticeMail, compose

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 14
"""A mail that failed this many times (5 s doubling up to 6 h: about a day) is given up."""
COMMIT_EVERY_S = 0.1
"""How often sent mails leave the outbox while a batch goes out: what a crash may send twice."""
CLAIM_S = 30.0
"""Several instances: how long the leader holds a batch it is sending (far longer than a batch takes)."""
CLOSE_GRACE_S = 1.0
"""`close()` waits for the sends in flight up to the relay's timeout plus this; then it cuts them off
(at-least-once, as a crash: those mails may go out again once their claim runs out)."""


class Pacer:
    """At most `rate` events a second, spread evenly (shared by every connection)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self._next = 0.0

    def delay(self) -> float:
        """Reserve the next slot; the seconds to wait for it."""
        now = self.clock()
        slot = max(self._next, now)
        self._next = slot + self.interval
        return slot - now


@dataclass
class MailStats:
    """What the worker did since it started."""

    sent: int = 0
    retried: int = 0
    dropped: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class Mailer:
    """Sends the subscriber outbox; `wake()` after queueing mail, `close()` to stop."""

    def __init__(
        self,
        config: Config,
        store: Store,
        secret: str,
        *,
        clock: Callable[[], float] = time.time,
        retry_base_delay: float = 5.0,
    ) -> None:
        settings = config.subscriptions
        assert settings is not None
        self.config = config
        self.store = store
        self.secret = secret
        self.clock = clock
        self.retry_base_delay = retry_base_delay
        self.endpoint = subscription_endpoint(config)
        relay = settings.smtp
        if relay is None:
            email = config.notifications.email
            assert email is not None, "subscriptions need subscriptions.smtp or notifications.email"
            relay = SubscriptionSmtp(
                host=email.host,
                port=email.port,
                starttls=email.starttls,
                username=email.username,
                password=email.password,
                timeout=email.timeout,
            )
        self.relay = relay
        self.sender = settings.sender or (
            config.notifications.email.sender if config.notifications.email else "statuspage@localhost"
        )
        self.connections = settings.connections
        self.pacer = Pacer(settings.messages_per_second)
        self.batch = int(min(1000, max(20, settings.messages_per_second * 0.5)))
        self.names = {p.slug: p.name for p in config.pages}
        self.stats = MailStats()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._done: list[int] = []
        self._notices: dict[tuple[int, str], NoticeMail] = {}
        self._envelope_from = parseaddr(self.sender)[1] or self.sender
        self._retry: list[tuple[int, float]] = []
        self._epoch: int | None = None
        self._stopping = False
        self._restart: tuple[int | None] | None = None
        """`start(epoch)` called while `close()` was finishing the sends in flight: started after it."""

    def start(self, epoch: int | None = None) -> None:
        """Start the worker (idempotent): first what an earlier process left in the outbox. With
        `epoch` (several instances; this one leads under that epoch) each batch is claimed first."""
        if self._stopping:
            # Deposed and leading again while the old worker finishes its sends (the runner's depose
            # and lead overlap): a no-op here would leave the new leadership without a mailer.
            self._restart = (epoch,)
            return
        if self._task is None:
            self._epoch = epoch
            self._task = asyncio.create_task(self._run(), name="subscriber-mail")

    def wake(self) -> None:
        """Mail was queued: look now rather than at the next poll."""
        self._wake.set()

    async def close(self) -> None:
        """Stop: no new mail is begun, the mails being sent now finish (at most the relay's timeout
        plus `CLOSE_GRACE_S` seconds, then they are cut off), what was accepted is committed and the
        rest stays in the outbox, due at once (idempotent). A `start()` meanwhile runs after it."""
        self._restart = None  # a close() called meanwhile (shutting down) cancels that restart
        task = self._task
        if task is not None:
            self._stopping = True
            self._wake.set()
            try:
                async with asyncio.timeout(self.relay.timeout + CLOSE_GRACE_S):
                    await asyncio.shield(task)
            except TimeoutError:
                task.cancel()  # the relay hangs: cut off
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            except asyncio.CancelledError:
                task.cancel()  # close() itself was cancelled: so is the worker
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                raise
            finally:
                self._task = None
                self._stopping = False
        with contextlib.suppress(Exception):
            await self._commit()
        restart, self._restart = self._restart, None
        if restart is not None:
            self.start(*restart)

    async def _run(self) -> None:
        clients: list[aiosmtplib.SMTP | None] = [None] * self.connections
        try:
            while not self._stopping:
                try:
                    jobs = await self.store.due_mail(self.clock(), self.batch)
                except Exception:
                    log.exception("reading the subscriber outbox failed; trying again")
                    jobs = []
                if jobs and self._epoch is not None:
                    try:
                        jobs = await self._claim(jobs, self._epoch)
                    except LeadershipLost:
                        log.warning("subscriber mail stops: this instance no longer leads")
                        return
                    except Exception:
                        log.exception("claiming subscriber mail failed; trying again")
                        jobs = []
                if not jobs:
                    self._wake.clear()
                    if self._stopping:
                        break
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(1.0):
                            await self._wake.wait()
                    continue
                await self._send_batch(jobs, clients)
        finally:
            for client in clients:
                if client is not None:
                    with contextlib.suppress(Exception):
                        client.close()

    async def _claim(self, jobs: list[MailJob], epoch: int) -> list[MailJob]:
        """The jobs this leader may send: claimed under its epoch (LeadershipLost if it no longer leads)."""
        async with self.store.fenced(epoch):
            now = self.clock()
            claimed = await self.store.claim_mail([j.id for j in jobs], now, now + CLAIM_S)
        return [j for j in jobs if j.id in claimed]

    async def _send_batch(self, jobs: list[MailJob], clients: list[aiosmtplib.SMTP | None]) -> None:
        queue: asyncio.Queue[MailJob] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        committer = asyncio.create_task(self._commit_loop())
        try:
            await asyncio.gather(
                *(self._worker(queue, clients, n) for n in range(min(self.connections, len(jobs))))
            )
        finally:
            committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committer
            await self._commit()
            if self._epoch is not None and not queue.empty():
                await self._hand_back(queue)

    async def _hand_back(self, queue: asyncio.Queue[MailJob]) -> None:
        """Stopped mid-batch (deposed, or closing): the claimed mail not begun yet is due again now,
        for the next leader, rather than at the end of the claim (claiming it until now)."""
        unsent = [queue.get_nowait().id for _ in range(queue.qsize())]
        now = self.clock()
        with contextlib.suppress(Exception):
            await self.store.claim_mail(unsent, now + CLAIM_S, now)

    async def _commit_loop(self) -> None:
        while True:
            await asyncio.sleep(COMMIT_EVERY_S)
            try:
                await self._commit()
            except Exception:
                log.exception("recording sent subscriber mail failed; trying again")

    async def _commit(self) -> None:
        done, self._done = self._done, []
        retry, self._retry = self._retry, []
        try:
            if done:
                await self.store.mail_done(done)
            if retry:
                await self.store.mail_retry(retry)
        except BaseException:
            self._done[:0], self._retry[:0] = done, retry
            raise

    async def _worker(
        self, queue: asyncio.Queue[MailJob], clients: list[aiosmtplib.SMTP | None], n: int
    ) -> None:
        while not queue.empty() and not self._stopping:
            job = queue.get_nowait()
            wait = self.pacer.delay()
            if wait > 0:
                await asyncio.sleep(wait)
                if self._stopping:
                    queue.put_nowait(job)  # not begun: handed back with the rest
                    return
            try:
                client = clients[n]
                if client is None or not client.is_connected:
                    client = clients[n] = await self._connect()
                try:
                    raw = self._render(job, client)
                except Exception:
                    log.exception("cannot compose subscriber mail delivery=%d; dropped", job.id)
                    self._drop(job)
                    continue
                if isinstance(raw, bytes):
                    await client.sendmail(self._envelope_from, [job.subscriber.email], raw)
                else:
                    await client.send_message(raw)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                self._refused(job, exc)
                continue
            except aiosmtplib.SMTPResponseException as exc:
                if 500 <= exc.code < 600:
                    self._refused(job, exc)
                    continue
                self._failed(job, exc, clients, n)
                continue
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                self._failed(job, exc, clients, n)
                continue
            self._done.append(job.id)
            self.stats.sent += 1
            self.stats.by_kind[job.kind] = self.stats.by_kind.get(job.kind, 0) + 1

    def _render(self, job: MailJob, client: aiosmtplib.SMTP) -> bytes | EmailMessage:
        """A notice through its shared `NoticeMail` (UTF-8 quoted-printable: any relay takes it),
        anything else through `compose`."""
        page_name = self.names.get(job.subscriber.page, job.subscriber.page)
        if job.notice is None or job.notice_id is None:
            return compose(
                job,
                secret=self.secret,
                endpoint=self.endpoint,
                sender=self.sender,
                page_name=page_name,
                timezone=self.config.site.timezone,
            )
        key = (job.notice_id, job.subscriber.locale)
        shared = self._notices.get(key)
        if shared is None:
            if len(self._notices) > 64:
                self._notices.clear()
            shared = self._notices[key] = NoticeMail(
                job, secret=self.secret, endpoint=self.endpoint, sender=self.sender, page_name=page_name
            )
        return shared.render(job)

    async def _connect(self) -> aiosmtplib.SMTP:
        relay = self.relay
        client = aiosmtplib.SMTP(
            hostname=relay.host,
            port=relay.port,
            timeout=relay.timeout,
            start_tls=relay.starttls,
            use_tls=False,
        )
        await client.connect()
        if relay.username:
            await client.login(relay.username, relay.password)
        return client

    def _drop(self, job: MailJob) -> None:
        self._done.append(job.id)
        self.stats.dropped += 1

    def _refused(self, job: MailJob, exc: Exception) -> None:
        # A permanent refusal (5xx): retrying cannot help. The address is not logged, its row id is.
        log.warning(
            "subscriber mail refused delivery=%d subscriber=%d: %s",
            job.id,
            job.subscriber.id,
            type(exc).__name__,
        )
        self._drop(job)

    def _failed(self, job: MailJob, exc: Exception, clients: list[aiosmtplib.SMTP | None], n: int) -> None:
        old = clients[n]
        clients[n] = None
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()
        if job.attempts + 1 >= MAX_ATTEMPTS:
            log.warning(
                "subscriber mail given up after %d attempts delivery=%d: %s",
                job.attempts + 1,
                job.id,
                type(exc).__name__,
            )
            self._drop(job)
            return
        delay = min(self.retry_base_delay * 2**job.attempts, 6 * 3600.0)
        log.info(
            "subscriber mail failed delivery=%d attempt=%d: %s; again in %.0fs",
            job.id,
            job.attempts + 1,
            type(exc).__name__,
            delay,
        )
        self._retry.append((job.id, self.clock() + delay))
        self.stats.retried += 1
