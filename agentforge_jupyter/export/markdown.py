"""The export's Markdown cells. Every piece of model, user or data text goes through
`sanitize.markdown_text` (no HTML, images, links or entities once rendered); one-line places
(headings, list items) through `sanitize.one_line` first."""

from __future__ import annotations

import time

from ..agent import Run, StepRecord
from ..sanitize import markdown_text, one_line

__all__ = [
    "earlier_markdown",
    "insights_markdown",
    "plan_markdown",
    "step_markdown",
    "title_markdown",
]

RUN_ADVICE = (
    "Received this notebook from someone else? Its code runs with your rights in a plain "
    "kernel. Run it in AgentForge's sandbox first: `agentforge run NOTEBOOK.ipynb "
    "--dataset DATA_FILE --output executed.ipynb` (the data file beside it, or the name of a "
    "registered dataset)."
)


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def _inline(text: object) -> str:
    return markdown_text(one_line(text))


def title_markdown(run: Run, data_note: str) -> str:
    dataset = run.dataset.name if run.dataset else "(none)"
    lines = [
        f"# {_inline(run.goal)}",
        "",
        f"- **Dataset:** {_inline(dataset)}",
        f"- **Brain:** {_inline(run.brain)} (model {_inline(run.model)})",
        f"- **Run:** `{_inline(run.run_id)}`, {iso(run.started)}, status **{_inline(run.status)}**",
    ]
    if run.status != "ok" and run.reason:
        lines.append(f"- **Outcome:** {_inline(run.reason)}")
    lines += [
        "",
        "Exported by AgentForge for Jupyter. The code re-runs in a plain Python kernel. "
        + data_note,
        "",
        RUN_ADVICE,
    ]
    return "\n".join(lines)


def plan_markdown(run: Run) -> str:
    assert run.plan is not None
    lines = ["## Plan", ""]
    for number, step in enumerate(run.plan.steps, start=1):
        lines.append(f"{number}. **{_inline(step.title)}**")
        if step.rationale:
            lines.append(f"   {_inline(step.rationale)}")
        if step.expected:
            lines.append(f"   *Expected:* {_inline(step.expected)}")
    return "\n".join(lines)


def step_markdown(record: StepRecord, blocked: list[str]) -> str:
    step = record.step
    lines = [f"## {record.index}. {_inline(step.title)}"]
    if step.rationale:
        lines += ["", markdown_text(step.rationale)]
    if record.repairs:
        lines += ["", f"*Repaired {record.repairs} time(s) before this version.*"]
    if record.status != "ok":
        lines += ["", f"**This step did not succeed (status: {_inline(record.status)}).**"]
    if blocked:
        lines += [
            "",
            "**AgentForge blocked the code below on export** (host-side lint found errors); it "
            "is written commented out:",
            "",
            *[f"- {_inline(reason)}" for reason in blocked],
        ]
    return "\n".join(lines)


def insights_markdown(text: str) -> str:
    return "## Insights\n\n" + markdown_text(text)


def earlier_markdown(runs: list[Run], other_data: int) -> str:
    """The heading of the earlier runs' steps a follow-up run needs."""
    lines = [
        "## Earlier in this session",
        "",
        "This run followed others in the same AgentForge session and uses what their code left "
        "in the kernel, so their successful steps run first:",
        "",
        *(f"- {_inline(r.goal)} (run {_inline(r.run_id)})" for r in runs),
    ]
    if other_data:
        lines += [
            "",
            f"{other_data} earlier run(s) of the session on other data are not included; if a "
            "step below fails on a missing name, it came from one of them.",
        ]
    return "\n".join(lines)
