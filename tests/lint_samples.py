"""Sample code for the linter tests: a realistic 200-line analysis cell.

It must lint clean; it is also the cell used to time `lint()` (see docs/lint.md, Performance).
"""

from __future__ import annotations

REALISTIC_CELL = '''\
# Q3 revenue analysis: which region drove growth, and is it seasonal?
import math
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from scipy import stats
from sklearn.linear_model import LinearRegression

# --- clean -------------------------------------------------------------------
df = df.copy()
df.columns = [c.strip().lower().replace(" ", "_") for c in df.columns]
df["date"] = pd.to_datetime(df["date"], errors="coerce")
df["units"] = pd.to_numeric(df["units"], errors="coerce")
df["unit_price"] = pd.to_numeric(df["unit_price"], errors="coerce")
df["revenue"] = pd.to_numeric(df["revenue"], errors="coerce")
missing = df.isna().sum()
print("Missing values per column:")
print(missing[missing > 0].to_string())

# recompute revenue where it is missing but units and price are known
fill = df["revenue"].isna() & df["units"].notna() & df["unit_price"].notna()
df.loc[fill, "revenue"] = df.loc[fill, "units"] * df.loc[fill, "unit_price"]
df = df.dropna(subset=["date", "revenue"])
df = df[df["revenue"] >= 0]
df["month"] = df["date"].dt.to_period("M").dt.to_timestamp()
df["quarter"] = df["date"].dt.quarter
df["weekday"] = df["date"].dt.day_name()
print(f"Rows after cleaning: {len(df):,}")


def pct(a, b):
    """Percentage change from a to b, NaN when a is zero."""
    if a == 0 or pd.isna(a):
        return float("nan")
    return (b - a) / a * 100


def describe_series(s: pd.Series) -> dict:
    return {
        "mean": s.mean(),
        "median": s.median(),
        "std": s.std(),
        "cv": s.std() / s.mean() if s.mean() else float("nan"),
    }


# --- quarter over quarter -------------------------------------------------------
by_q = df.groupby(["region", "quarter"], as_index=False)["revenue"].sum()
wide = by_q.pivot(index="region", columns="quarter", values="revenue").fillna(0)
wide["q3_vs_q2"] = [pct(a, b) for a, b in zip(wide.get(2, 0), wide.get(3, 0))]
wide = wide.sort_values("q3_vs_q2", ascending=False)
print(wide.round(1).to_string())

total_q2 = wide.get(2, pd.Series(dtype=float)).sum()
total_q3 = wide.get(3, pd.Series(dtype=float)).sum()
growth = total_q3 - total_q2
contrib = (wide.get(3, 0) - wide.get(2, 0)) / growth * 100 if growth else 0
print("Share of Q3 growth by region (%):")
print(pd.Series(contrib, index=wide.index).round(1).to_string())

# --- monthly trend and seasonality --------------------------------------------------
monthly = df.groupby(["month", "region"])["revenue"].sum().unstack("region").fillna(0)
monthly_total = monthly.sum(axis=1)
rolling = monthly_total.rolling(3, min_periods=1).mean()

fig, axes = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
monthly.plot(ax=axes[0], marker="o")
axes[0].set_title("Monthly revenue by region")
axes[0].set_ylabel("revenue")
axes[1].plot(monthly_total.index, monthly_total.values, label="total")
axes[1].plot(rolling.index, rolling.values, linestyle="--", label="3-month mean")
axes[1].legend()
axes[1].set_title("Total revenue")
plt.tight_layout()
plt.savefig("monthly_revenue.png", dpi=110)
plt.show()

# seasonality: month-of-year profile normalised by yearly mean
df["year"] = df["date"].dt.year
df["moy"] = df["date"].dt.month
profile = df.groupby(["year", "moy"])["revenue"].sum().reset_index()
profile["norm"] = profile.groupby("year")["revenue"].transform(lambda s: s / s.mean())
season = profile.groupby("moy")["norm"].agg(["mean", "std", "count"])
print(season.round(3).to_string())

peak_month = int(season["mean"].idxmax())
trough_month = int(season["mean"].idxmin())
amplitude = season["mean"].max() - season["mean"].min()
print(f"Peak month: {peak_month}, trough: {trough_month}, amplitude {amplitude:.2f}")

# Kruskal-Wallis: does the month matter?
groups = [g["norm"].values for _, g in profile.groupby("moy") if len(g) > 1]
if len(groups) > 2:
    h, p = stats.kruskal(*groups)
    print(f"Kruskal-Wallis H={h:.2f}, p={p:.4f}")
else:
    print("Not enough years to test seasonality")

# --- products -------------------------------------------------------------------------
top_products = (
    df[df["quarter"] == 3]
    .groupby(["region", "product"])["revenue"]
    .sum()
    .sort_values(ascending=False)
    .groupby(level=0)
    .head(3)
)
print(top_products.to_string())

counts = Counter(df["product"].dropna())
common = counts.most_common(5)
for name, n in common:
    share = n / len(df) * 100
    print(f"{name:<20} {n:>6} ({share:4.1f}%)")

# --- price elasticity per region ----------------------------------------------------------
rows = []
for region, grp in df.groupby("region"):
    sub = grp[(grp["units"] > 0) & (grp["unit_price"] > 0)]
    if len(sub) < 20:
        continue
    x = np.log(sub[["unit_price"]].to_numpy())
    y = np.log(sub["units"].to_numpy())
    reg = LinearRegression().fit(x, y)
    rows.append({"region": region, "elasticity": reg.coef_[0], "r2": reg.score(x, y)})
elasticity = pd.DataFrame(rows).set_index("region") if rows else pd.DataFrame()
print(elasticity.round(3).to_string() if not elasticity.empty else "no elasticity estimate")

# --- weekday pattern ---------------------------------------------------------------
order = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
weekday = df.groupby("weekday")["revenue"].mean().reindex(order)
plt.figure(figsize=(8, 4))
sns.barplot(x=weekday.index, y=weekday.values, color="steelblue")
plt.title("Mean revenue per order by weekday")
plt.xticks(rotation=30)
plt.tight_layout()
plt.savefig("weekday.png")
plt.show()

# --- distribution checks -----------------------------------------------------------------
summary = {r: describe_series(g["revenue"]) for r, g in df.groupby("region")}
summary = pd.DataFrame(summary).T
print(summary.round(2).to_string())

q1, q3 = df["revenue"].quantile([0.25, 0.75])
iqr = q3 - q1
outliers = df[(df["revenue"] < q1 - 1.5 * iqr) | (df["revenue"] > q3 + 1.5 * iqr)]
print(f"Outliers: {len(outliers)} ({len(outliers) / len(df):.1%})")

fig, ax = plt.subplots(figsize=(9, 4))
sns.boxplot(data=df, x="region", y="revenue", ax=ax, showfliers=False)
ax.set_title("Revenue per order by region (no outliers)")
fig.savefig("box.png")

log_rev = np.log1p(df["revenue"])
skew = stats.skew(log_rev)
kurt = stats.kurtosis(log_rev)
print(f"log revenue skew={skew:.2f} kurtosis={kurt:.2f}")

# --- export -----------------------------------------------------------------------------
out = wide.reset_index()
out.columns = [str(c) for c in out.columns]
out.to_csv("q3_growth_by_region.csv", index=False)
season.to_csv("seasonality.csv")
monthly.to_parquet("monthly.parquet")

leader = wide.index[0] if len(wide) else None
lead_growth = wide["q3_vs_q2"].iloc[0] if len(wide) else float("nan")
print(f"Leader: {leader} with {lead_growth:.1f}% growth from Q2 to Q3")
print(f"Seasonal amplitude {amplitude:.2f}; peak month {peak_month}")
if not math.isnan(lead_growth) and lead_growth > 10:
    print("Growth is concentrated: check inventory for the leading region")
else:
    print("Growth is broad-based across regions")

# --- appendix: per-region monthly growth table ----------------------------------------
growth_tbl = monthly.pct_change().mul(100).round(1)
growth_tbl = growth_tbl.replace([np.inf, -np.inf], np.nan)
best_month = growth_tbl.stack().idxmax() if growth_tbl.stack().notna().any() else None
print("Best month/region by growth:", best_month)
corr = monthly.corr(method="spearman")
fig, ax = plt.subplots(figsize=(6, 5))
sns.heatmap(corr, annot=True, fmt=".2f", cmap="vlag", center=0, ax=ax)
ax.set_title("Correlation of monthly revenue between regions")
fig.tight_layout()
fig.savefig("region_corr.png")
weekly = df.set_index("date")["revenue"].resample("W").sum()
spikes = weekly[((weekly - weekly.mean()) / weekly.std()).abs() > 2.5]
print(f"Weeks with unusual revenue: {len(spikes)}")
for when, z in spikes.items():
    print(f"  {when:%Y-%m-%d}: {z:,.0f}")
share = df.pivot_table(index="month", columns="region", values="revenue", aggfunc="sum")
share = share.div(share.sum(axis=1), axis=0).fillna(0)
ax = share.plot.area(figsize=(10, 4), alpha=0.8)
ax.set_ylabel("share of revenue")
plt.tight_layout()
plt.savefig("share.png")
'''
