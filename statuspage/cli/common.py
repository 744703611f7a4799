"""What every command shares: the --config option, logging set-up, loading the config or exiting."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from statuspage.config import Config, ConfigError, load_config
from statuspage.store import StoreUnavailable, database_problem

DEFAULT_CONFIG = "config.yaml"

CONFIG_ENV = "STATUSPAGE_CONFIG"
DEMO_CONFIG = Path("data/demo/config.yaml")
"""Where `statuspage demo` writes its config by default."""

config_option = click.option(
    "--config", "config_path", default=DEFAULT_CONFIG, show_default=True, envvar=CONFIG_ENV, show_envvar=True,
    type=click.Path(dir_okay=False, path_type=Path), help="Path to config.yaml.",
)


EVENTS = "statuspage.events"
"""The logger of the operator's story: checks failing, outages, incidents, render failures."""


class ConsoleFormatter(logging.Formatter):
    """Concise lines for people: `2026-11-24 14:03:02 DOWN shop/api: …`.

    INFO lines are the time and the message; warnings and errors from anything but the story also
    name their level and logger. At debug level every line names its level and logger."""

    def __init__(self, verbose: bool = False) -> None:
        super().__init__(datefmt="%Y-%m-%d %H:%M:%S")
        self.verbose = verbose
        self.tz: tzinfo | None = None
        """Timestamps in this timezone (the site's, for run and demo); None: the process's."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The record's time in `tz`."""
        return datetime.fromtimestamp(record.created, self.tz).strftime(datefmt or self.datefmt or "%c")

    def format(self, record: logging.LogRecord) -> str:
        """One line (plus a traceback when the record has one)."""
        stamp = self.formatTime(record, self.datefmt)
        if self.verbose:
            head = f"{stamp}.{int(record.msecs):03d} {record.levelname} {record.name}"
        elif record.levelno >= logging.WARNING and record.name != EVENTS:
            head = f"{stamp} {record.levelname} {record.name}:"
        else:
            head = stamp
        line = f"{head} {record.getMessage()}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        return f"{line}\n{record.exc_text}" if record.exc_text else line


class _ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (click's test runner swaps it)."""

    def __init__(self, story: bool, threshold: int) -> None:
        super().__init__()
        self.story = story
        self.threshold = threshold

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass

    def filter(self, record: logging.LogRecord) -> bool:
        """Hide story lines below warnings when the command prints its own results."""
        if (not self.story and record.name == EVENTS and record.levelno < logging.WARNING
                and self.threshold > logging.DEBUG):
            return False
        return super().filter(record)


def setup_logging(level: str, *, story: bool = True) -> None:
    """Log lines on stderr for people. `story=False` (one-shot commands, which print their own
    results) hides the story lines below warnings unless `level` is debug."""
    threshold = getattr(logging, level.upper(), logging.INFO)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ConsoleHandler)]:
        root.removeHandler(old)
    handler = _ConsoleHandler(story, threshold)
    handler.setFormatter(ConsoleFormatter(verbose=threshold <= logging.DEBUG))
    handler.setLevel(threshold)
    root.addHandler(handler)
    root.setLevel(threshold)
    # APScheduler logs every job run at INFO; at thousands of monitors that is noise, and
    # "maximum number of running instances reached" is the no-overlap rule working as meant.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def use_site_time(timezone: str, *, announce: bool = True) -> None:
    """Stamp log lines in the site's timezone, so they match the times the site, /admin and the
    CLI show (the story's own times use it too)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _ConsoleHandler) and isinstance(handler.formatter, ConsoleFormatter):
            handler.formatter.tz = ZoneInfo(timezone)
    if announce:
        logging.getLogger(__name__).info("times in this log are %s (site.timezone), as on the site", timezone)


def load_or_exit(path: Path, code: int = 1) -> Config:
    """Load the config, or print every problem and exit `code` (1; `check`: 3, UNKNOWN)."""
    try:
        return load_config(path)
    except ConfigError as exc:
        for line in exc.problems:
            click.echo(f"error: {line}", err=True)
        raise SystemExit(code) from None


class PluginUsageError(click.UsageError):
    """A usage error of a monitoring-plugin command: UNKNOWN (3)."""

    exit_code = 3


class PluginCommand(click.Command):
    """A command whose exit codes are a monitoring plugin's (`check`): there 2 means CRITICAL, so a
    usage error exits 3, UNKNOWN, as the Monitoring Plugins guidelines say for invalid arguments
    (click's message naming the option is unchanged)."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise _unknown(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _unknown(exc) from None


def _unknown(exc: click.UsageError) -> click.UsageError:
    if isinstance(exc, PluginUsageError):
        return exc
    return PluginUsageError(exc.format_message(), exc.ctx)


DATABASE = "statuspage.database"
"""Key of `click.Context.meta` naming the database a command uses (for `StatuspageGroup`)."""


class StatuspageGroup(click.Group):
    """The command group: a database problem met anywhere in a command (corrupt, truncated, newer
    schema, a directory in its place, a full disk; PostgreSQL unreachable, refusing the password,
    missing, full) is one line naming the file or the URL (without its password) and exit 1, not a
    traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            path = ctx.meta.get(DATABASE)
            problem = None
            if isinstance(path, str):
                problem = database_problem(exc, path)
            elif isinstance(exc, StoreUnavailable):  # a PostgreSQL database that cannot be used
                problem = str(exc)  # names the database, never its password
            if problem is None:
                raise
            raise click.ClickException(problem) from None


def require_database(config: Config) -> None:
    """Exit 1 with a clear line when the configured SQLite database does not exist yet, and note the
    database (a problem with it later is one line too, see `StatuspageGroup`; a PostgreSQL database
    is checked when it is opened: `StoreUnavailable`)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[DATABASE] = config.storage.where
    if config.storage.url is None and not Path(config.storage.path).exists():
        hint = ""
        if DEMO_CONFIG.is_file():
            # The most common first encounter: the demo runs beside, with its own config.
            hint = f"; for the demo's data add --config {DEMO_CONFIG} (or export {CONFIG_ENV}={DEMO_CONFIG})"
        raise click.ClickException(
            f"no database at {config.storage.path} yet: `statuspage run` creates it (storage.path){hint}"
        )
