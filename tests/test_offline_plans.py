"""The offline brains' plans (brains/offline/brain.py, specs.py): honest, schema-shaped,
following the goal, the history, the data and the user's edits."""

from __future__ import annotations

import asyncio

import pandas as pd

from agentforge_jupyter.brains.base import Brain, BrainRequest, Plan, PlanStep
from agentforge_jupyter.brains.offline import (
    FINANCE_MODEL,
    OFFLINE_MODEL,
    OfflineBrain,
    OfflineFinanceBrain,
)
from agentforge_jupyter.brains.plan_parsing import parse_plan

from .offline_support import ask, code_for_step, plan_for, profile_of, run_code, small_frame

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
