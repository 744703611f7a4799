"""Load config.yaml: interpolate environment variables, parse durations, apply defaults, validate.

Every problem becomes one line naming the key path and the bad value, e.g.
`pages[0].components[1].monitors[0].interval: "3x" is not a duration`, and all of them are
reported at once (`ConfigError.problems`). The value of a secret field (tokens, passwords,
secrets; see `statuspage.redaction`) is never shown, and URLs are shown without credentials.
Environment references follow POSIX shells and docker compose: see `interpolate`.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import zoneinfo
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from statuspage.durations import format_duration, parse_duration
from statuspage.models import component_key, monitor_key
from statuspage.redaction import HIDDEN, is_secret_path, quiet_url_loggers, redact_database_url, redact_value


class ConfigError(Exception):
    """The config cannot be used; `problems` holds one line per problem, each naming its key path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --- scalar types ------------------------------------------------------------------------------


MAX_DURATION = 3650 * 86400.0
"""Ten years: the longest duration any key accepts (a deadline or a schedule further out is a typo,
and past it times stop being showable)."""


def _duration(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{_show(value)} is not a duration")
    if isinstance(value, int | float):
        if value != value or value < 0:  # NaN compares false with everything
            raise ValueError(f"{_show(value)} is not a duration (negative or not a number)")
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except ValueError:
            raise ValueError(f"{_show(value)} is not a duration (use 500ms, 30s, 15m, 4h, 1d)") from None
    else:
        raise ValueError(f"{_show(value)} is not a duration")
    if not seconds <= MAX_DURATION:
        days = f"{MAX_DURATION / 86400:.0f} days"
        raise ValueError(f"{_show(value)} is longer than {days}, the most a duration may be")
    return seconds


Duration = Annotated[float, BeforeValidator(_duration)]
MAX_BYTES = 1 << 30
"""1 GiB: the largest byte count any key accepts."""
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


def _mailbox(value: Any) -> str:
    """One RFC 5322 mailbox, `status@example.com` or `Status <status@example.com>` (parsed by the
    standard library's header parser: a value it finds any defect in is refused)."""
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not an e-mail address")
    from email.headerregistry import HeaderRegistry

    text = value.strip()
    try:
        header = HeaderRegistry()("From", text)
        addresses = header.addresses  # type: ignore[attr-defined]  # an AddressHeader
        ok = not header.defects and len(addresses) == 1
        ok = ok and bool(addresses[0].username and addresses[0].domain)
    except (ValueError, IndexError, TypeError):  # the parser raises on some malformed input ("a@")
        ok = False
    if not ok or not text.isprintable():
        raise ValueError(f"{_show(value)} is not an e-mail address (like status@example.com or "
                         "\"Status <status@example.com>\")")
    return text


Mailbox = Annotated[str, BeforeValidator(_mailbox)]
"""An RFC 5322 mailbox: `status@example.com` or `Status <status@example.com>`."""


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


def _show_at(path: str, value: Any) -> str:
    """Show a value found at key path `path`: hidden for secret keys, URLs without their credentials."""
    shown = redact_value(path, value)
    return HIDDEN if shown is HIDDEN else _show(shown)


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


TEXT_LOCALES = ("pt-BR", "en")


def _localized(value: Any) -> str | dict[str, str]:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("is empty")
        return value.strip()
    if isinstance(value, dict) and value:
        out: dict[str, str] = {}
        for key, text in value.items():
            if key not in TEXT_LOCALES:
                raise ValueError(f"{_show(key)} is not a locale (use {' or '.join(TEXT_LOCALES)})")
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"the {key} text is not text or is empty")
            out[key] = text.strip()
        return out
    raise ValueError(f"{_show(value)} is not text (a string, or {{pt-BR: …, en: …}})")


LocalizedText = Annotated[str | dict[str, str], BeforeValidator(_localized)]
"""Text shown on the site: one string, or one per locale (`{pt-BR: "…", en: "…"}`)."""


def text_for(text: str | dict[str, str] | None, locale: str) -> str:
    """The text of a LocalizedText in `locale`: its own translation, else the first one given."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(locale) or next(iter(text.values()), "")


class Contact(_Model):
    """How visitors reach support, shown on every page when set (nothing is shown by default)."""

    email: str = ""
    phone: str = ""
    url: str = ""
    """A support page or chat, http(s)."""

    @model_validator(mode="after")
    def _web_url(self) -> Contact:
        if self.url:
            _http_url(self.url)
        return self

    @property
    def is_set(self) -> bool:
        """True when at least one way to reach support is configured."""
        return bool(self.email or self.phone or self.url)


SiteLocale = Literal["pt-BR", "en"]


class Site(_Model):
    """The public site: title, locales, timezone and where it is written.

    `locales` lists every language of the site, the default first (served at `/`, the others under
    `/<lang>/`); `locale` is the default. Writing only `locale` is a one-locale `locales`.
    """

    title: str = "Status"
    base_url: str = ""
    locale: SiteLocale = "pt-BR"
    locales: tuple[SiteLocale, ...] = ("pt-BR",)
    timezone: str = "America/Sao_Paulo"
    output_dir: str = "site"
    contact: Contact = Contact()

    @model_validator(mode="before")
    @classmethod
    def _default_locale(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        locales = data.get("locales")
        if locales is None:
            locale = data.get("locale", "pt-BR")
            # Derived from `locale`: a bad locale is reported once, under its own key, not again here.
            return {**data, "locales": [locale if locale in ("pt-BR", "en") else "pt-BR"]}
        if isinstance(locales, list):
            if not locales:
                raise ValueError("locales is empty: list the site's locales, the default first")
            if "locale" in data and data["locale"] != locales[0]:
                raise ValueError(f"locale {_show(data['locale'])} must be the first of locales (the default, "
                                 f"served at /), or left out")
            if locales[0] in ("pt-BR", "en"):
                return {**data, "locale": locales[0]}
        return data

    @model_validator(mode="after")
    def _distinct_locales(self) -> Site:
        if len(set(self.locales)) != len(self.locales):
            raise ValueError(f"locales lists a locale twice: {', '.join(self.locales)}")
        return self

    @model_validator(mode="after")
    def _known_timezone(self) -> Site:
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {_show(self.timezone)} is not a known IANA timezone") from None
        return self


def is_postgres_url(url: str) -> bool:
    """True when `url` is a usable `postgresql://` URL (a host or query; a port within 0–65535)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
        return parts.scheme in ("postgresql", "postgres") and bool(parts.hostname or parts.query)
    except ValueError:
        return False


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
        if not is_postgres_url(self.url):
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
        return self.path if self.url is None else redact_database_url(self.url)


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


_FRAME_SOURCE = re.compile(r"^(?:'self'|'none'|https?://(?:\*\.)?[A-Za-z0-9.-]+(?::\d{1,5})?)$")


def _frame_ancestors(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not _FRAME_SOURCE.match(item.strip()):
            raise ValueError(f"{_show(item)} is not a frame source (use 'self', 'none' or an origin like "
                             "https://intranet.example)")
        out.append(item.strip())
    if not out or ("'none'" in out and len(out) > 1):
        raise ValueError("needs 'none' alone, or one or more of 'self' and origins")
    return tuple(out)


class Server(_Model):
    """The live HTTP server of `statuspage run`."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=64 * 1024, gt=0, le=MAX_BYTES)
    render_every: Duration = Field(default=60.0, gt=0)
    access_log: bool = False
    """One log line per HTTP request (off by default: the output tells the operator's story)."""
    max_connections: int = Field(default=2000, ge=16, le=1_000_000)
    """Connections held at once (also kept below the open-file limit, leaving the probes theirs)."""
    idle_timeout: Duration = Field(default=15.0, gt=0)
    """Time a connection gets to send a request's headers, and to stay open between requests."""
    request_timeout: Duration = Field(default=60.0, gt=0)
    """Time one request may keep its connection busy (e.g. a client that never reads the answer)."""
    push_rate_limit: float = Field(default=20.0, ge=0, le=1_000_000)
    """Heartbeats a second one client address may send (bursts of five seconds' worth); 0 turns it off."""
    auth_failure_limit: int = Field(default=10, ge=0, le=1_000_000)
    """Failed authentications a minute one client address may make before it gets 429; 0 turns it off."""
    frame_ancestors: Annotated[tuple[str, ...], BeforeValidator(_frame_ancestors)] = ("'self'",)
    """Who may show the public pages in a frame (CSP `frame-ancestors`): by default only the site
    itself, so no other site can overlay them (clickjacking); badges are images and need no framing."""


class SeverityTimes(_Model):
    """Mean and limit resolution times of one SLA severity class, and how the SLA page describes it."""

    mean: Duration
    limit: Duration
    description: LocalizedText | None = None
    """What problems of this class are (default: a generic sentence)."""
    example: LocalizedText | None = None
    """An example from the SLA (the column is shown when any class has one)."""


SeverityName = Literal["T1", "T2", "T3", "T4"]


def _default_severities() -> dict[SeverityName, SeverityTimes]:
    h, d = 3600.0, 86400.0
    return {
        "T1": SeverityTimes(mean=1 * h, limit=4 * h),
        "T2": SeverityTimes(mean=8 * h, limit=1 * d),
        "T3": SeverityTimes(mean=2 * d, limit=5 * d),
        "T4": SeverityTimes(mean=3 * d, limit=7 * d),
    }


class SlaPolicy(_Model):
    """The SLA page's own words (each text a string or `{pt-BR: …, en: …}`); nothing by default."""

    intro: LocalizedText | None = None
    """The paragraph under the SLA page's title (default: a generic sentence)."""
    outcomes: list[LocalizedText] = []
    """How a support case can be closed (the section is shown when there are any)."""


class Sla(_Model):
    """The SLA being enforced: uptime target and the T1–T4 resolution times."""

    uptime_target: float = Field(default=99.5, gt=0, lt=100)
    partial_outage_weight: float = Field(default=0.3, ge=0, le=1)
    severities: dict[SeverityName, SeverityTimes] = Field(
        default_factory=_default_severities
    )

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        return moved_support_keys(data)
    policy: SlaPolicy = SlaPolicy()

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


# --- support SLA (statuspage.support) ----------------------------------------------------------------

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

WeeklyHours = tuple[tuple[tuple[int, int], ...], ...]
"""Seven tuples (Monday first) of open intervals in minutes after local midnight, [start, end)."""


def _day_keys(spec: str) -> list[int]:
    """`mon`, `mon-fri`, `sat,sun` → weekday numbers (Monday = 0)."""
    out: list[int] = []
    for part in spec.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise ValueError(f"{_show(spec)} is not a day or range of days like mon, mon-fri or sat,sun")
        a, b = _DAYS.index(first), _DAYS.index(last or first)
        if b < a:
            raise ValueError(f"{_show(spec)} runs backwards; write days Monday first, like mon-fri")
        out += range(a, b + 1)
    return out


def _minutes(spec: str, day: str) -> tuple[int, int]:
    m = _RANGE.match(spec) if isinstance(spec, str) else None
    if not m:
        raise ValueError(f"{day}: {_show(spec)} is not a time range like 08:00-18:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or end <= start:
        raise ValueError(f"{day}: {_show(spec)} is not a time range within one day (00:00-24:00)")
    return start, end


def _weekly_hours(value: Any) -> WeeklyHours | None:
    """`{mon-fri: "08:00-18:00", sat: ["09:00-12:00"]}` → `WeeklyHours`; null means around the clock."""
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise ValueError("must map days to hours, like {mon-fri: \"08:00-18:00\"}")
    days: list[list[tuple[int, int]]] = [[] for _ in _DAYS]
    for spec, hours in value.items():
        ranges = hours if isinstance(hours, list) else [hours]
        for day in _day_keys(str(spec)):
            days[day] += [_minutes(r, str(spec)) for r in ranges]
    merged: list[tuple[tuple[int, int], ...]] = []
    for intervals in days:
        out: list[tuple[int, int]] = []
        for start, end in sorted(intervals):
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        merged.append(tuple(out))
    return tuple(merged)


def _ratio(value: Any) -> float:
    """`0.75`, `75%` or `"75 %"` → 0.75."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100.0
        except ValueError:
            raise ValueError(f"{_show(value)} is not a percentage like 75%") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"{_show(value)} is not a share like 0.75 or 75%")


class SupportChannel(_Model):
    """A support channel's promise: first response within `first_response` (the limit), a published
    `average`, and optional weekly `business_hours` in the site timezone (absent: around the clock)."""

    first_response: Duration = Field(gt=0)
    average: Duration | None = Field(default=None, gt=0)
    business_hours: Annotated[WeeklyHours | None, BeforeValidator(_weekly_hours)] = None


class SupportHolidays(_Model):
    """Days the business-hours clocks stop: a country's (and subdivision's) public holidays from the
    `holidays` library, plus extra `dates` (YYYY-MM-DD)."""

    country: str | None = None
    subdivision: str | None = None
    dates: list[date] = []

    @model_validator(mode="after")
    def _known_country(self) -> SupportHolidays:
        if self.country is None:
            if self.subdivision is not None:
                raise ValueError("subdivision needs country")
            return self
        import holidays  # imported here: only configs with holidays pay for it

        known = holidays.list_supported_countries()
        if self.country not in known:
            raise ValueError(f"country {_show(self.country)} is not a country code the holidays library "
                             "knows (ISO 3166-1 alpha-2, like BR)")
        if self.subdivision is not None and self.subdivision not in known[self.country]:
            raise ValueError(f"subdivision {_show(self.subdivision)} is not one of {self.country}'s "
                             f"({', '.join(known[self.country][:30])})")
        return self


ChannelName = Literal["chat", "whatsapp", "email", "phone"]


class ChatwootInbox(_Model):
    """What a Chatwoot inbox stands for, when its channel type does not say (an API inbox for WhatsApp)."""

    channel: ChannelName | None = None
    page: Slug | None = None


class Chatwoot(_Model):
    """The Chatwoot webhook: its shared secret (`?token=` in the webhook URL, or a bearer token) and
    how inboxes map to channels and pages."""

    secret: str = Field(min_length=16)
    channel_types: dict[str, ChannelName] = {}
    """Chatwoot channel types beyond the built-in ones (WebWidget → chat, Whatsapp → whatsapp, Email →
    email), e.g. `Channel::Api: whatsapp`."""
    inboxes: dict[int, ChatwootInbox] = {}


class Support(_Model):
    """Support SLA: per-channel first-response targets, triage average, resolution clock, holidays,
    alert lead, helpdesk webhook. Severity limits come from `sla.severities`."""

    channels: dict[str, SupportChannel] = Field(min_length=1)
    triage_average: Duration | None = Field(default=None, gt=0)
    resolution_clock: Literal["calendar", "business"] = "calendar"
    """`calendar`: triage and resolution run around the clock (minus waiting on the customer);
    `business`: they follow the case's channel business hours."""
    holidays: SupportHolidays = SupportHolidays()
    alert_lead: Annotated[float, BeforeValidator(_ratio)] = Field(default=0.75, gt=0, lt=1)
    chatwoot: Chatwoot | None = None

    @model_validator(mode="after")
    def _known_channels(self) -> Support:
        names = ("chat", "whatsapp", "email", "phone")
        unknown = [c for c in self.channels if c not in names]
        if unknown:
            raise ValueError(f"channels: {_show(unknown[0])} is not a channel (use {', '.join(names)})")
        return self


def moved_support_keys(data: Any) -> Any:
    """Refuse the keys that moved from `sla:` to `support:` with a line that says where they went."""
    if not isinstance(data, dict):
        return data
    moved = []
    if "support" in data:
        moved.append("support: moved to support.channels.<chat|whatsapp|email|phone>: "
                     "{first_response, average, business_hours}")
    if "triage_average" in data:
        moved.append("triage_average: moved to support.triage_average")
    if moved:
        raise _Problems(moved)
    return data


def support_problems(config: Config) -> list[str]:
    """Cross-section checks of `support` (inbox pages must exist)."""
    support = config.support
    if support is None or support.chatwoot is None:
        return []
    slugs = {p.slug for p in config.pages}
    return [f"support.chatwoot.inboxes.{inbox}.page: {_show(i.page)} is not a page"
            for inbox, i in support.chatwoot.inboxes.items() if i.page is not None and i.page not in slugs]


def subscription_problems(config: Config) -> list[str]:
    """Cross-section checks of `subscriptions`: mail needs a relay and absolute links."""
    subs = config.subscriptions
    if subs is None:
        return []
    out = []
    if subs.smtp is None and config.notifications.email is None:
        out.append("subscriptions.smtp: is required (or notifications.email, whose server is then used)")
    if not (subs.endpoint or config.site.base_url):
        out.append("subscriptions.endpoint: is required when site.base_url is not set (the address the "
                   "subscribe form posts to and the links in the mail lead to)")
    return out


def subscription_endpoint(config: Config) -> str:
    """The live server's public address for subscriptions, without a trailing slash ("" when off)."""
    subs = config.subscriptions
    if subs is None:
        return ""
    return (subs.endpoint or config.site.base_url).rstrip("/")


class Defaults(_Model):
    """Values every monitor takes unless it sets its own."""

    interval: Duration = Field(default=30.0, ge=1.0)
    timeout: Duration = Field(default=10.0, gt=0)
    confirm_down: int = Field(default=2, ge=1, le=100)
    confirm_up: int = Field(default=2, ge=1, le=100)
    max_body_bytes: int = Field(default=64 * 1024, gt=0, le=MAX_BYTES)
    cert_warn_days: int = Field(default=14, ge=0, le=3650)
    follow_redirects: bool = True
    max_redirects: int = Field(default=10, ge=0, le=50)


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
    sender: Mailbox = Field(default="statuspage@localhost", alias="from")
    to: list[Mailbox] = Field(min_length=1)
    timeout: Duration = Field(default=10.0, gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


INCIDENT_EVENTS = ("incident.created", "incident.acknowledged", "incident.updated", "incident.resolved",
                   "incident.reminder")
CASE_EVENTS = ("case.first_response.warning", "case.first_response.breached", "case.resolution.warning",
               "case.resolution.breached")
MAINTENANCE_EVENTS = ("maintenance.scheduled", "maintenance.started", "maintenance.ended",
                      "maintenance.cancelled")
"""Every event a notification destination can take (webhooks and e-mail: incidents and cases)."""


def _apprise_url(value: Any) -> str:
    # The whole URL is a secret (slack://TokenA/TokenB/…): a problem names its scheme, never the rest.
    if not isinstance(value, str) or not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://\S", value.strip()):
        raise ValueError("(hidden) is not an apprise URL like slack://…, tgram://…, json://host/path")
    url = value.strip()
    import apprise  # imported here: only configs with apprise targets pay for it

    quiet_url_loggers(secret_url=url)  # apprise logs the URLs it loads, and their tokens alone
    if apprise.Apprise.instantiate(url) is None:
        scheme = url.split("://", 1)[0].lower()
        raise ValueError(f"(hidden) is not a URL apprise can send to (scheme {_show(scheme)}; see "
                         "https://github.com/caronc/apprise/wiki)")
    return url


class Apprise(_Model):
    """An engineers' channel through apprise (Slack, Teams, Telegram, Discord, ntfy, PagerDuty, …).
    The URL holds the channel's secrets: it is never shown in errors or logs."""

    url: Annotated[str, BeforeValidator(_apprise_url)]
    events: tuple[str, ...] = INCIDENT_EVENTS + CASE_EVENTS
    retries: int = Field(default=5, ge=0, le=20)

    @model_validator(mode="after")
    def _known_events(self) -> Apprise:
        known = INCIDENT_EVENTS + CASE_EVENTS + MAINTENANCE_EVENTS
        for event in self.events:
            if event not in known:
                raise ValueError(f"events: {_show(event)} is not an event (use {', '.join(known)})")
        return self


class Notifications(_Model):
    """Where incident notifications go."""

    webhooks: list[Webhook] = []
    email: Email | None = None
    apprise: list[Apprise] = []


def _rate(value: Any) -> tuple[int, float]:
    """`10/s`, `600/m`, `3/1h`, `20/10m` → (count, seconds)."""
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\S+)\s*", value)
        if m and int(m.group(1)) > 0:
            unit = m.group(2)
            try:
                seconds = parse_duration(unit if unit[0].isdigit() else f"1{unit}")
            except ValueError:
                seconds = 0.0
            if seconds > 0:
                return int(m.group(1)), seconds
    raise ValueError(f"{_show(value)} is not a rate like 10/s, 600/m or 3/1h")


Rate = Annotated[tuple[int, float], BeforeValidator(_rate)]
"""A count per time, written `10/s`, `600/m`, `3/1h`, `20/10m`: (count, seconds)."""


class SubscriptionSmtp(_Model):
    """The SMTP relay subscriber mail goes through (default: `notifications.email`'s server)."""

    host: str
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout: Duration = Field(default=10.0, gt=0)


class Subscriptions(_Model):
    """Visitors' e-mail subscriptions (double opt-in, one-click unsubscribe); on when the section exists.

    `endpoint` is the live server's public address the subscribe form posts to and the links in the
    mail lead to (default `site.base_url`); `rate` bounds the mail sent (messages per second over
    `connections` SMTP connections); `per_client` / `per_address` bound subscribe requests."""

    endpoint: str = ""
    smtp: SubscriptionSmtp | None = None
    sender: Annotated[str, BeforeValidator(lambda v: v if v == "" else _mailbox(v))] = Field(
        default="", alias="from")
    """The From of subscriber mail, an RFC 5322 mailbox (default: `notifications.email.from`)."""
    rate: Rate = (10, 1.0)
    connections: int = Field(default=2, ge=1, le=20)
    confirm_within: Duration = Field(default=86400.0, ge=60)
    per_client: Rate = (10, 600.0)
    per_address: Rate = (3, 3600.0)
    components: bool = True
    """Offer each component on the form (a subscriber may follow only some)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, str_strip_whitespace=True)

    @model_validator(mode="after")
    def _web_endpoint(self) -> Subscriptions:
        if self.endpoint:
            _http_url(self.endpoint)
        return self

    @property
    def messages_per_second(self) -> float:
        """`rate` as messages per second."""
        return self.rate[0] / self.rate[1]


class Admin(_Model):
    """An engineer allowed to use the admin API, identified by a bearer token."""

    name: str = Field(min_length=1, max_length=80)
    token: str = Field(min_length=16)


class Scheduler(_Model):
    """Limits of the prober."""

    max_concurrency: int = Field(default=500, ge=1, le=100_000)
    http_connections: int = Field(default=500, ge=1, le=100_000)


def _dns_server(value: Any) -> str:
    """`1.1.1.1`, `1.1.1.1:5353`, `2606:4700::1111` or `[2606:4700::1111]:5353`."""
    text = str(value).strip() if isinstance(value, str | int) else ""
    host, port = text, ""
    m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", text) or re.fullmatch(r"([^:]+):(\d+)", text)
    if m:
        host, port = m.group(1), m.group(2) or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{_show(value)} is not a DNS server's address (an IP, optionally :port)") from None
    if port and not 0 < int(port) < 65536:
        raise ValueError(f"{_show(value)} has a bad port")
    return text


def _canary(value: Any) -> str:
    """`https://host/path` or `host:port`."""
    text = value.strip() if isinstance(value, str) else ""
    if re.fullmatch(r"https?://[^\s/]+(/\S*)?", text):
        return text
    m = re.fullmatch(r"\[?([^\[\]\s]+?)\]?:(\d{1,5})", text)
    if m and 0 < int(m.group(2)) < 65536:
        return text
    raise ValueError(f"{_show(value)} is not a canary (an http(s):// URL or host:port)")


class Probe(_Model):
    """How the prober reaches the monitored services."""

    dns_servers: list[Annotated[str, BeforeValidator(_dns_server)]] = []
    """Name servers for the monitors' lookups (`ip` or `ip:port`); empty: the system's (resolv.conf)."""
    dns_timeout: Duration = Field(default=5.0, gt=0)
    """How long one lookup may take; a lookup that never answers fails as `dns`."""
    location: Slug = "local"
    """Where this instance probes from (`statuspage run --location` overrides it)."""
    locations: list[Slug] = []
    """Every probe location (empty: this one only). Several need a shared PostgreSQL database."""
    quorum: int | Literal["majority"] = "majority"
    """How many locations must confirm a monitor down (a number, or `majority` of its locations)."""
    canaries: list[Annotated[str, BeforeValidator(_canary)]] = []
    """URLs or host:port this location expects to be up; when most fail, the location is unhealthy."""
    canary_every: Duration = Field(default=10.0, ge=0.2)
    """How often each location checks its canaries (seconds)."""

    @model_validator(mode="before")
    @classmethod
    def _first_listed_by_default(cls, data: Any) -> Any:
        # With locations listed and no location given, an instance probes from the first one.
        if isinstance(data, dict) and data.get("locations") and "location" not in data:
            first = data["locations"][0] if isinstance(data["locations"], list) else None
            # Derived from locations[0]: a bad name is reported there once, not again as location.
            if isinstance(first, str) and _SLUG.match(first):
                return {**data, "location": first}
        return data

    @model_validator(mode="after")
    def _location_listed(self) -> Probe:
        if self.locations and self.location not in self.locations:
            raise _Problems([f"location: {_show(self.location)} is not one of locations "
                             f"({', '.join(self.locations)})"])
        if isinstance(self.quorum, int) and self.quorum < 1:
            raise _Problems(["quorum: must be at least 1 (or majority)"])
        if len(set(self.locations)) != len(self.locations):
            raise _Problems(["locations: a location is listed twice"])
        return self

    def all_locations(self) -> list[str]:
        """Every probe location: `locations`, or this instance's `location` alone."""
        return list(self.locations) or [self.location]


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
    max_body_bytes: int | None = Field(default=None, gt=0, le=MAX_BYTES)
    cert_warn_days: int | None = Field(default=None, ge=0, le=3650)
    confirm_down: int | None = Field(default=None, ge=1, le=100)
    confirm_up: int | None = Field(default=None, ge=1, le=100)
    follow_redirects: bool | None = None
    """Follow redirects as a browser does (default true); false judges the first response."""
    max_redirects: int | None = Field(default=None, ge=0, le=50)
    """Most redirects followed in one check (default 10); one more is `too_many_redirects`."""
    locations: list[Slug] | None = None
    """The probe locations that check this monitor (default: every one of `probe.locations`)."""
    quorum: int | Literal["majority"] | None = None
    """How many of its locations must confirm it down (default `probe.quorum`)."""
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
        auth = next((k for k in self.headers if k.lower() == "authorization"), None)
        if self.url and auth is not None and "@" in urlsplit(self.url).netloc:
            # aiohttp refuses to send both, so every check would fail as an internal error.
            raise ValueError(f"url has credentials (user:password@) and headers.{auth} is set too; "
                             "give them in one place only")
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


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


def _domain(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not a host name")
    host = value.strip().lower().rstrip(".")
    if not _HOST.match(host):
        raise ValueError(f"{_show(value)} is not a host name (write it like nps.status.track.co, "
                         "without scheme, port or path)")
    return host


Domain = Annotated[str, BeforeValidator(_domain)]


class Page(_Model):
    """One product's public status page; `domains` are the host names it is published on by itself
    (the live server routes them to this page at `/`)."""

    slug: Slug
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    url: str = ""
    domains: tuple[Domain, ...] = ()
    components: list[Component] = Field(min_length=1)


class Config(_Model):
    """The whole validated configuration (frozen)."""

    site: Site = Site()
    storage: Storage = Storage()
    server: Server = Server()
    sla: Sla = Sla()
    support: Support | None = None
    defaults: Defaults = Defaults()
    incidents: Incidents = Incidents()
    notifications: Notifications = Notifications()
    subscriptions: Subscriptions | None = None
    scheduler: Scheduler = Scheduler()
    probe: Probe = Probe()
    cluster: Cluster = Cluster()
    admins: list[Admin] = []
    pages: list[Page] = Field(min_length=1)
    _env_refs: dict[str, tuple[str, ...]] = PrivateAttr(default_factory=dict)

    def env_references(self) -> dict[str, tuple[str, ...]]:
        """Key path → the environment variables its value was read from (`${VAR}` references)."""
        return dict(self._env_refs)

    @model_validator(mode="after")
    def _resolve_and_check(self) -> Config:
        problems: list[str] = []
        _dupes(problems, "pages", [p.slug for p in self.pages])
        _dupes(problems, "admins", [a.name for a in self.admins], what="name")
        tokens: dict[str, str] = {}
        # Monitors given the same keys share one set of the names given (pydantic's fields-set, which
        # nothing changes once a frozen model exists): ~700 bytes a monitor at 50,000 monitors.
        shared_fields: dict[frozenset[str], set[str]] = {}
        for pi, page in enumerate(self.pages):
            _dupes(problems, f"pages[{pi}].components", [c.slug for c in page.components])
            for ci, comp in enumerate(page.components):
                _dupes(problems, f"pages[{pi}].components[{ci}].monitors", [m.name for m in comp.monitors],
                       what="name")
                for mi, mon in enumerate(comp.monitors):
                    resolved = mon.model_copy(update=self._monitor_defaults(mon, page.slug, comp.slug))
                    given = resolved.__pydantic_fields_set__
                    object.__setattr__(resolved, "__pydantic_fields_set__",
                                       shared_fields.setdefault(frozenset(given), given))
                    comp.monitors[mi] = resolved
                    path = f"pages[{pi}].components[{ci}].monitors[{mi}]"
                    unknown = [x for x in (mon.locations or []) if x not in self.probe.all_locations()]
                    if unknown:
                        problems.append(f"{path}.locations: {_show(unknown[0])} is not one of "
                                        f"probe.locations ({', '.join(self.probe.all_locations())})")
                    if mon.locations is not None and not mon.locations:
                        problems.append(f"{path}.locations: needs at least one location")
                    if isinstance(mon.quorum, int) and mon.quorum < 1:
                        problems.append(f"{path}.quorum: must be at least 1 (or majority)")
                    if mon.token:
                        path = f"pages[{pi}].components[{ci}].monitors[{mi}].token"
                        if mon.token in tokens:
                            problems.append(f"{path}: the same push token is used by {tokens[mon.token]}")
                        tokens[mon.token] = resolved.key
        problems += support_problems(self)
        problems += subscription_problems(self)
        hosts: dict[str, str] = {}
        for pi, page in enumerate(self.pages):
            for di, host in enumerate(page.domains):
                if host in hosts:
                    problems.append(f"pages[{pi}].domains[{di}]: {_show(host)} is already a domain of page "
                                    f"{hosts[host]}")
                hosts[host] = page.slug
        if len(self.probe.all_locations()) > 1 and not self.storage.url:
            problems.append("probe.locations: several locations need a database they share "
                            "(storage.url: postgresql://...)")
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
            "follow_redirects": (
                mon.follow_redirects if mon.follow_redirects is not None else d.follow_redirects),
            "max_redirects": mon.max_redirects if mon.max_redirects is not None else d.max_redirects,
            # A heartbeat is not seen from anywhere: a push monitor is judged by one location.
            "locations": mon.locations if mon.locations is not None else (
                self.probe.all_locations()[:1] if mon.type == "push" else self.probe.all_locations()),
            "quorum": mon.quorum if mon.quorum is not None else self.probe.quorum,
            "grace": mon.grace if mon.grace is not None else (
                mon.interval if mon.interval is not None else d.interval),
        }

    # --- lookups used across the program ---------------------------------------------------------

    def at_location(self, name: str) -> Config:
        """This config for an instance probing from `name` (`statuspage run --location`).

        Raises ConfigError when `probe.locations` lists the locations and `name` is not one of them
        (with none listed, `name` renames the one location there is, as `probe.location` would)."""
        listed = self.probe.locations
        if listed and name not in listed:
            raise ConfigError([f"--location {_show(name)} is not one of probe.locations "
                               f"({', '.join(listed)})"])
        try:
            _slug(name)
        except ValueError as exc:
            raise ConfigError([f"--location: {exc}"]) from None
        probe = self.probe.model_copy(update={"location": name})
        return self.model_copy(update={"probe": probe})

    @property
    def located(self) -> bool:
        """True with several probe locations (their states are combined by quorum: statuspage/locations)."""
        return len(self.probe.all_locations()) > 1

    def monitors(self) -> list[tuple[Page, Component, Monitor]]:
        """Every monitor with its page and component, in config order."""
        return [(p, c, m) for p in self.pages for c in p.components for m in c.monitors]

    def page(self, slug: str) -> Page | None:
        """The page with this slug, or None."""
        return next((p for p in self.pages if p.slug == slug), None)

    def page_for_host(self, host: str) -> Page | None:
        """The page published on this host name (`pages[].domains`; any port and case), or None."""
        name = host.strip().lower()
        if name.startswith("["):
            return None  # an IPv6 literal is never a page's domain
        name = name.rsplit(":", 1)[0].rstrip(".")
        return next((p for p in self.pages if name in p.domains), None)

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

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class _BadReference(ValueError):
    """A `${…}` that is not one of the supported forms."""


def interpolate(
    value: Any, env: Mapping[str, str], path: str, problems: list[str], failed: set[str] | None = None
) -> Any:
    """Replace environment references in every string of `value`, with POSIX shell semantics.

    `${VAR}` (unset is a problem; empty stays empty), `${VAR:-default}` (default when unset or
    empty), `${VAR-default}` (only when unset), `${VAR:?message}` / `${VAR?message}` (a problem
    naming the key path, when unset or empty / unset), `${VAR:+alt}` / `${VAR+alt}` (alt when set
    and non-empty / set), and `$$` for a literal `$`. Defaults may themselves hold references.
    Anything else that starts with `${` is a problem naming the key path; a lone `$` stays as it is.
    The key paths whose substitution failed are added to `failed` (their values are not validated).
    """
    if isinstance(value, dict):
        return {k: interpolate(v, env, _join(path, str(k)), problems, failed) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, f"{path}[{i}]", problems, failed) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value
    before = len(problems)
    try:
        return _interpolate_text(value, env, path, problems)
    finally:
        if failed is not None and len(problems) > before:
            failed.add(path)


def _interpolate_text(value: str, env: Mapping[str, str], path: str, problems: list[str]) -> str:
    try:
        text, end = _expand(value, 0, env, path, problems, nested=False)
    except _BadReference as exc:
        # Even a piece of a secret is not shown: only that something in it is wrong.
        what = "holds a ${ that is not a supported reference" if is_secret_path(path) else (
            f"{exc} (in {_show_at(path, value)})")
        problems.append(f"{path or '(top level)'}: {what}; "
                        "use ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, or $$ for a $")
        return value
    assert end == len(value)
    return text


def _expand(
    text: str, pos: int, env: Mapping[str, str], path: str, problems: list[str], *, nested: bool
) -> tuple[str, int]:
    """Expand from `pos` to the end of `text` (or, when `nested`, to the `}` closing a word)."""
    out: list[str] = []
    while pos < len(text):
        char = text[pos]
        if nested and char == "}":
            return "".join(out), pos
        if char != "$":
            out.append(char)
            pos += 1
            continue
        following = text[pos + 1:pos + 2]
        if following == "$":
            out.append("$")
            pos += 2
        elif following == "{":
            expanded, pos = _reference(text, pos + 2, env, path, problems)
            out.append(expanded)
        else:
            out.append("$")  # `$5`, `$VAR`, a trailing `$`: literal, as written
            pos += 1
    if nested:
        raise _BadReference("a ${ is never closed by }")
    return "".join(out), pos


def _reference(
    text: str, pos: int, env: Mapping[str, str], path: str, problems: list[str]
) -> tuple[str, int]:
    """Expand one `${…}` whose name starts at `pos`; return the text and the position after `}`."""
    m = _NAME.match(text, pos)
    if m is None:
        close = text.find("}", pos)
        inner = text[pos:close] if close >= 0 else text[pos:]
        if close < 0:
            raise _BadReference("a ${ is never closed by }")
        raise _BadReference(f"${{{inner}}} is not a variable reference" if inner else "${} names no variable")
    name, pos = m.group(0), m.end()
    if text.startswith("}", pos):
        if name not in env:
            problems.append(f"{path or '(top level)'}: environment variable {name} is not set")
            return "", pos + 1
        return env[name], pos + 1
    op = next((o for o in _OPERATORS if text.startswith(o, pos)), None)
    if op is None:
        close = text.find("}", pos)
        if close < 0:
            raise _BadReference("a ${ is never closed by }")
        raise _BadReference(f"${{{name}{text[pos:close]}}} is not a supported form")
    # As in a shell, the word is only expanded when it is used: its problems count only then.
    word_problems: list[str] = []
    word, end = _expand(text, pos + len(op), env, path, word_problems, nested=True)
    value = env.get(name)
    usable = value is not None and (value != "" or ":" not in op)
    if op.endswith("+"):
        if usable:
            problems.extend(word_problems)
        return (word if usable else ""), end + 1
    if usable and value is not None:
        return value, end + 1
    problems.extend(word_problems)
    if op.endswith("-"):
        return word, end + 1
    # `?`: the author's message as a problem.
    why = "is not set" if value is None else "is empty"
    problems.append(f"{path or '(top level)'}: environment variable {name} {why}"
                    + (f": {word}" if word else ""))
    return "", end + 1


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _quote(text: str) -> str:
    """A string in double quotes with control characters, line breaks and unpaired surrogates escaped
    (one printable line)."""
    quoted = json.dumps(text, ensure_ascii=False)
    for char, escaped in _LINE_BREAKS.items():
        quoted = quoted.replace(char, escaped)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


_SURROGATE = re.compile("[\ud800-\udfff]")


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


def _validation_problems(errors: list[Any], data: Any, failed: set[str]) -> list[str]:
    """pydantic's errors as one line per root cause, in their order.

    A union field (`probe.quorum: int | majority`) fails once per branch, each error's location
    extended by the branch's name past the scalar the user wrote: those become one line saying what
    the key accepts. A key whose `${…}` substitution failed was already reported, so nothing under
    it is reported again."""
    # Each entry is a finished line, or the key path of a union whose line is written at the end.
    entries: list[str | tuple[int | str, ...]] = []
    unions: dict[tuple[int | str, ...], list[Any]] = {}
    for err in errors:
        loc: tuple[int | str, ...] = tuple(err["loc"])
        cut = _union_cut(loc, data)
        if cut is None:
            entries += _format_error(err, data)
        else:
            if cut not in unions:
                entries.append(cut)
            unions.setdefault(cut, []).append(err)
    out: list[str] = []
    for entry in entries:
        line = entry if isinstance(entry, str) else _union_line(entry, unions[entry], data)
        if not _under_failed(line, failed) and line not in out:
            out.append(line)
    return out


def _under_failed(line: str, failed: set[str]) -> bool:
    """True when `line` is about a key path (or a key under one) whose substitution failed."""
    return any(line.startswith(f) and line[len(f):len(f) + 1] in (":", ".", "[") for f in failed if f)


def _union_cut(loc: tuple[int | str, ...], data: Any) -> tuple[int | str, ...] | None:
    """The key path of a union field when `loc` goes on past the scalar value found there (pydantic
    names the union's branch next: `int`, `literal['majority']`); None otherwise."""
    cur = data
    for i, part in enumerate(loc):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            cur = cur[part]
        elif i and not isinstance(cur, dict | list):
            return loc[:i]
        else:
            return None
    return None


_FORMS = {
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number", "string_type": "text",
    "bool_type": "true or false", "bool_parsing": "true or false", "list_type": "a list",
    "dict_type": "a mapping", "model_type": "a mapping",
}


def _union_line(cut: tuple[int | str, ...], errors: list[Any], data: Any) -> str:
    """`probe.quorum: "banana" must be a whole number or majority`."""
    path = _loc_path(cut) or "(top level)"
    _, value = _lookup(data, cut)
    forms: list[str] = []
    for err in errors:
        if err["type"] == "value_error":  # a branch with its own validator explains best
            return _format_error({**err, "loc": cut}, data)[0]
        if err["type"] == "literal_error":
            form = str((err.get("ctx") or {}).get("expected", "")).replace("'", "")
        else:
            form = _FORMS.get(err["type"]) or str(err["msg"]).removeprefix("Input should be ")
        if form and form not in forms:
            forms.append(form)
    return f"{path}: {_show_at(path, value)} must be {' or '.join(forms)}"


_BOUNDS = {
    "greater_than_equal": ("ge", "at least"), "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"), "less_than": ("lt", "less than"),
}


def _bound_line(path: str, loc: tuple[int | str, ...], kind: str, ctx: dict[str, Any], value: Any) -> str:
    """`defaults.interval: must be at least 1s (got 500ms)`: a duration's bound in its unit and the
    value as written; other numbers plainly."""
    key, words = _BOUNDS[kind]
    limit = ctx.get(key)
    if _is_duration(loc) and isinstance(limit, int | float):
        words = {"more than": "longer than", "less than": "shorter than"}.get(words, words)
        got = value.strip() if isinstance(value, str) else f"{_number(value)} seconds"
        return f"{path}: must be {words} {format_duration(float(limit))} (got {got})"
    return f"{path}: must be {words} {_number(limit)} (got {_show_at(path, value)})"


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_duration(loc: tuple[int | str, ...]) -> bool:
    """True when the key at `loc` of a Config is a `Duration` (read from the models' annotations)."""
    tp: Any = Config
    metadata: list[Any] = []
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(part, int):
            args = get_args(tp)
            if get_origin(tp) not in (list, tuple) or not args:
                return False
            tp, metadata = args[0], []
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            fields = tp.model_fields
            field = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
            if field is None:
                return False
            tp, metadata = field.annotation, list(field.metadata)
        elif get_origin(tp) is dict:
            tp, metadata = get_args(tp)[1], []
        else:
            return False
    return _duration_in(metadata) or _duration_in([tp])


def _duration_in(items: list[Any]) -> bool:
    for item in items:
        if isinstance(item, BeforeValidator) and item.func is _duration:
            return True
        if get_origin(item) is Annotated and _duration_in(list(get_args(item)[1:])):
            return True
        if get_origin(item) in (Union, UnionType) and _duration_in(list(get_args(item))):
            return True
    return False


def _unwrap(tp: Any) -> Any:
    """`X | None` → X; `Annotated[X, …]` → X."""
    if get_origin(tp) is Annotated:
        return _unwrap(get_args(tp)[0])
    if get_origin(tp) in (Union, UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return tp


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
    # A secret's value never appears, not even inside a validator's own message.
    shown = _show_at(path, value)
    raw = _show(value)
    if kind == "extra_forbidden":
        return [f"{path}: unknown key (value {shown})"]
    if kind == "missing":
        return [f"{path}: is required"]
    if kind in _BOUNDS and found:
        return [_bound_line(path, loc, kind, ctx, value)]
    if kind == "literal_error" and found:
        return [f"{path}: {shown} is invalid: must be {str(ctx.get('expected', '')).replace(chr(39), '')}"]
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        if raw != shown:
            text = text.replace(raw, shown)
            if isinstance(value, str) and len(value) >= 4:
                text = text.replace(value, HIDDEN)
        if text.startswith('"') or text.startswith(shown):
            return [f"{path}: {text}"]
        if not found or isinstance(value, dict | list):
            return [f"{path}: {text}"]
        return [f"{path}: {shown}: {text}"]
    shown = shown if found else "(missing)"
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
    data_raw = data
    failed: set[str] = set()
    data = interpolate(data, os.environ if env is None else env, "", problems, failed)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        for line in _validation_problems(exc.errors(), data, failed):
            if line not in problems:
                problems.append(line)
        raise ConfigError(problems) from None
    except _Problems as exc:  # pragma: no cover - pydantic wraps these, kept for safety
        raise ConfigError(problems + exc.problems) from None
    if problems:
        raise ConfigError(problems)
    config._env_refs = env_references(data_raw)
    return config


_REF_NAME = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


def env_references(value: Any, path: str = "") -> dict[str, tuple[str, ...]]:
    """Key path → names of the environment variables referenced by the string at that path."""
    out: dict[str, tuple[str, ...]] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(env_references(v, _join(path, str(k))))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.update(env_references(v, f"{path}[{i}]"))
    elif isinstance(value, str) and "${" in value:
        names = tuple(dict.fromkeys(_REF_NAME.findall(value.replace("$$", ""))))
        if names:
            out[path] = names
    return out


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


def config_warnings(config: Config) -> list[str]:
    """Things that work but probably not as meant; one line each, naming the key path.

    A timeout at or above the interval: a check that waits that long makes the next one late
    (runs of one monitor never overlap), so the monitor is checked less often than configured.
    """
    out: list[str] = []
    for pi, page in enumerate(config.pages):
        for ci, comp in enumerate(page.components):
            for mi, mon in enumerate(comp.monitors):
                if mon.type != "push" and mon.timeout_s >= mon.interval_s:
                    path = f"pages[{pi}].components[{ci}].monitors[{mi}].timeout"
                    out.append(
                        f"{path}: {format_duration(mon.timeout_s)} "
                        f"is not shorter than the interval ({format_duration(mon.interval_s)}); a check that "
                        "waits that long delays the next one")
    return out


def component_of(config: Config, key: str) -> tuple[Page, Component] | None:
    """The page and component for a `page/component` key."""
    page_slug, _, comp_slug = key.partition("/")
    page = config.page(page_slug)
    if page is None:
        return None
    comp = next((c for c in page.components if c.slug == comp_slug), None)
    return (page, comp) if comp else None


__all__ = ["Config", "ConfigError", "component_key", "config_warnings", "load_config", "load_config_text",
           "parse_config"]
