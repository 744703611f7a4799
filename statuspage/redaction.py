"""Keeping secrets out of messages: which config keys hold secrets, and URLs with their credentials hidden.

Used by config errors (a problem about a secret field names the key path, never the value) and by
anything else that shows or logs a config value. A key is secret when its name says so (token,
password, secret, api key, authorization, cookie, credential, private key, signature); a URL is
shown with the password of its userinfo and the values of secret-looking query parameters hidden.

Log records are redacted as they are made (`install_log_redaction`): bearer tokens, push tokens in
`/api/push/<token>`, secret query parameters (`?token=`), credential headers and every configured
secret value are replaced by `***` in the message and in the traceback of every logger's records,
also those of libraries (aiohttp's own "Error handling request" quotes the raw request line).
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import re
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

HIDDEN = "(hidden)"
"""What stands where a secret value would have been shown."""

_SECRET_NAME = re.compile(
    r"token|passw(or)?d|secret|api[_-]?key|authori[sz]ation|cookie|credential|private[_-]?key|signature|"
    r"^auth$|^key$|^pass$|^pwd$",
    re.IGNORECASE,
)
_LAST_KEY = re.compile(r'(?:^|\.)([^.\[\]]+)$|\["((?:[^"\\]|\\.)*)"\]$')


_SECRET_URL_PATH = re.compile(r"(^|\.)apprise(\[\d+\])?\.url$")
_SECRET_WORDS = ("token", "password", "passwd", "secret", "apikey", "api_key", "authorization", "cookie")


def is_secret_key(name: str) -> bool:
    """True when a key name (`token`, `smtp_password`, `X-Api-Key`, ...) says its value is a secret.

    A near miss of a secret name counts too (`tokn`, `pasword`, `secert`): a misspelt key is
    reported as unknown, and its value is still the secret the user meant to give.
    """
    if _SECRET_NAME.search(name):
        return True
    return bool(difflib.get_close_matches(name.lower(), _SECRET_WORDS, n=1, cutoff=0.8))


def is_secret_path(path: str) -> bool:
    """True when the last key of a config key path (`admins[0].token`, `headers.Authorization`) is secret.

    Paths are as config errors print them: `a.b[0].c`, with odd keys quoted as `a["x y"]`; a list
    index at the end (`tokens[1]`) belongs to the key before it.
    """
    if _SECRET_URL_PATH.search(path):
        return True  # an apprise URL is all secret (slack://TokenA/TokenB/TokenC)
    trimmed = re.sub(r"(\[\d+\])+$", "", path)
    m = _LAST_KEY.search(trimmed)
    if m is None:
        return False
    return is_secret_key(m.group(1) or m.group(2) or "")


def redact_url(text: str) -> str:
    """`text` with the password of a URL's userinfo and secret-looking query values replaced by `***`.

    Text that is not an absolute URL comes back unchanged.
    """
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if not parts.scheme or not parts.netloc:
        return text
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:***@{hostport}" if colon else f"***@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_secret_key(k) for k, _ in pairs):
            query = urlencode([(k, "***" if is_secret_key(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_database_url(url: str) -> str:
    """A database URL without its password (`postgresql://user:***@host/db`, and `?password=***`:
    libpq takes it in the query too), for logs and errors; an unparsable one is `postgresql://…`."""
    try:
        parts = urlsplit(url)
        # Secret-looking query values (password, sslpassword, …) masked by `redact_url`'s rule.
        query = urlsplit(redact_url(url)).query if parts.query else ""
        netloc = parts.netloc
        if parts.password is not None:
            netloc = f"{parts.username or ''}:***@{netloc.rpartition('@')[2]}"
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "postgresql://…"


def redact_value(path: str, value: object) -> object:
    """The value as it may be shown for key path `path`: HIDDEN for a secret key, URLs without credentials."""
    if is_secret_path(path):
        return HIDDEN
    if isinstance(value, str):
        return redact_text(redact_url(value))  # also `Bearer x` written where a secret was not expected
    # A mistyped key holding a mapping (`header:` for `headers:`) is shown: its secrets are not.
    if isinstance(value, dict):
        return {k: redact_value(f"{path}.{k}", v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(f"{path}[{i}]", v) for i, v in enumerate(value)]
    return value


# --- free text and log records ----------------------------------------------------------------------

MASK = "***"
_SECRET_PARAM = r"[A-Za-z0-9_.-]*(?:token|secret|passw(?:or)?d|api[_-]?key|signature|auth)[A-Za-z0-9_.-]*"
_TEXT_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # `Authorization: Bearer x`, `Cookie: a=b` as raw header lines or in a repr.
    (re.compile(r"(?i)\b((?:proxy-)?authorization|cookie|set-cookie|x-api-key|x-auth-token)(['\"]?\s*[:=,]\s*['\"]?)"
                r"[^\r\n'\"]+"), r"\1\2" + MASK),
    (re.compile(r"(?i)\b(bearer)(\s+)[^\s'\"\\,;]+"), r"\1\2" + MASK),
    (re.compile(r"\b(Basic)(\s+)[A-Za-z0-9+/]{8,}=*"), r"\1\2" + MASK),
    # Push tokens are the path: /api/push/<token>, up to the next separator (or a repr's quote or escape).
    (re.compile(r"(/api/push/)[^\s/?#'\"\\<>…*]+"), r"\1" + MASK),
    # ?token=…, &secret=…, ;password=… (Chatwoot's webhook secret travels in the query).
    (re.compile(r"(?i)([?&;]" + _SECRET_PARAM + r"=)[^&;\s'\"#\\<>]+"), r"\1" + MASK),
)
_MIN_SECRET = 6
"""Shorter configured values are not searched for in free text (they would mask ordinary words)."""


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with credentials replaced by `***`: bearer and basic credentials, credential headers,
    `/api/push/<token>`, secret-looking query parameters, and any of the exact `secrets` given."""
    for pattern, replacement in _TEXT_RULES:
        text = pattern.sub(replacement, text)
    for secret in secrets:
        if len(secret) >= _MIN_SECRET and secret in text:
            text = text.replace(secret, MASK)
    return text


RecordFactory = Callable[..., logging.LogRecord]


class _RedactingFactory:
    """A log record factory that redacts each record's message and traceback as it is made."""

    def __init__(self, base: RecordFactory) -> None:
        self.base = base
        self.secrets: set[str] = set()

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.base(*args, **kwargs)
        # A record that cannot be formatted is left for logging to report as it always does.
        with contextlib.suppress(Exception):
            redact_record(record, self.secrets)
        return record


def redact_record(record: logging.LogRecord, secrets: Iterable[str] = ()) -> None:
    """Redact one record in place: its formatted message, its exception text and its stack."""
    secrets = tuple(secrets)
    message = record.getMessage()
    cleaned = redact_text(message, secrets)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = redact_text(text, secrets)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info, secrets)


def redact_for_log(text: str) -> str:
    """`redact_text` with the secrets given to `install_log_redaction` so far."""
    factory = logging.getLogRecordFactory()
    return redact_text(text, factory.secrets if isinstance(factory, _RedactingFactory) else ())


def install_log_redaction(secrets: Iterable[str] = ()) -> None:
    """Redact every log record of every logger from now on (idempotent; `secrets` are added to the
    exact values searched for, e.g. the configured admin and push tokens)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        factory = _RedactingFactory(factory)
        logging.setLogRecordFactory(factory)
    factory.secrets.update(s for s in secrets if s)


_ANY_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


_URL_PARTS: set[str] = set()
"""Pieces of the secret URLs handed to those libraries (tokens, users, passwords, path segments)."""
_URL_SPLIT = re.compile(r"[/:@?&=#,;]+")


class UrlFreeLogs(logging.Filter):
    """For the loggers of libraries that name the URL they talk to (apprise, urllib3): only warnings
    and errors pass, with every URL replaced by `scheme://(hidden)` (apprise URLs are all secret) and
    every piece of a URL given to `quiet_url_loggers` replaced by `(hidden)` — apprise also quotes a
    token alone ("The Telegram Bot Token specified (123456789:AAH…) is invalid")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        text = _ANY_URL.sub(lambda m: m.group(0).split("://", 1)[0] + "://(hidden)", record.getMessage())
        for part in sorted(_URL_PARTS, key=len, reverse=True):
            if part in text:
                text = text.replace(part, HIDDEN)
        record.msg, record.args = text, None
        return True


def quiet_url_loggers(names: tuple[str, ...] = ("apprise", "urllib3.connectionpool"),
                      secret_url: str | None = None) -> None:
    """Put `UrlFreeLogs` on these loggers (idempotent); before any secret URL reaches them. The
    pieces of `secret_url` after its scheme (at least 6 characters: shorter ones would mask ordinary
    words) are hidden wherever those loggers quote them."""
    if secret_url is not None:
        rest = secret_url.split("://", 1)[-1]
        _URL_PARTS.update(p for p in _URL_SPLIT.split(rest) if len(p) >= _MIN_SECRET)
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, UrlFreeLogs) for f in logger.filters):
            logger.addFilter(UrlFreeLogs())


__all__ = ["HIDDEN", "MASK", "UrlFreeLogs", "install_log_redaction", "is_secret_key", "is_secret_path",
           "quiet_url_loggers", "redact_database_url", "redact_for_log", "redact_record", "redact_text",
           "redact_url", "redact_value"]
