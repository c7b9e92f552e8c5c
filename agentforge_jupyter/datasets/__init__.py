"""Datasets: a registry of tabular files copied into ``<state>/data/``, with preview and profile.

Formats are detected by extension: CSV, TSV, JSON (records array or column object), JSON Lines,
Parquet and Excel ``.xlsx`` (needs ``openpyxl``). Adding a file validates it, detects the
delimiter and a decimal comma of text files (or takes ``sep``/``encoding``/``sheet``), copies it
to ``data/<name>.<ext>`` while hashing it, and records a :class:`DatasetInfo` in
``datasets.json``. A file that needs reading options is stored as Parquet, parsed once with
them, so every reader (the sandbox, exports) loads it the same way. See docs/datasets.md.

Layout: ``model`` (names, formats, entries), ``reading`` (files to DataFrames, errors),
``options`` (sniffing delimiters, decimal commas, encodings, tabular JSON), ``scan``
(whole-file passes: hashing, row counts, samples and min/max), ``profile`` (what a brain sees),
``registry`` (``DatasetRegistry``).
"""

from __future__ import annotations

from ..errors import DatasetError
from .model import (
    DEFAULT_SAMPLE_ROWS,
    FORMAT_LABEL,
    FORMATS,
    MAX_NAME_LENGTH,
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
from .profile import profile_frame, profile_text
from .reading import ReadOptions, read_table
from .registry import DatasetRegistry
from .scan import count_rows

__all__ = [
    "DEFAULT_SAMPLE_ROWS",
    "FORMATS",
    "FORMAT_LABEL",
    "MAX_NAME_LENGTH",
    "SAMPLE_NAME",
    "SAMPLE_PATH",
    "STORED_EXTENSION",
    "DatasetError",
    "DatasetInfo",
    "DatasetRegistry",
    "DuplicateDatasetError",
    "ReadOptions",
    "UnknownDatasetError",
    "count_rows",
    "default_name",
    "detect_format",
    "profile_frame",
    "profile_text",
    "read_table",
    "validate_name",
]
