"""Helpers shared by the linter's tests (tests/test_lint_*.py)."""

from __future__ import annotations

from agentforge_jupyter.lint import Finding, LintPolicy, format_findings, lint


def codes(code: str, policy: LintPolicy | None = None) -> set[str]:
    return {f.code for f in lint(code, policy) if f.severity == "error"}


def only(code: str) -> Finding:
    findings = lint(code)
    assert len(findings) == 1, format_findings(findings)
    return findings[0]
