"""The dataset profile as the offline brain sees it, indexed for column lookups."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["ID_TOKENS", "Profile", "tokens"]

ID_TOKENS = {"id", "uuid", "key", "code", "number", "no", "sku"}


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers of ``text`` (underscores split words)."""
    return re.findall(r"[a-z0-9]+", text.lower().replace("_", " "))


@dataclass
class Profile:
    """The dataset profile, indexed for column lookups."""

    columns: list[dict[str, Any]]
    rows: int = 0

    @classmethod
    def from_dataset(cls, dataset: dict[str, Any] | None) -> Profile:
        if not dataset:
            return cls(columns=[])
        cols = [c for c in dataset.get("columns", []) if isinstance(c, dict) and "name" in c]
        return cls(columns=cols, rows=int(dataset.get("rows") or 0))

    @property
    def names(self) -> list[str]:
        return [str(c["name"]) for c in self.columns]

    def column(self, name: str | None) -> dict[str, Any] | None:
        return next((c for c in self.columns if str(c["name"]) == name), None)

    def kind(self, name: str | None) -> str:
        col = self.column(name)
        return str(col.get("kind", "")) if col else ""

    def of_kind(self, *kinds: str) -> list[str]:
        return [str(c["name"]) for c in self.columns if c.get("kind") in kinds]

    def numeric(self) -> list[str]:
        return [n for n in self.of_kind("numeric") if not self.is_id(n)]

    def dates(self) -> list[str]:
        found = self.of_kind("datetime")
        hinted = [
            str(c["name"])
            for c in self.columns
            if c.get("kind") == "text" and re.search(r"date|time|day|month", str(c["name"]), re.I)
        ]
        return found + hinted

    def groups(self) -> list[str]:
        return [
            str(c["name"])
            for c in self.columns
            if c.get("kind") in ("categorical", "boolean")
            and 2 <= int(c.get("unique") or 0) <= 50
            and not self.is_id(str(c["name"]))
        ]

    def is_id(self, name: str) -> bool:
        if set(tokens(name)) & ID_TOKENS:
            return True
        col = self.column(name) or {}
        unique = int(col.get("unique") or 0)
        sampled = self.rows or unique
        return col.get("kind") == "text" and unique >= sampled > 0

    def mixed_numeric(self) -> list[str]:
        """Numeric columns stored as text or holding some non-numbers."""
        return [
            str(c["name"])
            for c in self.columns
            if c.get("kind") == "numeric"
            and (c.get("mixed_types") or not _is_numeric_dtype(str(c.get("dtype", ""))))
        ]

    def span_days(self, date_col: str | None) -> float | None:
        col = self.column(date_col) or {}
        try:
            import pandas as pd

            start, end = pd.Timestamp(col["min"]), pd.Timestamp(col["max"])
        except (KeyError, ValueError, TypeError):
            return None
        return float((end - start).days)

    def category_values(self, name: str) -> list[str]:
        col = self.column(name) or {}
        values = [str(v[0]) for v in col.get("top", []) if isinstance(v, (list, tuple)) and v]
        values += [str(v) for v in col.get("examples", [])]
        return list(dict.fromkeys(v for v in values if len(v) >= 2))


def _is_numeric_dtype(dtype: str) -> bool:
    return bool(re.match(r"(u?int|float|Int|UInt|Float|double|decimal)", dtype))
