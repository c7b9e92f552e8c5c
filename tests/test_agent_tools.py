"""Verified tools in runs: retrieved into the prompt, importable in the sandbox, carried into
exported notebooks, and harmless to the registry when they fail at run time."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from agentforge_jupyter.agent import Agent
from agentforge_jupyter.datasets import DatasetRegistry
from agentforge_jupyter.export import export_notebook
from agentforge_jupyter.state import StateDir
from tests.fakes import QueuedBrain, code, plan_json

REPO_TOOLS = Path(__file__).resolve().parents[1] / "state" / "tools.json"


@pytest.fixture
def store(tmp_path: Path) -> StateDir:
    state = StateDir(tmp_path / "state")
    state.root.mkdir(parents=True)
    shutil.copy(REPO_TOOLS, state.tools_json)  # the starter tools, verified in CI by test_tools
    DatasetRegistry(state).ensure_sample()
    return state


def run_with(store: StateDir, step_code: str, goal: str = "top regions by revenue"):
    brain = QueuedBrain([plan_json("Top regions"), code(step_code), "- West leads"])
    with Agent(brain=brain, dataset="sales_q3", state=store, repairs=1) as agent:
        return brain, agent.run(goal)


def test_relevant_tools_reach_the_prompt_and_the_sandbox(store: StateDir, tmp_path: Path):
    step = "from agentforge_tools import top_n\nprint(top_n(df, 'region', 'revenue', n=2))"
    brain, run = run_with(store, step)
    assert run.status == "ok", run.reason
    shown = [t["name"] for t in brain.requests[0].tools]
    assert "top_n" in shown and len(shown) <= 5
    assert all("signature" in t and "doc" in t for t in brain.requests[1].tools)
    assert next(e for e in run.events if e.type == "tools")["tools"][0]["name"] in shown
    assert "West" in run.steps[0].attempts[-1].result.stdout

    target = export_notebook(run, tmp_path / "with-tools.ipynb")
    notebook = nbformat.read(target, as_version=4)
    roles = [c.metadata.get("agentforge", {}).get("role") for c in notebook.cells]
    assert "tools" in roles
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "West" in outputs


def test_a_tool_failing_at_run_time_fails_the_step_not_the_registry(store: StateDir):
    before = store.tools_json.read_bytes()
    step = "from agentforge_tools import top_n\nprint(top_n(df, 'no_such_column', 'revenue'))"
    brain = QueuedBrain([plan_json("Top"), code(step), code(step), "- none"])
    with Agent(brain=brain, dataset="sales_q3", state=store, repairs=1) as agent:
        run = agent.run("top regions by revenue")
    assert run.steps[0].status == "failed"
    assert run.status == "failed"
    assert any(e.type == "repair" for e in run.events)
    assert store.tools_json.read_bytes() == before


def test_explicit_tools_replace_retrieval(store: StateDir):
    brain = QueuedBrain([plan_json("One"), code("print(1)"), "- one"])
    mine = [{"name": "my_tool", "signature": "my_tool(x)", "doc": "Mine."}]
    with Agent(brain=brain, dataset="sales_q3", state=store, tools=mine) as agent:
        agent.run("top regions by revenue")
    assert brain.requests[0].tools == mine
