"""Benchmark of subscriber mail: the cost of building one notice mail, and the whole outbox path.

1. Per mail, in this process: the email package (`compose`: EmailMessage + flattening, the
   baseline) against `NoticeMail` (a notice's shared parts encoded once per locale), same mail.
2. End to end: N confirmed subscribers in a fresh SQLite file, one notice fanned out, the `Mailer`
   sending through a real SMTP server (aiosmtpd in its own process) at a configured rate over a few
   connections; prints the wall time, the achieved rate and the CPU this process used.

Run: `python bench/mail_bench.py [--subscribers 10000 --rate 2000]`; `main()` returns the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from statuspage.config import parse_config
from statuspage.store import MailJob, Notice, Subscriber
from statuspage.store.sqlite import SQLiteStore
from statuspage.subscriptions.compose import NoticeMail, compose, notice_body
from statuspage.subscriptions.mailer import Mailer

REPO = Path(__file__).resolve().parents[1]


def per_mail(n: int = 3000) -> dict[str, float]:
    body = notice_body(
        {
            "pt-BR": (
                "[NPS] Investigando: Relatórios indisponíveis",
                "Detectamos que Relatórios está indisponível desde 14:03.\n\n"
                "Componentes afetados: Relatórios\nDetalhes: https://status.track.co/nps/incidents/1.html",
            )
        }
    )
    jobs = [
        MailJob(
            i,
            "notice",
            0,
            Subscriber(i, f"s{i}@sub.test", "nps", "pt-BR", secrets.token_hex(16), 0.0),
            1,
            Notice("incident:x", "nps", "incident.created", body),
        )
        for i in range(n)
    ]
    kw: dict[str, Any] = {
        "secret": "s" * 43,
        "endpoint": "https://status.track.co",
        "sender": "status@track.co",
        "page_name": "NPS",
    }
    t = time.perf_counter()
    for job in jobs:
        compose(job, timezone="America/Sao_Paulo", **kw).as_bytes()
    baseline = (time.perf_counter() - t) / n
    t = time.perf_counter()
    shared = NoticeMail(jobs[0], **kw)
    for job in jobs:
        shared.render(job)
    fast = (time.perf_counter() - t) / n
    print(
        f"per mail: email package {baseline * 1e6:.0f} µs, NoticeMail {fast * 1e6:.1f} µs "
        f"({baseline / fast:.0f}× less)"
    )
    return {"compose_us": baseline * 1e6, "notice_mail_us": fast * 1e6}


async def end_to_end(subscribers: int, rate: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        log = Path(tmp) / "mail.tsv"
        sink = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "smtp_sink.py"), str(port), str(log)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
            config = parse_config(
                {
                    "site": {"base_url": "https://status.track.co"},
                    "storage": {"path": f"{tmp}/db.sqlite"},
                    "subscriptions": {
                        "rate": f"{rate}/s",
                        "connections": 4,
                        "smtp": {"host": "127.0.0.1", "port": port},
                        "from": "status@track.co",
                    },
                    "pages": [
                        {
                            "slug": "nps",
                            "name": "NPS",
                            "components": [
                                {
                                    "slug": "a",
                                    "name": "A",
                                    "monitors": [{"name": "m", "url": "http://127.0.0.1:9/"}],
                                }
                            ],
                        }
                    ],
                },
                env={},
            )
            store = await SQLiteStore.open(config.storage.path)
            conn = sqlite3.connect(config.storage.path)
            conn.executemany(
                "INSERT INTO subscribers (email, page, locale, salt, created_at, confirmed_at) "
                "VALUES (?, 'nps', 'pt-BR', ?, 0, 0)",
                [(f"s{n}@sub.test", secrets.token_hex(16)) for n in range(subscribers)],
            )
            conn.commit()
            conn.close()
            body = notice_body({"pt-BR": ("[NPS] Investigando: Falha", "Estamos investigando.")})
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            t = time.monotonic()
            await store.publish_notice(Notice("incident:bench", "nps", "incident.created", body), time.time())
            fan_out = time.monotonic() - t
            mailer = Mailer(config, store, "s" * 43)
            mailer.start()
            while sum((await store.mail_queued()).values()):
                await asyncio.sleep(0.05)
            wall = time.monotonic() - t
            await mailer.close()
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            await store.close()
            cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        finally:
            sink.terminate()
            sink.wait(10)
        got = len(log.read_text().splitlines())
    print(
        f"end to end: {subscribers} subscribers at {rate}/s over 4 connections: "
        f"fan-out {fan_out * 1000:.0f} ms, all {got} mails accepted in {wall:.1f} s "
        f"({got / wall:.0f}/s; pacing alone {subscribers / rate:.1f} s), "
        f"sender CPU {cpu:.1f} s ({cpu / max(got, 1) * 1e6:.0f} µs a mail)"
    )
    return {"wall_s": wall, "rate": got / wall, "cpu_s": cpu}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=2000)
    args = parser.parse_args(argv)
    print(f"(machine: {os.cpu_count()} cores)")
    return {**per_mail(), **asyncio.run(end_to_end(args.subscribers, args.rate))}


if __name__ == "__main__":
    main()
