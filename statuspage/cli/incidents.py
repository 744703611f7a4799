"""`statuspage incident …` and `statuspage maintenance …`: engineers' commands on the local database.

They work while `statuspage run` is running (SQLite WAL + busy_timeout); the running process reads
incidents from the database each time it acts, so it sees these changes at once.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from statuspage.cli.common import config_option, load_or_exit, require_database
from statuspage.cli.params import DURATION, RRULE
from statuspage.config import Config
from statuspage.durations import format_duration
from statuspage.incidents.service import (
    BadInput,
    BadTime,
    BadWindow,
    IncidentError,
    IncidentService,
    UnknownComponent,
    UnknownPage,
)
from statuspage.models import INCIDENT_STATUSES, Incident, Maintenance, accepted_time_problem
from statuspage.store import open_store

T = TypeVar("T")

def _load(config_path: Path) -> Config:
    config = load_or_exit(config_path)
    require_database(config)
    return config


def _run(config: Config, action: Callable[[IncidentService], Awaitable[T]], window: str = "--end") -> T:
    """Run one service action with a store and a notifier, turning mistakes into one-line errors: a
    value given on the command line that the service refuses is a usage error (exit 2) naming its
    option (`window`: the option that set the window's end); anything else exits 1."""

    async def go() -> T:
        from statuspage.incidents.notify import Notifier

        store = await open_store(config.storage)
        # Outbox rows it cannot deliver before exiting are sent by `statuspage run` at its next start.
        notifier = Notifier(config, store=store)
        if config.subscriptions is not None:
            # Subscribers hear of what is done here too: `statuspage run`'s mailer sends it.
            from statuspage.announce import Announcer
            from statuspage.subscriptions.service import SubscriptionService

            Announcer(config, store, notifier, SubscriptionService(config, store))
        await notifier.start()
        try:
            return await action(IncidentService(store, config, notifier))
        finally:
            await notifier.close()
            await store.close()

    try:
        return asyncio.run(go())
    except BadInput as exc:
        raise _usage_error(exc, window) from None
    except IncidentError as exc:
        raise click.ClickException(str(exc)) from None


def _usage_error(exc: BadInput, window: str) -> click.UsageError:
    """A value the service refused, as click's usage error naming the option that gave it."""
    text = str(exc)
    if isinstance(exc, UnknownPage):
        return click.BadParameter(text, param_hint="'--page'")
    if isinstance(exc, UnknownComponent):
        return click.BadParameter(text, param_hint="'--component'")
    if isinstance(exc, BadTime):
        option = window if exc.field == "end" else f"--{exc.field}"
        return click.BadParameter(text, param_hint=f"'{option}'")
    if isinstance(exc, BadWindow):
        if text.startswith("rrule "):
            return click.BadParameter(text.removeprefix("rrule "), param_hint="'--rrule'")
        return click.BadParameter(text, param_hint=f"'{window}'")
    return click.UsageError(text)


def parse_time(text: str, tz: str, option: str | None = None) -> float:
    """ISO 8601 to epoch seconds; a time without offset is in the site's timezone. A bad one is
    click's usage error naming `option` (`--start`)."""
    hint = f"'{option}'" if option else None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f'"{text}" is not a time like 2026-11-24T22:00 or 2026-11-24T22:00-03:00', param_hint=hint
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(tz))
    try:
        at = parsed.timestamp()
    except (OverflowError, ValueError, OSError):
        at = math.inf
    problem = accepted_time_problem(at)
    if problem is not None:
        raise click.BadParameter(f'"{text}" {problem}', param_hint=hint)
    return at


def _when(at: float | None, tz: str) -> str:
    if at is None:
        return "-"
    try:
        return datetime.fromtimestamp(at, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, ValueError, OSError):
        return f"(epoch {at!r}: not a showable time)"  # a row no output can show still lists


def _incident_json(i: Incident, now: float) -> dict[str, Any]:
    return {
        "id": i.id, "page": i.page, "title": i.title, "severity": i.severity, "impact": i.impact,
        "status": i.status, "components": list(i.components), "automatic": i.automatic,
        "started_at": i.started_at, "due_at": i.due_at, "monitoring_at": i.monitoring_at,
        "resolved_at": i.resolved_at, "acknowledged_at": i.acknowledged_at,
        "acknowledged_by": i.acknowledged_by, "sla_breached": i.breached(now),
        "updates": [{"status": u.status, "message": u.message, "author": u.author, "at": u.at}
                    for u in i.updates],
    }


def _describe(i: Incident, config: Config) -> str:
    tz = config.site.timezone
    ack = (f"acked by {i.acknowledged_by} at {_when(i.acknowledged_at, tz)}" if i.acknowledged_by
           else "not acked")
    breach = " BREACHED" if i.breached(time.time()) else ""
    return (f"#{i.id} [{i.page}] {i.severity} {i.status}: {i.title} (started {_when(i.started_at, tz)}, "
            f"due {_when(i.due_at, tz)}{breach}; {ack})")


@click.group()
def incident() -> None:
    """List, open, acknowledge, update and resolve incidents."""


@incident.command("list")
@config_option
@click.option("--page", default=None, help="Only this page.")
@click.option("--all", "show_all", is_flag=True, help="Resolved ones too.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_incidents(config_path: Path, page: str | None, show_all: bool, as_json: bool) -> None:
    """Open incidents (or all with --all), newest first."""
    config = _load(config_path)

    async def action(svc: IncidentService) -> list[Incident]:
        if page is not None:
            svc._page(page)  # validates the slug
        return await svc.store.list_incidents(page=page, open_only=not show_all)

    found = _run(config, action)
    now = time.time()
    if as_json:
        click.echo(json.dumps([_incident_json(i, now) for i in found], indent=2, ensure_ascii=False))
    elif not found:
        click.echo("no incidents" if show_all else "no open incidents")
    else:
        for i in found:
            click.echo(_describe(i, config))


@incident.command("open")
@config_option
@click.option("--page", required=True, help="Page slug (nps, cxm).")
@click.option("--title", required=True)
@click.option("--severity", required=True, type=click.Choice(["T1", "T2", "T3", "T4"], case_sensitive=False))
@click.option("--component", "components", multiple=True, help="Affected component slug (repeatable).")
@click.option("--status", default="investigating", show_default=True,
              type=click.Choice(["investigating", "identified", "monitoring"]))
@click.option("--message", default="", help="First update's text.")
@click.option("--by", "author", default="", help="Engineer's name.")
def open_incident(config_path: Path, page: str, title: str, severity: str, components: tuple[str, ...],
                  status: str, message: str, author: str) -> None:
    """Open an incident by hand."""
    config = _load(config_path)
    created = _run(config, lambda s: s.open_manual(page, title, severity.upper(), components, status,
                                                   message, author))
    click.echo(f"opened {_describe(created, config)}")


@incident.command("ack")
@config_option
@click.argument("incident_id", type=int)
@click.option("--by", "who", required=True, help="Engineer's name.")
def ack(config_path: Path, incident_id: int, who: str) -> None:
    """Acknowledge an incident. The first acknowledgement stands: exit 1 if someone else holds it."""
    config = _load(config_path)
    got = _run(config, lambda s: s.acknowledge(incident_id, who))
    click.echo(f"acknowledged {_describe(got, config)}")


@incident.command("update")
@config_option
@click.argument("incident_id", type=int)
@click.option("--status", required=True, type=click.Choice(list(INCIDENT_STATUSES)))
@click.option("--message", required=True)
@click.option("--by", "author", default="", help="Engineer's name.")
def update(config_path: Path, incident_id: int, status: str, message: str, author: str) -> None:
    """Post an update (and move the incident to --status)."""
    config = _load(config_path)
    got = _run(config, lambda s: s.post_update(incident_id, status, message, author))
    click.echo(f"updated {_describe(got, config)}")


@incident.command("resolve")
@config_option
@click.argument("incident_id", type=int)
@click.option("--message", default="", help="Final update's text.")
@click.option("--by", "author", default="", help="Engineer's name.")
def resolve(config_path: Path, incident_id: int, message: str, author: str) -> None:
    """Resolve an incident."""
    config = _load(config_path)
    got = _run(config, lambda s: s.resolve(incident_id, message, author))
    took = format_duration((got.resolved_at or got.started_at) - got.started_at)
    click.echo(f"resolved {_describe(got, config)} after {took}")


@click.group()
def maintenance() -> None:
    """Schedule, list and cancel maintenance windows."""


def _describe_m(m: Maintenance, config: Config) -> str:
    tz = config.site.timezone
    comps = ", ".join(m.components) if m.components else "all components"
    state = " CANCELLED" if m.cancelled else ""
    repeats = f" repeats {m.rrule} ({m.timezone}), next" if m.rrule else ""
    shown = m.occurrence(time.time())
    return (f"#{m.id} [{m.page}]{repeats} {_when(shown.start, tz)} → {_when(shown.end, tz)} {m.title} "
            f"({comps}){state}")


@maintenance.command("add")
@config_option
@click.option("--page", required=True)
@click.option("--title", required=True)
@click.option("--start", required=True, help="ISO 8601; without an offset it is in the site's timezone.")
@click.option("--end", default=None, help="ISO 8601 end (or use --duration).")
@click.option("--duration", default=None, type=DURATION, help="Length like 2h (instead of --end).")
@click.option("--component", "components", multiple=True, help="Component slug (repeatable); default all.")
@click.option("--message", default="")
@click.option("--by", "author", default="")
@click.option("--rrule", default="", type=RRULE,
              help="Repeat by an RFC 5545 rule in the site's timezone, e.g. FREQ=WEEKLY;BYDAY=SU "
              "(--start/--end are the first occurrence; each must end before the next starts).")
def add(config_path: Path, page: str, title: str, start: str, end: str | None, duration: float | None,
        components: tuple[str, ...], message: str, author: str, rrule: str) -> None:
    """Schedule a maintenance window (repeating with --rrule: each occurrence must end before the
    next one starts)."""
    if (end is None) == (duration is None):
        raise click.UsageError("give exactly one of --end and --duration")
    config = _load(config_path)
    tz = config.site.timezone
    begin = parse_time(start, tz, "--start")
    finish = parse_time(end, tz, "--end") if end is not None else begin + (duration or 0.0)
    m = _run(config, lambda s: s.add_maintenance(page, title, begin, finish, components, message, author,
                                                 rrule),
             window="--end" if end is not None else "--duration")
    click.echo(f"scheduled {_describe_m(m, config)}")


@maintenance.command("list")
@config_option
@click.option("--page", default=None)
@click.option("--all", "show_all", is_flag=True, help="Past and cancelled windows too.")
def list_maintenance(config_path: Path, page: str | None, show_all: bool) -> None:
    """Active and upcoming maintenance windows."""
    config = _load(config_path)
    if page is not None and config.page(page) is None:
        pages = ", ".join(p.slug for p in config.pages)
        raise click.BadParameter(f'page "{page}" does not exist (pages: {pages})', param_hint="'--page'")
    now = time.time()

    async def action(svc: IncidentService) -> list[Maintenance]:
        return await svc.store.list_maintenances(page=page, ending_after=None if show_all else now,
                                                 include_cancelled=show_all)

    found = _run(config, action)
    if not found:
        click.echo("no maintenance windows")
    for m in found:
        click.echo(_describe_m(m, config))


@maintenance.command("cancel")
@config_option
@click.argument("maintenance_id", type=int)
def cancel(config_path: Path, maintenance_id: int) -> None:
    """Cancel a maintenance window."""
    config = _load(config_path)
    m = _run(config, lambda s: s.cancel_maintenance(maintenance_id))
    click.echo(f"cancelled {_describe_m(m, config)}")
