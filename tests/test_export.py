"""Exported notebooks: structure, provenance, safe outputs, and a re-run in a plain kernel."""

from __future__ import annotations

import json
import sys

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from agentforge_jupyter.agent import Agent, AgentError, load_run
from agentforge_jupyter.brains.offline import OfflineBrain
from agentforge_jupyter.datasets import DatasetRegistry
from agentforge_jupyter.export import ExportError, export_notebook, run_to_notebook
from agentforge_jupyter.sandbox import KernelSandbox
from agentforge_jupyter.state import StateDir
from tests.fakes import QueuedBrain


@pytest.fixture
def store(tmp_path) -> StateDir:
    return StateDir(tmp_path / "state")


@pytest.fixture
async def sandbox(store):
    sb = KernelSandbox(isolation="none", datasets_dir=str(store.data_dir))
    await sb.start()
    try:
        yield sb
    finally:
        await sb.shutdown()


@pytest.fixture
def kernel_name(tmp_path, monkeypatch) -> str:
    """A kernelspec for this interpreter (the venv's ipykernel), found first on JUPYTER_PATH."""
    spec_dir = tmp_path / "jupyter" / "kernels" / "agentforge-test"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "AgentForge test kernel",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "agentforge-test"


def execute(path, kernel_name: str, cwd) -> nbformat.NotebookNode:
    notebook = nbformat.read(str(path), as_version=4)
    client = NotebookClient(
        notebook, kernel_name=kernel_name, timeout=120, resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return notebook


def stdout_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


def step_cells(notebook) -> list:
    return [
        c
        for c in notebook.cells
        if c.cell_type == "code" and "step" in c.metadata.get("agentforge", {})
    ]


def plan_json(*titles: str) -> str:
    steps = [
        {"id": f"s{i}", "title": t, "rationale": f"why {t}", "expected": "e"}
        for i, t in enumerate(titles, start=1)
    ]
    return json.dumps({"goal": "g", "steps": steps})


def code(source: str) -> str:
    return f"```python\n{source}\n```"


async def test_offline_run_exports_and_reruns_in_a_plain_kernel(
    sandbox, store, tmp_path, kernel_name
):
    DatasetRegistry(store).ensure_sample()
    agent = Agent(brain=OfflineBrain(), dataset="sales_q3", sandbox=sandbox, state=store)
    run = await agent.arun("Which region drove Q3 revenue, and what is the weekly trend?")
    assert run.status == "ok", run.reason

    path = export_notebook(run, tmp_path / "out" / "analysis.ipynb")
    notebook = nbformat.read(str(path), as_version=4)
    nbformat.validate(notebook)

    title = notebook.cells[0].source
    assert run.goal in title and "sales_q3" in title and "agentforge-offline-rules-v1" in title
    assert "## Plan" in notebook.cells[1].source
    setup = notebook.cells[2]
    assert setup.metadata["agentforge"]["role"] == "setup"
    assert "import matplotlib.pyplot as plt" in setup.source
    assert f"pd.read_json({str(store.data_dir / 'sales_q3.jsonl')!r}, lines=True)" in setup.source
    assert "## Insights" in notebook.cells[-1].source

    meta = notebook.metadata["agentforge"]
    assert meta["run_id"] == run.run_id and meta["brain"] == "offline"
    assert meta["model"] == "agentforge-offline-rules-v1"
    assert len(meta["prompt_hashes"]) == run.brain_calls and all(meta["prompt_hashes"])
    assert [s["id"] for s in meta["steps"]] == [s.step.id for s in run.steps]
    assert all(isinstance(s["lint"], list) and s["duration_s"] >= 0 for s in meta["steps"])
    assert meta["agentforge_version"]

    cells = step_cells(notebook)
    assert len(cells) == len(run.steps)
    recorded = [o.output_type for c in cells for o in c.outputs]
    assert "stream" in recorded and "display_data" in recorded
    assert any("image/png" in o.get("data", {}) for c in cells for o in c.outputs)
    table = next(o for c in cells for o in c.outputs if "text/html" in o.get("data", {}))
    assert table.data["text/html"].startswith('<table class="agentforge-table">')

    # Re-run without AgentForge: no agentforge import anywhere, same printed facts.
    assert not any("agentforge" in c.source for c in notebook.cells if c.cell_type == "code")
    executed = execute(path, kernel_name, tmp_path)
    for record, cell in zip(run.steps, step_cells(executed), strict=True):
        assert stdout_of(cell) == record.result.stdout
        assert stdout_of(cell).count("FACT:") >= 1


async def test_html_tables_are_built_and_escaped_by_us(sandbox, store, tmp_path):
    frame = pd.DataFrame({"name": ["<script>alert(1)</script>", "a&b"], "v": [1, 2]})
    brain = QueuedBrain([plan_json("Show"), code("df"), "- <b>bold</b> claim"])
    run = await Agent(brain=brain, dataset=frame, sandbox=sandbox, state=store).arun("show it")
    assert run.status == "ok"
    notebook = run_to_notebook(run)
    html = next(o.data["text/html"] for c in step_cells(notebook) for o in c.outputs if "data" in o)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a&amp;b" in html
    text = next(
        o.data["text/plain"] for c in step_cells(notebook) for o in c.outputs if "data" in o
    )
    assert "<script>alert(1)</script>" in text  # plain text is shown as text
    insights = notebook.cells[-1].source
    assert "<b>" not in insights and "&lt;b&gt;bold&lt;/b&gt;" in insights
    # A DataFrame dataset was saved with the run and is what the setup cell loads.
    setup = next(c for c in notebook.cells if c.metadata.get("agentforge", {}).get("role"))
    assert str(run.run_dir / "input.parquet") in setup.source and "read_parquet" in setup.source


async def test_failed_step_is_kept_but_does_not_break_a_rerun(
    sandbox, store, tmp_path, kernel_name
):
    frame = pd.DataFrame({"v": [1, 2, 3]})
    brain = QueuedBrain(
        [plan_json("Broken", "Sum"), code("1/0"), code("print('total', df['v'].sum())"), "- 6"]
    )
    agent = Agent(brain=brain, dataset=frame, sandbox=sandbox, state=store, repairs=0)
    run = await agent.arun("sum it")
    assert run.status == "failed"
    path = export_notebook(run, tmp_path / "failed.ipynb")
    notebook = nbformat.read(str(path), as_version=4)
    broken, good = step_cells(notebook)
    assert good.metadata.get("tags") is None and good.outputs[0].text == "total 6\n"
    assert broken.metadata["tags"] == ["raises-exception"]
    assert (
        broken.outputs[-1].output_type == "error"
        and broken.outputs[-1].ename == "ZeroDivisionError"
    )
    assert "did not succeed" in notebook.cells[3].source
    assert notebook.metadata["agentforge"]["status"] == "failed"
    executed = execute(path, kernel_name, tmp_path)
    assert stdout_of(step_cells(executed)[1]) == "total 6\n"

    # The same notebook again from the run's directory alone (e.g. after a restart).
    again = run_to_notebook(load_run(run.run_dir))
    fresh = run_to_notebook(run)

    def without_ids(cells: list) -> list:
        return [{k: v for k, v in c.items() if k != "id"} for c in cells]

    assert without_ids(again.cells) == without_ids(fresh.cells)
    assert "- **Outcome:** 1 of 2 step(s) failed" in fresh.cells[0].source
    assert again.metadata["agentforge"] == fresh.metadata["agentforge"]


async def test_dataset_path_override_and_errors(sandbox, store, tmp_path):
    brain = QueuedBrain([plan_json("One"), code("print(len(df))"), "- 2"])
    run = await Agent(
        brain=brain, dataset=pd.DataFrame({"a": [1, 2]}), sandbox=sandbox, state=store
    ).arun("g")
    other = tmp_path / "copy.csv"
    pd.DataFrame({"a": [1, 2]}).to_csv(other, index=False)
    notebook = run_to_notebook(run, dataset_path=other, dataset_format="csv")
    setup = next(c for c in notebook.cells if c.metadata.get("agentforge", {}).get("role"))
    assert f"pd.read_csv({str(other)!r})" in setup.source
    with pytest.raises(ExportError, match=r"\.ipynb"):
        export_notebook(run, tmp_path / "x.txt")

    with pytest.raises(AgentError, match="did not finish"):
        load_run(tmp_path)

    failing = QueuedBrain(["no plan here", "still none"])
    planless = await Agent(brain=failing, sandbox=sandbox, state=store).arun("g")
    with pytest.raises(ExportError, match="no plan"):
        run_to_notebook(planless)
