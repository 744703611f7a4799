"""Which support alerts are due (pure): a case about to breach a limit, or past it, once per kind.

A clock raises `*.warning` once it has used `support.alert_lead` of its limit (its `*_warn_at`) and
`*.breached` once past the limit (`*_due_at`). When both are due at once (a case first seen late,
a process that was down) only the breach is raised. Deadlines older than `ALERT_MAX_AGE_S` raise
nothing: a day-old breach found at start-up (imported history, a long outage of the monitor) is
not news an engineer should be paged for.
"""

from __future__ import annotations

from collections.abc import Iterable

from statuspage.models import CaseAlert, CaseAlertKind, CaseRow

__all__ = ["ALERT_MAX_AGE_S", "pending_alerts"]

ALERT_MAX_AGE_S = 86400.0


def pending_alerts(cases: Iterable[CaseRow], sent: set[tuple[str, str]], now: float) -> list[CaseAlert]:
    """The alerts to send now for these cases, leaving out (case id, kind) pairs already `sent`."""
    out: list[CaseAlert] = []
    for case in cases:
        if case.first_response_at is None:
            _check(out, case, "first_response", case.first_response_warn_at, case.first_response_due_at,
                   case.first_response_limit_s, sent, now)
        if case.resolved_at is None and case.resolution_limit_s is not None:
            _check(out, case, "resolution", case.resolution_warn_at, case.resolution_due_at,
                   case.resolution_limit_s, sent, now)
    return out


def _check(out: list[CaseAlert], case: CaseRow, clock: str, warn_at: float | None, due_at: float | None,
           limit: float, sent: set[tuple[str, str]], now: float) -> None:
    if warn_at is None or due_at is None or now - due_at > ALERT_MAX_AGE_S:
        return
    kind: CaseAlertKind
    if now >= due_at:
        kind = "first_response.breached" if clock == "first_response" else "resolution.breached"
    elif now >= warn_at:
        kind = "first_response.warning" if clock == "first_response" else "resolution.warning"
    else:
        return
    if (case.case_id, kind) in sent:
        return
    out.append(CaseAlert(case_id=case.case_id, kind=kind, channel=case.channel, page=case.page,
                         severity=case.severity, opened_at=case.opened_at, due_at=due_at, limit_s=limit,
                         at=now))
