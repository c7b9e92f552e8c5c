"""The analyses the offline brain plans: which intent, which columns, which parameters.

Step titles are written so that reading a title back gives the same analysis: the code for a
step is derived from its title, which the user may have edited in review mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .intents import (
    _AGGREGATE_WORDS,
    FINANCE_INTENTS,
    INTENT_DESCRIPTIONS,
    detect_intents,
    mentioned_columns,
    mentioned_values,
    unsupported_finance_words,
)
from .profile import Profile, tokens

__all__ = ["AnalysisSpec", "goal_intents", "plan_specs", "spec_from_text", "unusable"]

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
_MAX_STEPS = 6


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

    @property
    def is_level(self) -> bool:
        """A level (a price, a rate) rather than a flow (sales): returns are meaningful."""
        return self.agg == "mean"

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
                f"{'Bottom' if self.ascending else 'Top'} {self.top_n} {_plural(g, self.top_n)} "
                f"by total {v}"
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
                if self.is_level
                else f"Volatility of {self.freq_label} {v} as variability: coefficient of "
                "variation and typical change"
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
            "volatility": (
                "Per-period and annualised volatility, with a rolling chart."
                if self.is_level
                else "Coefficient of variation and typical period-to-period change, with a chart."
            ),
            "drawdown": "Maximum drawdown, its date and the current drawdown, with a chart.",
        }
        return expected[self.intent]


def _plural(word: str, count: int) -> str:
    if count == 1 or word.endswith("s"):
        return word
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "o", "u"):
        return word[:-1] + "ies"
    return word + "s"


def _pick(preferred: tuple[str, ...], candidates: list[str]) -> str | None:
    for word in preferred:
        for name in candidates:
            if word in tokens(name):
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
        date=next((n for n in mentioned if n in dates), None) or (dates[0] if dates else None),
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
            "None of the analyses the goal asks for can run on this data, so the plan starts "
            "with an overview and a data quality check."
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
