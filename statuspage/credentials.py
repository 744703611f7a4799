"""Secrets that must not be usable as shipped: empty, placeholder, example or guessable ones.

`weak_secrets(config)` lists every weak secret of a config, one `WeakSecret` per key path, each
saying why and which environment variable sets it. `statuspage run` refuses to serve beyond
loopback while any secret that statuspage *accepts* is weak (admin tokens, push tokens, the
Chatwoot secret: anyone who guesses one acts as an engineer, a heartbeat sender or the helpdesk),
and on loopback it warns loudly; `statuspage validate` reports them the same way.

A secret is weak when it is (checked in this order):
- empty;
- a value shipped in the repository's `config.yaml` (`SHIPPED_DEFAULTS`, kept in step with it by
  a test): published, so known to everyone;
- a placeholder (`change-me`, `replace-me`, `your-secret`, `example`, ... anywhere in it, case and
  separators ignored) or a bare common word (`secret`, `password`, `admin`, ... with digits around);
- shorter than `MIN_LENGTH` (16) characters;
- predictable: fewer than 8 different characters, or under `MIN_BITS` (64) by a generous estimate
  (length × log2 of the alphabets it draws from: lower case, upper case, digits, symbols). A random
  token of 16 such characters passes; `aaaaaaaaaaaaaaaa` or `abababababababab` do not.

Secrets statuspage *sends* are judged too: a webhook `secret` (the HMAC key receivers trust; guess it
and forge our notifications) by the same rules, except that an empty one only warns (unsigned
webhooks are a choice); the SMTP `password` only for empty-with-a-username and placeholders (its
strength is the mail provider's rule, not ours); the same for the subscribers' SMTP `password` and for
an apprise `url` (the whole URL is the chat channel's credential: a placeholder in it refuses); the
password in `storage.url` (PostgreSQL) only for placeholders and shipped values, when the URL has one
(without one, the server's own authentication applies: peer, certificates, `.pgpass`).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from statuspage.config import Config

__all__ = ["MIN_BITS", "MIN_LENGTH", "SHIPPED_DEFAULTS", "WeakSecret", "exposure_problems", "is_loopback",
           "weak_secrets", "weakness"]

MIN_LENGTH = 16
MIN_BITS = 64
SHIPPED_DEFAULTS = frozenset({"change-me-please-0000", "nps-email-heartbeat", "cxm-email-heartbeat"})
"""The `${VAR:-default}` secrets of the repository's config.yaml (tests keep this set in step)."""

_PLACEHOLDERS = ("changeme", "replaceme", "placeholder", "example", "yoursecret", "yourtoken",
                 "yourpassword", "secrethere", "tokenhere", "passwordhere", "insecure", "notasecret",
                 "dummy", "fixme", "xxxxxx")
_COMMON = frozenset({"secret", "secrets", "password", "passwd", "pass", "token", "admin", "root", "test",
                     "default", "changeit", "letmein", "qwerty", "welcome", "abc", "abcdef", "statuspage",
                     "heartbeat", "push", "webhook", "chatwoot", "postgres"})
_HOW = 'a random value, e.g. python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


@dataclass(frozen=True, slots=True)
class WeakSecret:
    """One weak secret: where it is, why it is weak, and how to set it."""

    path: str
    """Its key path, e.g. `admins[0].token`."""
    why: str
    env: tuple[str, ...] = ()
    """The environment variables its value comes from (`${VAR}` in the config), if any."""
    accepted: bool = True
    """True for secrets statuspage accepts (admin, push, Chatwoot); False for ones it sends."""
    refuse: bool = True
    """False when it only deserves a warning (an unsigned webhook)."""

    def line(self) -> str:
        """One line naming the key, why, and how to set it."""
        where = (f"set {' or '.join(self.env)} to {_HOW}" if self.env
                 else f"set it to {_HOW} (e.g. through ${{ENV_VAR}} in the config)")
        return f"{self.path}: weak secret: {self.why}; {where}"


def weakness(value: str, *, strength: bool = True) -> str | None:
    """Why `value` is a weak secret, or None (see the module docstring for the rules).

    `strength=False` judges only emptiness, shipped defaults and placeholders."""
    if not value.strip():
        return "it is empty"
    if value in SHIPPED_DEFAULTS:
        return "it is the example value of the repository's config.yaml"
    folded = re.sub(r"[^a-z0-9]", "", value.lower())
    mark = next((p for p in _PLACEHOLDERS if p in folded), None)
    if mark is not None:
        return f"it looks like a placeholder ({mark!r})"
    if folded.strip("0123456789") in _COMMON:
        return "it is a common word"
    if not strength:
        return None
    if len(value) < MIN_LENGTH:
        return f"it is shorter than {MIN_LENGTH} characters"
    bits = estimated_bits(value)
    if len(set(value)) < 8 or bits < MIN_BITS:
        return f"it is too predictable (about {min(bits, len(set(value)) * 4):.0f} bits; use 128)"
    return None


def estimated_bits(value: str) -> float:
    """A generous guess at a secret's strength: length × log2(size of the alphabets it uses)."""
    pool = 0
    pool += 26 if re.search(r"[a-z]", value) else 0
    pool += 26 if re.search(r"[A-Z]", value) else 0
    pool += 10 if re.search(r"[0-9]", value) else 0
    pool += 33 if re.search(r"[^a-zA-Z0-9]", value) else 0
    return len(value) * math.log2(max(pool, 2))


def weak_secrets(config: Config) -> list[WeakSecret]:
    """Every weak secret of `config`, in config order."""
    refs = config.env_references()
    out: list[WeakSecret] = []

    def judge(path: str, value: str, *, accepted: bool = True, strength: bool = True,
              empty_refuses: bool = True) -> None:
        why = weakness(value, strength=strength)
        if why is not None:
            refuse = empty_refuses or bool(value.strip())
            out.append(WeakSecret(path, why, tuple(refs.get(path, ())), accepted, refuse))

    for i, admin in enumerate(config.admins):
        judge(f"admins[{i}].token", admin.token)
    for pi, page in enumerate(config.pages):
        for ci, comp in enumerate(page.components):
            for mi, mon in enumerate(comp.monitors):
                if mon.type == "push" and mon.token is not None:
                    judge(f"pages[{pi}].components[{ci}].monitors[{mi}].token", mon.token)
    if config.support is not None and config.support.chatwoot is not None:
        judge("support.chatwoot.secret", config.support.chatwoot.secret)
    for i, hook in enumerate(config.notifications.webhooks):
        judge(f"notifications.webhooks[{i}].secret", hook.secret, accepted=False, empty_refuses=False)
    email = config.notifications.email
    if email is not None and (email.password or email.username):
        judge("notifications.email.password", email.password, accepted=False, strength=False)
    subs = config.subscriptions
    if subs is not None and subs.smtp is not None and (subs.smtp.password or subs.smtp.username):
        judge("subscriptions.smtp.password", subs.smtp.password, accepted=False, strength=False)
    for i, target in enumerate(config.notifications.apprise):
        # The whole URL is the channel's credential; an example domain in it is an address, not a secret.
        credential = _EXAMPLE_DOMAIN.sub("", target.url.split("://", 1)[-1])
        judge(f"notifications.apprise[{i}].url", credential, accepted=False, strength=False)
    password = _url_password(config.storage.url)
    if password:
        judge("storage.url", password, accepted=False, strength=False)
    return out


_EXAMPLE_DOMAIN = re.compile(r"(?i)\bexample\.(?:com|org|net)\b")


def _url_password(url: str | None) -> str | None:
    if url is None:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def is_loopback(addresses: Iterable[str]) -> bool:
    """True when every address (bound socket addresses, or host names as configured) is loopback only.

    `localhost` counts as loopback; an empty host or `0.0.0.0` / `::` (every interface) does not."""
    seen = False
    for address in addresses:
        seen = True
        host = address.strip("[]").split("%", 1)[0]
        if host == "localhost":
            continue
        try:
            if not ipaddress.ip_address(host).is_loopback:
                return False
        except ValueError:
            return False
    return seen


def exposure_problems(config: Config, addresses: Iterable[str]) -> tuple[list[str], list[str]]:
    """(errors, warnings): one line per weak secret; an error when the server listens beyond loopback
    on `addresses` (no addresses: nothing listens, so only warnings)."""
    found = weak_secrets(config)
    listed = list(addresses)
    exposed = bool(listed) and not is_loopback(listed)
    return ([w.line() for w in found if w.refuse and exposed],
            [w.line() for w in found if not (w.refuse and exposed)])
