"""The `statuspage` command line (click). User mistakes are one line, never a traceback: a bad value
on the command line is click's usage error (exit 2, naming the option); a bad config, a missing
database or a refused action exits 1 (`check` has its monitoring-plugin codes)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import click

from statuspage.cli.cases import case
from statuspage.cli.common import (
    DATABASE,
    PluginCommand,
    StatuspageGroup,
    config_option,
    load_or_exit,
    require_database,
    setup_logging,
    use_site_time,
)
from statuspage.cli.incidents import incident, maintenance
from statuspage.cli.params import MONTH, POSTGRES_URL
from statuspage.cli.subscribers import subscribers
from statuspage.config import Config, ConfigError, Monitor, config_warnings
from statuspage.credentials import exposure_problems
from statuspage.models import CheckResult
from statuspage.probe.checks import Checker
from statuspage.web.listen import ListenError


@click.group(cls=StatuspageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]), help="Logging threshold.")
@click.version_option(package_name="statuspage")
@click.pass_context
def cli(ctx: click.Context, log_level: str) -> None:
    """Uptime monitor and public status page: probes, incidents, SLA, a static status site."""
    # `run` and `demo` tell the operator's story in their log; the other commands print their own
    # results and keep the story lines (e.g. "incident #3 acknowledged by …") out of the way.
    setup_logging(log_level, story=ctx.invoked_subcommand in ("run", "demo"))


@cli.command()
@config_option
def validate(config_path: Path) -> None:
    """Check the config; print every problem with its key path and exit 1 if there is any."""
    config = load_or_exit(config_path)
    for line in config_warnings(config):
        click.echo(f"warning: {line}", err=True)
    errors, warnings = exposure_problems(config, [config.server.host])
    for line in warnings:
        click.echo(f"warning: {line}", err=True)
    if errors:
        for line in errors:
            click.echo(f"error: {line}", err=True)
        click.echo(f"error: server.host {config.server.host or '(every interface)'} is beyond loopback: "
                   "`statuspage run` refuses to serve with the weak secrets above", err=True)
        raise SystemExit(1)
    monitors = len(config.monitors())
    click.echo(f"{config_path}: ok ({len(config.pages)} pages, {monitors} monitors)")


def at_location(config: Config, name: str, *, known: bool = False) -> Config:
    """The config for `--location NAME`, or click's usage error naming the option. With `known`
    (`check`, which only reports where it probed from) the name must be one the config has: one of
    `probe.locations`, or with none listed `probe.location` (`run` may name its one location)."""
    listed, own = config.probe.locations, config.probe.location
    if known and not listed and name != own:
        shown = json.dumps(name, ensure_ascii=False)
        raise click.BadParameter(f'{shown} is not a probe location: probe.locations lists none, and this '
                                 f'config probes from "{own}" (probe.location)', param_hint="'--location'")
    try:
        return config.at_location(name)
    except ConfigError as exc:
        raise click.BadParameter(str(exc).removeprefix("--location "), param_hint="'--location'") from None


EXIT_OK, EXIT_WARNING, EXIT_CRITICAL, EXIT_UNKNOWN = 0, 1, 2, 3
"""`statuspage check` exit codes, as monitoring plugins (Nagios, Icinga, Sensu) define them."""


@cli.command(cls=PluginCommand)
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per monitor, for machines.")
@click.option("--location", default=None, metavar="NAME",
              help="Name the probe location this runs from (default probe.location, or local).")
def check(config_path: Path, as_json: bool, location: str | None = None) -> None:
    """Probe every monitor once and print the results.

    \b
    Exit codes follow monitoring plugins (Nagios, Icinga, Sensu):
      0 OK        every monitor is up
      1 WARNING   some monitor is degraded (slow), none is down
      2 CRITICAL  some monitor is down
      3 UNKNOWN   some monitor could not be judged (a push monitor: only
                  `statuspage run` receives heartbeats), none is down or degraded;
                  or the config or an option is bad (nothing was probed)
    The worst wins in the order CRITICAL > WARNING > UNKNOWN > OK (monitoring-plugins'
    max_state_alt). In --json a monitor that could not be judged has "outcome": "unknown".
    """
    config = load_or_exit(config_path, EXIT_UNKNOWN)
    if location is not None:
        config = at_location(config, location, known=True)
    results = asyncio.run(_check_all(config))
    where = config.probe.location
    if as_json:
        click.echo(json.dumps([{**_result_json(r), "location": where} for r in results], indent=2,
                              ensure_ascii=False))
    else:
        click.echo(f"Probed from location {where}.\n")
        click.echo(format_results(results))
    raise SystemExit(exit_code(results))


def outcome_of(result: CheckResult) -> str:
    """`up`, `degraded`, `down`, or `unknown` when the check could not judge the monitor (no data)."""
    return "unknown" if result.error == "no_data" else result.outcome


def exit_code(results: list[CheckResult]) -> int:
    """The monitoring-plugin exit code of a set of results: CRITICAL > WARNING > UNKNOWN > OK."""
    outcomes = {outcome_of(r) for r in results}
    if "down" in outcomes:
        return EXIT_CRITICAL
    if "degraded" in outcomes:
        return EXIT_WARNING
    if "unknown" in outcomes:
        return EXIT_UNKNOWN
    return EXIT_OK


async def _check_all(config: Config) -> list[CheckResult]:
    async with Checker(scheduler=config.scheduler, probe=config.probe) as checker:
        return list(await asyncio.gather(*(_check_once(checker, m) for _, _, m in config.monitors())))


async def _check_once(checker: Checker, monitor: Monitor) -> CheckResult:
    if monitor.type == "push":
        # Heartbeats arrive at a running server; a one-shot process has none to judge, so it
        # says so instead of reporting a made-up up or down.
        return CheckResult(monitor.key, time.time(), "up", error="no_data",
                           message="push monitor: only `statuspage run` receives heartbeats")
    return await checker.check(monitor)


def _result_json(r: CheckResult) -> dict[str, Any]:
    return {
        "monitor": r.monitor, "outcome": outcome_of(r), "latency_ms": r.latency_ms, "status": r.status,
        "error": r.error, "message": r.message, "at": r.at, "cert_expires_at": r.cert_expires_at,
    }


_STATE_NAMES = {EXIT_OK: "OK", EXIT_WARNING: "WARNING", EXIT_CRITICAL: "CRITICAL", EXIT_UNKNOWN: "UNKNOWN"}


def format_results(results: list[CheckResult]) -> str:
    """A readable table of check results, with a summary line naming the exit state."""
    rows = [("MONITOR", "OUTCOME", "MS", "HTTP", "ERROR", "MESSAGE")]
    for r in results:
        rows.append((
            r.monitor, outcome_of(r).upper(),
            "-" if r.latency_ms is None else f"{r.latency_ms:.0f}",
            "-" if r.status is None else str(r.status), r.error or "-", r.message,
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5]
             for row in rows]
    counts = {o: sum(1 for r in results if outcome_of(r) == o) for o in ("up", "degraded", "down", "unknown")}
    code = exit_code(results)
    lines.append(f"\n{len(results)} monitors: {counts['up']} up, {counts['degraded']} degraded, "
                 f"{counts['down']} down, {counts['unknown']} unknown — {_STATE_NAMES[code]} (exit {code})")
    return "\n".join(line.rstrip() for line in lines)


access_log_option = click.option(
    "--access-log", is_flag=True,
    help="Log one line per HTTP request (also server.access_log: true). Off by default.")


@cli.command()
@config_option
@click.option("--no-serve", is_flag=True, help="Only probe, record and write the site; no HTTP server.")
@click.option("--location", default=None, metavar="NAME",
              help="The probe location this instance checks from (default probe.location, or local).")
@access_log_option
def run(config_path: Path, no_serve: bool, access_log: bool, location: str | None = None) -> None:
    """Probe, record, open/resolve incidents, render and serve until SIGINT/SIGTERM.

    The log tells the operator's story: failed checks, confirmed outages and recoveries,
    incidents opened, acknowledged (by whom), updated and resolved, render failures.
    """
    from statuspage.runner import Runtime, StartError, run_until_stopped

    config = load_or_exit(config_path)
    if location is not None:
        config = at_location(config, location)
    for line in config_warnings(config):
        click.echo(f"warning: {line}", err=True)
    if access_log:
        config = config.model_copy(update={"server": config.server.model_copy(update={"access_log": True})})
    runtime = Runtime(config, serve=not no_serve)
    try:
        runtime.bind()  # a busy port is one line, before the log says anything
        use_site_time(config.site.timezone, announce=False)  # README: stamps are site time
        asyncio.run(run_until_stopped(runtime))
    except ListenError as exc:
        raise click.ClickException(
            f"{exc}; choose a free port with server.port in {config_path} (or stop what listens there)"
        ) from None
    except StartError as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the live site.")
@click.option("--data-dir", default="data/demo", show_default=True, type=click.Path(file_okay=False),
              help="Where the demo keeps its database and config.yaml (wiped at start).")
@click.option("--out", "out_dir", default="site", show_default=True, type=click.Path(file_okay=False),
              help="Where the demo writes the static site.")
@click.option("--like", "like", default="config.yaml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Borrow the contact and the SLA page's texts from this config, when it exists.")
@click.option("--start-at", default=0.0, show_default=True, type=click.FloatRange(0, 299), metavar="SECONDS",
              help="Seconds into the 5-minute script to start at (55: the outage within seconds).")
@access_log_option
def demo(port: int, data_dir: str, out_dir: str, like: Path, start_at: float, access_log: bool) -> None:
    """The whole system on loopback against simulated NPS and CXM endpoints with a scripted outage.

    It writes its config to DATA_DIR/config.yaml and prints the CLI commands that work on its data.
    """
    from statuspage.cli.demo import run_demo
    from statuspage.runner import StartError

    try:
        asyncio.run(run_demo(port=port, data_dir=Path(data_dir), out_dir=Path(out_dir), like=like,
                             access_log=access_log, start_phase=start_at))
    except ListenError as exc:
        raise click.ClickException(f"{exc}; choose another with --port") from None
    except StartError as exc:
        raise click.ClickException(str(exc).replace("check storage.path", "check --data-dir")) from None


def main() -> None:
    """Entry point of the `statuspage` console script."""
    from statuspage.store import StoreUnavailable

    try:
        cli(prog_name="statuspage")
    except StoreUnavailable as exc:
        # Unreachable, wrong password, missing database: one line for the operator, never a traceback.
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None


@cli.command()
@config_option
@click.option("--month", default=None, metavar="YYYY-MM", type=MONTH,
              help="Calendar month (site timezone); default: this one.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def report(config_path: Path, month: str | None, as_json: bool) -> None:
    """SLA report: uptime vs target, coverage, error budget, burn rate, incident SLA compliance."""
    from statuspage.cli.cases import support_json, support_month
    from statuspage.sla.report import build_report, format_report, parse_month
    from statuspage.support.report import format_support

    config = load_or_exit(config_path)
    now = time.time()
    year, mon = parse_month(month, now, config.site.timezone)  # MONTH checked the form
    require_database(config)
    data = asyncio.run(build_report(config, now, year, mon))
    support = asyncio.run(support_month(config, now, f"{year:04d}-{mon:02d}"))
    if as_json:
        click.echo(json.dumps({**data.to_json(), **support_json(support)}, indent=2, ensure_ascii=False))
    else:
        click.echo(format_report(data) + ("" if support is None else "\n\n" + format_support(support)))


@cli.command()
@config_option
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: site.output_dir).")
def render(config_path: Path, out_dir: Path | None) -> None:
    """Write the static site from the database."""
    from statuspage.site.render import render_site
    from statuspage.store import open_store

    config = load_or_exit(config_path)
    require_database(config)

    async def go() -> tuple[int, int, float]:
        store = await open_store(config.storage)
        try:
            result = await render_site(config, store, out_dir)
        finally:
            await store.close()
        return result.written, result.unchanged, result.seconds

    target = out_dir or Path(config.site.output_dir)
    try:
        written, unchanged, seconds = asyncio.run(go())
    except OSError as exc:  # not a folder, not writable, a full disk: one line, not a traceback
        if exc.filename is None:
            raise  # not a file of the site (a connection): StatuspageGroup's to name
        problem = f"cannot write the site into {target}: {exc.strerror or exc}"
        if out_dir is not None:
            raise click.BadParameter(problem, param_hint="'--out'") from None
        raise click.ClickException(f"{problem} (site.output_dir)") from None
    click.echo(f"rendered {target}/: {written} files written, {unchanged} unchanged in {seconds:.2f}s")


cli.add_command(incident)
cli.add_command(maintenance)
cli.add_command(case)
cli.add_command(subscribers)


@cli.command()
@click.option("--from", "source", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The SQLite database to copy (storage.path).")
@click.option("--to", "url", required=True, type=POSTGRES_URL,
              metavar="postgresql://USER:PASSWORD@HOST:PORT/DB",
              help="An empty PostgreSQL database (storage.url).")
def migrate(source: Path, url: str) -> None:
    """Copy a SQLite history (results, runs, states, latency, incidents, maintenance, outbox, support
    cases, subscribers and their mail) into PostgreSQL, all or nothing; a database that already holds a
    history is refused."""
    from statuspage.store import StoreUnavailable
    from statuspage.store.migrate import MigrateError
    from statuspage.store.migrate import migrate as copy_history
    from statuspage.store.postgres import redact_url

    # A source that is not a statuspage database (corrupt, another kind of file) is one line naming it.
    click.get_current_context().meta[DATABASE] = str(source)
    try:
        result = asyncio.run(copy_history(source, url))
    except (MigrateError, StoreUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"copied {source} into {redact_url(url)}: {result.summary()}")
