"""Notebook outputs rebuilt from a run's safe MIME data (never HTML from the sandbox)."""

from __future__ import annotations

from typing import Any

from nbformat import v4

from ..render import table_display_html
from ..sandbox.outputs import table_to_text
from ..sandbox.result import PNG, TABLE, TEXT, ExecutionResult

__all__ = ["outputs_for"]


def outputs_for(result: ExecutionResult, count: int | None = None) -> list[Any]:
    """Notebook outputs for an execution result, from safe MIME data only.

    The result keeps printed text and displays apart, so their interleaving is not known here:
    text comes first, then displays, then the error."""
    outputs: list[Any] = []
    for name in ("stdout", "stderr"):
        text = getattr(result, name)
        if text:
            outputs.append(v4.new_output("stream", name=name, text=text))
    for display in result.displays:
        data = _display_bundle(display.mime, display.data)
        if data:
            outputs.append(v4.new_output("display_data", data=data))
    if result.error is not None:
        outputs.append(
            v4.new_output(
                "error",
                ename=result.error.name,
                evalue=result.error.value,
                traceback=list(result.error.traceback),
            )
        )
    return outputs


def _display_bundle(mime: str, data: Any) -> dict[str, Any] | None:
    if mime == PNG and isinstance(data, str):
        return {PNG: data, TEXT: "<Figure>"}
    if mime == TABLE and isinstance(data, dict):
        return {
            TEXT: table_to_text(data, max_rows=len(data["rows"])),
            "text/html": table_display_html(data),
        }
    if mime == TEXT:
        return {TEXT: str(data)}
    return None
