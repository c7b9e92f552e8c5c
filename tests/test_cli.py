"""The `agentforge` command, run as a real subprocess with its own state directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from .cli_support import agentforge
from .conftest import IN_CI


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


TERMINAL_ESCAPES = ("\x1b", "\x07", "\x9b", "\u202e")


def test_preview_and_profile_print_no_terminal_escapes_from_the_data(
    state: Path, tmp_path: Path
) -> None:
    """Cells and column names are data: printed raw, an OSC 52 sequence could set the user's
    clipboard and CSI 2J clear the screen."""
    csv = tmp_path / "hostile.csv"
    csv.write_text(
        '"name\x1b]52;c;SGk=\x07",v\n"\x1b[2J\x1b]0;title\x07x",1\n"\u202ey",2\n',
        encoding="utf-8",
    )
    assert agentforge("datasets", "add", str(csv), state=state).returncode == 0
    preview = agentforge("datasets", "preview", "hostile", state=state)
    profile = agentforge("datasets", "profile", "hostile", state=state)
    for out in (preview, profile):
        assert out.returncode == 0, out.stderr
        assert not any(ch in out.stdout for ch in TERMINAL_ESCAPES), repr(out.stdout)
    assert "name" in preview.stdout and "x" in preview.stdout and "name" in profile.stdout


def test_error_messages_print_no_terminal_escapes(state: Path, tmp_path: Path) -> None:
    """Errors quote file names, and a file in a cloned repository can be named anything."""
    odd = tmp_path / "d\x1b]0;title\x07\x1b[2J.txt"
    odd.write_text("a\n1\n")
    out = agentforge("datasets", "add", str(odd), state=state)
    assert out.returncode == 2
    assert "Cannot tell the format" in out.stderr and ".txt" in out.stderr
    assert not any(ch in out.stderr for ch in TERMINAL_ESCAPES), repr(out.stderr)


def test_datasets_add_reading_options_and_warnings(state: Path, tmp_path: Path) -> None:
    eu = tmp_path / "eu.csv"
    eu.write_bytes("ville;prix\nSète;1,5\nNîmes;2,25\n".encode("latin-1"))
    refused = agentforge("datasets", "add", str(eu), state=state)
    assert refused.returncode == 2 and "--encoding latin-1" in refused.stderr
    added = agentforge("datasets", "add", str(eu), "--encoding", "latin-1", state=state)
    assert added.returncode == 0, added.stderr
    assert "2 rows x 2 columns" in added.stdout and "sep=';'" in added.stdout
    preview = agentforge("datasets", "preview", "eu", "--json", state=state)
    assert json.loads(preview.stdout)[1] == {"ville": "Nîmes", "prix": 2.25}
    odd = tmp_path / "odd.csv"
    odd.write_text("a#b\n1#2\n")
    warned = agentforge("datasets", "add", str(odd), state=state)
    assert warned.returncode == 0
    assert "agentforge: warning: odd.csv was read as a single column" in warned.stderr
    piped = agentforge("datasets", "add", str(odd), "--name", "odd2", "--sep", "#", state=state)
    assert "2 columns" in piped.stdout and "warning" not in piped.stderr


def test_datasets_add_sheet_named_like_a_year(state: Path, tmp_path: Path) -> None:
    import pandas as pd

    book = tmp_path / "book.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame({"a": [1]}).to_excel(writer, sheet_name="first", index=False)
        pd.DataFrame({"y": [4, 5]}).to_excel(writer, sheet_name="2024", index=False)
    added = agentforge("datasets", "add", str(book), "--sheet", "2024", state=state)
    assert added.returncode == 0, added.stderr
    assert "2 rows x 1 columns" in added.stdout and "sheet='2024'" in added.stdout
    second = agentforge("datasets", "add", str(book), "--sheet", "1", "--name", "s", state=state)
    assert second.returncode == 0 and "sheet=1" in second.stdout, second.stderr


def test_bad_dataset_name_is_refused_with_a_clear_error(state: Path, tmp_path: Path) -> None:
    csv = tmp_path / "x.csv"
    csv.write_text("a\n1\n")
    out = agentforge("datasets", "add", str(csv), "--name", "../evil", state=state)
    assert out.returncode == 2
    assert "agentforge: error:" in out.stderr


def test_output_into_a_closed_pipe_ends_quietly(state: Path) -> None:
    """`agentforge tools show top_n | head -3`: the reader leaves early; the command printed a
    BrokenPipeError traceback."""
    from .cli_support import COMMAND

    env = {**os.environ, "AGENTFORGE_STATE_DIR": str(state)}
    proc = subprocess.Popen(
        [*COMMAND, "datasets", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the command writes anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=600) == 141, err
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_lint_exit_codes_and_json(state: Path) -> None:
    clean = agentforge("lint", "-", state=state, stdin="import pandas as pd\nprint(1)\n")
    assert clean.returncode == 0
    bad = agentforge("lint", "-", "--json", state=state, stdin="import os\nos.system('ls')\n")
    assert bad.returncode == 1
    findings = json.loads(bad.stdout)
    assert {"code", "severity", "line", "col", "message", "hint"} <= set(findings[0])
    assert findings[0]["severity"] == "error"


def _notebook(path: Path, *cells: tuple[str, str]) -> Path:
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(make(source))
    nbformat.write(nb, path)
    return path


def test_lint_several_paths_directories_and_notebooks(state: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "clean.py").write_text("import pandas as pd\nprint(pd.__version__)\n")
    (project / "sub" / "bad.py").write_text("x = 1\nimport os\n")
    (project / ".hidden").mkdir()
    (project / ".hidden" / "skipped.py").write_text("import os\n")
    (project / "notes.txt").write_text("import os\n")
    nb = _notebook(
        tmp_path / "analysis.ipynb",
        ("markdown", "# import os"),
        ("code", "import pandas as pd"),
        ("code", "y = 2\nz = eval('1')"),
    )
    out = agentforge("lint", str(project), str(nb), state=state)
    assert out.returncode == 1, out.stderr
    lines = [line for line in out.stdout.splitlines() if not line.startswith("    ")]
    assert f"{project / 'sub' / 'bad.py'}:2:1: AF101 error: Import of 'os'" in lines[0]
    assert lines[1].startswith(f"{nb}:cell 3:2:5: AF201 error:")
    assert lines[-1] == "2 error(s), 0 warning(s) in 3 file(s)"
    assert "skipped" not in out.stdout and "notes.txt" not in out.stdout


def test_lint_json_names_paths_and_cells(state: Path, tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "a.ipynb", ("code", "print(1)"), ("code", "!ls"))
    out = agentforge("lint", "--json", str(nb), state=state)
    assert out.returncode == 1
    (finding,) = json.loads(out.stdout)
    assert (finding["path"], finding["cell"], finding["code"]) == (str(nb), 2, "AF401")


def test_lint_clean_files_exit_zero(state: Path, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import numpy as np\n")
    (tmp_path / "b.py").write_text("f = open(name)\n")  # a warning does not fail
    out = agentforge("lint", str(tmp_path / "a.py"), str(tmp_path / "b.py"), state=state)
    assert out.returncode == 0, out.stdout
    assert "AF503 warning" in out.stdout


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.py", None, "no such file"),
        ("broken.ipynb", "{not json", "not a Jupyter notebook"),
        ("latin.py", b"x = '\xe9'\n", "not UTF-8"),
    ],
)
def test_lint_unreadable_paths_are_clear_errors(
    state: Path, tmp_path: Path, name: str, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    out = agentforge("lint", str(path), state=state)
    assert out.returncode == 2
    assert message in out.stderr


def test_help_lists_every_command_without_importing_them(state: Path) -> None:
    out = agentforge("--help", state=state)
    assert out.returncode == 0
    for command in ("datasets", "lint", "exec", "doctor", "state", "brains", "tools", "analyze"):
        assert command in out.stdout
    probe = (
        "import sys\nfrom agentforge_jupyter.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'pandas', 'nbformat', 'jupyter_client', 'IPython'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert ran.stdout.strip().endswith("[]"), ran.stdout + ran.stderr


def test_lint_command_does_not_import_pandas(state: Path, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import pandas as pd\n")
    probe = (
        "import sys\nfrom agentforge_jupyter.cli import main\n"
        f"code = main(['lint', {str(tmp_path / 'a.py')!r}])\n"
        "print(code, sorted({'pandas', 'nbformat', 'jupyter_client'} & set(sys.modules)))\n"
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert ran.stdout.strip().endswith("0 []"), ran.stdout + ran.stderr


def test_exec_runs_in_the_sandbox_with_the_dataset(state: Path) -> None:
    code = "print(len(df))\nprint(df['region'].nunique())\n"
    out = agentforge("exec", "-", "--dataset", "sales_q3", "--json", state=state, stdin=code)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "ok"
    assert result["stdout"].split() == ["3101", "5"]
    assert set(result) >= {"status", "stdout", "stderr", "displays", "error", "duration_s"}


def test_exec_prints_no_terminal_escapes_from_the_sandbox(state: Path) -> None:
    """Everything that comes out of the sandbox is hostile, its printed text included."""
    code = (
        "import warnings\nimport pandas as pd\n"
        "print('out\\x1b]52;c;SGk=\\x07\\x1b[2J')\n"
        "warnings.warn('err\\x1b]0;title\\x07')\n"
        "display(pd.Series(['shown\\x9b31m\\u202e']))\n"
        "raise ValueError('boom\\x1b[31m')\n"
    )
    out = agentforge("exec", "-", state=state, stdin=code)
    assert out.returncode == 1, out.stderr
    for text in (out.stdout, out.stderr):
        assert not any(ch in text for ch in TERMINAL_ESCAPES), repr(text)
    assert "out" in out.stdout and "shown" in out.stdout
    assert "err" in out.stderr and "ValueError" in out.stderr


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
