"""`agentforge state ...` and the state checks of `agentforge doctor`, as subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .cli_support import COMMAND
from .cli_support import agentforge as cli
from .conftest import require


@pytest.fixture(autouse=True)
def _own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFORGE_CONFIG_DIR", str(tmp_path / "config"))


def test_doctor_reports_a_corrupt_document_and_fails(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert cli("datasets", "list", state=state).returncode == 0  # registers the sample
    healthy = cli("doctor", "--no-kernel", "--json", state=state)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert json.loads(healthy.stdout)["state_problems"] == []
    (state / "datasets.json").write_text("{not json")
    broken = cli("doctor", "--no-kernel", state=state)
    assert broken.returncode == 1
    assert "datasets.json" in broken.stdout and "problem" in broken.stdout


def test_doctor_reports_an_unusable_state_directory(tmp_path: Path) -> None:
    afile = tmp_path / "not-a-dir"
    afile.write_text("x")
    out = cli("doctor", "--no-kernel", state=afile)
    assert out.returncode == 1 and "is a file, not a directory" in out.stdout
    state = tmp_path / "state"
    state.mkdir()
    (state / "runs").symlink_to(tmp_path)
    out = cli("doctor", "--no-kernel", state=state)
    assert out.returncode == 1 and "symbolic link" in out.stdout


def test_doctor_notes_what_waits_for_approval_without_failing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    brains = {"shared": {"base_url": "http://10.0.0.9/v1", "model": "m", "api_key_env": "K"}}
    document = {"schema": "agentforge.brains", "version": 1, "items": brains}
    (state / "brains.json").write_text(json.dumps(document))
    out = cli("doctor", "--no-kernel", state=state)
    assert out.returncode == 0, out.stdout
    assert "shared waits for `agentforge state trust`" in out.stdout


def test_env_pointing_at_a_file_says_so_and_not_repair(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    out = cli("datasets", "list", state=afile)
    assert out.returncode == 2
    assert "is a file, not a directory" in out.stderr and "repair" not in out.stderr


def test_repair_datasets_keeps_files_and_reregisters_them(tmp_path: Path) -> None:
    state = tmp_path / "state"
    csv = tmp_path / "orders.csv"
    csv.write_text("region,revenue\nEast,10\nWest,20\n")
    assert cli("datasets", "add", str(csv), "--name", "orders", state=state).returncode == 0
    (state / "datasets.json").write_text('{"schema": "agentforge.datasets", "items": 3}')
    out = cli("state", "repair", "datasets", state=state)
    assert out.returncode == 0, out.stderr
    assert "re-registered orders" in out.stdout
    listed = cli("datasets", "list", "--json", state=state)
    assert {d["name"] for d in json.loads(listed.stdout)} >= {"orders", "sales_q3"}
    assert list(state.glob("datasets.corrupt-*.json"))  # the bad file is kept aside


def test_state_trust_with_nothing_waiting(tmp_path: Path) -> None:
    out = cli("state", "trust", "--show", state=tmp_path / "state")
    assert out.returncode == 0 and "Nothing" in out.stdout


def test_a_read_only_state_directory_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    """A state directory on a read-only mount (a shared volume, a read-only checkout): writing
    a dataset copy or a run log raised a bare OSError traceback."""
    bwrap = shutil.which("bwrap")
    require(bwrap is not None, "bubblewrap gives the test a real read-only mount")
    sample_csv = tmp_path / "tiny.csv"
    sample_csv.write_text("a,b\n1,2\n")
    state = tmp_path / "state"
    assert cli("datasets", "list", state=state).returncode == 0  # registers the sample
    before = sorted(p.name for p in state.rglob("*"))
    env = {**os.environ, "AGENTFORGE_STATE_DIR": str(state)}
    read_only = [str(bwrap), "--dev-bind", "/", "/", "--ro-bind", str(state), str(state)]
    for args in (["datasets", "add", str(sample_csv)], ["analyze", "overview"]):
        out = subprocess.run(
            [*read_only, *COMMAND, *args], capture_output=True, text=True, env=env, timeout=600
        )
        assert out.returncode == 2, out.stdout + out.stderr
        assert "Traceback" not in out.stderr, out.stderr
        assert "Read-only file system" in out.stderr and "AGENTFORGE_STATE_DIR" in out.stderr
    assert sorted(p.name for p in state.rglob("*")) == before
    env["AGENTFORGE_STATE_DIR"] = str(state / "new")  # a state directory still to be created
    out = subprocess.run(
        [*read_only, *COMMAND, "datasets", "list"], capture_output=True, text=True, env=env
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "Cannot write" in out.stderr and "AGENTFORGE_STATE_DIR" in out.stderr


def test_the_repair_a_corrupt_trust_file_advises_works(tmp_path: Path) -> None:
    """A corrupt trust.json (the user's own verdicts, in the config directory) said to run
    `agentforge state repair trust`, which was refused as an invalid choice."""
    state = tmp_path / "state"
    config = tmp_path / "config"  # AGENTFORGE_CONFIG_DIR, from the autouse fixture
    config.mkdir()
    (config / "trust.json").write_text('{"tools": [')
    broken = cli("tools", "list", state=state)
    assert broken.returncode == 2 and "agentforge state repair trust" in broken.stderr
    repaired = cli("state", "repair", "trust", state=state)
    assert repaired.returncode == 0, repaired.stderr
    assert "trust.json kept aside" in repaired.stdout and "verify" in repaired.stdout
    (kept,) = config.glob("trust.corrupt-*.json")
    assert kept.read_text() == '{"tools": ['
    assert cli("tools", "list", state=state).returncode == 0


def test_repair_prints_no_terminal_escapes_from_data_file_names(tmp_path: Path) -> None:
    """`state repair datasets` names the files it finds in data/, which a cloned or shared
    state directory can name anything; the names reached the terminal raw."""
    state = tmp_path / "state"
    assert cli("datasets", "list", state=state).returncode == 0
    (state / "data" / "x\x1b]0;title\x07y.csv").write_text("a,b\n1,2\n")
    (state / "datasets.json").write_text("{")
    out = cli("state", "repair", "datasets", state=state)
    assert out.returncode == 0, out.stderr
    assert "skipped x" in out.stdout and "re-registered sales_q3" in out.stdout
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout, repr(out.stdout)


def test_doctor_prints_no_terminal_escapes_from_the_state_directory(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert cli("datasets", "list", state=state).returncode == 0
    document = json.loads((state / "datasets.json").read_text())
    entry = dict(document["items"]["sales_q3"], name="zz", file="data/\x1b[2Jz.csv")
    document["items"]["zz"] = entry
    (state / "datasets.json").write_text(json.dumps(document))
    out = cli("doctor", "--no-kernel", state=state)
    assert out.returncode == 1 and "dataset 'zz'" in out.stdout, out.stdout
    assert "\x1b" not in out.stdout, repr(out.stdout)
