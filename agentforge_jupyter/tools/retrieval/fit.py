"""Column fit: how well a tool's parameters fit the dataset's columns (-1..1)."""

from __future__ import annotations

import functools
from typing import Any

from .text import WORD_RE, stem, tokenize

__all__ = ["column_fit", "fit_score", "param_kinds", "profile_view"]

_KIND_WORDS: dict[str, frozenset[str]] = {
    "datetime": frozenset(
        [
            "date",
            "time",
            "period",
            "month",
            "day",
            "week",
            "year",
            "quarter",
            "timestamp",
            "ts",
            "datetime",
            "when",
        ]
    ),
    "numeric": frozenset(
        [
            "value",
            "measure",
            "amount",
            "metric",
            "price",
            "revenue",
            "sale",
            "quantity",
            "qty",
            "cost",
            "profit",
            "score",
            "weight",
            "target",
            "numeric",
            "number",
        ]
    ),
    "categorical": frozenset(
        [
            "group",
            "category",
            "by",
            "segment",
            "key",
            "label",
            "region",
            "dimension",
            "cat",
            "class",
        ]
    ),
    "text": frozenset(["text", "message", "comment", "description", "string"]),
    "boolean": frozenset(["flag", "bool", "mask", "boolean"]),
}


def param_kinds(params: list[dict[str, Any]]) -> tuple[str, ...]:
    """Column kinds a tool's parameters ask for (from their names and annotations)."""
    kinds: list[str] = []
    for param in params:
        annotation = (param.get("annotation") or "").lower()
        if "dataframe" in annotation or annotation == "int" or annotation == "float":
            continue  # the table itself, or a plain number such as n or k
        words = {stem(w.lower()) for w in WORD_RE.findall(param["name"])}
        if "datetime" in annotation or "timestamp" in annotation:
            words.add("datetime")
        for kind, vocabulary in _kind_stems().items():
            if words & vocabulary and kind not in kinds:
                kinds.append(kind)
    return tuple(kinds)


def column_fit(
    kinds: tuple[str, ...], words: frozenset[str], profile: dict[str, Any] | None
) -> float:
    """-1..1: +share of the kinds the tool asks for that the dataset has, -share it lacks;
    a little more when a parameter or name word equals a column name word."""
    view = profile_view(profile)
    return fit_score(kinds, words, *view) if view else 0.0


def profile_view(profile: dict[str, Any] | None) -> tuple[set[str], set[str]] | None:
    """(column kinds, column name words) of a dataset profile; None without columns."""
    if not profile or not profile.get("columns"):
        return None
    columns = profile["columns"]
    kinds = {str(c.get("kind")) for c in columns}
    words = {t for c in columns for t in tokenize(str(c.get("name", "")))}
    return kinds, words


def fit_score(
    kinds: tuple[str, ...], words: frozenset[str], available: set[str], column_words: set[str]
) -> float:
    fit = 0.0
    if kinds:
        present = sum(1 for k in kinds if k in available)
        fit = (present - (len(kinds) - present)) / len(kinds)
    if words & column_words:
        fit += 0.25
    return max(-1.0, min(1.0, fit))


@functools.lru_cache(maxsize=1)
def _kind_stems() -> dict[str, frozenset[str]]:
    # The vocabulary is matched against stemmed parameter words, so it is stemmed too.
    return {kind: frozenset(stem(w) for w in words) for kind, words in _KIND_WORDS.items()}
