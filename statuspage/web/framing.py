"""Who may frame the public pages: CSP `frame-ancestors` from `server.frame_ancestors`, and the old
`X-Frame-Options` equivalent for browsers that ignore CSP (only `'self'` or `'none'` can be said there)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["page_headers"]


def page_headers(csp: str, frame_ancestors: Sequence[str]) -> dict[str, str]:
    """The headers of an HTML page: `csp` with `frame-ancestors`, plus X-Frame-Options when it fits."""
    headers = {"Content-Security-Policy": f"{csp}; frame-ancestors {' '.join(frame_ancestors)}"}
    if list(frame_ancestors) == ["'none'"]:
        headers["X-Frame-Options"] = "DENY"
    elif list(frame_ancestors) == ["'self'"]:
        headers["X-Frame-Options"] = "SAMEORIGIN"
    return headers
