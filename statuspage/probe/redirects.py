"""Following redirects the way a browser visiting the monitored URL does (pure: no I/O).

The checker sends every hop itself (`allow_redirects=False`) and asks `next_hop` what the following
request is. The rules, from RFC 9110 §15.4 and the Fetch standard's "HTTP-redirect fetch":

- 301, 302, 303, 307 and 308 with a `Location` are redirects; any other status, or a 3xx without
  a `Location`, is the final response.
- `Location` may be relative: it is resolved against the URL of the hop that sent it; credentials
  in it are dropped, and a scheme other than http/https is an error.
- 303 turns any method but HEAD into GET; 301 and 302 turn POST into GET (what browsers do);
  307 and 308 keep the method. A method changed to GET drops the body's headers (Content-Type, ...).
- Credentials are for the origin they were configured for: `Authorization`, `Proxy-Authorization`,
  `Cookie`, `Host` and any header whose name says it holds a secret (`X-Api-Key`, `X-Auth-Token`)
  are sent only to the monitor URL's own origin (scheme, host and port: an https → http downgrade
  is another origin). Cookies set along the chain are the checker's per-check jar's business.
- The same request twice in one chain (method, URL and cookies alike) is a loop.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

from yarl import URL

from statuspage.redaction import is_secret_key

__all__ = ["REDIRECT_STATUSES", "Hop", "RedirectError", "first_hop", "next_hop", "origin"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

_ORIGIN_ONLY = frozenset({"authorization", "proxy-authorization", "cookie", "host"})
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding", "content-language",
                           "content-location", "transfer-encoding"})


class RedirectError(ValueError):
    """A redirect a browser would not follow (bad or non-HTTP Location)."""


@dataclass(frozen=True, slots=True)
class Hop:
    """One request of a redirect chain."""

    method: str
    url: URL
    headers: Mapping[str, str]
    """The configured headers that apply to this hop (credentials only at the monitor's origin)."""


def origin(url: URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the unit credentials and cookies belong to."""
    return (url.scheme.lower(), (url.host or "").lower(), url.port)


def _origin_only(name: str) -> bool:
    return name.lower() in _ORIGIN_ONLY or is_secret_key(name)


def first_hop(method: str, url: str, headers: Mapping[str, str]) -> Hop:
    """The monitor's own request; credentials in the URL become an `Authorization` header."""
    parsed = URL(url)
    configured = dict(headers)
    if parsed.user is not None or parsed.password is not None:
        if not any(k.lower() == "authorization" for k in configured):
            pair = f"{parsed.user or ''}:{parsed.password or ''}".encode()
            configured["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        parsed = parsed.with_user(None)
    return Hop(method, parsed, configured)


def next_hop(hop: Hop, status: int, location: str | None, first: Hop) -> Hop | None:
    """The request following `hop`'s response, or None when that response is the final one.

    `first` is the chain's first hop (as `first_hop` made it): its URL's origin is the one the
    configured credentials belong to. Raises RedirectError for a Location a browser would refuse.
    """
    if status not in REDIRECT_STATUSES or location is None:
        return None
    try:
        target = hop.url.join(URL(location.strip(), encoded=False))
    except (ValueError, TypeError):
        raise RedirectError("redirect to an invalid location") from None
    if target.scheme.lower() not in ("http", "https") or not target.host:
        raise RedirectError("redirect to an invalid or non-HTTP location")
    if target.user is not None or target.password is not None:
        target = target.with_user(None)
    method = hop.method
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method = "GET"
    same_origin = origin(target) == origin(first.url)
    bodyless = method != first.method  # once turned into GET, no hop sends the body's headers again
    headers = {
        k: v for k, v in first.headers.items()
        if (same_origin or not _origin_only(k)) and not (bodyless and k.lower() in _BODY_HEADERS)
    }
    return Hop(method, target, headers)
