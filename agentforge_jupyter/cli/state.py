"""`agentforge state path|repair|trust`: where the state is, repairing documents, and allowing
what a shared state directory brings (brains that read a key variable, reach a link-local
address or load local model files; tools)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..sanitize import one_line, terminal_text
from ..state import STATE_DIR_ENV, StateDir


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("state", help="inspect, repair and trust the state directory")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--state-dir", metavar="DIR", help=f"the state directory (default: ${STATE_DIR_ENV})"
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    where = sub.add_parser("path", help="print the state directory in use", parents=[common])
    where.set_defaults(func=show_path)
    repair = sub.add_parser(
        "repair",
        help="move a corrupt document aside (kept as NAME.corrupt-TIME.json); for datasets, "
        "keep what is valid and re-register the data files found",
        parents=[common],
    )
    repair.add_argument(
        "name",
        choices=["datasets", "tools", "brains", "trust"],
        help="trust: your own verdicts (trust.json in the config directory)",
    )
    repair.set_defaults(func=repair_document)
    trust = sub.add_parser(
        "trust",
        help="allow the brains (key variables, link-local addresses, model files to load) and "
        "tools this state directory brings, after verifying the tools here (like `direnv allow`)",
        parents=[common],
    )
    trust.add_argument("--show", action="store_true", help="only show what is waiting, and why")
    trust.set_defaults(func=trust_state)


def _store(args: argparse.Namespace) -> StateDir:
    return StateDir(args.state_dir) if getattr(args, "state_dir", None) else StateDir()


def show_path(args: argparse.Namespace) -> int:
    print(_store(args).root)
    return 0


def repair_document(args: argparse.Namespace) -> int:
    if args.name == "trust":
        return _repair_trust()
    store = _store(args)
    kept = store.repair(args.name)
    if kept is None:
        print(f"{args.name}.json did not exist; nothing to repair")
        return 0
    print(f"{args.name}.json kept aside as {kept}; a fresh document was written")
    if args.name == "datasets":
        _reregister_datasets(store, kept)
    return 0


def _repair_trust() -> int:
    # trust.json is this user's, in the config directory: its corrupt-file message sends here.
    from ..trust import TrustStore

    kept = TrustStore().document.quarantine()
    if kept is None:
        print("trust.json did not exist; nothing to repair")
        return 0
    print(
        f"trust.json kept aside as {kept}; a fresh one was written. Your verdicts start over: "
        "`agentforge state trust --show` lists what waits (`agentforge tools verify --all` "
        "verifies the tools again)."
    )
    return 0


def _old_files(kept: Path) -> dict[str, str]:
    """{file name in data/: dataset name} from the entries of the old document still readable."""
    try:
        items = json.loads(kept.read_text(encoding="utf-8")).get("items")
    except (OSError, ValueError, AttributeError):
        return {}
    names: dict[str, str] = {}
    for name, entry in items.items() if isinstance(items, dict) else []:
        file = entry.get("file") if isinstance(entry, dict) else None
        if isinstance(file, str) and isinstance(name, str):
            names[Path(file).name] = name
    return names


def _reregister_datasets(store: StateDir, kept: Path) -> None:
    """Re-register every data file through the registry's own ``add`` (validated, profiled):
    entries of the old document keep their names, other files are named after themselves."""
    from ..datasets import DatasetRegistry, validate_name
    from ..errors import AgentForgeError

    registry = DatasetRegistry(store)
    names = _old_files(kept)
    data_dir = store.data_dir
    files = sorted(p for p in data_dir.iterdir() if p.is_file() and not p.is_symlink())
    with tempfile.TemporaryDirectory(dir=store.root, prefix=".repair-") as aside:
        for path in files:
            if path.name.startswith("."):
                continue
            try:
                name = validate_name(names.get(path.name) or path.stem)
            except AgentForgeError as exc:
                print(terminal_text(f"  skipped {path.name}: {exc}"))
                continue
            moved = Path(aside) / path.name  # add() copies into data/: never onto itself
            os.replace(path, moved)
            try:
                registry.add(moved, name=name)
            except AgentForgeError as exc:
                os.replace(moved, path)
                print(terminal_text(f"  not re-registered {path.name}: {exc}"))
            else:
                print(terminal_text(f"  re-registered {name} ({path.name})"))
    with contextlib.suppress(AgentForgeError):
        registry.ensure_sample()


def trust_state(args: argparse.Namespace) -> int:
    from ..brains.registry import BrainRegistry
    from ..tools import ToolRegistry

    store = _store(args)
    brains = BrainRegistry(store)
    tools = ToolRegistry(store)
    waiting_brains = brains.waiting()
    waiting_tools = tools.unverified()
    if not waiting_brains and not waiting_tools:
        print(f"Nothing in {store.root} is waiting for your approval.")
        return 0
    _show_waiting(waiting_brains, waiting_tools)
    if args.show:
        print(f"\nAllow all of the above with: agentforge state trust --state-dir {store.root}")
        return 0
    allowed = brains.allow_waiting()
    for spec in allowed:
        print(f"allowed brain {spec.name}")
    return _verify_tools(tools, [t.name for t in waiting_tools])


def _show_waiting(waiting_brains: list[Any], waiting_tools: list[Any]) -> None:
    if waiting_brains:
        print("Brains waiting for your approval (inactive until allowed):")
        for verdict in waiting_brains:
            print("  " + one_line(f"{verdict.spec.name}: {'; '.join(verdict.reasons)}"))
    if waiting_tools:
        print("Tools not verified on this machine (not offered to runs until verified here):")
        for tool in waiting_tools:
            print("  " + one_line(f"{tool.ref}: {tool.summary[:70]}"))


def _verify_tools(tools: Any, names: list[str]) -> int:
    if not names:
        return 0
    print("verifying tools here (lint + doctests in a fresh sandbox)...")
    failed = 0
    for ref, report in tools.reverify(names).items():
        if report.passed:
            print(f"verified {ref}: {report.examples_run} example(s) passed")
        else:
            failed += 1
            # The report quotes what the tool's examples printed in the sandbox.
            print(terminal_text(f"FAILED {ref} ({report.stage}); it stays inactive:"))
            print(terminal_text(report.describe()))
    return 1 if failed else 0
