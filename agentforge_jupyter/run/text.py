"""Text the run writes for the brain and the user: observations, failures, insight bullets.

Caps come from brains/prompts.py, the one place each prompt limit is defined."""

from __future__ import annotations

import re

from ..brains.prompts import MAX_ERROR_CHARS, MAX_OBSERVATION_CHARS
from ..sandbox.outputs import table_to_text
from ..sandbox.result import PNG, TABLE, TEXT, ExecutionResult

__all__ = ["cap", "failure_text", "observation_text", "split_insights", "tail"]


def cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... [{len(text) - limit} more chars]"


def tail(text: str, limit: int) -> str:
    return (
        text if len(text) <= limit else f"[{len(text) - limit} chars before]...\n" + text[-limit:]
    )


def observation_text(result: ExecutionResult, max_chars: int = MAX_OBSERVATION_CHARS) -> str:
    """What a step showed, as capped text for the brain: stdout, text displays, tables as short
    fixed-width text, "[chart]" for images, then warnings, errors and sandbox notes."""
    parts: list[str] = []
    if result.stdout.strip():
        parts.append(result.stdout.rstrip())
    for display in result.displays:
        if display.mime == PNG:
            parts.append("[chart]")
        elif display.mime == TABLE and isinstance(display.data, dict):
            parts.append(table_to_text(display.data, max_rows=20))
        elif display.mime == TEXT:
            parts.append(str(display.data).rstrip())
    if result.stderr.strip():
        parts.append("stderr:\n" + tail(result.stderr.rstrip(), 600))
    if result.error is not None:
        parts.append(f"{result.error.name}: {result.error.value}")
    if result.notes:
        parts.append("notes: " + "; ".join(result.notes))
    return cap("\n".join(parts), max_chars) if parts else "(no output)"


_STATUS_TEXT = {
    "crashed": "The sandbox kernel crashed while running the code.",
    "limit": "The code hit a resource limit of the sandbox (memory, CPU, file size).",
}


def failure_text(result: ExecutionResult, timeout: float, variable: str | None) -> str:
    """What went wrong in an execution, written for the model that has to fix it."""
    lines: list[str] = []
    if result.status == "timeout":
        lines.append(
            f"The code did not finish within the {timeout:g} s time limit and was interrupted. "
            "Make it faster: aggregate before plotting, avoid row-by-row Python loops."
        )
    elif result.status in _STATUS_TEXT:
        lines.append(_STATUS_TEXT[result.status])
    if result.error is not None:
        traceback = "\n".join(result.error.traceback).strip()
        if traceback:
            lines.append(tail(traceback, MAX_ERROR_CHARS))
        lines.append(f"{result.error.name}: {result.error.value}")
    if result.stdout.strip():
        lines.append("Printed before the failure:\n" + tail(result.stdout.rstrip(), 1_000))
    if result.notes:
        lines.append("Sandbox notes: " + "; ".join(result.notes))
    if result.state_lost:
        reloaded = f" (the dataset `{variable}` was loaded again)" if variable else ""
        lines.append(
            "The kernel was restarted: every variable from earlier steps is gone"
            f"{reloaded}. Recompute anything you need in this step's code."
        )
    return "\n".join(lines)


_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_HEADING = re.compile(r"^\s*(?:#+\s*|\*\*)(?P<text>.+?)(?:\*\*)?:?\s*$")


def split_insights(text: str) -> list[str]:
    """Insight markdown as a list: each bullet is one insight (prefixed by the bold heading
    or `#` heading above it, if any); a prose paragraph is one insight."""
    insights: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.rstrip() for line in block.splitlines() if line.strip()]
        if lines:
            insights.extend(_block_insights(lines, insights))
    return insights


def _block_insights(lines: list[str], earlier: list[str]) -> list[str]:
    found: list[str] = []
    heading = ""
    paragraph: list[str] = []
    for line in lines:
        if _BULLET.match(line):
            item = _BULLET.sub("", line, count=1).strip()
            found.append(f"{heading}: {item}" if heading else item)
        elif (found or earlier) and line.startswith((" ", "\t")) and not paragraph:
            target = found if found else earlier
            target[-1] += " " + line.strip()  # a bullet's continuation line
        elif (match := _HEADING.match(line)) and len(lines) > 1 and not paragraph:
            heading = match.group("text").strip().rstrip(":")
        else:
            paragraph.append(line.strip())
    if paragraph:
        found.append(" ".join(paragraph))
    return found
