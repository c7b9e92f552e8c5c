"""IPython syntax: transform a cell the way the kernel would, and map lines back."""

from __future__ import annotations

from .rules import RULES, Finding


def transform_ipython(code: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(code)


def map_lines(original: str, transformed: str) -> list[int]:
    """For each transformed line, the 1-based original line it came from."""
    import difflib  # only cells with IPython syntax get here; keep `agentforge lint` start fast

    orig = [line.strip() for line in original.splitlines()]
    new = [line.strip() for line in transformed.splitlines()]
    mapping = [1] * len(new)
    last = max(len(orig), 1)
    matcher = difflib.SequenceMatcher(None, orig, new, autojunk=False)
    for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k, j in enumerate(range(j1, j2)):
            source = min(i1 + k, i2 - 1) if i2 > i1 else i1
            mapping[j] = min(source + 1, last)
    return mapping


def syntax_finding(err: SyntaxError, line_map: list[int] | None) -> Finding:
    line = err.lineno or 1
    if line_map is not None and 0 < line <= len(line_map):
        line = line_map[line - 1]
    message = f"Syntax error: {err.msg}."
    if err.text:
        message += f" Line: {err.text.strip()[:80]!r}"
    return Finding("AF001", "error", line, max(err.offset or 1, 1), message, RULES["AF001"].hint)
