import pandas as pd


def share_of_total(
    df: pd.DataFrame, group: str, measure: str, top: int | None = None
) -> pd.DataFrame:
    """Each group's share of the total of a measure, largest first, with a running total.

    Answers "what percentage of revenue does each region contribute?" and Pareto questions
    ("do 20% of customers make 80% of sales?"). Returns a DataFrame indexed by group with
    ``total``, ``share_pct`` and ``cumulative_pct`` (percent, rounded to 0.1). With ``top``,
    only the largest groups are returned (shares stay relative to the grand total).

    Tags: share, percentage, proportion, contribution, pareto, composition

    >>> sales = pd.DataFrame({"region": ["N", "S", "N", "E"], "revenue": [50, 30, 10, 10]})
    >>> share_of_total(sales, "region", "revenue")["share_pct"].to_dict()
    {'N': 60.0, 'S': 30.0, 'E': 10.0}
    >>> share_of_total(sales, "region", "revenue", top=2)["cumulative_pct"].tolist()
    [60.0, 90.0]
    """
    totals = (
        df.groupby(group, observed=True)[measure].sum().sort_values(ascending=False, kind="stable")
    )
    grand = totals.sum()
    share = totals / grand * 100 if grand else totals * 0.0
    result = pd.DataFrame(
        {"total": totals, "share_pct": share.round(1), "cumulative_pct": share.cumsum().round(1)}
    )
    return result.head(top) if top is not None else result
