"""What every command shares: the --config option, logging set-up, loading the config or exiting."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from statuspage.config import Config, ConfigError, load_config
from statuspage.store import database_problem

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


DATABASE = "statuspage.database"
"""Key of `click.Context.meta` naming the database a command uses (for `StatuspageGroup`)."""


class StatuspageGroup(click.Group):
    """The command group: a database problem met anywhere in a command (corrupt, truncated, newer
    schema, a directory in its place, a full disk) is one line naming the file and exit 1, not a
    traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            path = ctx.meta.get(DATABASE)
            problem = database_problem(exc, path) if isinstance(path, str) else None
            if problem is None:
                raise
            raise click.ClickException(problem) from None


def require_database(config: Config) -> None:
    """Exit 1 with a clear line when the configured database does not exist yet (and note its path:
    a problem with it later is one line too, see `StatuspageGroup`)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[DATABASE] = config.storage.path
    if not Path(config.storage.path).exists():
        raise click.ClickException(
            f"no database at {config.storage.path} yet: `statuspage run` creates it (storage.path)"
        )
