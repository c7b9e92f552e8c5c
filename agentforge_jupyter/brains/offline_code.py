"""The offline brain's code: real pandas/matplotlib for each analysis.

Every step is self-contained: it copies the data, coerces the columns it uses (mixed-type
numbers with ``pd.to_numeric(errors="coerce")``, dates with ``pd.to_datetime``), prints labelled
``FACT: label = value`` lines, shows tables with ``display`` and charts with ``plt.show()``.
Column names reach the code only as ``repr`` literals in the header, so odd names are safe.

Repair levels: 0 is the normal code; 1 is defensive (drops rows missing the used columns,
guards empty data, charts in try/except); 2 is a minimal fallback that only shows the columns.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from agentforge_jupyter.brains.offline_intents import AnalysisSpec, Profile

__all__ = ["DEFENSIVE_MARKER", "FALLBACK_MARKER", "code_for"]

DEFENSIVE_MARKER = "# defensive variant"
FALLBACK_MARKER = "# fallback variant"

_WINDOWS = {"D": (7, 28), "W": (4, 12), "MS": (3, 6), "QS": (2, 4)}
_PERIODS_PER_YEAR = {"D": 365, "W": 52, "MS": 12, "QS": 4}


def code_for(spec: AnalysisSpec, profile: Profile, *, variable: str = "df", level: int = 0) -> str:
    """Python source for ``spec`` (see the module docstring for ``level``)."""
    variable = variable if variable.isidentifier() else "df"
    if level >= 2:
        return _fallback(spec, profile, variable)
    body, chart = _BODIES[spec.intent](spec, profile)
    header = _header(spec, profile, variable, defensive=level == 1)
    if level == 1:
        lines = [
            "if data.empty:",
            '    print("No rows are left after removing missing values; nothing to analyse.")',
            "else:",
            _indent(body),
            "    try:",
            _indent(chart, 8),
            "    except Exception as exc:  # a chart must not lose the printed facts",
            '        print(f"Chart skipped: {exc}")',
        ]
        return header + "\n" + "\n".join(lines) + "\n"
    return header + "\n" + body.strip("\n") + "\n\n" + chart.strip("\n") + "\n"


def _indent(block: str, spaces: int = 4) -> str:
    return textwrap.indent(textwrap.dedent(block).strip("\n"), " " * spaces)


# --------------------------------------------------------------------------- header


def _used_columns(spec: AnalysisSpec, profile: Profile) -> list[str]:
    used = [spec.value, spec.second, spec.group, spec.date]
    if spec.intent in ("overview", "correlation") and not (spec.value and spec.second):
        used += profile.numeric()
    return [c for c in dict.fromkeys(used) if c is not None]


def _header(spec: AnalysisSpec, profile: Profile, variable: str, *, defensive: bool) -> str:
    title = spec.title().replace("\n", " ")
    lines = [f"# AgentForge offline brain (rule-based, no LLM): {title}"]
    if defensive:
        lines.append(f"{DEFENSIVE_MARKER}: coerces types, drops missing rows, guards the chart")
    needs_numpy = spec.intent in ("returns", "volatility")
    if needs_numpy:
        lines.append("import numpy as np")
    lines += [
        "import matplotlib.pyplot as plt",
        "import pandas as pd",
        "",
        f"data = {variable}.copy()",
    ]
    mixed = set(profile.mixed_numeric())
    if spec.value:
        lines.append(f"value_col = {spec.value!r}")
    if spec.second:
        lines.append(f"second_col = {spec.second!r}")
    if spec.group:
        lines.append(f"group_col = {spec.group!r}")
    if spec.date and spec.intent in _TIME_INTENTS:
        lines.append(f"date_col = {spec.date!r}")
    lines += _parameters(spec)
    if spec.intent in ("overview", "correlation") and not spec.second:
        numeric = profile.numeric()
        lines.append(f"numeric_cols = {numeric!r}")
        if numeric:
            lines += [
                "for col in numeric_cols:",
                '    data[col] = pd.to_numeric(data[col], errors="coerce")',
            ]
    for var, name in (("value_col", spec.value), ("second_col", spec.second)):
        if name is None or spec.intent == "quality":
            continue
        if name in mixed:
            lines.append(f"# {name} holds text or non-numbers: coerce them to NaN.")
        lines.append(f'data[{var}] = pd.to_numeric(data[{var}], errors="coerce")')
    if spec.group and spec.intent != "quality":
        lines.append('data[group_col] = data[group_col].astype("string").fillna("(missing)")')
        if spec.group_values:
            lines.append(f"group_values = {spec.group_values!r}")
            lines.append("data = data[data[group_col].isin(group_values)]")
    if spec.date and spec.intent in _TIME_INTENTS:
        lines.append('data[date_col] = pd.to_datetime(data[date_col], errors="coerce")')
    if defensive:
        used = [c for c in _used_columns(spec, profile) if c != spec.group]
        if spec.intent not in ("overview", "quality") and used:
            lines.append(f"data = data.dropna(subset={used!r})")
    return "\n".join(lines) + "\n"


_TIME_INTENTS = ("overview", "trend", "returns", "moving_average", "volatility", "drawdown")


def _parameters(spec: AnalysisSpec) -> list[str]:
    intent = spec.intent
    lines: list[str] = []
    if intent in ("aggregate", "trend"):
        lines.append(f"agg = {spec.agg!r}")
    if intent == "topn":
        lines.append(f"top_n = {spec.top_n}")
        lines.append(f"ascending = {spec.ascending}")
    if intent in ("trend", "returns", "moving_average", "volatility", "drawdown"):
        lines.append(f"freq = {spec.freq!r}  # pandas offset alias")
        lines.append(f"freq_label = {spec.freq_label!r}")
    if intent in ("returns", "moving_average", "volatility", "drawdown"):
        how = "last" if spec.agg == "mean" else "sum"
        lines.append(
            f"period_agg = {how!r}  # " + ("level at period end" if how == "last" else "per period")
        )
    if intent in ("moving_average", "volatility"):
        short, long = _WINDOWS.get(spec.freq, (7, 28))
        lines.append(f"short_window, long_window = {short}, {long}")
    if intent == "volatility":
        lines.append(f"periods_per_year = {_PERIODS_PER_YEAR.get(spec.freq, 365)}")
    return lines


# --------------------------------------------------------------------------- intents

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


_TREND = """
series_data = data.dropna(subset=[date_col]).set_index(date_col).sort_index()
trend = series_data[value_col].resample(freq).agg(agg)
# Periods with few days of data (a partial first or last week) would distort comparisons.
days = series_data.index.to_series().dt.normalize().resample(freq).nunique()
complete = trend[days >= days.max() * 0.6]
display(trend.to_frame(f"{agg} of {value_col}").round(2))
print(f"FACT: {freq_label} periods = {len(trend)}")
if freq == "W":
    print("Weekly periods are labelled by their last day (a Sunday).")
if len(complete) < len(trend):
    print(f"FACT: partial periods left out of comparisons = {len(trend) - len(complete)}")
if len(complete):
    first_day, last_day = complete.index[0], complete.index[-1]
    first_value, last_value = complete.iloc[0], complete.iloc[-1]
    print(f"FACT: {value_col} in first full period ({first_day:%Y-%m-%d}) = {first_value:,.2f}")
    print(f"FACT: {value_col} in last full period ({last_day:%Y-%m-%d}) = {last_value:,.2f}")
    if complete.iloc[0]:
        change = (complete.iloc[-1] / complete.iloc[0] - 1) * 100
        print(f"FACT: change from first to last full period = {change:+.1f}%")
    print(f"FACT: peak period = {complete.idxmax():%Y-%m-%d} ({complete.max():,.2f})")
    print(f"FACT: lowest period = {complete.idxmin():%Y-%m-%d} ({complete.min():,.2f})")
"""
_TREND_WEEKDAY = """
daily = series_data[value_col].resample("D").agg(agg)
if len(daily) >= 14:
    weekday = daily.groupby(daily.index.day_name()).mean()
    print(f"FACT: strongest weekday (mean per day) = {weekday.idxmax()} ({weekday.max():,.2f})")
    print(f"FACT: weakest weekday (mean per day) = {weekday.idxmin()} ({weekday.min():,.2f})")
"""
_TREND_GROUPS = """
by_period = series_data.groupby([pd.Grouper(freq=freq), group_col])[value_col].agg(agg)
pivot = by_period.unstack(group_col)
pivot = pivot.reindex(complete.index).fillna(0).drop(columns="(missing)", errors="ignore")
if len(pivot) >= 2:
    growth = (pivot.iloc[-1] - pivot.iloc[0]).sort_values(ascending=False)
    up, down = growth.index[0], growth.index[-1]
    gain, loss = growth.iloc[0], growth.iloc[-1]
    print(f"FACT: largest increase in {value_col} by {group_col} = {up} ({gain:+,.2f})")
    print(f"FACT: largest decrease in {value_col} by {group_col} = {down} ({loss:+,.2f})")
"""
_TREND_GROUP_CHANGES = """
if len(pivot) >= 2:
    for name in growth.index[:10]:
        first, last = pivot[name].iloc[0], pivot[name].iloc[-1]
        if first:
            change = (last / first - 1) * 100
            print(f"FACT: change for {group_col} {name} over the full periods = {change:+.1f}%")
"""
_TREND_CHART = """
fig, ax = plt.subplots(figsize=(9, 4))
ax.plot(trend.index, trend.values, marker="o", color="#1f77b4", label=f"{agg} of {value_col}")
ax.set_title(f"{freq_label.capitalize()} {value_col} over time")
ax.set_xlabel(date_col)
ax.set_ylabel(value_col)
ax.legend()
fig.autofmt_xdate()
plt.tight_layout()
plt.show()
"""
_TREND_GROUPS_CHART = """
if len(pivot):
    fig, ax = plt.subplots(figsize=(9, 4))
    for name in pivot.columns[:10]:
        ax.plot(pivot.index, pivot[name], marker=".", label=str(name))
    ax.set_title(f"{freq_label.capitalize()} {value_col} by {group_col} (full periods)")
    ax.set_ylabel(value_col)
    ax.legend(fontsize="small")
    fig.autofmt_xdate()
    plt.tight_layout()
    plt.show()
"""


def _trend(spec: AnalysisSpec, profile: Profile) -> tuple[str, str]:
    if spec.group:
        body = _TREND + _TREND_GROUPS + _TREND_WEEKDAY + _TREND_GROUP_CHANGES
        return body, _TREND_CHART + _TREND_GROUPS_CHART
    return _TREND + _TREND_WEEKDAY, _TREND_CHART


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


_SERIES = """
indexed = data.dropna(subset=[date_col]).set_index(date_col).sort_index()[value_col]
series = indexed.resample(freq).agg(period_agg)
series = series[indexed.resample(freq).count() > 0]  # periods with no rows are not zero
print(f"FACT: {freq_label} periods = {len(series)}")
"""
_RETURNS = """
returns = (series / series.shift(1) - 1).replace([np.inf, -np.inf], np.nan).dropna()
display((returns * 100).round(2).to_frame("return %").tail(10))
print(f"FACT: mean {freq_label} return of {value_col} = {returns.mean() * 100:+.2f}%")
print(f"FACT: median {freq_label} return of {value_col} = {returns.median() * 100:+.2f}%")
print(f"FACT: best period = {returns.idxmax():%Y-%m-%d} ({returns.max() * 100:+.2f}%)")
print(f"FACT: worst period = {returns.idxmin():%Y-%m-%d} ({returns.min() * 100:+.2f}%)")
print(f"FACT: share of periods with positive returns = {(returns > 0).mean() * 100:.1f}%")
if series.iloc[0]:
    overall = (series.iloc[-1] / series.iloc[0] - 1) * 100
    print(f"FACT: change over the whole series = {overall:+.1f}%")
"""
_RETURNS_CHART = """
fig, ax = plt.subplots(figsize=(9, 4))
colors = ["#2ca02c" if r > 0 else "#d62728" for r in returns]
ax.bar(returns.index, returns.values * 100, color=colors, width=0.8 if freq == "D" else 5)
ax.axhline(0, color="black", linewidth=0.8)
ax.set_title(f"{freq_label.capitalize()} returns of {value_col} (%)")
ax.set_ylabel("%")
fig.autofmt_xdate()
plt.tight_layout()
plt.show()
"""
_MOVING = """
short_ma = series.rolling(short_window).mean()
long_ma = series.rolling(long_window).mean()
print(f"FACT: latest {value_col} ({series.index[-1]:%Y-%m-%d}) = {series.iloc[-1]:,.2f}")
if short_ma.notna().any():
    print(f"FACT: latest {short_window}-period moving average = {short_ma.iloc[-1]:,.2f}")
if long_ma.notna().any():
    print(f"FACT: latest {long_window}-period moving average = {long_ma.iloc[-1]:,.2f}")
    position = "above" if short_ma.iloc[-1] > long_ma.iloc[-1] else "below"
    print(f"FACT: short moving average relative to long = {position}")
    above = (short_ma > long_ma)[long_ma.notna()]
    crossings = int((above != above.shift()).iloc[1:].sum())
    print(f"FACT: crossings of the two moving averages = {crossings}")
"""
_MOVING_CHART = """
fig, ax = plt.subplots(figsize=(9, 4))
ax.plot(series.index, series.values, color="#c7c7c7", label=f"{freq_label} {value_col}")
ax.plot(short_ma.index, short_ma.values, color="#1f77b4", label=f"{short_window}-period average")
ax.plot(long_ma.index, long_ma.values, color="#ff7f0e", label=f"{long_window}-period average")
ax.set_title(f"Moving averages of {value_col}")
ax.legend()
fig.autofmt_xdate()
plt.tight_layout()
plt.show()
"""
_VOLATILITY = """
returns = (series / series.shift(1) - 1).replace([np.inf, -np.inf], np.nan).dropna()
per_period = returns.std()
annualised = per_period * np.sqrt(periods_per_year)
rolling = returns.rolling(short_window).std() * np.sqrt(periods_per_year)
print(f"FACT: {freq_label} volatility of {value_col} returns = {per_period * 100:.2f}%")
print(f"FACT: annualised volatility ({periods_per_year} periods a year) = {annualised * 100:.1f}%")
if rolling.notna().any():
    peak_vol = rolling.max() * 100
    peak_day = rolling.idxmax()
    print(f"FACT: highest rolling volatility = {peak_day:%Y-%m-%d} ({peak_vol:.1f}% annualised)")
    print(f"FACT: latest rolling volatility = {rolling.dropna().iloc[-1] * 100:.1f}% annualised")
if series.mean():
    variation = series.std() / series.mean()
    print(f"FACT: coefficient of variation of {freq_label} {value_col} = {variation:.2f}")
"""
_VOLATILITY_CHART = """
fig, ax = plt.subplots(figsize=(9, 4))
ax.plot(rolling.index, rolling.values * 100, color="#d62728")
ax.axhline(annualised * 100, color="black", linestyle="--", label="whole period")
ax.set_title(f"Rolling {short_window}-period volatility of {value_col} (annualised %)")
ax.set_ylabel("%")
ax.legend()
fig.autofmt_xdate()
plt.tight_layout()
plt.show()
"""
_DRAWDOWN = """
running_peak = series.cummax()
drawdown = series / running_peak - 1
trough = drawdown.idxmin()
peak_date = series.loc[:trough].idxmax()
print(f"FACT: maximum drawdown of {value_col} = {drawdown.min() * 100:.1f}%")
print(f"FACT: maximum drawdown trough = {trough:%Y-%m-%d} (peak on {peak_date:%Y-%m-%d})")
print(f"FACT: current drawdown = {drawdown.iloc[-1] * 100:.1f}%")
recovered = bool((series.loc[trough:] >= series.loc[peak_date]).any())
print(f"FACT: recovered to the earlier peak = {'yes' if recovered else 'no'}")
"""
_DRAWDOWN_CHART = """
fig, ax = plt.subplots(figsize=(9, 4))
ax.fill_between(drawdown.index, drawdown.values * 100, 0, color="#d62728", alpha=0.4)
ax.set_title(f"Drawdown of {freq_label} {value_col} from its running peak (%)")
ax.set_ylabel("%")
fig.autofmt_xdate()
plt.tight_layout()
plt.show()
"""


def _finance(body: str, chart: str) -> Callable[[AnalysisSpec, Profile], tuple[str, str]]:
    def make(spec: AnalysisSpec, profile: Profile) -> tuple[str, str]:
        return _SERIES + body, chart

    return make


_BODIES = {
    "overview": _overview,
    "quality": _quality,
    "distribution": _distribution,
    "aggregate": _aggregate,
    "topn": _topn,
    "compare": _compare,
    "trend": _trend,
    "correlation": _correlation,
    "outliers": _outliers,
    "returns": _finance(_RETURNS, _RETURNS_CHART),
    "moving_average": _finance(_MOVING, _MOVING_CHART),
    "volatility": _finance(_VOLATILITY, _VOLATILITY_CHART),
    "drawdown": _finance(_DRAWDOWN, _DRAWDOWN_CHART),
}


# --------------------------------------------------------------------------- fallback


def _fallback(spec: AnalysisSpec, profile: Profile, variable: str) -> str:
    used = _used_columns(spec, profile)
    return "\n".join(
        [
            f"# AgentForge offline brain (rule-based, no LLM): {spec.title()}",
            f"{FALLBACK_MARKER}: the step failed twice, so this only shows the columns it uses",
            "import pandas as pd",
            "",
            f"data = {variable}.copy()",
            f"cols = [c for c in {used!r} if c in data.columns]",
            'print(f"FACT: rows = {len(data):,}")',
            'print(f"FACT: columns = {data.shape[1]}")',
            "shown = data[cols] if cols else data",
            "display(shown.head(20))",
            "display(shown.astype(str).describe().T)",
            'print("This is a simplified fallback after repeated errors in this step.")',
            "",
        ]
    )
