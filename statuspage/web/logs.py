"""What the HTTP server writes to the log: never a secret, and not a traceback per malformed request.

`install_server_logging(config)` makes every log record redacted as it is made (see
`statuspage.redaction.install_log_redaction`: bearer tokens, `/api/push/<token>`, `?token=`,
credential headers, and the configured secret values themselves), and turns aiohttp's "Error
handling request" records for requests it cannot parse (a client's mistake or a probe, answered
400) into one DEBUG line without a traceback: an attacker sending garbage must not fill the disk.
asyncio's accept errors (out of descriptors) are one line a minute, not one per retry.
"""

from __future__ import annotations

import logging
import time

from aiohttp.http_exceptions import HttpProcessingError

from statuspage.config import Config
from statuspage.redaction import install_log_redaction, redact_for_log

__all__ = ["config_secrets", "install_server_logging"]


def config_secrets(config: Config) -> list[str]:
    """Every secret value the config holds: admin and push tokens, webhook, Chatwoot and SMTP secrets,
    the subscribers' SMTP password and apprise URLs."""
    out = [a.token for a in config.admins]
    out += [m.token for _, _, m in config.monitors() if m.token]
    out += [w.secret for w in config.notifications.webhooks if w.secret]
    email = config.notifications.email
    if email is not None and email.password:
        out.append(email.password)
    if config.support is not None and config.support.chatwoot is not None:
        out.append(config.support.chatwoot.secret)
    subs = config.subscriptions
    if subs is not None and subs.smtp is not None and subs.smtp.password:
        out.append(subs.smtp.password)
    out += [target.url for target in config.notifications.apprise]  # each apprise URL is all secret
    return out


class _BadRequestsQuiet(logging.Filter):
    """aiohttp logs an ERROR with a traceback for every request it cannot parse; it answers 400
    already, so one DEBUG line says enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        detail = redact_for_log(" ".join(str(exc.message).split())[:200])
        origin = record.getMessage().removeprefix("Error handling request").strip() or "-"
        record.msg, record.args = "bad request %s: %s", (origin, detail)
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


class _OncePerMinute(logging.Filter):
    """asyncio logs "socket.accept() out of system resource" with a traceback at every retry of its
    accept loop, thousands a second while descriptors are short: one line a minute says it."""

    def __init__(self, prefix: str, every: float = 60.0) -> None:
        super().__init__()
        self.prefix = prefix
        self.every = every
        self._last = -every
        self._dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(self.prefix):
            return True
        now = time.monotonic()
        if now - self._last < self.every:
            self._dropped += 1
            return False
        self._last = now
        exc = record.exc_info[1] if record.exc_info else None
        record.msg = "%s (%s; %d more like it in the last minute not logged)"
        record.args = (self.prefix, exc or "", self._dropped)
        record.exc_info, record.exc_text, self._dropped = None, None, 0
        return True


_QUIET = _BadRequestsQuiet()
_ACCEPT = _OncePerMinute("socket.accept() out of system resource")


def install_server_logging(config: Config) -> None:
    """Redact every log record from now on, with this config's secrets; quiet aiohttp's bad-request
    tracebacks (idempotent)."""
    install_log_redaction(config_secrets(config))
    server_log = logging.getLogger("aiohttp.server")
    if _QUIET not in server_log.filters:
        server_log.addFilter(_QUIET)
    loop_log = logging.getLogger("asyncio")
    if _ACCEPT not in loop_log.filters:
        loop_log.addFilter(_ACCEPT)
