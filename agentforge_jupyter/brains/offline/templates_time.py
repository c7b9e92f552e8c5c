"""Code templates for analyses over time: trend, returns, moving averages, volatility, drawdown."""

from __future__ import annotations

from collections.abc import Callable

from .profile import Profile
from .specs import AnalysisSpec

__all__ = ["TIME_BODIES"]

_TREND = """
series_data = data.dropna(subset=[date_col]).set_index(date_col).sort_index()
trend = series_data[value_col].resample(freq).agg(agg)
# Periods with few days of data (a partial first or last week) would distort comparisons.
days = series_data.index.to_series().dt.normalize().resample(freq).nunique()
complete = trend[days >= days.max() * 0.6]
table = trend.to_frame(f"{agg} of {value_col}").round(2)
table["full period"] = table.index.isin(complete.index)
display(table)
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
    rising, falling = growth[growth > 0], growth[growth < 0]
    if len(rising):
        up, gain = rising.index[0], rising.iloc[0]
        print(f"FACT: largest increase in {value_col} by {group_col} = {up} ({gain:+,.2f})")
    else:
        print(f"FACT: {group_col} groups whose {value_col} rose = none (all fell or stayed flat)")
    if len(falling):
        down, loss = falling.index[-1], falling.iloc[-1]
        print(f"FACT: largest decrease in {value_col} by {group_col} = {down} ({loss:+,.2f})")
    else:
        print(f"FACT: {group_col} groups whose {value_col} fell = none (all rose or stayed flat)")
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
# The chart shows the frame the facts come from; partial periods are drawn apart and labelled.
partial = trend.drop(complete.index)
fig, ax = plt.subplots(figsize=(9, 4))
ax.plot(complete.index, complete.values, marker="o", color="#1f77b4", label=f"{agg} of {value_col}")
if len(partial):
    ax.scatter(
        partial.index,
        partial.values,
        facecolors="none",
        edgecolors="#7f7f7f",
        label="partial period (left out of the facts)",
    )
ax.set_title(f"{freq_label.capitalize()} {value_col} over time (full periods)")
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


_SERIES = """
indexed = data.dropna(subset=[date_col]).set_index(date_col).sort_index()[value_col]
series = indexed.resample(freq).agg(period_agg)
series = series[indexed.resample(freq).count() > 0]  # periods with no rows are not zero
if period_agg == "sum":
    # A total over a partial period (a week cut by the data's end) is not comparable.
    days = indexed.index.to_series().dt.normalize().resample(freq).nunique()
    full = (days >= days.max() * 0.6).reindex(series.index, fill_value=False)
    if int((~full).sum()):
        print(f"FACT: partial periods left out = {int((~full).sum())}")
    series = series[full]
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
_VARIABILITY = """
change = (series / series.shift(1) - 1).replace([np.inf, -np.inf], np.nan).dropna()
rolling = series.rolling(short_window).std() / series.rolling(short_window).mean()
if series.mean():
    variation = series.std() / series.mean()
    print(f"FACT: coefficient of variation of {freq_label} {value_col} = {variation:.2f}")
if len(change):
    typical = change.abs().median() * 100
    print(f"FACT: typical change from one {freq_label} period to the next = {typical:.1f}%")
print(f"FACT: lowest {freq_label} {value_col} = {series.min():,.2f} ({series.idxmin():%Y-%m-%d})")
print(f"FACT: highest {freq_label} {value_col} = {series.max():,.2f} ({series.idxmax():%Y-%m-%d})")
"""
_VARIABILITY_CHART = """
fig, ax = plt.subplots(figsize=(9, 4))
ax.plot(rolling.index, rolling.values, color="#d62728")
ax.set_title(f"Rolling {short_window}-period coefficient of variation of {value_col}")
ax.set_ylabel("standard deviation / mean")
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


def _volatility(spec: AnalysisSpec, profile: Profile) -> tuple[str, str]:
    # Volatility of returns is for levels (prices); for flows (sales) it reads as nonsense
    # ("annualised volatility 915%"), so flows get plain-words variability.
    if spec.is_level:
        return _SERIES + _VOLATILITY, _VOLATILITY_CHART
    return _SERIES + _VARIABILITY, _VARIABILITY_CHART


TIME_BODIES = {
    "trend": _trend,
    "returns": _finance(_RETURNS, _RETURNS_CHART),
    "moving_average": _finance(_MOVING, _MOVING_CHART),
    "volatility": _volatility,
    "drawdown": _finance(_DRAWDOWN, _DRAWDOWN_CHART),
}
