"""The tools part of a prompt: signatures and capped docstrings of the retrieved tools."""

from __future__ import annotations

import doctest

from ..model import Tool
from .index import ToolHit

__all__ = ["MAX_DOC_CHARS", "MAX_SIGNATURE_CHARS", "prompt_section"]

MAX_DOC_CHARS = 600
MAX_SIGNATURE_CHARS = 300


def _truncate(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit("\n", 1)[0] if "\n" in text[:limit] else text[:limit]
    return cut.rstrip() + " ..."


def _doc_for_prompt(docstring: str, limit: int) -> str:
    """The docstring cut to about ``limit`` characters, never in the middle of an example."""
    if len(docstring) <= limit:
        return docstring.strip()
    try:
        pieces = doctest.DocTestParser().parse(docstring)
    except ValueError:
        return _truncate(docstring, limit)
    out = ""
    for piece in pieces:
        if isinstance(piece, str):
            if len(out) + len(piece) > limit:
                return (out + _truncate(piece, max(limit - len(out), 0))).strip()
            out += piece
            continue
        source = piece.source.rstrip("\n").replace("\n", "\n... ")
        text = " " * piece.indent + ">>> " + source + "\n" + piece.want
        if len(out) + len(text) > limit:
            break
        out += text
    return out.strip()


def prompt_section(
    hits: list[ToolHit] | list[Tool],
    *,
    max_doc_chars: int = MAX_DOC_CHARS,
) -> str:
    """The tools part of a prompt: only signatures and (capped) docstrings of ``hits``.

    Its size depends on the number of hits (k) and the caps, never on the registry size.
    Returns "" when there are no hits.
    """
    if not hits:
        return ""
    blocks = [
        "Verified tools are importable in the sandbox; prefer them to rewriting the same "
        "logic, e.g. `from agentforge_tools import "
        f"{hits[0].name}`.",
    ]
    for hit in hits:
        signature = _truncate(hit.signature, MAX_SIGNATURE_CHARS).replace("\n", " ")
        doc = _doc_for_prompt(hit.docstring, max_doc_chars).replace('"""', "'''")
        body = "\n".join("    " + line if line else "" for line in doc.split("\n"))
        blocks.append(f'def {signature}:\n    """\n{body}\n    """')
    return "\n\n".join(blocks) + "\n"
