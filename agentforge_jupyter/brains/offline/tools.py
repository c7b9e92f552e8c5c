"""Reusable functions the offline brains propose after a successful step of certain intents.

Each is one documented function with doctests on tiny inline data, so it passes the same lint
and sandbox verification as any tool. The brain proposes a function only once per registry
name it can see (BrainRequest.tools), and never for intents with nothing reusable to offer.
"""

from __future__ import annotations

PROPOSALS: dict[str, tuple[str, str]] = {
    "aggregate": (
        "group_summary",
        '''
import pandas as pd


def group_summary(df: pd.DataFrame, group: str, measure: str) -> pd.DataFrame:
    """Sum, mean, count and share of total of a measure per group, largest total first.

    >>> frame = pd.DataFrame({"region": ["N", "S", "N"], "revenue": [10.0, 30.0, 20.0]})
    >>> group_summary(frame, "region", "revenue")["share"].round(2).tolist()
    [0.5, 0.5]
    >>> group_summary(frame, "region", "revenue").index.tolist()
    ['N', 'S']
    """
    values = pd.to_numeric(df[measure], errors="coerce")
    table = values.groupby(df[group]).agg(["sum", "mean", "count"])
    table["share"] = table["sum"] / table["sum"].sum()
    return table.sort_values("sum", ascending=False, kind="stable")
''',
    ),
    "trend": (
        "period_totals",
        '''
import pandas as pd


def period_totals(df: pd.DataFrame, date: str, measure: str, freq: str = "W") -> pd.Series:
    """Total of a measure per calendar period ("D", "W", "MS" ...), dates parsed leniently.

    >>> frame = pd.DataFrame({"day": ["2024-07-01", "2024-07-02", "2024-07-09"], "v": [1, 2, 5]})
    >>> period_totals(frame, "day", "v").tolist()
    [3.0, 5.0]
    """
    when = pd.to_datetime(df[date], errors="coerce")
    values = pd.to_numeric(df[measure], errors="coerce")
    return values.groupby(when).sum().resample(freq).sum().astype(float)
''',
    ),
    "volatility": (
        "annualised_volatility",
        '''
import math

import pandas as pd


def annualised_volatility(values: pd.Series, periods_per_year: int = 252) -> float:
    """Standard deviation of period-over-period returns, scaled to a year.

    >>> round(annualised_volatility(pd.Series([100.0, 110.0, 99.0, 108.9]), 4), 4)
    0.2309
    """
    returns = pd.to_numeric(values, errors="coerce").pct_change().dropna()
    return float(returns.std() * math.sqrt(periods_per_year))
''',
    ),
    "drawdown": (
        "max_drawdown",
        '''
import pandas as pd


def max_drawdown(values: pd.Series) -> float:
    """The largest fall from a running peak, as a negative fraction of that peak.

    >>> max_drawdown(pd.Series([100.0, 120.0, 90.0, 130.0]))
    -0.25
    """
    series = pd.to_numeric(values, errors="coerce").dropna()
    return float((series / series.cummax() - 1).min())
''',
    ),
}


def proposal_for(intent: str, known: set[str]) -> str | None:
    """A fenced python reply proposing the intent's function, or None."""
    if intent not in PROPOSALS:
        return None
    name, source = PROPOSALS[intent]
    if name in known:
        return None
    return f"```python\n{source.strip()}\n```\n"
