""" "Verified" is this user's verdict: which tool versions passed verification on this machine.

A stored ``status: verified`` says only that whoever wrote tools.json verified it. A version
counts as verified here when its fingerprint (``Tool.fingerprint``: source, signature,
docstring, tags, parameters) is in the user's own trust records, or when it is byte for byte
one of the starter tools shipped inside the installed package (code the user installed).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from ..trust import TrustStore
from .model import Tool, VerificationReport, utc_now
from .parse import ToolCandidate, parse_tool

__all__ = ["LocalVerdicts", "shipped_fingerprints", "tool_from_candidate"]


def tool_from_candidate(
    candidate: ToolCandidate,
    version: int,
    report: VerificationReport,
    provenance: dict[str, Any],
) -> Tool:
    """The stored form of a verified candidate (version ``version``)."""
    return Tool(
        name=candidate.name,
        version=version,
        source=candidate.source,
        signature=candidate.signature,
        docstring=candidate.docstring,
        tags=candidate.tags,
        examples=candidate.examples,
        params=candidate.params,
        returns=candidate.returns,
        imports=candidate.imports,
        provenance=provenance,
        created=utc_now(),
        status="verified",
        verification=report.to_dict(),
        sha256=candidate.sha256,
        verified_here=report.passed,
    )


@functools.lru_cache(maxsize=1)
def shipped_fingerprints() -> frozenset[str]:
    """Fingerprints of the starter tools inside the installed package."""
    from ..starter_tools import starter_sources

    found = set()
    for source in starter_sources().values():
        candidate = parse_tool(source)
        report = VerificationReport(True, "passed")
        found.add(tool_from_candidate(candidate, 1, report, {"source": "user"}).fingerprint)
    return frozenset(found)


class LocalVerdicts:
    """Reads and records this user's verification verdicts (see :mod:`..trust`)."""

    def __init__(self, trust: TrustStore | None = None) -> None:
        self.trust = trust if trust is not None else TrustStore()

    def marks(self) -> frozenset[str]:
        return frozenset(self.trust.verified_tools()) | shipped_fingerprints()

    def annotate(self, tools: list[Tool], marks: frozenset[str] | None = None) -> list[Tool]:
        marks = self.marks() if marks is None else marks
        return [replace(t, verified_here=t.fingerprint in marks) for t in tools]

    def record(self, tools: list[Tool], report: VerificationReport) -> None:
        """Remember that these versions passed ``report`` on this machine."""
        self.trust.record_tools(
            {
                t.fingerprint: {
                    "name": t.name,
                    "sha256": t.sha256,
                    "checked": report.checked,
                    "examples_run": report.examples_run,
                    "isolation": report.isolation,
                }
                for t in tools
            }
        )

    def forget(self, tools: list[Tool]) -> None:
        self.trust.forget_tools(t.fingerprint for t in tools)
