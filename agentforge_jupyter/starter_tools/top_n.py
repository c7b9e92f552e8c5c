import pandas as pd


def top_n(df: pd.DataFrame, group: str, measure: str, n: int = 5, agg: str = "sum") -> pd.Series:
    """Top N groups ranked by an aggregated measure (largest first).

    Answers "which regions / products / customers bring the most revenue?". ``group`` is the
    categorical column to rank, ``measure`` the numeric column, ``agg`` how to combine rows
    of a group ("sum", "mean", "median", "count", "max" or "min").

    Tags: ranking, top, largest, leaderboard, group, aggregate

    >>> sales = pd.DataFrame({"region": ["N", "S", "N", "E", "S"], "revenue": [10, 5, 7, 1, 2]})
    >>> top_n(sales, "region", "revenue", n=2).to_dict()
    {'N': 17, 'S': 7}
    >>> top_n(sales, "region", "revenue", n=1, agg="mean").to_dict()
    {'N': 8.5}
    """
    allowed = ("sum", "mean", "median", "count", "max", "min")
    if agg not in allowed:
        raise ValueError(f"agg must be one of {allowed}, not {agg!r}")
    totals = df.groupby(group, observed=True)[measure].agg(agg)
    return totals.sort_values(ascending=False, kind="stable").head(n)
