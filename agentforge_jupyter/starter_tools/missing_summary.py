import pandas as pd


def missing_summary(df: pd.DataFrame, only_missing: bool = False) -> pd.DataFrame:
    """Count and share of missing values per column, most incomplete columns first.

    Use it first on a new dataset to see which columns need cleaning or imputation.
    Returns a DataFrame indexed by column name with ``missing`` (count of null/NaN values),
    ``missing_pct`` (percentage of rows, rounded to 0.1) and ``dtype``. With
    ``only_missing=True`` complete columns are left out.

    Tags: missing, null, nan, data-quality, cleaning, profile

    >>> frame = pd.DataFrame(
    ...     {"a": [1, None, 3, None], "b": ["x", "y", None, "z"], "c": [1, 2, 3, 4]}
    ... )
    >>> missing_summary(frame)[["missing", "missing_pct"]].to_dict("index")
    {'a': {'missing': 2, 'missing_pct': 50.0},
     'b': {'missing': 1, 'missing_pct': 25.0},
     'c': {'missing': 0, 'missing_pct': 0.0}}
    >>> list(missing_summary(frame, only_missing=True).index)
    ['a', 'b']
    """
    counts = df.isna().sum()
    total = max(len(df), 1)
    summary = pd.DataFrame(
        {
            "missing": counts.astype(int),
            "missing_pct": (counts / total * 100).round(1),
            "dtype": df.dtypes.astype(str),
        }
    )
    summary = summary.sort_values(["missing", "missing_pct"], ascending=False, kind="stable")
    if only_missing:
        summary = summary[summary["missing"] > 0]
    return summary
