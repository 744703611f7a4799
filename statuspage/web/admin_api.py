"""The engineers' JSON API under /api/admin/: bearer auth, strict bodies, one error shape.

Every error is `{"error": "<what is wrong>", "field": "<which field>"}` (`field` only when one
field is at fault):

    400  malformed JSON, wrong types, missing / unknown fields, over-long or empty text,
         unknown page / component / severity / status, a bad maintenance window
    401  missing or wrong bearer token (with `WWW-Authenticate: Bearer`)
    404  unknown incident or maintenance id, unknown route
    405  known route, wrong method
    409  a lifecycle step that is not allowed now (an update to a resolved incident, ...)
    413  body larger than `server.max_body_bytes`
    415  a body that is not `application/json`

Tokens are compared in constant time against every admin's (hashed first, so their lengths don't
leak either) and are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from importlib import resources
from typing import Any

from aiohttp import web

from statuspage.config import Config
from statuspage.incidents import service as incident_errors
from statuspage.incidents.service import IncidentService
from statuspage.models import (
    INCIDENT_STATUSES,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    Maintenance,
    Severity,
    showable_time,
)
from statuspage.site.i18n import Translator
from statuspage.store import Store
from statuspage.web.http_api import ApiError, Fields, json_response, read_json, show

log = logging.getLogger(__name__)

MESSAGE_MAX = incident_errors.MAX_MESSAGE
RECENT_S = 7 * 86400.0
"""How far back GET /api/admin/incidents lists resolved incidents."""
LIST_DEFAULT = 50
LIST_MAX = 200
"""Incidents per page of GET /api/admin/incidents: by default, and at most (`?limit=`)."""
MAX_ID = 2**63 - 1
"""SQLite's largest integer: ids beyond it cannot exist (and would overflow the driver)."""

SEVERITIES: tuple[Severity, ...] = ("T1", "T2", "T3", "T4")
OPEN_STATUSES: tuple[IncidentStatus, ...] = ("investigating", "identified", "monitoring")


# --- state ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdminState:
    """What the API handlers need, stored once on the application."""

    config: Config
    store: Store
    incidents: IncidentService
    clock: Callable[[], float]
    on_change: Callable[[], Awaitable[None] | None] | None
    push_tokens: dict[str, str]
    """Push token → monitor key."""


STATE = web.AppKey("statuspage_admin", AdminState)


def setup_admin_routes(app: web.Application) -> None:
    """Add the /api/admin/ routes to `app`."""
    r = app.router
    r.add_get("/api/admin/openapi.yaml", _openapi)
    r.add_get("/api/admin/pages", _pages)
    r.add_get("/api/admin/incidents", _list_incidents)
    r.add_post("/api/admin/incidents", _open_incident)
    r.add_get(r"/api/admin/incidents/{id:\d+}", _get_incident)
    r.add_post(r"/api/admin/incidents/{id:\d+}/ack", _acknowledge)
    r.add_post(r"/api/admin/incidents/{id:\d+}/updates", _post_update)
    r.add_post(r"/api/admin/incidents/{id:\d+}/resolve", _resolve)
    r.add_get("/api/admin/maintenances", _list_maintenances)
    r.add_post("/api/admin/maintenances", _add_maintenance)
    r.add_delete(r"/api/admin/maintenances/{id:\d+}", _cancel_maintenance)


# --- auth -------------------------------------------------------------------------------------------------


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


def authenticate(request: web.Request) -> str:
    """The name of the admin whose bearer token the request carries; ApiError 401 otherwise."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    challenge = 'Bearer realm="statuspage"'
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(401, "missing bearer token: send Authorization: Bearer <token>",
                       headers={"WWW-Authenticate": challenge})
    try:
        given_digest = _digest(given.strip())
    except UnicodeEncodeError:
        given_digest = b""
    found: str | None = None
    # Compare against every admin, without stopping at a match, so timing says nothing.
    for admin in request.app[STATE].config.admins:
        if hmac.compare_digest(given_digest, _digest(admin.token)) and found is None:
            found = admin.name
    if found is None:
        raise ApiError(401, "invalid bearer token",
                       headers={"WWW-Authenticate": challenge + ', error="invalid_token"'})
    return found


async def _body(request: web.Request, *, required: bool) -> dict[str, Any]:
    return await read_json(request, request.app[STATE].config.server.max_body_bytes, required=required)


def _path_id(request: web.Request) -> int:
    value = int(request.match_info["id"])
    if value > MAX_ID:
        raise ApiError(404, "no such id")
    return value


# --- JSON shapes --------------------------------------------------------------------------------------


class _Iso:
    """Times as on the public JSON; `strict=False` shows a stored time no output can show as null
    (a row written by an older version: the engineers must still see it to resolve it)."""

    def __init__(self, config: Config, strict: bool) -> None:
        self.tr = Translator("en", config.site.timezone)
        self.strict = strict

    def __call__(self, tr: Translator, t: float | None) -> str | None:
        if t is None:
            return None
        if not self.strict and not showable_time(t):
            return None
        return self.tr.iso(t)


def incident_json(config: Config, incident: Incident, now: float, *, strict: bool = False) -> dict[str, Any]:
    """An incident in Atlassian Statuspage's shape plus our SLA fields (times as on the public JSON).

    `strict` raises (OverflowError, ValueError) on a time no output can show instead of giving null:
    the preflight of a write, so that nothing unshowable is ever committed."""
    _iso = _Iso(config, strict)
    tr = _iso.tr
    page = config.page(incident.page)
    names = {c.slug: c.name for c in page.components} if page else {}
    return {
        "id": str(incident.id),
        "name": incident.title,
        "status": incident.status,
        "impact": incident.impact,
        "page_id": incident.page,
        "shortlink": f"{config.site.base_url.rstrip('/')}/{incident.page}/incidents/{incident.id}.html",
        "created_at": _iso(tr, incident.created_at or incident.started_at),
        "updated_at": _iso(tr, max(incident.updated_at, incident.created_at or incident.started_at)),
        "started_at": _iso(tr, incident.started_at),
        "monitoring_at": _iso(tr, incident.monitoring_at),
        "resolved_at": _iso(tr, incident.resolved_at),
        "components": [{"id": c, "code": c, "name": names.get(c, c)} for c in incident.components],
        # Statuspage lists updates newest first.
        "incident_updates": [_update_json(tr, u, names, _iso) for u in
                             sorted(incident.updates, key=lambda u: (u.at, u.id), reverse=True)],
        "reminder_intervals": None,
        "severity": incident.severity,
        "automatic": incident.automatic,
        "acknowledged_at": _iso(tr, incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "due_at": _iso(tr, incident.due_at),
        "sla_breached": incident.breached(now),
        "postmortem_body": incident.postmortem or None,
    }


def _update_json(tr: Translator, u: IncidentUpdate, names: Mapping[str, str], _iso: _Iso) -> dict[str, Any]:
    at = _iso(tr, u.at)
    return {
        "id": str(u.id),
        "incident_id": str(u.incident_id),
        "status": u.status,
        "body": u.message,
        "created_at": at,
        "updated_at": at,
        "display_at": at,
        "author": u.author or None,
        "affected_components": [
            {"code": c.component, "name": names.get(c.component, c.component),
             "old_status": c.old_status, "new_status": c.new_status}
            for c in u.components
        ],
    }


def maintenance_json(config: Config, m: Maintenance, now: float, *, strict: bool = False) -> dict[str, Any]:
    """A maintenance window in the shape of Statuspage's scheduled maintenances, plus ours (`strict`: as
    in `incident_json`)."""
    _iso = _Iso(config, strict)
    tr = _iso.tr
    page = config.page(m.page)
    names = {c.slug: c.name for c in page.components} if page else {}
    series = m
    m = m.occurrence(now)  # a recurring window: the occurrence in progress, else the next one
    if m.cancelled:
        status = "cancelled"
    elif now < m.start:
        status = "scheduled"
    elif now < m.end:
        status = "in_progress"
    else:
        status = "completed"
    return {
        "id": str(m.id),
        "name": m.title,
        "status": status,
        "impact": "maintenance",
        "page_id": m.page,
        "scheduled_for": _iso(tr, m.start),
        "scheduled_until": _iso(tr, m.end),
        "components": [{"id": c, "code": c, "name": names.get(c, c)} for c in m.components],
        "message": m.message,
        "created_at": _iso(tr, m.created_at),
        "created_by": m.created_by or None,
        "cancelled": m.cancelled,
        "rrule": series.rrule or None,
        "timezone": series.timezone or None,
    }


# --- handlers -------------------------------------------------------------------------------------------


async def run_change_hook(hook: Callable[[], Awaitable[None] | None] | None) -> None:
    """Call an API's `on_change` hook (re-render) after a committed write. Never raises: the write is
    committed, and a failed re-render is retried by the next periodic render."""
    if hook is None:
        return
    try:
        result = hook()
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("on_change hook failed")


def _service_error(exc: Exception) -> ApiError:
    """Translate IncidentService's errors, most specific first."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, incident_errors.AlreadyAcknowledged):
        held = exc.incident
        return ApiError(409, message, extra={
            "acknowledged_by": held.acknowledged_by,
            "acknowledged_at": (None if held.acknowledged_at is None
                                or not showable_time(held.acknowledged_at)
                                else Translator("en", exc.tz).iso(held.acknowledged_at)),
        })
    if isinstance(exc, incident_errors.NotFound):
        return ApiError(404, message)
    if isinstance(exc, incident_errors.BadTransition):
        return ApiError(409, message, "status")
    if isinstance(exc, incident_errors.UnknownPage):
        return ApiError(400, message, "page")
    if isinstance(exc, incident_errors.UnknownComponent):
        return ApiError(400, message, "components")
    if isinstance(exc, incident_errors.BadSeverity):
        return ApiError(400, message, "severity")
    if isinstance(exc, incident_errors.BadWindow):
        return ApiError(400, message, "rrule" if message.startswith("rrule") else "end")
    if isinstance(exc, incident_errors.BadTime):
        return ApiError(400, message, exc.field)
    return ApiError(400, message)  # BadInput, and any error added later: the request was at fault


def _page_slugs(state: AdminState) -> tuple[str, ...]:
    return tuple(p.slug for p in state.config.pages)


def _page_query(request: web.Request, state: AdminState) -> str | None:
    """The optional `?page=` filter of the list routes, checked against the config."""
    page = request.query.get("page")
    if page is not None and page not in _page_slugs(state):
        raise ApiError(400, f"unknown page {show(page)}", "page")
    return page


def _components_of(state: AdminState, page_slug: str) -> tuple[str, ...]:
    page = state.config.page(page_slug)
    return tuple(c.slug for c in page.components) if page else ()


async def _openapi(request: web.Request) -> web.Response:
    text = resources.files("statuspage.web").joinpath("openapi.yaml").read_text(encoding="utf-8")
    return web.Response(text=text, content_type="application/yaml", charset="utf-8",
                        headers={"Cache-Control": "public, max-age=300"})


async def _pages(request: web.Request) -> web.Response:
    who = authenticate(request)
    state = request.app[STATE]
    sla = state.config.sla
    return json_response({
        "user": who,
        "pages": [
            {"slug": p.slug, "name": p.name,
             "components": [{"slug": c.slug, "name": c.name} for c in p.components]}
            for p in state.config.pages
        ],
        "severities": [
            {"name": s, "mean_s": sla.severities[s].mean, "limit_s": sla.severities[s].limit}
            for s in SEVERITIES
        ],
        "statuses": list(INCIDENT_STATUSES),
    })


def _answerable(state: AdminState, *, strict: bool = True) -> Callable[[Incident], object]:
    """The preflight of a write: its answer is built before anything is committed. A new incident
    must be fully showable (`strict`); an update to one stored by an older version with a time no
    output can show is still answered (that time as null), so it can be resolved."""
    return lambda incident: incident_json(state.config, incident, state.clock(), strict=strict)


def listed_json(build: Callable[[], dict[str, Any]], row_id: int, kind: str,
                times: Mapping[str, float | None]) -> dict[str, Any]:
    """One row of a list as `build()` makes it, or, when that fails (a row stored by an older version
    that no output can show), its id and raw epoch times, so the list still answers and /admin can
    resolve or cancel it."""
    try:
        return build()
    except Exception as exc:
        log.exception("%s id=%d cannot be shown", kind, row_id)
        epochs = {f"{k}_epoch": v for k, v in times.items()}
        return {"id": str(row_id), "error": f"cannot be shown: {exc}", **epochs}


def _limit_query(request: web.Request) -> int:
    """`?limit=` of a paged list: 1 to LIST_MAX, LIST_DEFAULT when absent."""
    text = request.query.get("limit")
    if text is None:
        return LIST_DEFAULT
    if not text.isdigit() or not 1 <= int(text) <= LIST_MAX:
        raise ApiError(400, f"must be a whole number from 1 to {LIST_MAX}", "limit")
    return int(text)


def _cursor(incident: Incident) -> str:
    return base64.urlsafe_b64encode(f"{incident.started_at!r}:{incident.id}".encode()).decode().rstrip("=")


def _cursor_query(request: web.Request) -> tuple[float, int] | None:
    """`?cursor=` (from a previous page's `next_cursor`): where the next page starts."""
    text = request.query.get("cursor")
    if not text:
        return None
    try:
        at, _, ident = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().partition(":")
        position = (float(at), int(ident))
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "is not a cursor this API gave (use next_cursor as it is)", "cursor") from None
    if not math.isfinite(position[0]) or not 0 <= position[1] <= MAX_ID:
        raise ApiError(400, "is not a cursor this API gave (use next_cursor as it is)", "cursor")
    return position


async def _list_incidents(request: web.Request) -> web.Response:
    authenticate(request)
    state = request.app[STATE]
    page = _page_query(request, state)
    limit, before = _limit_query(request), _cursor_query(request)
    now = state.clock()
    # One page at a time (bounded work and answer); `next_cursor` continues where it stopped.
    found = await state.store.list_incidents(page=page, since=now - RECENT_S, limit=limit + 1, before=before)
    more = len(found) > limit
    found = found[:limit]
    return json_response({"next_cursor": _cursor(found[-1]) if more else None, "incidents": [
        listed_json(partial(incident_json, state.config, i, now), i.id, "incident",
                    {"started_at": i.started_at, "due_at": i.due_at, "resolved_at": i.resolved_at})
        for i in found]})


async def _get_incident(request: web.Request) -> web.Response:
    authenticate(request)
    state = request.app[STATE]
    incident = await state.store.get_incident(_path_id(request))
    if incident is None:
        raise ApiError(404, "no incident has this id")
    return json_response(incident_json(state.config, incident, state.clock()))


async def _open_incident(request: web.Request) -> web.Response:
    who = authenticate(request)
    state = request.app[STATE]
    f = Fields(await _body(request, required=True),
               ("page", "title", "severity", "components", "status", "message", "started_at"))
    page = f.choice("page", _page_slugs(state))
    title = f.text("title")
    severity = f.choice("severity", SEVERITIES)
    components = f.slugs("components", _components_of(state, page), "component")
    status = f.choice("status", OPEN_STATUSES, default="investigating")
    # Without a message the first update repeats the title (the service's choice).
    message = f.text("message", required=False, max_len=MESSAGE_MAX, multiline=True, allow_empty=True)
    started_at = f.time("started_at") if f.body.get("started_at") is not None else None
    if started_at is not None and started_at > state.clock():
        raise ApiError(400, "is in the future; an incident starts now or earlier", "started_at")
    try:
        incident = await state.incidents.open_manual(
            page=page, title=title, severity=severity, components=components, status=status,
            message=message, author=who, started_at=started_at, preflight=_answerable(state),
        )
    except incident_errors.IncidentError as exc:
        raise _service_error(exc) from None
    await run_change_hook(state.on_change)
    return json_response(incident_json(state.config, incident, state.clock()), 201)


async def _acknowledge(request: web.Request) -> web.Response:
    who = authenticate(request)
    state = request.app[STATE]
    Fields(await _body(request, required=False), ())
    try:
        incident = await state.incidents.acknowledge(_path_id(request), who)
    except incident_errors.IncidentError as exc:
        raise _service_error(exc) from None
    await run_change_hook(state.on_change)
    return json_response(incident_json(state.config, incident, state.clock()))


async def _post_update(request: web.Request) -> web.Response:
    who = authenticate(request)
    state = request.app[STATE]
    f = Fields(await _body(request, required=True), ("status", "message"))
    status = f.choice("status", INCIDENT_STATUSES)
    message = f.text("message", max_len=MESSAGE_MAX, multiline=True)
    try:
        incident = await state.incidents.post_update(_path_id(request), status, message, author=who,
                                                     preflight=_answerable(state, strict=False))
    except incident_errors.IncidentError as exc:
        raise _service_error(exc) from None
    await run_change_hook(state.on_change)
    return json_response(incident_json(state.config, incident, state.clock()), 201)


async def _resolve(request: web.Request) -> web.Response:
    who = authenticate(request)
    state = request.app[STATE]
    f = Fields(await _body(request, required=False), ("message",))
    message = f.text("message", required=False, max_len=MESSAGE_MAX, multiline=True)
    try:
        incident = await state.incidents.resolve(_path_id(request), message, author=who,
                                                 preflight=_answerable(state, strict=False))
    except incident_errors.IncidentError as exc:
        raise _service_error(exc) from None
    await run_change_hook(state.on_change)
    return json_response(incident_json(state.config, incident, state.clock()))


async def _list_maintenances(request: web.Request) -> web.Response:
    authenticate(request)
    state = request.app[STATE]
    page = _page_query(request, state)
    now = state.clock()
    found = await state.store.list_maintenances(page=page, ending_after=now - RECENT_S)
    return json_response({"maintenances": [
        listed_json(partial(maintenance_json, state.config, m, now), m.id, "maintenance",
                    {"start": m.start, "end": m.end})
        for m in found]})


async def _add_maintenance(request: web.Request) -> web.Response:
    who = authenticate(request)
    state = request.app[STATE]
    f = Fields(await _body(request, required=True),
               ("page", "title", "start", "end", "components", "message", "rrule"))
    page = f.choice("page", _page_slugs(state))
    title = f.text("title")
    # Without an offset, the times are the site's wall-clock times (what /admin's form says).
    start = f.time("start", state.config.site.timezone)
    end = f.time("end", state.config.site.timezone)
    if end <= start:
        raise ApiError(400, "must be after start", "end")
    components = f.slugs("components", _components_of(state, page), "component")
    message = f.text("message", required=False, max_len=MESSAGE_MAX, multiline=True, allow_empty=True)
    rrule = f.text("rrule", required=False, max_len=500)
    try:
        window = await state.incidents.add_maintenance(
            page=page, title=title, start=start, end=end, components=components, message=message, author=who,
            rrule=rrule, preflight=lambda m: maintenance_json(state.config, m, state.clock(), strict=True),
        )
    except incident_errors.IncidentError as exc:
        raise _service_error(exc) from None
    await run_change_hook(state.on_change)
    return json_response(maintenance_json(state.config, window, state.clock()), 201)


async def _cancel_maintenance(request: web.Request) -> web.Response:
    who = authenticate(request)
    state = request.app[STATE]
    Fields(await _body(request, required=False), ())
    try:
        window = await state.incidents.cancel_maintenance(_path_id(request), author=who)
    except incident_errors.IncidentError as exc:
        raise _service_error(exc) from None
    await run_change_hook(state.on_change)
    return json_response(maintenance_json(state.config, window, state.clock()))
