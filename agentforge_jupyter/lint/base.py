"""State shared by the checkers and how they report a finding."""

from __future__ import annotations

import ast
from collections.abc import Callable

from .bindings import Resolver
from .policy import LintPolicy
from .rules import RULES, Finding


class CheckerBase:
    def __init__(self, policy: LintPolicy, source: str, line_map: list[int] | None) -> None:
        self.policy = policy
        self.source = source
        self._lines: list[str] | None = None  # split only when a finding needs a column
        self.line_map = line_map
        self.findings: list[Finding] = []
        self.called: set[int] = set()  # ids of nodes that are the `func` of a Call
        self.suppressed: set[int] = set()  # ids of nodes already reported by a parent
        self.aliases: dict[str, str] = {}  # local name -> module it was imported from
        # Checks that need to follow names to their values; run after the traversal.
        self.path_names: set[str] = set()  # names bound to Path(...) or a / b
        self.deferred: list[Callable[[Resolver], None]] = []

    # reporting ---------------------------------------------------------------------------
    def report(self, code: str, node: ast.AST, message: str, hint: str | None = None) -> None:
        rule = RULES[code]
        line = getattr(node, "lineno", 1) or 1
        col = getattr(node, "col_offset", 0) or 0
        if self._lines is None:
            self._lines = self.source.splitlines()
        lines = self._lines
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        if col and not text.isascii():
            # ast columns are UTF-8 byte offsets; findings count characters.
            col = len(text.encode("utf-8")[:col].decode("utf-8", errors="ignore"))
        if self.line_map is not None and 0 < line <= len(self.line_map):
            line = self.line_map[line - 1]
        self.findings.append(
            Finding(code, rule.severity, line, col + 1, message, hint or rule.hint)
        )
