"""Helpers shared by the offline brains' tests (tests/test_offline_*.py): frames shaped like
the sample, and a goal run as the agent would (plan, code per step, lint, exec)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import warnings
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from agentforge_jupyter.brains.base import Brain, BrainRequest, Plan, PlanStep
from agentforge_jupyter.brains.offline import OfflineBrain
from agentforge_jupyter.brains.plan_parsing import extract_code, parse_plan
from agentforge_jupyter.datasets import SAMPLE_PATH, profile_frame
from agentforge_jupyter.lint import has_errors, lint
from tests.conftest import require


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
