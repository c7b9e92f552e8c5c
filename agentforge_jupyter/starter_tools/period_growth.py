import pandas as pd


def period_growth(
    df: pd.DataFrame, date_col: str, value_col: str, freq: str = "M", periods: int = 1
) -> pd.DataFrame:
    """Period-over-period growth of a measure: month over month, quarter over quarter, ...

    Sums ``value_col`` per calendar period of ``date_col`` (``freq``: "D", "W", "M", "Q" or
    "Y") and compares each period with the one ``periods`` before it (``periods=12`` with
    monthly data gives year-over-year growth). Returns a DataFrame indexed by period with
    ``value``, ``change`` (absolute) and ``growth_pct`` (percent, rounded to 0.1; empty for
    the first periods).

    Tags: growth, trend, change, time-series, mom, yoy, period

    >>> sales = pd.DataFrame({
    ...     "date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-03", "2024-03-09"]),
    ...     "revenue": [100, 50, 180, 90],
    ... })
    >>> result = period_growth(sales, "date", "revenue")
    >>> [str(p) for p in result.index]
    ['2024-01', '2024-02', '2024-03']
    >>> result["value"].tolist(), result["growth_pct"].tolist()[1:]
    ([150, 180, 90], [20.0, -50.0])
    """
    dates = pd.to_datetime(df[date_col])
    totals = df[value_col].groupby(dates.dt.to_period(freq)).sum().sort_index()
    previous = totals.shift(periods)
    result = pd.DataFrame({"value": totals, "change": totals - previous})
    result["growth_pct"] = ((totals / previous - 1) * 100).round(1)
    result.index.name = "period"
    return result
