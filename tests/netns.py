"""Network namespaces for probe-location tests: one per location, each with its own link to the host.

    Net(tag).add(name)      a namespace `<tag>-<name>` with a veth pair: host side 10.213.N.1/24, the
                            namespace's side 10.213.N.2/24, and a route to SERVICE over that link only
    SERVICE                 10.213.100.1, an address on the host's loopback: the target, the
                            canaries and the database proxy listen there; every namespace reaches it
                            over its own link, so `cut(name)` (the host side of its link down) cuts
                            that location alone off from everything
    Net.exec(name, argv)    argv inside the namespace (`ip netns exec`)
    Net.remove()            deletes every namespace, link and the loopback address (idempotent)

Needs root and iproute2; `missing_reason()` says in one line why namespaces cannot be made.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field

SERVICE = "10.213.100.1"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def missing_reason() -> str | None:
    """Why network namespaces cannot be made here, or None."""
    if shutil.which("ip") is None:
        return "iproute2's ip command is missing"
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"spprobe{os.getpid()}"
    done = _ip("netns", "add", probe, check=False)
    if done.returncode != 0:
        return f"ip netns add failed: {done.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


@dataclass
class Net:
    """The namespaces of one test."""

    tag: str
    index: dict[str, int] = field(default_factory=dict)
    _service_added: bool = False

    def ns(self, name: str) -> str:
        return f"{self.tag}-{name}"

    def host_link(self, name: str) -> str:
        return f"{self.tag}h{self.index[name]}"

    def address(self, name: str) -> str:
        """The namespace's own address (where the instance inside listens)."""
        return f"10.213.{self.index[name]}.2"

    def add(self, name: str) -> None:
        if not self._service_added:
            _ip("addr", "add", f"{SERVICE}/32", "dev", "lo", check=False)
            self._service_added = True
        n = self.index[name] = len(self.index) + 1
        ns, host, inner = self.ns(name), self.host_link(name), f"{self.tag}n{n}"
        _ip("netns", "add", ns)
        _ip("link", "add", host, "type", "veth", "peer", "name", inner)
        _ip("link", "set", inner, "netns", ns)
        _ip("addr", "add", f"10.213.{n}.1/24", "dev", host)
        _ip("link", "set", host, "up")
        _ip("-n", ns, "addr", "add", f"10.213.{n}.2/24", "dev", inner)
        _ip("-n", ns, "link", "set", inner, "up")
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", ns, "route", "add", f"{SERVICE}/32", "via", f"10.213.{n}.1")

    def location_of(self, address: str) -> str | None:
        """Which location a peer address belongs to."""
        for name, n in self.index.items():
            if address == f"10.213.{n}.2":
                return name
        return None

    def cut(self, name: str) -> None:
        """Take the location's link down: it reaches nothing outside its namespace."""
        _ip("link", "set", self.host_link(name), "down")

    def restore(self, name: str) -> None:
        """Bring the location's link back up."""
        _ip("link", "set", self.host_link(name), "up")

    def argv(self, name: str, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns(name), *argv]

    def remove(self) -> None:
        for name in list(self.index):
            _ip("link", "del", self.host_link(name), check=False)  # takes its peer with it
            _ip("netns", "del", self.ns(name), check=False)
        self.index.clear()
        if self._service_added:
            _ip("addr", "del", f"{SERVICE}/32", "dev", "lo", check=False)
            self._service_added = False


class TcpProxy:
    """Forwards SERVICE:port to another address (the test's PostgreSQL on 127.0.0.1)."""

    def __init__(self, to_host: str, to_port: int) -> None:
        self.to = (to_host, to_port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, SERVICE, 0)
        self.port = int(self.server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.to)
        except OSError:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        for coro in (pipe(reader, up_writer), pipe(up_reader, writer)):
            task = asyncio.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
