"""A tool's life cycle after registration: deprecate, remove, verify again on this machine.

Writers edit the raw records of tools.json (so fields this version does not know are kept),
reading every field defensively: the file may have been written by someone else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..lint import LintPolicy
from .local import LocalVerdicts, tool_from_candidate
from .model import (
    Tool,
    ToolNotFoundError,
    ToolRejectedError,
    VerificationReport,
    parse_ref,
    utc_now,
)
from .parse import ToolCandidate, parse_tool

if TYPE_CHECKING:
    from ..state import Document

__all__ = ["ToolLifecycle", "gate_candidate"]


class ToolLifecycle:
    """Life-cycle methods of :class:`~.registry.ToolRegistry` (which provides the rest)."""

    verdicts: LocalVerdicts
    policy: LintPolicy | None

    if TYPE_CHECKING:  # provided by ToolRegistry

        @property
        def document(self) -> Document: ...

        def _not_found(self, name: str) -> ToolNotFoundError: ...
        def get(self, ref: str, version: int | None = None) -> Tool: ...
        def names(self) -> list[str]: ...
        async def averify(self, candidate: ToolCandidate) -> VerificationReport: ...

    def _run_sync(self, coro: Any) -> Any:
        from .._loop import run_sync

        return run_sync(coro)

    def deprecate(self, ref: str) -> list[Tool]:
        """Deprecate ``name`` (every verified version) or ``name@N`` (that version).

        Deprecated versions are kept and can be shown, but are no longer imported in sandboxes
        nor retrieved for runs. Registering the name again makes a new, active version.
        """
        name, version = parse_ref(ref)
        changed: list[Tool] = []
        with self.document.update() as data:
            records = _records(data, name)
            if records is None:
                raise self._not_found(name)
            targets = [
                v
                for v in records
                if (
                    v.get("version") == version
                    if version is not None
                    else v.get("status") == "verified"
                )
            ]
            if version is not None and not targets:
                raise ToolNotFoundError(f"Tool {name!r} has no version {version}.")
            for record in targets:
                record["status"] = "deprecated"
                record["deprecated"] = utc_now()
                with contextlib.suppress(ValueError):  # an invalid record is deprecated too
                    changed.append(Tool.from_dict(record))
        return changed

    def remove(self, ref: str) -> int:
        """Delete ``name`` (all versions) or ``name@N``; returns how many versions went."""
        name, version = parse_ref(ref)
        with self.document.update() as data:
            if name not in data["items"]:
                raise self._not_found(name)
            records = _records(data, name) or []
            if version is None:
                del data["items"][name]
                return max(len(records), 1)
            kept = [v for v in records if v.get("version") != version]
            if len(kept) == len(records):
                raise ToolNotFoundError(f"Tool {name!r} has no version {version}.")
            if kept:
                data["items"][name]["versions"] = kept
            else:
                del data["items"][name]
            return 1

    async def areverify(self, names: Iterable[str] | None = None) -> dict[str, VerificationReport]:
        """Verify each tool's current version on this machine (``agentforge tools verify``):
        parse its stored source again, lint it, run its doctests in a fresh sandbox. A version
        that passes is recorded as verified here (and marked ``verified`` in tools.json); one
        that fails, or whose stored record does not match its source, is marked ``failed`` and
        forgotten here. Deprecated versions are left alone."""
        wanted = list(names) if names is not None else self.names()
        reports: dict[str, VerificationReport] = {}
        for name in wanted:
            tool = self.get(name)
            if tool.status == "deprecated":
                continue
            report = await self._verify_stored(tool)
            reports[tool.ref] = report
            if report.passed:
                self.verdicts.record([tool], report)
            else:
                self.verdicts.forget([tool])
            self._set_status(tool, report)
        return reports

    async def _verify_stored(self, tool: Tool) -> VerificationReport:
        try:
            candidate = parse_tool(tool.source, tags=tool.tags)
        except ToolRejectedError as exc:
            return exc.report
        passed = VerificationReport(True, "passed")
        fresh = tool_from_candidate(candidate, tool.version, passed, {})
        if fresh.fingerprint != tool.fingerprint:
            return VerificationReport(
                False,
                "parse",
                problems=[
                    f"The stored record of {tool.ref} does not match its source (its name, "
                    "signature, docstring, tags or parameters differ from what the source "
                    "defines). Register the source again with `agentforge tools add`."
                ],
            )
        gated = _gate_report(candidate, self.policy)
        if gated is not None:
            return gated
        return await self.averify(candidate)

    def reverify(self, names: Iterable[str] | None = None) -> dict[str, VerificationReport]:
        return self._run_sync(self.areverify(names))

    verify = reverify  # `agentforge tools verify [NAME|--all]`

    def _set_status(self, tool: Tool, report: VerificationReport) -> None:
        with self.document.update() as data:
            for record in _records(data, tool.name) or []:
                if record.get("version") == tool.version and record.get("status") != "deprecated":
                    record["status"] = "verified" if report.passed else "failed"
                    record["verification"] = report.to_dict()


def _records(data: dict[str, Any], name: str) -> list[dict[str, Any]] | None:
    """The raw version records of ``name`` that are objects; None when there is no entry."""
    item = data["items"].get(name)
    if item is None:
        return None
    versions = item.get("versions") if isinstance(item, dict) else None
    return [v for v in versions if isinstance(v, dict)] if isinstance(versions, list) else []


def _gate_report(candidate: ToolCandidate, policy: LintPolicy | None) -> VerificationReport | None:
    """Host-side lint of a source about to be stored or offered (the shared gate)."""
    from ..gate import gate_code

    gated = gate_code(candidate.source, policy)
    if not gated.blocked:
        return None
    return VerificationReport(
        False,
        "lint",
        problems=["The host-side lint blocked the source: " + "; ".join(gated.reasons())],
        findings=[f.to_dict() for f in gated.findings],
    )


def gate_candidate(candidate: ToolCandidate, policy: LintPolicy | None) -> None:
    report = _gate_report(candidate, policy)
    if report is not None:
        raise ToolRejectedError(candidate.name, report)
