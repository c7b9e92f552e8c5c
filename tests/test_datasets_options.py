"""Issue 9 #4 and minors: awkward files load correctly or fail clearly, large files are profiled
from the whole file, and datasets.json entries are checked like input (issue 13 §1)."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from agentforge_jupyter.datasets import DatasetError, DatasetRegistry, ReadOptions
from agentforge_jupyter.state import StateDir

from .conftest import require, shared_dir


@pytest.fixture
def registry(tmp_path: Path) -> DatasetRegistry:
    return DatasetRegistry(StateDir(tmp_path / "state"))


def awkward(name: str) -> Path:
    path = shared_dir() / "data" / "awkward" / name
    require(path.exists(), f"{path} exists")
    return path


def test_semicolon_and_decimal_comma_are_sniffed(registry: DatasetRegistry) -> None:
    info = registry.add(awkward("semicolon-decimal-comma.csv"))
    assert info.columns == ["region", "revenue", "units", "date"]
    assert info.options == {"sep": ";", "decimal": ","}
    assert (info.format, info.source_format) == ("parquet", "csv")
    df = registry.load(info.name)
    assert pd.api.types.is_float_dtype(df["revenue"])
    assert info.warnings == []


def test_generated_semicolon_file_keeps_its_numbers(registry: DatasetRegistry, tmp_path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("city;price;qty\nLyon;1,5;2\nGent;12,25;3\nBonn;0,75;4\n", encoding="utf-8")
    info = registry.add(path)
    df = registry.load(info.name)
    assert df["price"].tolist() == [1.5, 12.25, 0.75]
    assert registry.profile(info.name)["columns"][1]["kind"] == "numeric"


def test_latin1_needs_its_encoding_and_says_so(registry: DatasetRegistry, tmp_path) -> None:
    with pytest.raises(DatasetError, match="--encoding latin-1"):
        registry.add(awkward("latin1.csv"))
    assert registry.list() == []
    info = registry.add(awkward("latin1.csv"), encoding="latin-1")
    assert info.options["encoding"] == "latin-1"
    generated = tmp_path / "accents.csv"
    generated.write_bytes("ville,café\nSète,1\nNîmes,2\n".encode("latin-1"))
    df = registry.load(registry.add(generated, encoding="latin-1").name)
    assert list(df.columns) == ["ville", "café"] and df["ville"].tolist() == ["Sète", "Nîmes"]


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b""])
def test_utf16_text_is_named_as_such_not_as_binary(
    registry: DatasetRegistry, tmp_path, bom: bytes
) -> None:
    """Excel's "Unicode Text" and many Windows tools write UTF-16; it was refused as "a binary
    file (contains NUL bytes) ... give it the matching extension (.parquet, .xlsx)"."""
    codec = "utf-16-be" if bom == codecs.BOM_UTF16_BE else "utf-16-le"
    path = tmp_path / "unicode.csv"
    path.write_bytes(bom + "région,n\nNord,1\nSud,2\n".encode(codec))
    with pytest.raises(DatasetError, match="UTF-16") as refused:
        registry.add(path)
    assert "--encoding utf-16" in str(refused.value) and ".xlsx" not in str(refused.value)
    info = registry.add(path, encoding="utf-16" if bom else codec)
    assert info.columns == ["région", "n"] and info.rows == 2


def test_unknown_encoding_and_bad_separator_are_clear(registry: DatasetRegistry, tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DatasetError, match="Unknown text encoding"):
        registry.add(path, encoding="klingon")
    with pytest.raises(DatasetError, match="Invalid separator"):
        registry.add(path, sep=";;")
    with pytest.raises(DatasetError, match="only applies to Excel"):
        registry.add(path, sheet="Sheet2")


def test_explicit_separator_wins(registry: DatasetRegistry, tmp_path) -> None:
    path = tmp_path / "pipes.csv"
    path.write_text("a|b\n1|2\n3|4\n")
    assert registry.add(path, sep="|").columns == ["a", "b"]


def test_single_column_text_file_warns(registry: DatasetRegistry, tmp_path) -> None:
    path = tmp_path / "hashes.csv"
    path.write_text("a#b#c\n1#2#3\n4#5#6\n")
    info = registry.add(path)
    assert len(info.columns) == 1
    (warning,) = info.warnings
    assert "single column" in warning and "--sep" in warning


def test_bom_and_tabs(registry: DatasetRegistry) -> None:
    info = registry.add(awkward("bom-tab.tsv"))
    assert info.columns[0] == "customer id"  # no byte-order mark in the name
    assert "spend (€)" in info.columns


def test_non_tabular_json_is_refused(registry: DatasetRegistry, tmp_path) -> None:
    with pytest.raises(DatasetError, match="not a table"):
        registry.add(awkward("not-a-table.json"))
    doc = tmp_path / "config.json"
    doc.write_text(json.dumps({"config": {"a": {"b": 1}}, "name": "x"}))
    with pytest.raises(DatasetError, match="not a table"):
        registry.add(doc)
    table = tmp_path / "cols.json"
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_json(table, orient="columns")
    assert registry.add(table).rows == 2
    assert registry.list()[0].name == "cols"


def test_excel_sheet_option(registry: DatasetRegistry, tmp_path) -> None:
    require(__import__("importlib").util.find_spec("openpyxl") is not None, "openpyxl installed")
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"a": [1]}).to_excel(writer, sheet_name="first", index=False)
        pd.DataFrame({"b": [2, 3]}).to_excel(writer, sheet_name="second", index=False)
    info = registry.add(path, sheet="second")
    assert (info.columns, info.rows, info.format) == (["b"], 2, "parquet")
    with pytest.raises(DatasetError, match="missing"):
        registry.add(path, name="other", sheet="missing")


def test_a_sheet_named_like_a_number_is_found_by_name(registry: DatasetRegistry, tmp_path) -> None:
    """Year sheets are common: `--sheet 2024` reached the reader as index 2024 ("Worksheet
    index 2024 is invalid"), so such a sheet could not be chosen from the command line."""
    require(__import__("importlib").util.find_spec("openpyxl") is not None, "openpyxl installed")
    path = tmp_path / "years.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"a": [1]}).to_excel(writer, sheet_name="first", index=False)
        pd.DataFrame({"b": [2, 3]}).to_excel(writer, sheet_name="second", index=False)
        pd.DataFrame({"y": [4, 5, 6]}).to_excel(writer, sheet_name="2024", index=False)
    by_name = registry.add(path, name="y2024", sheet="2024")
    assert by_name.columns == ["y"] and by_name.rows == 3 and by_name.options["sheet"] == "2024"
    by_number = registry.add(path, name="n1", sheet="1")  # no sheet named "1": a 0-based number
    assert by_number.columns == ["b"] and by_number.options["sheet"] == 1
    assert list(registry.load("y2024")["y"]) == [4, 5, 6]
    first = registry.add(path, name="n0", sheet="0")
    assert first.format == "excel" and first.columns == ["a"]  # the default sheet: no copy


def test_large_file_profile_samples_the_whole_file(registry: DatasetRegistry, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    n = 60_000
    pd.DataFrame({"order_id": range(n), "amount": [i % 97 for i in range(n)]}).to_csv(
        path, index=False
    )
    info = registry.add(path)
    assert info.rows == n
    profile = registry.profile(info.name, sample_rows=1_000)
    order = {c["name"]: c for c in profile["columns"]}["order_id"]
    assert profile["rows"] == n and profile["sampled_rows"] == 1_000
    assert (order["min"], order["max"]) == (0, n - 1)  # exact, not the head's 999
    again = registry.profile(info.name, sample_rows=1_000)  # cached by content hash
    assert again["columns"] == profile["columns"]


def test_large_parquet_profile_uses_row_groups(registry: DatasetRegistry, tmp_path) -> None:
    path = tmp_path / "big.parquet"
    frame = pd.DataFrame({"x": range(50_000)})
    frame.to_parquet(path, row_group_size=1_000)
    info = registry.add(path)
    profile = registry.profile(info.name, sample_rows=500)
    column = profile["columns"][0]
    assert (profile["rows"], column["min"], column["max"]) == (50_000, 0, 49_999)


# --- datasets.json is input too -------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("file", "../../etc/passwd", "outside data/"),
        ("file", "/etc/passwd", "outside data/"),
        ("file", "data/.hidden", "outside data/"),
        ("name", "other", "named 'other' inside"),
        ("rows", "many", "'rows'"),
        ("format", "pickle", "unknown format"),
    ],
)
def test_hand_edited_entries_are_refused(registry, tmp_path, field, value, message) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("a\n1\n")
    registry.add(path)
    with registry.store.document("datasets").update() as data:
        data["items"]["ok"][field] = value
    with pytest.raises(DatasetError, match=message):
        registry.get("ok")
    assert registry.list() == []
    assert len(registry.problems()) == 1
    registry.remove("ok")
    assert registry.problems() == []


def test_hostile_keys_in_datasets_json(registry, tmp_path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("a\n1\n")
    registry.add(path)
    with registry.store.document("datasets").update() as data:
        data["items"]["../evil\n"] = dict(data["items"]["ok"], name="../evil\n")
    assert [i.name for i in registry.list()] == ["ok"]
    assert "invalid name" in registry.problems()[0]


def test_stored_file_replaced_by_a_symlink_is_not_followed(registry, tmp_path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nhunter2\n")
    path = tmp_path / "ok.csv"
    path.write_text("a\n1\n")
    registry.add(path)
    stored = registry.store.root / "data" / "ok.csv"
    stored.unlink()
    os.symlink(secret, stored)
    with pytest.raises(DatasetError):
        registry.load("ok")


def test_read_options_round_trip() -> None:
    options = ReadOptions(sep=";", decimal=",")
    assert ReadOptions.from_dict(options.to_dict()) == options
    assert options.needs_conversion("csv") and not ReadOptions(sep=",").needs_conversion("csv")
