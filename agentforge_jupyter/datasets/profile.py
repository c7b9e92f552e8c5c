"""A compact, JSON-serialisable profile of a DataFrame: what a brain sees of the data."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .scan import Scan

import math
import re
import warnings
from typing import Any

import pandas as pd


def profile_frame(
    df: pd.DataFrame, *, name: str = "dataframe", rows: int | None = None
) -> dict[str, Any]:
    """A compact, JSON-serialisable description of ``df`` (a sample of ``rows`` rows)."""
    total = len(df) if rows is None else int(rows)
    return {
        "name": name,
        "rows": total,
        "sampled_rows": len(df),
        "sampled": len(df) < total,
        "columns": [_profile_column(df.iloc[:, i]) for i in range(df.shape[1])],
    }


def profile_scan(scan: Scan) -> dict[str, Any]:
    """The profile of a whole-file scan: the sample's profile, with the exact row count and the
    exact min/max of numeric columns over every row."""
    profile = profile_frame(scan.sample, rows=scan.rows)
    profile["sample"] = "drawn from the whole file"
    for column in profile["columns"]:
        exact = scan.minmax.get(column["name"])
        if exact is not None and column["kind"] == "numeric":
            column["min"], column["max"] = _number(exact[0]), _number(exact[1])
            column["minmax"] = "exact"
    return profile


def _profile_column(series: pd.Series) -> dict[str, Any]:
    values = series.dropna()
    nulls = len(series) - len(values)
    column: dict[str, Any] = {
        "name": str(series.name),
        "dtype": str(series.dtype),
        "kind": "text",
        "nulls": int(nulls),
        "null_fraction": round(nulls / len(series), 4) if len(series) else 0.0,
        "unique": _nunique(values),
        "examples": _examples(values),
    }
    if values.empty:
        column["note"] = "all values are null in the sample"
        return column
    if pd.api.types.is_bool_dtype(series.dtype):
        column["kind"] = "boolean"
    elif pd.api.types.is_numeric_dtype(series.dtype):
        column["kind"] = "numeric"
        column.update(_numeric_stats(values))
    elif pd.api.types.is_datetime64_any_dtype(series.dtype):
        column["kind"] = "datetime"
        column.update(_datetime_range(values))
    else:
        _profile_object_column(values, column)
    return column


def _profile_object_column(values: pd.Series, column: dict[str, Any]) -> None:
    if values.map(lambda v: isinstance(v, bool)).all() or _is_bool_text(values):
        column["kind"] = "boolean"
        return
    numbers = pd.to_numeric(values.map(_numeric_candidate), errors="coerce")
    parsed = int(numbers.notna().sum())
    if parsed and parsed >= 0.9 * len(values):
        column["kind"] = "numeric"
        column.update(_numeric_stats(numbers.dropna()))
        bad = values[numbers.isna()]
        if len(bad):
            column["mixed_types"] = True
            column["non_numeric"] = len(bad)
            column["non_numeric_examples"] = _examples(bad)
            column["note"] = (
                f"mostly numeric but {len(bad)} value(s) are not numbers; convert with "
                "pd.to_numeric(df[col], errors='coerce') before arithmetic"
            )
        elif values.map(lambda v: isinstance(v, str)).any():
            column["note"] = "numbers stored as text; convert with pd.to_numeric"
        return
    dates = _parse_dates(values)
    if dates is not None:
        column["kind"] = "datetime"
        column.update(_datetime_range(dates.dropna()))
        column["note"] = "dates stored as text; parse with pd.to_datetime"
        if dates.isna().any():
            column["unparsed"] = int(dates.isna().sum())
        return
    unique = column["unique"]
    if unique <= 50 or unique <= 0.2 * len(values):
        column["kind"] = "categorical"
        column["top"] = _top_values(values)


def _numeric_candidate(value: Any) -> Any:
    # Booleans are not numbers for profiling; anything non-scalar cannot be one.
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    return value


def _is_bool_text(values: pd.Series) -> bool:
    sample = values.head(1000)
    if not sample.map(lambda v: isinstance(v, str)).all():
        return False
    return set(sample.str.strip().str.lower().unique()) <= {"true", "false"}


_DATE_HINT = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{4}-\d{2}|[A-Za-z]{3,9}\.? \d{1,2}")


def _parse_dates(values: pd.Series) -> pd.Series | None:
    """Parsed dates if more than 90% of a sample of string values parse as dates, else None."""
    sample = values.head(500)
    if not sample.map(lambda v: isinstance(v, str)).all():
        return None
    hinted = sample.map(lambda v: bool(_DATE_HINT.search(v))).mean()
    if hinted < 0.9:
        return None
    for fmt in ("ISO8601", "mixed"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                parsed = pd.to_datetime(sample, errors="coerce", format=fmt)
            except (ValueError, TypeError, OverflowError):
                continue
            if parsed.notna().mean() > 0.9:
                return pd.to_datetime(values, errors="coerce", format=fmt)
    return None


def _nunique(values: pd.Series) -> int:
    try:
        return int(values.nunique())
    except TypeError:  # unhashable cells such as lists from JSON
        return int(values.map(repr).nunique())


def _short(value: Any, limit: int = 40) -> str:
    if isinstance(value, pd.Timestamp):
        text = value.date().isoformat() if value == value.normalize() else value.isoformat()
    elif isinstance(value, float) and value.is_integer():
        text = str(value)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _examples(values: pd.Series, limit: int = 5) -> list[str]:
    seen: list[str] = []
    for value in values.head(1000):
        text = _short(value)
        if text not in seen:
            seen.append(text)
            if len(seen) == limit:
                break
    return seen


def _top_values(values: pd.Series, limit: int = 5) -> list[list[Any]]:
    counts = values.map(_short).value_counts().head(limit)
    return [[str(value), int(count)] for value, count in counts.items()]


def _number(value: Any) -> float | int | None:
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return None
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return float(f"{value:.6g}")


def _numeric_stats(values: pd.Series) -> dict[str, Any]:
    numbers = values.astype("float64")
    std = numbers.std() if len(numbers) > 1 else 0.0
    return {
        "min": _number(numbers.min()),
        "max": _number(numbers.max()),
        "mean": _number(numbers.mean()),
        "std": _number(std),
    }


def _datetime_range(values: pd.Series) -> dict[str, Any]:
    if values.empty:
        return {"min": None, "max": None}
    return {"min": _short(values.min(), 64), "max": _short(values.max(), 64)}


def profile_text(profile: dict[str, Any]) -> str:
    """A compact text rendering of :func:`profile_frame` output, for prompts."""
    columns = profile.get("columns", [])
    head = f"Dataset '{profile.get('name')}'"
    if profile.get("format"):
        head += f" ({profile['format']})"
    head += f": {profile.get('rows', 0):,} rows x {len(columns)} columns"
    if profile.get("sampled"):
        where = "sampled across the file" if profile.get("sample") else "the first rows"
        head += f" (profiled from {profile.get('sampled_rows', 0):,} rows, {where})"
    lines = [head + "."]
    for column in columns:
        lines.append(_column_line(column))
    return "\n".join(lines)


def _column_line(column: dict[str, Any]) -> str:
    parts = [f"- {_shown(column['name'])}: {column['dtype']}, {column['kind']}"]
    kind = column["kind"]
    if kind == "numeric" and "min" in column:
        parts.append(
            f"min {column['min']}, max {column['max']}, mean {column['mean']}, std {column['std']}"
        )
    elif kind == "datetime" and column.get("min"):
        parts.append(f"{column['min']} .. {column['max']}")
    parts.append(f"{column['unique']} unique")
    if column["nulls"]:
        parts.append(f"{column['nulls']} nulls ({column['null_fraction']:.1%})")
    if column.get("top"):
        parts.append("top: " + ", ".join(f"{_shown(v)} ({c})" for v, c in column["top"]))
    elif column.get("examples") and kind in ("text", "categorical", "boolean"):
        parts.append("e.g. " + ", ".join(_shown(v) for v in column["examples"][:3]))
    if column.get("mixed_types"):
        examples = ", ".join(repr(v) for v in column.get("non_numeric_examples", []))
        parts.append(
            f"MIXED TYPES: {column['non_numeric']} non-numeric value(s) e.g. {examples}; "
            "use pd.to_numeric(..., errors='coerce')"
        )
    if column.get("note") and not column.get("mixed_types"):
        parts.append(column["note"])
    return "; ".join(parts)


def _shown(value: Any) -> str:
    """A name or value as is, or as a Python literal when it holds a line break or another
    character that does not print (one column per line, and the exact name to write in code)."""
    text = str(value)
    return text if text.isprintable() else repr(text)
