"""Claiming the server's address before anything says it is serving.

`statuspage run` and `statuspage demo` bind their listening sockets first: a busy port is then one
clear line (`ListenError`) and exit code 1, before a URL is printed or the database is opened, and
the sockets are handed to the aiohttp server later (`serve(..., sockets=...)`).
"""

from __future__ import annotations

import errno
import socket

__all__ = ["ListenError", "bind_sockets"]

_REASONS = {
    errno.EADDRINUSE: "the address is already in use (another statuspage, or another program)",
    errno.EACCES: "permission denied (ports below 1024 need privileges)",
    errno.EADDRNOTAVAIL: "this machine has no such address",
}


class ListenError(Exception):
    """The server cannot listen on host:port; `reason` says why in words."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host = host
        self.port = port
        self.reason = reason


def bind_sockets(host: str, port: int, backlog: int = 128) -> list[socket.socket]:
    """Listening TCP sockets for every address of `host` (as asyncio's create_server would bind).

    Raises ListenError naming host:port when any of them cannot be bound.
    """
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(host, port, f"cannot resolve the host ({exc.strerror})") from None
    sockets: list[socket.socket] = []
    seen: set[tuple[int, object]] = set()
    try:
        for family, kind, proto, _, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart quickly after a stop
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(sockets) > 1:
                # One ephemeral port for every address, like asyncio does.
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock.bind(address)
            sock.listen(backlog)
            sock.setblocking(False)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        reason = _REASONS.get(exc.errno or 0) or exc.strerror or type(exc).__name__
        raise ListenError(host, port, reason) from None
    return sockets
