"""What every command shares: the --config option, logging set-up, loading the config or exiting."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from statuspage.config import Config, ConfigError, load_config

DEFAULT_CONFIG = "config.yaml"

config_option = click.option(
    "--config", "config_path", default=DEFAULT_CONFIG, show_default=True,
    type=click.Path(dir_okay=False, path_type=Path), help="Path to config.yaml.",
)


def setup_logging(level: str) -> None:
    """key=value log lines on stderr."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # APScheduler logs every job run at INFO; at thousands of monitors that is noise, and
    # "maximum number of running instances reached" is the no-overlap rule working as meant.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def load_or_exit(path: Path) -> Config:
    """Load the config, or print every problem and exit 1."""
    try:
        return load_config(path)
    except ConfigError as exc:
        for line in exc.problems:
            click.echo(f"error: {line}", err=True)
        raise SystemExit(1) from None


def require_database(config: Config) -> None:
    """Exit 1 with a clear line when the configured SQLite database does not exist yet (a PostgreSQL
    database is checked when it is opened: `StoreUnavailable`)."""
    if config.storage.url is None and not Path(config.storage.path).exists():
        raise click.ClickException(
            f"no database at {config.storage.path} yet: `statuspage run` creates it (storage.path)"
        )
