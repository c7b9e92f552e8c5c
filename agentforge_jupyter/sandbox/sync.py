"""SyncSandbox: the KernelSandbox API for plain scripts and notebook cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .._loop import run_sync
from .config import SandboxConfig
from .kernel import KernelSandbox
from .result import ExecutionResult


class SyncSandbox:
    """Blocking wrapper; all kernel I/O happens on AgentForge's background loop."""

    def __init__(self, config: SandboxConfig | None = None, **settings: Any) -> None:
        self.sandbox = KernelSandbox(config, **settings)

    def __enter__(self) -> SyncSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    @property
    def isolation(self) -> Any:
        return self.sandbox.isolation

    def start(self) -> None:
        run_sync(self.sandbox.start())

    def execute(self, code: str, timeout: float | None = None) -> ExecutionResult:
        return run_sync(self.sandbox.execute(code, timeout))

    def load_dataset(self, file_name: str, fmt: str, variable: str = "df") -> None:
        run_sync(self.sandbox.load_dataset(file_name, fmt, variable))

    def put_dataframe(
        self, frame: pd.DataFrame, variable: str, keep_attrs: bool = False
    ) -> list[str]:
        return run_sync(self.sandbox.put_dataframe(frame, variable, keep_attrs))

    def put_file(self, source: str | Path, dest: str) -> str:
        return run_sync(self.sandbox.put_file(source, dest))

    def get_dataframe(self, variable: str) -> pd.DataFrame:
        return run_sync(self.sandbox.get_dataframe(variable))

    def restart(self) -> None:
        run_sync(self.sandbox.restart())

    def shutdown(self) -> None:
        run_sync(self.sandbox.shutdown())
