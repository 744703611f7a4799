"""Load config.yaml: interpolate `${VAR}` / `${VAR:-default}`, parse durations, apply defaults, validate.

Every problem becomes one line naming the key path and the bad value, e.g.
`pages[0].components[1].monitors[0].interval: "3x" is not a duration`, and all of them are
reported at once (`ConfigError.problems`).
"""

from __future__ import annotations

import json
import os
import re
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from statuspage.durations import parse_duration
from statuspage.models import component_key, monitor_key


class ConfigError(Exception):
    """The config cannot be used; `problems` holds one line per problem, each naming its key path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --- scalar types ------------------------------------------------------------------------------


def _duration(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{_show(value)} is not a duration")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"{_show(value)} is not a duration (negative)")
        return float(value)
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            raise ValueError(f"{_show(value)} is not a duration (use 500ms, 30s, 15m, 4h, 1d)") from None
    raise ValueError(f"{_show(value)} is not a duration")


Duration = Annotated[float, BeforeValidator(_duration)]
"""Seconds, written in the config as `500ms`, `30s`, `15m`, `4h`, `1d` (or a plain number of seconds)."""

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def _slug(value: Any) -> str:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise ValueError(f"{_show(value)} is not a slug (lowercase letters, digits, - and _)")
    return value


Slug = Annotated[str, BeforeValidator(_slug)]


def _http_url(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not a URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{_show(value)} is not an http(s) URL")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"{_show(value)} has a bad port") from None
    return value


HttpUrl = Annotated[str, BeforeValidator(_http_url)]


def _status_codes(value: Any) -> tuple[int, ...]:
    """Accept `[200, 204]`, `200`, `"200-399"` or a list mixing codes and ranges."""
    items = value if isinstance(value, list) else [value]
    codes: set[int] = set()
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599:
            codes.add(item)
            continue
        if isinstance(item, str):
            m = re.fullmatch(r"\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?", item)
            if m:
                lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
                if 100 <= lo <= hi <= 599:
                    codes.update(range(lo, hi + 1))
                    continue
        raise ValueError(f"{_show(item)} is not an HTTP status code or range like 200-399")
    if not codes:
        raise ValueError("needs at least one status code")
    return tuple(sorted(codes))


StatusCodes = Annotated[tuple[int, ...], BeforeValidator(_status_codes)]


def _show(value: Any) -> str:
    """Show a bad value the way the user wrote it."""
    if isinstance(value, str):
        return _quote(value if len(value) <= 200 else value[:197] + "...")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- sections ----------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Contact(_Model):
    """Support contacts shown on every page."""

    email: str = "suporte@track.co"
    phone: str = "(11) 4858-9924"


class Site(_Model):
    """The public site: title, locale, timezone and where it is written."""

    title: str = "Track Status"
    base_url: str = ""
    locale: Literal["pt-BR", "en"] = "pt-BR"
    timezone: str = "America/Sao_Paulo"
    output_dir: str = "site"
    contact: Contact = Contact()

    @model_validator(mode="after")
    def _known_timezone(self) -> Site:
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {_show(self.timezone)} is not a known IANA timezone") from None
        return self


class Storage(_Model):
    """Where the database lives (a SQLite `path`, or a PostgreSQL `url`) and how long raw results are kept."""

    path: str = "data/statuspage.db"
    url: str | None = None
    """`postgresql://user:password@host:5432/db`: PostgreSQL instead of the SQLite file (a secret: the
    password is never shown)."""
    raw_retention: Duration = Field(default=7 * 86400.0, gt=0)
    prune_every: Duration = Field(default=3600.0, gt=0)

    @model_validator(mode="after")
    def _one_backend(self) -> Storage:
        if self.url is None:
            return self
        problems: list[str] = []
        if "path" in self.model_fields_set:
            problems.append("path, url: both are set; use path for SQLite or url for PostgreSQL, not both")
        try:
            parts = urlsplit(self.url)
            ok = parts.scheme in ("postgresql", "postgres") and bool(parts.hostname or parts.query)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            ok = False
        if not ok:
            # Never echo the value: it carries the password.
            problems.append("url: is not a postgresql://user:password@host:5432/database URL")
        if problems:
            raise _Problems(problems)
        return self

    @property
    def shared(self) -> bool:
        """True when the database is PostgreSQL, which several instances may share."""
        return self.url is not None

    @property
    def where(self) -> str:
        """The database for messages: the file path, or the URL without its password."""
        if self.url is None:
            return self.path
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        host = parts.netloc.rpartition("@")[2]
        return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()


class Cluster(_Model):
    """How several `statuspage run` instances on one PostgreSQL share the work (ignored with SQLite).

    A dead instance's monitors move after at most `lease_ttl` + `renew_every`; a dead leader is
    replaced within `renew_every` (its lock goes with its connection) and one cut off from the
    database within about 12 s (TCP keepalives) + `renew_every`."""

    lease_ttl: Duration = Field(default=10.0, gt=0)
    renew_every: Duration = Field(default=2.0, gt=0)
    poll_every: Duration = Field(default=1.0, gt=0)
    """How often the leader re-reads monitor states and every instance the admin writes (NOTIFY wakes
    them sooner)."""
    shards: int = Field(default=64, ge=1, le=4096)
    instance: str = ""
    """A name for this instance in logs and the database (default: host-pid)."""

    @model_validator(mode="after")
    def _renew_within_ttl(self) -> Cluster:
        if self.renew_every * 2 > self.lease_ttl:
            raise _Problems([f"renew_every: {self.renew_every:g}s must be at most half of lease_ttl "
                             f"({self.lease_ttl:g}s), or a slow renewal loses the lease"])
        return self


class Server(_Model):
    """The live HTTP server of `statuspage run`."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    render_every: Duration = Field(default=60.0, gt=0)


class SeverityTimes(_Model):
    """Mean and limit resolution times of one SLA severity class."""

    mean: Duration
    limit: Duration


SeverityName = Literal["T1", "T2", "T3", "T4"]


def _default_severities() -> dict[SeverityName, SeverityTimes]:
    h, d = 3600.0, 86400.0
    return {
        "T1": SeverityTimes(mean=1 * h, limit=4 * h),
        "T2": SeverityTimes(mean=8 * h, limit=1 * d),
        "T3": SeverityTimes(mean=2 * d, limit=5 * d),
        "T4": SeverityTimes(mean=3 * d, limit=7 * d),
    }


class SupportChannel(_Model):
    """A support channel's promised and published first-response times."""

    name: str
    first_response: Duration
    average: Duration | None = None


def _default_support() -> list[SupportChannel]:
    return [
        SupportChannel(name="chat", first_response=240.0, average=180.0),
        SupportChannel(name="whatsapp", first_response=240.0, average=180.0),
        SupportChannel(name="email", first_response=86400.0, average=6 * 3600.0),
        SupportChannel(name="phone", first_response=86400.0, average=3600.0),
    ]


class Sla(_Model):
    """The SLA being enforced: uptime target and the T1–T4 resolution times."""

    uptime_target: float = Field(default=99.5, gt=0, lt=100)
    partial_outage_weight: float = Field(default=0.3, ge=0, le=1)
    severities: dict[SeverityName, SeverityTimes] = Field(
        default_factory=_default_severities
    )
    support: list[SupportChannel] = Field(default_factory=_default_support)
    triage_average: Duration = 48 * 3600.0

    @model_validator(mode="after")
    def _all_severities(self) -> Sla:
        missing = [s for s in ("T1", "T2", "T3", "T4") if s not in self.severities]
        if missing:
            raise ValueError(f"severities is missing {', '.join(missing)}")
        return self

    @property
    def target_ratio(self) -> float:
        """The uptime target as a ratio (0.995)."""
        return self.uptime_target / 100.0


class Defaults(_Model):
    """Values every monitor takes unless it sets its own."""

    interval: Duration = Field(default=30.0, ge=1.0)
    timeout: Duration = Field(default=10.0, gt=0)
    confirm_down: int = Field(default=2, ge=1, le=100)
    confirm_up: int = Field(default=2, ge=1, le=100)
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    cert_warn_days: int = Field(default=14, ge=0)


class Incidents(_Model):
    """The automatic incident policy."""

    auto_severity: Literal["T1", "T2", "T3", "T4"] = "T1"
    auto_resolve_after: Duration = 900.0
    remind_unacknowledged_after: Duration = 1800.0


class Webhook(_Model):
    """A receiver of incident notifications, signed with HMAC-SHA256 when `secret` is set."""

    url: HttpUrl
    secret: str = ""
    timeout: Duration = Field(default=10.0, gt=0)
    retries: int = Field(default=5, ge=0, le=20)


class Email(_Model):
    """SMTP delivery of incident notifications."""

    host: str
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    username: str = ""
    password: str = ""
    sender: str = Field(default="status@track.co", alias="from")
    to: list[str] = Field(min_length=1)
    timeout: Duration = Field(default=10.0, gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Notifications(_Model):
    """Where incident notifications go."""

    webhooks: list[Webhook] = []
    email: Email | None = None


class Admin(_Model):
    """An engineer allowed to use the admin API, identified by a bearer token."""

    name: str = Field(min_length=1, max_length=80)
    token: str = Field(min_length=16)


class Scheduler(_Model):
    """Limits of the prober."""

    max_concurrency: int = Field(default=500, ge=1)
    http_connections: int = Field(default=500, ge=1)


class Monitor(_Model):
    """One check: `http` (url), `tcp` (host, port) or `push` (token; a heartbeat must arrive in time)."""

    name: Slug
    type: Literal["http", "tcp", "push"] = "http"
    url: HttpUrl | None = None
    method: Literal["GET", "HEAD", "POST", "PUT", "OPTIONS"] = "GET"
    headers: dict[str, str] = {}
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    token: str | None = Field(default=None, min_length=8, pattern=r"^[A-Za-z0-9_-]+$")
    grace: Duration | None = None
    interval: Duration | None = Field(default=None, ge=1.0)
    timeout: Duration | None = Field(default=None, gt=0)
    expect_status: StatusCodes = tuple(range(200, 400))
    body_contains: str | None = None
    degraded_after: Duration | None = Field(default=None, gt=0)
    max_body_bytes: int | None = Field(default=None, gt=0)
    cert_warn_days: int | None = Field(default=None, ge=0)
    confirm_down: int | None = Field(default=None, ge=1, le=100)
    confirm_up: int | None = Field(default=None, ge=1, le=100)
    # Filled in from the page/component when the whole config is validated.
    key: str = ""

    @model_validator(mode="after")
    def _fields_for_type(self) -> Monitor:
        if self.type == "http" and not self.url:
            raise ValueError("an http monitor needs url")
        if self.type == "tcp" and (not self.host or not self.port):
            raise ValueError("a tcp monitor needs host and port")
        if self.type == "push" and not self.token:
            raise ValueError("a push monitor needs token")
        return self

    # After validation every optional field below is resolved from `defaults`.
    @property
    def interval_s(self) -> float:
        """Seconds between checks."""
        assert self.interval is not None
        return self.interval

    @property
    def timeout_s(self) -> float:
        """Seconds a check may take."""
        assert self.timeout is not None
        return self.timeout


class Component(_Model):
    """A part of a product shown on its status page, with the monitors that decide its status."""

    slug: Slug
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    monitors: list[Monitor] = Field(min_length=1)


class Page(_Model):
    """One product's public status page."""

    slug: Slug
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    url: str = ""
    components: list[Component] = Field(min_length=1)


class Config(_Model):
    """The whole validated configuration (frozen)."""

    site: Site = Site()
    storage: Storage = Storage()
    server: Server = Server()
    sla: Sla = Sla()
    defaults: Defaults = Defaults()
    incidents: Incidents = Incidents()
    notifications: Notifications = Notifications()
    scheduler: Scheduler = Scheduler()
    cluster: Cluster = Cluster()
    admins: list[Admin] = []
    pages: list[Page] = Field(min_length=1)

    @model_validator(mode="after")
    def _resolve_and_check(self) -> Config:
        problems: list[str] = []
        _dupes(problems, "pages", [p.slug for p in self.pages])
        _dupes(problems, "admins", [a.name for a in self.admins], what="name")
        tokens: dict[str, str] = {}
        for pi, page in enumerate(self.pages):
            _dupes(problems, f"pages[{pi}].components", [c.slug for c in page.components])
            for ci, comp in enumerate(page.components):
                _dupes(problems, f"pages[{pi}].components[{ci}].monitors", [m.name for m in comp.monitors],
                       what="name")
                for mi, mon in enumerate(comp.monitors):
                    resolved = mon.model_copy(update=self._monitor_defaults(mon, page.slug, comp.slug))
                    comp.monitors[mi] = resolved
                    if mon.token:
                        path = f"pages[{pi}].components[{ci}].monitors[{mi}].token"
                        if mon.token in tokens:
                            problems.append(f"{path}: the same push token is used by {tokens[mon.token]}")
                        tokens[mon.token] = resolved.key
        admin_tokens = [a.token for a in self.admins]
        if len(set(admin_tokens)) != len(admin_tokens):
            problems.append("admins: two admins share one token; each engineer needs their own")
        if problems:
            raise _Problems(problems)
        return self

    def _monitor_defaults(self, mon: Monitor, page: str, comp: str) -> dict[str, Any]:
        d = self.defaults
        return {
            "key": monitor_key(page, comp, mon.name),
            "interval": mon.interval if mon.interval is not None else d.interval,
            "timeout": mon.timeout if mon.timeout is not None else d.timeout,
            "confirm_down": mon.confirm_down or d.confirm_down,
            "confirm_up": mon.confirm_up or d.confirm_up,
            "max_body_bytes": mon.max_body_bytes or d.max_body_bytes,
            "cert_warn_days": mon.cert_warn_days if mon.cert_warn_days is not None else d.cert_warn_days,
            "grace": mon.grace if mon.grace is not None else (
                mon.interval if mon.interval is not None else d.interval),
        }

    # --- lookups used across the program ---------------------------------------------------------

    def monitors(self) -> list[tuple[Page, Component, Monitor]]:
        """Every monitor with its page and component, in config order."""
        return [(p, c, m) for p in self.pages for c in p.components for m in c.monitors]

    def page(self, slug: str) -> Page | None:
        """The page with this slug, or None."""
        return next((p for p in self.pages if p.slug == slug), None)

    def component_keys(self) -> list[str]:
        """Every `page/component` key in config order."""
        return [component_key(p.slug, c.slug) for p in self.pages for c in p.components]


class _Problems(ValueError):
    """Raised inside validation to report several already-formatted problems at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _dupes(problems: list[str], path: str, names: list[str], what: str = "slug") -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            problems.append(f"{path}[{i}].{what}: {_show(name)} is used twice")
        seen.add(name)


# --- loading -----------------------------------------------------------------------------------

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(value: Any, env: Mapping[str, str], path: str, problems: list[str]) -> Any:
    """Replace `${VAR}` and `${VAR:-default}` in every string of `value`; missing vars become problems."""
    if isinstance(value, dict):
        return {k: interpolate(v, env, _join(path, str(k)), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env and env[name] != "":
            return env[name]
        if default is not None:
            return default
        problems.append(f"{path}: environment variable {name} is not set (in {_show(value)})")
        return ""

    return _VAR.sub(repl, value)


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _quote(text: str) -> str:
    """A string in double quotes with control characters and line breaks escaped (one line)."""
    quoted = json.dumps(text, ensure_ascii=False)
    for char, escaped in _LINE_BREAKS.items():
        quoted = quoted.replace(char, escaped)
    return quoted


def _join(path: str, key: str) -> str:
    # A key with spaces, dots or control characters is shown quoted and escaped, so the path
    # stays one readable line.
    if not _PLAIN_KEY.match(key):
        return f"{path}[{_quote(key)}]"
    return f"{path}.{key}" if path else key


def _loc_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or str(part).startswith("function-"):
            continue
        else:
            out = _join(out, str(part))
    return out


def _lookup(data: Any, loc: tuple[int | str, ...]) -> tuple[bool, Any]:
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            cur = cur[part]
        else:
            return False, None
    return True, cur


def _format_error(err: Any, data: Any) -> list[str]:
    loc: tuple[int | str, ...] = tuple(err["loc"])
    path = _loc_path(loc) or "(top level)"
    kind = err["type"]
    ctx = err.get("ctx") or {}
    inner = ctx.get("error")
    if isinstance(inner, _Problems):
        base = _loc_path(loc)
        return [p if not base else f"{base}.{p}" for p in inner.problems]
    found, value = _lookup(data, loc)
    msg = str(err["msg"])
    if kind == "extra_forbidden":
        return [f"{path}: unknown key (value {_show(value)})"]
    if kind == "missing":
        return [f"{path}: is required"]
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        if text.startswith('"') or text.startswith(_show(value)):
            return [f"{path}: {text}"]
        if not found or isinstance(value, dict | list):
            return [f"{path}: {text}"]
        return [f"{path}: {_show(value)}: {text}"]
    shown = _show(value) if found else "(missing)"
    return [f"{path}: {shown} {_lower_first(msg)}"]


def _lower_first(msg: str) -> str:
    friendly = {
        "Input should be a valid integer": "is not a whole number",
        "Input should be a valid number": "is not a number",
        "Input should be a valid string": "is not text",
        "Input should be a valid boolean": "is not true or false",
        "Input should be a valid list": "is not a list",
        "Input should be a valid dictionary": "is not a mapping",
    }
    for prefix, text in friendly.items():
        if msg.startswith(prefix):
            return text
    return ("is invalid: " + msg[:1].lower() + msg[1:]) if msg else "is invalid"


def parse_config(data: Any, env: Mapping[str, str] | None = None) -> Config:
    """Validate already-parsed YAML data; raise ConfigError listing every problem with its key path."""
    if data is None:
        raise ConfigError(["(top level): the config is empty; it needs at least `pages`"])
    if not isinstance(data, dict):
        raise ConfigError([f"(top level): the config must be a mapping of sections, not {_show(data)}"])
    problems: list[str] = []
    data = interpolate(data, os.environ if env is None else env, "", problems)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            for line in _format_error(err, data):
                if line not in problems:
                    problems.append(line)
        raise ConfigError(problems) from None
    except _Problems as exc:  # pragma: no cover - pydantic wraps these, kept for safety
        raise ConfigError(problems + exc.problems) from None
    if problems:
        raise ConfigError(problems)
    return config


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, interpolate and validate a config file; raise ConfigError with every problem found."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{p}: no such config file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{p}: cannot read the config: {exc}"]) from None
    return load_config_text(text, env, source=str(p))


def load_config_text(text: str, env: Mapping[str, str] | None = None, source: str = "config") -> Config:
    """Parse and validate config YAML given as text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([f"{source}: not valid YAML{where}: {problem}"]) from None
    except RecursionError:
        raise ConfigError([f"{source}: not valid YAML: nested too deeply"]) from None
    return parse_config(data, env)


def component_of(config: Config, key: str) -> tuple[Page, Component] | None:
    """The page and component for a `page/component` key."""
    page_slug, _, comp_slug = key.partition("/")
    page = config.page(page_slug)
    if page is None:
        return None
    comp = next((c for c in page.components if c.slug == comp_slug), None)
    return (page, comp) if comp else None


__all__ = ["Config", "ConfigError", "component_key", "load_config", "load_config_text", "parse_config"]
