"""Subscription tokens: HMAC-signed, bound to one subscriber row, expiring when they confirm (pure).

A token is `<purpose><id>.<expires>.<mac>`: `c` (confirm, expires at the row's
`confirm_expires_at`) or `u` (unsubscribe, never expires while the row exists). The MAC is
HMAC-SHA256 over the purpose, the id, the row's random `salt` and the expiry, under the installation's
secret: a token cannot be forged, cannot be moved to another purpose, expiry or row, and dies with
its row (ids may be reused, salts are not). Nothing secret is stored per token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

Purpose = Literal["c", "u"]
_MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class Token:
    """A token's parts, before its MAC is checked against the row's salt."""

    purpose: Purpose
    subscriber_id: int
    expires: int
    mac: bytes


def _mac(secret: str, purpose: str, subscriber_id: int, salt: str, expires: int) -> bytes:
    message = f"{purpose}:{subscriber_id}:{salt}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()[:_MAC_BYTES]


def make_token(secret: str, purpose: Purpose, subscriber_id: int, salt: str, expires: int = 0) -> str:
    """A URL-safe token for one subscriber row."""
    mac = base64.urlsafe_b64encode(_mac(secret, purpose, subscriber_id, salt, expires)).rstrip(b"=").decode()
    return f"{purpose}{subscriber_id}.{expires}.{mac}"


def parse_token(text: str) -> Token | None:
    """The parts of a token, or None when it is not shaped like one (nothing is looked up)."""
    if not isinstance(text, str) or len(text) > 100 or text[:1] not in ("c", "u"):
        return None
    parts = text[1:].split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[0]) > 18:
        return None
    try:
        mac = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
    except ValueError:
        return None
    if len(mac) != _MAC_BYTES or len(parts[1]) > 12:
        return None
    return Token(text[0], int(parts[0]), int(parts[1]), mac)  # type: ignore[arg-type]


def token_matches(secret: str, token: Token, salt: str) -> bool:
    """True when the token was made for this row (`salt`) with this secret (constant time)."""
    expected = _mac(secret, token.purpose, token.subscriber_id, salt, token.expires)
    return hmac.compare_digest(expected, token.mac)
