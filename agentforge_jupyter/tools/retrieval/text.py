"""Text for retrieval: words split from snake_case and camelCase, stop words dropped, stemmed
with the Snowball (Porter2) English stemmer. Synonyms are ``vocabulary``'s job."""

from __future__ import annotations

import doctest
import functools
import re
from typing import Any

__all__ = ["WORD_RE", "keep", "normal", "prose", "stem", "tokenize", "words"]

WORD_RE = re.compile(r"[A-Za-z][a-z]*|[A-Z]+(?![a-z])|\d+")
_CHUNK_RE = re.compile(r"[A-Za-z]+|\d+")
# Mixed-case words this short are abbreviations (MoM, YoY, NaN), not camelCase identifiers.
_ABBREVIATION = 3
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
    return [normal(w) for w in words(text) if keep(w)]


def words(text: str) -> list[str]:
    """Every lowercase word of ``text`` (identifiers split), stop words kept, not stemmed."""
    out: list[str] = []
    for chunk in _CHUNK_RE.findall(text):
        if chunk.islower() or len(chunk) <= _ABBREVIATION or chunk.isdigit():
            out.append(chunk.lower())
        else:
            out.extend(w.lower() for w in WORD_RE.findall(chunk))
    return out


def keep(word: str) -> bool:
    """Whether a lowercase word counts for retrieval (not a stop word, not one letter)."""
    return word not in _STOP and len(word) > 1


def normal(word: str) -> str:
    """The stem of a lowercase word, with the period words no stemmer joins."""
    return _NORMAL.get(word) or stem(word)


def prose(docstring: str) -> str:
    """The docstring without its doctest examples (code and outputs are noise for search)."""
    try:
        parts = doctest.DocTestParser().parse(docstring)
    except ValueError:
        return docstring
    return " ".join(p for p in parts if isinstance(p, str))
