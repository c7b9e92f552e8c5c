"""KernelSandbox against a real ipykernel: outputs, limits, restarts, transfers."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from agentforge_jupyter.sandbox import SyncSandbox
from agentforge_jupyter.sandbox.result import PNG, TABLE, TEXT
from agentforge_jupyter.sandbox.workspace import TransferError, read_outbox_file

SECRET = "sk-test-sandbox-0123456789"


@pytest.fixture(scope="module")
def datasets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("datasets")
    path.chmod(0o755)  # the sandbox user reads it through a read-only mount
    pd.DataFrame({"region": ["N", "S", "N"], "revenue": [1.0, 2.5, 4.0]}).to_csv(
        path / "sales.csv", index=False
    )
    return path


@pytest.fixture(scope="module")
def sandbox(datasets_dir: Path):
    os.environ["OPENAI_API_KEY"] = SECRET
    try:
        with SyncSandbox(datasets_dir=str(datasets_dir), default_timeout=20.0) as sb:
            yield sb
    finally:
        os.environ.pop("OPENAI_API_KEY", None)


def text_of(result) -> str:
    return "\n".join(d.data for d in result.displays if d.mime == TEXT)


def test_expression_value_and_prints(sandbox: SyncSandbox) -> None:
    result = sandbox.execute("print('hello'); import sys; print('oops', file=sys.stderr); 6*7")
    assert result.status == "ok"
    assert result.stdout == "hello\n"
    assert result.stderr == "oops\n"
    assert text_of(result) == "42"


def test_state_persists_between_executions(sandbox: SyncSandbox) -> None:
    sandbox.execute("counter = 41")
    assert text_of(sandbox.execute("counter + 1")) == "42"


def test_error_has_name_value_and_traceback(sandbox: SyncSandbox) -> None:
    result = sandbox.execute("def f():\n    return 1/0\nf()")
    assert result.status == "error"
    assert result.error is not None
    assert result.error.name == "ZeroDivisionError"
    assert "division by zero" in result.error.value
    assert any("f()" in line for line in result.error.traceback)
    assert not any("\x1b[" in line for line in result.error.traceback)


def test_matplotlib_figure_comes_back_as_png(sandbox: SyncSandbox) -> None:
    result = sandbox.execute("import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()")
    assert result.status == "ok"
    assert [d.mime for d in result.displays] == [PNG]


def test_dataframe_comes_back_as_rebuilt_table(sandbox: SyncSandbox) -> None:
    result = sandbox.execute("import pandas as pd\npd.DataFrame({'a': [1, 2], 'b': ['x', None]})")
    tables = [d.data for d in result.displays if d.mime == TABLE]
    assert tables == [
        {
            "columns": ["a", "b"],
            "index": ["0", "1"],
            "rows": [[1, "x"], [2, None]],
            "dtypes": ["int64", tables[0]["dtypes"][1]],
            "total_rows": 2,
            "total_columns": 2,
        }
    ]


def test_html_javascript_and_svg_never_leave_the_sandbox(sandbox: SyncSandbox) -> None:
    result = sandbox.execute(
        "from IPython.display import HTML, Javascript, SVG, display\n"
        "display(HTML('<script>alert(1)</script>'))\n"
        "display(Javascript('alert(document.cookie)'))\n"
        "display({'text/html': '<img src=x onerror=alert(1)>'}, raw=True)\n"
        "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>'))"
    )
    assert result.status == "ok"
    for display in result.displays:
        assert display.mime in (PNG, TEXT, TABLE)
        assert "<script" not in str(display.data)
        assert "onerror" not in str(display.data)


def test_dataset_is_loaded_read_only(sandbox: SyncSandbox) -> None:
    sandbox.load_dataset("sales.csv", "csv")
    result = sandbox.execute("print(df['revenue'].sum())")
    assert result.stdout.strip() == "7.5"
    write = sandbox.execute("open('data/sales.csv', 'a').write('x')")
    assert write.status == "error"


def test_workspace_is_writable(sandbox: SyncSandbox) -> None:
    result = sandbox.execute("df.to_csv('out.csv', index=False); print(open('out.csv').read())")
    assert result.status == "ok"
    assert "region,revenue" in result.stdout


def test_secrets_from_the_parent_environment_are_absent(sandbox: SyncSandbox) -> None:
    result = sandbox.execute(
        "import os\nprint(sorted(os.environ))\nprint(open('/proc/self/environ','rb').read())"
    )
    assert SECRET not in result.stdout
    assert "OPENAI_API_KEY" not in result.stdout


def test_programs_cannot_be_started(sandbox: SyncSandbox) -> None:
    result = sandbox.execute("import subprocess\nsubprocess.run(['/usr/bin/id'])")
    assert result.status == "error"
    assert result.error.name == "PermissionError"


def test_dataframe_round_trip_through_parquet(sandbox: SyncSandbox) -> None:
    frame = pd.DataFrame({"x": [1, 2, 3], "when": pd.date_range("2024-01-01", periods=3)})
    sandbox.put_dataframe(frame, "incoming")
    sandbox.execute("outgoing = incoming.assign(y=incoming.x * 2)")
    back = sandbox.get_dataframe("outgoing")
    assert back["y"].tolist() == [2, 4, 6]
    assert back["when"].tolist() == frame["when"].tolist()


def test_mixed_type_columns_cross_as_text(sandbox: SyncSandbox) -> None:
    frame = pd.DataFrame({"units": [3, "twelve", None], 7: [1.0, 2.0, 3.0]})
    sandbox.put_dataframe(frame, "mixed")
    result = sandbox.execute("print(mixed['units'].tolist(), list(mixed.columns))")
    assert result.stdout == "['3', 'twelve', nan] ['units', '7']\n"


def test_get_dataframe_refuses_other_objects(sandbox: SyncSandbox) -> None:
    sandbox.execute("not_a_frame = {'a': 1}")
    with pytest.raises(TransferError, match="not a DataFrame"):
        sandbox.get_dataframe("not_a_frame")
    with pytest.raises(TransferError, match="not a valid Python variable"):
        sandbox.get_dataframe("x; import os")


def test_put_file_lands_in_workspace(sandbox: SyncSandbox, tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("from the host")
    sandbox.put_file(source, "inputs/notes.txt")
    assert sandbox.execute("print(open('inputs/notes.txt').read())").stdout == "from the host\n"
    with pytest.raises(TransferError, match="relative path"):
        sandbox.put_file(source, "../escape.txt")


def test_timeout_interrupts_and_keeps_variables(sandbox: SyncSandbox) -> None:
    sandbox.execute("kept = 'still here'")
    result = sandbox.execute("while True:\n    pass", timeout=1.5)
    assert result.status == "timeout"
    assert not result.state_lost
    assert "interrupted" in result.notes[0]
    assert sandbox.execute("print(kept)").stdout == "still here\n"


def test_code_ignoring_interrupts_is_killed_and_restarted(sandbox: SyncSandbox) -> None:
    sandbox.execute("doomed = 1")
    result = sandbox.execute(
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
        timeout=1.5,
    )
    assert result.status == "timeout"
    assert result.state_lost
    assert "restarted" in result.notes[0]
    after = sandbox.execute("print('doomed' in dir())\nprint(df.shape)")
    # Variables are gone, but the dataset was loaded again after the restart.
    assert after.stdout == "False\n(3, 2)\n"


def test_crash_is_detected_and_kernel_restarted(sandbox: SyncSandbox) -> None:
    result = sandbox.execute("import ctypes\nctypes.string_at(0)")
    assert result.status == "crashed"
    assert result.state_lost
    assert "SIGSEGV" in result.notes[0]
    assert text_of(sandbox.execute("1+1")) == "2"


def test_memory_limit_reports_limit(sandbox: SyncSandbox) -> None:
    result = sandbox.execute("x = bytearray(64 * 2**30)")
    assert result.status == "limit"
    assert result.error.name == "MemoryError"


def test_output_is_capped_and_a_flood_is_stopped(sandbox: SyncSandbox) -> None:
    result = sandbox.execute("for i in range(10**7):\n    print('x' * 100)", timeout=60)
    assert result.status == "limit"
    assert len(result.stdout) == sandbox.sandbox.config.max_output_chars
    assert any("truncated" in note for note in result.notes)
    assert text_of(sandbox.execute("1+1")) == "2"


def test_processes_do_not_outlive_their_execution(sandbox: SyncSandbox) -> None:
    result = sandbox.execute(
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n    os._exit(0)"
    )
    assert any("killed" in note for note in result.notes)
    assert text_of(sandbox.execute("1+1")) == "2"


def test_outbox_reader_refuses_links(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("host secret")
    (tmp_path / "link.parquet").symlink_to(tmp_path / "secret")
    with pytest.raises(TransferError):
        read_outbox_file(tmp_path, "link.parquet", 1000)
    (tmp_path / "big.parquet").write_bytes(b"x" * 2000)
    with pytest.raises(TransferError, match="transfer limit"):
        read_outbox_file(tmp_path, "big.parquet", 1000)


@pytest.mark.usefixtures("full_isolation")
def test_full_isolation_runs_unprivileged_without_network_or_host_files(
    sandbox: SyncSandbox, tmp_path: Path
) -> None:
    assert sandbox.isolation.level == "full"
    host_file = tmp_path / "host-only.txt"
    host_file.write_text("host")
    result = sandbox.execute(
        "import os, socket\n"
        "print(os.getuid(), os.getcwd())\n"
        "try:\n    socket.create_connection(('127.0.0.1', 22), timeout=2)\n"
        "except OSError as e:\n    print('no network')\n"
        f"print(os.path.exists('/etc/passwd'), os.path.exists({str(host_file)!r}))"
    )
    uid = sandbox.sandbox.uid if os.geteuid() == 0 else os.geteuid()
    assert result.stdout.splitlines() == [f"{uid} /workspace", "no network", "False False"]
