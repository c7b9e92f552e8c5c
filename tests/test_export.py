"""Exported notebooks: structure, provenance, safe outputs, and a re-run in a plain kernel."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from agentforge_jupyter.agent import (
    Agent,
    AgentError,
    Attempt,
    DatasetRef,
    Run,
    StepRecord,
    load_run,
)
from agentforge_jupyter.brains.base import Plan, PlanStep
from agentforge_jupyter.brains.offline import OfflineBrain
from agentforge_jupyter.datasets import DatasetRegistry
from agentforge_jupyter.events import RunRecorder
from agentforge_jupyter.export import (
    ExportError,
    check_export_target,
    export_notebook,
    run_to_notebook,
    write_export,
)
from agentforge_jupyter.sandbox import KernelSandbox
from agentforge_jupyter.sandbox.result import ExecutionResult
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

    # A shareable folder: the notebook and a copy of its data, read through a relative path.
    result = write_export(run, f"{tmp_path / 'share'}/")
    path = result.notebook
    assert path.parent == tmp_path / "share" and path.suffix == ".ipynb"
    assert result.data == tmp_path / "share" / "sales_q3.jsonl" and result.data.is_file()
    assert result.blocked == []
    notebook = nbformat.read(str(path), as_version=4)
    nbformat.validate(notebook)

    title = notebook.cells[0].source
    assert run.goal in title and "sales_q3" in title and "agentforge-offline-rules-v1" in title
    assert "agentforge run" in title
    assert "## Plan" in notebook.cells[1].source
    parameters, setup = notebook.cells[2], notebook.cells[3]
    assert parameters.metadata["tags"] == ["parameters"]
    assert "data_path = 'sales_q3.jsonl'" in parameters.source
    assert setup.metadata["agentforge"]["role"] == "setup"
    assert "import matplotlib.pyplot as plt" in setup.source
    assert "df = pd.read_json(data_path, lines=True)" in setup.source
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), counts
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
    # Shared: the folder moves elsewhere and still re-runs.
    moved = shutil.move(str(tmp_path / "share"), str(tmp_path / "elsewhere"))
    executed = execute(Path(moved) / path.name, kernel_name, moved)
    for record, cell in zip(run.steps, step_cells(executed), strict=True):
        assert stdout_of(cell) == record.result.stdout
        assert stdout_of(cell).count("FACT:") >= 1


async def test_a_follow_up_run_exports_a_notebook_that_reruns_on_its_own(
    sandbox, store, tmp_path, kernel_name
):
    """Consecutive %%agent cells share a session ("now as a share" uses `totals` from the run
    before): the follow-up's export held only its own steps and failed with a NameError."""
    DatasetRegistry(store).ensure_sample()
    brain = QueuedBrain(
        [
            plan_json("Totals"),
            code("totals = df.groupby('region')['revenue'].sum()\nprint(len(totals))"),
            "- done",
            plan_json("Share"),
            code("share = totals / totals.sum()\nprint(round(share.sum(), 6))"),
            "- share done",
        ]
    )
    agent = Agent(brain=brain, dataset="sales_q3", sandbox=sandbox, state=store)
    first = await agent.arun("revenue by region")
    second = await agent.arun("now as a share")
    assert (first.status, second.status) == ("ok", "ok")

    path = write_export(second, f"{tmp_path / 'share'}/").notebook
    notebook = nbformat.read(str(path), as_version=4)
    earlier = [
        c for c in notebook.cells if c.metadata.get("agentforge", {}).get("role") == "earlier"
    ]
    assert [c.source for c in earlier] == [first.steps[0].code.rstrip("\n")]
    assert earlier[0].metadata["agentforge"]["run_id"] == first.run_id
    assert len(step_cells(notebook)) == 1  # the follow-up's own step
    executed = execute(path, kernel_name, path.parent)
    assert stdout_of(step_cells(executed)[0]) == "1.0\n"
    # The first run alone has no earlier runs.
    alone = nbformat.read(str(write_export(first, tmp_path / "first.ipynb").notebook), 4)
    assert not any(c.metadata.get("agentforge", {}).get("role") == "earlier" for c in alone.cells)


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
    assert "<b>" not in insights and "\\<b\\>bold\\</b\\>" in insights
    # A DataFrame dataset was saved with the run and is what the setup cell loads.
    parameters, setup = (c for c in notebook.cells if c.metadata.get("agentforge", {}).get("role"))
    assert f"data_path = {str(run.run_dir / 'input.parquet')!r}" in parameters.source
    assert "pd.read_parquet(data_path)" in setup.source


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
    assert "did not succeed" in notebook.cells[4].source
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
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    assert f"data_path = {str(other)!r}" in parameters.source
    with pytest.raises(ExportError, match=r"\.ipynb"):
        export_notebook(run, tmp_path / "x.txt")

    with pytest.raises(AgentError, match="did not finish"):
        load_run(tmp_path)

    failing = QueuedBrain(["no plan here", "still none"])
    planless = await Agent(brain=failing, sandbox=sandbox, state=store).arun("g")
    with pytest.raises(ExportError, match="no plan"):
        run_to_notebook(planless)


# --------------------------------------------------------------------------- host-side gate

HOSTILE = (
    "![x](http://host/p.png?d=00ff) <img src=http://host/i.png> <script>alert(1)</script> "
    "[link](http://host/l) <a href='http://host/a'>a</a> &lt;b&gt;"
)


def made_run(text: str, codes: list[str], data: Path | None = None) -> Run:
    """A finished run, written by hand: `text` in every place a model or data can write."""
    steps = [
        PlanStep(id=f"s{i}", title=f"Step {i} {text}", rationale=text, expected=text)
        for i, _ in enumerate(codes, start=1)
    ]
    records = [
        StepRecord(
            step=step,
            index=i,
            status="ok",
            attempts=[Attempt(attempt=0, code=code, result=ExecutionResult("ok", stdout="1\n"))],
        )
        for i, (step, code) in enumerate(zip(steps, codes, strict=True), start=1)
    ]
    return Run(
        run_id="r1",
        goal=f"Goal {text}",
        recorder=RunRecorder("r1"),
        brain=f"brain {text}",
        model=f"model {text}",
        dataset=DatasetRef(name=f"data {text}", path=str(data), format="csv", variable="df")
        if data
        else None,
        status="failed",
        reason=f"reason {text}",
        plan=Plan(goal=text, steps=steps),
        steps=records,
        insights_text=f"- insight {text}\n- second {text}",
    )


def test_a_cell_with_lint_errors_is_written_commented_out_and_listed(tmp_path, kernel_name):
    run = made_run("x", ["print('fine')", "import os\nos.system('touch pwned')"])
    result = write_export(run, tmp_path / "gated.ipynb")
    notebook = nbformat.read(str(result.notebook), as_version=4)
    fine, blocked = step_cells(notebook)
    assert fine.source == "print('fine')" and "blocked" not in fine.metadata["agentforge"]
    assert all(line.startswith("#") for line in blocked.source.splitlines())
    assert "AF101" in blocked.source and "os.system('touch pwned')" in blocked.source
    assert blocked.metadata["agentforge"]["blocked"]
    listed = notebook.metadata["agentforge"]["blocked_cells"]
    assert [(b["step"], b["role"]) for b in listed] == [("s2", "step")]
    assert notebook.cells[listed[0]["cell"]] == blocked
    assert result.blocked == listed and "AF101" in result.blocked_lines()[0]
    assert "blocked the code below" in notebook.cells[listed[0]["cell"] - 1].source
    # Re-running the export cannot execute the blocked code.
    execute(result.notebook, kernel_name, tmp_path)
    assert not (tmp_path / "pwned").exists()


def test_model_text_renders_without_html_images_or_links(tmp_path):
    from nbconvert import HTMLExporter

    data = tmp_path / "d.csv"
    data.write_text("a\n1\n")

    def render(text: str) -> str:
        notebook = run_to_notebook(made_run(text, ["print(1)"], data))
        return HTMLExporter().from_notebook_node(notebook)[0]

    benign, hostile = render("plain words"), render(HOSTILE)
    for tag in ("<img", "<script", "<a ", "<a\n", "<b>"):
        assert hostile.count(tag) == benign.count(tag), tag
    assert "http://host" in hostile  # shown as text
    assert not re.search(r"<[^<>]*\s(src|href)=[\"']?http://host", hostile)


def test_the_export_target_is_checked_before_a_run(tmp_path):
    assert check_export_target(tmp_path / "a" / "b.ipynb").path == tmp_path / "a" / "b.ipynb"
    assert check_export_target(f"{tmp_path / 'new'}/").directory == tmp_path / "new"
    assert check_export_target(tmp_path).directory == tmp_path
    with pytest.raises(ExportError, match=r"\.ipynb, or a directory"):
        check_export_target(tmp_path / "notes.txt")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ExportError, match="cannot create files under"):
        check_export_target(blocker / "x.ipynb")
    with pytest.raises(ExportError, match="cannot create files under"):
        check_export_target(f"{blocker / 'dir'}/")


def test_a_tampered_tool_source_is_blocked_on_export(tmp_path):
    """tools.json edited after verification: the source is linted again when it is written."""
    store = StateDir(tmp_path / "state")
    store.root.mkdir(parents=True)
    tools = json.loads((Path(__file__).resolve().parents[1] / "state" / "tools.json").read_text())
    for version in tools["items"]["top_n"]["versions"]:
        version["source"] += "\nimport os\nos.system('touch pwned')\n"
    store.tools_json.write_text(json.dumps(tools))
    run = made_run("x", ["from agentforge_tools import top_n\nprint(top_n)"])
    run.run_dir = store.root / "runs" / "r1"
    result = write_export(run, tmp_path / "tools.ipynb")
    notebook = nbformat.read(str(result.notebook), as_version=4)
    source, glue = (
        c for c in notebook.cells if c.metadata.get("agentforge", {}).get("role") == "tools"
    )
    assert all(line.startswith("#") for line in source.source.splitlines())
    assert "os.system('touch pwned')" in source.source and "AF101" in source.source
    assert "blocked" not in glue.metadata["agentforge"]  # the glue itself is fine
    assert [b["role"] for b in result.blocked] == ["tools"]


@pytest.mark.usefixtures("full_isolation")
def test_exported_outputs_keep_the_order_the_kernel_produced_them() -> None:
    from agentforge_jupyter.export.outputs import outputs_for
    from agentforge_jupyter.sandbox import SyncSandbox

    code = (
        "import pandas as pd\nfrom IPython.display import display\n"
        "print('before')\ndisplay(pd.DataFrame({'a': [1, 2]}))\nprint('after')\n"
    )
    with SyncSandbox() as sandbox:
        result = sandbox.execute(code)
    assert result.ok, result.error
    kinds = [(o["output_type"], o.get("text", "").strip()) for o in outputs_for(result)]
    assert kinds == [("stream", "before"), ("display_data", ""), ("stream", "after")]
    # A result saved by an older version (no sequence) still exports: text, then displays.
    older = type(result).from_dict({**result.to_dict(), "sequence": []})
    assert [o["output_type"] for o in outputs_for(older)] == ["stream", "display_data"]


def test_two_runs_of_one_goal_on_one_day_export_side_by_side(tmp_path):
    """Run ids start with the date: naming exports after its first 8 characters made a second
    run of the same goal on the same day overwrite the first one's notebook (and, with another
    data file of the same name, point it at the first one's data)."""
    first_data, second_data = tmp_path / "a" / "d.csv", tmp_path / "b" / "d.csv"
    for path, value in ((first_data, 1), (second_data, 2)):
        path.parent.mkdir()
        path.write_text(f"a\n{value}\n")
    first = made_run("x", ["print(1)"], first_data)
    second = made_run("x", ["print(2)"], second_data)
    first.run_id, second.run_id = "20261202-100000-aaaaaa", "20261202-110000-bbbbbb"
    out = tmp_path / "out"
    a, b = write_export(first, f"{out}/"), write_export(second, f"{out}/")
    assert a.notebook != b.notebook and a.notebook.exists() and b.notebook.exists()
    assert a.data != b.data and b.data is not None
    assert b.data.read_text() == "a\n2\n" and a.data is not None and a.data.read_text() == "a\n1\n"
    notebook = nbformat.read(str(b.notebook), as_version=4)
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    assert f"data_path = {b.data.name!r}" in parameters.source


def test_a_planted_link_at_the_temporary_name_is_not_written_through(tmp_path):
    """Exports were written to a predictable `.NAME.tmp` beside the target, opened following
    links: in a shared folder, a link planted there made the export overwrite its target."""
    data = tmp_path / "d.csv"
    data.write_text("a\n1\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    share = tmp_path / "share"
    share.mkdir()
    (share / ".analysis.ipynb.tmp").symlink_to(victim)
    (share / ".d.csv.tmp").symlink_to(victim)
    run = made_run("x", ["print(1)"], data)
    notebook = write_export(run, share / "analysis.ipynb").notebook
    assert victim.read_text() == "keep me"
    assert nbformat.read(str(notebook), as_version=4).cells
    folder = write_export(run, f"{share}/")
    assert victim.read_text() == "keep me" and folder.data is not None
    assert folder.data.read_text() == "a\n1\n"
    umask = os.umask(0o022)
    os.umask(umask)
    for written in (notebook, folder.notebook, folder.data):
        assert written.stat().st_mode & 0o777 == 0o666 & ~umask  # as any new file, not 0600
