"""Keeping secrets out of messages: which config keys hold secrets, and URLs with their credentials hidden.

Used by config errors (a problem about a secret field names the key path, never the value) and by
anything else that shows or logs a config value. A key is secret when its name says so (token,
password, secret, api key, authorization, cookie, credential, private key, signature); a URL is
shown with the password of its userinfo and the values of secret-looking query parameters hidden.
"""

from __future__ import annotations

import difflib
import logging
import re
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


def redact_value(path: str, value: object) -> object:
    """The value as it may be shown for key path `path`: HIDDEN for a secret key, URLs without credentials."""
    if is_secret_path(path):
        return HIDDEN
    if isinstance(value, str):
        return redact_url(value)
    return value


_ANY_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


class UrlFreeLogs(logging.Filter):
    """For the loggers of libraries that name the URL they talk to (apprise, urllib3): only warnings
    and errors pass, with every URL replaced by `scheme://(hidden)` (apprise URLs are all secret)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        text = record.getMessage()
        record.msg = _ANY_URL.sub(lambda m: m.group(0).split("://", 1)[0] + "://(hidden)", text)
        record.args = None
        return True


def quiet_url_loggers(names: tuple[str, ...] = ("apprise", "urllib3.connectionpool")) -> None:
    """Put `UrlFreeLogs` on these loggers (idempotent); before any secret URL reaches them."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, UrlFreeLogs) for f in logger.filters):
            logger.addFilter(UrlFreeLogs())


__all__ = ["HIDDEN", "UrlFreeLogs", "is_secret_key", "is_secret_path", "quiet_url_loggers", "redact_url",
           "redact_value"]
