"""Realistic analysis code passes lint untouched: pandas, matplotlib, seaborn, scipy,
statsmodels, scikit-learn, and a 200-line cell."""

from __future__ import annotations

import pytest

from agentforge_jupyter.lint import format_findings, lint

from .lint_samples import REALISTIC_CELL

# --- realistic analysis code passes ---------------------------------------------------------

LEGIT = [
    """
import pandas as pd
import numpy as np
import matplotlib.pyplot as plt

df["date"] = pd.to_datetime(df["date"], errors="coerce")
monthly = df.set_index("date").groupby("region")["revenue"].resample("MS").sum()
pivot = monthly.unstack(0).fillna(0)
ax = pivot.plot(figsize=(10, 4), title="Revenue by region")
ax.set_ylabel("revenue")
plt.tight_layout()
plt.savefig("revenue.png")
print(f"Top region: {pivot.sum().idxmax()} ({pivot.sum().max():,.0f})")
""",
    """
import seaborn as sns
from scipy import stats
sns.set_theme(style="whitegrid")
g = sns.histplot(data=df, x="units", hue="region", bins=30)
r = stats.pearsonr(df["units"], df["revenue"])
print(r.statistic, r.pvalue)
""",
    """
import statsmodels.formula.api as smf
model = smf.ols("revenue ~ units + C(region)", data=df).fit()
print(model.summary().tables[1])
df.query("units > 3 and region == 'North'").to_csv("north.csv", index=False)
""",
    """
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split
X_train, X_test, y_train, y_test = train_test_split(df[["units"]], df["revenue"])
reg = LinearRegression().fit(X_train, y_train)
coef = getattr(reg, "coef_", None)
print(reg.score(X_test, y_test), coef)
""",
    """
from dataclasses import dataclass
from collections import Counter

@dataclass
class Summary:
    name: str
    total: float

    def __str__(self) -> str:
        return f"{self.name}: {self.total:.2f}"

class Tracker:
    def __init__(self):
        self.counts = Counter()

    def __len__(self):
        return len(self.counts)

    def add(self, key):
        self.counts[key] += 1

t = Tracker()
for region in df["region"].dropna():
    t.add(region)
print(len(t), Summary("all", df["revenue"].sum()))
""",
    """
import json, re, math
from pathlib import Path
cfg = json.loads('{"threshold": 3}')
clean = df["product"].str.replace(r"\\s+", " ", regex=True).str.strip()
ratio = math.log1p(df["units"].mean())
Path("reports").mkdir(exist_ok=True)
with open("reports/summary.json", "w") as fh:
    json.dump({"ratio": ratio, "n": int(clean.nunique())}, fh)
data = pd.read_csv("data/sales.csv", parse_dates=["date"])
""",
    """
import numpy as np
rng = np.random.default_rng(0)
samples = rng.normal(size=(100, 3))
cov = np.cov(samples, rowvar=False)
w, v = np.linalg.eigh(cov)
np.savetxt("eigs.txt", w)
arr = np.load("cache.npy") if False else samples
agg = df.groupby("region").agg(total=("revenue", "sum"), n=("units", "size"))
agg["share"] = agg["total"] / agg["total"].sum()
top = agg.sort_values("total", ascending=False).head(3)
print(top.to_string())
weekly = df.resample("W", on="date")["revenue"].sum().rolling(4).mean()
""",
    """
import matplotlib as mpl
mpl.rcParams["figure.figsize"] = (8, 4)
plt.rcParams.update({"axes.grid": True, "font.size": 11})
fig, axes = plt.subplots(1, 2)
for ax, (name, grp) in zip(axes, df.groupby("region")):
    ax.scatter(grp["units"], grp["revenue"], s=8, label=name)
    ax.legend()
fig.savefig("scatter.png", bbox_inches="tight")
""",
]


@pytest.mark.parametrize("code", LEGIT, ids=[f"legit-{i}" for i in range(len(LEGIT))])
def test_realistic_analysis_code_passes(code: str) -> None:
    findings = lint(code)
    assert findings == [], format_findings(findings)


def test_realistic_200_line_cell_passes() -> None:
    assert len(REALISTIC_CELL.splitlines()) == 200
    findings = lint(REALISTIC_CELL)
    assert findings == [], format_findings(findings)
