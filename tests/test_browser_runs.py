"""The Runs tab in a real browser: a run streams live, its cells and outputs are inserted into
the notebook, and the MIME renderer shows a `%%agent` output (tests/browser_support.py)."""

from __future__ import annotations

import base64
import json
import time

import nbformat

from .browser_support import *  # noqa: F403  (fake_brain, lab, page: one of each per module)
from .browser_support import TOKEN, Lab, no_kernel, open_tab, shot
from .fakes import Scripted

RUN_MIME = "application/vnd.agentforge.run+json"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LAST_RUN: dict[str, str] = {}
PLAN = json.dumps(
    {
        "goal": "revenue by region",
        "steps": [
            {"id": "s1", "title": "Chart revenue by region", "rationale": "see", "expected": "bar"},
            {"id": "s2", "title": "Count the rows", "rationale": "size", "expected": "shape"},
        ],
    }
)
CHART_CODE = (
    "```python\nimport matplotlib.pyplot as plt\n"
    "df.groupby('region')['revenue'].sum().plot.bar()\nplt.show()\n```"
)
SLOW_S = 6.0  # the second step's code arrives this late: the run is still going meanwhile


def test_run_streams_live_and_inserts_cells(page, lab: Lab, fake_brain, full_isolation) -> None:
    replies = [
        PLAN,
        CHART_CODE,
        Scripted(text="```python\nprint(df.shape)\ndf.head(3)\n```", delay=SLOW_S),
        "- West had the most revenue.",
    ]

    def route(body: dict) -> Scripted | str:
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        return "NO_TOOL" if "NO_TOOL" in prompt else replies.pop(0)  # no tool proposals

    fake_brain.default = route
    open_tab(page, "Runs")
    page.wait_for_selector(
        '#agentforge-panel .agentforge-brain-select option[value="scripted"]', state="attached"
    )
    page.fill("#agentforge-panel .agentforge-goal-input", "revenue by region")
    page.select_option("#agentforge-panel .agentforge-dataset-select", "sales_q3")
    page.select_option("#agentforge-panel .agentforge-brain-select", "scripted")
    page.click("#agentforge-panel .agentforge-start")
    page.wait_for_selector("#agentforge-panel .agentforge-plan-step", timeout=60_000)
    run_id = page.get_attribute("#agentforge-panel .agentforge-run", "data-run-id")
    assert lab.api(f"runs/{run_id}")["live"] is True  # the plan is shown while the run goes on
    page.wait_for_selector("#agentforge-panel img.agentforge-chart", timeout=60_000)
    assert lab.api(f"runs/{run_id}")["live"] is True  # so is the chart
    assert page.get_attribute("#agentforge-panel .agentforge-run", "data-status") == "running"
    shot(page, "04-run-live-plan-and-chart")

    page.wait_for_selector('#agentforge-panel .agentforge-run[data-status="ok"]', timeout=90_000)
    assert page.locator("#agentforge-panel .agentforge-insights li").all_inner_texts() == [
        "West had the most revenue."
    ]
    shot(page, "05-run-finished")

    page.click(".jp-Notebook .jp-Cell")  # the active notebook and cell
    page.click("#agentforge-panel .agentforge-insert")
    page.wait_for_function("document.querySelectorAll('.jp-Notebook .jp-Cell').length > 3")
    page.keyboard.press("Control+s")
    shot(page, "06-inserted-cells")
    for _ in range(60):
        notebook = nbformat.read(lab.root / "analysis.ipynb", as_version=4)
        inserted = [c for c in notebook.cells if c.metadata.get("agentforge", {}).get("run_id")]
        if inserted:
            break
        time.sleep(0.5)
    assert len(inserted) >= 4
    assert all(c.metadata["agentforge"]["run_id"] == run_id for c in inserted)
    code = [c for c in inserted if c.cell_type == "code"]
    assert any("plot.bar()" in c.source for c in code)
    # The run's outputs come along, so the chart shows without re-running; never its HTML.
    chart = next(c for c in code if "plot.bar()" in c.source)
    images = [o for o in chart.outputs if "image/png" in o.get("data", {})]
    assert images and base64.b64decode(images[0].data["image/png"]).startswith(PNG_MAGIC)
    shape = next(c for c in code if "df.shape" in c.source)
    assert [o.output_type for o in shape.outputs] == ["stream", "display_data"]
    assert shape.outputs[0].text.startswith("(")
    assert (
        set(shape.outputs[1].data) == {"text/plain"}
        and "region" in shape.outputs[1].data["text/plain"]
    )
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if "text/html" in o.get("data", {})]
    chart_output = page.locator(".jp-Notebook .jp-OutputArea-output img").first
    chart_output.scroll_into_view_if_needed(timeout=30_000)
    shot(page, "06b-inserted-chart-output")
    LAST_RUN["id"] = run_id


def test_mime_renderer_shows_a_magic_output(page, lab: Lab) -> None:
    # What a `%%agent` cell displays: the run id under AgentForge's MIME type.
    run_id = LAST_RUN.get("id")
    assert run_id, "needs the run of test_run_streams_live_and_inserts_cells"
    cell = nbformat.v4.new_code_cell("%%agent revenue by region")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={RUN_MIME: {"run_id": run_id}, "text/plain": f"AgentForge run {run_id}"},
        )
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(lab.root / "magic.ipynb"))
    page.goto(f"{lab.url}lab/tree/magic.ipynb?token={TOKEN}")
    no_kernel(page, 2)  # the restored analysis.ipynb asks again, then magic.ipynb
    view = page.locator(".jp-OutputArea .agentforge-run-output .agentforge-run")
    view.locator(".agentforge-chart").wait_for(timeout=60_000)
    assert view.get_attribute("data-run-id") == run_id
    page.wait_for_selector('.jp-OutputArea .agentforge-run[data-status="ok"]')
    assert view.locator(".agentforge-insert").count() == 1
    shot(page, "09-magic-output-renderer")
