"""The registry of datasets of one state directory (`datasets.json` + `data/`)."""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from pyarrow.lib import ArrowException

from ..errors import DatasetError, StateError
from ..state import StateDir
from ..state.files import not_writable_error
from .model import (
    _ADD_HINT,
    DEFAULT_SAMPLE_ROWS,
    SAMPLE_NAME,
    SAMPLE_PATH,
    STORED_EXTENSION,
    DatasetInfo,
    DuplicateDatasetError,
    UnknownDatasetError,
    default_name,
    detect_format,
    validate_name,
)
from .options import ReadOptions, sniff_options
from .profile import profile_scan
from .reading import _unreadable, read_table
from .scan import _copy_hashing, count_rows, scan_table


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class DatasetRegistry:
    """Registered datasets of one state directory (``datasets.json`` + ``data/``)."""

    def __init__(self, store: StateDir | None = None) -> None:
        self.store = store if store is not None else StateDir()
        self._doc = self.store.document("datasets")

    def __repr__(self) -> str:
        return f"DatasetRegistry({self.store!r})"

    # -- queries

    def _items(self) -> dict[str, Any]:
        return self._doc.read()["items"]

    def names(self) -> list[str]:
        return sorted(self._items())

    def list(self) -> list[DatasetInfo]:
        """All valid datasets, sorted by name (see :meth:`problems` for the others)."""
        found = []
        for key, data in sorted(self._items().items()):
            with contextlib.suppress(DatasetError):
                found.append(DatasetInfo.from_record(key, data))
        return found

    def problems(self) -> builtins.list[str]:
        """Why entries of datasets.json are not usable (hand edits, other tools), one per entry."""
        found = []
        for key, data in sorted(self._items().items()):
            try:
                DatasetInfo.from_record(key, data)
            except DatasetError as exc:
                found.append(f"{exc} Remove it: `agentforge datasets remove {key}`.")
        return found

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._items()

    def get(self, name: str) -> DatasetInfo:
        items = self._items()
        if name not in items:
            known = ", ".join(sorted(items)) or "(none)"
            raise UnknownDatasetError(f"No dataset named {name!r}. Known: {known}. {_ADD_HINT}")
        return DatasetInfo.from_record(name, items[name])

    def _stored_path(self, info: DatasetInfo) -> Path:
        # datasets.json may be edited by hand: never follow an entry outside data/, nor a link.
        data_dir = self.store.data_dir  # a data/ that is a link is refused by the store
        stored = Path(info.file)
        if stored.parts[:1] != ("data",) or len(stored.parts) != 2:
            raise DatasetError(
                f"Dataset {info.name!r} points outside {data_dir} ({info.file!r}) in "
                f"{self.store.datasets_json}. Fix or remove that entry."
            )
        try:
            return self.store.data_file(stored.parts[1])  # one plain name, never a link
        except StateError as exc:
            raise DatasetError(f"Dataset {info.name!r}: {exc}") from exc

    def path(self, name: str) -> Path:
        """Absolute path of the stored copy."""
        info = self.get(name)
        path = self._stored_path(info)
        if not path.is_file():
            raise DatasetError(
                f"Dataset {name!r} is registered but its file {path} is missing. Remove it "
                f"(`agentforge datasets remove {name}`) and add it again."
            )
        return path

    def load(self, name: str, nrows: int | None = None) -> pd.DataFrame:
        info = self.get(name)
        return read_table(self.path(name), info.format, nrows=nrows, follow_symlinks=False)

    def preview(self, name: str, n: int = 10) -> pd.DataFrame:
        """The first ``n`` rows."""
        return self.load(name, nrows=n)

    def profile(self, name: str, sample_rows: int = DEFAULT_SAMPLE_ROWS) -> dict[str, Any]:
        """A compact JSON-serialisable profile: exact row count, up to ``sample_rows`` rows drawn
        from the whole file, exact min/max of numeric columns. Cached by content hash."""
        if sample_rows < 1:
            raise DatasetError(f"sample_rows must be >= 1, not {sample_rows}.")
        info = self.get(name)
        cache = self.store.root / "cache" / "profiles" / f"{info.sha256}-{sample_rows}.json"
        profile = _read_cached(cache)
        if profile is None:
            profile = profile_scan(scan_table(self.path(name), info.format, sample_rows))
            _write_cached(cache, profile)
        profile["name"] = name
        profile["format"] = info.format
        return profile

    # -- changes

    def add(
        self,
        path: str | os.PathLike[str],
        name: str | None = None,
        *,
        sep: str | None = None,
        encoding: str | None = None,
        decimal: str | None = None,
        sheet: str | int | None = None,
    ) -> DatasetInfo:
        """Validate ``path``, copy it to ``data/<name>.<ext>`` and register it.

        ``sep``/``decimal`` (CSV/TSV; sniffed when not given), ``encoding`` (text files; UTF-8
        by default) and ``sheet`` (Excel; the first by default) say how to read it; a file that
        needs any of them is stored as Parquet, parsed once. ``DatasetInfo.warnings`` says what
        looked wrong (a text file that parses into a single column)."""
        src = Path(path).expanduser().absolute()
        if not src.exists():
            raise DatasetError(f"No file at {src}. Check the path and try again.")
        if not src.is_file():
            raise DatasetError(f"{src} is not a regular file; give the path of a data file.")
        fmt = detect_format(src)
        name = validate_name(name) if name is not None else validate_name(default_name(src))
        self._check_free(name, self._items())
        given = ReadOptions(sep=sep, encoding=encoding, decimal=decimal, sheet=sheet)
        options = sniff_options(src, fmt, given.validated(fmt))
        sample = read_table(src, fmt, nrows=DEFAULT_SAMPLE_ROWS, options=options)
        if sample.shape[1] == 0:
            raise _unreadable(src, fmt, "it has no columns")
        if len(sample) == 0:
            raise _unreadable(src, fmt, "it has no data rows", "Add a file with data in it.")
        converted = options.needs_conversion(fmt)
        stored_format = "parquet" if converted else fmt
        dest = self.store.data_dir / f"{name}.{STORED_EXTENSION[stored_format]}"
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            if converted:
                frame = read_table(src, fmt, options=options)
                _write_parquet(frame, tmp)
                size, sha = _hash_file(tmp)
                rows = len(frame)
            else:
                size, sha = _copy_hashing(src, tmp)
                exact = fmt in ("json", "excel") or len(sample) < DEFAULT_SAMPLE_ROWS
                rows = len(sample) if exact else count_rows(src, fmt)
            info = DatasetInfo(
                id=uuid.uuid4().hex[:12],
                name=name,
                format=stored_format,
                file=dest.relative_to(self.store.root).as_posix(),
                size=size,
                sha256=sha,
                rows=rows,
                columns=[str(c) for c in sample.columns],
                dtypes={str(c): str(t) for c, t in sample.dtypes.items()},
                added=_now(),
                source=str(src),
                source_format=fmt if converted else "",
                options=options.to_dict(),
                warnings=_warnings(src, fmt, sample, options),
            )
            with self._doc.update() as data:
                self._check_free(name, data["items"])
                os.replace(tmp, dest)
                data["items"][name] = info.to_dict()
        except BaseException as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if isinstance(exc, OSError) and exc.filename != str(src):
                raise not_writable_error(dest, exc) from exc  # a read-only or full state dir
            raise
        return info

    def _check_free(self, name: str, items: dict[str, Any]) -> None:
        # Case-insensitive: "Sales" and "sales" would share a file on macOS and Windows.
        clash = next((k for k in items if k.lower() == name.lower()), None)
        if clash is None:
            return
        existing = items[clash]
        raise DuplicateDatasetError(
            f"A dataset named {clash!r} already exists (added {existing.get('added', '?')} from "
            f"{existing.get('source', '?')}). Choose another name with --name NAME, or remove it "
            f"first with `agentforge datasets remove {clash}`."
        )

    def remove(self, name: str) -> DatasetInfo:
        """Unregister ``name`` and delete its stored copy; returns the removed entry. An entry
        that fails validation is removed too, without touching any file."""
        with self._doc.update() as data:
            if name not in data["items"]:
                self.get(name)  # raises the helpful UnknownDatasetError
            record = data["items"].pop(name)
        try:
            info = DatasetInfo.from_record(name, record)
            path = self._stored_path(info)
        except DatasetError:
            return DatasetInfo(id="", name=name, format="", file="", size=0, sha256="", rows=0)
        # After the entry is gone: a crash here leaves an orphan file, never a dangling entry.
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return info

    @classmethod
    def opened(cls, store: StateDir | None = None) -> DatasetRegistry:
        """The registry of `store`; a state directory used for the first time gets the sample
        registered (later, removing it sticks)."""
        registry = cls(store)
        if not registry.store.datasets_json.exists():
            registry.ensure_sample()
        return registry

    def ensure_sample(self) -> DatasetInfo:
        """Register the packaged ``sales_q3`` sample if it is not registered yet."""
        try:
            return self.get(SAMPLE_NAME)
        except UnknownDatasetError:
            pass
        try:
            return self.add(SAMPLE_PATH, name=SAMPLE_NAME)
        except DuplicateDatasetError:  # another process registered it meanwhile
            return self.get(SAMPLE_NAME)


def _warnings(src: Path, fmt: str, sample: pd.DataFrame, options: ReadOptions) -> list[str]:
    if fmt in ("csv", "tsv") and sample.shape[1] == 1:
        column = str(sample.columns[0])[:60]
        return [
            f"{src.name} was read as a single column ({column!r}): if its fields are separated "
            "by something else, remove it and add it again with --sep CHAR (sep= in Python)."
        ]
    return []


def _hash_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _read_cached(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("columns"), list) else None


def _write_cached(path: Path, profile: dict[str, Any]) -> None:
    """Best effort: a profile that cannot be cached is computed again next time."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_text(json.dumps(profile, default=str), encoding="utf-8")
        os.replace(tmp, path)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """A parsed file as Parquet; object columns pyarrow cannot type are stored as text."""
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    try:
        frame.to_parquet(path, index=False)
    except (ValueError, TypeError, ArrowException):
        text = {c: frame[c].astype("string") for c in frame.columns if frame[c].dtype == object}
        frame.assign(**text).to_parquet(path, index=False)
