"""The sandbox: an isolated Jupyter kernel that runs generated code.

Names are loaded lazily so that the launcher, which imports this package inside the sandbox
before the kernel starts, does not pay for jupyter_client and pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ExecutionResult": "result",
    "Display": "result",
    "ErrorInfo": "result",
    "SandboxConfig": "config",
    "IsolationReport": "isolation",
    "detect_isolation": "isolation",
    "KernelSandbox": "kernel",
    "SandboxPool": "pool",
    "SyncSandbox": "sync",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
    return getattr(module, name)
