"""A warm pool: sandboxes started ahead of time so a run never waits for a kernel to boot."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from typing import Any

from .config import SandboxConfig
from .kernel import KernelSandbox

DEFAULT_PRELOAD = ("numpy", "pandas", "matplotlib.pyplot")


class SandboxPool:
    """Keeps `size` sandboxes booting or booted. Each acquired sandbox belongs to its caller,
    who shuts it down; the pool starts a replacement in the background."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        size: int = 1,
        preload: tuple[str, ...] = DEFAULT_PRELOAD,
        **settings: Any,
    ) -> None:
        self.config = config
        self.size = size
        self.preload = preload
        self.settings = settings
        self._boots: collections.deque[asyncio.Task[KernelSandbox]] = collections.deque()

    async def start(self) -> None:
        while len(self._boots) < self.size:
            self._boots.append(asyncio.ensure_future(self._boot()))

    async def _boot(self) -> KernelSandbox:
        sandbox = KernelSandbox(self.config, preload=self.preload, **self.settings)
        await sandbox.start()
        return sandbox

    async def acquire(self) -> KernelSandbox:
        """A started sandbox: at once when one is warm, else as soon as one has booted."""
        await self.start()
        boot = self._boots.popleft()
        await self.start()  # the replacement boots while the caller works
        return await boot

    async def close(self) -> None:
        while self._boots:
            boot = self._boots.popleft()
            with contextlib.suppress(Exception):
                await (await boot).shutdown()

    async def __aenter__(self) -> SandboxPool:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
