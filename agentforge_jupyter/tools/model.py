"""The tool model: one verified, versioned, self-contained Python function.

A tool version is stored in ``state/tools.json`` as a plain JSON record (see ``Tool.to_dict``);
``Tool`` is its typed, read-only view. Errors raised by the registry live here too, so every
layer of the package can raise them without import cycles.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from ..errors import AgentForgeError
from ..trust import fingerprint

__all__ = [
    "NAME_RE",
    "Example",
    "ExampleFailure",
    "Param",
    "Tool",
    "ToolError",
    "ToolNotFoundError",
    "ToolParseError",
    "ToolRejectedError",
    "ToolStatus",
    "VerificationReport",
    "parse_ref",
    "utc_now",
]

ToolStatus = Literal["verified", "failed", "deprecated"]
STATUSES: tuple[str, ...] = ("verified", "failed", "deprecated")
# Lowercase so that agentforge_tools/<name>.py is the same file on every file system.
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_REF_RE = re.compile(r"^(?P<name>[^@\s]+)(?:@(?P<version>\S+))?$")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ToolError(AgentForgeError):
    """A tool cannot be registered, found or changed."""


class ToolNotFoundError(ToolError, KeyError):
    """No tool (or no such version) in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Example:
    """One doctest example from the docstring; ``line`` is 1-based within the tool source."""

    source: str
    want: str
    line: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Param:
    name: str
    annotation: str | None = None
    default: str | None = None
    kind: str = "positional_or_keyword"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ExampleFailure:
    """A doctest example that did not produce its expected output (or raised)."""

    line: int
    source: str
    expected: str
    got: str
    exception: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        src = self.source.rstrip("\n").replace("\n", "\n        ... ")
        lines = [f"  line {self.line}: >>> {src}", f"    expected: {_show(self.expected)}"]
        if self.exception:
            lines.append(f"    raised:   {self.exception.strip()}")
        else:
            lines.append(f"    got:      {_show(self.got)}")
        return "\n".join(lines)


def _show(text: str) -> str:
    text = text.rstrip("\n")
    if not text:
        return "(nothing)"
    return text.replace("\n", "\n              ")


@dataclass
class VerificationReport:
    """What verification found. ``stage`` is the first stage that failed, or ``"passed"``."""

    passed: bool
    stage: Literal["parse", "lint", "doctest", "sandbox", "passed"]
    problems: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    examples_run: int = 0
    failures: list[ExampleFailure] = field(default_factory=list)
    sandbox_status: str | None = None
    isolation: str | None = None
    duration_s: float = 0.0
    checked: str = field(default_factory=utc_now)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["failures"] = [f.to_dict() for f in self.failures]
        data["duration_s"] = round(self.duration_s, 3)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerificationReport:
        values = dict(data)
        values["failures"] = [ExampleFailure(**f) for f in data.get("failures", [])]
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})

    def describe(self) -> str:
        """Human- and model-readable account, one problem per line."""
        parts: list[str] = list(self.problems)
        for f in self.findings:
            parts.append(
                f"{f['code']} {f['severity']} {f['line']}:{f['col']} {f['message']} "
                f"Hint: {f['hint']}"
            )
        if self.failures:
            parts.append(f"{len(self.failures)} of {self.examples_run} doctest example(s) failed:")
            parts.extend(f.describe() for f in self.failures)
        return "\n".join(parts)


class ToolRejectedError(ToolError):
    """Registration refused; ``report`` holds the findings or failing examples.

    Nothing was stored: the registry is exactly as it was before.
    """

    def __init__(self, name: str | None, report: VerificationReport) -> None:
        self.name = name
        self.report = report
        what = f"Tool {name!r}" if name else "The tool"
        super().__init__(
            f"{what} was not registered ({report.stage} check failed); nothing was stored.\n"
            + report.describe()
        )

    @property
    def findings(self) -> list[dict[str, Any]]:
        return self.report.findings

    @property
    def failures(self) -> list[ExampleFailure]:
        return self.report.failures


class ToolParseError(ToolRejectedError):
    """The source is not one self-contained function with a docstring and doctests."""

    def __init__(self, problems: list[str], name: str | None = None) -> None:
        super().__init__(name, VerificationReport(False, "parse", problems=problems))


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``"top_n"`` -> ``("top_n", None)``; ``"top_n@3"`` -> ``("top_n", 3)``."""
    match = _REF_RE.match(ref.strip())
    if not match:
        raise ToolNotFoundError(f"{ref!r} is not a tool reference; write NAME or NAME@VERSION.")
    version = match.group("version")
    if version is None:
        return match.group("name"), None
    if not version.isdigit() or int(version) < 1:
        raise ToolNotFoundError(
            f"{ref!r}: the version after '@' must be a whole number from 1 (e.g. top_n@2)."
        )
    return match.group("name"), int(version)


@dataclass(frozen=True)
class Tool:
    """One stored version of a tool (a read-only view of its JSON record)."""

    name: str
    version: int
    source: str
    signature: str
    docstring: str
    tags: tuple[str, ...]
    examples: tuple[Example, ...]
    params: tuple[Param, ...]
    returns: str | None
    imports: tuple[str, ...]
    provenance: dict[str, Any]
    created: str
    status: ToolStatus
    verification: dict[str, Any]
    sha256: str
    #: Passed verification on this machine (set by the registry from the user's own records;
    #: never read from tools.json).
    verified_here: bool = False

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def fingerprint(self) -> str:
        """sha256 over everything a run uses of this version: the source and what is shown
        of it (signature, docstring, tags, parameters). What "verified here" is keyed by."""
        return fingerprint(
            {
                "name": self.name,
                "source": self.source,
                "signature": self.signature,
                "docstring": self.docstring,
                "tags": list(self.tags),
                # Plain dicts rather than asdict(): this runs for every tool on every load.
                "examples": [
                    {"source": e.source, "want": e.want, "line": e.line} for e in self.examples
                ],
                "params": [
                    {
                        "name": p.name,
                        "annotation": p.annotation,
                        "default": p.default,
                        "kind": p.kind,
                    }
                    for p in self.params
                ],
                "returns": self.returns,
                "imports": list(self.imports),
            }
        )

    @property
    def trust_label(self) -> str:
        """What the user sees as the status: a stored "verified" counts only if verified here."""
        if self.status == "verified" and not self.verified_here:
            return "unverified"
        return self.status

    @property
    def summary(self) -> str:
        """The first paragraph of the docstring."""
        return self.docstring.strip().split("\n\n", 1)[0].replace("\n", " ").strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "signature": self.signature,
            "docstring": self.docstring,
            "tags": list(self.tags),
            "examples": [e.to_dict() for e in self.examples],
            "params": [p.to_dict() for p in self.params],
            "returns": self.returns,
            "imports": list(self.imports),
            "provenance": dict(self.provenance),
            "created": self.created,
            "status": self.status,
            "verification": dict(self.verification),
            "sha256": self.sha256,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tool:
        """A tool from a stored record, validated (raises ValueError saying what is wrong)."""
        from .records import tool_from_record

        return tool_from_record(data)
