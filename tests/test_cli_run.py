"""`agentforge run NOTEBOOK`: a notebook from someone else runs in the sandbox, not on the host."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import nbformat
from nbformat import v4

from agentforge_jupyter.sandbox.isolation import detect_isolation
from tests.conftest import require

from .cli_support import agentforge


def write(path: Path, *cells) -> Path:
    nbformat.write(v4.new_notebook(cells=list(cells)), str(path))
    return path


def stdout_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


def test_an_export_runs_in_the_sandbox_with_its_dataset(tmp_path: Path) -> None:
    state = tmp_path / "state"
    share = tmp_path / "share"
    out = agentforge("analyze", "total revenue by region", "--export", f"{share}/", state=state)
    assert out.returncode == 0, out.stderr
    (exported,) = share.glob("*.ipynb")
    header = nbformat.read(str(exported), as_version=4).cells[0].source
    assert "agentforge run" in header

    target = tmp_path / "executed.ipynb"
    ran = agentforge(
        "run", str(exported), "--dataset", "sales_q3", "--output", str(target), state=state
    )
    assert ran.returncode == 0, ran.stderr
    assert f"wrote {target}" in ran.stdout
    notebook = nbformat.read(str(target), as_version=4)
    injected = [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "data/sales_q3.jsonl" in injected[0].source
    printed = "".join(stdout_of(c) for c in notebook.cells if c.cell_type == "code")
    assert "FACT: highest sum of revenue by region = West" in printed
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))
    assert notebook.metadata["agentforge"]["sandbox_run"]["failed_cell"] is None


def test_a_shared_folder_runs_with_the_data_file_beside_the_notebook(tmp_path: Path) -> None:
    """The person who receives an `--export DIR/` folder has its data file, not a registered
    dataset: `--dataset NAME` alone left them with "No such file" and a NAME they did not have."""
    share = tmp_path / "share"
    made = agentforge(
        "analyze", "total revenue by region", "--export", f"{share}/", state=tmp_path / "theirs"
    )
    assert made.returncode == 0, made.stderr
    (exported,) = share.glob("*.ipynb")
    (data,) = share.glob("*.jsonl")
    header = nbformat.read(str(exported), as_version=4).cells[0].source
    assert "--dataset DATA_FILE" in header
    mine = tmp_path / "mine"
    target = tmp_path / "executed.ipynb"
    ran = agentforge(
        "run", str(exported), "--dataset", str(data), "--output", str(target), state=mine
    )
    assert ran.returncode == 0, ran.stderr
    printed = "".join(
        stdout_of(c)
        for c in nbformat.read(str(target), as_version=4).cells
        if c.cell_type == "code"
    )
    assert "FACT: highest sum of revenue by region = West" in printed
    again = agentforge(
        "run", str(exported), "--dataset", str(data), "--output", str(target), state=mine
    )
    assert again.returncode == 0, again.stderr  # the file is registered once, then reused
    listed = agentforge("datasets", "list", "--json", state=mine)
    assert [d["source"] for d in json.loads(listed.stdout)].count(str(data.resolve())) == 1


def test_the_first_failing_cell_stops_the_run_and_is_reported(tmp_path: Path) -> None:
    source = write(
        tmp_path / "nb.ipynb",
        v4.new_markdown_cell("# title"),
        v4.new_code_cell("print('one')"),
        v4.new_code_cell("1/0", metadata={"tags": ["raises-exception"]}),  # allowed to fail
        v4.new_code_cell("raise ValueError('boom')"),
        v4.new_code_cell("print('never')"),
    )
    out = agentforge("run", str(source), state=tmp_path / "state")
    assert out.returncode == 1
    assert "cell 3 failed: ValueError: boom" in out.stderr
    written = nbformat.read(str(tmp_path / "nb-executed.ipynb"), as_version=4)
    assert stdout_of(written.cells[1]) == "one\n"
    assert written.cells[2].outputs[-1].ename == "ZeroDivisionError"
    assert written.cells[3].outputs[-1].ename == "ValueError"
    assert written.cells[4].outputs == [] and written.cells[4].execution_count is None


def test_a_hostile_notebook_cannot_touch_the_host(tmp_path: Path) -> None:
    report = detect_isolation()
    require(report.level == "full", f"full sandbox isolation unavailable: {report.reason}")
    marker = Path("/tmp") / f"agentforge-run-{uuid.uuid4().hex}"
    home_file = tmp_path / "secret.txt"
    home_file.write_text("host secret")
    source = write(
        tmp_path / "evil.ipynb",
        v4.new_code_cell(f"open({str(marker)!r}, 'w').write('pwned')\nprint('wrote')"),
        v4.new_code_cell(f"print(open({str(home_file)!r}).read())"),
    )
    out = agentforge("run", str(source), state=tmp_path / "state")
    assert not marker.exists(), "a cell wrote to the host's /tmp"
    assert out.returncode == 1 and "cell 1 failed" in out.stderr  # the host file is not there
    written = nbformat.read(str(tmp_path / "evil-executed.ipynb"), as_version=4)
    assert "host secret" not in str(written)


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "state"
    missing = agentforge("run", str(tmp_path / "nope.ipynb"), state=state)
    assert missing.returncode == 2 and "no such notebook" in missing.stderr
    garbage = tmp_path / "bad.ipynb"
    garbage.write_text("{not json")
    bad = agentforge("run", str(garbage), state=state)
    assert bad.returncode == 2 and "not a valid notebook" in bad.stderr
    ok = write(tmp_path / "ok.ipynb", v4.new_code_cell("1"))
    wrong = agentforge("run", str(ok), "--output", str(tmp_path / "x.txt"), state=state)
    assert wrong.returncode == 2 and "must end in .ipynb" in wrong.stderr
    unknown = agentforge("run", str(ok), "--dataset", "nope", state=state)
    assert unknown.returncode == 2 and "nope" in unknown.stderr


def test_a_link_planted_beside_a_received_notebook_is_not_written_through(tmp_path: Path) -> None:
    """The executed notebook was written to `.NAME-executed.ipynb.tmp` following links: a
    received folder holding a link by that name made `agentforge run` overwrite its target."""
    received = tmp_path / "received"
    received.mkdir()
    source = write(received / "nb.ipynb", v4.new_code_cell("print('hi')"))
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (received / ".nb-executed.ipynb.tmp").symlink_to(victim)
    out = agentforge("run", str(source), state=tmp_path / "state")
    assert out.returncode == 0, out.stderr
    assert victim.read_text() == "keep me"
    executed = received / "nb-executed.ipynb"
    assert stdout_of(nbformat.read(str(executed), as_version=4).cells[0]) == "hi\n"
    umask = os.umask(0o022)
    os.umask(umask)
    assert executed.stat().st_mode & 0o777 == 0o666 & ~umask  # as any new file
