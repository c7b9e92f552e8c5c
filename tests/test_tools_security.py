"""Escape-corpus payloads inside a tool: rejected by lint; with lint bypassed, contained."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from agentforge_jupyter.lint import has_errors, lint
from agentforge_jupyter.sandbox import KernelSandbox
from agentforge_jupyter.state import StateDir
from agentforge_jupyter.tools import ToolRegistry, ToolRejectedError, parse_tool, run_doctests

from .conftest import require, shared_dir

LINT_CLASSES = {"import", "builtins", "dunder", "getattr", "reexport", "ctypes", "introspection"}
# One or more per class; each tries to create a host file.
CONTAINED_IDS = [
    "dunder-subclasses-popen",
    "import-os-system",
    "dunder-import",
    "builtins-module",
    "getattr-built-string",
    "matplotlib-reexported-subprocess",
    "numpy-ctypes-system",
    "sys-modules",
    "class-del-hook",
    "lambda-default-smuggle",
]


def corpus() -> list[dict[str, str]]:
    path = shared_dir() / "security" / "escape-corpus.json"
    return json.loads(path.read_text()) if path.exists() else []


def as_tool(code: str, host_file: Path) -> str:
    body = textwrap.indent(code.replace("{HOST_FILE}", str(host_file)), "    ")
    return f'def payload():\n    """Looks like a helper.\n\n    >>> payload()\n    """\n{body}\n'


def entries(classes: set[str] | None = None, ids: list[str] | None = None) -> list:
    found = [
        e
        for e in corpus()
        if (classes is None or e["class"] in classes) and (ids is None or e["id"] in ids)
    ]
    return [pytest.param(e, id=e["id"]) for e in found] or [pytest.param(None, id="no-corpus")]


@pytest.mark.parametrize("entry", entries(classes=LINT_CLASSES))
def test_payload_in_a_tool_is_rejected_before_it_runs(
    entry: dict | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(entry is not None, "escape corpus not found (set AGENTFORGE_SHARED_DIR)")
    host_file = tmp_path / "escaped.txt"
    source = as_tool(entry["code"], host_file)
    assert has_errors(lint(source)), f"lint let {entry['id']} through"

    def no_sandbox() -> KernelSandbox:
        raise AssertionError("a rejected tool must not reach the sandbox")

    registry = ToolRegistry(StateDir(tmp_path / "state"), sandbox_factory=no_sandbox)
    with pytest.raises(ToolRejectedError) as info:
        registry.register(source)
    assert info.value.report.stage in ("parse", "lint")
    assert not registry.path.exists() and not host_file.exists()


@pytest.mark.isolation
@pytest.mark.parametrize("entry", entries(ids=CONTAINED_IDS))
async def test_payload_with_lint_bypassed_is_contained(
    entry: dict | None, tmp_path: Path, full_isolation: None
) -> None:
    require(entry is not None, "escape corpus not found (set AGENTFORGE_SHARED_DIR)")
    host_file = tmp_path / "escaped.txt"
    registry = ToolRegistry(StateDir(tmp_path / "state"))
    # Test-only path: the doctest runner without lint or the import allow-list.
    candidate = parse_tool(as_tool(entry["code"], host_file))
    report = await run_doctests(
        candidate, sandbox_factory=lambda: KernelSandbox(isolation="full"), timeout=20
    )
    assert report.isolation == "full"
    assert not host_file.exists(), f"{entry['id']} created a host file"
    assert not registry.path.exists()
    # The payload really ran inside (so the check above is not vacuous): several "pass",
    # because os.system and friends fail quietly in there. Lint is what keeps them out of
    # the registry; the sandbox is what keeps them off the host.
    assert report.sandbox_status == "ok" and report.examples_run == 1
