"""The registry: verified, versioned tools in ``state/tools.json``.

Document layout (human-readable, diff-able, shared through git)::

    {"schema": "agentforge.tools", "version": 1, "items": {
        "top_n": {"name": "top_n", "next_version": 3,
                  "versions": [{<Tool.to_dict() of version 1>}, {<version 2>}]}}}

Registration parses, lints and runs the doctests in a fresh sandbox *without* holding the
lock; only storing the verified result takes the document's lock (read-modify-write), and the
version number is chosen there, so concurrent registrations from any number of processes lose
nothing and never reuse a number.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._loop import run_sync
from ..lint import LintPolicy
from ..sandbox.config import SandboxConfig
from ..sandbox.kernel import KernelSandbox
from ..state import Document, StateDir
from .model import (
    Tool,
    ToolError,
    ToolNotFoundError,
    ToolRejectedError,
    VerificationReport,
    parse_ref,
    utc_now,
)
from .parse import ToolCandidate, parse_tool
from .verify import DEFAULT_TIMEOUT_S, SandboxFactory, verify_candidate

if TYPE_CHECKING:
    from .retrieval import ToolHit

__all__ = ["ToolRegistry", "run_provenance", "user_provenance"]


def user_provenance() -> dict[str, Any]:
    return {"source": "user"}


def run_provenance(run_id: str, brain: str) -> dict[str, Any]:
    """Provenance of a tool proposed by the agent in run ``run_id`` by ``brain``."""
    return {"source": "run", "run_id": str(run_id), "brain": str(brain)}


def _check_provenance(provenance: dict[str, Any] | None) -> dict[str, Any]:
    if provenance is None:
        return user_provenance()
    source = provenance.get("source")
    if source == "user":
        return dict(provenance)
    if source == "run" and provenance.get("run_id") and provenance.get("brain"):
        return dict(provenance)
    raise ToolError(
        f"Invalid provenance {provenance!r}: use {{'source': 'user'}} or "
        "{'source': 'run', 'run_id': ..., 'brain': ...} (see run_provenance())."
    )


class ToolRegistry:
    """Verified tools in a state directory. Sync methods wrap the async ones."""

    def __init__(
        self,
        store: StateDir | str | os.PathLike[str] | None = None,
        *,
        policy: LintPolicy | None = None,
        sandbox_config: SandboxConfig | None = None,
        sandbox_factory: SandboxFactory | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.store = store if isinstance(store, StateDir) else StateDir(store)
        self.policy = policy
        self.sandbox_config = sandbox_config
        self._sandbox_factory = sandbox_factory
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"ToolRegistry({str(self.path)!r})"

    @property
    def document(self) -> Document:
        return self.store.document("tools")

    @property
    def path(self) -> Path:
        return self.store.tools_json

    def stat_key(self) -> tuple[int, int, int] | None:
        """(inode, mtime_ns, size) of tools.json, or None: poll it to notice changes."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def new_sandbox(self) -> KernelSandbox:
        """A fresh sandbox for one verification."""
        if self._sandbox_factory is not None:
            return self._sandbox_factory()
        return KernelSandbox(self.sandbox_config)

    # ----- reading ------------------------------------------------------------------------
    def _items(self) -> dict[str, Any]:
        return self.document.read()["items"]

    def names(self) -> list[str]:
        return sorted(self._items())

    def versions(self, name: str) -> list[Tool]:
        """Every stored version of ``name``, oldest first."""
        item = self._items().get(name)
        if item is None:
            raise self._not_found(name)
        return [Tool.from_dict(v) for v in item["versions"]]

    def get(self, ref: str, version: int | None = None) -> Tool:
        """``"name"`` (latest verified, else latest of any status) or ``"name@3"``."""
        name, ref_version = parse_ref(ref)
        version = version if version is not None else ref_version
        versions = self.versions(name)
        if version is not None:
            for tool in versions:
                if tool.version == version:
                    return tool
            have = ", ".join(str(t.version) for t in versions)
            raise ToolNotFoundError(
                f"Tool {name!r} has no version {version} (stored versions: {have})."
            )
        verified = [t for t in versions if t.status == "verified"]
        return (verified or versions)[-1]

    def latest_verified(self, name: str) -> Tool | None:
        verified = [t for t in self.versions(name) if t.status == "verified"]
        return verified[-1] if verified else None

    def list(self, *, include_inactive: bool = True) -> list[Tool]:
        """One entry per name (as ``get(name)`` would return it), sorted by name.

        With ``include_inactive=False`` only names with a verified version are listed.
        """
        out = []
        for _name, item in sorted(self._items().items()):
            versions = [Tool.from_dict(v) for v in item["versions"]]
            verified = [t for t in versions if t.status == "verified"]
            if verified:
                out.append(verified[-1])
            elif include_inactive and versions:
                out.append(versions[-1])
        return out

    def active(self) -> list[Tool]:
        """The latest verified version of every tool: what sandboxes import and runs retrieve."""
        return self.list(include_inactive=False)

    def _not_found(self, name: str) -> ToolNotFoundError:
        return ToolNotFoundError(
            f"No tool named {name!r} in {self.path}. List tools with `agentforge tools list`."
        )

    # ----- registration -------------------------------------------------------------------
    def prepare(
        self, source: str, *, name: str | None = None, tags: Iterable[str] = ()
    ) -> ToolCandidate:
        """Parse only (raises :class:`ToolParseError`)."""
        return parse_tool(source, name=name, tags=tags)

    async def averify(self, candidate: ToolCandidate) -> VerificationReport:
        """Allow-list, lint and doctests in a fresh sandbox; nothing is stored."""
        return await verify_candidate(
            candidate,
            policy=self.policy,
            sandbox_factory=self.new_sandbox,
            timeout=self.timeout,
        )

    async def aregister(
        self,
        source: str,
        *,
        name: str | None = None,
        tags: Iterable[str] = (),
        provenance: dict[str, Any] | None = None,
    ) -> Tool:
        """Parse, lint, run the doctests in a fresh sandbox, then store as a new version.

        Raises :class:`ToolRejectedError` (nothing stored) with the findings or the failing
        examples. Registering exactly the source of the current latest verified version
        returns that version instead of storing a duplicate.
        """
        provenance = _check_provenance(provenance)
        candidate = self.prepare(source, name=name, tags=tags)
        existing = self._same_as_latest(candidate)
        if existing is not None:
            return existing
        report = await self.averify(candidate)
        return self.store_verified(candidate, report, provenance=provenance)

    def register(
        self,
        source: str,
        *,
        name: str | None = None,
        tags: Iterable[str] = (),
        provenance: dict[str, Any] | None = None,
    ) -> Tool:
        """Blocking :meth:`aregister` (safe to call from a notebook cell)."""
        return run_sync(self.aregister(source, name=name, tags=tags, provenance=provenance))

    def register_file(self, path: str | os.PathLike[str], *, name: str | None = None) -> Tool:
        """Register the function in a ``.py`` file (``agentforge tools add PATH``)."""
        try:
            source = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ToolError(
                f"Cannot read {path}: {exc}. Give the path of a UTF-8 .py file."
            ) from exc
        return self.register(source, name=name)

    def _same_as_latest(self, candidate: ToolCandidate) -> Tool | None:
        try:
            latest = self.latest_verified(candidate.name)
        except ToolNotFoundError:
            return None
        if latest is not None and latest.sha256 == candidate.sha256:
            return latest
        return None

    def store_verified(
        self,
        candidate: ToolCandidate,
        report: VerificationReport,
        *,
        provenance: dict[str, Any] | None = None,
    ) -> Tool:
        """Store a candidate whose verification passed, as the next version of its name.

        This is the only write path for new versions; it refuses a report that did not pass.
        """
        if not report.passed:
            raise ToolRejectedError(candidate.name, report)
        provenance = _check_provenance(provenance)
        with self.document.update() as data:
            item = data["items"].setdefault(
                candidate.name, {"name": candidate.name, "next_version": 1, "versions": []}
            )
            used = [v["version"] for v in item["versions"]]
            version = max([item.get("next_version", 1), *(u + 1 for u in used)])
            tool = _new_tool(candidate, version, report, provenance)
            item["versions"].append(tool.to_dict())
            item["next_version"] = version + 1
        return tool

    # ----- life cycle ---------------------------------------------------------------------
    def deprecate(self, ref: str) -> list[Tool]:
        """Deprecate ``name`` (every verified version) or ``name@N`` (that version).

        Deprecated versions are kept and can be shown, but are no longer imported in sandboxes
        nor retrieved for runs. Registering the name again makes a new, active version.
        """
        name, version = parse_ref(ref)
        changed: list[Tool] = []
        with self.document.update() as data:
            item = data["items"].get(name)
            if item is None:
                raise self._not_found(name)
            targets = [
                v
                for v in item["versions"]
                if (v["version"] == version if version is not None else v["status"] == "verified")
            ]
            if version is not None and not targets:
                raise ToolNotFoundError(f"Tool {name!r} has no version {version}.")
            for record in targets:
                record["status"] = "deprecated"
                record["deprecated"] = utc_now()
                changed.append(Tool.from_dict(record))
        return changed

    def remove(self, ref: str) -> int:
        """Delete ``name`` (all versions) or ``name@N``; returns how many versions went."""
        name, version = parse_ref(ref)
        with self.document.update() as data:
            item = data["items"].get(name)
            if item is None:
                raise self._not_found(name)
            if version is None:
                del data["items"][name]
                return len(item["versions"])
            kept = [v for v in item["versions"] if v["version"] != version]
            if len(kept) == len(item["versions"]):
                raise ToolNotFoundError(f"Tool {name!r} has no version {version}.")
            if kept:
                item["versions"] = kept
            else:
                del data["items"][name]
            return 1

    async def areverify(self, names: Iterable[str] | None = None) -> dict[str, VerificationReport]:
        """Run the doctests of each tool's current version again (CI checks the repository's
        starter tools this way). A version that now fails is marked ``failed`` and stops being
        imported and retrieved; one that passes again becomes ``verified``. Deprecated
        versions are left alone."""
        wanted = list(names) if names is not None else self.names()
        reports: dict[str, VerificationReport] = {}
        for name in wanted:
            tool = self.get(name)
            if tool.status == "deprecated":
                continue
            candidate = parse_tool(tool.source, tags=tool.tags)
            report = await self.averify(candidate)
            reports[tool.ref] = report
            self._set_status(tool, report)
        return reports

    def reverify(self, names: Iterable[str] | None = None) -> dict[str, VerificationReport]:
        return run_sync(self.areverify(names))

    def _set_status(self, tool: Tool, report: VerificationReport) -> None:
        with self.document.update() as data:
            item = data["items"].get(tool.name)
            for record in item["versions"] if item else []:
                if record["version"] == tool.version and record["status"] != "deprecated":
                    record["status"] = "verified" if report.passed else "failed"
                    record["verification"] = report.to_dict()

    # ----- retrieval ----------------------------------------------------------------------
    def retrieve(
        self, goal: str, profile: dict[str, Any] | None = None, k: int = 5
    ) -> list[ToolHit]:
        """The ``k`` active tools most relevant to ``goal`` (and the dataset ``profile``)."""
        from .retrieval import retrieve

        return retrieve(goal, profile, k=k, registry=self)


def _new_tool(
    candidate: ToolCandidate,
    version: int,
    report: VerificationReport,
    provenance: dict[str, Any],
) -> Tool:
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
    )
