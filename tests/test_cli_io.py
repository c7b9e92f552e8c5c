"""CLI output: the shared text table (agentforge_jupyter.text_table) and inert JSON."""

from __future__ import annotations

from agentforge_jupyter.text_table import text_table


def test_numbers_align_right_text_left_and_cells_stay_on_one_line() -> None:
    table = text_table(
        ["name", "rows"], [["sales\nq3\x1b]52;c;eA==\x07", 1200], ["b", 7]], max_width=12
    )
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("name") and lines[0].endswith("rows")
    assert lines[2].endswith("1200") and lines[3].endswith("   7")
    assert "\x1b" not in table and "\x07" not in table
    assert all(len(cell) <= 12 for line in lines[2:] for cell in line.split("  ") if cell)


def test_json_output_escapes_what_a_terminal_could_act_on(capsys) -> None:
    import json

    from agentforge_jupyter.cli._io import print_json

    value = {"t": "csi \x9b31m bidi \u202e sep \u2028 esc \x1b]52;c;eA==\x07 é"}
    print_json(value)
    out = capsys.readouterr().out
    assert json.loads(out) == value
    assert not any(ch in out for ch in "\x9b\u202e\u2028\x1b\x07") and "é" in out


def test_a_dataset_given_as_a_path_that_is_not_a_file_says_so(tmp_path, monkeypatch) -> None:
    """`analyze --dataset ./nope.csv` and `run --dataset /tmp` answered "No dataset named
    './nope.csv'", about names, when the user had typed a path."""
    import pytest

    from agentforge_jupyter.cli._io import dataset_name
    from agentforge_jupyter.errors import DatasetError

    monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(tmp_path / "state"))
    with pytest.raises(DatasetError, match=r"No file at .*nope\.csv") as missing:
        dataset_name("./nope.csv")
    assert "No dataset named" not in str(missing.value)
    with pytest.raises(DatasetError, match="is not a regular file"):
        dataset_name(str(tmp_path))
    with pytest.raises(DatasetError, match=r"No dataset named 'nope\.csv'.*no file at"):
        dataset_name("nope.csv")  # a valid name too: both are said
    assert dataset_name("sales_q3") == "sales_q3"
