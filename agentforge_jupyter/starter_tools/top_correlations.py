import pandas as pd


def top_correlations(df: pd.DataFrame, n: int = 5, method: str = "pearson") -> pd.DataFrame:
    """The most strongly correlated pairs of numeric columns, strongest first.

    A quick way to find relationships worth plotting. ``method`` is "pearson" (linear),
    "spearman" (rank, robust to outliers) or "kendall". Returns a DataFrame with ``left``,
    ``right``, ``correlation`` (rounded to 0.001) and ``strength`` (absolute value), one row
    per pair of distinct columns.

    Tags: correlation, relationship, association, numeric, pairs

    >>> frame = pd.DataFrame({"x": [1, 2, 3, 4], "y": [2, 4, 6, 8], "z": [4, 1, 3, 2]})
    >>> top_correlations(frame, n=2)[["left", "right", "correlation"]].values.tolist()
    [['x', 'y', 1.0], ['x', 'z', -0.4]]
    """
    numeric = df.select_dtypes("number")
    matrix = numeric.corr(method=method)
    columns = list(matrix.columns)
    rows = []
    for i, left in enumerate(columns):
        for right in columns[i + 1 :]:
            value = matrix.loc[left, right]
            if pd.notna(value):
                rows.append({"left": left, "right": right, "correlation": round(float(value), 3)})
    result = pd.DataFrame(rows, columns=["left", "right", "correlation"])
    result["strength"] = result["correlation"].abs()
    result = result.sort_values("strength", ascending=False, kind="stable").head(n)
    return result.reset_index(drop=True)
