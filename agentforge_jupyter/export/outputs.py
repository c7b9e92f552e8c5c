"""Notebook outputs rebuilt from a run's safe MIME data (never HTML from the sandbox)."""

from __future__ import annotations

from typing import Any

from nbformat import v4

from ..render import table_display_html
from ..sandbox.outputs import table_to_text
from ..sandbox.result import PNG, TABLE, TEXT, ExecutionResult

__all__ = ["outputs_for"]


def outputs_for(result: ExecutionResult, count: int | None = None) -> list[Any]:
    """Notebook outputs for an execution result, from safe MIME data only, in the order the
    kernel produced them (older results without that order: text, then displays), then the
    error."""
    outputs = _ordered(result) if result.sequence else _unordered(result)
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


def _stream(name: str, text: str) -> Any:
    return v4.new_output("stream", name=name, text=text)


def _display(index: int, result: ExecutionResult) -> Any | None:
    if not 0 <= index < len(result.displays):
        return None
    display = result.displays[index]
    data = _display_bundle(display.mime, display.data)
    return v4.new_output("display_data", data=data) if data else None


def _ordered(result: ExecutionResult) -> list[Any]:
    outputs: list[Any] = []
    offsets = {"stdout": 0, "stderr": 0}
    for kind, value in (entry[:2] for entry in result.sequence if len(entry) >= 2):
        if kind in offsets and isinstance(value, int):
            text = getattr(result, kind)[offsets[kind] : offsets[kind] + value]
            offsets[kind] += value
            if text:
                outputs.append(_stream(kind, text))
        elif kind == "display" and isinstance(value, int):
            output = _display(value, result)
            if output is not None:
                outputs.append(output)
    return outputs


def _unordered(result: ExecutionResult) -> list[Any]:
    outputs = [_stream(n, getattr(result, n)) for n in ("stdout", "stderr") if getattr(result, n)]
    for index in range(len(result.displays)):
        output = _display(index, result)
        if output is not None:
            outputs.append(output)
    return outputs
