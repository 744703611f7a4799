"""Visitors' e-mail subscriptions against a real SMTP server (aiosmtpd): the form, double opt-in,
incident mail in the subscriber's language for confirmed subscribers only, RFC 8058 one-click
unsubscribe (after which nothing more arrives), erasure, and addresses never on the public site."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from statuspage.site.render import render_site
from tests.pg import Backend
from tests.subscription_env import (
    ADMIN,
    SubscriptionEnv,
    close_subscription_env,
    link_in,
    open_subscription_env,
    stored_rows,
)

ANA, BRUNO, CARLA = "ana@cliente.test", "bruno@cliente.test", "carla@cliente.test"


@pytest.fixture
async def env(tmp_path: Path, aiohttp_client: Any, backend: Backend) -> Any:
    # Both backends: the double opt-in, the notices' fan-out and erasure go through each one's SQL.
    server = await open_subscription_env(tmp_path, aiohttp_client, storage=backend.storage)
    yield server
    await close_subscription_env(server)


def local(url: str) -> str:
    """A link from the mail (on the public address) as a path on the server under test."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def subscribe(env: SubscriptionEnv, email: str, locale: str = "pt-BR", components: tuple[str, ...] = (),
                    client: str = "203.0.113.7") -> Any:
    form = [("email", email), ("page", "nps"), ("locale", locale)] + [("component", c) for c in components]
    return await env.http.post("/api/subscriptions", data=form,
                               headers={"X-Forwarded-For": client, "Accept": "text/html"})


async def confirm(env: SubscriptionEnv, mail: Any) -> None:
    link = link_in(mail, "/api/subscriptions/confirm")
    page = await env.http.get(local(link))
    assert page.status == 200
    html = await page.text()
    assert 'action="/api/subscriptions/confirm"' in html
    token = urlsplit(link).query.split("token=")[1].split("&")[0]
    done = await env.http.post("/api/subscriptions/confirm", data={"token": token, "lang": "pt-BR"},
                               headers={"Accept": "text/html"})
    assert done.status == 200, await done.text()


async def test_double_opt_in_then_incident_mail_then_one_click_unsubscribe(env: SubscriptionEnv) -> None:
    answer = await subscribe(env, ANA)
    assert answer.status == 200
    assert "Confira seu e-mail" in await answer.text()
    [confirmation] = await env.wait_mail(ANA, 1)
    assert confirmation["Subject"] == "[NPS] Confirme sua inscrição nas atualizações de status"
    assert "List-Unsubscribe" not in confirmation  # nothing to unsubscribe from yet
    # Opening the link alone (what link scanners do) confirms nothing.
    await env.http.get(local(link_in(confirmation, "/api/subscriptions/confirm")))
    assert (await env.store.subscriber_counts())[("nps", False)] == 1
    await confirm(env, confirmation)
    assert (await env.store.subscriber_counts()) == {("nps", True): 1}

    # Bruno subscribes in English and confirms; Carla never confirms.
    await subscribe(env, BRUNO, "en")
    await confirm(env, (await env.wait_mail(BRUNO, 1))[0])
    await subscribe(env, CARLA)
    await env.wait_mail(CARLA, 1)

    incident = await env.http.post("/api/admin/incidents", headers={"Authorization": f"Bearer {ADMIN}"}, json={
        "page": "nps", "title": "Relatórios lentos", "severity": "T2", "components": ["reports"],
        "message": "Estamos investigando a lentidão."})
    assert incident.status == 201
    await env.settle()
    [_, opened] = await env.wait_mail(ANA, 2)
    assert opened["Subject"] == "[NPS] Investigando: Relatórios lentos"
    body = opened.get_content()
    assert "Estamos investigando a lentidão." in body
    assert "Componentes afetados: Relatórios" in body
    assert "https://status.track.test/nps/incidents/1.html" in body
    unsubscribe_url = opened["List-Unsubscribe"].strip("<>")
    assert unsubscribe_url.startswith("https://status.track.test/api/subscriptions/unsubscribe?token=")
    assert opened["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe_url in body  # and a link in the body too
    [_, in_english] = await env.wait_mail(BRUNO, 2)
    assert in_english["Subject"] == "[NPS] Investigating: Relatórios lentos"
    assert "https://status.track.test/nps/en/incidents/1.html" in in_english.get_content()
    assert "You get this message because you subscribed" in in_english.get_content()
    assert len(env.inbox.to(CARLA)) == 1, "an unconfirmed address gets nothing but its confirmation"

    # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click to the URL, no cookies, no auth.
    one_click = await env.http.post(local(unsubscribe_url), data="List-Unsubscribe=One-Click",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert one_click.status == 200
    assert await env.store.subscriber_counts() == {("nps", True): 1, ("nps", False): 1}
    rows = await stored_rows(env.config.storage, "SELECT email FROM subscribers")
    assert (ANA,) not in rows, "unsubscribing deletes the address (LGPD), it does not just flag it"

    resolved = await env.http.post("/api/admin/incidents/1/resolve", headers={"Authorization": f"Bearer {ADMIN}"},
                                   json={"message": "Normalizado."})
    assert resolved.status == 200
    await env.settle()
    [*_, closing] = await env.wait_mail(BRUNO, 3)
    assert closing["Subject"] == "[NPS] Resolved: Relatórios lentos"
    assert len(env.inbox.to(ANA)) == 2, "after unsubscribing, nothing more"
    # The engineers' alert went to its own address, through its own queue.
    assert [m["Subject"] for m in env.inbox.to("oncall@track.test")][:1] == ["[NPS] T2 · Investigando: Relatórios lentos"]


async def test_component_choices_and_message_ids(env: SubscriptionEnv) -> None:
    await subscribe(env, ANA, components=("app",))
    await confirm(env, (await env.wait_mail(ANA, 1))[0])
    await subscribe(env, BRUNO, components=("reports",))
    await confirm(env, (await env.wait_mail(BRUNO, 1))[0])
    await env.http.post("/api/admin/incidents", headers={"Authorization": f"Bearer {ADMIN}"}, json={
        "page": "nps", "title": "Relatórios fora do ar", "severity": "T1", "components": ["reports"]})
    await env.settle()
    assert len(env.inbox.to(ANA)) == 1, "Ana follows only the platform"
    [_, mail] = await env.wait_mail(BRUNO, 2)
    assert mail["Message-ID"].endswith("@status.track.test>")
    # A repeat of a subscription request for a confirmed address changes nothing but sends a reminder.
    await subscribe(env, BRUNO, client="198.51.100.1")
    [*_, reminder] = await env.wait_mail(BRUNO, 3)
    assert reminder["Subject"] == "[NPS] Você já recebe as atualizações de status"
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_erasure_on_request_and_no_address_on_any_public_file(env: SubscriptionEnv) -> None:
    await subscribe(env, ANA)
    await confirm(env, (await env.wait_mail(ANA, 1))[0])
    await subscribe(env, BRUNO)
    await env.wait_mail(BRUNO, 1)
    await env.subscriptions._requests.join()
    await render_site(env.config, env.store, Path(env.config.site.output_dir), now=time.time())
    site = Path(env.config.site.output_dir)
    texts = [p.read_bytes() for p in site.rglob("*") if p.is_file()]
    assert len(texts) > 50
    assert not any(b"cliente.test" in t for t in texts), "no address on any public file"
    page = (site / "nps" / "index.html").read_text()
    assert 'action="https://status.track.test/api/subscriptions"' in page and 'name="component"' in page
    assert "Receba atualizações" in page and 'href="maintenances.ics"' in page and 'href="feed.atom"' in page
    assert "Get updates" in (site / "nps" / "en" / "index.html").read_text()
    counts = await env.http.get("/api/admin/subscribers", headers={"Authorization": f"Bearer {ADMIN}"})
    assert await counts.json() == {"pages": [{"page": "nps", "confirmed": 1, "pending": 1}]}
    erased = await env.http.post("/api/admin/subscribers/erase", headers={"Authorization": f"Bearer {ADMIN}"},
                                 json={"email": " ANA@cliente.test "})
    assert await erased.json() == {"erased": 1}
    assert await env.store.subscriber_counts() == {("nps", False): 1}


async def test_a_forged_or_expired_confirmation_token_does_nothing(tmp_path: Path, aiohttp_client: Any) -> None:
    now = [time.time()]
    env = await open_subscription_env(tmp_path, aiohttp_client, clock=lambda: now[0], confirm_within="1h")
    try:
        await subscribe(env, ANA)
        [mail] = await env.wait_mail(ANA, 1)
        link = link_in(mail, "/api/subscriptions/confirm")
        token = urlsplit(link).query.split("token=")[1].split("&")[0]
        forged = [token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # a changed MAC
                  token.replace(".", ".9", 1),                                # a later expiry
                  "u" + token[1:],                                           # another purpose
                  "c99999.1.AAAAAAAAAAAAAAAAAAAAAA", "garbage", ""]
        for bad in forged:
            answer = await env.http.post("/api/subscriptions/confirm", json={"token": bad})
            assert answer.status == 400, bad
            assert await answer.json() == {"error": "the confirmation link is invalid or has expired", "field": "token"}
        assert await env.store.subscriber_counts() == {("nps", False): 1}
        now[0] += 3601  # the link has expired
        late = await env.http.post("/api/subscriptions/confirm", data={"token": token}, headers={"Accept": "text/html"})
        assert late.status == 400 and "Link inválido ou expirado" in await late.text()
        assert await env.store.subscriber_counts() == {("nps", False): 1}
        await env.subscriptions.housekeeping()  # unconfirmed past expiry: the address is deleted
        assert await env.store.subscriber_counts() == {}
    finally:
        await close_subscription_env(env)


async def test_subscribe_abuse_is_rate_limited_and_answers_the_same_for_any_address(
        tmp_path: Path, aiohttp_client: Any) -> None:
    env = await open_subscription_env(tmp_path, aiohttp_client, per_client="10/10m", per_address="3/1h")
    try:
        await subscribe(env, ANA)
        await confirm(env, (await env.wait_mail(ANA, 1))[0])
        # A known (confirmed) and an unknown address, from fresh clients: the same status and body.
        known = await env.http.post("/api/subscriptions", json={"email": ANA, "page": "nps"},
                                    headers={"X-Forwarded-For": "192.0.2.1"})
        unknown = await env.http.post("/api/subscriptions", json={"email": "nobody@cliente.test", "page": "nps"},
                                      headers={"X-Forwarded-For": "192.0.2.2"})
        assert (known.status, await known.read()) == (unknown.status, await unknown.read())
        assert known.status == 202
        # Timing: the answer is given before anything about the address is read.
        spans: dict[str, list[float]] = {"known": [], "unknown": []}
        for n in range(20):
            for kind, email in (("known", ANA), ("unknown", f"new{n}@cliente.test")):
                t = time.perf_counter()
                await env.http.post("/api/subscriptions", json={"email": email, "page": "nps"},
                                    headers={"X-Forwarded-For": f"192.0.2.{10 + n}"})
                spans[kind].append(time.perf_counter() - t)
        median = {k: sorted(v)[len(v) // 2] for k, v in spans.items()}
        assert abs(median["known"] - median["unknown"]) < 0.01, median

        # 1,000 requests from one client: the first 10 are taken, the rest are 429 with Retry-After.
        statuses: dict[int, int] = {}
        retry = set()
        for n in range(1000):
            r = await env.http.post("/api/subscriptions", json={"email": f"flood{n}@x.test", "page": "nps"},
                                    headers={"X-Forwarded-For": "198.51.100.99"})
            statuses[r.status] = statuses.get(r.status, 0) + 1
            if r.status == 429:
                retry.add(int(r.headers["Retry-After"]))
        assert statuses == {202: 10, 429: 990}
        assert retry and min(retry) >= 1
        # Per address: the fourth request for one address within the hour, from any client, is a 429.
        codes = [(await env.http.post("/api/subscriptions", json={"email": "target@cliente.test", "page": "nps"},
                                      headers={"X-Forwarded-For": f"203.0.113.{n}"})).status for n in range(5)]
        assert codes == [202, 202, 202, 429, 429]
        await env.settle()
        # At most one confirmation waits at a time, and the limit bounds what an address can be sent.
        assert 1 <= len(env.inbox.to("target@cliente.test")) <= 3
        bad = await env.http.post("/api/subscriptions", json={"email": "not an address", "page": "nps"},
                                  headers={"X-Forwarded-For": "203.0.113.200"})
        assert await bad.json() == {"error": "is not an e-mail address like ana@example.com", "field": "email"}
        injected = await env.http.post("/api/subscriptions", json={"email": "a@b.test\r\nBcc: x@y.test", "page": "nps"},
                                       headers={"X-Forwarded-For": "203.0.113.201"})
        assert injected.status == 400
        # A locale the site does not have is refused, naming the site's (it was silently pt-BR).
        french = await env.http.post("/api/subscriptions", json={"email": "f@cliente.test", "page": "nps",
                                                                 "locale": "fr"},
                                     headers={"X-Forwarded-For": "203.0.113.202"})
        assert (french.status, await french.json()) == (
            400, {"error": "is not a locale of this site (use pt-BR or en)", "field": "locale"})
        form = await env.http.post("/api/subscriptions", data={"email": "f@cliente.test", "page": "nps",
                                                               "locale": "fr"},
                                   headers={"X-Forwarded-For": "203.0.113.203", "Accept": "text/html"})
        assert form.status == 400 and "locale: is not a locale of this site" in await form.text()
    finally:
        await close_subscription_env(env)


async def test_subscriptions_off_means_404(aiohttp_client: Any, tmp_path: Path) -> None:
    from tests.server_env import close_env, open_env

    server = await open_env(tmp_path, aiohttp_client)
    try:
        r = await server.http.post("/api/subscriptions", json={"email": ANA, "page": "nps"})
        assert r.status == 404
        assert (await r.json())["error"].startswith("subscriptions are not enabled")
    finally:
        await close_env(server)


def test_every_subscription_text_exists_in_every_locale() -> None:
    from statuspage.subscriptions.texts import WORDS

    assert set(WORDS["pt-BR"]) == set(WORDS["en"])


async def test_the_mailer_paces_and_retries(tmp_path: Path, aiohttp_client: Any) -> None:
    env = await open_subscription_env(tmp_path, aiohttp_client)
    try:
        env.smtp.stop()  # the relay is down: the confirmation waits in the outbox and is retried
        await subscribe(env, ANA)
        await env.subscriptions._requests.join()
        async with asyncio.timeout(10):
            while env.mailer.stats.retried < 1:
                await asyncio.sleep(0.02)
        assert sum((await env.store.mail_queued()).values()) == 1
        from aiosmtpd.controller import Controller

        env.smtp = Controller(env.inbox, hostname="127.0.0.1", port=env.smtp.port)
        env.smtp.start()
        await env.wait_mail(ANA, 1)
        await env.settle()
        assert await env.store.mail_queued() == {}
    finally:
        await close_subscription_env(env)


def test_the_cli_counts_and_erases_subscribers(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from statuspage.cli import cli
    from statuspage.store.sqlite import SQLiteStore
    from tests.conftest import write_config

    db = tmp_path / "db.sqlite"

    async def seed() -> None:
        store = await SQLiteStore.open(db)
        await store.request_subscription(ANA, "nps", (), "pt-BR", "a" * 32, 1.0, 9e9)
        await store.close()

    asyncio.run(seed())
    cfg = write_config(tmp_path / "config.yaml", {"storage": {"path": str(db)}, "pages": [
        {"slug": "nps", "name": "NPS", "components": [{"slug": "a", "name": "A", "monitors": [{"name": "m", "url": "http://x/"}]}]}]})
    runner = CliRunner()
    listed = runner.invoke(cli, ["subscribers", "list", "--config", str(cfg)])
    assert listed.exit_code == 0 and "nps: 0 confirmed, 1 waiting for confirmation" in listed.output
    assert ANA not in listed.output
    erased = runner.invoke(cli, ["subscribers", "erase", "--config", str(cfg), "Ana@Cliente.test"])
    assert erased.exit_code == 0 and "erased 1 subscription(s)" in erased.output
    bad = runner.invoke(cli, ["subscribers", "erase", "--config", str(cfg), "nope"])
    assert bad.exit_code == 2 and "is not an e-mail address" in bad.output


def test_an_incident_opened_from_the_cli_reaches_subscribers(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from statuspage.cli import cli
    from statuspage.store.sqlite import SQLiteStore
    from tests.conftest import write_config

    db = tmp_path / "db.sqlite"

    async def seed() -> None:
        store = await SQLiteStore.open(db)
        await store.request_subscription(ANA, "nps", (), "en", "a" * 32, 1.0, 9e9)
        assert await store.confirm_subscriber(1, "a" * 32, 2.0)
        await store.mail_done([j.id for j in await store.due_mail(9e9, 10)])
        await store.close()

    asyncio.run(seed())
    cfg = write_config(tmp_path / "config.yaml", {
        "site": {"base_url": "https://status.track.test", "locales": ["pt-BR", "en"]}, "storage": {"path": str(db)},
        "subscriptions": {"smtp": {"host": "127.0.0.1", "port": 9}},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "a", "name": "A", "monitors": [{"name": "m", "url": "http://x/"}]}]}]})
    opened = CliRunner().invoke(cli, ["incident", "open", "--config", str(cfg), "--page", "nps", "--title", "Lento",
                                      "--severity", "T3"])
    assert opened.exit_code == 0, opened.output

    async def queued() -> list[Any]:
        store = await SQLiteStore.open(db)
        try:
            return await store.due_mail(9e9, 10)
        finally:
            await store.close()

    [job] = asyncio.run(queued())
    assert job.kind == "notice" and job.notice is not None and "[NPS] Investigating: Lento" in job.notice.body
