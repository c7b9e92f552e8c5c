"""`--report PATH.ipynb`: the tables and a bar chart per category, as a notebook anyone can open.

The numbers are embedded as a JSON literal in a code cell that redraws the chart when re-run;
the chart is also rendered here and stored as the cell's PNG output, so the notebook shows it
without being executed. Category and brain names come from data: they enter the code only
inside that JSON literal and the Markdown only through `markdown_text`.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

from ..sanitize import markdown_text
from .summary import text_report

CHART_CODE = """import json
import matplotlib.pyplot as plt

summary = json.loads({payload})
brains = list(summary["brains"])
categories = sorted({{c for b in summary["brains"].values() for c in b["by_category"]}})
fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(categories) * len(brains)), 4))
width = 0.8 / max(len(brains), 1)
for i, brain in enumerate(brains):
    per_category = summary["brains"][brain]["by_category"]
    rates = [per_category.get(c, {{}}).get("rate", 0) for c in categories]
    ax.bar([x + i * width for x in range(len(categories))], rates, width, label=brain)
ax.set_xticks([x + width * (len(brains) - 1) / 2 for x in range(len(categories))], categories)
ax.set_ylabel("pass rate")
ax.set_ylim(0, 1)
ax.legend()
plt.show()
"""


def write_report(summary: dict[str, Any], spec: dict[str, Any], path: str | Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    target = Path(path)
    if target.suffix != ".ipynb":
        from .tasks import EvalError

        raise EvalError(f"--report needs a .ipynb path, not {str(target)!r}.")
    payload = json.dumps({"brains": summary["brains"]}, sort_keys=True)
    code = CHART_CODE.format(payload=repr(payload))
    chart = new_code_cell(code, execution_count=1)
    chart.outputs = [new_output("display_data", data={"image/png": _chart_png(summary)})]
    title = f"# Evaluation {markdown_text(spec.get('id', ''))}: {markdown_text(spec['suite'])}"
    table = "```\n" + text_report(summary).replace("```", "'''") + "\n```"
    notebook = new_notebook(
        cells=[
            new_markdown_cell(f"{title}\n\nMode: {markdown_text(spec['mode'])}"),
            new_markdown_cell(table),
            chart,
        ],
        metadata={"agentforge": {"eval": spec}},
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target


def _chart_png(summary: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace: dict[str, Any] = {"plt": plt}
    payload = json.dumps({"brains": summary["brains"]}, sort_keys=True)
    # Our own template, so the stored chart is exactly what the cell draws when re-run.
    exec(CHART_CODE.format(payload=repr(payload)).replace("plt.show()", ""), namespace)
    buffer = io.BytesIO()
    namespace["fig"].savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(namespace["fig"])
    return base64.b64encode(buffer.getvalue()).decode("ascii")
