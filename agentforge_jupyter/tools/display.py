"""Plain-text renderings for the CLI and magics (the widget has its own view)."""

from __future__ import annotations

from collections.abc import Sequence

from ..sanitize import one_line, terminal_text
from ..text_table import text_table
from .model import Tool
from .retrieval import ToolHit

__all__ = ["describe_tool", "hits_table", "tools_table"]


def _provenance(tool: Tool) -> str:
    p = tool.provenance
    if p.get("source") == "run":  # from tools.json, maybe someone else's: one inert line
        return one_line(f"run {p.get('run_id')} ({p.get('brain')})")
    return "user"


def tools_table(tools: Sequence[Tool]) -> str:
    """One line per tool: name, version, status (as judged on this machine), provenance (run
    ids in full, so they can be looked up), summary."""
    if not tools:
        return "No tools registered. Add one with `agentforge tools add PATH`."
    rows = [
        [t.name, t.version, t.trust_label, _provenance(t), one_line(t.summary, 70)] for t in tools
    ]
    lines = [text_table(["NAME", "VER", "STATUS", "FROM", "SUMMARY"], rows)]
    if any(t.trust_label == "unverified" for t in tools):
        lines.append(
            "unverified: stored as verified elsewhere, not yet on this machine; runs do not use "
            "it until `agentforge tools verify NAME`."
        )
    return "\n".join(lines)


def hits_table(hits: Sequence[ToolHit]) -> str:
    if not hits:
        return "No matching tools."
    rows = [[h.ref, f"{h.score:5.2f}", f"{h.column_fit:+.2f}", h.signature] for h in hits]
    return text_table(["TOOL", "SCORE", "FIT", "SIGNATURE"], rows)


def describe_tool(tool: Tool, versions: Sequence[Tool] = ()) -> str:
    """Everything a reviewer needs: signature, status, provenance, versions, docstring, source."""
    v = tool.verification
    checked = (
        f"{v.get('examples_run', 0)} example(s) passed in a {v.get('isolation') or '?'} "
        f"sandbox on {v.get('checked', '?')}"
        if v.get("passed")
        else f"last check failed: {v.get('stage', '?')}"
    )
    if tool.trust_label == "unverified":
        checked = f"not on this machine (the stored record says: {checked})"
    lines = [
        f"{tool.ref}  [{tool.trust_label}]",
        f"signature:  {tool.signature}",
        f"tags:       {', '.join(tool.tags) or '-'}",
        f"provenance: {_provenance(tool)}",
        f"created:    {tool.created}",
        f"verified:   {checked}",
    ]
    if versions:
        # The status here, not the stored one (a record from elsewhere says "verified").
        lines.append("versions:   " + ", ".join(f"@{t.version} {t.trust_label}" for t in versions))
    lines += ["", tool.source.rstrip()]
    return terminal_text("\n".join(lines))
