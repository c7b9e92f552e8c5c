"""The registry: verified, versioned tools in ``state/tools.json``.

Document layout (human-readable, diff-able, shared through git)::

    {"schema": "agentforge.tools", "version": 1, "items": {
        "top_n": {"name": "top_n", "next_version": 3,
                  "versions": [{<Tool.to_dict() of version 1>}, {<version 2>}]}}}

Registration parses, lints and runs the doctests in a fresh sandbox *without* holding the
lock; only storing the verified result takes the document's lock (read-modify-write), and the
version number is chosen there, so concurrent registrations from any number of processes lose
nothing and never reuse a number.

tools.json may come from someone else: every record is validated on read (``records``), and
"verified" is this user's verdict (``local``): runs are offered only versions that passed
verification on this machine (``agentforge tools verify`` verifies the others).
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._loop import run_sync
from ..lint import LintPolicy
from ..state import Document, StateDir
from ..trust import TrustStore
from .lifecycle import ToolLifecycle, gate_candidate
from .local import LocalVerdicts, tool_from_candidate
from .model import (
    Tool,
    ToolError,
    ToolNotFoundError,
    ToolRejectedError,
    VerificationReport,
    parse_ref,
)
from .parse import ToolCandidate, parse_tool
from .records import LoadedTools, load_items
from .retrieval import ToolHit, index_for
from .verify import DEFAULT_TIMEOUT_S, SandboxFactory, verify_candidate

if TYPE_CHECKING:
    from ..sandbox.config import SandboxConfig
    from ..sandbox.kernel import KernelSandbox

__all__ = ["ToolRegistry", "retrieve", "run_provenance", "user_provenance"]


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


class ToolRegistry(ToolLifecycle):
    """Verified tools in a state directory. Sync methods wrap the async ones."""

    def __init__(
        self,
        store: StateDir | str | os.PathLike[str] | None = None,
        *,
        policy: LintPolicy | None = None,
        sandbox_config: SandboxConfig | None = None,
        sandbox_factory: SandboxFactory | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        trust: TrustStore | None = None,
    ) -> None:
        self.store = store if isinstance(store, StateDir) else StateDir(store)
        self.policy = policy
        self.sandbox_config = sandbox_config
        self._sandbox_factory = sandbox_factory
        self.timeout = timeout
        self.verdicts = LocalVerdicts(trust)

    def __repr__(self) -> str:
        return f"ToolRegistry({str(self.path)!r})"

    @classmethod
    def opened(
        cls, store: StateDir | str | os.PathLike[str] | None = None, **kwargs: Any
    ) -> ToolRegistry:
        """The registry of ``store``; a state directory used for the first time (no
        tools.json) gets the starter tools shipped with the package."""
        registry = cls(store, **kwargs)
        if not registry.path.exists():
            from .starter import install_shipped_tools

            install_shipped_tools(registry)
        return registry

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
        from ..sandbox.kernel import KernelSandbox

        return KernelSandbox(self.sandbox_config)

    # ----- reading ------------------------------------------------------------------------
    def load(self) -> LoadedTools:
        """Every valid record, annotated with this user's verdicts, and what was left out."""
        loaded = load_items(self.document.read()["items"], str(self.path))
        marks = self.verdicts.marks()
        loaded.versions = {
            name: self.verdicts.annotate(tools, marks) for name, tools in loaded.versions.items()
        }
        return loaded

    def problems(self) -> builtins.list[str]:
        """Records of tools.json that were left out, one line each (empty when all valid)."""
        return self.load().problems

    def names(self) -> builtins.list[str]:
        return sorted(self.load().versions)

    def versions(self, name: str) -> builtins.list[Tool]:
        """Every valid stored version of ``name``, oldest first."""
        found = self.load().versions.get(name)
        if not found:
            raise self._not_found(name)
        return found

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
        return _shown(versions)

    def latest_verified(self, name: str) -> Tool | None:
        verified = [t for t in self.versions(name) if t.status == "verified"]
        return verified[-1] if verified else None

    def all(self, *, include_inactive: bool = True) -> builtins.list[Tool]:
        """One entry per name (as ``get(name)`` would return it), sorted by name.

        With ``include_inactive=False`` only what runs may use (see :meth:`active`).
        """
        if not include_inactive:
            return self.active()
        return [_shown(versions) for _name, versions in sorted(self.load().versions.items())]

    list = all  # the original name, kept for callers

    def active(self) -> builtins.list[Tool]:
        """Per name, the latest version stored as verified that passed verification on this
        machine: what sandboxes import and runs retrieve."""
        out = []
        for _name, versions in sorted(self.load().versions.items()):
            usable = [t for t in versions if t.status == "verified" and t.verified_here]
            if usable:
                out.append(usable[-1])
        return out

    def unverified(self) -> builtins.list[Tool]:
        """Per name, the latest stored-as-verified version not verified on this machine: what
        waits for ``agentforge tools verify``."""
        out = []
        for _name, versions in sorted(self.load().versions.items()):
            stored = [t for t in versions if t.status == "verified"]
            if stored and not stored[-1].verified_here:
                out.append(stored[-1])
        return out

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
        returns that version instead of storing a duplicate (verifying it here first if it
        was not). The returned tool's ``source`` is always the given one (normalised): a
        caller that runs it (``%%agent_tool``) never runs a stored source instead.
        """
        provenance = _check_provenance(provenance)
        candidate = self.prepare(source, name=name, tags=tags)
        existing = self._same_as_latest(candidate)
        if existing is not None and existing.verified_here:
            return existing
        if existing is not None:  # stored by someone else, or verified elsewhere
            report = await self._verify_stored(existing)
            if report.passed:
                self.verdicts.record([existing], report)
                return replace(existing, verified_here=True)
            if report.stage != "parse":  # the same source fails here
                raise ToolRejectedError(candidate.name, report)
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
        # By the hash recomputed from the stored source (a stored sha256 is never trusted).
        return latest if latest is not None and latest.sha256 == candidate.sha256 else None

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
        gate_candidate(candidate, self.policy)  # the host-side lint, whatever verified it
        provenance = _check_provenance(provenance)
        with self.document.update() as data:
            item = data["items"].get(candidate.name)
            if not isinstance(item, dict) or not isinstance(item.get("versions"), list):
                item = data["items"][candidate.name] = {
                    "name": candidate.name,
                    "next_version": 1,
                    "versions": [],
                }
            used = [v["version"] for v in item["versions"] if isinstance(v.get("version"), int)]
            next_version = item.get("next_version", 1)
            next_version = next_version if isinstance(next_version, int) else 1
            version = max([next_version, *(u + 1 for u in used)])
            tool = tool_from_candidate(candidate, version, report, provenance)
            item["versions"].append(tool.to_dict())
            item["next_version"] = version + 1
        self.verdicts.record([tool], report)
        return tool

    # ----- retrieval ----------------------------------------------------------------------
    def retrieve(
        self, goal: str, profile: dict[str, Any] | None = None, k: int = 5
    ) -> builtins.list[ToolHit]:
        """The ``k`` tools runs may use (:meth:`active`) most relevant to ``goal`` (and the
        dataset ``profile``)."""
        return index_for(self).search(goal, profile, k)


def _shown(versions: list[Tool]) -> Tool:
    """The version a listing shows: the latest stored as verified, else the latest."""
    verified = [t for t in versions if t.status == "verified"]
    return (verified or versions)[-1]


def retrieve(
    goal: str,
    profile: dict[str, Any] | None = None,
    k: int = 5,
    *,
    registry: ToolRegistry | None = None,
) -> list[ToolHit]:
    """The ``k`` tools runs may use most relevant to ``goal``, re-ranked by fit to ``profile``
    (``{"columns": [{"name", "kind"}, ...]}`` as made by the datasets service)."""
    return (registry if registry is not None else ToolRegistry()).retrieve(goal, profile, k)
