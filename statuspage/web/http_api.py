"""The HTTP API's one error shape and its strict JSON bodies (shared by the admin API and push).

Every error is `{"error": "<what is wrong>", "field": "<which field>"}`. Bodies are read with a
hard byte limit (413), must be JSON when JSON is expected (415) and are checked field by field
(400 naming the field): types, required and unknown fields, lengths, control characters and
unpaired surrogates (which SQLite and the renderer cannot store or print).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from aiohttp import web

from statuspage.models import accepted_time_problem

TITLE_MAX = 200
COMPONENTS_MAX = 100


# --- errors and responses ----------------------------------------------------------------------


class ApiError(Exception):
    """A request the API refuses: becomes `{"error", "field"}` JSON with `status`."""

    def __init__(self, status: int, error: str, field: str | None = None,
                 headers: Mapping[str, str] | None = None, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.field = field
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        """More members of the error object (e.g. who holds an acknowledgement)."""

    def response(self) -> web.Response:
        """The JSON response for this error."""
        return error_response(self.status, self.error, self.field, self.headers, self.extra)


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A compact UTF-8 JSON response that is never cached."""
    # A lone surrogate can arrive inside JSON (`"\\ud800"`) and be echoed in an error: replace it
    # rather than fail to encode the error itself.
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")
    all_headers = {"Cache-Control": "no-store", **(headers or {})}
    return web.Response(body=body, status=status, content_type="application/json", charset="utf-8",
                        headers=all_headers)


def error_response(status: int, error: str, field: str | None = None,
                   headers: Mapping[str, str] | None = None,
                   extra: Mapping[str, Any] | None = None) -> web.Response:
    """The API's one error shape (`extra` adds members beside `error` and `field`)."""
    data: dict[str, Any] = {**(extra or {}), "error": error}
    if field is not None:
        data["field"] = field
    return json_response(data, status, headers)


# --- bodies ---------------------------------------------------------------------------------------------


async def _read_bounded(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"the body is larger than the {limit} bytes allowed")
    chunks: list[bytes] = []
    total = 0
    while True:
        # Content-Length may be absent (chunked) or lie: count what actually arrives.
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise ApiError(413, f"the body is larger than the {limit} bytes allowed")
        chunks.append(chunk)


def _is_json(request: web.Request) -> bool:
    ct = request.content_type
    return ct == "application/json" or (ct.startswith("application/") and ct.endswith("+json"))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


async def read_json(request: web.Request, limit: int, *, required: bool) -> dict[str, Any]:
    """The request's JSON object (at most `limit` bytes); `{}` for an empty body when not `required`."""
    if required and not _is_json(request):
        raise ApiError(415, "the body must be JSON (Content-Type: application/json)")
    data = await _read_bounded(request, limit)
    if not data.strip():
        if required:
            raise ApiError(400, "the body is empty; a JSON object is required")
        return {}
    if not _is_json(request):
        raise ApiError(415, "the body must be JSON (Content-Type: application/json)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        where = f"at line {exc.lineno} column {exc.colno}"
        raise ApiError(400, f"the body is not valid JSON: {exc.msg} {where}") from None
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {str(exc)[:100]}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "the body must be a JSON object")
    return value


_FORM_TYPES = ("application/x-www-form-urlencoded", "text/plain", "application/octet-stream")


async def read_params(request: web.Request, limit: int) -> dict[str, Any]:
    """Parameters of a POST body: JSON object or form-encoded; empty when there is no body."""
    data = await _read_bounded(request, limit)
    if not data.strip():
        return {}
    if _is_json(request):
        try:
            value = json.loads(data.decode("utf-8-sig"), parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            raise ApiError(400, "the body is not valid JSON") from None
        if not isinstance(value, dict):
            raise ApiError(400, "the body must be a JSON object")
        return value
    if request.content_type in _FORM_TYPES:
        try:
            return dict(parse_qsl(data.decode("utf-8"), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "the body is not a valid form") from None
    raise ApiError(415, "send the body as application/json or application/x-www-form-urlencoded")


class Fields:
    """Typed access to a JSON object's fields; every problem is an ApiError naming the field."""

    def __init__(self, body: dict[str, Any], allowed: tuple[str, ...]) -> None:
        unknown = sorted(k for k in body if k not in allowed)
        if unknown:
            raise ApiError(400, f"unknown field (allowed: {', '.join(allowed)})", unknown[0][:100])
        self.body = body

    def text(self, name: str, *, required: bool = True, max_len: int = TITLE_MAX, multiline: bool = False,
             allow_empty: bool = False, default: str = "") -> str:
        """A string field: trimmed, bounded, valid UTF-8, no control characters."""
        if name not in self.body or self.body[name] is None:
            if required:
                raise ApiError(400, "is required", name)
            return default
        value = self.body[name]
        if not isinstance(value, str):
            raise ApiError(400, f"must be a string, not {_json_type(value)}", name)
        value = value.strip()
        if not value and not allow_empty:
            raise ApiError(400, "must not be empty", name)
        if len(value) > max_len:
            raise ApiError(400, f"is longer than {max_len} characters", name)
        _check_text(value, name, multiline)
        return value

    def choice(self, name: str, choices: tuple[str, ...], *, required: bool = True,
               default: str | None = None) -> str:
        """A string field that must be one of `choices`."""
        value = self.text(name, required=required and default is None, max_len=100,
                          default=default or "")
        if value not in choices:
            raise ApiError(400, f"must be one of {', '.join(choices)}", name)
        return value

    def slugs(self, name: str, known: tuple[str, ...], what: str) -> tuple[str, ...]:
        """A list of known slugs (duplicates dropped, order kept); absent or null means none."""
        value = self.body.get(name)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise ApiError(400, f"must be a list of {what} slugs, not {_json_type(value)}", name)
        if len(value) > COMPONENTS_MAX:
            raise ApiError(400, f"has more than {COMPONENTS_MAX} entries", name)
        out: list[str] = []
        for item in value:
            if not isinstance(item, str):
                raise ApiError(400, f"must be a list of {what} slugs; found {_json_type(item)}", name)
            if item not in known:
                raise ApiError(400, f"unknown {what} {show(item)} (known: {', '.join(known)})", name)
            if item not in out:
                out.append(item)
        return tuple(out)

    def time(self, name: str, local_tz: str | None = None) -> float:
        """An ISO-8601 date-time with a UTC offset (or Z), as epoch seconds; with `local_tz`, one
        without an offset is a wall-clock time in that timezone (the site's, as /admin's forms send)."""
        value = self.text(name, max_len=64)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ApiError(400, f"{show(value)} is not an ISO-8601 date-time like 2025-01-31T22:00:00-03:00",
                           name) from None
        if parsed.tzinfo is None and local_tz is not None:
            parsed = parsed.replace(tzinfo=ZoneInfo(local_tz))
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise ApiError(400, "needs a UTC offset, e.g. 2025-01-31T22:00:00-03:00 or ...Z", name)
        try:
            at = parsed.timestamp()
        except (OverflowError, ValueError, OSError):
            raise ApiError(400, f"{show(value)} is out of range", name) from None
        # Valid by its format is not enough: every output (pages, feeds, JSON in any timezone) must
        # be able to show it, and a deadline computed from it too.
        problem = accepted_time_problem(at)
        if problem is not None:
            raise ApiError(400, f"{show(value)} {problem}", name)
        return at


def _check_text(value: str, name: str, multiline: bool) -> None:
    for ch in value:
        if ch in "\n\r\t" and multiline:
            continue
        category = unicodedata.category(ch)
        if category == "Cs":
            raise ApiError(400, "contains an unpaired surrogate (not valid Unicode text)", name)
        if category == "Cc":
            raise ApiError(400, "contains a control character", name)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def show(value: str) -> str:
    return json.dumps(value if len(value) <= 60 else value[:57] + "...", ensure_ascii=False)
