"""The PostgreSQL store's subscriptions and maintenance notices (SQL in subscriptions_pg.py): the same
methods, with the same meaning, as SQLite's (see `Store` in base.py for each one's contract).

A mixin of `PostgresStore`, kept apart so the subscription half of the backend reads as one piece.
Every write is one transaction of `PostgresStore._write()` (so inside `store.fenced(epoch)` a deposed
leader's write is refused, and inside `store.atomic()` it commits with the rest).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from statuspage.store import subscriptions_pg as q
from statuspage.store.base import MailJob, Notice, Subscriber

if TYPE_CHECKING:
    import asyncpg

__all__ = ["PgSubscriptions"]

TOKEN_SECRET = "token_secret"


def _count(status: str) -> int:
    """The row count of a command status (`INSERT 0 12`, `DELETE 3`, `UPDATE 1`)."""
    return int(status.split()[-1])


class PgSubscriptions:
    """Subscribers, their outbox and the maintenance notices told, on PostgreSQL."""

    if TYPE_CHECKING:
        def _write(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...

        async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]: ...

        async def _fetchval(self, sql: str, *args: Any) -> Any: ...

    # --- maintenance notices -------------------------------------------------------------------------

    async def maintenance_notices_sent(self, maintenance_ids: Iterable[int]) -> set[tuple[int, float, str]]:
        """The (window id, occurrence start, kind) maintenance notices already handed out."""
        ids = [int(i) for i in dict.fromkeys(maintenance_ids)]
        if not ids:
            return set()
        return {(int(m), float(o), str(k)) for m, o, k in await self._fetch(q.NOTICES_SENT, ids)}

    async def record_maintenance_notices(self, rows: Iterable[tuple[int, float, str]], at: float) -> None:
        """Remember maintenance notices as handed out (repeats ignored); occurrence rows older than a
        week go."""
        params = [(int(m), float(o), str(k), float(at)) for m, o, k in rows]
        async with self._write() as conn:
            if params:
                await conn.executemany(q.INSERT_NOTICE_SENT, params)
            await conn.execute(q.PRUNE_NOTICES_SENT, float(at) - 7 * 86400.0)

    # --- subscribers -----------------------------------------------------------------------------------

    async def subscription_secret(self, new: str) -> str:
        """The secret subscription tokens are signed with: the stored one, or `new` stored now (the
        first instance to store one wins; every instance signs with it)."""
        async with self._write() as conn:
            await conn.execute(q.INSERT_META, TOKEN_SECRET, new)
        return str(await self._fetchval(q.GET_META, TOKEN_SECRET))

    async def request_subscription(self, email: str, page: str, components: Iterable[str], locale: str,
                                   salt: str, now: float, expires_at: float) -> str:
        """Record a subscription request and queue its mail (`confirm` or `already`) in one transaction."""
        chosen = list(components)
        now, expires_at = float(now), float(expires_at)
        async with self._write() as conn:
            row = await conn.fetchrow(q.UPSERT_SUBSCRIBER, email, page, locale, salt, now, expires_at)
            assert row is not None
            sid, kind = int(row[0]), ("confirm" if row[1] is None else "already")
            if kind == "confirm":
                await conn.execute(q.RENEW_PENDING, locale, now, expires_at, sid)
                await conn.execute(q.CLEAR_SUBSCRIBER_COMPONENTS, sid)
                if chosen:
                    await conn.execute(q.INSERT_SUBSCRIBER_COMPONENTS, sid, chosen)
            if not int(await conn.fetchval(q.PENDING_MAIL, sid)):
                await conn.execute(q.QUEUE_MAIL, sid, kind, now, now)
        return kind

    async def get_subscriber(self, subscriber_id: int) -> Subscriber | None:
        """One subscriber with its components, or None."""
        rows = await self._fetch(q.GET_SUBSCRIBER, int(subscriber_id))
        if not rows:
            return None
        comps = tuple(str(r[0]) for r in await self._fetch(q.SUBSCRIBER_COMPONENTS, int(subscriber_id)))
        r = rows[0]
        return Subscriber(id=int(r[0]), email=r[1], page=r[2], locale=r[3], salt=r[4], created_at=r[5],
                          confirm_expires_at=r[6], confirmed_at=r[7], components=comps)

    async def confirm_subscriber(self, subscriber_id: int, salt: str, now: float) -> bool:
        """Confirm a pending subscriber whose link has not expired; False otherwise."""
        async with self._write() as conn:
            status = await conn.execute(q.CONFIRM, float(now), int(subscriber_id), salt, float(now))
        return _count(status) == 1

    async def _delete_subscribers(self, conn: asyncpg.Connection, ids: list[int]) -> int:
        count = 0
        for sql in q.DELETE_SUBSCRIBER:  # the last one deletes the subscribers themselves
            count = _count(await conn.execute(sql, ids))
        return count

    async def delete_subscriber(self, subscriber_id: int) -> bool:
        """Delete a subscriber, its choices and its pending mail; False when there was none."""
        async with self._write() as conn:
            return await self._delete_subscribers(conn, [int(subscriber_id)]) == 1

    async def erase_address(self, email: str) -> int:
        """Delete every subscription of an address (LGPD erasure); return how many."""
        async with self._write() as conn:
            ids = [int(r[0]) for r in await conn.fetch(q.SUBSCRIBERS_OF_ADDRESS, email)]
            return await self._delete_subscribers(conn, ids) if ids else 0

    async def purge_subscriptions(self, now: float, notices_before: float) -> int:
        """Delete subscribers whose confirmation expired unused, and old delivered notices."""
        async with self._write() as conn:
            ids = [int(r[0]) for r in await conn.fetch(q.EXPIRED_PENDING, float(now))]
            gone = await self._delete_subscribers(conn, ids) if ids else 0
            await conn.execute(q.PRUNE_NOTICES, float(notices_before))
        return gone

    async def subscriber_counts(self) -> dict[tuple[str, bool], int]:
        """(page, confirmed) → subscribers."""
        return {(str(p), bool(c)): int(n) for p, c, n in await self._fetch(q.COUNT_SUBSCRIBERS)}

    # --- notices and the subscriber outbox -------------------------------------------------------------

    async def publish_notice(self, notice: Notice, now: float) -> int:
        """Store a notice and queue it for its page's confirmed subscribers, in one transaction."""
        now = float(now)
        async with self._write() as conn:
            notice_id = await conn.fetchval(q.INSERT_NOTICE, notice.key, notice.page, notice.event,
                                            notice.body, now)
            if notice_id is None:
                return 0  # told already (its key is unique)
            args: list[Any] = [int(notice_id), now, now, notice.page]
            if notice.components:
                args.append(list(notice.components))
            return _count(await conn.execute(q.fan_out(bool(notice.components)), *args))

    async def due_mail(self, now: float, limit: int) -> list[MailJob]:
        """Subscriber mail due at `now`, confirmations first, oldest first."""
        out = []
        for r in await self._fetch(q.DUE_MAIL, float(now), int(limit)):
            sub = Subscriber(id=int(r[3]), email=r[4], page=r[5], locale=r[6], salt=r[7], created_at=0.0,
                             confirm_expires_at=r[8])
            notice = None if r[9] is None else Notice(key=r[10], page=r[5], event=r[11], body=r[12])
            out.append(MailJob(int(r[0]), str(r[1]), int(r[2]), sub, None if r[9] is None else int(r[9]),
                               notice))
        return out

    async def claim_mail(self, delivery_ids: Iterable[int], now: float, until: float) -> set[int]:
        """Claim the mail about to be sent until `until`: the ids still due at `now` (see `Store`)."""
        ids = [int(i) for i in delivery_ids]
        if not ids:
            return set()
        async with self._write() as conn:
            rows = await conn.fetch(q.CLAIM_MAIL, float(until), ids, float(now))
        return {int(r[0]) for r in rows}

    async def mail_done(self, delivery_ids: Iterable[int]) -> None:
        """Remove sent (or abandoned) mail from the outbox, in one transaction."""
        ids = [int(i) for i in delivery_ids]
        if ids:
            async with self._write() as conn:
                await conn.execute(q.MAIL_DONE, ids)

    async def mail_retry(self, retries: Iterable[tuple[int, float]]) -> None:
        """Count a failed attempt of each (delivery id, next attempt time)."""
        rows = [(int(i), float(at)) for i, at in retries]
        if rows:
            async with self._write() as conn:
                await conn.execute(q.MAIL_RETRY, [i for i, _ in rows], [at for _, at in rows])

    async def mail_queued(self) -> dict[int, int]:
        """Priority (0 confirmations, 1 notices) → mails waiting."""
        return {int(p): int(n) for p, n in await self._fetch(q.MAIL_QUEUED)}
