"""Scale benchmark of `statuspage run`: thousands of HTTP monitors against a local target (issue 7).

Each configuration starts a fresh `python -m statuspage run --config <tmp>/config.yaml` (the real CLI
as a subprocess, server on a free port) whose N HTTP monitors all point at a local aiohttp target
running in its own process. After one full interval of warm-up (monitors start spread over their
first interval) it measures a steady-state window:

- checks/s achieved vs expected, from `statuspage_checks_total` deltas in /metrics;
- schedule lag p50/p99, from `statuspage_schedule_lag_seconds` bucket deltas, interpolated in a bucket;
- CPU time per check, from utime+stime deltas in /proc/<pid>/stat of the statuspage process;
- peak RSS (VmHWM in /proc/<pid>/status) of the process and its render worker;
- start-up: from launching `statuspage run` until every monitor has a committed first result;
- database growth per monitor-day: bytes of db + wal grown over the window, scaled to a day.

/metrics is scraped only at the two ends of a window: at 20,000 monitors the exposition has ~80,000
series and each scrape costs the process a few hundred milliseconds.

The floor is a bare aiohttp request loop (one shared session, paced at each configuration's own rate)
against the same target in a process of its own; CPU per check is reported as a multiple of it, and
split between the probing process and its render worker.

Issue 17's targets: 50,000 monitors @ 30 s (`50k`) with ≥ 95 % of the expected checks, lag p99
≤ 250 ms and ≤ 400 MB peak RSS of the process tree; CPU per check ≤ 1.25 × the floor at 2,000
and 20,000 monitors. `--ramp 30000,40000` finds the largest N that holds the 50k targets.
One configuration runs over HTTPS with a fresh TLS handshake per check (the target answers with
`Connection: close`; the statuspage process trusts the trustme CA through SSL_CERT_FILE).

Storage: raw result bytes per check come from `dbstat` after a live run; what stays for good after
`storage.raw_retention` (state runs and hourly latency aggregates) is measured on a synthetic day
fed through the real `Prober.record` path, a quiet day and a bad one. Pruning: a database pre-filled
with millions of old results is pruned while probing runs, and the lag over that time is reported.

PostgreSQL: `5kpg` runs the 5,000-monitor configuration on a throwaway PostgreSQL 15 cluster (the tests'
tests/pg.py, durable settings) right after the SQLite one, and prints each figure's ratio to the SQLite
row: checks/s, lag p99, CPU per check (statuspage's process tree; the server's own CPU beside it),
peak RSS of the process tree, and database bytes per check (`pg_database_size` growth vs file growth).

Run: `python bench/scale_bench.py [--quick] [--window S] [--only NAME ...]`; `main()` returns the
figures for bench/run_all.py. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DAY = 86400.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGES = ("nps", "cxm")
COMPONENTS_PER_PAGE = 20
WARM_MARGIN_S = 2.0
"""Extra seconds of warm-up after the first full interval."""

# Targets of issue 7, tightened by issue 17 (50,000 monitors in 400 MB; CPU within 1.25 × the floor).
CHECKS_RATIO_MIN = 0.95
LAG_P99_MAX_S = 0.250
CPU_RATIO_MAX = 1.25
RSS_LARGE_MAX_MB = 300.0
RSS_50K_MAX_MB = 400.0
RSS_SMALL_MAX_MB = 200.0
LONG_TERM_MAX_BYTES = 20 * 1024
RETENTION_DAYS = 7.0
"""storage.raw_retention's default, in days."""
UPTIME_KUMA_BYTES = 150 * 1024
"""What Uptime Kuma users report per monitor-day, for comparison."""


# --- scenarios and their figures -----------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One `statuspage run` configuration to measure."""

    name: str
    monitors: int
    interval: float
    window: float
    tls: bool = False
    rss_max_mb: float | None = None
    cpu_target: bool = False
    """Whether the CPU ≤ 1.25 × bare-request target applies (the 2,000- and 20,000-monitor runs)."""
    prune_rows: int = 0
    """Old results written into the database before the start; the window is then the prune itself."""
    postgres: bool = False
    """Store in a throwaway PostgreSQL database instead of the SQLite file."""

    @property
    def rate(self) -> float:
        """Checks per second the schedule asks for."""
        return self.monitors / self.interval

    @property
    def label(self) -> str:
        """`20000 @ 30s http` (`… postgresql` on PostgreSQL)."""
        return (f"{self.monitors} @ {self.interval:g}s {'https' if self.tls else 'http'}"
                + (" postgresql" if self.postgres else ""))


@dataclass
class Sample:
    """What one look at the running process saw."""

    at: float
    checks: dict[str, float]
    lag_buckets: list[tuple[float, float]]
    cpu_s: float
    db_used: int
    scrape_s: float
    server_cpu_s: float = 0.0
    """CPU of the PostgreSQL server's processes (0 with SQLite, whose work is in-process)."""
    main_cpu_s: float = 0.0
    """CPU of the statuspage process alone (the rest of `cpu_s` is its render worker's)."""
    main_wakeups: int = 0
    """Voluntary context switches of the statuspage process's threads so far: how often it slept and
    was woken (at a few checks a second each wake-up of an idle process costs more than the work)."""


@dataclass
class Result:
    """The figures of one scenario over its window."""

    scenario: Scenario
    startup_s: float
    """From launching `statuspage run` until its prober runs."""
    window_s: float
    expected_per_s: float
    achieved_per_s: float
    outcomes: dict[str, float]
    lag_p50_s: float | None
    lag_p99_s: float | None
    cpu_per_check_s: float | None
    peak_rss_mb: float
    db_growth_per_monitor_day: float | None
    db_bytes_per_check: float | None
    raw_bytes_per_check: float | None
    scrape_s: float
    floor_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def checks_ratio(self) -> float:
        """Achieved ÷ expected checks."""
        return self.achieved_per_s / self.expected_per_s if self.expected_per_s else 0.0

    @property
    def cpu_ratio(self) -> float | None:
        """CPU per check ÷ CPU per bare request."""
        if self.cpu_per_check_s is None or not self.floor_s:
            return None
        return self.cpu_per_check_s / self.floor_s

    def verdicts(self) -> dict[str, bool]:
        """Each target that applies to this scenario and whether it held."""
        out = {
            "checks": self.checks_ratio >= CHECKS_RATIO_MIN,
            "lag_p99": self.lag_p99_s is not None and self.lag_p99_s <= LAG_P99_MAX_S,
        }
        if self.scenario.rss_max_mb is not None:
            out["rss"] = self.peak_rss_mb <= self.scenario.rss_max_mb
        if self.scenario.cpu_target:
            out["cpu"] = self.cpu_ratio is not None and self.cpu_ratio <= CPU_RATIO_MAX
        return out

    @property
    def held(self) -> bool:
        """Every applicable target held."""
        return all(self.verdicts().values())

    def to_json(self) -> dict[str, Any]:
        """Plain figures for run_all's summary."""
        return {
            "config": self.scenario.label,
            "monitors": self.scenario.monitors,
            "interval_s": self.scenario.interval,
            "window_s": round(self.window_s, 1),
            "startup_s": round(self.startup_s, 1),
            "all_checked_s": self.extra.get("all_checked_s"),
            "expected_checks_per_s": round(self.expected_per_s, 1),
            "achieved_checks_per_s": round(self.achieved_per_s, 1),
            "checks_ratio": round(self.checks_ratio, 4),
            "outcomes": {k: int(v) for k, v in self.outcomes.items()},
            "lag_p50_ms": _ms(self.lag_p50_s),
            "lag_p99_ms": _ms(self.lag_p99_s),
            "cpu_per_check_us": _round(self.cpu_per_check_s, 1e6),
            "cpu_ratio_to_bare": None if self.cpu_ratio is None else round(self.cpu_ratio, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "db_growth_per_monitor_day_kb": _round(self.db_growth_per_monitor_day, 1 / 1024),
            "db_bytes_per_check": _round(self.db_bytes_per_check),
            "raw_bytes_per_check": _round(self.raw_bytes_per_check),
            "scrape_s": round(self.scrape_s, 3),
            "verdicts": self.verdicts(),
            "held": self.held,
            **self.extra,
        }


def _ms(seconds: float | None) -> float | None:
    return _round(seconds, 1000, 2)


def _round(value: float | None, scale: float = 1.0, digits: int = 1) -> float | None:
    return None if value is None else round(value * scale, digits)


# --- small helpers ---------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def proc_tree(pid: int) -> list[int]:
    """`pid` and its live descendants (statuspage's render worker and multiprocessing's tracker)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        with contextlib.suppress(FileNotFoundError):
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return out


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process (all its threads) in seconds."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5)


def proc_wakeups(pid: int) -> int:
    """Voluntary context switches of every thread of a process (each one a sleep and a wake-up)."""
    total = 0
    with contextlib.suppress(FileNotFoundError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                for line in (task / "status").read_text().splitlines():
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
    return total


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of `pid` and its descendants: work moved to a child process still counts."""
    total = 0.0
    for member in proc_tree(pid):
        with contextlib.suppress(FileNotFoundError):
            total += proc_cpu_s(member)
    return total


def tree_status_kb(pid: int, key: str) -> dict[int, int]:
    """A /proc status figure of `pid` and each descendant."""
    out: dict[int, int] = {}
    for member in proc_tree(pid):
        with contextlib.suppress(FileNotFoundError):
            out[member] = proc_status_kb(member, key)
    return out


def proc_status_kb(pid: int, key: str) -> int:
    """A `kB` figure of /proc/<pid>/status (VmHWM, VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def db_bytes(path: Path) -> int:
    """Bytes of the database file and its WAL."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def db_used_bytes(path: Path) -> int:
    """Bytes of the database in use as a reader sees it (WAL included, free pages not).

    Unlike file sizes this does not jump when a checkpoint copies the WAL into the file.
    """
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        def pragma(name: str) -> int:
            return int(conn.execute(f"PRAGMA {name}").fetchone()[0])

        return (pragma("page_count") - pragma("freelist_count")) * pragma("page_size")
    finally:
        conn.close()


def table_bytes(path: Path) -> dict[str, int]:
    """Allocated bytes of every table and index (SQLite's dbstat)."""
    conn = sqlite3.connect(path)
    try:
        return {str(name): int(size) for name, size in
                conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")}
    finally:
        conn.close()


_CHECKS = re.compile(r'^statuspage_checks_total\{[^}\n]*outcome="(\w+)"[^}\n]*\} (\S+)$', re.M)
_LAG = re.compile(r'^statuspage_schedule_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', re.M)


def parse_metrics(text: str) -> tuple[dict[str, float], list[tuple[float, float]]]:
    """Checks by outcome and the cumulative schedule-lag buckets (le, count) from an exposition."""
    checks: dict[str, float] = {}
    for outcome, value in _CHECKS.findall(text):
        checks[outcome] = checks.get(outcome, 0.0) + float(value)
    buckets = sorted((float(le), float(v)) for le, v in _LAG.findall(text))
    return checks, buckets


Buckets = Sequence[tuple[float, float]]
"""Cumulative histogram buckets as (upper bound, count), +Inf last."""


def histogram_quantile(q: float, buckets: Buckets) -> float | None:
    """The q-quantile of cumulative (le, count) buckets, linear within the bucket (as PromQL does)."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, lower_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return lower  # beyond the last finite bucket: the lower bound is all we know
            if count == lower_count:
                return le
            return lower + (le - lower) * (rank - lower_count) / (count - lower_count)
        lower, lower_count = le, count
    return lower


def bucket_delta(a: Buckets, b: Buckets) -> list[tuple[float, float]]:
    """Bucket counts observed between two scrapes."""
    before = dict(a)
    return [(le, count - before.get(le, 0.0)) for le, count in b]


# --- the target server and the bare request loop (child processes) ---------------------------------


async def serve_target(http_port: int, https_port: int, cert: str, key: str) -> None:
    """Answer every request with `200 ok`: keep-alive on http_port, `Connection: close` over TLS."""
    from aiohttp import web

    async def keep_alive(request: web.BaseRequest) -> web.StreamResponse:
        return web.Response(text="ok")

    async def close(request: web.BaseRequest) -> web.StreamResponse:
        response = web.Response(text="ok")
        response.force_close()  # sends `Connection: close`: every check pays a new handshake
        return response

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    plain = await loop.create_server(web.Server(keep_alive, access_log=None), HOST, http_port, backlog=4096)
    tls = await loop.create_server(web.Server(close, access_log=None), HOST, https_port, ssl=context,
                                   backlog=4096)
    print("READY", flush=True)
    await stop.wait()
    plain.close()
    tls.close()


async def bare_loop(url: str, rate: float, seconds: float) -> dict[str, float]:
    """Requests paced at `rate`/s through one shared aiohttp session; CPU seconds per request."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=500, limit_per_host=20, keepalive_timeout=30.0)
    failures = 0

    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            nonlocal failures
            try:
                async with session.get(url) as response:
                    await response.read()
                    failures += response.status != 200
            except (aiohttp.ClientError, OSError):
                failures += 1

        for _ in range(20):  # warm up: imports, SSL context, first connections
            await one()
        loop = asyncio.get_running_loop()
        count = max(1, int(rate * seconds))
        running: set[asyncio.Task[None]] = set()
        cpu0, t0 = time.process_time(), loop.time()
        for i in range(count):
            delay = t0 + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one())
            running.add(task)
            task.add_done_callback(running.discard)
        await asyncio.gather(*running)
        cpu, elapsed = time.process_time() - cpu0, loop.time() - t0
    return {"requests": count, "failures": failures, "cpu_per_request_s": cpu / count,
            "rate": count / elapsed}


# --- processes -------------------------------------------------------------------------------------


class Child:
    """A child process with its output in a log file; stopped for sure by `stop()`."""

    def __init__(self, args: Sequence[str], log: Path, *, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(list(args), cwd=cwd, env=env, stdout=self._out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.proc.pid

    def output(self) -> str:
        """Everything the process wrote so far."""
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        """Still running."""
        return self.proc.poll() is None

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """Block until `pattern` appears in the output; raise if the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            found = regex.search(self.output())
            if found:
                return found
            if not self.alive():
                raise RuntimeError(f"{self.log.name}: process exited {self.proc.returncode}:\n"
                                   f"{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.log.name}: no {pattern!r} within {timeout:g}s:\n"
                                   f"{self.output()[-3000:]}")
            time.sleep(0.1)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not end in time; return the exit code."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._out.close()
        return self.proc.returncode


def self_command(*args: str) -> list[str]:
    """Run this file as a child with hidden arguments (target server, bare loop)."""
    return [sys.executable, str(Path(__file__).resolve()), *args]


@dataclass
class Bench:
    """The shared parts of one benchmark run: temp dir, TLS material, target server, children."""

    root: Path
    ca_pem: Path
    cert: Path
    key: Path
    source: Path = ROOT
    """Where the `statuspage` package under test is imported from (a patched checkout, for before/after)."""
    http_port: int = 0
    https_port: int = 0
    children: list[Child] = field(default_factory=list)
    pg: Any = None

    def postgres(self) -> Any:
        """The run's PostgreSQL 15 cluster (tests/pg.py's PgCluster, durable settings), started once."""
        if self.pg is None:
            sys.path.insert(0, str(ROOT))
            from tests.pg import PgCluster, pg_missing_reason

            reason = pg_missing_reason()
            if reason:
                raise RuntimeError(reason)
            cluster = PgCluster()
            cluster.init()
            cluster.start(durable=True)
            self.pg = cluster
        return self.pg

    def postgres_cpu_s(self) -> float:
        """CPU seconds of every process of the PostgreSQL server so far."""
        pid_file = Path(self.pg.data) / "postmaster.pid"
        return tree_cpu_s(int(pid_file.read_text().split()[0]))

    def spawn(self, args: Sequence[str], log: str, **kw: Any) -> Child:
        """Start a child that `close()` will stop."""
        child = Child(args, self.root / log, **kw)
        self.children.append(child)
        return child

    def env(self) -> dict[str, str]:
        """The environment of children: the trustme CA is the trust store (checks.py's default context)."""
        env = dict(os.environ)
        env["SSL_CERT_FILE"] = str(self.ca_pem)
        env.pop("SSL_CERT_DIR", None)
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in dict.fromkeys((self.source, ROOT)))
        return env

    def start_target(self) -> Child:
        """The target server in a process of its own."""
        self.http_port, self.https_port = free_port(), free_port()
        child = self.spawn(self_command("--_target", str(self.http_port), str(self.https_port),
                                        str(self.cert), str(self.key)), "target.log", env=self.env())
        child.wait_for("READY", 30)
        return child

    def url(self, tls: bool) -> str:
        """Base URL of the target."""
        return f"{'https' if tls else 'http'}://{HOST}:{self.https_port if tls else self.http_port}"

    def close(self) -> None:
        """Stop every child still running (newest first), then the PostgreSQL cluster if one ran."""
        for child in reversed(self.children):
            with contextlib.suppress(Exception):
                child.stop(15)
        self.children.clear()
        if self.pg is not None:
            self.pg.remove()
            self.pg = None


@contextlib.contextmanager
def bench_context(keep: bool = False, source: Path = ROOT) -> Iterator[Bench]:
    """A temp dir with a trustme CA and a certificate for 127.0.0.1; children stopped on exit."""
    import trustme

    tmp = tempfile.mkdtemp(prefix="scale-bench-")
    root = Path(tmp)
    ca = trustme.CA()
    server_cert = ca.issue_cert(HOST)  # an IP subjectAltName: no name resolution anywhere
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    server_cert.private_key_pem.write_to_path(str(root / "server.key"))
    server_cert.cert_chain_pems[0].write_to_path(str(root / "server.pem"))
    bench = Bench(root, root / "ca.pem", root / "server.pem", root / "server.key", source)
    try:
        yield bench
    finally:
        bench.close()
        if not keep:
            import shutil

            shutil.rmtree(root, ignore_errors=True)


def bracket_floor(bench: Bench, o: Options, scenario: Scenario, result: Result,
                  floors: dict[tuple[bool, float], float]) -> None:
    """Measure the floor again right after `scenario` and give `result` the mean of the floor before
    and after it. This machine's speed drifts by a third within minutes (a shared VM: the bare
    request at 667/s measured 285–408 µs within ten minutes of a quiet evening), so a floor taken
    once at the start made the same code read 1.07× or 1.32×; bracketing each run halves that."""
    key = (scenario.tls, scenario.rate)
    before = floors.get(key)
    if before is None or scenario.prune_rows or result.cpu_per_check_s is None:
        return
    after = measure_floor(bench, scenario.tls, scenario.rate, o.floor_seconds)["cpu_per_request_s"]
    result.floor_s = (before + after) / 2
    result.extra["floor_before_us"] = round(before * 1e6, 1)
    result.extra["floor_after_us"] = round(after * 1e6, 1)
    floors[key] = after  # the next run at this rate starts from the latest figure


def measure_floor(bench: Bench, tls: bool, rate: float, seconds: float) -> dict[str, float]:
    """CPU per bare aiohttp request against the target, paced at `rate`."""
    path = "/bare"
    url = bench.url(tls) + path
    child = bench.spawn(self_command("--_bare", url, str(rate), str(seconds)),
                        f"bare-{'https' if tls else 'http'}.log", env=bench.env())
    child.proc.wait(seconds * 3 + 60)
    child.stop()
    lines = [ln for ln in child.output().splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"bare loop failed:\n{child.output()[-3000:]}")
    figures: dict[str, float] = json.loads(lines[-1])
    return figures


# --- one statuspage run ----------------------------------------------------------------------------


def write_config(path: Path, bench: Bench, scenario: Scenario, port: int,
                 storage: dict[str, Any]) -> None:
    """N monitors over 2 pages × 20 components, all at the target (JSON, which YAML reads)."""
    base = bench.url(scenario.tls)
    per_component = math.ceil(scenario.monitors / (len(PAGES) * COMPONENTS_PER_PAGE))
    n = 0
    pages = []
    for page in PAGES:
        components = []
        for c in range(COMPONENTS_PER_PAGE):
            monitors = []
            while len(monitors) < per_component and n < scenario.monitors:
                monitors.append({"name": f"m{n:05d}", "url": f"{base}/m/{n}"})
                n += 1
            if monitors:
                components.append({"slug": f"c{c:02d}", "name": f"Componente {c:02d}", "monitors": monitors})
        pages.append({"slug": page, "name": page.upper(), "components": components})
    where = {} if "url" in storage else {"path": str(path.parent / "statuspage.db")}
    config = {
        "site": {"title": "Scale bench", "output_dir": str(path.parent / "site")},
        "storage": {**where, **storage},
        "server": {"host": HOST, "port": port},
        "defaults": {"interval": f"{scenario.interval:g}s", "timeout": "10s"},
        "pages": pages,
    }
    path.write_text(json.dumps(config))


def monitor_keys(scenario: Scenario) -> list[str]:
    """The monitor keys of `write_config`, in config order (the order their ids are given in)."""
    per_component = math.ceil(scenario.monitors / (len(PAGES) * COMPONENTS_PER_PAGE))
    keys = []
    for n in range(scenario.monitors):
        page, comp = divmod(n // per_component, COMPONENTS_PER_PAGE)
        keys.append(f"{PAGES[page]}/c{comp:02d}/m{n:05d}")
    return keys


def prefill(db: Path, scenario: Scenario, retention_s: float) -> float:
    """Create the schema and write `prune_rows` results older than the retention; return seconds taken."""
    from statuspage.store.sqlite import SQLiteStore

    started = time.perf_counter()

    async def schema() -> None:
        store = await SQLiteStore.open(db)
        await store.register_monitors(monitor_keys(scenario))
        await store.close()

    asyncio.run(schema())
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA cache_size = -262144")
        conn.execute("BEGIN")
        oldest = time.time() - retention_s - 2 * DAY
        step = DAY / scenario.prune_rows  # one day of history, in time order
        n = scenario.monitors
        conn.executemany(
            "INSERT INTO results (monitor_id, at, outcome, latency_ms, status, error, message) "
            "VALUES (?, ?, 'up', ?, 200, NULL, 'HTTP 200')",
            ((i % n + 1, oldest + i * step, 1.0 + i % 97) for i in range(scenario.prune_rows)),
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return time.perf_counter() - started


class Statuspage:
    """`python -m statuspage run` on a scenario's config, with samples of /metrics and /proc."""

    def __init__(self, bench: Bench, scenario: Scenario, storage: dict[str, Any] | None = None) -> None:
        self.bench = bench
        self.scenario = scenario
        self.dir = bench.root / scenario.name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config = self.dir / "config.yaml"
        self.db = self.dir / "statuspage.db"
        self.port = free_port()
        self.pg: Any = None
        storage = dict(storage or {})
        if scenario.postgres:
            self.pg = bench.postgres()
            self.pg_db = self.pg.create_database()
            storage["url"] = self.pg.url(self.pg_db)
        write_config(self.config, bench, scenario, self.port, storage)
        self.child: Child | None = None

    def db_size(self) -> int:
        """Bytes the database holds now: the file's used pages, or `pg_database_size`."""
        if self.pg is not None:
            return int(self.pg.psql(f"SELECT pg_database_size('{self.pg_db}')"))
        return db_used_bytes(self.db)

    def results_count(self) -> int:
        """Raw results stored."""
        if self.pg is not None:
            return int(self.pg.psql("SELECT COUNT(*) FROM results", self.pg_db))
        with contextlib.closing(sqlite3.connect(self.db)) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def start(self) -> float:
        """Start the process; return when the prober runs (monotonic time of that moment)."""
        self.child = self.bench.spawn(
            [sys.executable, "-m", "statuspage", "--log-level", "info", "run", "--config", str(self.config)],
            f"{self.scenario.name}/statuspage.log", cwd=self.dir, env=self.bench.env(),
        )
        self.child.wait_for(r"probing \d+ monitors|prober started", 600)
        started = time.monotonic()
        self.child.wait_for(r"serving (?:host=|http)", 120)
        return started

    def checked_monitors(self) -> int:
        """How many monitors have a stored confirmation state (written with their first check's
        result): read from the database, as a /metrics scrape at 50,000 monitors is 16 MB of text
        whose building would weigh on the very start-up being measured."""
        if self.pg is not None:
            return int(self.pg.psql("SELECT COUNT(*) FROM monitor_state", self.pg_db))
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM monitor_state").fetchone()[0])

    @property
    def pid(self) -> int:
        """The statuspage process id."""
        assert self.child is not None
        return self.child.pid

    def sample(self) -> Sample:
        """Scrape /metrics and read CPU and database size."""
        started = time.monotonic()
        with urllib.request.urlopen(f"http://{HOST}:{self.port}/metrics", timeout=120) as response:
            text = response.read().decode()
        scrape_s = time.monotonic() - started
        checks, buckets = parse_metrics(text)
        return Sample(time.monotonic(), checks, buckets, tree_cpu_s(self.pid), self.db_size(), scrape_s,
                      self.bench.postgres_cpu_s() if self.pg is not None else 0.0, proc_cpu_s(self.pid),
                      proc_wakeups(self.pid))

    def sleep_until(self, deadline: float) -> None:
        """Sleep, watching that the process stays up."""
        assert self.child is not None
        while (left := deadline - time.monotonic()) > 0:
            if not self.child.alive():
                raise RuntimeError(f"statuspage exited:\n{self.child.output()[-3000:]}")
            time.sleep(min(left, 0.5))

    def stop(self) -> None:
        """SIGTERM and wait; complain when the exit was not clean."""
        assert self.child is not None
        code = self.child.stop(60)
        if code != 0:
            print(f"  warning: statuspage exited {code}; log {self.child.log}", file=sys.stderr)


def run_scenario(bench: Bench, scenario: Scenario, floor_s: float | None) -> Result:
    """Start statuspage for `scenario`, warm up one interval, measure the window, stop it."""
    storage: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if scenario.prune_rows:
        # The first prune starts right after the warm-up, so the window covers it.
        storage = {"raw_retention": f"{RETENTION_DAYS:g}d",
                   "prune_every": f"{scenario.interval + WARM_MARGIN_S + 1:g}s"}
    sp = Statuspage(bench, scenario, storage)
    if scenario.prune_rows:
        extra["prefill_s"] = round(prefill(sp.db, scenario, RETENTION_DAYS * DAY), 1)
        extra["prefill_rows"] = scenario.prune_rows
        extra["prefill_db_mb"] = round(db_bytes(sp.db) / 1e6, 1)
    launched = time.monotonic()
    try:
        started = sp.start()
        if not scenario.prune_rows:
            # Start-up as a user sees it: from `statuspage run` until every monitor was checked once
            # (its first result committed; polled every 2 s within the warm-up only).
            while time.monotonic() < started + 3 * scenario.interval:
                if sp.checked_monitors() >= scenario.monitors:
                    extra["all_checked_s"] = round(time.monotonic() - launched, 1)
                    break
                sp.sleep_until(time.monotonic() + 2.0)
        sp.sleep_until(max(time.monotonic(), started + scenario.interval + WARM_MARGIN_S))
        first = sp.sample()
        if scenario.prune_rows:
            assert sp.child is not None
            found = sp.child.wait_for(r"pruned results=(\d+)", 900)
            extra["pruned_rows"] = int(found.group(1))
            extra["prune_s"] = round(time.monotonic() - first.at - 1.0, 1)
        else:
            sp.sleep_until(first.at + scenario.window)
        last = sp.sample()
        # Peaks of the main process and its children (the render worker) added up: an upper bound
        # of what the installation needs, since the peaks need not coincide.
        peaks = tree_status_kb(sp.pid, "VmHWM")
        peak_rss_mb = sum(peaks.values()) / 1024
        extra["rss_main_peak_mb"] = round(peaks.get(sp.pid, 0) / 1024, 1)
        extra["rss_children_peak_mb"] = sorted(round(v / 1024, 1) for k, v in peaks.items() if k != sp.pid)
        extra["rss_end_mb"] = round(sum(tree_status_kb(sp.pid, "VmRSS").values()) / 1024, 1)
    finally:
        if sp.child is not None:
            sp.stop()
    window = last.at - first.at
    outcomes = {k: v - first.checks.get(k, 0.0) for k, v in last.checks.items()}
    checks = sum(outcomes.values())
    if checks:
        # Where the CPU per check goes: the probing process, and its render worker.
        main_us = (last.main_cpu_s - first.main_cpu_s) / checks * 1e6
        extra["cpu_main_per_check_us"] = round(main_us, 1)
        extra["cpu_worker_per_check_us"] = round((last.cpu_s - first.cpu_s) / checks * 1e6 - main_us, 1)
        extra["wakeups_main_per_check"] = round((last.main_wakeups - first.main_wakeups) / checks, 2)
    lag = bucket_delta(first.lag_buckets, last.lag_buckets)
    growth = last.db_used - first.db_used
    monitor_days = scenario.monitors * window / DAY
    raw_per_check = None
    if scenario.postgres:
        if checks:
            server_s = last.server_cpu_s - first.server_cpu_s
            extra["server_cpu_per_check_us"] = round(server_s / checks * 1e6, 1)
        extra["results_stored"] = sp.results_count()
    try:
        if scenario.postgres:
            raise sqlite3.Error("PostgreSQL: see db_bytes_per_check")
        tables = table_bytes(sp.db)
        with contextlib.closing(sqlite3.connect(sp.db)) as conn:
            rows = int(conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])
        raw = sum(v for k, v in tables.items() if k.startswith("results"))
        if rows and not scenario.prune_rows:
            raw_per_check = raw / rows
    except sqlite3.Error as exc:  # the figure is a bonus; the run itself counts
        if not scenario.postgres:
            print(f"  warning: dbstat failed: {exc}", file=sys.stderr)
    return Result(
        scenario=scenario,
        startup_s=started - launched,
        window_s=window,
        expected_per_s=scenario.rate,
        achieved_per_s=checks / window if window > 0 else 0.0,
        outcomes=outcomes,
        lag_p50_s=histogram_quantile(0.50, lag),
        lag_p99_s=histogram_quantile(0.99, lag),
        cpu_per_check_s=(last.cpu_s - first.cpu_s) / checks if checks else None,
        peak_rss_mb=peak_rss_mb,
        db_growth_per_monitor_day=growth / monitor_days if monitor_days and not scenario.prune_rows else None,
        db_bytes_per_check=growth / checks if checks and not scenario.prune_rows else None,
        raw_bytes_per_check=raw_per_check,
        scrape_s=max(first.scrape_s, last.scrape_s),
        floor_s=floor_s,
        extra=extra,
    )


# --- storage: a synthetic day through the real record path ------------------------------------------


async def storage_day(root: Path, monitors: int, bad: bool, seed: int = 11) -> dict[str, float]:
    """Feed one day of 30 s checks per monitor through `Prober.record`; measure what stays after pruning.

    A bad day has, per monitor, 6 single failed checks (never confirmed), 2 confirmed outages of 5 min
    and 2 degraded stretches of 15 min; a quiet day is all up. Latencies vary (log-normal, median 80 ms)
    so the hourly aggregates fill the buckets they would in practice.
    """
    from statuspage.config import parse_config
    from statuspage.models import CheckResult, Outcome
    from statuspage.probe.checks import Checker
    from statuspage.probe.scheduler import Prober
    from statuspage.store.sqlite import SQLiteStore

    rng = random.Random(seed)
    interval = 30.0
    checks_per_day = int(DAY / interval)
    db = root / f"day-{'bad' if bad else 'quiet'}.db"
    config = parse_config({
        "storage": {"path": str(db)},
        "defaults": {"interval": "30s"},
        "pages": [{"slug": "nps", "name": "NPS", "components": [{"slug": "app", "name": "App", "monitors": [
            {"name": f"m{i:05d}", "url": f"http://{HOST}:9/m/{i}"} for i in range(monitors)]}]}],
    }, env={})
    keys = [m.key for _, _, m in config.monitors()]
    plans: dict[str, dict[int, Outcome]] = {}
    for key in keys:
        plan: dict[int, Outcome] = {}
        if bad:
            for _ in range(6):
                plan[rng.randrange(checks_per_day)] = "down"
            for length, state in ((10, "down"), (10, "down"), (30, "degraded"), (30, "degraded")):
                start = rng.randrange(checks_per_day - length)
                plan.update(dict.fromkeys(range(start, start + length), state))
        plans[key] = plan
    store = await SQLiteStore.open(db)
    try:
        prober = Prober(config, store, Checker())  # the checker is never called: record() is fed
        await prober.load()
        day_start = (time.time() // 3600) * 3600 - DAY
        for tick in range(checks_per_day):
            for i, key in enumerate(keys):
                at = day_start + tick * interval + i * interval / monitors
                outcome = plans[key].get(tick, "up")
                latency = rng.lognormvariate(math.log(80.0), 0.5) * (8 if outcome == "degraded" else 1)
                if outcome == "down":
                    result = CheckResult(key, at, "down", None, None, "connect", "connection refused")
                else:
                    result = CheckResult(key, at, outcome, latency, 200, None, "HTTP 200")
                prober.record(result)
            if tick % 16 == 0:
                await store.flush()
        await store.flush()
        results = await store.count_results()
    finally:
        await store.close()
    before = table_bytes(db)
    store = await SQLiteStore.open(db)
    try:
        pruned = await store.prune_results(day_start + DAY + 3600)
    finally:
        await store.close()
    after = table_bytes(db)
    raw = sum(v for k, v in before.items() if k.startswith("results"))
    long_term = sum(v for k, v in after.items() if k.startswith(("state_runs", "latency_hourly")))
    per_monitor = sum(v for k, v in after.items() if k.startswith(("monitor", "sqlite_autoindex_monitors")))
    with contextlib.closing(sqlite3.connect(db)) as conn:
        runs = int(conn.execute("SELECT COUNT(*) FROM state_runs").fetchone()[0])
        hours = int(conn.execute("SELECT COUNT(*) FROM latency_hourly").fetchone()[0])
    return {
        "monitors": monitors,
        "checks": results,
        "pruned": pruned,
        "raw_bytes_per_check": raw / results,
        "raw_bytes_per_monitor_day": raw / monitors,
        "long_term_bytes_per_monitor_day": long_term / monitors,
        "state_runs_per_monitor_day": runs / monitors,
        "latency_hours_per_monitor_day": hours / monitors,
        "fixed_bytes_per_monitor": per_monitor / monitors,
    }


# --- the whole benchmark ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """Command-line settings."""

    window: float
    ramp_window: float
    ramp: tuple[int, ...]
    tls_monitors: int
    prune_monitors: int
    prune_rows: int
    floor_seconds: float
    day_monitors: int
    only: tuple[str, ...]
    keep: bool
    source: Path


def parse_options(argv: Sequence[str] | None) -> Options:
    """Parse the command line; `--quick` shortens every window for a smoke run."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="~20 s windows, small ramp and backlog (smoke run)")
    p.add_argument("--window", type=float, help="steady-state window per configuration, s (default 120)")
    p.add_argument("--ramp-window", type=float, help="window of each ramp step, s (default 60)")
    p.add_argument("--ramp", help="monitor counts of a ramp, comma-separated (default none; e.g. "
                                  "60000,70000 for the largest N holding the 50,000-monitor targets)")
    p.add_argument("--tls-monitors", type=int, default=5000, help="monitors of the HTTPS run (default 5000)")
    p.add_argument("--prune-monitors", type=int, default=5000, help="monitors probing while pruning")
    p.add_argument("--prune-rows", type=int, help="old results to prune (default 3,000,000)")
    p.add_argument("--day-monitors", type=int, help="monitors of the synthetic storage day (default 100)")
    p.add_argument("--only", default="",
                   help="comma-separated subset: floor,2k,5k,5kpg,20k,50k,2k10,tls,prune,ramp,day")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, databases)")
    p.add_argument("--source", type=Path, default=ROOT,
                   help="directory holding the statuspage package to run (default: this checkout)")
    a = p.parse_args(argv)
    quick = a.quick
    # 50,000 is a configuration of its own (issue 17); the ramp finds the largest N when asked.
    ramp_text = a.ramp if a.ramp is not None else "none"
    ramp = () if ramp_text in ("", "none") else tuple(int(x) for x in ramp_text.split(","))
    return Options(
        window=a.window or (20.0 if quick else 120.0),
        ramp_window=a.ramp_window or (20.0 if quick else 60.0),
        ramp=ramp,
        tls_monitors=a.tls_monitors,
        prune_monitors=a.prune_monitors,
        prune_rows=a.prune_rows or (500_000 if quick else 3_000_000),
        floor_seconds=5.0 if quick else 10.0,
        day_monitors=a.day_monitors or (20 if quick else 100),
        only=tuple(x for x in a.only.split(",") if x),
        keep=a.keep,
        source=a.source.resolve(),
    )


def scenarios(o: Options) -> dict[str, Scenario]:
    """The configurations of issue 7 by short name."""
    return {
        "2k": Scenario("http-2000-30s", 2000, 30.0, o.window, cpu_target=True),
        "5k": Scenario("http-5000-30s", 5000, 30.0, o.window, rss_max_mb=RSS_SMALL_MAX_MB),
        "5kpg": Scenario("pg-http-5000-30s", 5000, 30.0, o.window, rss_max_mb=RSS_SMALL_MAX_MB,
                         postgres=True),
        "20k": Scenario("http-20000-30s", 20000, 30.0, o.window, rss_max_mb=RSS_LARGE_MAX_MB,
                        cpu_target=True),
        "50k": Scenario("http-50000-30s", 50000, 30.0, o.window, rss_max_mb=RSS_50K_MAX_MB),
        "2k10": Scenario("http-2000-10s", 2000, 10.0, o.window, rss_max_mb=RSS_SMALL_MAX_MB),
        "tls": Scenario(f"https-{o.tls_monitors}-30s", o.tls_monitors, 30.0, o.window, tls=True),
        "prune": Scenario(f"prune-{o.prune_monitors}-30s", o.prune_monitors, 30.0, o.window,
                          prune_rows=o.prune_rows),
    }


def run(o: Options) -> dict[str, Any]:
    """Every measurement; prints progress and returns the figures."""
    wanted: Callable[[str], bool] = lambda name: not o.only or name in o.only  # noqa: E731
    table = scenarios(o)
    out: dict[str, Any] = {"cores": os.cpu_count(), "results": {}, "ramp": []}
    with bench_context(o.keep, o.source) as bench:
        if o.source != ROOT:
            print(f"statuspage from {o.source}")
        if o.keep:
            print(f"logs and databases in {bench.root}")
        bench.start_target()
        # The floor of each configuration is a bare request paced at that configuration's own rate.
        floors: dict[tuple[bool, float], float] = {}
        for name, scenario in table.items():
            if not (wanted(name) or (name in ("20k", "tls") and wanted("floor"))) or scenario.prune_rows:
                continue
            key = (scenario.tls, scenario.rate)
            if key in floors:
                continue
            figures = measure_floor(bench, scenario.tls, scenario.rate, o.floor_seconds)
            floors[key] = figures["cpu_per_request_s"]
            out.setdefault("floors", []).append({"tls": scenario.tls, **figures})
            if scenario.name == table["20k"].name or scenario.tls:
                out[f"floor_{'https' if scenario.tls else 'http'}"] = figures
            how = "https, new TLS connection" if scenario.tls else "http, keep-alive"
            print(f"bare aiohttp request ({how}) "
                  f"at {figures['rate']:.0f}/s: {figures['cpu_per_request_s'] * 1e6:.0f} µs CPU "
                  f"({int(figures['failures'])} failures)", flush=True)
        for name, scenario in table.items():
            if not wanted(name):
                continue
            print(f"running {scenario.label}"
                  + (f" with {scenario.prune_rows:,} old results to prune" if scenario.prune_rows else "")
                  + f" (warm-up {scenario.interval:g}s, window "
                  + ("until the prune ends" if scenario.prune_rows else f"{scenario.window:g}s") + ") ...",
                  flush=True)
            result = run_scenario(bench, scenario, floors.get((scenario.tls, scenario.rate)))
            bracket_floor(bench, o, scenario, result, floors)
            out["results"][name] = result
            print("  " + summary_line(result), flush=True)
            if name == "5kpg" and "5k" in out["results"]:
                out["postgres_vs_sqlite"] = postgres_ratios(out["results"]["5k"], result)
                print("  " + ratio_line(out["postgres_vs_sqlite"]), flush=True)
        if wanted("ramp") and o.ramp:
            first = out["results"].get("20k")
            held = first.scenario.monitors if first is not None and first.held else None
            for n in o.ramp:
                scenario = Scenario(f"ramp-{n}-30s", n, 30.0, o.ramp_window, rss_max_mb=RSS_50K_MAX_MB)
                print(f"ramp: running {scenario.label} (window {scenario.window:g}s) ...", flush=True)
                result = run_scenario(bench, scenario, floors.get((False, scenario.rate)))
                out["ramp"].append(result)
                print("  " + summary_line(result), flush=True)
                if not result.held:
                    break
                held = n
            out["ramp_largest_held"] = held
        if wanted("day"):
            print(f"storage: a synthetic day of {o.day_monitors} monitors at 30 s, quiet and bad ...",
                  flush=True)
            out["day_quiet"] = asyncio.run(storage_day(bench.root, o.day_monitors, bad=False))
            out["day_bad"] = asyncio.run(storage_day(bench.root, o.day_monitors, bad=True))
    return out


def postgres_ratios(lite: Result, pg: Result) -> dict[str, float | None]:
    """Each figure of the PostgreSQL row divided by the SQLite row's (same run, same machine)."""

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or not b else round(a / b, 2)

    pg_cpu = pg.cpu_per_check_s
    server = pg.extra.get("server_cpu_per_check_us")
    with_server = None if pg_cpu is None or server is None else pg_cpu + server / 1e6
    return {
        "checks_per_s": ratio(pg.achieved_per_s, lite.achieved_per_s),
        "lag_p99": ratio(pg.lag_p99_s, lite.lag_p99_s),
        "cpu_per_check": ratio(pg_cpu, lite.cpu_per_check_s),
        "cpu_per_check_with_server": ratio(with_server, lite.cpu_per_check_s),
        "peak_rss": ratio(pg.peak_rss_mb, lite.peak_rss_mb),
        "db_bytes_per_check": ratio(pg.db_bytes_per_check, lite.db_bytes_per_check),
    }


def ratio_line(r: dict[str, float | None]) -> str:
    """The PostgreSQL ÷ SQLite ratios in one line."""
    def f(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.2f}×"

    return (f"PostgreSQL ÷ SQLite: checks/s {f(r['checks_per_s'])}, lag p99 {f(r['lag_p99'])}, CPU/check "
            f"{f(r['cpu_per_check'])} ({f(r['cpu_per_check_with_server'])} with the server's), peak RSS "
            f"{f(r['peak_rss'])}, database bytes/check {f(r['db_bytes_per_check'])}")


def summary_line(r: Result) -> str:
    """One line of a result, for progress output."""
    ratio = r.cpu_ratio
    return (f"{r.achieved_per_s:.1f}/{r.expected_per_s:.1f} checks/s ({r.checks_ratio:.1%}), "
            f"lag p50 {_fmt_ms(r.lag_p50_s)} p99 {_fmt_ms(r.lag_p99_s)}, "
            f"CPU/check {_fmt_us(r.cpu_per_check_s)}" + (f" ({ratio:.2f}× bare)" if ratio else "")
            + (f" (bare {r.extra['floor_before_us']} µs before, {r.extra['floor_after_us']} after)"
               if "floor_after_us" in r.extra else "")
            + f" (main {r.extra.get('cpu_main_per_check_us')} µs, "
            f"worker {r.extra.get('cpu_worker_per_check_us')} µs, "
            f"{r.extra.get('wakeups_main_per_check')} wake-ups of the main process per check)"
            + f", peak RSS {r.peak_rss_mb:.0f} MB (main {r.extra.get('rss_main_peak_mb')}, children "
            f"{r.extra.get('rss_children_peak_mb')}), /metrics scrape {r.scrape_s:.2f}s, "
            f"startup {r.startup_s:.1f}s, every monitor checked once after {r.extra.get('all_checked_s')}s, "
            f"outcomes {json.dumps({k: int(v) for k, v in r.outcomes.items()})}")


def _fmt_ms(s: float | None) -> str:
    if s is None:
        return "n/a"
    return f"{s * 1000:.1f} ms" if s < 10 else f"≥ {s:.0f} s"


def _fmt_us(s: float | None) -> str:
    return "n/a" if s is None else f"{s * 1e6:.0f} µs"


def _fmt_kb(b: float | None) -> str:
    return "n/a" if b is None else f"{b / 1024:,.1f} KB"


def _met(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "NOT MET")


def report(figures: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """The table rows: configuration, figure, value, target, met / not met."""
    rows: list[tuple[str, str, str, str, str]] = []
    results: list[Result] = list(figures["results"].values()) + list(figures.get("ramp", []))
    for r in results:
        s = r.scenario
        label = s.label + (" (ramp)" if s.name.startswith("ramp") else "")
        if s.prune_rows:
            label += " + prune"
        v = r.verdicts()
        rows.append((label, "checks/s achieved / expected",
                     f"{r.achieved_per_s:.1f} / {r.expected_per_s:.1f} ({r.checks_ratio:.1%})",
                     f"≥ {CHECKS_RATIO_MIN:.0%}", _met(v["checks"])))
        rows.append(("", "schedule lag p50", _fmt_ms(r.lag_p50_s), "", ""))
        rows.append(("", "schedule lag p99", _fmt_ms(r.lag_p99_s), f"≤ {LAG_P99_MAX_S * 1000:.0f} ms",
                     _met(v["lag_p99"])))
        cpu = _fmt_us(r.cpu_per_check_s)
        if r.cpu_ratio is not None:
            cpu += f" = {r.cpu_ratio:.1f} × bare {'https' if s.tls else 'http'} ({_fmt_us(r.floor_s)})"
        rows.append(("", "CPU per check", cpu, f"≤ {CPU_RATIO_MAX:g} × bare" if s.cpu_target else "",
                     _met(v.get("cpu"))))
        rows.append(("", "peak RSS (VmHWM)", f"{r.peak_rss_mb:.0f} MB",
                     f"≤ {s.rss_max_mb:.0f} MB" if s.rss_max_mb else "", _met(v.get("rss"))))
        if s.prune_rows:
            rows.append(("", "prune of old results", f"{r.extra.get('pruned_rows', 0):,} rows in "
                         f"{r.extra.get('prune_s', 0):.1f} s", "probing unaffected",
                         _met(v["lag_p99"] and v["checks"])))
        else:
            rows.append(("", "DB growth per monitor-day (raw)", _fmt_kb(r.db_growth_per_monitor_day), "", ""))
            if r.db_bytes_per_check is not None:
                rows.append(("", "database bytes per check", f"{r.db_bytes_per_check:.0f} B", "", ""))
        if s.postgres and "server_cpu_per_check_us" in r.extra:
            server = f"{r.extra['server_cpu_per_check_us']:.0f} µs"
            rows.append(("", "PostgreSQL server CPU per check", server, "", ""))
        if r.raw_bytes_per_check:
            rows.append(("", "raw result bytes per check", f"{r.raw_bytes_per_check:.0f} B", "", ""))
    for name in ("day_quiet", "day_bad"):
        day = figures.get(name)
        if not day:
            continue
        label = f"storage: {'quiet' if name == 'day_quiet' else 'bad'} day"
        rows.append((label, "raw result bytes per check", f"{day['raw_bytes_per_check']:.0f} B", "", ""))
        rows.append(("", "raw per monitor-day (until pruned)", _fmt_kb(day["raw_bytes_per_monitor_day"]),
                     "", ""))
        rows.append(("", "kept for good per monitor-day", _fmt_kb(day["long_term_bytes_per_monitor_day"]),
                     f"≤ {LONG_TERM_MAX_BYTES / 1024:.0f} KB",
                     _met(day["long_term_bytes_per_monitor_day"] <= LONG_TERM_MAX_BYTES)))
        rows.append(("", "state runs + latency hours per day",
                     f"{day['state_runs_per_monitor_day']:.1f} + {day['latency_hours_per_monitor_day']:.0f}",
                     "", ""))
    ratios = figures.get("postgres_vs_sqlite")
    if ratios:
        names = (("checks_per_s", "checks/s"), ("lag_p99", "lag p99"), ("cpu_per_check", "CPU per check"),
                 ("cpu_per_check_with_server", "CPU per check + server"), ("peak_rss", "peak RSS"),
                 ("db_bytes_per_check", "database bytes per check"))
        for key, name in names:
            value = ratios.get(key)
            rows.append(("PostgreSQL ÷ SQLite (5000 @ 30s)" if key == "checks_per_s" else "", name,
                         "n/a" if value is None else f"{value:.2f}×", "", ""))
    if "ramp_largest_held" in figures:
        held = figures["ramp_largest_held"]
        tried = [r.scenario.monitors for r in figures["ramp"]]
        rows.append(("ramp @ 30s http", "largest N holding the targets",
                     "none" if held is None else f"{held:,}", f"tried {', '.join(f'{n:,}' for n in tried)}",
                     ""))
    return rows


def print_table(figures: dict[str, Any]) -> None:
    """Print the table of figures, targets and verdicts."""
    rows = [("configuration", "figure", "value", "target", "result"), *report(figures)]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    print(f"\nscale benchmark on {figures['cores']} cores (os.cpu_count())")
    for http in ("http", "https"):
        floor = figures.get(f"floor_{http}")
        if floor:
            how = "https, a new TLS connection each" if http == "https" else "http, keep-alive"
            print(f"bare aiohttp request floor ({how}): "
                  f"{floor['cpu_per_request_s'] * 1e6:.0f} µs CPU at {floor['rate']:.0f} requests/s")
    line = "  ".join("-" * w for w in widths)
    print(line)
    for i, row in enumerate(rows):
        if i > 1 and row[0]:
            print(line)
        print("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)).rstrip())
        if i == 0:
            print(line)
    print(line)
    for name in ("day_quiet", "day_bad"):
        day = figures.get(name)
        if day:
            print(f"{name.replace('day_', '')} day: {day['monitors']} monitors × 2,880 checks fed through "
                  f"Prober.record, then pruned; kept for good = state_runs + latency_hourly pages (dbstat); "
                  f"the raw rows of the last {RETENTION_DAYS:g} days add "
                  f"{_fmt_kb(day['raw_bytes_per_monitor_day'] * RETENTION_DAYS)} per monitor "
                  f"(Uptime Kuma users report ~{UPTIME_KUMA_BYTES / 1024:.0f} KB per monitor-day, kept)")
    for r in figures["results"].values():
        if r.scenario.prune_rows:
            print(f"prune run: {r.extra.get('prefill_rows', 0):,} results older than the retention written "
                  f"first ({r.extra.get('prefill_db_mb', 0):.0f} MB database), prune_every just after the "
                  f"warm-up; the window is the prune itself")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print its table and return its figures (JSON-able)."""
    options = parse_options(argv)
    started = time.monotonic()
    figures = run(options)
    print_table(figures)
    elapsed = time.monotonic() - started
    print(f"scale benchmark took {elapsed / 60:.1f} min")
    plain = {k: v for k, v in figures.items() if k not in ("results", "ramp")}
    plain["results"] = {k: r.to_json() for k, r in figures["results"].items()}
    plain["ramp"] = [r.to_json() for r in figures["ramp"]]
    plain["elapsed_s"] = round(elapsed, 1)
    return plain


def _child_main(argv: Sequence[str]) -> None:
    if argv[0] == "--_target":
        asyncio.run(serve_target(int(argv[1]), int(argv[2]), argv[3], argv[4]))
    elif argv[0] == "--_bare":
        print(json.dumps(asyncio.run(bare_loop(argv[1], float(argv[2]), float(argv[3])))), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("--_target", "--_bare"):
        _child_main(sys.argv[1:])
    else:
        main()
