"""Visitors' subscription routes (no cookies, no auth: the token in each link is the capability)
and the engineers' erasure route.

    POST   /api/subscriptions                 subscribe: a form (answered with a page) or JSON (202)
    GET    /api/subscriptions/confirm?token=  a page with a button that confirms (link scanners that
    POST   /api/subscriptions/confirm           open links do not confirm anything)
    GET    /api/subscriptions/unsubscribe?token=  a page with a button
    POST   /api/subscriptions/unsubscribe?token=  RFC 8058 one-click (body List-Unsubscribe=One-Click)
    DELETE /api/subscriptions/unsubscribe?token=  the same for API clients (LGPD: the address is deleted)
    GET    /api/admin/subscribers              counts per page (bearer token)
    POST   /api/admin/subscribers/erase        {"email"}: delete every subscription of an address

The subscribe answer is the same for every address (see statuspage.subscriptions.service); too many
requests from one client (its address; behind a local reverse proxy, the last X-Forwarded-For hop)
or for one address are a 429 with Retry-After. Without `subscriptions:` in the config every route is
a 404.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from statuspage.config import Config, subscription_endpoint
from statuspage.site.links import Links
from statuspage.site.render import environment
from statuspage.subscriptions.limits import retry_after
from statuspage.subscriptions.service import BadRequest, RateLimited, SubscriptionService
from statuspage.subscriptions.texts import words
from statuspage.web.admin_api import authenticate
from statuspage.web.http_api import ApiError, Fields, json_response, read_json


@dataclass(frozen=True, slots=True)
class SubscriptionState:
    """What the subscription handlers need."""

    config: Config
    service: SubscriptionService | None


SUBSCRIPTIONS = web.AppKey("statuspage_subscriptions", SubscriptionState)
PENDING = {
    "status": "pending",
    "message": "If the address can receive mail, a confirmation link was sent to it.",
}


def setup_subscription_routes(app: web.Application, state: SubscriptionState) -> None:
    """Add the subscription routes to `app` (404s when subscriptions are off)."""
    app[SUBSCRIPTIONS] = state
    r = app.router
    r.add_post("/api/subscriptions", _subscribe)
    r.add_get("/api/subscriptions/confirm", _confirm_page)
    r.add_post("/api/subscriptions/confirm", _confirm)
    r.add_get("/api/subscriptions/unsubscribe", _unsubscribe_page)
    r.add_post("/api/subscriptions/unsubscribe", _unsubscribe)
    r.add_delete("/api/subscriptions/unsubscribe", _unsubscribe)
    r.add_get("/api/admin/subscribers", _counts)
    r.add_post("/api/admin/subscribers/erase", _erase)


def _service(request: web.Request) -> SubscriptionService:
    service = request.app[SUBSCRIPTIONS].service
    if service is None:
        raise ApiError(404, "subscriptions are not enabled (subscriptions: in config.yaml)")
    return service


def client_address(request: web.Request) -> str:
    """The client's address: the peer, or the last X-Forwarded-For hop when the peer is a reverse
    proxy on this machine (loopback)."""
    peer = request.remote or ""
    try:
        local = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        local = False
    forwarded = request.headers.get("X-Forwarded-For", "")
    if local and forwarded:
        hop = forwarded.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            return peer
    return peer


def _wants_html(request: web.Request) -> bool:
    return request.content_type != "application/json" and "application/json" not in request.headers.get(
        "Accept", ""
    )


def _lang(config: Config, value: object) -> str:
    return value if isinstance(value, str) and value in config.site.locales else config.site.locale


def _page_url(config: Config, page: str | None, locale: str) -> str:
    """Where the answer pages lead back to: the page (or the overview) in that locale."""
    if page is None or config.page(page) is None:
        return "/"
    url = Links(config, locale, "index.html", page).url(locale)
    return url if url.startswith(("http://", "https://")) else f"/{page}/"


def _html(
    config: Config,
    lang: str,
    key: str,
    status: int = 200,
    *,
    page: str | None = None,
    action: str = "",
    token: str = "",
    headers: dict[str, str] | None = None,
    text: str = "",
    **values: object,
) -> web.Response:
    w = words(lang)
    body = (
        environment()
        .get_template("subscription.html")
        .render(
            lang=lang,
            title=w[f"page.{key}.title"],
            text=text or w.get(f"page.{key}", "").format(**values),
            site_title=config.site.title,
            action=action,
            token=token,
            button=w.get(f"page.{key}.button", ""),
            back=_page_url(config, page, lang),
            back_text=w["page.back"],
        )
    )
    return web.Response(
        text=body,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


async def _form(request: web.Request) -> tuple[dict[str, Any], list[Any]]:
    """The fields of a subscribe request and its chosen components, from JSON or a form."""
    config = request.app[SUBSCRIPTIONS].config
    if request.content_type == "application/json":
        body = await read_json(request, config.server.max_body_bytes, required=True)
        f = Fields(body, ("email", "page", "components", "locale"))
        comps = body.get("components") or []
        if not isinstance(comps, list):
            raise ApiError(400, "must be a list of component slugs", "components")
        return {
            "email": f.body.get("email"),
            "page": f.body.get("page"),
            "locale": f.body.get("locale"),
        }, comps
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise ApiError(415, "send the form as application/x-www-form-urlencoded or application/json")
    try:
        form: MultiDictProxy[Any] = await request.post()
    except ValueError:
        raise ApiError(400, "the body is not a valid form") from None
    return {k: form.get(k) for k in ("email", "page", "locale")}, list(form.getall("component", []))


async def _subscribe(request: web.Request) -> web.Response:
    service = _service(request)
    config = request.app[SUBSCRIPTIONS].config
    html = _wants_html(request)
    fields, comps = await _form(request)
    lang = _lang(config, fields.get("locale"))
    page = fields.get("page") if isinstance(fields.get("page"), str) else None
    try:
        checked = service.check(fields.get("email"), fields.get("page"), comps, fields.get("locale"))
        service.submit(checked, client_address(request))
    except RateLimited as exc:
        after = retry_after(exc.retry_after)
        if html:
            return _html(
                config, lang, "limited", 429, page=page, seconds=after, headers={"Retry-After": after}
            )
        raise ApiError(429, str(exc), headers={"Retry-After": after}) from None
    except BadRequest as exc:
        if html:
            return _html(config, lang, "bad", 400, page=page, text=f"{exc.field}: {exc}")
        raise ApiError(400, str(exc), exc.field) from None
    if html:
        return _html(config, lang, "pending", page=checked.page)
    return json_response(PENDING, 202)


def _token(request: web.Request, body: dict[str, Any] | None = None) -> str:
    value = (body or {}).get("token") or request.query.get("token", "")
    return value if isinstance(value, str) else ""


async def _confirm_page(request: web.Request) -> web.Response:
    _service(request)
    config = request.app[SUBSCRIPTIONS].config
    lang = _lang(config, request.query.get("lang"))
    return _html(config, lang, "confirm", action="/api/subscriptions/confirm", token=_token(request))


async def _posted(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return await read_json(
            request, request.app[SUBSCRIPTIONS].config.server.max_body_bytes, required=False
        )
    try:
        form = await request.post()
    except ValueError:
        raise ApiError(400, "the body is not a valid form") from None
    return {k: form.get(k) for k in ("token", "lang")}


async def _confirm(request: web.Request) -> web.Response:
    service = _service(request)
    config = request.app[SUBSCRIPTIONS].config
    body = await _posted(request)
    lang = _lang(config, body.get("lang") or request.query.get("lang"))
    confirmed = await service.confirm(_token(request, body))
    if not _wants_html(request):
        if confirmed is None:
            raise ApiError(400, "the confirmation link is invalid or has expired", "token")
        return json_response({"status": "confirmed", "page": confirmed.page})
    if confirmed is None:
        return _html(config, lang, "invalid", 400)
    return _html(config, lang, "confirmed", page=confirmed.page)


async def _unsubscribe_page(request: web.Request) -> web.Response:
    _service(request)
    config = request.app[SUBSCRIPTIONS].config
    lang = _lang(config, request.query.get("lang"))
    return _html(config, lang, "unsubscribe", action="/api/subscriptions/unsubscribe", token=_token(request))


async def _unsubscribe(request: web.Request) -> web.Response:
    service = _service(request)
    config = request.app[SUBSCRIPTIONS].config
    body = {} if request.method == "DELETE" else await _posted(request)
    lang = _lang(config, body.get("lang") or request.query.get("lang"))
    # The same answer for a known, an unknown and an already used token: unsubscribing is idempotent.
    await service.unsubscribe(_token(request, body))
    if not _wants_html(request) or request.method == "DELETE":
        return json_response({"status": "unsubscribed"})
    return _html(config, lang, "unsubscribed")


async def _counts(request: web.Request) -> web.Response:
    authenticate(request)
    service = _service(request)
    counts = await service.store.subscriber_counts()
    config = request.app[SUBSCRIPTIONS].config
    return json_response(
        {
            "pages": [
                {
                    "page": p.slug,
                    "confirmed": counts.get((p.slug, True), 0),
                    "pending": counts.get((p.slug, False), 0),
                }
                for p in config.pages
            ]
        }
    )


async def _erase(request: web.Request) -> web.Response:
    authenticate(request)
    service = _service(request)
    config = request.app[SUBSCRIPTIONS].config
    f = Fields(await read_json(request, config.server.max_body_bytes, required=True), ("email",))
    try:
        erased = await service.erase(f.text("email", max_len=300))
    except BadRequest as exc:
        raise ApiError(400, str(exc), exc.field) from None
    return json_response({"erased": erased})


def form_action(config: Config) -> str:
    """Where the pages' subscribe form posts: the live server's public address, or this host."""
    return f"{subscription_endpoint(config)}/api/subscriptions"
