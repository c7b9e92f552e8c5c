"""The host-side gate for code that leaves the sandbox.

Code that ran in the sandbox can run again elsewhere: in an exported notebook, in cells inserted
into the user's notebook, as a tool's source. At the moment it is written there, it is linted on
the host. A cell with an error finding is not written as runnable code: it is written commented
out, with the findings above it, so that the user sees what was blocked and why, and re-running
the notebook cannot execute it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .lint import Finding, LintPolicy, has_errors, lint
from .sanitize import comment

BLOCKED_HEADER = "# AgentForge blocked this cell: host-side lint found errors; it is not runnable."


@dataclass(frozen=True)
class GatedCode:
    """What to write for one cell: `source` is runnable unless `blocked`."""

    source: str
    findings: list[Finding] = field(default_factory=list)
    blocked: bool = False

    def reasons(self) -> list[str]:
        """One line per error finding, for telling the user why the cell was blocked."""
        return [
            f"{f.code} line {f.line}: {f.message}" for f in self.findings if f.severity == "error"
        ]


def gate_code(source: str, policy: LintPolicy | None = None) -> GatedCode:
    """Lint `source` on the host; return it runnable, or commented out with its findings."""
    findings = lint(source, policy)
    if not has_errors(findings):
        return GatedCode(source=source, findings=findings, blocked=False)
    return GatedCode(source=commented_out(source, findings), findings=findings, blocked=True)


def commented_out(source: str, findings: list[Finding]) -> str:
    """`source` as comments only, under a header that lists the error findings.

    Every piece `str.splitlines()` finds becomes its own comment line, a superset of what Python's
    tokenizer treats as a line break, so no piece can escape its `#`.
    """
    lines = [BLOCKED_HEADER]
    for finding in findings:
        if finding.severity == "error":
            lines.append(comment(f"{finding.code} line {finding.line}: {finding.message}"))
            lines.append(comment(f"  hint: {finding.hint}"))
    lines.append("#")
    lines.extend("# " + piece for piece in _pieces(source))
    return "\n".join(lines)


def _pieces(source: str) -> list[str]:
    # Characters that are neither line breaks nor visible must not ride along in a comment
    # either (a NUL or escape sequence in a saved notebook helps nobody).
    return [
        "".join(ch if ch.isprintable() or ch == "\t" else " " for ch in piece)
        for piece in source.splitlines()
    ]
