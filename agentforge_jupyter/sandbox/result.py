"""The execution result: what one piece of code did in the sandbox, in safe, capped form."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["ok", "error", "timeout", "crashed", "limit"]

# MIME types a Display may carry. Nothing else leaves the sandbox: raw HTML, JavaScript,
# SVG (can carry script) and widget state are dropped on the way out.
PNG = "image/png"
TEXT = "text/plain"
TABLE = "application/vnd.agentforge.table+json"
SAFE_MIME_TYPES = (PNG, TABLE, TEXT)


@dataclass
class Display:
    """One rich output. `data` is base64 text for PNG, a str for text, a dict for tables.

    A table is `{"columns": [str], "index": [str], "rows": [[json scalar]], "dtypes": [str],
    "total_rows": int, "total_columns": int}`, rebuilt and validated on the host.
    """

    mime: str
    data: Any

    def to_dict(self) -> dict[str, Any]:
        return {"mime": self.mime, "data": self.data}


@dataclass
class ErrorInfo:
    name: str
    value: str
    traceback: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExecutionResult:
    status: Status
    stdout: str = ""
    stderr: str = ""
    displays: list[Display] = field(default_factory=list)
    error: ErrorInfo | None = None
    duration_s: float = 0.0
    # True when the kernel was killed or restarted: variables defined earlier are gone.
    state_lost: bool = False
    # Human-readable notes from the sandbox itself (e.g. "output truncated at 100000 chars",
    # "interrupted after 30 s; kernel restarted").
    notes: list[str] = field(default_factory=list)
    # The order the outputs arrived in, so that a notebook shows them as the kernel did:
    # ["stdout"|"stderr", chars] runs and ["display", index into displays].
    sequence: list[list[Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "displays": [d.to_dict() for d in self.displays],
            "error": self.error.to_dict() if self.error else None,
            "duration_s": round(self.duration_s, 6),
            "state_lost": self.state_lost,
            "notes": list(self.notes),
            "sequence": [list(entry) for entry in self.sequence],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExecutionResult:
        error = data.get("error")
        return cls(
            status=data["status"],
            stdout=data.get("stdout", ""),
            stderr=data.get("stderr", ""),
            displays=[Display(d["mime"], d["data"]) for d in data.get("displays", [])],
            error=ErrorInfo(**error) if error else None,
            duration_s=float(data.get("duration_s", 0.0)),
            state_lost=bool(data.get("state_lost", False)),
            notes=list(data.get("notes", [])),
            sequence=[list(e) for e in data.get("sequence", []) if isinstance(e, list | tuple)],
        )
