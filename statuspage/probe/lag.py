"""When each scheduled check was meant to start, and how many runs the scheduler never made.

`statuspage_schedule_lag_seconds` is actual start − intended start of *that* run. It used to be
computed modulo the interval ((start − first run) % interval), so a process frozen for 4 s never
showed more than one interval of lag, and APScheduler's coalesced and skipped runs went uncounted.

APScheduler announces each run it submits with the slot it stands for (EVENT_JOB_SUBMITTED,
`scheduled_run_times`); with `coalesce` it merges every slot missed meanwhile into the latest one.
So a run's intended start is its own slot, unless it stands in for slots merged into it: then it is
late since the first of them. Skipped slots are counted — as `overlap` when APScheduler refused them
because the monitor's previous check was still running (EVENT_JOB_MAX_INSTANCES, which it only logs
as a warning; those are dropped, not owed), else as `late` (the process could not run them in time:
frozen, overloaded). Pure apart from the events fed to it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SlotClock", "Start"]


@dataclass(frozen=True, slots=True)
class Start:
    """What the start of one run means: since when it was due, and what it replaced."""

    intended: float
    """When this run was meant to start (UTC epoch seconds)."""
    late: int
    """Slots merged into this run because they could not run in time."""
    overlap: int
    """Slots refused because the previous run was still going."""


class SlotClock:
    """Per interval job: the slots APScheduler fired, the runs it refused, the last slot served."""

    def __init__(self) -> None:
        self._fired: dict[str, float] = {}
        self._served: dict[str, float] = {}
        self._refused: dict[str, int] = {}

    def fired(self, job: str, slot: float) -> None:
        """APScheduler submitted a run of `job` for `slot` (the latest of the slots it coalesced)."""
        self._fired[job] = slot

    def refused(self, job: str) -> None:
        """APScheduler skipped a slot of `job` because its previous run was still running."""
        self._refused[job] = self._refused.get(job, 0) + 1

    def forget(self, job: str) -> None:
        """`job` is no longer scheduled here (another instance probes its monitor now): if it comes
        back, its first run is on time, and the slots probed elsewhere meanwhile are not skipped ones."""
        self._fired.pop(job, None)
        self._served.pop(job, None)
        self._refused.pop(job, None)

    def start(self, job: str, interval: float) -> Start | None:
        """A run of `job` starts now: its intended start and the slots it stands in for.

        None when no slot was announced for it (a run not fired by the interval trigger)."""
        slot = self._fired.pop(job, None)
        if slot is None:
            return None
        last = self._served.get(job)
        self._served[job] = slot
        refused = self._refused.pop(job, 0)
        if last is None or interval <= 0:
            return Start(slot, 0, 0)
        skipped = max(0, round((slot - last) / interval) - 1)
        overlap = min(refused, skipped)
        late = skipped - overlap
        # Refused slots are dropped, not owed (the check that blocked them covered that time); the
        # run is late since the first slot it was merged with, if any.
        return Start(last + (overlap + 1) * interval if late else slot, late, overlap)
