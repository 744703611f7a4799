"""A certificate close to expiry: `statuspage run` checks a real TLS server, keeps the component
operational (not downtime), warns on the page in the site's language and exports the expiry."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web

from tests.conftest import Process, free_port, start_app, write_config
from tests.test_live_process import metric


@pytest.mark.parametrize(("locale", "warning", "relative"), [
    ("pt-BR", "O certificado TLS de web expira em", "(em 5 dias"),
    ("en", "The TLS certificate of web expires on", "(in 5 days"),
])
async def test_expiring_certificate_warns_without_downtime(
    tmp_path: Path, spawn: Callable[..., Process], monkeypatch: pytest.MonkeyPatch, locale: str, warning: str,
    relative: str,
) -> None:
    ca = trustme.CA()
    not_after = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=5, hours=1)
    leaf = ca.issue_cert("127.0.0.1", not_after=not_after)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the process trusts the test CA, nothing else

    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(server_ctx)
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", ok)
    tls_port, port = free_port(), free_port()
    runner = await start_app(app, tls_port, ssl_context=server_ctx)
    cfg = write_config(tmp_path / "config.yaml", {
        "site": {"output_dir": str(tmp_path / "site"), "locale": locale},
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "server": {"host": "127.0.0.1", "port": port, "render_every": "1s"},
        "defaults": {"interval": "1s", "timeout": "2s", "cert_warn_days": 14},
        "pages": [{"slug": "nps", "name": "NPS", "components": [
            {"slug": "app", "name": "Plataforma", "monitors": [
                {"name": "web", "url": f"https://127.0.0.1:{tls_port}/"}]}]}],
    })
    proc = spawn("run", "--config", str(cfg))
    page = tmp_path / "site" / "nps" / "index.html"
    try:
        deadline = time.monotonic() + 40
        while not (page.exists() and warning in page.read_text()):
            assert time.monotonic() < deadline, proc.output()
            await asyncio.sleep(0.2)
        async with aiohttp.ClientSession() as http:
            # The page file lands before the render worker reports back and /metrics is refreshed.
            while True:
                async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                    text = await resp.text()
                if metric(text, "statuspage_cert_expiry_timestamp_seconds", page="nps", component="app",
                          monitor="web") is not None or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            async with http.get(f"http://127.0.0.1:{port}/nps/api/v2/components.json") as resp:
                components = (await resp.json())["components"]
    finally:
        proc.stop()
        await runner.cleanup()
    html = page.read_text()
    assert html.count("cert-warning") == 1 and relative in html, html
    assert [c["status"] for c in components] == ["operational"], "an expiring certificate is not downtime"
    assert metric(text, "statuspage_cert_expiry_timestamp_seconds", page="nps", component="app",
                  monitor="web") == not_after.timestamp()
