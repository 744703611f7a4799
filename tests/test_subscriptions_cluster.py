"""Subscriptions with several instances on one real PostgreSQL: only the leader sends subscriber mail
(each batch claimed under its leadership epoch) and tells maintenance, so each subscriber gets each
message exactly once, whichever instance took the request (a visitor's subscription, an engineer's
incident, a maintenance window) — with two real `statuspage run` processes, and in process for a
deposed leader's mailer."""

from __future__ import annotations

import asyncio
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from statuspage.config import Storage
from statuspage.store import open_store
from tests.conftest import REPO, Process, free_port, write_config

SUBSCRIBERS = 300
ADMIN = "alice-token-0123456789abcdef"
CLUSTER = {"lease_ttl": "3s", "renew_every": "1s", "poll_every": "500ms", "shards": 4}


async def test_a_deposed_leaders_mailer_sends_nothing_and_hands_its_mail_to_the_next(
        tmp_path: Path, pg_url: str) -> None:
    from aiosmtpd.controller import Controller

    from statuspage.subscriptions.mailer import Mailer
    from tests.subscription_env import Inbox, subscription_config

    inbox, port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    config = subscription_config(tmp_path, port).model_copy(update={"storage": Storage(url=pg_url)})
    store = await open_store(config.storage)
    try:
        now = time.time()
        for n in range(3):
            await store.request_subscription(f"v{n}@sub.test", "nps", (), "en", f"{n}" * 32, now, now + 3600)
        conn = await asyncpg.connect(pg_url)
        try:
            await conn.execute("UPDATE cluster_leader SET epoch = 2 WHERE id = 1")  # another instance leads
        finally:
            await conn.close()
        deposed = Mailer(config, store, "k" * 32)
        deposed.start(epoch=1)
        async with asyncio.timeout(10):
            while deposed._task is not None and not deposed._task.done():
                await asyncio.sleep(0.02)
        await deposed.close()
        assert inbox.mails == [] and await store.mail_queued() == {0: 3}
        leader = Mailer(config, store, "k" * 32)
        leader.start(epoch=2)
        try:
            async with asyncio.timeout(10):
                while len(inbox.mails) < 3 or await store.mail_queued():
                    await asyncio.sleep(0.02)
        finally:
            await leader.close()
        assert sorted(rcpt[0] for rcpt, _ in inbox.mails) == ["v0@sub.test", "v1@sub.test", "v2@sub.test"]
    finally:
        await store.close()
        smtp.stop()


async def test_a_leader_stopped_mid_batch_hands_back_the_mail_it_had_not_begun(
        tmp_path: Path, pg_url: str) -> None:
    from aiosmtpd.controller import Controller

    from statuspage.subscriptions.mailer import Mailer
    from tests.subscription_env import Inbox, subscription_config

    class SlowInbox(Inbox):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            await asyncio.sleep(0.3)
            return await super().handle_DATA(server, session, envelope)

    inbox, port = SlowInbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    config = subscription_config(tmp_path, port, connections=1).model_copy(
        update={"storage": Storage(url=pg_url)})
    store = await open_store(config.storage)
    try:
        now = time.time()
        for n in range(25):
            await store.request_subscription(f"w{n}@sub.test", "nps", (), "en", "w" * 32, now, now + 3600)
        mailer = Mailer(config, store, "k" * 32)
        mailer.start(epoch=0)  # the epoch a fresh database starts at
        async with asyncio.timeout(10):
            while not inbox.mails:
                await asyncio.sleep(0.02)
        await mailer.close()  # deposed mid-batch
        sent = len(inbox.mails)
        due = await store.due_mail(time.time(), 100)
        # The mail in flight was finished and recorded; everything not begun is due again at once.
        assert sent + len(due) == 25, (sent, len(due))
        assert {j.subscriber.email for j in due}.isdisjoint(rcpt[0] for rcpt, _ in inbox.mails)
    finally:
        await store.close()
        smtp.stop()


async def test_a_leader_change_mid_send_never_sends_a_mail_twice(tmp_path: Path, pg_url: str) -> None:
    """The interleaving behind the duplicate "Maintenance scheduled": the leader's relay has taken a
    mail (DATA accepted) but not answered yet when another instance takes over. The deposed mailer
    must finish that send and record it, not cut it off: a mail cut off stays claimed, and the next
    leader sends it again once the claim runs out (`CLAIM_S`; its clock is set past it here)."""
    import threading

    from aiosmtpd.controller import Controller

    from statuspage.subscriptions.mailer import CLAIM_S, Mailer
    from tests.subscription_env import Inbox, subscription_config

    answer = threading.Event()  # the relay holds its "250" until the takeover is under way

    class HeldInbox(Inbox):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            reply = await super().handle_DATA(server, session, envelope)  # delivered from here on
            while not answer.is_set():
                await asyncio.sleep(0.01)
            return reply

    inbox, port = HeldInbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    config = subscription_config(tmp_path, port, connections=1).model_copy(
        update={"storage": Storage(url=pg_url)})
    store = await open_store(config.storage)
    try:
        now = time.time()
        for n in range(3):
            await store.request_subscription(f"x{n}@sub.test", "nps", (), "en", "x" * 32, now, now + 3600)
        old = Mailer(config, store, "k" * 32)
        old.start(epoch=0)  # the epoch a fresh database starts at
        async with asyncio.timeout(10):
            while not inbox.mails:
                await asyncio.sleep(0.01)
        conn = await asyncpg.connect(pg_url)
        try:
            await conn.execute("UPDATE cluster_leader SET epoch = 1 WHERE id = 1")  # another instance leads
        finally:
            await conn.close()
        deposing = asyncio.create_task(old.close())  # what the runner does when deposed
        await asyncio.sleep(0.05)
        answer.set()
        await deposing
        later = Mailer(config, store, "k" * 32, clock=lambda: time.time() + CLAIM_S + 1)
        later.start(epoch=1)
        try:
            async with asyncio.timeout(10):
                while await store.mail_queued():
                    await asyncio.sleep(0.02)
        finally:
            await later.close()
        assert sorted(rcpt[0] for rcpt, _ in inbox.mails) == ["x0@sub.test", "x1@sub.test", "x2@sub.test"]
    finally:
        answer.set()
        await store.close()
        smtp.stop()


async def test_leading_again_while_the_deposed_mailer_finishes_starts_it_again(
        tmp_path: Path, pg_url: str) -> None:
    """The runner's depose (closing the mailer, which now waits for the sends in flight) and its next
    lead overlap: the `start(epoch)` made meanwhile runs once the close is done, not never."""
    import threading

    from aiosmtpd.controller import Controller

    from statuspage.subscriptions.mailer import Mailer
    from tests.subscription_env import Inbox, subscription_config

    answer = threading.Event()

    class HeldInbox(Inbox):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            reply = await super().handle_DATA(server, session, envelope)
            while not answer.is_set():
                await asyncio.sleep(0.01)
            return reply

    inbox, port = HeldInbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    config = subscription_config(tmp_path, port, connections=1).model_copy(
        update={"storage": Storage(url=pg_url)})
    store = await open_store(config.storage)
    mailer = Mailer(config, store, "k" * 32)
    try:
        now = time.time()
        for n in range(3):
            await store.request_subscription(f"y{n}@sub.test", "nps", (), "en", "y" * 32, now, now + 3600)
        mailer.start(epoch=0)
        async with asyncio.timeout(10):
            while not inbox.mails:
                await asyncio.sleep(0.01)
        conn = await asyncpg.connect(pg_url)
        try:
            await conn.execute("UPDATE cluster_leader SET epoch = 1 WHERE id = 1")  # this instance again
        finally:
            await conn.close()
        deposing = asyncio.create_task(mailer.close())
        await asyncio.sleep(0.05)
        mailer.start(epoch=1)
        answer.set()
        await deposing
        async with asyncio.timeout(10):
            while await store.mail_queued():
                await asyncio.sleep(0.02)
        assert sorted(rcpt[0] for rcpt, _ in inbox.mails) == ["y0@sub.test", "y1@sub.test", "y2@sub.test"]
    finally:
        answer.set()
        await mailer.close()
        await store.close()
        smtp.stop()


def received(path: Path) -> list[tuple[str, str, str]]:
    """(recipient, Message-ID, Subject) of every mail the sink accepted."""
    if not path.exists():
        return []
    lines = (line.split("\t") for line in path.read_text(encoding="utf-8").splitlines())
    return [(p[1], p[2], p[3]) for p in lines if len(p) == 4]


async def seed(url: str) -> None:
    await (await open_store(Storage(url=url))).close()  # the schema
    conn = await asyncpg.connect(url)
    try:
        now = time.time()
        await conn.executemany(
            "INSERT INTO subscribers (email, page, locale, salt, created_at, confirmed_at) "
            "VALUES ($1, 'nps', $2, $3, $4, $4)",
            [(f"s{n:04d}@sub.test", "en" if n % 2 else "pt-BR", secrets.token_hex(16), now)
             for n in range(SUBSCRIBERS)])
    finally:
        await conn.close()


@pytest.mark.slow
async def test_two_instances_send_each_subscriber_each_message_once(
        tmp_path: Path, pg_url: str, spawn: Callable[..., Process]) -> None:
    smtp_port = free_port()
    mail_log = tmp_path / "mail.tsv"
    sink = subprocess.Popen([sys.executable, str(REPO / "tests" / "smtp_sink.py"), str(smtp_port), str(mail_log)],
                            stdout=subprocess.PIPE, text=True)
    procs: list[Process] = []
    try:
        assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
        await seed(pg_url)
        ports = [free_port(), free_port()]
        base = f"http://127.0.0.1:{ports[0]}"
        monitor = {"name": "web", "url": f"http://127.0.0.1:{free_port()}/", "interval": "1h"}
        for n, port in enumerate(ports):
            cfg = write_config(tmp_path / f"config{n}.yaml", {
                "site": {"base_url": base, "output_dir": str(tmp_path / "site"), "locales": ["pt-BR", "en"]},
                "storage": {"url": pg_url},
                "cluster": CLUSTER,
                "server": {"port": port},
                "admins": [{"name": "alice", "token": ADMIN}],
                "notifications": {"email": {"host": "127.0.0.1", "port": smtp_port, "to": ["oncall@track.test"]}},
                "subscriptions": {"rate": "1000/s", "connections": 2},
                "pages": [{"slug": "nps", "name": "NPS", "components": [
                    {"slug": "app", "name": "App", "monitors": [monitor]}]}],
            })
            procs.append(spawn("run", "--config", str(cfg)))

        async def until(pred: Callable[[], Any], what: str, timeout: float = 60) -> None:
            deadline = time.monotonic() + timeout
            while not await pred():
                for proc in procs:
                    assert proc.proc.poll() is None, proc.output()[-3000:]
                if time.monotonic() > deadline:
                    raise AssertionError(f"timed out waiting for {what}\n"
                                         + "\n\n".join(p.output()[-3000:] for p in procs))
                await asyncio.sleep(0.1)

        db = await asyncpg.connect(pg_url)
        async with aiohttp.ClientSession() as http:

            async def healthy() -> bool:
                for port in ports:
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                            if r.status != 200:
                                return False
                    except aiohttp.ClientError:
                        return False
                return True

            async def leader_port() -> int | None:
                owner = await db.fetchval("SELECT owner FROM cluster_leader WHERE id = 1")
                pids = [p.proc.pid for p in procs]
                found = [port for port, pid in zip(ports, pids, strict=True)
                         if owner is not None and owner.split("-")[-2] == str(pid)]
                return found[0] if found else None

            await until(healthy, "both instances serving")
            await until(lambda: _is(leader_port(), lambda p: p is not None), "a leader")
            lead = await leader_port()
            follower = f"http://127.0.0.1:{next(p for p in ports if p != lead)}"
            auth = {"Authorization": f"Bearer {ADMIN}"}

            # Everything goes to the follower: it only writes the database; the leader tells and sends.
            async with http.post(f"{follower}/api/subscriptions", data={"email": "visitor@sub.test", "page": "nps"},
                                 headers={"Accept": "application/json"}) as r:
                assert r.status == 202, await r.text()
            async with http.post(f"{follower}/api/admin/incidents", headers=auth,
                                 json={"page": "nps", "title": "Falha geral", "severity": "T1"}) as r:
                assert r.status == 201, await r.text()
            start = int(time.time()) + 3
            async with http.post(f"{follower}/api/admin/maintenances", headers=auth, json={
                    "page": "nps", "title": "Janela", "start": iso(start), "end": iso(start + 3)}) as r:
                assert r.status == 201, await r.text()

            def subscriber_mail() -> list[tuple[str, str, str]]:
                return [m for m in received(mail_log) if m[0].endswith("@sub.test")]

            # Per subscriber: the incident, and the window scheduled, started and ended; the visitor's
            # confirmation.
            expected = SUBSCRIBERS * 4 + 1

            async def all_sent() -> bool:
                return len(subscriber_mail()) >= expected

            await until(all_sent, "every subscriber mail", timeout=90)
            await asyncio.sleep(2)  # anything sent twice would arrive now
        await db.close()
        for proc in procs:
            assert proc.stop() == 0, proc.output()[-3000:]
    finally:
        for proc in procs:
            if proc.proc.poll() is None:
                proc.proc.kill()
        sink.send_signal(signal.SIGTERM)
        sink.wait(10)

    mails = subscriber_mail()
    per_recipient = Counter(rcpt for rcpt, _, _ in mails)
    assert per_recipient.pop("visitor@sub.test") == 1
    most = per_recipient.most_common(1)[0][0]
    assert len(per_recipient) == SUBSCRIBERS and set(per_recipient.values()) == {4}, [m for m in mails if m[0] == most]
    assert len({mid for _, mid, _ in mails}) == len(mails) == expected, "a message was sent twice"
    subjects = Counter(subject.split("] ", 1)[1].split(":")[0] for _, _, subject in mails if subject.startswith("[NPS]"))
    print(f"\ntwo instances: {len(mails)} subscriber mails, each once: {dict(subjects)}")


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


async def _is(value: Any, check: Callable[[Any], bool]) -> bool:
    return check(await value)
