"""Subscriptions and recurring maintenance in the store, on both backends (`backend`: SQLite and
PostgreSQL): every Store method statuspage.subscriptions and the maintenance notices use, with the
same answers from either database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from statuspage.models import Maintenance
from statuspage.store import Notice, Store
from tests.pg import Backend

T0 = 1_795_000_000.0
DAY = 86400.0
WEEK = 7 * DAY


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = await backend.open()
    try:
        yield opened
    finally:
        await opened.close()


async def request(store: Store, email: str, page: str = "nps", components: tuple[str, ...] = (),
                  locale: str = "pt-BR", now: float = T0, salt: str = "s" * 32) -> str:
    return await store.request_subscription(email, page, components, locale, salt, now, now + DAY)


async def confirmed(store: Store, email: str, page: str = "nps", components: tuple[str, ...] = (),
                    locale: str = "pt-BR") -> int:
    """A confirmed subscriber (its confirmation mail sent and gone); its id."""
    await request(store, email, page, components, locale)
    job = next(j for j in await store.due_mail(T0, 1000) if j.subscriber.email == email and j.kind == "confirm")
    assert await store.confirm_subscriber(job.subscriber.id, job.subscriber.salt, T0 + 60)
    await store.mail_done([job.id])
    return job.subscriber.id


async def test_the_token_secret_is_the_first_one_stored(store: Store) -> None:
    first = await store.subscription_secret("secret-one")
    assert first == "secret-one"
    assert await store.subscription_secret("secret-two") == "secret-one"


async def test_a_request_queues_one_confirmation_and_replaces_the_choices_until_confirmed(store: Store) -> None:
    assert await request(store, "ana@x.test", components=("reports",), salt="a" * 32) == "confirm"
    # The same address again (another language, other components): still one confirmation waiting.
    assert await request(store, "ana@x.test", components=("app", "reports"), locale="en",
                         now=T0 + 10, salt="b" * 32) == "confirm"
    jobs = await store.due_mail(T0 + 10, 100)
    assert [(j.kind, j.attempts, j.subscriber.email, j.notice) for j in jobs] == [
        ("confirm", 0, "ana@x.test", None)]
    sub = await store.get_subscriber(jobs[0].subscriber.id)
    assert sub is not None
    assert (sub.page, sub.locale, sub.salt, sub.components, sub.confirmed_at) == (
        "nps", "en", "a" * 32, ("app", "reports"), None)
    assert sub.confirm_expires_at == T0 + DAY  # the first link's expiry holds while it is valid
    assert await store.get_subscriber(sub.id + 1000) is None
    # Wrong salt, expired link: nothing changes. The right one confirms, once.
    assert not await store.confirm_subscriber(sub.id, "b" * 32, T0 + 60)
    assert not await store.confirm_subscriber(sub.id, sub.salt, T0 + DAY + 1)
    assert await store.confirm_subscriber(sub.id, sub.salt, T0 + 60)
    assert not await store.confirm_subscriber(sub.id, sub.salt, T0 + 61)
    done = await store.get_subscriber(sub.id)
    assert done is not None and done.confirmed_at == T0 + 60 and done.confirm_expires_at is None
    # Confirmed: a new request changes nothing and queues one "already" mail once the first is gone.
    assert await request(store, "ana@x.test", components=("app",), now=T0 + 100) == "already"
    await store.mail_done([jobs[0].id])
    assert await request(store, "ana@x.test", now=T0 + 200) == "already"
    assert await request(store, "ana@x.test", now=T0 + 300) == "already"
    assert [j.kind for j in await store.due_mail(T0 + 300, 100)] == ["already"]
    again = await store.get_subscriber(sub.id)
    assert again is not None and again.components == ("app", "reports") and again.locale == "en"


async def test_an_expired_request_gets_a_fresh_expiry(store: Store) -> None:
    await request(store, "bia@x.test")
    sid = (await store.due_mail(T0, 10))[0].subscriber.id
    await request(store, "bia@x.test", now=T0 + 2 * DAY)
    sub = await store.get_subscriber(sid)
    assert sub is not None and sub.confirm_expires_at == T0 + 3 * DAY


async def test_simultaneous_requests_for_one_address_queue_one_mail(store: Store) -> None:
    kinds = await asyncio.gather(*(request(store, "cai@x.test", now=T0 + n) for n in range(8)))
    assert set(kinds) == {"confirm"}
    assert len(await store.due_mail(T0 + 10, 100)) == 1
    assert await store.subscriber_counts() == {("nps", False): 1}


async def test_a_notice_reaches_confirmed_subscribers_of_its_page_and_components_once(store: Store) -> None:
    whole = await confirmed(store, "whole@x.test")
    reports = await confirmed(store, "reports@x.test", components=("reports",))
    app = await confirmed(store, "app@x.test", components=("app",))
    await confirmed(store, "other@x.test", page="cxm")
    await request(store, "pending@x.test")  # not confirmed: hears nothing
    assert await store.subscriber_counts() == {("nps", True): 3, ("nps", False): 1, ("cxm", True): 1}

    about_reports = Notice("incident:d1", "nps", "incident.created", '{"en": ["s", "b"]}', ("reports",))
    assert await store.publish_notice(about_reports, T0 + 100) == 2
    assert await store.publish_notice(about_reports, T0 + 101) == 0  # the same key: told already
    whole_page = Notice("maintenance:7:0:scheduled", "nps", "maintenance.scheduled", "{}")
    assert await store.publish_notice(whole_page, T0 + 102) == 3
    both = Notice("incident:d2", "nps", "incident.updated", "{}", ("app", "reports"))
    assert await store.publish_notice(both, T0 + 103) == 3

    jobs = [j for j in await store.due_mail(T0 + 200, 1000) if j.kind == "notice"]
    got = sorted((j.subscriber.id, j.notice.key if j.notice else "") for j in jobs)
    assert got == sorted([
        (whole, "incident:d1"), (reports, "incident:d1"),
        (whole, "maintenance:7:0:scheduled"), (reports, "maintenance:7:0:scheduled"),
        (app, "maintenance:7:0:scheduled"),
        (whole, "incident:d2"), (reports, "incident:d2"), (app, "incident:d2")])
    first = next(j for j in jobs if j.notice is not None and j.notice.key == "incident:d1")
    assert first.notice is not None and first.notice_id is not None
    assert (first.notice.page, first.notice.event, first.notice.body) == (
        "nps", "incident.created", '{"en": ["s", "b"]}')
    assert first.subscriber.email in ("whole@x.test", "reports@x.test")


async def test_the_outbox_sends_confirmations_first_and_retries_later(store: Store) -> None:
    sub = await confirmed(store, "dan@x.test")
    await store.publish_notice(Notice("incident:a", "nps", "incident.created", "{}"), T0)
    await store.publish_notice(Notice("incident:b", "nps", "incident.updated", "{}"), T0)
    await request(store, "eva@x.test", now=T0 + 5)  # a confirmation queued after the notices
    assert await store.mail_queued() == {0: 1, 1: 2}
    jobs = await store.due_mail(T0 + 10, 100)
    assert [(j.kind, j.subscriber.email) for j in jobs] == [
        ("confirm", "eva@x.test"), ("notice", "dan@x.test"), ("notice", "dan@x.test")]
    assert [j.notice.key for j in jobs[1:] if j.notice] == ["incident:a", "incident:b"]
    assert [j.kind for j in await store.due_mail(T0 + 10, 2)] == ["confirm", "notice"]
    assert await store.due_mail(T0 - 1, 100) == []  # nothing is due before it was queued
    # A failed attempt waits until its next time; a sent one leaves.
    await store.mail_retry([(jobs[1].id, T0 + 500), (jobs[2].id, T0 + 900)])
    await store.mail_done([jobs[0].id])
    later = await store.due_mail(T0 + 600, 100)
    assert [(j.id, j.attempts) for j in later] == [(jobs[1].id, 1)]
    await store.mail_retry([(jobs[1].id, T0 + 700)])
    assert [(j.id, j.attempts) for j in await store.due_mail(T0 + 1000, 100)] == [
        (jobs[1].id, 2), (jobs[2].id, 1)]
    await store.mail_done([jobs[1].id, jobs[2].id])
    await store.mail_done([])
    await store.mail_retry([])
    assert await store.mail_queued() == {}
    assert (await store.get_subscriber(sub)) is not None


async def test_unsubscribe_erasure_and_purge_leave_nothing_of_the_address(store: Store) -> None:
    fred_nps = await confirmed(store, "fred@x.test", components=("app",))
    fred_cxm = await confirmed(store, "fred@x.test", page="cxm")
    gil = await confirmed(store, "gil@x.test")
    await store.publish_notice(Notice("incident:n", "nps", "incident.created", "{}"), T0)
    await store.publish_notice(Notice("incident:c", "cxm", "incident.created", "{}"), T0)
    assert await store.delete_subscriber(gil)
    assert not await store.delete_subscriber(gil)
    assert await store.get_subscriber(gil) is None
    assert {j.subscriber.id for j in await store.due_mail(T0, 100)} == {fred_nps, fred_cxm}
    assert await store.erase_address("fred@x.test") == 2
    assert await store.erase_address("fred@x.test") == 0
    assert await store.get_subscriber(fred_nps) is None and await store.get_subscriber(fred_cxm) is None
    assert await store.due_mail(T0, 100) == [] and await store.subscriber_counts() == {}
    # Requests never confirmed go once their link expired; notices go once delivered and old.
    await request(store, "hal@x.test", now=T0)
    await request(store, "ivy@x.test", now=T0 + DAY)
    kept = await confirmed(store, "joe@x.test")
    await store.publish_notice(Notice("incident:late", "nps", "incident.updated", "{}"), T0 + 2 * DAY)
    assert await store.purge_subscriptions(T0 + DAY + 1, notices_before=T0 + 3 * DAY) == 1
    assert await store.subscriber_counts() == {("nps", False): 1, ("nps", True): 1}
    # "incident:late" still has a delivery waiting: kept; the two delivered ones went. Telling them again
    # now would be a new notice (queued again), the waiting one is still a repeat.
    assert await store.publish_notice(Notice("incident:late", "nps", "incident.updated", "{}"), T0) == 0
    assert await store.publish_notice(Notice("incident:n", "nps", "incident.created", "{}"), T0) == 1
    assert await store.get_subscriber(kept) is not None


async def test_recurring_windows_keep_their_rule_zone_and_sequence(store: Store) -> None:
    tz = "America/Sao_Paulo"
    weekly = await store.add_maintenance(Maintenance(
        0, "nps", "Backup semanal", T0, T0 + 3600, ("app",), "msg", T0 - 10, "alice",
        rrule="FREQ=WEEKLY", timezone=tz))
    three = await store.add_maintenance(Maintenance(
        0, "nps", "Três dias", T0, T0 + 1800, (), "", T0 - 10, "alice", rrule="FREQ=DAILY;COUNT=3", timezone=tz))
    single = await store.add_maintenance(Maintenance(0, "cxm", "Uma vez", T0, T0 + 600, (), "", T0 - 10, "bob"))
    assert weekly.id and three.id and single.id and len({weekly.id, three.id, single.id}) == 3
    assert (weekly.rrule, weekly.timezone, weekly.sequence, weekly.updated_at, weekly.components) == (
        "FREQ=WEEKLY", tz, 0, 0.0, ("app",))
    assert (single.rrule, single.timezone) == ("", "")
    assert await store.get_maintenance(weekly.id) == weekly
    # Still running after a time: a single window by its end, a series by its last occurrence's end.
    assert [m.id for m in await store.list_maintenances(ending_after=T0 + 1000)] == [weekly.id, three.id]
    assert [m.id for m in await store.list_maintenances(ending_after=T0 + 2 * DAY)] == [weekly.id, three.id]
    assert [m.id for m in await store.list_maintenances(ending_after=T0 + 3 * DAY)] == [weekly.id]
    assert [m.id for m in await store.list_maintenances(page="nps", ending_after=T0 + 400 * DAY)] == [weekly.id]
    assert [m.id for m in await store.list_maintenances(page="cxm")] == [single.id]
    # A cancellation is a change calendar clients must see: SEQUENCE + 1, LAST-MODIFIED.
    assert await store.cancel_maintenance(weekly.id, T0 + 50)
    assert not await store.cancel_maintenance(weekly.id + 1000, T0 + 50)
    cancelled = await store.get_maintenance(weekly.id)
    assert cancelled is not None
    assert (cancelled.cancelled, cancelled.sequence, cancelled.updated_at) == (True, 1, T0 + 50)
    assert [m.id for m in await store.list_maintenances(page="nps")] == [three.id]
    assert [m.id for m in await store.list_maintenances(page="nps", include_cancelled=True)] == [
        weekly.id, three.id]


async def test_maintenance_notices_are_remembered_and_old_occurrences_forgotten(store: Store) -> None:
    await store.record_maintenance_notices([(1, 0.0, "scheduled"), (1, T0, "started"), (2, T0, "started")], T0)
    await store.record_maintenance_notices([(1, T0, "started"), (1, T0, "ended")], T0 + 10)  # a repeat: ignored
    assert await store.maintenance_notices_sent([1, 2, 3, 1]) == {
        (1, 0.0, "scheduled"), (1, T0, "started"), (1, T0, "ended"), (2, T0, "started")}
    assert await store.maintenance_notices_sent([]) == set()
    # A week later the occurrences' rows go; a window's own (occurrence 0: scheduled, cancelled) stay.
    await store.record_maintenance_notices([(2, T0 + WEEK, "started")], T0 + WEEK + 11)
    assert await store.maintenance_notices_sent([1, 2]) == {(1, 0.0, "scheduled"), (2, T0 + WEEK, "started")}


async def test_claimed_mail_is_out_of_reach_until_the_claim_ends(store: Store) -> None:
    for n in range(4):
        await request(store, f"k{n}@x.test", now=T0 + n)
    ids = [j.id for j in await store.due_mail(T0 + 10, 100)]
    assert len(ids) == 4
    # Two leaders claiming the same batch at once (a takeover): each mail goes to one of them.
    first, second = await asyncio.gather(store.claim_mail(ids[:3], T0 + 10, T0 + 40),
                                         store.claim_mail(ids[:3], T0 + 10, T0 + 40))
    assert first | second == set(ids[:3]) and not first & second
    assert await store.claim_mail(ids, T0 + 11, T0 + 41) == {ids[3]}
    assert await store.due_mail(T0 + 39, 100) == []
    await store.mail_done([ids[0]])
    await store.mail_retry([(ids[1], T0 + 100)])  # a failed attempt: its own time, claim or not
    assert [j.id for j in await store.due_mail(T0 + 41, 100)] == [ids[2], ids[3]]
    assert await store.claim_mail([], T0, T0) == set()
