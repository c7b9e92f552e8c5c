"""The offline brain's code: real pandas/matplotlib for each analysis.

Every step is self-contained: it copies the data, coerces the columns it uses (mixed-type
numbers with ``pd.to_numeric(errors="coerce")``, dates with ``pd.to_datetime``), prints labelled
``FACT: label = value`` lines, shows tables with ``display`` and charts with ``plt.show()``.
Every value from data, a user or a model (column names, category values, titles) reaches the
code only as a ``repr`` literal in the header, or in a comment through ``sanitize.comment``:
never spliced into a template's text, an identifier or a format string.

Repair levels: 0 is the normal code; 1 is defensive (drops rows missing the used columns,
guards empty data, charts in try/except); 2 is a minimal fallback that only shows the columns.
"""

from __future__ import annotations

import keyword
import textwrap

from ...sanitize import comment
from .profile import Profile
from .specs import AnalysisSpec
from .templates_tables import TABLE_BODIES
from .templates_time import TIME_BODIES

__all__ = ["DEFENSIVE_MARKER", "FALLBACK_MARKER", "code_for"]

DEFENSIVE_MARKER = "# defensive variant"
FALLBACK_MARKER = "# fallback variant"

_WINDOWS = {"D": (7, 28), "W": (4, 12), "MS": (3, 6), "QS": (2, 4)}
_PERIODS_PER_YEAR = {"D": 365, "W": 52, "MS": 12, "QS": 4}


def code_for(spec: AnalysisSpec, profile: Profile, *, variable: str = "df", level: int = 0) -> str:
    """Python source for ``spec`` (see the module docstring for ``level``)."""
    # The data's variable name is the one piece of code text not written as a literal.
    if not variable.isidentifier() or keyword.iskeyword(variable):
        variable = "df"
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
    lines = [comment(f"AgentForge offline brain (rule-based, no LLM): {spec.title()}")]
    if defensive:
        lines.append(f"{DEFENSIVE_MARKER}: coerces types, drops missing rows, guards the chart")
    if spec.intent in ("returns", "volatility"):
        lines.append("import numpy as np")
    lines += [
        "import matplotlib.pyplot as plt",
        "import pandas as pd",
        "",
        f"data = {variable}.copy()",
    ]
    lines += _column_names(spec)
    lines += _parameters(spec)
    lines += _coercions(spec, profile)
    if defensive:
        used = [c for c in _used_columns(spec, profile) if c != spec.group]
        if spec.intent not in ("overview", "quality") and used:
            lines.append(f"data = data.dropna(subset={used!r})")
    return "\n".join(lines) + "\n"


def _column_names(spec: AnalysisSpec) -> list[str]:
    # Names from the data enter the code here, and only here, as repr() literals.
    named = [("value_col", spec.value), ("second_col", spec.second), ("group_col", spec.group)]
    if spec.intent in _TIME_INTENTS:
        named.append(("date_col", spec.date))
    return [f"{var} = {name!r}" for var, name in named if name]


def _coercions(spec: AnalysisSpec, profile: Profile) -> list[str]:
    lines: list[str] = []
    if spec.intent in ("overview", "correlation") and not spec.second:
        numeric = profile.numeric()
        lines.append(f"numeric_cols = {numeric!r}")
        if numeric:
            lines += [
                "for col in numeric_cols:",
                '    data[col] = pd.to_numeric(data[col], errors="coerce")',
            ]
    mixed = set(profile.mixed_numeric())
    for var, name in (("value_col", spec.value), ("second_col", spec.second)):
        if name is None or spec.intent == "quality":
            continue
        if name in mixed:
            lines.append(comment(f"{name} holds text or non-numbers: coerce them to NaN."))
        lines.append(f'data[{var}] = pd.to_numeric(data[{var}], errors="coerce")')
    if spec.group and spec.intent != "quality":
        lines.append('data[group_col] = data[group_col].astype("string").fillna("(missing)")')
        if spec.group_values:
            lines.append(f"group_values = {spec.group_values!r}")
            lines.append("data = data[data[group_col].isin(group_values)]")
    if spec.date and spec.intent in _TIME_INTENTS:
        lines.append('data[date_col] = pd.to_datetime(data[date_col], errors="coerce")')
    return lines


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


_BODIES = {**TABLE_BODIES, **TIME_BODIES}


# --------------------------------------------------------------------------- fallback


def _fallback(spec: AnalysisSpec, profile: Profile, variable: str) -> str:
    used = _used_columns(spec, profile)
    return "\n".join(
        [
            comment(f"AgentForge offline brain (rule-based, no LLM): {spec.title()}"),
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
