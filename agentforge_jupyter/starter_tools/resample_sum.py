import pandas as pd


def resample_sum(
    df: pd.DataFrame, date_col: str, value_col: str, freq: str = "M", group: str | None = None
) -> pd.DataFrame:
    """Total of a measure per calendar period (daily, weekly, monthly, quarterly, yearly).

    Turns transaction rows into a time series: sums ``value_col`` per period of ``date_col``
    (``freq``: "D", "W", "M", "Q" or "Y"). Periods without rows are filled with 0 so gaps are
    visible. With ``group`` the result has one column per group value (a wide table ready to
    plot); otherwise a single ``value_col`` column.

    Tags: time-series, resample, monthly, weekly, aggregate, total, period

    >>> sales = pd.DataFrame({
    ...     "date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-03-09"]),
    ...     "region": ["N", "S", "N"],
    ...     "revenue": [100, 50, 90],
    ... })
    >>> resample_sum(sales, "date", "revenue")["revenue"].tolist()
    [150, 0, 90]
    >>> resample_sum(sales, "date", "revenue", group="region").to_dict("list")
    {'N': [100, 0, 90], 'S': [50, 0, 0]}
    """
    periods = pd.to_datetime(df[date_col]).dt.to_period(freq)
    keys = [periods] if group is None else [periods, df[group]]
    totals = df[value_col].groupby(keys, observed=True).sum()
    # Wide (one column per group) or a single named column.
    totals = totals.unstack(fill_value=0) if group is not None else totals.to_frame(value_col)
    full = pd.period_range(totals.index.min(), totals.index.max(), freq=freq)
    result = totals.reindex(full, fill_value=0)
    result.index.name = "period"
    result.columns.name = None
    return result
