"""Generated code cannot be injected: data, user and model text enter it only as literals.

A column name, a category value, a dataset name, a step title, a goal or an error message can
hold any character. Whatever they hold, the code the offline brains write (every intent, every
template, every repair level) and the cells the exporter writes have exactly the statements of
the code written for benign names: only string constants differ. And no generated line holds a
line separator or control character that an editor or a later tool could split on.
"""

from __future__ import annotations

import ast
import string
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from agentforge_jupyter.agent import Attempt, DatasetRef, Run, StepRecord
from agentforge_jupyter.brains.base import BrainRequest, Plan, PlanStep
from agentforge_jupyter.brains.offline import OfflineBrain, OfflineFinanceBrain
from agentforge_jupyter.brains.plan_parsing import extract_code, parse_plan
from agentforge_jupyter.datasets import profile_frame
from agentforge_jupyter.events import RunRecorder
from agentforge_jupyter.export import run_to_notebook

LINE_SEPARATORS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
PUNCTUATION = "\"'{}[]()\\#;:%.,!`$ \t"
CONTROLS = "\x00\x01\x07\x1b\x7f\x9b\x9d\u202e\u2066"
# Pieces that turn into statements if they ever escape a comment or a string.
PAYLOADS = ["...", "()", "[]", "{}", ";...", "\\", '"""', "'''", "%%", "%(", "#"]
HOSTILE_PIECES = list(LINE_SEPARATORS + PUNCTUATION + CONTROLS) + PAYLOADS
LETTER_PAYLOADS = ["print('x')", "import os", "__import__('os').system('id')", "{x!r}", "\\N{"]

# Without letters or digits, a suffix cannot change which columns or analyses the brain picks,
# so hostile and benign inputs must give the same plan; only the literals may differ.
alnum_free = st.lists(st.sampled_from(HOSTILE_PIECES), min_size=1, max_size=12).map("".join)
anything = st.lists(
    st.sampled_from(HOSTILE_PIECES + LETTER_PAYLOADS) | st.text(max_size=4), min_size=1, max_size=8
).map("".join)

GOALS = [
    "give me an overview of the data",
    "are there missing values or other data quality problems?",
    "show the distribution of revenue",
    "distribution of region",
    "total revenue by region",
    "average unit price per channel",
    "average units by customer segment",
    "how did revenue trend over time, weekly?",
    "monthly revenue growth by region",
    "top 3 products by revenue",
    "bottom 5 orders by revenue",
    "is revenue correlated with units?",
    "which columns are correlated?",
    "compare revenue between North and South",
    "find outliers in revenue",
]
FINANCE_GOALS = [
    "daily returns of revenue",
    "7-day moving average of revenue",
    "how volatile is revenue?",
    "what is the worst drawdown in revenue?",
]


def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 120
    dates = [d.strftime("%Y-%m-%d") for d in pd.date_range("2024-07-01", periods=40, freq="D")]
    units: list[Any] = [int(u) for u in rng.integers(1, 8, n)]
    units[5] = "twelve"
    df = pd.DataFrame(
        {
            "order_id": [f"SO-{i:05d}" for i in range(n)],
            "date": list(rng.choice(dates, n)),
            "region": rng.choice(["North", "South", "East", "West"], n),
            "product": rng.choice(["Desk", "Chair", "Lamp"], n),
            "channel": rng.choice(["Online", "Retail"], n),
            "units": units,
            "unit_price": rng.uniform(20, 400, n).round(2),
            "customer_segment": rng.choice(["Consumer", "Enterprise"], n),
        }
    )
    df["revenue"] = (pd.to_numeric(df["units"], errors="coerce") * df["unit_price"]).round(2)
    return df


BENIGN_PROFILE = profile_frame(frame(), name="sales")


def hostile_profile(suffix: str, name: str) -> dict[str, Any]:
    """The benign profile with `suffix` after every column name and category value."""
    profile = {**BENIGN_PROFILE, "name": name, "columns": []}
    for column in BENIGN_PROFILE["columns"]:
        changed = {**column, "name": column["name"] + suffix}
        if "top" in column:
            changed["top"] = [[str(v[0]) + suffix, *v[1:]] for v in column["top"]]
        if "examples" in column:
            changed["examples"] = [str(v) + suffix for v in column["examples"]]
        profile["columns"].append(changed)
    return profile


def shape(code: str) -> str:
    """The statements of `code` with every constant blanked (names and structure kept)."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            node.value = None
    return ast.dump(tree)


def assert_clean_lines(code: str) -> None:
    """Only \\n ends a line, and nothing unprintable hides in one (comments included)."""
    for line in code.split("\n"):
        bad = [ch for ch in line if not (ch.isprintable() or ch == "\t")]
        assert not bad, f"unprintable {bad!r} in generated line {line!r}"


def step_codes(brain: OfflineBrain, goal: str, profile: dict[str, Any], plan: Plan, suffix: str):
    """Code and repair code for each step; `suffix` goes after titles, goal and error."""
    codes = []
    for step in plan.steps:
        titled = PlanStep(id=step.id, title=step.title + suffix, rationale=suffix)
        for task, previous, error in (
            ("code", None, None),
            ("repair", "x = 1", f"Traceback\nValueError: bad {suffix}"),
            ("repair", "# defensive variant", f"KeyError{suffix}"),
        ):
            request = BrainRequest(
                task=task,
                goal=goal + suffix,
                dataset=profile,
                plan=plan,
                step=titled,
                previous_code=previous,
                error=error,
                history=[{"goal": "earlier" + suffix}],
            )
            codes.append(extract_code(brain.answer(request)))
    return codes


def plan_for(brain: OfflineBrain, goal: str) -> Plan:
    profile = {**BENIGN_PROFILE, "variable": "df"}
    return parse_plan(brain.answer(BrainRequest(task="plan", goal=goal, dataset=profile)), goal)


BRAINS = [(OfflineBrain(), GOALS), (OfflineFinanceBrain(), GOALS + FINANCE_GOALS)]
PLANS = [(brain, goal, plan_for(brain, goal)) for brain, goals in BRAINS for goal in goals]
BENIGN_CODES = [
    step_codes(brain, goal, {**BENIGN_PROFILE, "variable": "df"}, plan, " ")
    for brain, goal, plan in PLANS
]


@settings(
    max_examples=10,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # shrinking this many plans takes minutes
    suppress_health_check=[HealthCheck.too_slow],
)
@given(suffix=alnum_free, dataset_name=anything, variable=anything)
def test_offline_code_has_the_statements_of_benign_code(
    suffix: str, dataset_name: str, variable: str
) -> None:
    hostile = {**hostile_profile(suffix, dataset_name), "variable": "df" + variable}
    for (brain, goal, plan), expected in zip(PLANS, BENIGN_CODES, strict=True):
        actual = step_codes(brain, goal, hostile, plan, suffix)
        assert len(actual) == len(expected)
        for good, code in zip(expected, actual, strict=True):
            assert_clean_lines(code)
            assert shape(code) == shape(good), f"{brain.name} / {goal}:\n{code}"


def test_a_line_break_in_a_column_name_is_not_a_statement() -> None:
    """The reproduction from the issue: `amount\\nprint('x')\\n#`, or a lone `\\r`."""
    for payload in ("\nprint('x')\n#", "\rprint('x')\r#", "\u2028import os", "\x0c\nimport os"):
        profile = hostile_profile(payload, "sales" + payload)
        for brain, goal, plan in PLANS:
            for code in step_codes(brain, goal, {**profile, "variable": "df"}, plan, payload):
                assert_clean_lines(code)
                tree = ast.parse(code)
                calls = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "os"]
                assert not calls, code
                assert not any(
                    isinstance(n, ast.Import) and n.names[0].name == "os" for n in ast.walk(tree)
                )
                printed = [
                    n
                    for n in ast.walk(tree)
                    if isinstance(n, ast.Call)
                    and isinstance(n.func, ast.Name)
                    and n.func.id == "print"
                    and any(isinstance(a, ast.Constant) and a.value == "x" for a in n.args)
                ]
                assert not printed, code


# --------------------------------------------------------------------------- export


def export_run(text: str, code: str) -> Run:
    """A finished run whose goal, dataset name, titles and insights all hold `text`."""
    plan = Plan(goal=text, steps=[PlanStep(id="s1", title="Step " + text, rationale=text)])
    run = Run(
        run_id="r1",
        goal="Goal " + text,
        recorder=RunRecorder("r1"),
        brain="offline" + text,
        model="m" + text,
        dataset=DatasetRef(
            name="data" + text, path="/tmp/data" + text + ".csv", format="csv", variable="df"
        ),
        status="ok",
        plan=plan,
        steps=[
            StepRecord(
                step=plan.steps[0], index=1, status="ok", attempts=[Attempt(attempt=0, code=code)]
            )
        ],
        insights_text="- insight " + text,
    )
    return run


@settings(max_examples=40, deadline=None, database=None)
@given(text=anything)
@example(text="\nimport os\n#")
@example(text="__import__('os').system('id')")
def test_export_code_cells_have_the_statements_of_benign_cells(text: str) -> None:
    benign = run_to_notebook(export_run("x", "print(1)"))
    hostile = run_to_notebook(export_run(text, "print(1)"))
    assert [c.cell_type for c in hostile.cells] == [c.cell_type for c in benign.cells]
    for good, cell in zip(benign.cells, hostile.cells, strict=True):
        if cell.cell_type == "code":
            assert_clean_lines(cell.source)
            if cell.metadata["agentforge"].get("blocked"):
                # The host-side gate may refuse a literal (e.g. a path naming `__import__`):
                # then nothing of the cell runs, which is safe too.
                assert shape(cell.source) == shape(""), cell.source
                continue
            assert shape(cell.source) == shape(good.source), cell.source


def test_alphabet_sanity() -> None:
    """The alnum-free suffixes really carry no letters or digits (else the plans may differ)."""
    assert not any(ch in string.ascii_letters + string.digits for ch in "".join(HOSTILE_PIECES))
