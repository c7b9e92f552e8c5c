"""The synthetic tool registries of benchmarks/tools.py: names, docstrings and tags from a
vocabulary of analysis operations x measures x dimensions, and for each tool a paraphrase an
analyst might type ("moving average of revenue for each region") in the operation's everyday
wording rather than the tool's name. Written as tools.json directly (no sandbox verification).
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

from agentforge_jupyter.state import StateDir
from agentforge_jupyter.tools import ToolRegistry, VerificationReport
from agentforge_jupyter.trust import TrustStore

# operation: (name, docstring phrase, tags, query paraphrases)
OPERATIONS: list[tuple[str, str, list[str], list[str]]] = [
    (
        "rolling_mean",
        "Moving average (rolling mean) over a window",
        ["smoothing"],
        ["moving average of", "smooth with a rolling mean the"],
    ),
    (
        "yoy_growth",
        "Year-over-year growth rate",
        ["growth"],
        ["year over year growth in", "annual growth of"],
    ),
    (
        "mom_change",
        "Month-over-month change",
        ["growth"],
        ["month over month change of", "monthly change in"],
    ),
    (
        "cumulative_sum",
        "Running cumulative total",
        ["cumulative"],
        ["running total of", "cumulative sum of"],
    ),
    ("median_value", "Median (50th percentile)", ["robust"], ["median", "typical middle value of"]),
    (
        "percentile_rank",
        "Percentile rank of each row",
        ["ranking"],
        ["percentile rank of", "where each row ranks in"],
    ),
    (
        "zscore_outliers",
        "Z-score outliers more than three standard deviations out",
        ["outlier"],
        ["z-score outliers in", "anomalous standard deviations of"],
    ),
    (
        "seasonal_decompose",
        "Seasonal decomposition into trend and seasonality",
        ["seasonality"],
        ["seasonality and trend of", "seasonal pattern in"],
    ),
    (
        "forecast_naive",
        "Naive forecast of the next periods",
        ["forecast"],
        ["forecast next periods of", "predict upcoming"],
    ),
    (
        "cohort_retention",
        "Cohort retention matrix",
        ["cohort"],
        ["cohort retention by", "retention of cohorts for"],
    ),
    (
        "churn_rate",
        "Churn rate: share of customers lost",
        ["churn"],
        ["churn rate of", "customers lost in"],
    ),
    (
        "funnel_conversion",
        "Funnel conversion between stages",
        ["funnel"],
        ["funnel conversion of", "stage to stage conversion in"],
    ),
    (
        "pareto_share",
        "Pareto share (80/20 concentration)",
        ["concentration"],
        ["pareto 80/20 of", "concentration of"],
    ),
    (
        "histogram_bins",
        "Histogram with equal-width bins",
        ["distribution"],
        ["histogram of", "distribution bins of"],
    ),
    (
        "pivot_table",
        "Pivot table cross-tabulation",
        ["reshape"],
        ["pivot table of", "cross tabulation of"],
    ),
    (
        "lag_difference",
        "Difference from the lagged previous value",
        ["lag"],
        ["lagged difference of", "difference from previous"],
    ),
    (
        "ratio_to_mean",
        "Ratio to the overall mean (index)",
        ["index"],
        ["ratio to average of", "indexed to the mean"],
    ),
    (
        "variance_spread",
        "Variance and spread (standard deviation, range)",
        ["dispersion"],
        ["variance of", "spread and standard deviation of"],
    ),
    (
        "skewness_check",
        "Skewness and kurtosis of the distribution",
        ["shape"],
        ["skewness of", "kurtosis and skew in"],
    ),
    (
        "top_decile",
        "Top decile (best 10 percent) rows",
        ["ranking"],
        ["top decile of", "best 10 percent by"],
    ),
    (
        "basket_affinity",
        "Market basket affinity (items bought together)",
        ["basket"],
        ["market basket affinity for", "items bought together by"],
    ),
    (
        "gap_fill",
        "Fill gaps in missing periods by interpolation",
        ["missing"],
        ["interpolate missing gaps in", "fill gaps of"],
    ),
    (
        "duplicate_rows",
        "Duplicate rows and repeated records",
        ["data-quality"],
        ["duplicate records of", "repeated rows in"],
    ),
    (
        "weekday_profile",
        "Weekday profile: average by day of week",
        ["calendar"],
        ["day of week profile of", "weekday pattern of"],
    ),
    (
        "margin_analysis",
        "Margin analysis (profit over revenue)",
        ["profitability"],
        ["profit margin on", "margin analysis of"],
    ),
]
MEASURES = [
    "revenue",
    "units",
    "price",
    "discount",
    "cost",
    "profit",
    "sessions",
    "clicks",
    "orders",
    "refunds",
    "latency",
    "inventory",
    "tickets",
    "signups",
    "visits",
    "calls",
    "shipments",
    "returns",
    "ratings",
    "payments",
]
DIMENSIONS = [
    "region",
    "product",
    "channel",
    "customer",
    "store",
    "country",
    "category",
    "supplier",
    "campaign",
    "device",
    "segment",
    "brand",
    "warehouse",
    "team",
    "agent",
    "plan",
    "city",
    "language",
    "browser",
    "source",
]
FILLERS = ["", "show me the ", "I need the ", "can you compute ", "quickly get "]
CONNECTORS = ["by", "per", "for each", "across", "broken down by"]


def _combos() -> list[tuple[int, int, int]]:
    combos = [
        (o, m, d)
        for o in range(len(OPERATIONS))
        for m in range(len(MEASURES))
        for d in range(len(DIMENSIONS))
    ]
    random.Random(11).shuffle(combos)
    return combos


def _record(op: int, measure: int, dim: int) -> dict[str, Any]:
    op_name, phrase, tags, _ = OPERATIONS[op]
    m, d = MEASURES[measure], DIMENSIONS[dim]
    name = f"{op_name}_{m}_by_{d}"
    docstring = (
        f"{phrase} of {m} for each {d}.\n\n"
        f"Groups the rows by the {d} column and applies the calculation to {m}. Returns a "
        "DataFrame with one row per group, sorted by the result.\n\n"
        f"Tags: {', '.join([*tags, m, d])}\n\n"
        f">>> {name}(df, '{m}', '{d}').shape[1]\n2\n"
    )
    signature = (
        f"{name}(df: pd.DataFrame, {m}_col: str = '{m}', {d}_col: str = '{d}') -> pd.DataFrame"
    )
    source = f"def {signature}:\n    '''{docstring}'''\n    ...\n"
    return {
        "name": name,
        "version": 1,
        "source": source,
        "signature": signature,
        "docstring": docstring,
        "tags": [*tags, m, d],
        "examples": [],
        "params": [
            {
                "name": "df",
                "annotation": "pd.DataFrame",
                "default": None,
                "kind": "positional_or_keyword",
            },
            {
                "name": f"{m}_col",
                "annotation": "str",
                "default": repr(m),
                "kind": "positional_or_keyword",
            },
            {
                "name": f"{d}_col",
                "annotation": "str",
                "default": repr(d),
                "kind": "positional_or_keyword",
            },
        ],
        "returns": "pd.DataFrame",
        "imports": ["pandas"],
        "provenance": {"source": "user"},
        "created": "2026-01-01T00:00:00+00:00",
        "status": "verified",
        "verification": {"passed": True, "stage": "passed", "synthetic": True},
        "sha256": hashlib.sha256(source.encode()).hexdigest(),
    }


def _query(op: int, measure: int, dim: int, rng: random.Random) -> str:
    paraphrase = rng.choice(OPERATIONS[op][3])
    connector = rng.choice(CONNECTORS)
    return f"{rng.choice(FILLERS)}{paraphrase} {MEASURES[measure]} {connector} {DIMENSIONS[dim]}"


def _write_registry(root: Path, combos: list[tuple[int, int, int]]) -> ToolRegistry:
    # Runs are offered only tools verified on this machine; these synthetic tools are recorded
    # as such in a private trust store (nothing of the user's own config is touched).
    registry = ToolRegistry(StateDir(root), trust=TrustStore(root / "config"))
    doc = registry.document
    data = doc.empty()
    for combo in combos:
        record = _record(*combo)
        data["items"][record["name"]] = {
            "name": record["name"],
            "next_version": 2,
            "versions": [record],
        }
    doc.write(data)
    report = VerificationReport(True, "passed")
    registry.verdicts.record([t for ts in registry.load().versions.values() for t in ts], report)
    return registry
