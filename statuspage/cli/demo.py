"""`statuspage demo`: simulated NPS and CXM endpoints on 127.0.0.1 with a scripted outage, monitored live.

The script repeats every 5 minutes and every event in it is seen whatever the prober's phase
(monitors are checked every 2 s, an outage is confirmed after 2 failed checks):

- 0:20  NPS Plataforma fails exactly one check (the first after 0:20): a blip, never an outage;
- 0:35–0:50  CXM API answers in 1.2 s (degraded over 800 ms): about 7 slow checks;
- 1:00–2:30  NPS Relatórios answers 503: about 45 failed checks, a confirmed outage that opens a
  T1 incident; recovery is confirmed by ~2:34, the incident resolves itself 60 s later (~3:40).

The demo writes its config to `<data-dir>/config.yaml`, so every CLI command works on its data
(`statuspage incident list --config data/demo/config.yaml`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from statuspage.cli.common import use_site_time
from statuspage.cli.demo_cases import demo_support, feed_cases
from statuspage.config import Config, ConfigError, load_config, parse_config
from statuspage.runner import Runtime, run_until_stopped

log = logging.getLogger(__name__)

CYCLE_S = 300.0
BLIP_AT = 20.0
BLIP_UNTIL = 30.0
"""The blip fails the first platform check after BLIP_AT, if one comes before BLIP_UNTIL."""
SLOW = (35.0, 50.0)
SLOW_DELAY_S = 1.2
OUTAGE = (60.0, 150.0)
PUSH_EVERY_S = 2.0
INTERVAL = "2s"
DEGRADED_AFTER = "800ms"
AUTO_RESOLVE_AFTER = "60s"


@dataclass(frozen=True, slots=True)
class Reply:
    """What a simulated endpoint answers: HTTP status, body, and how long it takes (seconds)."""

    status: int
    text: str
    delay: float = 0.0


class Simulation:
    """The simulated products, following the script by an injected clock (pure: `reply()`)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, start_phase: float = 0.0) -> None:
        """`start_phase`: seconds into the script at start (0 = the beginning of a cycle)."""
        self._clock = clock
        self._t0 = clock() - start_phase
        self._blipped: set[int] = set()

    def phase(self) -> float:
        """Seconds into the current cycle of the script."""
        return (self._clock() - self._t0) % CYCLE_S

    def reply(self, product: str, endpoint: str) -> Reply:
        """The answer of `endpoint` (`platform`, `api`, `reports`) of `product` (`nps`, `cxm`) now."""
        elapsed = self._clock() - self._t0
        cycle, phase = int(elapsed // CYCLE_S), elapsed % CYCLE_S
        if endpoint == "platform":
            # One failed check, not a time window: a window shorter than the interval is missed in
            # some phases, a longer one fails two checks in others (an outage, not a blip).
            if product == "nps" and BLIP_AT <= phase < BLIP_UNTIL and cycle not in self._blipped:
                self._blipped.add(cycle)
                return Reply(500, "transient error")
            return Reply(200, f"<h1>Track {product.upper()}</h1><p>Plataforma OK</p>")
        if endpoint == "api":
            slow = product == "cxm" and SLOW[0] <= phase < SLOW[1]
            return Reply(200, '{"status": "ok"}', SLOW_DELAY_S if slow else 0.0)
        if product == "nps" and OUTAGE[0] <= phase < OUTAGE[1]:
            return Reply(503, "reports backend unavailable")
        return Reply(200, "Relatórios: prontos")

    def app(self) -> web.Application:
        """The aiohttp app serving both simulated products."""
        app = web.Application()
        app.router.add_get("/{product}/", self._handler("platform"))
        app.router.add_get("/{product}/api/health", self._handler("api"))
        app.router.add_get("/{product}/reports", self._handler("reports"))
        return app

    def _handler(self, endpoint: str) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.Response:
            reply = self.reply(request.match_info["product"], endpoint)
            if reply.delay:
                await asyncio.sleep(reply.delay)
            headers = {"Retry-After": "30"} if reply.status == 503 else None
            content_type = "text/html" if reply.text.startswith("<") else "text/plain"
            return web.Response(status=reply.status, text=reply.text, content_type=content_type,
                                headers=headers)

        return handle


def demo_config(sim_port: int, port: int, data_dir: Path, out_dir: Path, token: str,
                like: dict[str, Any] | None = None) -> dict[str, Any]:
    """The demo's config (as YAML data): Track's pages, every monitor checked every 2 s against the
    simulation. `like` lends `site.contact`, `site.locale`, `site.timezone` and `sla` (the SLA page's
    policy) from a real config such as the repository's config.yaml."""
    base = f"http://127.0.0.1:{sim_port}"

    def components(product: str) -> list[dict[str, Any]]:
        return [
            {"slug": "app", "name": "Plataforma", "monitors": [
                {"name": "web", "url": f"{base}/{product}/", "body_contains": "Plataforma OK"}]},
            {"slug": "api", "name": "API", "monitors": [
                {"name": "health", "url": f"{base}/{product}/api/health", "body_contains": "ok",
                 "degraded_after": DEGRADED_AFTER}]},
            {"slug": "reports", "name": "Relatórios", "monitors": [
                {"name": "reports", "url": f"{base}/{product}/reports"}]},
            {"slug": "email", "name": "Envio de e-mails", "monitors": [
                {"name": "sender", "type": "push", "token": f"demo-{product}-email-heartbeat",
                 "interval": INTERVAL, "grace": "4s"}]},
        ]

    site: dict[str, Any] = {"title": "Track Status (demo)", "base_url": f"http://127.0.0.1:{port}",
                            "output_dir": str(out_dir.resolve())}
    like_site = (like or {}).get("site") or {}
    for key in ("contact", "locale", "timezone"):
        if key in like_site:
            site[key] = like_site[key]
    raw: dict[str, Any] = {
        "site": site,
        # Absolute paths: the printed commands work from any folder.
        "storage": {"path": str((data_dir / "statuspage.db").resolve())},
        "server": {"host": "127.0.0.1", "port": port, "render_every": "10s"},
        "defaults": {"interval": INTERVAL, "timeout": "2s", "confirm_down": 2, "confirm_up": 2},
        "incidents": {"auto_resolve_after": AUTO_RESOLVE_AFTER, "remind_unacknowledged_after": "10m"},
        "admins": [{"name": "demo-engineer", "token": token}],
        "support": demo_support(),
        "pages": [
            {"slug": "nps", "name": "NPS", "components": components("nps")},
            {"slug": "cxm", "name": "CXM", "components": components("cxm")},
        ],
    }
    if like and isinstance(like.get("sla"), dict):
        raw["sla"] = like["sla"]
    return raw


def _borrowed(path: Path | None) -> dict[str, Any] | None:
    """The YAML data of `path` when it is a readable mapping, else None (the demo then goes without)."""
    if path is None or not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def write_config(path: Path, raw: dict[str, Any]) -> Config:
    """Write the demo's config where the CLI can use it (0600: it holds the admin token) and load it
    back exactly as `--config` will."""
    text = ("# Written by `statuspage demo` (it is rewritten at every start). Use it with any command:\n"
            f"#   statuspage incident list --config {path}\n"
            + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return load_config(path)


async def run_demo(port: int, data_dir: Path, out_dir: Path, stop: asyncio.Event | None = None, *,
                   like: Path | None = None, access_log: bool = False, start_phase: float = 0.0) -> None:
    """Start the simulation and the whole system; run until Ctrl-C (or `stop`).

    `like`: a config to borrow the contact and the SLA page's policy from (see `demo_config`);
    `start_phase`: seconds into the script to start at (tests start just before the outage).
    Raises ListenError (nothing printed, nothing wiped) when `port` cannot be listened on."""
    sim = Simulation(start_phase=start_phase)
    runner = web.AppRunner(sim.app(), access_log=None)
    await runner.setup()
    pusher: asyncio.Task[None] | None = None
    cases: asyncio.Task[None] | None = None

    async def stop_feeds() -> None:
        # Before the runtime closes its store: a case fed after that met a closed database.
        for task in (pusher, cases):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        sim_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        token = secrets.token_urlsafe(18)
        borrowed = _borrowed(like)
        raw = demo_config(sim_port, port, data_dir, out_dir, token, borrowed)
        try:
            config = parse_config(raw, env={})
        except ConfigError as exc:
            if borrowed is None:
                raise
            log.warning("not borrowing contact and SLA texts from %s: %s", like, exc.problems[0])
            raw = demo_config(sim_port, port, data_dir, out_dir, token)
            config = parse_config(raw, env={})
        if access_log:
            server = config.server.model_copy(update={"access_log": True})
            config = config.model_copy(update={"server": server})
        runtime = Runtime(config)
        runtime.bind()  # the port is ours before anything is wiped or any URL is printed
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True, exist_ok=True)
        config_path = data_dir / "config.yaml"
        write_config(config_path, raw)
        use_site_time(config.site.timezone, announce=False)  # the banner says it
        pusher = asyncio.create_task(_push_heartbeats(runtime))
        cases = asyncio.create_task(feed_cases(lambda: runtime.support, runtime.mark_dirty))
        print(banner(config, config_path, sim_port, token, start_phase), flush=True)
        await run_until_stopped(runtime, stop, before_close=stop_feeds)
    finally:
        await stop_feeds()
        await runner.cleanup()


async def _push_heartbeats(runtime: Runtime) -> None:
    # The e-mail pipelines of both products report in, as a real sender would over /api/push.
    while True:
        now = time.time()
        for product in ("nps", "cxm"):
            runtime.push_board.record(f"demo-{product}-email-heartbeat", now)
        await asyncio.sleep(PUSH_EVERY_S)


def command_prefix(argv0: str | None = None) -> str:
    """How to call this program again from the same folder: `statuspage` when it is on PATH,
    `.venv/bin/statuspage` after `make run`, `python -m statuspage` otherwise."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    name = Path(argv0).name
    if name == "statuspage":
        found = shutil.which("statuspage")
        if found and Path(found).resolve() == Path(argv0).resolve():
            return "statuspage"
        return argv0
    python = Path(sys.executable).name
    found = shutil.which(python)
    if not found or Path(found).resolve() != Path(sys.executable).resolve():
        python = sys.executable
    return f"{python} -m statuspage"


def banner(config: Config, config_path: Path, sim_port: int, token: str, start_phase: float = 0.0) -> str:
    """What the demo prints first: where to look, how to log in, which commands work on its data."""
    monitors = len(config.monitors())
    interval = int(config.defaults.interval)
    site_url = f"http://127.0.0.1:{config.server.port}"
    cmd = command_prefix()
    cfg = f"--config {config_path}"
    minutes, seconds = divmod(int(start_phase), 60)
    starting = f", starting at {minutes}:{seconds:02d}" if start_phase else ""
    return (
        f"\nstatuspage demo — simulated NPS and CXM on http://127.0.0.1:{sim_port}, "
        f"{monitors} monitors checked every {interval} s\n"
        f"  status site:  {site_url}/   (files in {config.site.output_dir}/)\n"
        f"  admin:        {site_url}/admin   token: {token}\n"
        f"  config:       {config_path}   (database {config.storage.path})\n"
        "  the CLI on the demo's data, in another terminal from this folder:\n"
        f"    {cmd} incident list {cfg}\n"
        f"    {cmd} incident ack 1 --by you {cfg}\n"
        f"    {cmd} report {cfg}\n"
        f"    {cmd} check {cfg}\n"
        f"    (or export STATUSPAGE_CONFIG={config_path} and leave --config out)\n"
        f"  script (repeats every 5 min{starting}):\n"
        "    0:20       NPS Plataforma fails one check: a blip, never an outage\n"
        "    0:35–0:50  CXM API answers slowly: degraded performance\n"
        "    1:00–2:30  NPS Relatórios answers 503: outage confirmed after 2 failed checks,\n"
        "               T1 incident opened (acknowledge it on /admin or with the CLI);\n"
        "               recovery, monitoring, resolved automatically a minute later\n"
        f"  Below: what happens, as it happens (times in {config.site.timezone}). Ctrl-C stops.\n"
    )
