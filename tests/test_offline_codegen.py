"""The offline brains' code (brains/offline/codegen.py and its templates): every intent's
plan runs on real frames and prints honest facts, and a failed step is repaired with a defensive,
then a fallback variant."""

from __future__ import annotations

import pandas as pd
import pytest

from agentforge_jupyter.brains.base import BrainRequest, Plan, PlanStep
from agentforge_jupyter.brains.offline import (
    DEFENSIVE_MARKER,
    FALLBACK_MARKER,
    OfflineBrain,
    OfflineFinanceBrain,
    parse_facts,
)
from agentforge_jupyter.brains.plan_parsing import extract_code

from .offline_support import (
    ask,
    code_for_step,
    profile_of,
    run_code,
    run_goal,
    sample_frame,
    small_frame,
)

# One goal per intent, and the words its step title must contain.
GENERAL_GOALS = {
    "overview": ("give me an overview of the data", "Overview"),
    "quality": ("are there missing values or other data quality problems?", "Data quality"),
    "distribution": ("show the distribution of revenue", "Distribution of revenue"),
    "distribution-categorical": ("distribution of region", "Distribution of region"),
    "aggregate": ("total revenue by region", "Total revenue by region"),
    "aggregate-mean": ("average unit price per channel", "Average unit_price by channel"),
    "aggregate-mixed": ("average units by customer segment", "Average units by customer_segment"),
    "trend": ("how did revenue trend over time, weekly?", "Weekly trend of revenue"),
    "trend-groups": ("monthly revenue growth by region", "Monthly trend of revenue over time by"),
    "topn-groups": ("top 3 products by revenue", "Top 3 products by total revenue"),
    "topn-rows": ("bottom 5 orders by revenue", "Bottom 5 rows by revenue"),
    "correlation": ("is revenue correlated with units?", "Correlation between revenue and units"),
    "correlation-all": ("which columns are correlated?", "Correlation between the numeric"),
    "compare": ("compare revenue between North and South", "Compare revenue across region"),
    "outliers": ("find outliers in revenue", "Outliers in revenue (IQR rule)"),
}
FINANCE_GOALS = {
    "returns": ("daily returns of revenue", "Daily returns (percent change) of revenue"),
    "moving_average": ("7-day moving average of revenue", "Moving averages of daily revenue"),
    "volatility": ("how volatile is revenue?", "Volatility of daily revenue"),
    "drawdown": ("what is the worst drawdown in revenue?", "Drawdown of daily revenue"),
}


@pytest.fixture(params=["sample", "small"], scope="module")
def frame(request: pytest.FixtureRequest) -> pd.DataFrame:
    return sample_frame() if request.param == "sample" else small_frame()


# --------------------------------------------------------------------------- intents


@pytest.mark.parametrize("case", sorted(GENERAL_GOALS))
def test_general_intents_plan_and_run(case: str, frame: pd.DataFrame) -> None:
    goal, title = GENERAL_GOALS[case]
    results = run_goal(OfflineBrain(), goal, frame)
    titles = [step.title for step, _, _ in results]
    assert any(t.startswith(title) for t in titles), titles
    for step, _code, (out, _shown, figures) in results:
        assert parse_facts(out), f"{step.title} printed no FACT lines:\n{out}"
        assert figures >= 1 or "no missing-value chart" in out, step.title


@pytest.mark.parametrize("case", sorted(FINANCE_GOALS))
def test_finance_intents_plan_and_run(case: str, frame: pd.DataFrame) -> None:
    goal, title = FINANCE_GOALS[case]
    results = run_goal(OfflineFinanceBrain(), goal, frame)
    titles = [step.title for step, _, _ in results]
    assert any(t.startswith(title) for t in titles), titles
    for step, _code, (out, _shown, figures) in results:
        assert parse_facts(out), f"{step.title} printed no FACT lines:\n{out}"
        assert figures >= 1


def test_mixed_type_numbers_are_coerced(frame: pd.DataFrame) -> None:
    ((_step, code, (out, shown, _)),) = run_goal(
        OfflineBrain(), "average units by customer segment", frame
    )
    assert 'pd.to_numeric(data[value_col], errors="coerce")' in code
    assert "# units holds text or non-numbers" in code
    assert dict(parse_facts(out))["highest mean of units by customer_segment"]
    assert shown, "the aggregate table was displayed"


def test_string_dates_are_parsed() -> None:
    df = small_frame()
    ((_step, code, (out, _, _)),) = run_goal(OfflineBrain(), "revenue trend per week", df)
    assert 'pd.to_datetime(data[date_col], errors="coerce")' in code
    assert "FACT: weekly periods =" in out


def test_quality_step_reports_missing_and_mixed_values() -> None:
    ((_s, _c, (out, shown, _)),) = run_goal(OfflineBrain(), "check data quality", small_frame())
    facts = dict(parse_facts(out))
    assert facts["non-numeric values in units"] == "1 (e.g. twelve)"
    # 2 nulls in units plus "twelve" make 3 missing revenue values.
    assert facts["column with most missing values"].startswith("revenue (3,")
    assert facts["duplicate rows"] == "0"
    assert len(shown) == 1


def test_aggregate_numbers_are_right() -> None:
    df = small_frame()
    ((_s, _c, (out, _, _)),) = run_goal(OfflineBrain(), "total revenue by region", df)
    totals = df.groupby(df["region"].fillna("(missing)"))["revenue"].sum()
    best = totals.drop("(missing)").idxmax()
    assert dict(parse_facts(out))["highest sum of revenue by region"] == (
        f"{best} ({totals[best]:,.2f})"
    )


def test_compare_uses_named_values() -> None:
    results = run_goal(OfflineBrain(), "compare revenue between North and South", small_frame())
    (step, code, (out, _, _)) = results[0]
    assert step.title == "Compare revenue across region groups (region = North, South)"
    assert "group_values = ['North', 'South']" in code
    assert dict(parse_facts(out))["groups compared"] == "2"


def test_odd_column_names_are_safe() -> None:
    df = pd.DataFrame(
        {
            "Sales Region": ["a", "b", "a", "c"] * 5,
            "Revenue ($)": [1.0, 2.0, 3.5, 4.0] * 5,
            'it\'s "quoted"': range(20),
        }
    )
    ((step, code, (out, _, _)),) = run_goal(OfflineBrain(), "revenue by sales region", df)
    assert step.title == "Total Revenue ($) by Sales Region"
    assert "value_col = 'Revenue ($)'" in code
    assert dict(parse_facts(out))["highest sum of Revenue ($) by Sales Region"] == "a (22.50)"


# --------------------------------------------------------------------------- repair


def test_repair_escalates_defensive_then_fallback() -> None:
    df = small_frame()
    profile = profile_of(df)
    step = PlanStep("s1", "Total revenue by region")
    brain = OfflineBrain()
    original = code_for_step(brain, "g", profile, Plan("g", [step]), step)
    error = "Traceback (most recent call last):\n  ...\nKeyError: 'revenue'"
    repair = BrainRequest(
        task="repair", goal="g", dataset=profile, step=step, previous_code=original, error=error
    )
    defensive = extract_code(ask(brain, repair))
    assert DEFENSIVE_MARKER in defensive
    assert "# The previous attempt failed: KeyError: 'revenue'" in defensive
    assert "dropna(subset=" in defensive and "except Exception as exc" in defensive
    out, _, figures = run_code(defensive, df)
    assert parse_facts(out) and figures == 1

    repair.previous_code = defensive
    fallback = extract_code(ask(brain, repair))
    assert FALLBACK_MARKER in fallback
    out, shown, figures = run_code(fallback, df)
    assert "FACT: rows = 240" in out and len(shown) == 2 and figures == 0


def test_defensive_variant_survives_empty_data() -> None:
    df = small_frame()
    df["revenue"] = None
    profile = profile_of(small_frame())
    step = PlanStep("s1", "Outliers in revenue (IQR rule)")
    repair = BrainRequest(
        task="repair", goal="g", dataset=profile, step=step, previous_code="x", error="boom"
    )
    out, _, _ = run_code(extract_code(ask(OfflineBrain(), repair)), df)
    assert "No rows are left after removing missing values" in out
