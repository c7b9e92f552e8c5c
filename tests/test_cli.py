"""The `agentforge` command, run as a real subprocess with its own state directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import IN_CI


def agentforge(*args: str, state: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "AGENTFORGE_STATE_DIR": str(state)}
    return subprocess.run(
        [sys.executable, "-m", "agentforge_jupyter.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


def test_datasets_list_registers_the_sample_on_first_use(state: Path) -> None:
    out = agentforge("datasets", "list", "--json", state=state)
    assert out.returncode == 0, out.stderr
    names = [d["name"] for d in json.loads(out.stdout)]
    assert names == ["sales_q3"]


def test_datasets_add_preview_profile_remove(state: Path, tmp_path: Path) -> None:
    csv = tmp_path / "tiny.csv"
    csv.write_text("city,temp\nOslo,3.5\nLima,19.0\n")
    added = agentforge("datasets", "add", str(csv), "--name", "weather", state=state)
    assert added.returncode == 0, added.stderr
    assert "2 rows x 2 columns" in added.stdout
    preview = agentforge("datasets", "preview", "weather", "-n", "1", "--json", state=state)
    assert json.loads(preview.stdout) == [{"city": "Oslo", "temp": 3.5}]
    profile = json.loads(agentforge("datasets", "profile", "weather", "--json", state=state).stdout)
    assert [c["name"] for c in profile["columns"]] == ["city", "temp"]
    assert agentforge("datasets", "remove", "weather", state=state).returncode == 0
    missing = agentforge("datasets", "preview", "weather", state=state)
    assert missing.returncode == 2
    assert "weather" in missing.stderr


def test_bad_dataset_name_is_refused_with_a_clear_error(state: Path, tmp_path: Path) -> None:
    csv = tmp_path / "x.csv"
    csv.write_text("a\n1\n")
    out = agentforge("datasets", "add", str(csv), "--name", "../evil", state=state)
    assert out.returncode == 2
    assert "agentforge: error:" in out.stderr


def test_lint_exit_codes_and_json(state: Path) -> None:
    clean = agentforge("lint", "-", state=state, stdin="import pandas as pd\nprint(1)\n")
    assert clean.returncode == 0
    bad = agentforge("lint", "-", "--json", state=state, stdin="import os\nos.system('ls')\n")
    assert bad.returncode == 1
    findings = json.loads(bad.stdout)
    assert {"code", "severity", "line", "col", "message", "hint"} <= set(findings[0])
    assert findings[0]["severity"] == "error"


def test_exec_runs_in_the_sandbox_with_the_dataset(state: Path) -> None:
    code = "print(len(df))\nprint(df['region'].nunique())\n"
    out = agentforge("exec", "-", "--dataset", "sales_q3", "--json", state=state, stdin=code)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "ok"
    assert result["stdout"].split() == ["3101", "5"]
    assert set(result) >= {"status", "stdout", "stderr", "displays", "error", "duration_s"}


def test_exec_lints_first_and_no_lint_still_contains(state: Path) -> None:
    payload = "import subprocess\nsubprocess.run(['id'])\n"
    rejected = agentforge("exec", "-", "--json", state=state, stdin=payload)
    assert rejected.returncode == 1
    assert json.loads(rejected.stdout)["status"] == "rejected"
    ran = agentforge("exec", "-", "--no-lint", "--json", state=state, stdin=payload)
    assert ran.returncode == 1
    result = json.loads(ran.stdout)
    assert result["status"] == "error"
    assert result["error"]["name"] == "PermissionError"


def test_exec_timeout_status(state: Path) -> None:
    out = agentforge("exec", "-", "--timeout", "1", "--json", state=state, stdin="while True: pass")
    assert out.returncode == 1
    assert json.loads(out.stdout)["status"] == "timeout"


def test_doctor_reports_isolation(state: Path) -> None:
    out = agentforge("doctor", "--json", state=state)
    info = json.loads(out.stdout)
    assert info["isolation"] in ("full", "reduced")
    assert info["sandbox_check"]["ok"] is True
    if IN_CI:
        assert info["isolation"] == "full", info["isolation_detail"]["reason"]


def test_doctor_without_bubblewrap_says_reduced(state: Path, tmp_path: Path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {**os.environ, "PATH": str(empty_bin), "AGENTFORGE_STATE_DIR": str(state)}
    out = subprocess.run(
        [sys.executable, "-m", "agentforge_jupyter.cli", "doctor", "--no-kernel"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "REDUCED" in out.stdout
    assert "bubblewrap" in out.stdout


def test_state_repair_keeps_the_corrupt_file(state: Path) -> None:
    state.mkdir(parents=True)
    (state / "tools.json").write_text("{not json")
    out = agentforge("state", "repair", "tools", state=state)
    assert out.returncode == 0, out.stderr
    kept = list(state.glob("tools.corrupt-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == "{not json"
