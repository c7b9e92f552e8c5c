"""Dataset registry: formats, names, preview, profile, removal, errors, the packaged sample."""

from __future__ import annotations

import hashlib
import json
import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agentforge_jupyter import datasets as ds
from agentforge_jupyter.datasets import (
    SAMPLE_NAME,
    SAMPLE_PATH,
    DatasetError,
    DatasetRegistry,
    DuplicateDatasetError,
    UnknownDatasetError,
    count_rows,
    profile_frame,
    profile_text,
)
from agentforge_jupyter.errors import CorruptStateError
from agentforge_jupyter.samples import make_sales_q3
from agentforge_jupyter.state import STATE_DIR_ENV, StateDir

FRAME = pd.DataFrame(
    {
        "id": [1, 2, 3],
        "city": ["Oslo", "Lima", "Pune"],
        "amount": [1.5, 2.25, None],
        "day": ["2024-07-01", "2024-07-02", "2024-07-03"],
    }
)


@pytest.fixture
def store(tmp_path):
    return StateDir(tmp_path / "state")


@pytest.fixture
def registry(store):
    return DatasetRegistry(store)


def _write(path, fmt):
    if fmt == "csv":
        FRAME.to_csv(path, index=False)
    elif fmt == "tsv":
        FRAME.to_csv(path, index=False, sep="\t")
    elif fmt == "json-records":
        FRAME.to_json(path, orient="records")
    elif fmt == "json-columns":
        FRAME.to_json(path, orient="columns")
    elif fmt == "jsonl":
        FRAME.to_json(path, orient="records", lines=True)
    elif fmt == "parquet":
        FRAME.to_parquet(path)
    elif fmt == "xlsx":
        FRAME.to_excel(path, index=False)
    return path


@pytest.mark.parametrize(
    ("fmt", "filename", "stored_format"),
    [
        ("csv", "cities.csv", "csv"),
        ("tsv", "cities.tsv", "tsv"),
        ("json-records", "cities.json", "json"),
        ("json-columns", "cities.json", "json"),
        ("jsonl", "cities.jsonl", "jsonl"),
        ("parquet", "cities.parquet", "parquet"),
        ("xlsx", "cities.xlsx", "excel"),
    ],
)
def test_add_each_format(registry, store, tmp_path, fmt, filename, stored_format):
    src = _write(tmp_path / filename, fmt)
    info = registry.add(src)
    assert info.name == "cities"
    assert info.format == stored_format
    assert info.rows == 3
    assert info.columns == ["id", "city", "amount", "day"]
    assert set(info.dtypes) == set(info.columns)
    assert info.size == src.stat().st_size
    assert info.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    assert info.source == str(src)
    assert info.added.endswith("+00:00")
    assert len(info.id) == 12
    stored = store.root / info.file
    assert info.file == f"data/cities.{ds.STORED_EXTENSION[stored_format]}"
    assert stored.read_bytes() == src.read_bytes()
    assert registry.path("cities") == stored
    df = registry.load("cities")
    assert df.shape == (3, 4)
    assert list(df["city"]) == ["Oslo", "Lima", "Pune"]
    on_disk = json.loads(store.datasets_json.read_text())
    assert on_disk["schema"] == "agentforge.datasets"
    assert on_disk["items"]["cities"] == info.to_dict()
    assert registry.list() == [info]
    assert registry.get("cities") == info


def test_registry_uses_state_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "envstate"))
    registry = DatasetRegistry()
    registry.add(_write(tmp_path / "c.csv", "csv"))
    assert (tmp_path / "envstate" / "datasets.json").exists()
    assert (tmp_path / "envstate" / "data" / "c.csv").exists()


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "a/b",
        "a\\b",
        "..",
        "x..y",
        "has space",
        "",
        "1abc",
        "_x",
        "a" * 65,
        "tab\t",
        "é",
        "x.",
    ],
)
def test_invalid_names_rejected(registry, store, tmp_path, name):
    src = _write(tmp_path / "c.csv", "csv")
    with pytest.raises(DatasetError) as info:
        registry.add(src, name=name)
    assert "name" in str(info.value)
    assert registry.list() == []
    assert not any(store.data_dir.iterdir())


@pytest.mark.parametrize("name", ["sales-2024.v2", "A_b", "x", "a" * 64])
def test_valid_names_accepted(registry, tmp_path, name):
    info = registry.add(_write(tmp_path / "c.csv", "csv"), name=name)
    assert info.name == name
    assert registry.path(name).name == f"{name}.csv"


def test_default_name_is_sanitised(registry, tmp_path):
    info = registry.add(_write(tmp_path / "My Sales (2024).csv", "csv"))
    assert info.name == "My_Sales_2024"
    info = registry.add(_write(tmp_path / "2024 report.csv", "csv"))
    assert info.name == "d_2024_report"


def test_duplicate_name_rejected_with_advice(registry, tmp_path):
    src = _write(tmp_path / "c.csv", "csv")
    first = registry.add(src, name="sales")
    before = registry.path("sales").read_bytes()
    other = tmp_path / "other.csv"
    other.write_text("x\n1\n")
    for name in ("sales", "SALES"):
        with pytest.raises(DuplicateDatasetError) as info:
            registry.add(other, name=name)
        message = str(info.value)
        assert "--name" in message
        assert "agentforge datasets remove sales" in message
    assert registry.list() == [first]
    assert registry.path("sales").read_bytes() == before


# --------------------------------------------------------------------------- use


def test_preview(registry, tmp_path):
    registry.add(_write(tmp_path / "c.csv", "csv"))
    assert list(registry.preview("c", n=2)["id"]) == [1, 2]
    assert len(registry.preview("c")) == 3


def test_load_nrows_each_format(registry, tmp_path):
    for fmt, filename in [("csv", "a.csv"), ("jsonl", "b.jsonl"), ("parquet", "c.parquet")]:
        registry.add(_write(tmp_path / filename, fmt))
    for name in ("a", "b", "c"):
        assert len(registry.load(name, nrows=2)) == 2
        assert len(registry.load(name, nrows=0)) == 0


def test_remove(registry, store, tmp_path):
    registry.add(_write(tmp_path / "c.csv", "csv"))
    registry.add(_write(tmp_path / "d.csv", "csv"))
    stored = registry.path("c")
    removed = registry.remove("c")
    assert removed.name == "c"
    assert not stored.exists()
    assert [i.name for i in registry.list()] == ["d"]
    with pytest.raises(UnknownDatasetError):
        registry.get("c")
    with pytest.raises(UnknownDatasetError, match="Known: d"):
        registry.remove("c")
    registry.add(_write(tmp_path / "c.csv", "csv"))  # the name is free again
    assert "c" in registry


def test_unknown_name_message(registry, tmp_path):
    registry.add(_write(tmp_path / "b.csv", "csv"))
    registry.add(_write(tmp_path / "a.csv", "csv"))
    with pytest.raises(UnknownDatasetError) as info:
        registry.get("x")
    assert str(info.value) == (
        "No dataset named 'x'. Known: a, b. Add one with `agentforge datasets add PATH`."
    )
    empty = DatasetRegistry(StateDir(tmp_path / "empty"))
    with pytest.raises(UnknownDatasetError, match=r"Known: \(none\)"):
        empty.load("x")


def test_missing_stored_file(registry, tmp_path):
    registry.add(_write(tmp_path / "c.csv", "csv"))
    registry.path("c").unlink()
    with pytest.raises(DatasetError, match="is missing"):
        registry.load("c")


def test_entry_pointing_outside_data_dir_is_refused(registry, store, tmp_path):
    registry.add(_write(tmp_path / "c.csv", "csv"))
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    with store.document("datasets").update() as data:
        data["items"]["c"]["file"] = "../victim.txt"
    with pytest.raises(DatasetError, match="outside"):
        registry.path("c")
    assert any("outside" in p for p in registry.problems())
    registry.remove("c")  # the bad entry goes; the file it named is never touched
    assert "c" not in registry
    assert victim.read_text() == "keep me"


# --------------------------------------------------------------------------- row counting


def test_large_files_are_counted_without_loading(registry, tmp_path, monkeypatch):
    monkeypatch.setattr(ds.registry, "DEFAULT_SAMPLE_ROWS", 10)
    frame = pd.DataFrame({"n": range(25), "s": [f"v{i}" for i in range(25)]})
    csv = tmp_path / "big.csv"
    csv.write_text(frame.to_csv(index=False).rstrip("\n"))  # no trailing newline
    jsonl = tmp_path / "big.jsonl"
    frame.to_json(jsonl, orient="records", lines=True)
    parquet = tmp_path / "big.parquet"
    pq.write_table(pa.Table.from_pandas(frame), parquet, row_group_size=7)
    for path in (csv, jsonl, parquet):
        info = registry.add(path, name=f"big_{path.suffix[1:]}")
        assert info.rows == 25, path
    assert count_rows(csv, "csv") == 25
    assert count_rows(jsonl, "jsonl") == 25
    # Reading a prefix that spans several row groups.
    assert list(registry.load("big_parquet", nrows=16)["n"]) == list(range(16))


# --------------------------------------------------------------------------- profile


def test_profile_fields_on_small_frame(registry, tmp_path):
    registry.add(_write(tmp_path / "c.csv", "csv"))
    profile = registry.profile("c")
    json.dumps(profile)  # JSON-serialisable
    assert profile["name"] == "c"
    assert profile["rows"] == 3
    assert profile["sampled_rows"] == 3
    assert profile["format"] == "csv"
    cols = {c["name"]: c for c in profile["columns"]}
    assert cols["id"]["kind"] == "numeric"
    assert (cols["id"]["min"], cols["id"]["max"], cols["id"]["mean"]) == (1, 3, 2)
    assert cols["amount"]["nulls"] == 1
    assert cols["amount"]["null_fraction"] == pytest.approx(1 / 3, abs=1e-3)
    assert cols["city"]["kind"] == "categorical"
    assert cols["city"]["examples"] == ["Oslo", "Lima", "Pune"]
    assert cols["day"]["kind"] == "datetime"  # date-like strings are detected
    assert (cols["day"]["min"], cols["day"]["max"]) == ("2024-07-01", "2024-07-03")
    for column in profile["columns"]:
        assert {"name", "dtype", "kind", "nulls", "null_fraction", "unique", "examples"} <= set(
            column
        )


def test_profile_reads_a_bounded_sample(registry, tmp_path):
    path = tmp_path / "five.csv"
    pd.DataFrame({"n": range(5)}).to_csv(path, index=False)
    registry.add(path)
    profile = registry.profile("five", sample_rows=2)
    assert profile["rows"] == 5
    assert profile["sampled_rows"] == 2
    assert profile["sampled"] is True
    # the sample is drawn from the whole file; min and max are exact over every row
    assert (profile["columns"][0]["min"], profile["columns"][0]["max"]) == (0, 4)
    assert profile["columns"][0]["minmax"] == "exact"
    assert "2 rows, sampled across the file" in profile_text(profile)


def test_profile_kinds():
    frame = pd.DataFrame(
        {
            "flag": [True, False, True, None],
            "flag_text": ["true", "False", "TRUE", "false"],
            "when": pd.to_datetime(
                ["2024-01-01 10:00", "2024-01-02", None, "2024-01-03"], format="ISO8601"
            ),
            "mixed": [1, 2.5, 3, 4],
            "words": ["a long sentence", "another one", "third text", "fourth"],
            "empty": [None, None, None, None],
            "nested": [[1], [2], [1], {"a": 1}],
        }
    )
    frame = pd.concat([frame] * 20, ignore_index=True)  # > 50 rows: "words" stays categorical
    frame["words"] = [f"sentence number {i}" for i in range(len(frame))]
    frame["mixed"] = frame["mixed"].astype(object)
    frame.loc[5, "mixed"] = "n/a"  # one stray string in a numeric column
    cols = {c["name"]: c for c in profile_frame(frame, name="f")["columns"]}
    assert cols["flag"]["kind"] == "boolean"
    assert cols["flag_text"]["kind"] == "boolean"
    assert cols["when"]["kind"] == "datetime"
    assert cols["when"]["min"] == "2024-01-01T10:00:00"
    assert cols["mixed"]["kind"] == "numeric"
    assert cols["mixed"]["mixed_types"] is True
    assert cols["mixed"]["non_numeric_examples"] == ["n/a"]
    assert cols["words"]["kind"] == "text"
    assert cols["empty"]["note"] == "all values are null in the sample"
    assert cols["nested"]["unique"] == 3
    json.dumps(profile_frame(frame))


def test_sample_profile_flags_the_mistyped_value(registry):
    info = registry.ensure_sample()
    assert info.name == SAMPLE_NAME
    assert registry.ensure_sample() == info  # idempotent
    profile = registry.profile(SAMPLE_NAME)
    json.dumps(profile)
    cols = {c["name"]: c for c in profile["columns"]}
    units = cols["units"]
    assert units["kind"] == "numeric"
    assert units["mixed_types"] is True
    assert units["non_numeric"] == 1
    assert units["non_numeric_examples"] == ["twelve"]
    assert "pd.to_numeric" in units["note"]
    assert cols["date"]["kind"] == "datetime"
    assert (cols["date"]["min"], cols["date"]["max"]) == ("2024-07-01", "2024-09-30")
    assert cols["region"]["kind"] == "categorical"
    assert cols["region"]["unique"] == 5
    assert cols["region"]["nulls"] > 0
    assert cols["revenue"]["kind"] == "numeric"
    assert cols["revenue"]["min"] > 0
    text = profile_text(profile)
    assert "MIXED TYPES" in text
    assert "'twelve'" in text
    assert "2024-07-01 .. 2024-09-30" in text
    assert len(text) < 3000  # compact enough for a prompt


# --------------------------------------------------------------------------- the sample


def test_sample_file_matches_its_generator():
    assert SAMPLE_PATH.read_bytes() == make_sales_q3.render(make_sales_q3.generate())


def test_sample_has_the_promised_shape_and_signal():
    df = pd.read_json(SAMPLE_PATH, lines=True)
    assert 2500 <= len(df) <= 4000
    assert list(df.columns) == list(make_sales_q3.COLUMNS)
    assert df["order_id"].is_unique
    assert df["date"].min() == pd.Timestamp("2024-07-01")
    assert df["date"].max() == pd.Timestamp("2024-09-30")
    assert set(df["region"].dropna()) == {"North", "South", "East", "West", "Central"}
    assert set(df["channel"]) == {"Online", "Retail", "Partner"}
    assert sum(isinstance(v, str) for v in df["units"]) == 1
    for column in ("units", "region", "unit_price"):
        assert 0.003 <= df[column].isna().mean() <= 0.02, column
    # West grows strongly, and the Smart Watch is why.
    monthly = df.assign(m=df["date"].dt.month).pivot_table(
        index="region", columns="m", values="revenue", aggfunc="sum"
    )
    west_growth = monthly.loc["West", 9] / monthly.loc["West", 7]
    assert west_growth > 1.5
    assert west_growth == monthly[9].div(monthly[7]).max()
    west = df[df["region"] == "West"]
    by_product = west.assign(m=west["date"].dt.month).pivot_table(
        index="product", columns="m", values="revenue", aggfunc="sum"
    )
    assert (by_product[9] - by_product[7]).idxmax() == "Smart Watch"
    # Retail dips at weekends.
    retail = df[df["channel"] == "Retail"]
    weekend = retail["date"].dt.day_of_week >= 5
    assert weekend.sum() / 26 < 0.6 * (~weekend).sum() / 66


# --------------------------------------------------------------------------- errors


def _assert_nothing_added(registry, store):
    assert registry.list() == []
    assert not any(p for p in store.data_dir.iterdir())


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.jsonl", b"\n\n  \n", "empty"),
        ("header.csv", b"a,b\n", "no data rows"),
        ("binary.csv", bytes(range(256)) * 4, "binary"),
        ("parquet_inside.csv", b"PAR1\x00\x00\x15\x04", "Parquet"),
        ("bad.json", b"{not json", "not valid JSON"),
        ("lines.json", b'{"a": 1}\n{"a": 2}\n', "rename it to .jsonl"),
        ("empty_array.json", b"[]", "no"),
        ("bad.jsonl", b'{"a": 1}\n{"a": \n', "not valid JSON Lines"),
        ("latin1.csv", "name\nJos\u00e9\n".encode("latin-1") * 3, "not UTF-8"),
        ("text.parquet", b"a,b\n1,2\n", "Parquet magic"),
        ("text.xlsx", b"a,b\n1,2\n", "not an .xlsx workbook"),
        ("data.txt", b"a,b\n1,2\n", "extension '.txt'"),
        ("old.xls", b"a,b\n1,2\n", "save it as .xlsx"),
    ],
)
def test_bad_files_give_clear_errors(registry, store, tmp_path, filename, content, expected):
    path = tmp_path / filename
    path.write_bytes(content)
    with pytest.raises(DatasetError) as info:
        registry.add(path)
    assert expected in str(info.value)
    _assert_nothing_added(registry, store)


def test_missing_and_non_file_paths(registry, store, tmp_path):
    with pytest.raises(DatasetError, match="No file at"):
        registry.add(tmp_path / "nope.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(DatasetError, match="not a regular file"):
        registry.add(tmp_path / "dir.csv")
    _assert_nothing_added(registry, store)


def test_unreadable_file(registry, store, tmp_path):
    if os.geteuid() != 0:
        path = _write(tmp_path / "c.csv", "csv")
        path.chmod(0)
    else:  # root reads any file whatever its mode; /proc/self/mem fails to read at offset 0
        path = tmp_path / "c.csv"
        path.symlink_to("/proc/self/mem")
    with pytest.raises(DatasetError, match=r"Cannot read .*c\.csv as CSV"):
        registry.add(path)
    _assert_nothing_added(registry, store)


def test_excel_without_openpyxl_says_what_to_install(registry, tmp_path, monkeypatch):
    path = _write(tmp_path / "c.xlsx", "xlsx")
    monkeypatch.setattr(ds.reading, "_have_openpyxl", lambda: False)
    with pytest.raises(DatasetError, match="pip install openpyxl"):
        registry.add(path)


def test_corrupt_registry_names_the_file(registry, store, tmp_path):
    store.root.mkdir(parents=True)
    store.datasets_json.write_text("{ broken")
    with pytest.raises(CorruptStateError) as info:
        registry.list()
    assert str(store.datasets_json) in str(info.value)
    with pytest.raises(CorruptStateError):
        registry.add(_write(tmp_path / "c.csv", "csv"))
    assert store.datasets_json.read_text() == "{ broken"
    assert not any(store.data_dir.iterdir())  # the copy was cleaned up


def test_profile_text_shows_a_column_name_with_a_line_break_as_a_literal() -> None:
    """A header cell holding a line break (hostile-names.csv: "revenue\nsecond line") printed
    as two lines, the second looking like a column of its own ("- second line: ...")."""
    frame = pd.DataFrame({"revenue\nsecond line": [1.0, 2.0], "plain name": [1, 2]})
    lines = profile_text(profile_frame(frame, name="t")).splitlines()
    assert len(lines) == 3, lines
    assert lines[1].startswith("- 'revenue\\nsecond line': float64")
    assert lines[2].startswith("- plain name: int64")
