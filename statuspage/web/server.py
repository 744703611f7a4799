"""The live HTTP server of `statuspage run`: the static site, push heartbeats, admin API, metrics.

Routes (DESIGN.md section 4):

    GET  /healthz                      liveness
    GET  /metrics                      Prometheus text
    GET|POST /api/push/<token>         heartbeat of a push monitor
    *    /api/admin/...                the engineers' API (admin_api.py), bearer tokens
    *    /api/admin/cases..., POST /api/hooks/chatwoot   support cases (support_api.py)
    *    /api/subscriptions..., /api/admin/subscribers...  visitors' subscriptions (subscriptions_api.py)
    GET  /admin                        the engineers' page (templates/admin.html + static/admin.js)
    GET  /…                            the rendered site from `site_dir`; on a page's own domain
                                       (`pages[].domains`, by Host) that page's folder at `/`,
                                       its Statuspage JSON at `/api/v2/…` as Statuspage serves it

No request gets a 500 by design: bad input is a 4xx with a JSON error; `_errors` turns anything
unexpected into a logged 500 only as a last resort. Request headers and push tokens are never
logged (`AccessLogger`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler

from statuspage.config import Config, subscription_endpoint
from statuspage.incidents.service import IncidentService
from statuspage.probe.checks import PushBoard
from statuspage.store import Store
from statuspage.subscriptions.service import SubscriptionService
from statuspage.support.service import SupportService
from statuspage.web.admin_api import STATE, AdminState, setup_admin_routes
from statuspage.web.admin_page import render_admin
from statuspage.web.framing import page_headers
from statuspage.web.health import Health, store_unavailable_response
from statuspage.web.http_api import ApiError, error_response, json_response, read_params
from statuspage.web.limits import ConnectionGate, GatedAppRunner, GatedSockSite, ServerLimits, server_limits
from statuspage.web.listen import bind_sockets
from statuspage.web.logs import install_server_logging
from statuspage.web.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from statuspage.web.metrics import Metrics
from statuspage.web.ratelimit import LIMITS, RateLimits, rate_limit_middleware
from statuspage.web.sitefiles import SiteFiles
from statuspage.web.subscriptions_api import SubscriptionState, setup_subscription_routes
from statuspage.web.support_api import SupportState, setup_support_routes

log = logging.getLogger(__name__)

PUSH_MSG_MAX = 200
"""Longest heartbeat message kept; longer ones are cut (push clients send what they send)."""

CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".ics": "text/calendar; charset=utf-8",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".woff2": "font/woff2",
}

PAGE_MAX_AGE = 30
"""Seconds browsers and proxies may keep pages, JSON and badges: they change with every render."""
STATIC_MAX_AGE = 3600
"""Seconds for site assets under static/ (not fingerprinted, so not `immutable`)."""

SITE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'"
)
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def site_csp(config: Config) -> str:
    """SITE_CSP, with the subscribe form allowed to post to `subscriptions.endpoint` on another origin."""
    endpoint = subscription_endpoint(config)
    if not endpoint:
        return SITE_CSP
    parts = urlsplit(endpoint)
    return f"{SITE_CSP} {parts.scheme}://{parts.netloc}"


DATA_CSP = "default-src 'none'; frame-ancestors 'none'"

_NOT_FOUND_HTML = (
    b"<!doctype html><html lang=\"pt-BR\"><head><meta charset=\"utf-8\"><title>404</title></head>"
    b"<body><h1>404</h1><p>P\xc3\xa1gina n\xc3\xa3o encontrada / Page not found.</p>"
    b"<p><a href=\"/\">Status</a></p></body></html>"
)

ChangeHook = Callable[[], Awaitable[None] | None]


def build_app(
    *,
    config: Config,
    store: Store,
    push_board: PushBoard,
    incidents: IncidentService,
    site_dir: Path,
    metrics: Metrics,
    clock: Callable[[], float] = time.time,
    on_change: ChangeHook | None = None,
    support: SupportService | None = None,
    health: Health | None = None,
    subscriptions: SubscriptionService | None = None,
) -> web.Application:
    """Assemble the aiohttp application; start it with `serve(app, host, port)` (redacting access log).

    `on_change` is called after every successful admin write so the caller re-renders the site;
    if it returns an awaitable, that is awaited before the response is sent (keep it quick).
    `support` serves the case routes and the Chatwoot webhook (web/support_api.py); by default one
    over `store`. `health` is what /healthz reports (web/health.py): 503 while a part is failing.
    """
    install_server_logging(config)
    app = web.Application(
        middlewares=[rate_limit_middleware, _errors],
        client_max_size=config.server.max_body_bytes,
    )
    app[STATE] = AdminState(
        config=config, store=store, incidents=incidents, clock=clock, on_change=on_change,
        push_tokens={m.token: m.key for _, _, m in config.monitors() if m.type == "push" and m.token},
    )
    app[_SITE] = site = _Site(Path(site_dir))
    app.on_cleanup.append(lambda _: _close_site(site))
    app[_HEALTH] = health or Health(clock)
    app[_FRAMING] = page_headers(site_csp(config), config.server.frame_ancestors)
    app[LIMITS] = RateLimits(config.server.push_rate_limit, config.server.auth_failure_limit,
                             on_refused=metrics.count_rate_limited)
    app[_METRICS] = metrics
    app[_PUSH] = push_board
    app.on_response_prepare.append(_security_headers)

    r = app.router
    r.add_get("/healthz", _healthz)
    r.add_get("/metrics", _metrics)
    r.add_route("GET", "/api/push/{token}", _push)
    r.add_route("POST", "/api/push/{token}", _push)
    setup_admin_routes(app)
    setup_support_routes(app, SupportState(config, support or SupportService(store, config, clock), clock,
                                           on_change))
    setup_subscription_routes(app, SubscriptionState(config, subscriptions))
    r.add_get("/admin", _admin_page)
    r.add_get("/admin/", _admin_redirect)
    r.add_get("/admin/admin.js", _admin_js)
    # Anything else under /api/ is an API miss (JSON), not a site page.
    r.add_route("*", "/api/{tail:.*}", _api_not_found)
    r.add_get("/{tail:.*}", _site)
    return app


async def serve(
    app: web.Application, host: str, port: int, sockets: Sequence[socket.socket] = (),
    limits: ServerLimits | None = None, *, access_log: bool = True,
) -> web.AppRunner:
    """Start serving `app` on host:port, with the redacting access log unless `access_log` is False;
    `await runner.cleanup()` to stop.

    With `sockets` (bound beforehand by `listen.bind_sockets`) it serves on those instead. The server
    keeps within `limits` (web/limits.py; by default from the app's config and the open-file limit):
    connections capped, idle and header time bounded."""
    limits = limits or server_limits(app[STATE].config)
    log_options: dict[str, Any] = (
        {"access_log_class": AccessLogger} if access_log else {"access_log": None})
    # keepalive_timeout is also the time a new connection has to send its first request's headers.
    runner = GatedAppRunner(app, keepalive_timeout=limits.idle_timeout, **log_options)
    await runner.setup()
    try:
        sockets = sockets or bind_sockets(host, port)
        assert runner.server is not None
        gate = runner.gate = ConnectionGate(runner.server, limits)
        app[_METRICS].watch_connections(gate)
        for sock in sockets:
            await GatedSockSite(runner, sock, gate).start()
    except BaseException:
        await runner.cleanup()
        raise
    shown = f"[{host}]" if ":" in host else host
    log.info("serving http://%s:%d/ (engineers: /admin; HTTP access log %s; at most %d connections)",
             shown, port, "on" if access_log else "off, --access-log or server.access_log turns it on",
             limits.max_connections)
    return runner


def set_site_dir(app: web.Application, site_dir: Path) -> None:
    """Serve the site from another folder from now on (an instance that became or stopped being the
    leader of several serves the folder it renders into)."""
    app[_SITE].root = Path(site_dir).resolve()


# --- app state ------------------------------------------------------------------------------------


class _Site:
    """The rendered site directory; every lookup is confined to it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.files = SiteFiles()

    def locate(self, tail: str, folder: str = "") -> tuple[Path | None, str | None]:
        """Map a decoded URL path to (file, None), (None, redirect location) or (None, None) for 404.

        `folder` is the page folder a page's own domain serves at `/` ("" for the whole site); the
        redirect location is a path on the same host."""
        parts = [p for p in tail.split("/") if p]
        for part in parts:
            # Dot segments, dotfiles (atomic-write temporaries) and Windows separators never map to a file.
            if part.startswith(".") or "\\" in part or "\x00" in part:
                return None, None
        try:
            path = self.root.joinpath(*[p for p in folder.split("/") if p], *parts).resolve()
        except (OSError, RuntimeError, ValueError):
            return None, None
        if path != self.root and not path.is_relative_to(self.root):
            return None, None  # a symlink pointing out of the site
        try:
            is_dir = path.is_dir()
        except (OSError, ValueError):
            return None, None
        if is_dir:
            if parts and not tail.endswith("/"):
                return None, "/" + "/".join(quote(p) for p in parts) + "/"
            path = path / "index.html"
        elif parts and not tail.endswith("/") and not path.exists():
            # Clean URLs: /nps/history serves history.html, /nps/incidents/3 serves 3.html. The
            # page's relative links resolve the same from both addresses (same folder).
            page = path.with_name(path.name + ".html")
            if page.is_file() and page.resolve().is_relative_to(self.root):
                return page, None
        return path, None


async def _close_site(site: _Site) -> None:
    site.files.close()


_SITE = web.AppKey("site", _Site)
_HEALTH = web.AppKey("health", Health)
_FRAMING = web.AppKey("framing", dict[str, str])
_METRICS = web.AppKey("metrics", Metrics)
_PUSH = web.AppKey("push_board", PushBoard)


# --- middleware and headers ------------------------------------------------------------------------


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn API errors into JSON; anything unexpected into a logged 500 (the last resort)."""
    try:
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()
        except web.HTTPException as exc:
            if exc.status >= 400 and request.path.startswith("/api/"):
                return error_response(exc.status, exc.reason.lower(), headers=_allow_header(exc))
            raise
    except (web.HTTPException, asyncio.CancelledError):
        raise
    except Exception as exc:
        unavailable = store_unavailable_response(exc)  # disk full, read-only, ...: 503 with the reason
        if unavailable is not None:
            log.warning("refused method=%s path=%s: %s", request.method, redact_path(request.path), exc)
            return unavailable
        # Also covers a failure while building an error response: the client still gets JSON.
        log.exception("unhandled error method=%s path=%s", request.method, redact_path(request.path))
        return web.Response(status=500, body=_INTERNAL_ERROR, content_type="application/json",
                            headers={"Cache-Control": "no-store"})


_INTERNAL_ERROR = b'{"error":"internal error; it has been logged"}'


def _allow_header(exc: web.HTTPException) -> dict[str, str] | None:
    allow = exc.headers.get("Allow")
    return {"Allow": allow} if allow else None


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers.setdefault("Referrer-Policy", "no-referrer")
    content_type = headers.get("Content-Type", "")
    if content_type.startswith("text/html"):
        for name, value in request.app[_FRAMING].items():
            headers.setdefault(name, value)
    elif content_type.startswith("image/svg+xml"):
        headers.setdefault("Content-Security-Policy", SVG_CSP)
    else:
        headers.setdefault("Content-Security-Policy", DATA_CSP)


_PUSH_PATH = re.compile(r"^(/api/push/)[^/]*")


def redact_path(path: str) -> str:
    """A request path safe to log: push tokens are secrets and are replaced by `…`."""
    return _PUSH_PATH.sub(r"\1…", path)


class AccessLogger(AbstractAccessLogger):
    """One line per request without headers, query strings or push tokens (they carry secrets);
    accepted heartbeats and rate-limited requests are counted, not logged."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Log method, redacted path, status, size and duration; not for accepted heartbeats (senders
        push all day long: /metrics counts them) nor for 429s (ratelimit.py logs a flood once)."""
        if response.status == 429 or (response.status < 400 and request.path.startswith("/api/push/")):
            return
        self.logger.info(
            'access remote=%s request="%s %s" status=%d bytes=%d seconds=%.4f',
            request.remote, request.method, redact_path(request.path), response.status,
            response.body_length, time,
        )


# --- small handlers -----------------------------------------------------------------------------


async def _healthz(request: web.Request) -> web.Response:
    report = request.app[_HEALTH].to_json()
    status = 200 if report["status"] == "ok" else 503
    return json_response(report, status, headers={"Cache-Control": "no-store"})


async def _metrics(request: web.Request) -> web.Response:
    metrics = request.app[_METRICS]
    metrics.set_store_pending(request.app[STATE].store.pending)
    metrics.set_store_dropped(int(getattr(request.app[STATE].store, "dropped", 0)))
    return web.Response(
        body=await metrics.render_async(),
        headers={"Content-Type": METRICS_CONTENT_TYPE, "Cache-Control": "no-store"}
    )


async def _push(request: web.Request) -> web.Response:
    state = request.app[STATE]
    token = request.match_info["token"]
    if token not in state.push_tokens:
        raise ApiError(404, "no push monitor has this token")
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST":
        params.update(await read_params(request, state.config.server.max_body_bytes))
    status = params.get("status", "up")
    if status not in ("up", "down"):
        raise ApiError(400, "status must be up or down", "status")
    msg = params.get("msg", "")
    if not isinstance(msg, str):
        raise ApiError(400, "msg must be text", "msg")
    # Heartbeat senders are scripts: a long or odd message is trimmed, never refused.
    msg = "".join(ch for ch in msg[:PUSH_MSG_MAX] if ch.isprintable()).encode("utf-8", "replace").decode()
    request.app[_PUSH].record(token, state.clock(), status, msg)
    request.app[_METRICS].count_push(status)
    log.debug("push monitor=%s status=%s", state.push_tokens[token], status)
    return json_response({"ok": True, "monitor": state.push_tokens[token]})


async def _api_not_found(request: web.Request) -> web.StreamResponse:
    # The site's own documents under /api/v2/ are site files: support.json at the root, and on a
    # page's own domain its Statuspage JSON, as Statuspage serves it. Anything else is an API 404.
    if request.method in ("GET", "HEAD") and request.path.startswith("/api/v2/"):
        tail = request.path.removeprefix("/")
        path, _ = request.app[_SITE].locate(tail, _page_folder(request))
        if path is not None and path.is_file():  # a stat, not a read: the file is streamed below
            return await _serve_site(request, tail)
    # This catch-all also catches a known API path with a wrong method: that is a 405, not a 404.
    this = request.match_info.route.resource
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is not this and resource.canonical.startswith("/api/"):
            _, methods = await resource.resolve(request)
            allowed |= methods
    if allowed:
        raise ApiError(405, f"method {request.method} is not allowed here",
                       headers={"Allow": ", ".join(sorted(allowed))})
    raise ApiError(404, "no such API route")


# --- the engineers' page ---------------------------------------------------------------------------


def _resource_text(package: str, name: str) -> str:
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


def admin_csp(html: str) -> str:
    """The admin page's CSP: scripts only from this origin; its one inline <style> by hash."""
    hashes = []
    for block in re.findall(r"<style>(.*?)</style>", html, flags=re.S):
        digest = base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode()
        hashes.append(f" 'sha256-{digest}'")
    return (
        "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
        f"style-src 'self'{''.join(hashes)}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


async def _admin_page(request: web.Request) -> web.Response:
    state = request.app[STATE]
    html = render_admin(state.config, state.clock())
    return web.Response(
        text=html, content_type="text/html", charset="utf-8",
        headers={"Content-Security-Policy": admin_csp(html), "Cache-Control": "no-store",
                 "X-Frame-Options": "DENY"},
    )


async def _admin_redirect(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/admin")


async def _admin_js(request: web.Request) -> web.Response:
    return web.Response(
        text=_resource_text("statuspage.static", "admin.js"), content_type="text/javascript",
        charset="utf-8", headers={"Cache-Control": "no-cache"},
    )


# --- the static site -----------------------------------------------------------------------------------


def _page_folder(request: web.Request) -> str:
    """The page folder served at `/` of this request's host ("" for the whole site)."""
    page = request.app[STATE].config.page_for_host(request.host)
    return f"{page.slug}/" if page is not None else ""


def _locale_moved(request: web.Request, tail: str) -> str | None:
    """`/en/nps/…` → `/nps/en/…`: a page in another locale lives in the page's own folder (so the
    folder can be published alone), but `/<lang>/<page>/` is where people look for it."""
    config = request.app[STATE].config
    lang, _, rest = tail.partition("/")
    slug, _, inner = rest.partition("/")
    folders = {loc.lower() for loc in config.site.locales[1:]}
    if lang in folders and config.page(slug) is not None:
        return f"/{slug}/{lang}/{inner}"
    return None


async def _site(request: web.Request) -> web.StreamResponse:
    return await _serve_site(request, request.match_info["tail"])


async def _serve_site(request: web.Request, tail: str) -> web.StreamResponse:
    site = request.app[_SITE]
    folder = _page_folder(request)
    path, redirect = site.locate(tail, folder)
    query = f"?{request.query_string}" if request.query_string else ""
    if redirect is not None:
        raise web.HTTPMovedPermanently(redirect + query)
    found = None if path is None else await site.files.open(path)
    if path is None or found is None:
        moved = None if folder else _locale_moved(request, tail)
        if moved is not None:
            raise web.HTTPMovedPermanently(moved + query)
        return await _not_found(site, folder)
    headers = {
        "Content-Type": CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream"),
        "ETag": found.etag,
        "Cache-Control": f"public, max-age={STATIC_MAX_AGE if _is_static(tail) else PAGE_MAX_AGE}",
    }
    if path.suffix.lower() in (".json", ".svg", ".atom"):
        # Statuspage's JSON and the badges are meant to be read from other sites.
        headers["Access-Control-Allow-Origin"] = "*"
    if _etag_matches(request.headers.get("If-None-Match", ""), found.etag):
        found.close()
        return web.Response(status=304, headers={k: v for k, v in headers.items() if k != "Content-Type"})
    # Streamed from disk (web/sitefiles.py): a reader never makes the process hold the whole file.
    response = site.files.response(found, headers=headers)
    response.last_modified = found.mtime
    return response


async def _not_found(site: _Site, folder: str = "") -> web.StreamResponse:
    headers = {"Content-Type": CONTENT_TYPES[".html"], "Cache-Control": "no-cache"}
    custom = None
    if folder:  # a page's own domain: its folder's 404 page, whose links start at that domain's root
        custom = await site.files.open(site.root / folder / "404.html")
    if custom is None:
        custom = await site.files.open(site.root / "404.html")
    if custom is not None:
        return site.files.response(custom, status=404, headers=headers)
    return web.Response(status=404, body=_NOT_FOUND_HTML, headers=headers)


def _is_static(tail: str) -> bool:
    """An asset: under the site's `static/` or a page folder's (`nps/static/`)."""
    parts = [p for p in tail.split("/") if p]
    return bool(parts) and (parts[0] == "static" or (len(parts) > 1 and parts[1] == "static"))


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2)."""
    if not header:
        return False
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False
