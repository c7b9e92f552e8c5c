"""Code templates for the table-shaped analyses: overview, quality, distribution, aggregate,
top N, compare, correlation, outliers.

Each template reads the parameters the header defines (``data``, ``value_col``, ``group_col``
...) and never has a name from the data spliced into its text: names reach the code only as
``repr`` literals in the header.
"""

from __future__ import annotations

from .profile import Profile
from .specs import AnalysisSpec

__all__ = ["TABLE_BODIES"]

_OVERVIEW = """
print(f"FACT: rows = {len(data):,}")
print(f"FACT: columns = {data.shape[1]}")
print(f"FACT: numeric columns = {len(numeric_cols)}")
columns = pd.DataFrame(
    {"dtype": data.dtypes.astype(str), "non-null": data.notna().sum(), "missing": data.isna().sum()}
)
display(columns)
display(data.head(10))
for col in numeric_cols:
    print(f"FACT: mean of {col} = {data[col].mean():,.2f}")
if numeric_cols:
    display(data[numeric_cols].describe().T.round(2))
"""
_OVERVIEW_DATES = """
dates = data[date_col].dropna()
if len(dates):
    print(f"FACT: date range = {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}")
"""
_OVERVIEW_CHART = """
if numeric_cols:
    data[numeric_cols].hist(bins=30, figsize=(10, 2.5 * ((len(numeric_cols) + 2) // 3)))
    plt.suptitle("Numeric columns")
    plt.tight_layout()
    plt.show()
"""


def _overview(spec: AnalysisSpec, profile: Profile) -> tuple[str, str]:
    body = _OVERVIEW + (_OVERVIEW_DATES if spec.date else "")
    return body, _OVERVIEW_CHART


_QUALITY = """
missing = data.isna().sum()
missing_pct = (missing / max(len(data), 1) * 100).round(2)
table = pd.DataFrame({"missing": missing, "missing %": missing_pct})
table = table.sort_values("missing", ascending=False)
display(table)
total_missing = int(missing.sum())
print(f"FACT: rows = {len(data):,}")
missing_share = total_missing / max(data.size, 1) * 100
print(f"FACT: missing cells = {total_missing:,} of {data.size:,} ({missing_share:.2f}%)")
print(f"FACT: columns with missing values = {int((missing > 0).sum())} of {data.shape[1]}")
if total_missing:
    worst = table.index[0]
    print(
        f"FACT: column with most missing values = {worst} "
        f"({int(table.loc[worst, 'missing']):,}, {table.loc[worst, 'missing %']:.2f}%)"
    )
duplicates = int(data.astype(str).duplicated().sum())
print(f"FACT: duplicate rows = {duplicates:,}")
"""
_QUALITY_MIXED = """
mixed_cols = @MIXED@  # numeric columns that hold text
for col in mixed_cols:
    raw = data[col]
    bad = raw.notna() & pd.to_numeric(raw, errors="coerce").isna()
    examples = ", ".join(raw[bad].astype(str).unique()[:3])
    example_text = f" (e.g. {examples})" if examples else ""
    print(f"FACT: non-numeric values in {col} = {int(bad.sum()):,}{example_text}")
"""
_QUALITY_CHART = """
with_missing = table[table["missing"] > 0]
if len(with_missing):
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(with_missing) + 1.5))
    ax.barh(with_missing.index.astype(str), with_missing["missing"], color="#d62728")
    ax.invert_yaxis()
    ax.set_xlabel("missing values")
    ax.set_title("Missing values per column")
    plt.tight_layout()
    plt.show()
else:
    print("No missing values, so there is no missing-value chart.")
"""


def _quality(spec: AnalysisSpec, profile: Profile) -> tuple[str, str]:
    mixed = profile.mixed_numeric()
    body = _QUALITY + (_QUALITY_MIXED.replace("@MIXED@", repr(mixed)) if mixed else "")
    return body, _QUALITY_CHART


_DIST_NUMERIC = """
values = data[value_col].dropna()
print(f"FACT: {value_col} non-missing values = {len(values):,}")
print(f"FACT: {value_col} mean = {values.mean():,.2f}")
print(f"FACT: {value_col} median = {values.median():,.2f}")
print(f"FACT: {value_col} standard deviation = {values.std():,.2f}")
print(f"FACT: {value_col} min = {values.min():,.2f}")
print(f"FACT: {value_col} max = {values.max():,.2f}")
print(f"FACT: {value_col} skewness = {values.skew():.2f}")
display(values.describe().to_frame(value_col).round(2))
"""
_DIST_NUMERIC_CHART = """
fig, ax = plt.subplots(figsize=(8, 4))
ax.hist(values, bins=30, color="#1f77b4", alpha=0.8)
ax.axvline(values.mean(), color="black", linestyle="--", label="mean")
ax.axvline(values.median(), color="orange", linestyle=":", label="median")
ax.set_title(f"Distribution of {value_col}")
ax.set_xlabel(value_col)
ax.set_ylabel("rows")
ax.legend()
plt.tight_layout()
plt.show()
"""
_DIST_CATEGORY = """
counts = data[group_col].value_counts()
display(counts.to_frame("rows"))
print(f"FACT: distinct values of {group_col} = {counts.size}")
top_share = counts.iloc[0] / counts.sum() * 100
top_rows = counts.iloc[0]
print(f"FACT: most common {group_col} = {counts.index[0]} ({top_rows:,} rows, {top_share:.1f}%)")
print(f"FACT: least common {group_col} = {counts.index[-1]} ({counts.iloc[-1]:,} rows)")
"""
_DIST_CATEGORY_CHART = """
shown = counts.head(20)
fig, ax = plt.subplots(figsize=(8, 0.35 * len(shown) + 1.5))
ax.barh(shown.index.astype(str), shown.values, color="#1f77b4")
ax.invert_yaxis()
ax.set_xlabel("rows")
ax.set_title(f"Distribution of {group_col}")
plt.tight_layout()
plt.show()
"""


def _distribution(spec: AnalysisSpec, profile: Profile) -> tuple[str, str]:
    if spec.value:
        return _DIST_NUMERIC, _DIST_NUMERIC_CHART
    return _DIST_CATEGORY, _DIST_CATEGORY_CHART


_AGGREGATE = """
summary = data.groupby(group_col)[value_col].agg(agg).sort_values(ascending=False)
label = f"{agg} of {value_col}"
display(summary.to_frame(label).round(2))
known = summary.drop("(missing)", errors="ignore")  # rows without a group are not a group
print(f"FACT: highest {label} by {group_col} = {known.index[0]} ({known.iloc[0]:,.2f})")
print(f"FACT: lowest {label} by {group_col} = {known.index[-1]} ({known.iloc[-1]:,.2f})")
for name, value in summary.head(10).items():
    print(f"FACT: {label} for {group_col} {name} = {value:,.2f}")
"""
_AGGREGATE_SHARE = """
total = summary.sum()
print(f"FACT: total {value_col} = {total:,.2f}")
if total:
    share = known.iloc[0] / total * 100
    print(f"FACT: share of {known.index[0]} in total {value_col} = {share:.1f}%")
"""
_AGGREGATE_CHART = """
shown = summary.head(20)
fig, ax = plt.subplots(figsize=(8, 0.4 * len(shown) + 1.5))
ax.barh(shown.index.astype(str), shown.values, color="#2ca02c")
ax.invert_yaxis()
ax.set_xlabel(label)
ax.set_title(f"{label} by {group_col}")
plt.tight_layout()
plt.show()
"""


def _aggregate(spec: AnalysisSpec, profile: Profile) -> tuple[str, str]:
    body = _AGGREGATE + (_AGGREGATE_SHARE if spec.agg == "sum" else "")
    return body, _AGGREGATE_CHART


_TOP_GROUPS = """
ranked = data.groupby(group_col)[value_col].sum().sort_values(ascending=ascending).head(top_n)
display(ranked.to_frame(f"total {value_col}").round(2))
for rank, (name, value) in enumerate(ranked.items(), start=1):
    print(f"FACT: @WORD@ {rank} {group_col} by total {value_col} = {name} ({value:,.2f})")
"""
_TOP_GROUPS_CHART = """
fig, ax = plt.subplots(figsize=(8, 0.4 * len(ranked) + 1.5))
ax.barh(ranked.index.astype(str), ranked.values, color="#9467bd")
ax.invert_yaxis()
ax.set_xlabel(f"total {value_col}")
ax.set_title(f"@TITLE@ {top_n} {group_col} by total {value_col}")
plt.tight_layout()
plt.show()
"""
_TOP_ROWS = """
ranked = data.dropna(subset=[value_col]).sort_values(value_col, ascending=ascending).head(top_n)
display(ranked)
for rank, value in enumerate(ranked[value_col], start=1):
    print(f"FACT: @WORD@ {rank} {value_col} = {value:,.2f}")
"""
_TOP_ROWS_CHART = """
fig, ax = plt.subplots(figsize=(8, 0.4 * len(ranked) + 1.5))
ax.barh([str(i) for i in ranked.index], ranked[value_col], color="#9467bd")
ax.invert_yaxis()
ax.set_xlabel(value_col)
ax.set_ylabel("row")
ax.set_title(f"@TITLE@ {top_n} rows by {value_col}")
plt.tight_layout()
plt.show()
"""


def _topn(spec: AnalysisSpec, profile: Profile) -> tuple[str, str]:
    word = "bottom" if spec.ascending else "top"
    body, chart = (_TOP_GROUPS, _TOP_GROUPS_CHART) if spec.group else (_TOP_ROWS, _TOP_ROWS_CHART)
    return body.replace("@WORD@", word), chart.replace("@TITLE@", word.capitalize())


_COMPARE = """
stats = data.groupby(group_col)[value_col].agg(["count", "mean", "median", "sum"])
stats = stats.sort_values("mean", ascending=False)
display(stats.round(2))
best, worst = stats.index[0], stats.index[-1]
print(f"FACT: groups compared = {len(stats)}")
print(f"FACT: highest mean {value_col} = {best} ({stats.loc[best, 'mean']:,.2f})")
print(f"FACT: lowest mean {value_col} = {worst} ({stats.loc[worst, 'mean']:,.2f})")
if stats.loc[worst, "mean"]:
    ratio = stats.loc[best, "mean"] / stats.loc[worst, "mean"]
    print(f"FACT: ratio of highest to lowest mean {value_col} = {ratio:.2f}")
for name, row in stats.head(12).iterrows():
    print(
        f"FACT: mean {value_col} for {group_col} {name} = {row['mean']:,.2f} "
        f"(median {row['median']:,.2f}, n = {int(row['count']):,})"
    )
"""
_COMPARE_CHART = """
shown = stats.head(12)
groups = [data.loc[data[group_col] == name, value_col].dropna() for name in shown.index]
fig, ax = plt.subplots(figsize=(8, 4))
ax.boxplot(groups)
ax.set_xticks(range(1, len(groups) + 1), [str(name) for name in shown.index], rotation=30)
ax.set_ylabel(value_col)
ax.set_title(f"{value_col} by {group_col}")
plt.tight_layout()
plt.show()
"""


def _compare(spec: AnalysisSpec, profile: Profile) -> tuple[str, str]:
    return _COMPARE, _COMPARE_CHART


_CORR_MATRIX = """
numeric = data[numeric_cols]
numeric = numeric.loc[:, (numeric.notna().sum() > 2) & (numeric.nunique() > 1)]
corr = numeric.corr()
display(corr.round(3))
pairs = []
for i, a in enumerate(corr.columns):
    for b in corr.columns[i + 1 :]:
        r = corr.loc[a, b]
        if pd.notna(r):
            pairs.append((abs(r), r, a, b))
pairs.sort(key=lambda pair: pair[0], reverse=True)
if pairs:
    _, r, a, b = pairs[0]
    print(f"FACT: strongest correlation = {a} and {b} (r = {r:.3f})")
    for _, r, a, b in pairs[:6]:
        print(f"FACT: correlation of {a} and {b} = {r:.3f}")
else:
    print("Not enough numeric data for a correlation.")
"""
_CORR_MATRIX_CHART = """
if len(corr.columns) >= 2:
    fig, ax = plt.subplots(figsize=(6, 5))
    image = ax.imshow(corr.values, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(corr.columns)), corr.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(corr.columns)), corr.columns)
    fig.colorbar(image, ax=ax, label="r")
    ax.set_title("Correlation between numeric columns")
    plt.tight_layout()
    plt.show()
"""
_CORR_PAIR = """
pair = data[[value_col, second_col]].dropna()
r = pair[value_col].corr(pair[second_col])
print(f"FACT: correlation of {value_col} and {second_col} = {r:.3f} (n = {len(pair):,})")
strength = "strong" if abs(r) >= 0.7 else "moderate" if abs(r) >= 0.4 else "weak"
print(f"FACT: strength of the linear relationship = {strength}")
"""
_CORR_PAIR_CHART = """
fig, ax = plt.subplots(figsize=(6, 5))
ax.scatter(pair[second_col], pair[value_col], s=10, alpha=0.5)
ax.set_xlabel(second_col)
ax.set_ylabel(value_col)
ax.set_title(f"{value_col} vs {second_col} (r = {r:.2f})")
plt.tight_layout()
plt.show()
"""


def _correlation(spec: AnalysisSpec, profile: Profile) -> tuple[str, str]:
    if spec.value and spec.second:
        return _CORR_PAIR, _CORR_PAIR_CHART
    return _CORR_MATRIX, _CORR_MATRIX_CHART


_OUTLIERS = """
values = data[value_col].dropna()
q1, q3 = values.quantile(0.25), values.quantile(0.75)
iqr = q3 - q1
low, high = q1 - 1.5 * iqr, q3 + 1.5 * iqr
mask = (data[value_col] < low) | (data[value_col] > high)
outliers = data[mask].sort_values(value_col, ascending=False)
print(f"FACT: {value_col} IQR bounds = {low:,.2f} to {high:,.2f}")
share = mask.sum() / max(len(values), 1) * 100
print(f"FACT: outliers in {value_col} = {int(mask.sum()):,} of {len(values):,} rows ({share:.1f}%)")
if len(outliers):
    print(f"FACT: largest {value_col} outlier = {outliers[value_col].iloc[0]:,.2f}")
    display(outliers.head(10))
"""
_OUTLIERS_CHART = """
fig, ax = plt.subplots(figsize=(8, 4))
ax.hist(values, bins=40, color="#7f7f7f")
for bound in (low, high):
    ax.axvline(bound, color="#d62728", linestyle="--")
ax.set_title(f"{value_col}: values outside the dashed IQR bounds are outliers")
ax.set_xlabel(value_col)
ax.set_ylabel("rows")
plt.tight_layout()
plt.show()
"""


def _outliers(spec: AnalysisSpec, profile: Profile) -> tuple[str, str]:
    return _OUTLIERS, _OUTLIERS_CHART


TABLE_BODIES = {
    "overview": _overview,
    "quality": _quality,
    "distribution": _distribution,
    "aggregate": _aggregate,
    "topn": _topn,
    "compare": _compare,
    "correlation": _correlation,
    "outliers": _outliers,
}
