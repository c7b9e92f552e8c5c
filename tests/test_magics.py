"""The IPython magics, through a real InteractiveShell."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InteractiveShell:
    monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(tmp_path / "state"))
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "agentforge_jupyter")
    return sh


def test_load_ext_registers_the_magics(shell: InteractiveShell) -> None:
    assert "agent_datasets" in shell.magics_manager.magics["line"]
    assert "agent_lint" in shell.magics_manager.magics["cell"]


def test_agent_datasets_lists_the_sample(shell: InteractiveShell) -> None:
    infos = shell.run_line_magic("agent_datasets", "")
    assert [i.name for i in infos] == ["sales_q3"]


def test_agent_datasets_add_and_preview(shell: InteractiveShell, tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n1,2\n3,4\n")
    info = shell.run_line_magic("agent_datasets", f"add {csv} --name tiny")
    assert info.rows == 2
    frame = shell.run_line_magic("agent_datasets", "preview tiny -n 1")
    assert frame.to_dict(orient="records") == [{"a": 1, "b": 2}]


def test_agent_datasets_unknown_action(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="unknown action"):
        shell.run_line_magic("agent_datasets", "frobnicate")


def test_agent_lint_returns_findings(shell: InteractiveShell) -> None:
    findings = shell.run_cell_magic("agent_lint", "", "import os\nos.system('ls')\n")
    assert {f.code for f in findings} and all(f.severity == "error" for f in findings[:1])
    assert shell.run_cell_magic("agent_lint", "", "import pandas as pd\n") == []
