"""Heartbeats of push monitors shared through the database: any instance may receive a push, the
monitor's owner (whichever instance probes it) judges it."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from statuspage.probe.checks import PushBoard, PushStatus
from statuspage.store import Store


class SharedPushBoard(PushBoard):
    """A PushBoard that also buffers every heartbeat it receives into the store, and `sync()`s the
    heartbeats other instances received (the newest one wins, wherever it arrived)."""

    def __init__(self, store: Store, monitor_of: Mapping[str, str],
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self.store = store
        self._monitor_of = dict(monitor_of)
        self._token_of = {key: token for token, key in monitor_of.items()}

    def record(self, token: str, at: float, status: PushStatus = "up", msg: str = "") -> None:
        """Record a heartbeat here and queue it for every other instance."""
        super().record(token, at, status, msg)
        key = self._monitor_of.get(token)
        if key is not None:
            self.store.buffer_push(key, at, status, msg)

    async def sync(self) -> None:
        """Take in the heartbeats that reached other instances."""
        for row in await self.store.pushes():
            token = self._token_of.get(row.monitor)
            if token is None or row.status not in ("up", "down"):
                continue
            last = self.last(token)
            if last is None or row.at > last.at:
                # Only news: the prober re-arms its deadline (and judges a change) once per heartbeat.
                PushBoard.record(self, token, row.at, "up" if row.status == "up" else "down", row.message)
