"""Analyst vocabulary: words that name the same analysis operation, mapped to one concept.

A stemmer joins inflections ("correlated"/"correlation"); it cannot know that "anomaly",
"abnormal" and "outlier" ask for the same tool, or that "breakdown" means shares. Each concept
below is a group of such words, taken from general pandas and statistics vocabulary (pandas
method names such as ``isna``/``fillna``/``nlargest``/``pct_change``/``resample``/``corr``,
textbook statistics terms, and common business-reporting words such as MoM, YoY, Pareto,
leaderboard). The groups were written from that vocabulary, not from any query set.

The same normaliser runs on tools and on queries: a member word adds its concept token
(``~outlier``) next to its own stem, so a query word and a tool word from one group meet on
the concept even when their stems differ. Exact words still score higher than concept matches
(see ``CONCEPT_WEIGHT``), and the concept token is rare enough across the corpus to keep its
IDF. Phrases ("year over year", "move together") are matched on consecutive words before stop
words are dropped.
"""

from __future__ import annotations

import functools

from .text import keep, normal, words

__all__ = ["CONCEPTS", "CONCEPT_PREFIX", "CONCEPT_WEIGHT",
    "OPERATION_WEIGHT", "concepts_for", "query_terms", "terms"]

CONCEPT_PREFIX = "~"
#: Query weights: a word of the vocabulary, its concept (other words weigh 1).
OPERATION_WEIGHT = 1.0
CONCEPT_WEIGHT = 2.0

# concept -> member words or phrases (surface forms; stemmed when the table is built).
CONCEPTS: dict[str, tuple[str, ...]] = {
    "missing": (
        "missing",
        "null",
        "nulls",
        "nan",
        "na",
        "none",
        "empty",
        "blank",
        "absent",
        "incomplete",
        "complete",
        "completeness",
        "unfilled",
        "isna",
        "isnull",
        "notna",
        "notnull",
        "fillna",
        "dropna",
        "impute",
        "imputation",
        "gap",
    ),
    "outlier": (
        "outlier",
        "outlying",
        "anomaly",
        "anomalous",
        "unusual",
        "unusually",
        "extreme",
        "abnormal",
        "abnormally",
        "aberrant",
        "atypical",
        "weird",
        "odd",
        "strange",
        "suspicious",
        "spike",
        "deviant",
        "fence",
    ),
    "correlation": (
        "correlation",
        "correlate",
        "corr",
        "relationship",
        "related",
        "relate",
        "association",
        "associated",
        "linked",
        "dependence",
        "dependent",
        "covariance",
        "covary",
        "move together",
        "vary together",
        "co-move",
    ),
    "top": (
        "top",
        "rank",
        "ranking",
        "largest",
        "biggest",
        "highest",
        "best",
        "leading",
        "leaderboard",
        "greatest",
        "nlargest",
        "bestseller",
        "best selling",
        "top-n",
    ),
    "share": (
        "share",
        "percentage",
        "percent",
        "pct",
        "proportion",
        "fraction",
        "contribution",
        "contribute",
        "breakdown",
        "split",
        "composition",
        "mix",
        "portion",
        "pareto",
        "80 20",
    ),
    "growth": (
        "growth",
        "grow",
        "change",
        "increase",
        "decrease",
        "rise",
        "decline",
        "delta",
        "pct_change",
        "mom",
        "yoy",
        "qoq",
        "wow",
        "month over month",
        "month on month",
        "year over year",
        "year on year",
        "quarter over quarter",
        "quarter on quarter",
        "week over week",
        "period over period",
    ),
    "sum": (
        "sum",
        "total",
        "aggregate",
        "add up",
        "roll up",
        "rollup",
        "tally",
    ),
    "period": (
        "period",
        "daily",
        "weekly",
        "monthly",
        "quarterly",
        "yearly",
        "annual",
        "annually",
        "resample",
        "calendar",
        "time series",
        "timeseries",
    ),
}


@functools.lru_cache(maxsize=1)
def _table() -> tuple[dict[str, tuple[str, ...]], dict[tuple[str, ...], tuple[str, ...]]]:
    """(single stem -> concepts, phrase of stems -> concepts)."""
    singles: dict[str, list[str]] = {}
    phrases: dict[tuple[str, ...], list[str]] = {}
    for concept, members in CONCEPTS.items():
        for member in members:
            stems = tuple(normal(w) for w in words(member))
            target = singles.setdefault(stems[0], []) if len(stems) == 1 else None
            if target is None:
                target = phrases.setdefault(stems, [])
            if concept not in target:
                target.append(concept)
    return (
        {k: tuple(v) for k, v in singles.items()},
        {k: tuple(v) for k, v in phrases.items()},
    )


def _concepts(stems: list[str]) -> list[tuple[int, int, str]]:
    """(first, end, concept token) for every member word or phrase found in ``stems``."""
    singles, phrases = _table()
    found: list[tuple[int, int, str]] = []
    for i, s in enumerate(stems):
        found.extend((i, i + 1, CONCEPT_PREFIX + c) for c in singles.get(s, ()))
        for phrase, concepts in phrases.items():
            if tuple(stems[i : i + len(phrase)]) == phrase:
                found.extend((i, i + len(phrase), CONCEPT_PREFIX + c) for c in concepts)
    return found


def concepts_for(stems: list[str]) -> list[str]:
    """Concept tokens (``~name``) for a sequence of stems (stop words not yet dropped):
    one per member word and per member phrase found, in order."""
    return [token for _, _, token in _concepts(stems)]


def terms(text: str) -> list[str]:
    """Stems of ``text`` (as :func:`tokenize`) followed by its concept tokens."""
    all_words = words(text)
    stems = [normal(w) for w in all_words]
    kept = [s for w, s in zip(all_words, stems) if keep(w)]
    return kept + concepts_for(stems)


def query_terms(goal: str) -> dict[str, float]:
    """Query term -> weight. Words of the analyst vocabulary name the operation the tool must
    do, the others mostly name the user's columns (arguments of a generic tool), so the
    former weigh ``OPERATION_WEIGHT`` and their concepts ``CONCEPT_WEIGHT``, the rest 1."""
    all_words = words(goal)
    stems = [normal(w) for w in all_words]
    found = _concepts(stems)
    operation = {i for first, end, _ in found for i in range(first, end)}
    out: dict[str, float] = {}
    for i, (word, s) in enumerate(zip(all_words, stems)):
        if keep(word):
            weight = OPERATION_WEIGHT if i in operation else 1.0
            out[s] = max(out.get(s, 0.0), weight)
    for _, _, token in found:
        out[token] = CONCEPT_WEIGHT
    return out
