"""AST linter for model-written analysis code: an early warning, not the security boundary.

The sandbox kernel is the boundary. This package rejects, before anything runs, code that would
try to leave it (imports of `os`, `eval`, dunder walks, pickle, shell escapes ...), and says in
each finding what to write instead, so a model can repair its own code. Rule codes are stable and
documented in docs/lint.md.

Layout: `rules` (codes, messages, findings), `policy` (allow-lists), `tables` and `apis` (names
the rules know), `traversal` (one pass over the tree) over the checkers by concern (`names`,
`calls`, `options`, `files`, `strings`), `transform` (IPython syntax) and `core` (`lint`).
"""

from __future__ import annotations

from .core import lint
from .policy import (
    DATA_SCIENCE_MODULES,
    SAFE_DUNDER_ATTRIBUTES,
    SAFE_DUNDER_NAMES,
    SAFE_STDLIB_MODULES,
    TOOLS_PACKAGE,
    LintPolicy,
    default_policy,
)
from .rules import RULES, Finding, LintRejectedError, Rule, Severity, format_findings, has_errors
from .tables import BLOCKED_ATTRIBUTES, DANGEROUS_BUILTINS, FRAME_ATTRIBUTES

__all__ = [
    "BLOCKED_ATTRIBUTES",
    "DANGEROUS_BUILTINS",
    "DATA_SCIENCE_MODULES",
    "FRAME_ATTRIBUTES",
    "RULES",
    "SAFE_DUNDER_ATTRIBUTES",
    "SAFE_DUNDER_NAMES",
    "SAFE_STDLIB_MODULES",
    "TOOLS_PACKAGE",
    "Finding",
    "LintPolicy",
    "LintRejectedError",
    "Rule",
    "Severity",
    "default_policy",
    "format_findings",
    "has_errors",
    "lint",
]
