"""How the host reaches the kernel's sockets without being steered, and how much it takes in.

The kernel binds its ZeroMQ sockets in `ipc/`, which code in the sandbox can write: it could
replace a socket file with a symlink to any Unix socket on the host, and ZeroMQ (reconnecting
as root) would follow it. So the host never connects there. Each socket is hard-linked, without
following links, into the host-only `links/`, checked to be a socket there (lstat), and the
host connects to that name, which nothing in the sandbox can change. A hard link cannot cross
file systems, and the sandbox sees no host socket on the one `ipc/` lives on, so what is linked
was bound inside the sandbox.

jupyter_client's manager makes its own control socket right after launch, with the ipc/
name; its context never reconnects, so that socket cannot follow a link planted later (it is
never used: interrupts go over our own control channel, which uses the links).

Memory: every host socket refuses frames over a size (ZMQ_MAXMSGSIZE; ZeroMQ then drops the
connection) and queues a bounded number of messages (ZMQ_RCVHWM). A dropped connection is seen
through a socket monitor, and the execution ends as `limit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio
from zmq.utils.monitor import parse_monitor_message

from ..errors import SandboxError

CONNECTED = ("shell", "iopub", "control")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def bounded_context(
    max_message_bytes: int, receive_queue: int, reconnect: bool = True
) -> zmq.asyncio.Context:
    """A context whose sockets refuse oversized frames and queue a bounded number of messages.
    `reconnect=False` for sockets whose path the sandbox could change after the first try."""
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAXMSGSIZE, max_message_bytes)
    context.setsockopt(zmq.RCVHWM, receive_queue)
    context.setsockopt(zmq.LINGER, 0)
    if not reconnect:
        context.setsockopt(zmq.RECONNECT_IVL, -1)
    return context


def socket_name(prefix: str, port: int) -> str:
    return f"{Path(prefix).name}-{port}"


async def wait_bound(
    ipc: Path,
    names: list[str],
    alive: Callable[[], Awaitable[bool]],
    timeout: float,
) -> None:
    """Wait until the kernel has bound every socket in `names` (files in `ipc/`)."""
    deadline = time.monotonic() + timeout
    while True:
        missing = [n for n in names if not _exists(ipc, n)]
        if not missing:
            return
        if time.monotonic() > deadline or not await alive():
            raise SandboxError(f"the kernel did not open its sockets ({', '.join(missing)})")
        await asyncio.sleep(0.01)


def _exists(directory: Path, name: str) -> bool:
    # lstat: `directory` lies in the host-only private directory, only `name` is the sandbox's.
    try:
        os.lstat(directory / name)
    except OSError:
        return False
    return True


def link_sockets(ipc: Path, links: Path, names: list[str]) -> None:
    """Hard-link each socket into `links/` without following links; refuse non-sockets."""
    src, dst = os.open(ipc, _DIR_FLAGS), os.open(links, _DIR_FLAGS)
    try:
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=dst)
            try:
                os.link(name, name, src_dir_fd=src, dst_dir_fd=dst, follow_symlinks=False)
                mode = os.stat(name, dir_fd=dst, follow_symlinks=False).st_mode
            except OSError as exc:
                raise SandboxError(f"the kernel socket {name!r} cannot be linked: {exc}") from exc
            if not stat.S_ISSOCK(mode):
                os.unlink(name, dir_fd=dst)
                raise SandboxError(
                    f"the kernel socket {name!r} is not a socket (mode {mode:o}); refusing to "
                    "connect: code in the sandbox may be trying to redirect the host"
                )
    finally:
        os.close(src)
        os.close(dst)


class DisconnectWatch:
    """Notices when ZeroMQ drops a host socket's connection (an oversized frame, garbage)."""

    def __init__(self, sockets: list[Any]) -> None:
        self._monitors = [s.get_monitor_socket(zmq.EVENT_DISCONNECTED) for s in sockets]

    async def tripped(self) -> bool:
        for monitor in self._monitors:
            while await monitor.poll(0):
                event = parse_monitor_message(await monitor.recv_multipart())
                if event["event"] == zmq.EVENT_DISCONNECTED:
                    return True
        return False

    def close(self) -> None:
        for monitor in self._monitors:
            with contextlib.suppress(zmq.ZMQError):
                monitor.close(linger=0)
        self._monitors = []
