import pandas as pd


def iqr_outliers(df: pd.DataFrame, column: str, k: float = 1.5) -> pd.DataFrame:
    """Rows whose value in a numeric column lies outside the Tukey fences (IQR rule).

    A value is an outlier when it is below Q1 - k*IQR or above Q3 + k*IQR, where IQR = Q3 - Q1
    (k=1.5 is the usual rule, k=3 flags only extreme values). Missing values are never
    outliers. Returns the outlying rows with two extra columns: ``fence`` ("low" or "high")
    and ``distance`` (how far beyond the fence).

    Tags: outlier, anomaly, extreme, iqr, tukey, data-quality

    >>> frame = pd.DataFrame({"order": list("abcdefg"), "amount": [10, 12, 11, 13, 12, 95, -40]})
    >>> found = iqr_outliers(frame, "amount")
    >>> found[["order", "amount", "fence"]].values.tolist()
    [['f', 95, 'high'], ['g', -40, 'low']]
    >>> len(iqr_outliers(frame, "amount", k=100))
    0
    """
    values = pd.to_numeric(df[column], errors="coerce")
    q1, q3 = values.quantile(0.25), values.quantile(0.75)
    low, high = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    mask = (values < low) | (values > high)
    result = df.loc[mask].copy()
    result["fence"] = ["low" if v < low else "high" for v in values[mask]]
    result["distance"] = [low - v if v < low else v - high for v in values[mask]]
    return result
