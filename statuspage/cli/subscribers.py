"""`statuspage subscribers …`: the visitors' e-mail subscriptions on the local database.

`list` shows counts only (addresses are personal data and are never listed); `erase` deletes every
subscription of an address on request (LGPD), with its pending mail.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from statuspage.cli.common import config_option, load_or_exit, require_database
from statuspage.store import open_store
from statuspage.subscriptions.service import BadRequest, normalise_email


@click.group()
def subscribers() -> None:
    """Visitors' e-mail subscriptions: counts, and erasure on request."""


@subscribers.command("list")
@config_option
def list_subscribers(config_path: Path) -> None:
    """Confirmed and pending subscribers per page (counts only)."""
    config = load_or_exit(config_path)
    require_database(config)

    async def go() -> tuple[dict[tuple[str, bool], int], dict[int, int]]:
        store = await open_store(config.storage, readonly=True)
        try:
            return await store.subscriber_counts(), await store.mail_queued()
        finally:
            await store.close()

    counts, queued = asyncio.run(go())
    for page in config.pages:
        click.echo(
            f"{page.slug}: {counts.get((page.slug, True), 0)} confirmed, "
            f"{counts.get((page.slug, False), 0)} waiting for confirmation"
        )
    click.echo(f"mail waiting to be sent: {sum(queued.values())}")


@subscribers.command("erase")
@config_option
@click.argument("email")
def erase(config_path: Path, email: str) -> None:
    """Delete every subscription of EMAIL and its pending mail (a data subject's request)."""
    config = load_or_exit(config_path)
    require_database(config)
    try:
        address = normalise_email(email)
    except BadRequest as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from None

    async def go() -> int:
        store = await open_store(config.storage)
        try:
            return await store.erase_address(address)
        finally:
            await store.close()

    click.echo(f"erased {asyncio.run(go())} subscription(s)")
