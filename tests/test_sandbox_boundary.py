"""The sandbox boundary against a real kernel under bubblewrap: sys.path, datasets, host memory,
malformed and forged messages, disk, permissions, masked /proc, results and transfers."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from agentforge_jupyter.sandbox import SyncSandbox
from agentforge_jupyter.sandbox.result import TABLE, TEXT
from agentforge_jupyter.sandbox.workspace import TransferError

from .conftest import require

RAW_SEND = """
def _raw(msg_type, content):
    k = get_ipython().kernel
    s = k.session
    parent = k.get_parent("shell")
    parts = [s.pack(s.msg_header(msg_type)), s.pack(parent["header"]), s.pack({}), content]
    k.iopub_socket.send_multipart([msg_type.encode(), b"<IDS|MSG>", s.sign(parts), *parts])
"""


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("datasets")
    path.chmod(0o755)
    (path / "listed.csv").write_text("a,b\n1,2\n3,4\n")
    (path / "unlisted.csv").write_text("secret,column\n1,2\n")
    for name in ("listed.csv", "unlisted.csv"):
        (path / name).chmod(0o644)
    return path


@pytest.fixture(scope="module")
def sandbox(datasets: Path):
    from agentforge_jupyter.sandbox.isolation import detect_isolation

    report = detect_isolation()
    require(report.level == "full", f"full sandbox isolation unavailable: {report.reason}")
    with SyncSandbox(
        isolation="full",
        dataset_files=[datasets / "listed.csv"],
        default_timeout=30.0,
        max_message_mb=1,
        disk_mb=64,
        max_parquet_rows=1000,
    ) as sb:
        yield sb


def text_of(result) -> str:
    return "\n".join(d.data for d in result.displays if d.mime == TEXT)


def alive(sandbox: SyncSandbox) -> bool:
    return text_of(sandbox.execute("1+1")) == "2"


# ----- sys.path ---------------------------------------------------------------------------
def test_no_writable_directory_is_on_sys_path(sandbox: SyncSandbox) -> None:
    result = sandbox.execute(
        "import os, sys\n"
        "open('statistics.py', 'w').write('HIJACKED = True\\n')\n"
        "open('agentforge_probe_mod.py', 'w').write('HIJACKED = True\\n')\n"
        "sys.modules.pop('statistics', None)\n"
        "import statistics\n"
        "print(hasattr(statistics, 'HIJACKED'), statistics.__file__.startswith(os.getcwd()))\n"
        "try:\n    import agentforge_probe_mod\n    print('imported')\n"
        "except ModuleNotFoundError:\n    print('not found')\n"
        "print([p for p in sys.path if p in ('', '.', os.getcwd())])\n"
        "print([p for p in sys.path if p and os.access(p, os.W_OK)])\n"
    )
    assert result.stdout.splitlines() == ["False False", "not found", "[]", "[]"], result


# ----- datasets ---------------------------------------------------------------------------
def test_only_listed_dataset_files_are_visible_read_only(sandbox: SyncSandbox) -> None:
    sandbox.load_dataset("listed.csv", "csv")
    result = sandbox.execute(
        "import os\nprint(sorted(os.listdir('data')), df.shape)\n"
        "try:\n    open('data/listed.csv', 'a')\nexcept OSError as e:\n    print('refused')"
    )
    assert result.stdout.splitlines() == ["['listed.csv'] (2, 2)", "refused"], result


# ----- host memory and malformed messages ---------------------------------------------------
def test_oversized_message_kills_the_kernel_and_reports_limit(sandbox: SyncSandbox) -> None:
    sandbox.execute("before_oversize = 1")
    result = sandbox.execute("display({'text/plain': 'x' * 3_000_000}, raw=True)")
    assert result.status == "limit", result
    assert result.state_lost and any("1 MiB limit" in n for n in result.notes)
    assert alive(sandbox)
    assert sandbox.execute("print('before_oversize' in dir())").stdout == "False\n"


@pytest.mark.parametrize(
    "content",
    [
        "b'{\"name\": \"stdout\", \"text\": ' + b'[' * 100000 + b']' * 100000 + b'}'",
        "b'\\xff\\xfe this is not json'",
    ],
    ids=["nested-100000", "garbage"],
)
def test_malformed_message_ends_as_error_and_replaces_the_kernel(
    sandbox: SyncSandbox, content: str
) -> None:
    result = sandbox.execute(RAW_SEND + f"_raw('stream', {content})\nimport time; time.sleep(1)")
    assert result.status == "error", result
    assert result.state_lost and any("malformed" in n for n in result.notes), result
    assert alive(sandbox)


def test_forged_idle_does_not_end_the_execution(sandbox: SyncSandbox) -> None:
    code = (
        RAW_SEND
        + "import json, time\n_raw('status', json.dumps({'execution_state': 'idle'}).encode())\n"
        "time.sleep(1.5)\nprint('after the forged idle')\n"
    )
    result = sandbox.execute(code)
    assert result.status == "ok", result
    assert result.stdout == "after the forged idle\n"


def test_the_host_deadline_holds_whatever_the_kernel_sends(sandbox: SyncSandbox) -> None:
    code = (
        RAW_SEND + "import json, time\nwhile True:\n"
        "    _raw('status', json.dumps({'execution_state': 'idle'}).encode())\n"
        "    time.sleep(0.01)\n"
    )
    result = sandbox.execute(code, timeout=2.0)
    assert result.status == "timeout"
    assert alive(sandbox)


def test_large_dataframe_is_refused_from_the_parquet_footer(sandbox: SyncSandbox) -> None:
    sandbox.execute("import pandas as pd\nbig = pd.DataFrame({'x': range(5000)})")
    with pytest.raises(TransferError, match=r"5000 rows \(limit 1000\)"):
        sandbox.get_dataframe("big")


# ----- disk -----------------------------------------------------------------------------------
def test_total_disk_use_is_capped(sandbox: SyncSandbox) -> None:
    result = sandbox.execute(
        "import os\nfor i in range(200):\n"
        "    with open(f'fill{i}.bin', 'wb') as f:\n        f.write(b'x' * 2**20)\n"
    )
    assert result.status == "error"
    assert "No space left" in result.error.value or result.error.name == "OSError", result
    cleanup = sandbox.execute("import glob, os\nfor p in glob.glob('fill*.bin'):\n    os.remove(p)")
    assert cleanup.status == "ok"


@pytest.mark.usefixtures("full_isolation")
def test_cleanup_survives_deep_trees_and_hostile_modes(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    with SyncSandbox(isolation="full", disk_mb=0) as sb:
        result = sb.execute(
            "import os\nos.makedirs('/'.join(['d'] * 2) , exist_ok=True)\n"
            "for i in range(5000):\n    os.mkdir('n'); os.chdir('n')\n"
            "open('leaf', 'w').write('x')\nos.chdir('/workspace')\nos.chmod('d', 0)\n"
            f"os.symlink({str(outside)!r}, 'link')\n"
        )
        assert result.status == "ok", result
        private = sb.sandbox.dirs.private
    assert not private.exists()
    assert outside.read_text() == "keep me"


# ----- temporary directories and permissions ----------------------------------------------------
def test_a_base_directory_others_can_write_is_refused(tmp_path: Path, monkeypatch) -> None:
    import tempfile

    from agentforge_jupyter.errors import SandboxError
    from agentforge_jupyter.sandbox.workspace import private_base

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    base = tmp_path / f"agentforge-{os.geteuid()}"
    base.mkdir()
    base.chmod(0o777)
    with pytest.raises(SandboxError, match="not 0700"):
        private_base()
    base.rmdir()
    base.symlink_to(tmp_path)
    with pytest.raises(SandboxError, match="symlink"):
        private_base()
    base.unlink()
    assert stat.S_IMODE(private_base().stat().st_mode) == 0o700


def test_another_uid_cannot_read_the_inbox(sandbox: SyncSandbox) -> None:
    require(os.geteuid() == 0 and shutil.which("setpriv") is not None, "needs root and setpriv")
    sandbox.put_dataframe(pd.DataFrame({"secret": ["s3cr3t"]}), "inbound")
    dirs = sandbox.sandbox.dirs
    files = list(dirs.inbox.iterdir())
    assert files
    for path in files:
        info = path.stat()
        assert stat.S_IMODE(info.st_mode) == 0o600
        assert info.st_uid == sandbox.sandbox.uid
    for path in (dirs.private, dirs.private.parent, dirs.ipc, dirs.outbox, dirs.log):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    probe = subprocess.run(
        ["setpriv", "--reuid", "54321", "--regid", "54321", "--clear-groups", sys.executable,
         "-c", f"open({str(files[0])!r}, 'rb').read()"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert probe.returncode != 0 and "PermissionError" in probe.stderr


# ----- information -----------------------------------------------------------------------------
def test_host_kernel_information_is_masked(sandbox: SyncSandbox) -> None:
    result = sandbox.execute(
        "import os\nfor p in ('/proc/cmdline', '/proc/key-users', '/proc/config.gz'):\n"
        "    print(p, len(open(p, 'rb').read()) if os.path.exists(p) else 'absent')"
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "/proc/cmdline 0" and lines[1] == "/proc/key-users 0", result
    assert lines[2].endswith((" 0", "absent"))


# ----- results and transfers ---------------------------------------------------------------------
def test_memory_error_is_a_limit_whatever_the_display_hook_did(sandbox: SyncSandbox) -> None:
    result = sandbox.execute('x = []\nfor i in range(100000):\n    x.append(" " * 10**6)')
    assert result.status == "limit", result
    sandbox.execute("del x")


def test_any_dataframe_a_user_can_build_crosses(sandbox: SyncSandbox) -> None:
    notes = sandbox.put_dataframe(pd.DataFrame({"b": [[1, 2], "s", None]}), "mixed_lists")
    result = sandbox.execute("b = mixed_lists['b']\nprint(b[:2].tolist(), b.isna().tolist())")
    assert result.stdout == "['[1, 2]', 's'] [False, False, True]\n", result
    assert any("as text" in n for n in notes)
    with pytest.raises(TransferError, match="duplicate column"):
        sandbox.put_dataframe(pd.DataFrame([[1, 2]], columns=["a", "a"]), "dupes")


def test_attrs_are_dropped_unless_kept(sandbox: SyncSandbox) -> None:
    frame = pd.DataFrame({"a": [1]})
    frame.attrs["db_url"] = "postgres://user:hunter2@db/prod"
    notes = sandbox.put_dataframe(frame, "with_attrs")
    assert any("attrs dropped" in n and "db_url" in n for n in notes)
    assert sandbox.execute("print(with_attrs.attrs)").stdout == "{}\n"
    sandbox.put_dataframe(frame, "kept_attrs", keep_attrs=True)
    assert "hunter2" in sandbox.execute("print(kept_attrs.attrs)").stdout


@pytest.fixture
def crafted_export(sandbox: SyncSandbox):
    """Code in the sandbox replaces DataFrame.to_parquet to write a crafted file."""

    def install(code: str) -> None:
        result = sandbox.execute("import pandas as pd\n_af_keep = pd.DataFrame.to_parquet\n" + code)
        assert result.status == "ok", result

    yield install
    sandbox.execute("import pandas as pd\npd.DataFrame.to_parquet = _af_keep")


def test_pandas_metadata_from_the_sandbox_is_ignored(sandbox: SyncSandbox, crafted_export):
    crafted_export(
        "import json, pandas as pd, pyarrow as pa, pyarrow.parquet as pq\n"
        "def crafted(self, path, *a, **k):\n"
        "    table = pa.table({'n': [1, 2, 3]})\n"
        "    meta = {'index_columns': [], 'column_indexes': [], 'columns': [{'name': 'n',\n"
        "        'field_name': 'n', 'pandas_type': 'period', 'numpy_type': 'period[D]',\n"
        "        'metadata': None}], 'pandas_version': pd.__version__}\n"
        "    table = table.replace_schema_metadata({'pandas': json.dumps(meta)})\n"
        "    pq.write_table(table, path)\n"
        "pd.DataFrame.to_parquet = crafted\nperiodic = pd.DataFrame({'n': [1, 2, 3]})\n",
    )
    back = sandbox.get_dataframe("periodic")
    assert str(back["n"].dtype) == "int64" and back["n"].tolist() == [1, 2, 3]


def test_a_crafted_time_zone_is_refused(sandbox: SyncSandbox, crafted_export) -> None:
    crafted_export(
        "import pandas as pd, pyarrow as pa, pyarrow.parquet as pq\n"
        "def crafted(self, path, *a, **k):\n"
        "    kind = pa.timestamp('s', tz='/etc/shadow')\n"
        "    pq.write_table(pa.table({'t': pa.array([0], type=kind)}), path)\n"
        "pd.DataFrame.to_parquet = crafted\nzoned = pd.DataFrame({'t': [1]})\n",
    )
    with pytest.raises(TransferError, match="unknown time zone"):
        sandbox.get_dataframe("zoned")


def test_real_dtypes_come_back(sandbox: SyncSandbox) -> None:
    frame = pd.DataFrame(
        {
            "i": [1, 2],
            "f": [0.5, None],
            "s": ["x", None],
            "c": pd.Categorical(["u", "v"]),
            "t": pd.to_datetime(["2024-07-01", "2024-07-02"]).tz_localize("Europe/Berlin"),
        },
        index=pd.Index([10, 20], name="key"),
    )
    sandbox.put_dataframe(frame, "typed")
    sandbox.execute("typed_out = typed.copy()")
    back = sandbox.get_dataframe("typed_out")
    assert list(back.columns) == ["i", "f", "s", "c", "t"] and back.index.name == "key"
    assert str(back["i"].dtype) == "int64" and str(back["c"].dtype) == "category"
    assert str(back["t"].dtype).endswith(", Europe/Berlin]")
    assert back["t"].tolist() == frame["t"].tolist()


def test_rebuilt_tables_show_plain_dates_and_times(sandbox: SyncSandbox) -> None:
    result = sandbox.execute(
        "import pandas as pd\npd.DataFrame({'day': pd.to_datetime(['2024-07-01', None]),\n"
        "    'at': pd.to_datetime(['2024-07-01 13:45', '2024-07-02 00:00'])})"
    )
    table = next(d.data for d in result.displays if d.mime == TABLE)
    assert table["rows"] == [["2024-07-01", "2024-07-01 13:45:00"], [None, "2024-07-02 00:00:00"]]


@pytest.mark.usefixtures("full_isolation")
def test_a_private_dataset_file_is_readable_by_the_sandbox_uid_alone(tmp_path: Path) -> None:
    require(os.geteuid() == 0 and shutil.which("setpriv") is not None, "needs root and setpriv")
    tmp_path.chmod(0o755)  # only the file's own permissions keep another uid out
    private = tmp_path / "private.csv"
    private.write_text("a\n1\n")
    private.chmod(0o600)
    with SyncSandbox(isolation="full", dataset_files=[private]) as sb:
        sb.load_dataset("private.csv", "csv")
        assert sb.execute("print(int(df['a'].sum()))").stdout == "1\n"
        other = subprocess.run(
            ["setpriv", "--reuid", "54321", "--regid", "54321", "--clear-groups", "cat",
             str(private)],
            capture_output=True, timeout=60,
        )  # fmt: skip
        assert other.returncode != 0  # only the sandbox's uid was given access
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    with pytest.raises(OSError):
        os.getxattr(private, "system.posix_acl_access")
