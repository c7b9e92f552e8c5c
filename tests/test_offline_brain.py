"""The offline brains: plans from goals, code that really runs, honest insights."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import warnings
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from agentforge_jupyter.agent import split_insights
from agentforge_jupyter.brains.base import Brain, BrainRequest, Observation, Plan, PlanStep
from agentforge_jupyter.brains.offline import (
    DEFENSIVE_MARKER,
    FALLBACK_MARKER,
    FINANCE_MODEL,
    OFFLINE_MODEL,
    OfflineBrain,
    OfflineFinanceBrain,
    insights_from_observations,
    parse_facts,
)
from agentforge_jupyter.brains.plan_parsing import extract_code, parse_plan
from agentforge_jupyter.datasets import SAMPLE_PATH, profile_frame
from agentforge_jupyter.lint import has_errors, lint
from tests.conftest import require

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


def small_frame() -> pd.DataFrame:
    """A small frame shaped like the sample: string dates, mixed-type units, some nulls."""
    rng = np.random.default_rng(7)
    n = 240
    dates = [d.strftime("%Y-%m-%d") for d in pd.date_range("2024-07-01", periods=60, freq="D")]
    units: list[Any] = [int(u) for u in rng.integers(1, 8, n)]
    units[5] = "twelve"
    units[9] = None
    units[17] = None
    price = rng.uniform(20, 400, n).round(2)
    frame = pd.DataFrame(
        {
            "order_id": [f"SO-{i:05d}" for i in range(n)],
            "date": list(rng.choice(dates, n)),
            "region": rng.choice(["North", "South", "East", "West"], n),
            "product": rng.choice(["Desk", "Chair", "Lamp", "Monitor"], n),
            "category": rng.choice(["Office", "Electronics"], n),
            "channel": rng.choice(["Online", "Retail"], n),
            "units": units,
            "unit_price": price,
            "customer_segment": rng.choice(["Consumer", "Enterprise"], n),
        }
    )
    frame["revenue"] = (pd.to_numeric(frame["units"], errors="coerce") * price).round(2)
    frame.loc[[3, 30], "region"] = None
    return frame


def sample_frame() -> pd.DataFrame:
    require(SAMPLE_PATH.is_file(), f"sample dataset missing at {SAMPLE_PATH}")
    return pd.read_json(SAMPLE_PATH, lines=True)


@pytest.fixture(params=["sample", "small"], scope="module")
def frame(request: pytest.FixtureRequest) -> pd.DataFrame:
    return sample_frame() if request.param == "sample" else small_frame()


def profile_of(df: pd.DataFrame) -> dict[str, Any]:
    profile = profile_frame(df, name="sales")
    profile["variable"] = "df"
    return profile


def run_code(code: str, df: pd.DataFrame) -> tuple[str, list[Any], int]:
    """Lint, then exec ``code`` as the sandbox would: returns stdout, displays, figures."""
    findings = lint(code)
    assert not has_errors(findings), [f.message for f in findings]
    shown: list[Any] = []
    out = io.StringIO()
    plt.close("all")
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("error")  # deprecations would break on the next pandas
        exec(compile(code, "<step>", "exec"), {"df": df.copy(), "display": shown.append})
    figures = len(plt.get_fignums())
    plt.close("all")
    return out.getvalue(), shown, figures


def ask(brain: Brain, request: BrainRequest, on_delta=None) -> str:
    return asyncio.run(brain.ask(request, on_delta=on_delta)).text


def plan_for(brain: OfflineBrain, goal: str, profile: dict[str, Any] | None) -> Plan:
    return parse_plan(ask(brain, BrainRequest(task="plan", goal=goal, dataset=profile)), goal)


def code_for_step(brain: OfflineBrain, goal: str, profile, plan: Plan, step: PlanStep) -> str:
    request = BrainRequest(task="code", goal=goal, dataset=profile, plan=plan, step=step)
    return extract_code(ask(brain, request))


def run_goal(brain: OfflineBrain, goal: str, df: pd.DataFrame) -> list[tuple[PlanStep, str, Any]]:
    profile = profile_of(df)
    plan = plan_for(brain, goal, profile)
    results = []
    for step in plan.steps:
        code = code_for_step(brain, goal, profile, plan, step)
        # The code is derived from the step title (which a user may edit) and says so.
        assert code.splitlines()[0].endswith(step.title)
        results.append((step, code, run_code(code, df)))
    return results


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


# --------------------------------------------------------------------------- plans


def test_plan_is_honest_and_schema_shaped() -> None:
    brain = OfflineBrain()
    assert (brain.name, brain.kind, brain.model) == ("offline", "offline", OFFLINE_MODEL)
    assert isinstance(brain, Brain)
    profile = profile_of(small_frame())
    plan = plan_for(brain, "which region drove revenue growth, and is it seasonal?", profile)
    assert [s.id for s in plan.steps] == ["s1", "s2"]
    assert "rule-based brain (no language model)" in plan.steps[0].rationale
    assert [s.title for s in plan.steps] == [
        "Total revenue by region",
        "Weekly trend of revenue over time by region",
    ]
    assert all(s.expected for s in plan.steps)


def test_unknown_goal_says_so_and_gives_an_overview() -> None:
    plan = plan_for(OfflineBrain(), "write me a poem", profile_of(small_frame()))
    first = plan.steps[0]
    assert first.title.startswith("Overview of the data")
    assert "matched no analysis it knows" in first.rationale
    assert "overview" in first.rationale and "outliers" in first.rationale


def test_generalist_and_specialist_differ_on_volatility() -> None:
    goal = "how volatile is revenue over time"
    profile = profile_of(small_frame())
    general = plan_for(OfflineBrain(), goal, profile)
    finance = plan_for(OfflineFinanceBrain(), goal, profile)
    assert [s.title for s in general.steps] == ["Daily trend of revenue over time"] or [
        s.title for s in general.steps
    ] == ["Weekly trend of revenue over time"]
    assert "offline-finance specialist does" in general.steps[0].rationale
    finance_titles = [s.title for s in finance.steps]
    assert any(t.startswith("Volatility of daily revenue") for t in finance_titles)
    assert "finance specialist" in finance.steps[0].rationale
    assert OfflineFinanceBrain().model == FINANCE_MODEL


def test_follow_up_borrows_columns_from_history() -> None:
    profile = profile_of(small_frame())
    request = BrainRequest(
        task="plan",
        goal="now split that by product",
        dataset=profile,
        history=[{"goal": "total units by region", "plan": {}, "observations": []}],
    )
    plan = parse_plan(ask(OfflineBrain(), request), request.goal)
    assert plan.steps[0].title == "Total units by product"


def test_without_a_dataset_the_code_still_runs() -> None:
    brain = OfflineBrain()
    plan = plan_for(brain, "what is in this data?", None)
    assert plan.steps[0].title.startswith("Overview")
    code = code_for_step(brain, "what is in this data?", None, plan, plan.steps[0])
    out, shown, _ = run_code(code, small_frame())
    assert "FACT: rows = 240" in out and shown


def test_steps_the_data_cannot_support_fall_back_to_an_overview() -> None:
    df = pd.DataFrame({"name": ["a", "b", "c"], "note": ["x", "y", "z"]})
    profile = profile_of(df)
    brain = OfflineBrain()
    plan = plan_for(brain, "total revenue by region over time", profile)
    assert plan.steps[0].title.startswith("Overview")
    rationale = plan.steps[0].rationale
    assert "asking for: aggregate a value by a group, trend over time." in rationale
    assert "No numeric column was found" in rationale
    assert "None of the analyses the goal asks for can run on this data" in rationale
    step = PlanStep("s1", "Total revenue by region")  # as if a user typed it
    code = code_for_step(brain, "g", profile, Plan("g", [step]), step)
    out, _, _ = run_code(code, df)
    assert "FACT: rows = 3" in out


def test_edited_step_title_drives_the_code() -> None:
    profile = profile_of(small_frame())
    step = PlanStep("s1", "Outliers in unit_price (IQR rule)")
    code = code_for_step(
        OfflineBrain(), "total revenue by region", profile, Plan("g", [step]), step
    )
    assert "value_col = 'unit_price'" in code
    out, _, _ = run_code(code, small_frame())
    assert "FACT: unit_price IQR bounds =" in out


def test_deterministic_and_streams_in_chunks() -> None:
    brain = OfflineBrain()
    request = BrainRequest(task="plan", goal="revenue by region", dataset=profile_of(small_frame()))
    deltas: list[str] = []
    first = asyncio.run(brain.ask(request, on_delta=deltas.append))
    second = asyncio.run(brain.ask(request))
    assert first.text == second.text and first.prompt_hash == second.prompt_hash
    assert len(deltas) > 1 and "".join(deltas) == first.text
    assert first.model == OFFLINE_MODEL and len(first.prompt_hash) == 64


def test_tool_task_proposes_nothing() -> None:
    assert ask(OfflineBrain(), BrainRequest(task="tool", goal="g")) == "NO_TOOL"


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


# --------------------------------------------------------------------------- insights


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d[\d,]*(?:\.\d+)?", text))


def test_insights_only_restate_printed_facts() -> None:
    df = small_frame()
    results = run_goal(OfflineBrain(), "total revenue by region and outliers in revenue", df)
    observations = [
        Observation(step.id, step.title, code, "ok", out) for step, code, (out, _, _) in results
    ]
    observations.append(Observation("s9", "Broken step", "1/0", "error", "ZeroDivisionError"))
    text = ask(OfflineBrain(), BrainRequest(task="insights", goal="g", observations=observations))
    assert "highest sum of revenue by region:" in text
    assert 'The step "Broken step" did not finish (status: error).' in text
    source = " ".join(o.output + " " + o.title for o in observations)
    assert _numbers(text) <= _numbers(source), _numbers(text) - _numbers(source)


def test_insights_without_facts_say_so() -> None:
    observations = [Observation("s1", "Look", "print('hi')", "ok", "hi")]
    text = insights_from_observations("g", observations)
    assert "printed no FACT lines" in text and "no numbers to report" in text
    assert not _numbers(text)


def test_parse_facts() -> None:
    text = "noise\nFACT: top region = West (1,234.50)\n  FACT: rows = 10  \nFACT: bad line\n"
    assert parse_facts(text) == [("top region", "West (1,234.50)"), ("rows", "10")]


# --------------------------------------------------------------------------- issue 9: wording


def run_and_keep_figures(code: str, df: pd.DataFrame) -> tuple[str, list[Any]]:
    """Like run_code, but returns the open figures (the chart a user would see)."""
    plt.close("all")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<step>", "exec"), {"df": df.copy(), "display": lambda *_: None})
    figures = [plt.figure(n) for n in plt.get_fignums()]
    return out.getvalue(), figures


def test_insights_lead_with_the_answer_and_stay_short() -> None:
    goal = "Which region drove Q3 revenue growth, and is it seasonal?"
    results = run_goal(OfflineBrain(), goal, sample_frame())
    observations = [Observation(s.id, s.title, c, "ok", out) for s, c, (out, _, _) in results]
    text = insights_from_observations(goal, observations)
    bullets = [line for line in text.splitlines() if line.startswith("- ")]
    assert 1 <= len(bullets) <= 8, text
    insights = split_insights(text)
    assert not re.search(r"brain|offline|\bI\b", insights[0]), insights[0]
    assert text.count("rule-based") == 1 and " I " not in f" {text} "
    # The answer: the growth of every region, and the weekday pattern.
    growth = [i for i in insights if i.startswith("change for region")]
    assert len(growth) == 5, insights
    for region in ("West", "North", "East", "South", "Central"):
        assert any(f": {region}: " in i for i in growth)
    assert any("weekday" in i for i in insights)


def falling_frame(direction: float) -> pd.DataFrame:
    days = pd.date_range("2024-07-01", periods=42, freq="D")
    rows = [
        {"date": d.strftime("%Y-%m-%d"), "region": r, "revenue": 1000 + direction * i * (k + 1)}
        for i, d in enumerate(days)
        for k, r in enumerate(["North", "South", "East"])
    ]
    return pd.DataFrame(rows)


def trend_output(goal: str, df: pd.DataFrame) -> str:
    results = run_goal(OfflineBrain(), goal, df)
    return next(out for step, _c, (out, _, _) in results if "trend" in step.title)


def test_when_every_group_fell_the_facts_say_so() -> None:
    goal = "weekly revenue trend by region"
    out = trend_output(goal, falling_frame(-5.0))
    facts = dict(parse_facts(out))
    assert facts["region groups whose revenue rose"] == "none (all fell or stayed flat)"
    assert "largest increase in revenue by region" not in facts
    assert facts["largest decrease in revenue by region"].startswith("East (-")
    out = trend_output(goal, falling_frame(5.0))
    facts = dict(parse_facts(out))
    assert facts["region groups whose revenue fell"] == "none (all rose or stayed flat)"
    assert "largest decrease in revenue by region" not in facts
    assert facts["largest increase in revenue by region"].startswith("East (+")


def test_the_trend_chart_plots_the_frame_the_facts_come_from() -> None:
    df = sample_frame()
    brain = OfflineBrain()
    profile = profile_of(df)
    plan = plan_for(brain, "weekly revenue trend", profile)
    code = code_for_step(brain, "weekly revenue trend", profile, plan, plan.steps[0])
    out, figures = run_and_keep_figures(code, df)
    facts = dict(parse_facts(out))
    assert facts["partial periods left out of comparisons"] == "1"
    ax = figures[0].axes[0]
    line = ax.lines[0].get_ydata()
    last = float(facts["revenue in last full period (2024-09-29)"].replace(",", ""))
    assert round(float(line[-1]), 2) == last
    assert round(float(min(line)), 2) == float(
        facts["lowest period"].split("(")[1][:-1].replace(",", "")
    )
    labels = [c.get_label() for c in ax.collections]
    assert any("partial period" in label for label in labels)
    plt.close("all")


def test_volatility_of_sales_is_plain_variability_and_prices_get_returns() -> None:
    brain = OfflineFinanceBrain()
    results = run_goal(brain, "how volatile is revenue?", sample_frame())
    out = "".join(o for _s, _c, (o, _, _) in results)
    assert "annualised" not in out
    assert "coefficient of variation of daily revenue" in out
    assert "typical change from one daily period to the next" in out
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    prices = pd.DataFrame(
        {"date": days, "close": 100 + np.cumsum(np.random.default_rng(1).normal(0, 1, 120))}
    )
    results = run_goal(brain, "how volatile is the close price?", prices)
    out = "".join(o for _s, _c, (o, _, _) in results)
    assert "annualised volatility" in out


def test_top_n_titles_are_plural() -> None:
    plan = plan_for(OfflineBrain(), "top 3 products by revenue", profile_of(small_frame()))
    assert plan.steps[0].title == "Top 3 products by total revenue"
