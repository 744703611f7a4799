"""What `GET /healthz` says: ok, or 503 naming each part that is failing and why.

The process is not healthy just because it answers: a render that keeps failing leaves the public
site stale, a flush that keeps failing (disk full, database deleted) loses nothing yet but will, so
each reports here and /healthz answers 503 with the reasons until the part succeeds again.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from statuspage.redaction import redact_for_log
from statuspage.store import unavailable_reason

__all__ = ["Health", "Problem", "file_identity", "store_unavailable_response"]

RETRY_AFTER_S = 30

REASON_MAX = 300


@dataclass(frozen=True, slots=True)
class Problem:
    """A failing part: what, why (one line), since when (UTC epoch seconds)."""

    part: str
    reason: str
    since: float

    def to_json(self) -> dict[str, Any]:
        return {"part": self.part, "reason": self.reason, "since": self.since}


class Health:
    """The parts of a running process that can fail while it still answers HTTP (render, flush, ...)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._failing: dict[str, Problem] = {}

    def failed(self, part: str, reason: str | BaseException) -> None:
        """Note that `part` failed just now; the first failure's time is kept as `since`."""
        text = reason if isinstance(reason, str) else (str(reason) or type(reason).__name__)
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        # A traceback's last line says what went wrong.
        line = redact_for_log(lines[-1] if lines else "failed")[:REASON_MAX]
        previous = self._failing.get(part)
        self._failing[part] = Problem(part, line, previous.since if previous else self._clock())

    def ok(self, part: str) -> None:
        """Note that `part` succeeded: it no longer counts against health."""
        self._failing.pop(part, None)

    @property
    def problems(self) -> list[Problem]:
        """The failing parts, in the order they first failed."""
        return sorted(self._failing.values(), key=lambda p: p.since)

    def to_json(self) -> dict[str, Any]:
        """`{"status": "ok"}` or `{"status": "failing", "problems": [...]}`."""
        problems = self.problems
        if not problems:
            return {"status": "ok"}
        return {"status": "failing", "problems": [p.to_json() for p in problems]}


def store_unavailable_response(exc: BaseException) -> web.Response | None:
    """503 with the reason (and Retry-After) when `exc` says the database cannot be used right now
    (disk full, I/O error, read-only, damaged): the write is not lost by our fault, it is refused;
    None for any other error."""
    reason = unavailable_reason(exc)
    if reason is None:
        return None
    body = json.dumps({"error": f"the database {reason}; nothing was written, try again later"})
    return web.Response(status=503, body=body.encode(), content_type="application/json",
                        headers={"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"})


def file_identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`, or None when there is none: a database deleted or replaced
    while the process holds it open changes this, though every write still succeeds (into nothing)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino
