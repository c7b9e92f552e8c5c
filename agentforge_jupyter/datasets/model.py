"""Dataset names, formats and the registry entry (`DatasetInfo`)."""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import DatasetError

SAMPLE_NAME = "sales_q3"


SAMPLE_PATH = Path(__file__).resolve().parent.parent / "samples" / "sales_q3.jsonl"


DEFAULT_SAMPLE_ROWS = 10_000


MAX_NAME_LENGTH = 64


#: extension -> format
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
}


#: format -> extension of the stored copy
STORED_EXTENSION = {
    "csv": "csv",
    "tsv": "tsv",
    "json": "json",
    "jsonl": "jsonl",
    "parquet": "parquet",
    "excel": "xlsx",
}


FORMAT_LABEL = {
    "csv": "CSV",
    "tsv": "TSV",
    "json": "JSON",
    "jsonl": "JSON Lines",
    "parquet": "Parquet",
    "excel": "Excel (.xlsx)",
}


_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


_ADD_HINT = "Add one with `agentforge datasets add PATH`."


class DuplicateDatasetError(DatasetError):
    """A dataset with this name is already registered."""


class UnknownDatasetError(DatasetError):
    """No dataset is registered under this name."""


@dataclass
class DatasetInfo:
    """One registered dataset (an item of ``datasets.json``)."""

    id: str
    name: str
    format: str
    file: str  # relative to the state directory, POSIX separators: "data/<name>.<ext>"
    size: int
    sha256: str
    rows: int
    columns: list[str] = field(default_factory=list)
    dtypes: dict[str, str] = field(default_factory=dict)
    added: str = ""  # ISO 8601, UTC
    source: str = ""  # the path it was added from
    source_format: str = ""  # the format of that file, when it was converted on the way in
    options: dict[str, Any] = field(default_factory=dict)  # how it was read: sep, encoding ...
    warnings: list[str] = field(default_factory=list)  # what the user was told when adding it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, key: str, data: Any) -> DatasetInfo:
        """An entry read from datasets.json, checked like input: the file may have been edited
        by hand or by something else. Raises DatasetError saying what is wrong."""
        where = f"Entry {key!r} of datasets.json"
        try:
            validate_name(key)
        except DatasetError as exc:
            raise DatasetError(f"{where} has an invalid name: {exc}") from None
        if not isinstance(data, dict):
            raise DatasetError(f"{where} is not an object.")
        for name, kind in _REQUIRED.items():
            if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool):
                raise DatasetError(f"{where} has no valid {name!r} ({kind.__name__}).")
        if data["name"] != key:
            raise DatasetError(f"{where} is named {data['name']!r} inside.")
        if data["format"] not in STORED_EXTENSION:
            raise DatasetError(f"{where} has an unknown format {data['format']!r}.")
        parts = PurePosixPath(data["file"]).parts
        if len(parts) != 2 or parts[0] != "data" or parts[1].startswith(".") or "\\" in parts[1]:
            raise DatasetError(f"{where} points outside data/ ({data['file']!r}).")
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetInfo:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid dataset name, else raise :class:`DatasetError`."""
    rule = (
        "names start with a letter and use only letters, digits, '_', '-' and '.' "
        f"(at most {MAX_NAME_LENGTH} characters)"
    )
    if not isinstance(name, str) or not name:
        raise DatasetError(f"A dataset name cannot be empty: {rule}. Pass one with --name NAME.")
    problem = None
    if len(name) > MAX_NAME_LENGTH:
        problem = f"is {len(name)} characters long"
    elif "/" in name or "\\" in name or ".." in name:
        problem = "looks like a path"
    elif not _NAME_RE.match(name) or name.endswith("."):
        problem = "has characters that are not allowed"
    if problem:
        raise DatasetError(f"Invalid dataset name {name!r}: it {problem}; {rule}. Choose another.")
    return name


def default_name(path: Path) -> str:
    """A valid name derived from a file name (``My Sales 2024.csv`` -> ``My_Sales_2024``)."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._-").replace("..", "_")
    if not name or not name[0].isalpha():
        name = f"d_{name}" if name else "dataset"
    return name[:MAX_NAME_LENGTH].rstrip(".")


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format for a file name, by extension."""
    suffix = Path(path).suffix.lower()
    if suffix in FORMATS:
        return FORMATS[suffix]
    known = ", ".join(sorted(FORMATS))
    if suffix == ".xls":
        hint = "Old .xls workbooks are not supported: save it as .xlsx or CSV."
    else:
        hint = "Convert it to one of these, or rename it if the extension is wrong."
    raise DatasetError(
        f"Cannot tell the format of {path}: extension {suffix or '(none)'!r} is not one of "
        f"{known}. {hint}"
    )


_REQUIRED: dict[str, type] = {
    "id": str,
    "name": str,
    "format": str,
    "file": str,
    "size": int,
    "sha256": str,
    "rows": int,
}
