"""`agentforge doctor [--json]`: isolation level, bubblewrap, versions, the state directory and
each of its documents, a live kernel check. Exits 1 when something is wrong.

Heavy modules (the sandbox, pandas for datasets) are imported only when their check runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from importlib import metadata
from typing import Any

from .._version import __version__
from ..errors import AgentForgeError
from ..sanitize import terminal_text

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
    from ..sandbox.isolation import detect_isolation

    report = detect_isolation()
    info: dict[str, Any] = {
        "agentforge": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "isolation": report.level,
        "isolation_detail": report.to_dict(),
        "packages": {name: _version(name) for name in PACKAGES},
    }
    info.update(check_state())
    if start_kernel:
        import asyncio

        info["sandbox_check"] = asyncio.run(_check_kernel())
    return info


def check_state() -> dict[str, Any]:
    """The state directory and each document: ``{"state_dir", "state_problems",
    "state_notes"}``; problems make doctor fail, notes (what waits for approval) do not."""
    from ..state import StateDir

    problems: list[str] = []
    notes: list[str] = []
    try:
        store = StateDir()
    except AgentForgeError as exc:  # e.g. AGENTFORGE_STATE_DIR points at a file
        return {"state_dir": None, "state_problems": [str(exc)], "state_notes": []}
    problems += store.problems()
    if not problems:
        for check in (_check_datasets, _check_tools, _check_brains):
            try:
                check(store, problems, notes)
            except AgentForgeError as exc:
                problems.append(str(exc))
    return {"state_dir": str(store.root), "state_problems": problems, "state_notes": notes}


def _check_datasets(store: Any, problems: list[str], notes: list[str]) -> None:
    if not store.datasets_json.exists():
        return
    from ..datasets import DatasetRegistry

    registry = DatasetRegistry(store)
    for name in registry.names():  # a corrupt document raises, and is reported by the caller
        try:
            registry.path(name)
        except (AgentForgeError, TypeError, KeyError, ValueError) as exc:
            problems.append(f"dataset {name!r}: {exc}")


def _check_tools(store: Any, problems: list[str], notes: list[str]) -> None:
    if not store.tools_json.exists():
        return
    from ..tools import ToolRegistry

    registry = ToolRegistry(store)
    problems += registry.load().problems
    waiting = registry.unverified()
    if waiting:
        names = ", ".join(t.name for t in waiting)
        notes.append(f"tools not verified on this machine (runs skip them): {names}")


def _check_brains(store: Any, problems: list[str], notes: list[str]) -> None:
    if not store.brains_json.exists():
        return
    from ..brains.registry import BrainRegistry

    for entry in BrainRegistry(store).entries():
        if entry.problem:
            problems.append(entry.problem)
        elif entry.trust == "waiting":
            notes.append(f"brain {entry.name} waits for `agentforge state trust`")


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


async def _check_kernel() -> dict[str, Any]:
    from ..sandbox import KernelSandbox

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
        json.dump(info, sys.stdout, indent=2, default=str, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print(info)
    check = info.get("sandbox_check", {"ok": True})
    return 0 if check["ok"] and not info["state_problems"] else 1


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
        from ..sandbox.isolation import INSTALL_HINT

        print(f"  why: {detail['reason']}")
        print(f"  fix: {INSTALL_HINT}")
    if detail.get("seccomp_problem"):
        print(f"seccomp: NOT AVAILABLE - {detail['seccomp_problem']}")
    state = "ok" if not info["state_problems"] else "PROBLEMS"
    print(f"state directory: {info['state_dir']} ({state})")
    # Problems and notes quote what a (possibly shared) state directory holds.
    for problem in info["state_problems"]:
        print(f"  problem: {terminal_text(problem)}")
    for note in info["state_notes"]:
        print(f"  note: {terminal_text(note)}")
    for name, version in info["packages"].items():
        print(f"  {name:15} {version or 'not installed'}")
    check = info.get("sandbox_check")
    if check is not None:
        state = "ok" if check["ok"] else f"FAILED: {check.get('error', 'unexpected output')}"
        print(f"sandbox kernel: {terminal_text(state)}")
