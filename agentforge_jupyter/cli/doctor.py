"""`agentforge doctor [--json]`: isolation level, bubblewrap, versions, a live kernel check."""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
from importlib import metadata
from typing import Any

from .._version import __version__
from ..errors import AgentForgeError
from ..sandbox import KernelSandbox
from ..sandbox.isolation import INSTALL_HINT, detect_isolation
from ..state import StateDir
from ._io import print_json

PACKAGES = (
    "ipykernel",
    "jupyter_client",
    "jupyterlab",
    "pandas",
    "pyarrow",
    "matplotlib",
    "openai",
    "runpod",
)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("doctor", help="check isolation, versions and the sandbox")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-kernel", action="store_true", help="skip starting a sandbox kernel")
    parser.set_defaults(func=run)


def collect(start_kernel: bool = True) -> dict[str, Any]:
    report = detect_isolation()
    info: dict[str, Any] = {
        "agentforge": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "isolation": report.level,
        "isolation_detail": report.to_dict(),
        "state_dir": str(StateDir().root),
        "packages": {name: _version(name) for name in PACKAGES},
    }
    if start_kernel:
        info["sandbox_check"] = asyncio.run(_check_kernel())
    return info


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


async def _check_kernel() -> dict[str, Any]:
    try:
        async with KernelSandbox() as sandbox:
            result = await sandbox.execute("import os\nprint(os.getuid(), 6 * 7)", timeout=30)
    except AgentForgeError as exc:
        return {"ok": False, "error": str(exc)}
    return {
        "ok": result.ok and result.stdout.split()[-1:] == ["42"],
        "uid": result.stdout.split()[0] if result.stdout else None,
        "duration_s": round(result.duration_s, 4),
    }


def run(args: argparse.Namespace) -> int:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # doctor reports reduced isolation itself
        info = collect(start_kernel=not args.no_kernel)
    if args.json:
        print_json(info)
    else:
        _print(info)
    check = info.get("sandbox_check", {"ok": True})
    return 0 if check["ok"] else 1


def _print(info: dict[str, Any]) -> None:
    detail = info["isolation_detail"]
    print(f"AgentForge {info['agentforge']} on Python {info['python']} ({info['platform']})")
    if info["isolation"] == "full":
        print(f"isolation: FULL ({detail['mechanism']}, bubblewrap {detail['bubblewrap_version']})")
    else:
        print(
            "isolation: REDUCED - generated code runs in a plain local kernel with limits, "
            "but can read your files and reach the network"
        )
        print(f"  why: {detail['reason']}")
        print(f"  fix: {INSTALL_HINT}")
    print(f"state directory: {info['state_dir']}")
    for name, version in info["packages"].items():
        print(f"  {name:15} {version or 'not installed'}")
    check = info.get("sandbox_check")
    if check is not None:
        state = "ok" if check["ok"] else f"FAILED: {check.get('error', 'unexpected output')}"
        print(f"sandbox kernel: {state}")
