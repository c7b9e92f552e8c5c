"""The offline brains' insights and wording (brains/offline/insights.py): only facts the code
printed, the answer first, charts that show what the facts say."""

from __future__ import annotations

import contextlib
import io
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from agentforge_jupyter.agent import split_insights
from agentforge_jupyter.brains.base import BrainRequest, Observation
from agentforge_jupyter.brains.offline import (
    OfflineBrain,
    OfflineFinanceBrain,
    insights_from_observations,
    parse_facts,
)

from .offline_support import (
    ask,
    code_for_step,
    plan_for,
    profile_of,
    run_goal,
    sample_frame,
    small_frame,
)

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
