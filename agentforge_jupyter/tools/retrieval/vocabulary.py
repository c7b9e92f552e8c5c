"""Analyst vocabulary: words that name the same analysis operation, mapped to one concept.

A stemmer joins inflections ("correlated"/"correlation"); it cannot know that "anomaly",
"abnormal" and "outlier" ask for the same tool, or that "breakdown" means shares. Each concept
below is a group of such words, taken from general pandas and statistics vocabulary (pandas
method names such as ``isna``/``fillna``/``nlargest``/``pct_change``/``resample``/``corr``,
textbook statistics terms, and common business-reporting words such as MoM, YoY, Pareto,
leaderboard). The groups were written from that vocabulary; a few members ("sparse",
"populated", "go together", "co vary", "most") were added after misses on the development
queries (``benchmarks/data/tool_queries_dev.json``). None comes from the held-out queries.

The same normaliser runs on tools and on queries: a member word adds its concept token
(``~outlier``) next to its own stem, so a query word and a tool word from one group meet on
the concept even when their stems differ. The same word on both sides still scores higher
than a synonym (it matches its stem and the concept), and a concept token is rare enough
across tools to keep its IDF. Phrases ("year over year", "day of the week") are matched on
consecutive words before stop words are dropped.
"""

from __future__ import annotations

import functools

from .text import keep, normal, tokenize, words

__all__ = [
    "CONCEPTS",
    "CONCEPT_PREFIX",
    "CONCEPT_WEIGHT",
    "query_terms",
    "terms",
    "word_terms",
]

CONCEPT_PREFIX = "~"
#: Weight of a concept token in a query (the goal's own stems weigh 1). Above 1 because the
#: vocabulary names operations, which choose the tool, while most other query words name the
#: user's columns, which a generic tool takes as arguments.
CONCEPT_WEIGHT = 1.5

# concept -> member words or phrases (surface forms; stemmed when the table is built).
CONCEPTS: dict[str, tuple[str, ...]] = {
    "missing": (
        "missing",
        "null",
        "nulls",
        "nan",
        "na",
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
        "sparse",
        "sparsity",
        "populated",
        "unpopulated",
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
        "vary together",
        "go together",
        "co vary",
        "co-move",
    ),
    "top": (
        "top",
        "most",
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
    "count": ("count", "frequency", "tally", "value_counts", "how many", "number of"),
    "mean": ("mean", "average", "avg"),
    "median": ("median", "middle value"),
    "rolling": ("rolling", "moving", "window", "smooth", "smoothing"),
    "cumulative": ("cumulative", "running", "cumsum", "to date"),
    "quantile": ("quantile", "percentile", "decile", "quartile", "quintile"),
    "distribution": ("distribution", "histogram", "bin", "binning", "bucket"),
    "pivot": ("pivot", "crosstab", "cross tabulation", "cross tab", "unstack", "reshape"),
    "spread": (
        "variance",
        "std",
        "stdev",
        "standard deviation",
        "spread",
        "dispersion",
        "volatility",
    ),
    "shape": ("skew", "skewness", "kurtosis", "asymmetry"),
    "forecast": ("forecast", "predict", "prediction", "projection", "extrapolate"),
    "seasonality": ("seasonal", "seasonality", "cycle", "cyclical", "decompose", "decomposition"),
    "retention": ("retention", "retain", "cohort"),
    "churn": ("churn", "attrition", "cancellation"),
    "conversion": ("conversion", "convert", "funnel"),
    "duplicate": ("duplicate", "dupes", "dedupe", "deduplicate", "repeated"),
    "lag": ("lag", "shift", "previous", "prior", "preceding"),
    "weekday": ("weekday", "day of week", "day of the week", "weekend"),
    "margin": ("margin", "profitability", "markup"),
    "interpolate": ("interpolate", "interpolation", "ffill", "bfill", "forward fill", "backfill"),
}


_Phrases = dict[str, list[tuple[tuple[str, ...], str]]]


@functools.lru_cache(maxsize=1)
def _table() -> tuple[dict[str, list[str]], _Phrases]:
    """(stem -> concepts, first stem of a phrase -> [(phrase stems, concept)])."""
    singles: dict[str, list[str]] = {}
    phrases: _Phrases = {}
    for concept, members in CONCEPTS.items():
        for member in members:
            stems = tuple(normal(w) for w in words(member))
            if len(stems) == 1:
                if concept not in singles.setdefault(stems[0], []):
                    singles[stems[0]].append(concept)
            else:
                phrases.setdefault(stems[0], []).append((stems, concept))
    return singles, phrases


def _concepts(stems: list[str]) -> list[tuple[int, int, str]]:
    """(first, end, concept token) for every member word or phrase found in ``stems`` (all
    words, stop words included: "year over year")."""
    singles, phrases = _table()
    found: list[tuple[int, int, str]] = []
    for i, s in enumerate(stems):
        found.extend((i, i + 1, CONCEPT_PREFIX + c) for c in singles.get(s, ()))
        for phrase, concept in phrases.get(s, ()):
            if tuple(stems[i : i + len(phrase)]) == phrase:
                found.append((i, i + len(phrase), CONCEPT_PREFIX + concept))
    return found


def terms(text: str) -> list[str]:
    """The stems of ``text`` (as :func:`tokenize`), then one concept token per member word
    or phrase found: what the index counts."""
    all_words = words(text)
    stems = [normal(w) for w in all_words]
    kept = [s for w, s in zip(all_words, stems, strict=True) if keep(w)]
    return kept + [token for _, _, token in _concepts(stems)]


def query_terms(goal: str) -> dict[str, float]:
    """Query term -> weight: 1 for the goal's own stems, ``CONCEPT_WEIGHT`` for its concepts."""
    weights = dict.fromkeys(tokenize(goal), 1.0)
    for _, _, token in _concepts([normal(w) for w in words(goal)]):
        weights[token] = CONCEPT_WEIGHT
    return weights


def word_terms(text: str) -> list[tuple[str, frozenset[str]]]:
    """Per word of ``text`` that counts: (its stem, {its stem and concept tokens}); a phrase's
    concept belongs to every word of the phrase."""
    all_words = words(text)
    stems = [normal(w) for w in all_words]
    extra: list[set[str]] = [set() for _ in stems]
    for first, end, token in _concepts(stems):
        for i in range(first, end):
            extra[i].add(token)
    return [
        (stems[i], frozenset({stems[i], *extra[i]}))
        for i, word in enumerate(all_words)
        if keep(word)
    ]
