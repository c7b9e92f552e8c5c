"""The magics package: registration, argument parsing, `%agent_datasets`, `%%agent_lint`."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
from IPython.core.error import UsageError
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from agentforge_jupyter import magics as magics_package
from agentforge_jupyter.datasets import DatasetRegistry

PACKAGE_DIR = Path(magics_package.__file__).parent


def dataset_names() -> list[str]:
    return [i.name for i in DatasetRegistry().list()]


def test_load_ext_registers_every_magics_class(magic_shell) -> None:
    registered = magic_shell.magics_manager.registry
    assert {cls.__name__ for cls in magics_package.MAGICS} <= set(registered)
    assert {"agent_datasets", "agent_pull", "agent_brains", "agent_tools"} <= set(
        magic_shell.magics_manager.magics["line"]
    )
    assert {"agent", "agent_lint", "agent_tool"} <= set(magic_shell.magics_manager.magics["cell"])


def test_no_magics_module_imports_the_package_that_registers_it() -> None:
    for path in PACKAGE_DIR.glob("*.py"):
        if path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                target = node.module or ""
                assert not (node.level == 1 and target == ""), f"{path.name}: from . import"
                assert target != "agentforge_jupyter.magics", f"{path.name} imports the package"
                assert not (node.level == 2 and target == "magics"), path.name
    assert not (PACKAGE_DIR.parent / "agent_magics.py").exists()
    assert not (PACKAGE_DIR.parent / "tool_magics.py").exists()


def test_agent_datasets_lists_the_sample(magic_shell) -> None:
    infos = magic_shell.run_line_magic("agent_datasets", "")
    assert [i.name for i in infos] == ["sales_q3"]
    assert [i.name for i in magic_shell.run_line_magic("agent_datasets", "list")] == ["sales_q3"]


def test_agent_datasets_add_preview_profile_remove(magic_shell, tmp_path: Path, capsys) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n1,2\n3,4\n")
    info = magic_shell.run_line_magic("agent_datasets", f"add {csv} --name tiny")
    assert (info.name, info.rows) == ("tiny", 2)
    frame = magic_shell.run_line_magic("agent_datasets", "preview tiny -n 1")
    assert frame.to_dict(orient="records") == [{"a": 1, "b": 2}]
    assert len(magic_shell.run_line_magic("agent_datasets", "preview tiny --rows 5")) == 2
    magic_shell.run_line_magic("agent_datasets", "profile tiny")
    assert "a" in capsys.readouterr().out
    assert magic_shell.run_line_magic("agent_datasets", "remove tiny").name == "tiny"
    assert dataset_names() == ["sales_q3"]


def test_agent_datasets_add_reads_awkward_text_files(magic_shell, tmp_path: Path) -> None:
    semicolons = tmp_path / "eu.csv"
    semicolons.write_bytes("région;montant\nNord;1,5\nSüd;2,25\n".encode("latin-1"))
    info = magic_shell.run_line_magic(
        "agent_datasets", f"add {semicolons} --name eu --sep ; --decimal , --encoding latin-1"
    )
    assert info.columns == ["région", "montant"]
    frame = DatasetRegistry().load("eu")
    assert frame["montant"].tolist() == [1.5, 2.25]
    one_column = tmp_path / "one.csv"
    one_column.write_text("a|b|c\n1|2|3\n")
    added = magic_shell.run_line_magic("agent_datasets", f"add {one_column} --sep ,")
    assert any("single column" in w or "one column" in w for w in added.warnings)


def test_agent_datasets_add_a_sheet_named_like_a_year(magic_shell, tmp_path: Path) -> None:
    import pandas as pd

    book = tmp_path / "book.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame({"a": [1]}).to_excel(writer, sheet_name="first", index=False)
        pd.DataFrame({"y": [4, 5]}).to_excel(writer, sheet_name="2024", index=False)
    info = magic_shell.run_line_magic("agent_datasets", f"add {book} --sheet 2024")
    assert info.columns == ["y"] and info.options["sheet"] == "2024"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("add data.csv --name", "--name: expected one argument"),
        ("preview sales_q3 -n x", "expected a whole number, not 'x'"),
        ("preview sales_q3 -n 0", "must be 1 or more"),
        ("list --bogus", "unrecognized arguments: --bogus"),
        ("preview sales_q3 --bogus 3", "unrecognized arguments: --bogus 3"),
        ("frobnicate", "invalid choice: 'frobnicate'"),
        ("add", "required: path"),
        ("remove", "required: name"),
        ("preview nope", "No dataset named 'nope'"),
        ("remove nope", "No dataset named 'nope'"),
        ("add /does/not/exist.csv", "exist.csv"),
    ],
)
def test_agent_datasets_usage_errors_are_clear_and_lose_nothing(
    magic_shell, line: str, message: str
) -> None:
    magic_shell.run_line_magic("agent_datasets", "")  # the sample is registered first
    with pytest.raises(UsageError, match="agent_datasets") as raised:
        magic_shell.run_line_magic("agent_datasets", line)
    assert message in str(raised.value)
    assert dataset_names() == ["sales_q3"]


def test_usage_error_in_a_cell_shows_one_message_not_a_traceback(magic_shell, capsys) -> None:
    result = magic_shell.run_cell("%agent_datasets preview sales_q3 -n x")
    assert not result.success and isinstance(result.error_in_exec, UsageError)
    err = capsys.readouterr().err
    assert "UsageError: %agent_datasets: argument -n/--rows" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("cell", "usage"),
    [
        ("%agent_datasets --help", "%agent_datasets [-h] {list,add,preview,profile,remove}"),
        ("%agent_datasets add --help", "%agent_datasets add [-h] [--name NAME] [--sep SEP]"),
        ("%agent_datasets preview -h", "[-n ROWS] name"),
        ("%%agent --help", "%%agent [-h] [--dataset DATASET]"),
        ("%%agent --help\nsome goal", "--keep-attrs"),
        ("%%agent_tool --help", "%%agent_tool [-h] [--name NAME]"),
        ("%agent_tools --help", "%agent_tools [-h] [-k TOP] [query ...]"),
        ("%%agent_lint --help", "%%agent_lint [-h]"),
        ("%agent_brains --help", "%agent_brains [-h]"),
        ("%agent_pull --help", "%agent_pull [-h] [--as VARIABLE] name"),
    ],
)
def test_help_prints_usage_and_does_nothing_else(magic_shell, capsys, cell: str, usage) -> None:
    result = magic_shell.run_cell(cell)
    assert result.success and result.result is None
    assert usage in capsys.readouterr().out
    assert dataset_names() == []  # help did not even open the registry


def test_agent_lint_returns_findings(magic_shell) -> None:
    findings = magic_shell.run_cell_magic("agent_lint", "", "import os\nos.system('ls')\n")
    assert findings and findings[0].severity == "error" and findings[0].code == "AF101"
    assert magic_shell.run_cell_magic("agent_lint", "", "import pandas as pd\n") == []
    with pytest.raises(UsageError, match="unrecognized arguments: --strict"):
        magic_shell.run_cell_magic("agent_lint", "--strict", "x = 1\n")


def test_a_failing_magic_fails_a_headless_notebook_run(tmp_path: Path, monkeypatch) -> None:
    """papermill/nbclient convention: an error in a magic stops the run with that error."""
    monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(tmp_path / "state"))
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("%load_ext agentforge_jupyter"),
            nbformat.v4.new_code_cell("%agent_datasets preview nope"),
            nbformat.v4.new_code_cell("reached = True"),
        ]
    )
    client = NotebookClient(notebook, timeout=120, kernel_name="python3")
    with pytest.raises(CellExecutionError) as raised:
        client.execute()
    assert raised.value.ename == "UsageError"
    assert "No dataset named 'nope'" in raised.value.evalue
    assert not notebook.cells[2].outputs and notebook.cells[2].execution_count is None
