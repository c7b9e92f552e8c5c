"""The offline brain's reading of a goal: which analyses (intents) and which columns.

Pure functions over the goal text and the dataset profile (``datasets.profile_frame``), so the
same text always gives the same plan. Step titles are written so that reading a title back
gives the same analysis: the code for a step is derived from its title, which the user may
have edited in review mode.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FINANCE_INTENTS",
    "GENERAL_INTENTS",
    "INTENT_DESCRIPTIONS",
    "AnalysisSpec",
    "Profile",
    "detect_intents",
    "goal_intents",
    "intent_of_title",
    "mentioned_columns",
    "mentioned_values",
    "plan_specs",
    "spec_from_text",
    "unusable",
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
_ID_TOKENS = {"id", "uuid", "key", "code", "number", "no", "sku"}
_VALUE_PREFERENCE = (
    "revenue",
    "sales",
    "amount",
    "total",
    "profit",
    "value",
    "close",
    "price",
    "income",
    "cost",
    "spend",
    "units",
    "quantity",
    "qty",
    "count",
)
_GROUP_PREFERENCE = (
    "region",
    "category",
    "segment",
    "product",
    "channel",
    "country",
    "type",
    "group",
    "department",
    "store",
    "city",
    "state",
)
_PRICE_LIKE = re.compile(r"price|close|open|rate|index|nav|balance|level", re.IGNORECASE)
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
_MAX_STEPS = 6


# --------------------------------------------------------------------------- profile


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
        tokens = set(_tokens(name))
        if tokens & _ID_TOKENS:
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


# --------------------------------------------------------------------------- text matching


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("_", " "))


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
    words = _tokens(text)
    exact: dict[str, tuple[int, int]] = {}  # name -> (start, end) of the words it matched
    for name in profile.names:
        col_tokens = _tokens(name)
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
        col_tokens = _tokens(name)
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
    distinctive = [t for t in col_tokens if len(t) >= 4 and t not in _ID_TOKENS]
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
    words = _tokens(text)
    found: dict[str, list[tuple[int, str]]] = {}
    for name in profile.of_kind("categorical", "boolean"):
        for value in profile.category_values(name):
            value_tokens = _tokens(value)
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


# --------------------------------------------------------------------------- specs


@dataclass
class AnalysisSpec:
    """One analysis the offline brain can write code for."""

    intent: str
    value: str | None = None
    group: str | None = None
    date: str | None = None
    second: str | None = None  # correlation: the other numeric column
    agg: str = "sum"
    top_n: int = 5
    ascending: bool = False
    freq: str = "W"
    group_values: list[str] = field(default_factory=list)

    @property
    def freq_label(self) -> str:
        return {"D": "daily", "W": "weekly", "MS": "monthly", "QS": "quarterly"}.get(
            self.freq, self.freq
        )

    def title(self) -> str:
        v, g = self.value or "the values", self.group or "group"
        values = f" ({g} = {', '.join(self.group_values)})" if self.group_values else ""
        agg_word = {"sum": "Total", "mean": "Average", "median": "Median", "count": "Count of"}
        titles = {
            "overview": "Overview of the data: size, column types and first rows",
            "quality": "Data quality: missing values, duplicates and mixed types",
            "distribution": f"Distribution of {self.value or self.group or 'the data'}",
            "aggregate": f"{agg_word.get(self.agg, 'Total')} {v} by {g}",
            "topn": (
                f"{'Bottom' if self.ascending else 'Top'} {self.top_n} {g} by total {v}"
                if self.group
                else f"{'Bottom' if self.ascending else 'Top'} {self.top_n} rows by {v}"
            ),
            "compare": f"Compare {v} across {g} groups{values}",
            "trend": f"{self.freq_label.capitalize()} trend of {v} over time"
            + (f" by {self.group}" if self.group else ""),
            "correlation": (
                f"Correlation between {self.value} and {self.second}"
                if self.value and self.second
                else "Correlation between the numeric columns"
            ),
            "outliers": f"Outliers in {v} (IQR rule)",
            "returns": f"{self.freq_label.capitalize()} returns (percent change) of {v}",
            "moving_average": f"Moving averages of {self.freq_label} {v}",
            "volatility": (
                f"Volatility of {self.freq_label} {v}: rolling std of returns, annualised"
            ),
            "drawdown": f"Drawdown of {self.freq_label} {v} from its running peak",
        }
        return titles[self.intent]

    def expected(self) -> str:
        expected = {
            "overview": "Row and column counts, column types, the first rows and summary stats.",
            "quality": "Missing values per column, duplicate rows and non-numeric entries.",
            "distribution": "A histogram (or bar chart) with mean, median and spread.",
            "aggregate": "A table and bar chart per group, with the highest and lowest groups.",
            "topn": "A ranked table and bar chart.",
            "compare": "Per-group count, mean and median, with a box plot.",
            "trend": "A line chart per period, with first, last, peak and change.",
            "correlation": "A correlation matrix heatmap and the strongest pair.",
            "outliers": "IQR bounds, the number of outliers and the most extreme rows.",
            "returns": "Mean, best and worst period returns, with a bar chart.",
            "moving_average": "The series with short and long moving averages.",
            "volatility": "Per-period and annualised volatility, with a rolling chart.",
            "drawdown": "Maximum drawdown, its date and the current drawdown, with a chart.",
        }
        return expected[self.intent]


def _pick(preferred: tuple[str, ...], candidates: list[str]) -> str | None:
    for word in preferred:
        for name in candidates:
            if word in _tokens(name):
                return name
    return candidates[0] if candidates else None


def _freq(text: str, span: float | None, *, finance: bool) -> str:
    lowered = text.lower()
    if re.search(r"\b(?:daily|day|days|per day|day over day)\b", lowered):
        return "D"
    if re.search(r"\b(?:weekly|week|weeks|week over week)\b", lowered):
        return "W"
    if re.search(r"\b(?:monthly|month|months|month over month)\b", lowered):
        return "MS"
    if re.search(r"\b(?:quarterly|quarters)\b", lowered):
        return "QS"
    if span is None:
        return "D" if finance else "W"
    if finance:
        return "D" if span <= 400 else "W"
    return "D" if span <= 45 else ("W" if span <= 400 else "MS")


def _agg(text: str, value: str | None) -> str:
    lowered = text.lower()
    if re.search(r"\b(?:average|mean|avg)\b", lowered):
        return "mean"
    if re.search(r"\bmedian\b", lowered):
        return "median"
    if re.search(r"\b(?:count|number of|how many)\b", lowered):
        return "count"
    if value and _PRICE_LIKE.search(value):
        return "mean"  # summing prices means nothing
    return "sum"


def _top_n(text: str) -> tuple[int, bool]:
    lowered = text.lower()
    ascending = bool(re.search(r"\b(?:bottom|worst|lowest|smallest|least)\b", lowered))
    match = re.search(
        r"\b(?:top|bottom|best|worst|highest|lowest|largest|smallest|biggest)\s+(\d{1,3})\b",
        lowered,
    ) or re.search(
        r"\b(\d{1,3})\s+(?:best|worst|highest|lowest|largest|smallest|biggest)\b", lowered
    )
    n = int(match.group(1)) if match else 5
    return max(1, min(n, 50)), ascending


def spec_from_text(
    intent: str, text: str, profile: Profile, *, context_text: str = "", finance: bool = False
) -> AnalysisSpec:
    """The analysis for ``intent`` with columns from ``text``, then ``context_text`` (the goal,
    earlier goals), then defaults from the profile."""
    own = mentioned_columns(text, profile)
    mentioned = own + [n for n in mentioned_columns(context_text, profile) if n not in own]
    numeric, groups, dates = profile.numeric(), profile.groups(), profile.dates()
    value = next((n for n in mentioned if n in numeric), None)
    own_value = next((n for n in own if n in numeric), None)
    explicit_group = _by_group(text, profile) or next((n for n in own if n in groups), None)
    context_group = next((n for n in mentioned if n in groups), None)
    spec = AnalysisSpec(
        intent=intent,
        value=value or _pick(_VALUE_PREFERENCE, numeric),
        group=explicit_group or context_group or _pick(_GROUP_PREFERENCE, groups),
        date=next((n for n in mentioned if n in dates), None) or (dates or [None])[0],
    )
    spec.agg = _agg(text, spec.value)
    spec.top_n, spec.ascending = _top_n(text)
    spec.freq = _freq(text, profile.span_days(spec.date), finance=intent in FINANCE_INTENTS)
    if intent in ("trend", "topn"):
        # Split a trend, or rank groups, only when the text itself names the group.
        spec.group = explicit_group
    elif intent == "compare":
        values = mentioned_values(text, profile) or mentioned_values(context_text, profile)
        if values:
            spec.group, spec.group_values = next(iter(values.items()))
    elif intent == "correlation":
        others = [n for n in mentioned if n in numeric and n != value]
        spec.value, spec.second = (value, others[0]) if value and others else (None, None)
        spec.group = None
    elif intent == "distribution":
        # "distribution of region": a categorical column named without a numeric one.
        if explicit_group and not own_value:
            spec.value = None
            spec.group = explicit_group
        else:
            spec.group = None
    elif intent != "aggregate":
        spec.group = None
    if intent not in (*FINANCE_INTENTS, "trend", "overview"):
        spec.date = None
    return spec


def _by_group(text: str, profile: Profile) -> str | None:
    """The group column named after "by", "per", "across" or "each"."""
    for match in re.finditer(
        r"\b(?:by|per|across|each|among|between)\s+((?:\w+\s*){1,3})", text, re.IGNORECASE
    ):
        for name in mentioned_columns(match.group(1), profile):
            if name in profile.groups():
                return name
    return None


def plan_specs(
    goal: str, profile: Profile, *, finance: bool = False, history_text: str = ""
) -> tuple[list[AnalysisSpec], list[str]]:
    """The analyses for ``goal`` and notes to tell the user (what was not possible, and why)."""
    notes: list[str] = []
    intents = goal_intents(goal, profile, finance=finance)
    if not finance:
        missing = unsupported_finance_words(goal)
        if missing:
            names = ", ".join(INTENT_DESCRIPTIONS[m].split(" (")[0] for m in missing)
            notes.append(
                f"The goal asks for {names}, which this generalist does not compute; the "
                "offline-finance specialist does."
            )
    specs: list[AnalysisSpec] = []
    for intent in intents:
        spec = spec_from_text(intent, goal, profile, context_text=history_text, finance=finance)
        problem = unusable(spec, profile)
        if problem:
            notes.append(problem)
            continue
        specs.append(spec)
    specs = _drop_redundant(specs)
    if not specs and intents:
        notes.append(
            "None of the analyses the goal asks for can run on this data, so I start with an "
            "overview and a data quality check."
        )
    if not specs:
        specs = [
            spec_from_text("overview", goal, profile),
            spec_from_text("quality", goal, profile),
        ]
    return specs[:_MAX_STEPS], notes


def goal_intents(goal: str, profile: Profile, *, finance: bool = False) -> list[str]:
    """The intents a goal asks for, given the data's columns."""
    intents = detect_intents(goal, finance=finance)
    if "aggregate" in intents and not _aggregate_wanted(goal, profile):
        intents.remove("aggregate")
    return intents


def _aggregate_wanted(goal: str, profile: Profile) -> bool:
    # "by"/"per" alone mean a group-by only when a group column follows ("top 5 orders by
    # revenue" ranks rows); the other aggregate words always do.
    return bool(re.search(rf"\b(?:{_AGGREGATE_WORDS})\b", goal, re.IGNORECASE)) or bool(
        _by_group(goal, profile)
    )


def unusable(spec: AnalysisSpec, profile: Profile) -> str | None:
    """Why ``spec`` cannot run on this profile (a missing column kind), or None."""
    needs_value = spec.intent not in ("overview", "quality", "correlation", "distribution")
    if needs_value and spec.intent != "aggregate" and not spec.value:
        return f"No numeric column was found, so {INTENT_DESCRIPTIONS[spec.intent]} is skipped."
    if spec.intent == "aggregate" and not spec.value and spec.agg != "count":
        return "No numeric column was found to aggregate, so that step is skipped."
    if spec.intent in ("aggregate", "topn", "compare") and not spec.group and spec.intent != "topn":
        return (
            f"No categorical column with a few distinct values was found, so "
            f"{INTENT_DESCRIPTIONS[spec.intent]} is skipped."
        )
    if (spec.intent == "trend" or spec.intent in FINANCE_INTENTS) and not spec.date:
        return (
            f"No date column was found, so {INTENT_DESCRIPTIONS[spec.intent]} is skipped; "
            "add or parse a date column to analyse time."
        )
    if spec.intent == "correlation" and len(profile.numeric()) < 2:
        return "Fewer than two numeric columns, so correlation is skipped."
    if spec.intent == "distribution" and not (spec.value or spec.group):
        return "No column to describe, so the distribution step is skipped."
    return None


def _drop_redundant(specs: list[AnalysisSpec]) -> list[AnalysisSpec]:
    by_intent = {s.intent: s for s in specs}
    kept = []
    for spec in specs:
        top = by_intent.get("topn")
        if (
            spec.intent == "aggregate"
            and top is not None
            and top.group == spec.group
            and spec.agg == "sum"
        ):
            continue  # "top 5 products by revenue" needs one ranked table, not two
        kept.append(spec)
    return kept


def intent_of_title(text: str, *, finance: bool) -> str | None:
    """The single most specific intent a step title names, or None."""
    found = set(detect_intents(text, finance=finance))
    return next((i for i in _TITLE_PRIORITY if i in found), None)
