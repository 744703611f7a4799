"""Support cases over HTTP: the engineers' routes (bearer auth, as the rest of /api/admin/) and the
Chatwoot webhook (a shared secret).

    GET  /api/admin/cases                  open and recent cases (`?open=1` only open ones)
    POST /api/admin/cases                  open a case {id, channel, page?, opened_at?, severity?}
                                           201 new, 200 when the id is already open on that channel
    GET  /api/admin/cases/<id>             one case with its figures and events
    POST /api/admin/cases/<id>/events      {kind, at?, severity?, outcome?, id?}: 201 new, 200 a repeat
    POST /api/hooks/chatwoot               Chatwoot's webhook; the secret as `?token=` in the webhook
                                           URL or `Authorization: Bearer`; 401 when wrong, nothing stored

Errors are the API's one shape `{"error", "field"}`: 400 bad input, 401 bad credentials, 404 an
unknown case (or support / the webhook not configured), 409 a case id opened on another channel.
Case ids are the helpdesk's opaque ids (letters, digits, `:._-`; an `@` is refused so an e-mail
address never becomes one).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from statuspage.config import Config
from statuspage.models import CASE_EVENT_KINDS, CASE_OUTCOMES, CHANNELS, CaseEvent, CaseRow
from statuspage.site.i18n import Translator
from statuspage.support import service as errors
from statuspage.support.chatwoot import events_from_webhook
from statuspage.support.service import SupportService
from statuspage.web.admin_api import SEVERITIES, authenticate, run_change_hook
from statuspage.web.http_api import ApiError, Fields, json_response, read_json

log = logging.getLogger(__name__)

CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,127}$")
EVENT_KINDS = tuple(k for k in CASE_EVENT_KINDS if k != "opened")
EARLIEST = 946684800.0
"""2000-01-01T00:00:00Z: the earliest time a case event may carry."""
RECENT_S = 7 * 86400.0
"""How far back GET /api/admin/cases lists resolved cases."""


@dataclass(frozen=True, slots=True)
class SupportState:
    """What the support handlers need, stored once on the application."""

    config: Config
    service: SupportService
    clock: Callable[[], float]
    on_change: Callable[[], Awaitable[None] | None] | None


SUPPORT = web.AppKey("statuspage_support", SupportState)


def setup_support_routes(app: web.Application, state: SupportState) -> None:
    """Add the case routes and the Chatwoot webhook to `app`."""
    app[SUPPORT] = state
    r = app.router
    r.add_get("/api/admin/cases", _list_cases)
    r.add_post("/api/admin/cases", _open_case)
    r.add_get("/api/admin/cases/{id}", _get_case)
    r.add_post("/api/admin/cases/{id}/events", _post_event)
    r.add_post("/api/hooks/chatwoot", _chatwoot)


def case_json(config: Config, case: CaseRow, now: float,
              events: list[CaseEvent] | None = None) -> dict[str, Any]:
    """A case as engineers see it: its facts, figures (seconds) and deadlines (site-timezone ISO)."""
    tr = Translator("en", config.site.timezone)

    def iso(t: float | None) -> str | None:
        return None if t is None else tr.iso(t)

    data: dict[str, Any] = {
        "id": case.case_id, "channel": case.channel, "page": case.page, "month": case.month,
        "opened_at": iso(case.opened_at),
        "first_response_at": iso(case.first_response_at), "first_response_s": case.first_response_s,
        "first_response_limit_s": case.first_response_limit_s,
        "first_response_due_at": iso(case.first_response_due_at),
        "first_response_within": case.first_response_within,
        "triaged_at": iso(case.triaged_at), "triage_s": case.triage_s,
        "severity": case.severity,
        "severity_changes": [{"severity": s, "at": iso(t)} for t, s in case.severity_changes],
        "waiting": case.waiting, "waiting_s": case.waiting_s,
        "resolved_at": iso(case.resolved_at), "resolution_s": case.resolution_s,
        "resolution_limit_s": case.resolution_limit_s, "resolution_due_at": iso(case.resolution_due_at),
        "resolution_within": case.resolution_within, "outcome": case.outcome,
        "breached": {
            "first_response": case.first_response_within is False or (
                case.first_response_due_at is not None and now > case.first_response_due_at),
            "resolution": case.resolution_within is False or (
                case.resolution_due_at is not None and now > case.resolution_due_at),
        },
        "events": case.events,
    }
    if events is not None:
        data["timeline"] = [
            {"id": e.event_id, "kind": e.kind, "at": iso(e.at), "severity": e.severity, "outcome": e.outcome}
            for e in sorted(events, key=lambda e: (e.at, e.event_id))
        ]
    return data


def _state(request: web.Request) -> SupportState:
    state = request.app[SUPPORT]
    if not state.service.enabled:
        raise ApiError(404, "support is not configured (support.channels in config.yaml)")
    return state


def _past_time(f: Fields, name: str, now: float) -> float:
    """A time that already happened, and not before `EARLIEST` (no helpdesk is older)."""
    value = f.time(name)
    if value > now + 60:
        raise ApiError(400, "is in the future; report what already happened", name)
    if value < EARLIEST:
        raise ApiError(400, "is before 2000; support cases are not that old", name)
    return value


def _case_id(value: str, field: str | None = None) -> str:
    if not CASE_ID.match(value):
        raise ApiError(400 if field else 404, "a case id is 1–128 letters, digits and :._- (the helpdesk's "
                       "opaque id, never an e-mail address or a name)", field)
    return value


def _error(exc: errors.SupportError) -> ApiError:
    message = str(exc) or type(exc).__name__
    if isinstance(exc, errors.UnknownCase):
        return ApiError(404, message)
    if isinstance(exc, errors.CaseConflict):
        return ApiError(409, message, "channel")
    if isinstance(exc, errors.NotConfigured):
        return ApiError(404, message)
    return ApiError(400, message)


async def _list_cases(request: web.Request) -> web.Response:
    authenticate(request)
    state = _state(request)
    now = state.clock()
    only_open = request.query.get("open", "") in ("1", "true", "yes")
    cases = await state.service.store.list_cases(open_only=only_open,
                                                 since=None if only_open else now - RECENT_S, limit=500)
    if not only_open:  # recent, plus every case still open however old
        seen = {c.case_id for c in cases}
        cases += [c for c in await state.service.store.list_cases(open_only=True, limit=500)
                  if c.case_id not in seen]
    return json_response({"cases": [case_json(state.config, c, now) for c in cases]})


async def _open_case(request: web.Request) -> web.Response:
    who = authenticate(request)
    state = _state(request)
    body = await read_json(request, state.config.server.max_body_bytes, required=True)
    f = Fields(body, ("id", "channel", "page", "opened_at", "severity"))
    case_id = _case_id(f.text("id", max_len=128), "id")
    channel = f.choice("channel", CHANNELS)
    assert state.config.support is not None
    if channel not in state.config.support.channels:
        raise ApiError(400, f"channel {channel} is not measured (support.channels)", "channel")
    pages = tuple(p.slug for p in state.config.pages)
    page = f.choice("page", pages) if body.get("page") is not None else None
    opened_at = _past_time(f, "opened_at", state.clock()) if body.get("opened_at") is not None else None
    severity = f.choice("severity", SEVERITIES) if body.get("severity") is not None else None
    try:
        case, created = await state.service.open_case(case_id, channel, at=opened_at, page=page,  # type: ignore[arg-type]
                                                      severity=severity)  # type: ignore[arg-type]
    except errors.SupportError as exc:
        raise _error(exc) from None
    log.info("case opened case=%s channel=%s by=%s new=%s", case_id, channel, who, created)
    await run_change_hook(state.on_change)
    return json_response(case_json(state.config, case, state.clock()), 201 if created else 200)


async def _get_case(request: web.Request) -> web.Response:
    authenticate(request)
    state = _state(request)
    case_id = _case_id(request.match_info["id"])
    case = await state.service.store.get_case(case_id)
    if case is None:
        raise ApiError(404, "no case has this id")
    events = await state.service.store.case_events(case_id)
    return json_response(case_json(state.config, case, state.clock(), events))


async def _post_event(request: web.Request) -> web.Response:
    who = authenticate(request)
    state = _state(request)
    case_id = _case_id(request.match_info["id"])
    body = await read_json(request, state.config.server.max_body_bytes, required=True)
    f = Fields(body, ("kind", "at", "severity", "outcome", "id"))
    kind = f.choice("kind", EVENT_KINDS)
    at = _past_time(f, "at", state.clock()) if body.get("at") is not None else None
    severity = f.choice("severity", SEVERITIES) if kind == "severity" else None
    outcome = f.choice("outcome", CASE_OUTCOMES) if kind == "resolved" else None
    for name, wanted in (("severity", kind == "severity"), ("outcome", kind == "resolved")):
        if not wanted and body.get(name) is not None:
            owner = "severity" if name == "severity" else "resolved"
            raise ApiError(400, f"only a {owner} event has {name}", name)
    event_id = f.text("id", required=False, max_len=128) or None
    if event_id is not None:
        _case_id(event_id, "id")
    try:
        case, new = await state.service.record(case_id, kind, at=at, severity=severity,  # type: ignore[arg-type]
                                               outcome=outcome, event_id=event_id)  # type: ignore[arg-type]
    except errors.SupportError as exc:
        raise _error(exc) from None
    log.info("case event case=%s kind=%s by=%s new=%s", case_id, kind, who, new)
    if new:
        await run_change_hook(state.on_change)
    return json_response(case_json(state.config, case, state.clock()), 201 if new else 200)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).digest()


def _chatwoot_secret_ok(request: web.Request, secret: str) -> bool:
    given = request.query.get("token", "")
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    if not given and scheme.lower() == "bearer":
        given = bearer.strip()
    # Compared as digests in constant time: neither the secret nor its length leaks through timing.
    return bool(given) and hmac.compare_digest(_digest(given), _digest(secret))


async def _chatwoot(request: web.Request) -> web.Response:
    state = request.app[SUPPORT]
    support = state.config.support
    if support is None or support.chatwoot is None:
        raise ApiError(404, "no Chatwoot webhook is configured (support.chatwoot.secret)")
    if not _chatwoot_secret_ok(request, support.chatwoot.secret):
        raise ApiError(401, "wrong or missing webhook secret (?token=… in the webhook URL)")
    body = await read_json(request, state.config.server.max_body_bytes, required=True)
    delivery = events_from_webhook(body, support, state.clock())
    if delivery.ignored is not None or not delivery.events:
        log.info("chatwoot delivery ignored: %s", delivery.ignored)
        return json_response({"case": delivery.case_id, "recorded": 0, "ignored": delivery.ignored})
    try:
        case, new = await state.service.ingest(list(delivery.events))
    except errors.SupportError as exc:
        raise _error(exc) from None
    log.info("chatwoot case=%s events=%d new=%s", delivery.case_id, len(delivery.events), new)
    if new:
        await run_change_hook(state.on_change)
    return json_response({"case": delivery.case_id, "recorded": int(new), "ignored": None,
                          "first_response_s": case.first_response_s if case else None})
