"""`statuspage case …`: support cases reported by hand (phone cases, fixes) on the local database.

They work while `statuspage run` is running (SQLite WAL); a case's figures are recomputed at once,
and the running process picks them up at its next render and alert check.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from statuspage.cli.common import config_option, load_or_exit, require_database
from statuspage.cli.incidents import parse_time
from statuspage.config import Config
from statuspage.durations import format_duration
from statuspage.models import CASE_OUTCOMES, CHANNELS, CaseRow
from statuspage.store import open_store
from statuspage.support.indicators import MonthFigures
from statuspage.support.service import SupportError, SupportService

T = TypeVar("T")

_at_option = click.option("--at", "at_text", default=None, metavar="TIME",
                          help="When it happened (ISO 8601; site timezone without an offset). Default: now.")


def _load(config_path: Path) -> Config:
    config = load_or_exit(config_path)
    if config.support is None:
        raise click.ClickException("support is not configured: add a support: section (support.channels)")
    require_database(config)
    return config


def _run(config: Config, action: Callable[[SupportService], Awaitable[T]]) -> T:
    async def go() -> T:
        store = await open_store(config.storage)
        try:
            return await action(SupportService(store, config))
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except SupportError as exc:
        raise click.ClickException(str(exc)) from None


def _when(config: Config, text: str | None) -> float | None:
    return None if text is None else parse_time(text, config.site.timezone, "--at")


def _line(c: CaseRow) -> str:
    def d(s: float | None) -> str:
        return "-" if s is None else format_duration(s)

    state = "open" if c.is_open else f"resolved ({c.outcome})"
    if c.waiting:
        state = "waiting on customer"
    return (f"{c.case_id}  {c.channel}  {c.page or '-'}  {c.severity or '-'}"
            f"  first response {d(c.first_response_s)}  resolution {d(c.resolution_s)}  {state}")


@click.group()
def case() -> None:
    """Support cases: open, respond, triage, severity, wait, resume, resolve, list."""


@case.command("open")
@config_option
@click.argument("case_id")
@click.option("--channel", type=click.Choice(CHANNELS), default="phone", show_default=True)
@click.option("--page", default=None, help="The product page (slug) the case is about.")
@click.option("--severity", type=click.Choice(["T1", "T2", "T3", "T4"]), default=None)
@_at_option
def open_case(config_path: Path, case_id: str, channel: str, page: str | None, severity: str | None,
              at_text: str | None) -> None:
    """Open a case (the helpdesk's id, never a name or an e-mail)."""
    config = _load(config_path)
    if page is not None and config.page(page) is None:
        raise click.BadParameter(f"unknown page {page!r}", param_hint="'--page'")
    row, created = _run(config, lambda s: s.open_case(case_id, channel, at=_when(config, at_text),  # type: ignore[arg-type]
                                                      page=page, severity=severity))  # type: ignore[arg-type]
    click.echo(("opened " if created else "already open: ") + _line(row))


def _event_command(name: str, kind: str, help_text: str) -> None:
    @case.command(name, help=help_text)
    @config_option
    @click.argument("case_id")
    @_at_option
    def command(config_path: Path, case_id: str, at_text: str | None) -> None:
        config = _load(config_path)
        row, new = _run(config, lambda s: s.record(case_id, kind, at=_when(config, at_text)))  # type: ignore[arg-type]
        click.echo(("" if new else "already recorded: ") + _line(row))


_event_command("respond", "first_response", "Record the first response to a case.")
_event_command("triage", "triaged", "Record the end of triage (steps 1 and 2).")
_event_command("wait", "waiting", "The case waits on the customer (pauses triage and resolution).")
_event_command("resume", "resumed", "The customer answered: the clocks run again.")
_event_command("reopen", "reopened", "Reopen a resolved case.")


@case.command("severity")
@config_option
@click.argument("case_id")
@click.argument("severity", type=click.Choice(["T1", "T2", "T3", "T4"]))
@_at_option
def set_severity(config_path: Path, case_id: str, severity: str, at_text: str | None) -> None:
    """Classify a case T1–T4 (the current severity's limit applies, measured from opening)."""
    config = _load(config_path)
    row, _ = _run(config, lambda s: s.record(case_id, "severity", at=_when(config, at_text),
                                             severity=severity))  # type: ignore[arg-type]
    click.echo(_line(row))


@case.command("resolve")
@config_option
@click.argument("case_id")
@click.option("--outcome", type=click.Choice(CASE_OUTCOMES), required=True)
@_at_option
def resolve(config_path: Path, case_id: str, outcome: str, at_text: str | None) -> None:
    """Resolve a case with its outcome."""
    config = _load(config_path)
    row, _ = _run(config, lambda s: s.record(case_id, "resolved", at=_when(config, at_text),
                                             outcome=outcome))  # type: ignore[arg-type]
    click.echo(_line(row))


@case.command("list")
@config_option
@click.option("--open", "only_open", is_flag=True, help="Only cases not resolved yet.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cases(config_path: Path, only_open: bool, limit: int, as_json: bool) -> None:
    """Cases, newest first, with their figures."""
    config = _load(config_path)
    rows = _run(config, lambda s: s.store.list_cases(open_only=only_open, limit=limit))
    if as_json:
        from statuspage.web.support_api import case_json

        now = time.time()
        click.echo(json.dumps([case_json(config, r, now) for r in rows], indent=2, ensure_ascii=False))
        return
    for row in rows:
        click.echo(_line(row))
    if not rows:
        click.echo("no cases")


async def support_month(config: Config, now: float, month: str) -> MonthFigures | None:
    """The published support figures of one month (None when support is not configured)."""
    if config.support is None:
        return None
    store = await open_store(config.storage)
    try:
        figures = await SupportService(store, config).indicators(now, labels=[month])
    finally:
        await store.close()
    return figures.month(month)


def support_json(figures: MonthFigures | None) -> dict[str, Any]:
    """The `support` key of `report --json` (absent without a support section)."""
    return {} if figures is None else {"support": figures.to_json()}
