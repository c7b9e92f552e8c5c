"""Text for retrieval: words split from snake_case and camelCase, stop words dropped, stemmed
with the Snowball (Porter2) English stemmer, plus a small table of analyst synonyms."""

from __future__ import annotations

import doctest
import functools
import re
from typing import Any

__all__ = ["WORD_RE", "prose", "query_terms", "stem", "tokenize"]

WORD_RE = re.compile(r"[A-Za-z][a-z]*|[A-Z]+(?![a-z])|\d+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "each",
        "for",
        "from",
        "get",
        "give",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "per",
        "please",
        "show",
        "tell",
        "that",
        "the",
        "their",
        "them",
        "this",
        "to",
        "using",
        "what",
        "when",
        "which",
        "with",
        "would",
        "you",
        "your",
        "df",
        "data",
        "dataset",
        "frame",
        "dataframe",
        "has",
        "have",
        "had",
        "was",
        "were",
        "most",
        "did",
        "there",
        "these",
        "those",
        "than",
        "then",
        "so",
        "into",
        "over",
        "all",
        "any",
    ]
)
# Analyst vocabulary -> the word tools tend to use (both forms are searched).
# Analyst vocabulary -> the word tools tend to use (semantic, so no stemmer finds it; both
# forms are searched). Inflections (correlated/correlation) are the stemmer's job.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "null": ("missing",),
    "nan": ("missing",),
    "na": ("missing",),
    "empty": ("missing",),
    "blank": ("missing",),
    "absent": ("missing",),
    "anomaly": ("outlier",),
    "anomalous": ("outlier",),
    "unusual": ("outlier",),
    "extreme": ("outlier",),
    "largest": ("top",),
    "biggest": ("top",),
    "highest": ("top",),
    "best": ("top",),
    "leading": ("top",),
    "rank": ("top",),
    "ranking": ("top",),
    "increase": ("growth",),
    "change": ("growth",),
    "mom": ("growth", "month"),
    "yoy": ("growth", "year"),
    "qoq": ("growth", "quarter"),
    "percent": ("share",),
    "percentage": ("share",),
    "proportion": ("share",),
    "fraction": ("share",),
    "contribution": ("share",),
    "total": ("sum",),
    "aggregate": ("sum",),
    "monthly": ("resample",),
    "weekly": ("resample",),
    "daily": ("resample",),
    "quarterly": ("resample",),
    "yearly": ("resample",),
    "annual": ("resample",),
    "relationship": ("correlation",),
}
_SYNONYM_WEIGHT = 0.6
# The stemmer joins "monthly"/"month", "weekly"/"week"; these period words it cannot.
_NORMAL = {"daily": "day", "annual": "year", "annually": "year"}


@functools.lru_cache(maxsize=1)
def _stemmer() -> Any:  # snowballstemmer ships no type hints
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball English stem of a lowercase word ("series" stays "seri" on both sides)."""
    return str(_stemmer().stemWord(word))


def tokenize(text: str) -> list[str]:
    """Lowercase stemmed words; snake_case and camelCase are split, stop words dropped."""
    out = []
    for word in WORD_RE.findall(text):
        word = word.lower()
        if word not in _STOP and len(word) > 1:
            out.append(_NORMAL.get(word) or stem(word))
    return out


def query_terms(goal: str) -> dict[str, float]:
    terms: dict[str, float] = {}
    for word in WORD_RE.findall(goal):
        word = word.lower()
        if word in _STOP or len(word) < 2:
            continue
        terms[_NORMAL.get(word) or stem(word)] = 1.0
        for synonym in _SYNONYMS.get(word, ()):
            terms.setdefault(stem(synonym), _SYNONYM_WEIGHT)
    return terms


def prose(docstring: str) -> str:
    """The docstring without its doctest examples (code and outputs are noise for search)."""
    try:
        parts = doctest.DocTestParser().parse(docstring)
    except ValueError:
        return docstring
    return " ".join(p for p in parts if isinstance(p, str))
