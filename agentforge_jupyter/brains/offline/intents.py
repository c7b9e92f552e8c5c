"""The offline brain's reading of text: which analyses (intents) and which columns it names.

Pure functions over the goal text and the dataset profile, so the same text always gives the
same plan.
"""

from __future__ import annotations

import difflib
import re

from .profile import ID_TOKENS, Profile, tokens

__all__ = [
    "FINANCE_INTENTS",
    "GENERAL_INTENTS",
    "INTENT_DESCRIPTIONS",
    "detect_intents",
    "intent_of_title",
    "mentioned_columns",
    "mentioned_values",
    "unsupported_finance_words",
]

GENERAL_INTENTS = (
    "overview",
    "quality",
    "distribution",
    "aggregate",
    "topn",
    "compare",
    "trend",
    "correlation",
    "outliers",
)
FINANCE_INTENTS = ("returns", "moving_average", "volatility", "drawdown")

INTENT_DESCRIPTIONS = {
    "overview": "overview (size, column types, first rows, summary statistics)",
    "quality": "data quality (missing values, duplicates, mixed types)",
    "distribution": "distribution of a column",
    "aggregate": "aggregate a value by a group (sum, mean, count)",
    "topn": "top or bottom N",
    "compare": "compare groups",
    "trend": "trend over time (resampled by day, week or month)",
    "correlation": "correlation between numeric columns",
    "outliers": "outliers (IQR rule)",
    "returns": "period-over-period returns",
    "moving_average": "moving averages",
    "volatility": "volatility (rolling standard deviation of returns, annualised)",
    "drawdown": "drawdown from the running peak",
}

_AGGREGATE_WORDS = (
    r"breakdown|broken down|group\w*|totals?|sum|split|share|contribut\w*|drove|driv\w*|"
    r"average|mean|avg|median"
)
_KEYWORDS: dict[str, str] = {
    "overview": r"overview|summar\w*|describe|description|explor\w*|eda|profil\w*|"
    r"first look|look at|what(?:'s| is) in|structure|tell me about",
    "quality": r"missing|nulls?|nans?|quality|clean\w*|duplicat\w*|incomplete|blanks?|"
    r"mixed types?|invalid|dirty",
    "distribution": r"distribut\w*|histograms?|spread|skew\w*|range of|frequenc\w*|"
    r"value counts",
    "aggregate": _AGGREGATE_WORDS + r"|per|by|across|each",
    "topn": r"top|bottom|best|worst|highest|lowest|largest|smallest|biggest|most|least|"
    r"leading|rank\w*",
    "compare": r"compar\w*|versus|vs|differ\w*|contrast|against",
    "trend": r"trends?|trending|over time|time series|timeline|daily|weekly|monthly|quarterly|"
    r"seasonal\w*|growth|grow\w*|evolv\w*|evolution|changed?|over the (?:quarter|year|month)",
    "correlation": r"correlat\w*|relationships?|related|relate|associat\w*|depend\w*|linked",
    "outliers": r"outliers?|anomal\w*|unusual|extremes?|abnormal|suspicious|spikes?",
    "returns": r"returns?|pct[ _]change|percent(?:age)? changes?|growth rates?|"
    r"(?:day|week|month) over (?:day|week|month)",
    "moving_average": r"moving averages?|rolling (?:mean|average)s?|smooth\w*|sma|ema",
    "volatility": r"volatil\w*|risk\w*|standard deviation|stdev|fluctuat\w*|stab\w*|"
    r"variab\w*|swings?",
    "drawdown": r"drawdowns?|draw-downs?|peak to trough|running (?:max|peak)\w*|"
    r"decline from (?:the )?peak|max(?:imum)? loss",
}
_KEYWORD_RES = {k: re.compile(rf"\b(?:{v})\b", re.IGNORECASE) for k, v in _KEYWORDS.items()}
# For a single step title, the most specific intent wins.
_TITLE_PRIORITY = (
    "drawdown",
    "volatility",
    "moving_average",
    "returns",
    "outliers",
    "correlation",
    "compare",
    "topn",
    "quality",
    "distribution",
    "trend",
    "aggregate",
    "overview",
)
_TIME_WORDS = {
    "day",
    "days",
    "daily",
    "week",
    "weeks",
    "weekly",
    "month",
    "months",
    "monthly",
    "quarter",
    "quarters",
    "quarterly",
    "year",
    "years",
    "date",
    "dates",
    "time",
}
_SYNONYMS = {
    "sales": ("revenue", "sales", "amount", "turnover"),
    "sale": ("revenue", "sales", "amount"),
    "income": ("revenue", "income"),
    "money": ("revenue", "amount"),
    "quantity": ("units", "qty", "quantity"),
    "volume": ("units", "volume", "quantity"),
    "customers": ("customer", "segment"),
    "customer": ("customer", "segment"),
    "prices": ("price",),
    "orders": ("order",),
    "time": ("date", "time", "timestamp"),
}


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _find_phrase(words: list[str], phrase: list[str]) -> int | None:
    """Index in ``words`` where ``phrase`` starts (plural-tolerant), or None."""
    if not phrase:
        return None
    target = [_singular(w) for w in phrase]
    singular = [_singular(w) for w in words]
    for i in range(len(words) - len(phrase) + 1):
        if singular[i : i + len(phrase)] == target:
            return i
    return None


def mentioned_columns(text: str, profile: Profile) -> list[str]:
    """Columns named in ``text`` (exactly, by a distinctive word, a synonym or a near-miss
    spelling), in order of first mention. A longer name wins over a shorter one it contains
    ("unit price" is unit_price, not units)."""
    words = tokens(text)
    exact: dict[str, tuple[int, int]] = {}  # name -> (start, end) of the words it matched
    for name in profile.names:
        col_tokens = tokens(name)
        position = _find_phrase(words, col_tokens)
        if position is not None:
            exact[name] = (position, position + len(col_tokens))
    covered = {
        name
        for name, (start, end) in exact.items()
        for other, (o_start, o_end) in exact.items()
        if other != name and o_start <= start and end <= o_end and o_end - o_start > end - start
    }
    found: dict[str, tuple[int, int]] = {
        name: (3, span[0]) for name, span in exact.items() if name not in covered
    }
    taken = {i for name, (s, e) in exact.items() if name not in covered for i in range(s, e)}
    for name in profile.names:
        if name in exact:
            continue
        col_tokens = tokens(name)
        for i, word in enumerate(words):
            if i in taken:
                continue
            strength = _word_match(word, name, col_tokens)
            if strength:
                found[name] = (strength, i)
                break
    ordered = sorted(found.items(), key=lambda item: (item[1][1], -item[1][0]))
    return [name for name, _ in ordered]


def _word_match(word: str, name: str, col_tokens: list[str]) -> int:
    if len(word) < 3 or word in _TIME_WORDS - {"date", "time"}:
        return 0
    singular = _singular(word)
    distinctive = [t for t in col_tokens if len(t) >= 4 and t not in ID_TOKENS]
    if singular in distinctive:
        return 2
    for synonym in _SYNONYMS.get(word, ()):
        if synonym in col_tokens:
            return 1
    joined = "".join(col_tokens)
    if len(word) >= 5 and difflib.SequenceMatcher(None, singular, joined).ratio() >= 0.85:
        return 1
    if len(word) >= 5 and word[0] == joined[0] and sorted(singular) == sorted(joined):
        return 1  # swapped letters ("regoin"), which the ratio scores low
    return 0


def mentioned_values(text: str, profile: Profile) -> dict[str, list[str]]:
    """Category values named in ``text``, per categorical column."""
    words = tokens(text)
    found: dict[str, list[tuple[int, str]]] = {}
    for name in profile.of_kind("categorical", "boolean"):
        for value in profile.category_values(name):
            value_tokens = tokens(value)
            position = _find_phrase(words, value_tokens) if value_tokens else None
            if position is not None:
                found.setdefault(name, []).append((position, value))
    return {name: [v for _, v in sorted(values)] for name, values in found.items()}


def detect_intents(text: str, *, finance: bool = False) -> list[str]:
    """Intents whose keywords occur in ``text``, in canonical order."""
    found = [i for i in FINANCE_INTENTS if finance and _KEYWORD_RES[i].search(text)]
    # "moving average" is not a request for an average by group: match general intents on
    # the text with finance phrases taken out.
    general = text
    for intent in FINANCE_INTENTS:
        general = _KEYWORD_RES[intent].sub(" ", general)
    found = [i for i in GENERAL_INTENTS if _KEYWORD_RES[i].search(general)] + found
    if "aggregate" in found and _only_time_grouping(text):
        found.remove("aggregate")
        if "trend" not in found:
            found.append("trend")
    return found


def unsupported_finance_words(text: str) -> list[str]:
    """Finance intents the text asks for (to say plainly that the generalist lacks them)."""
    return [i for i in FINANCE_INTENTS if _KEYWORD_RES[i].search(text)]


def _only_time_grouping(text: str) -> bool:
    # "revenue by month" is a trend, not a group-by; other aggregate words still count.
    lowered = text.lower()
    by_words = re.findall(r"\b(?:by|per)\s+(\w+)", lowered)
    others = re.search(rf"\b(?:{_AGGREGATE_WORDS})\b", lowered)
    return bool(by_words) and all(w in _TIME_WORDS for w in by_words) and not others


def intent_of_title(text: str, *, finance: bool) -> str | None:
    """The single most specific intent a step title names, or None."""
    found = set(detect_intents(text, finance=finance))
    return next((i for i in _TITLE_PRIORITY if i in found), None)
