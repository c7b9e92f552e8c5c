"""Fail when a Python module (package, tests, benchmarks) grows past the size a reader can hold
in mind (see CONTRIBUTING)."""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT = 500  # lines; the target is about 400, this is the hard stop
ROOTS = ("agentforge_jupyter", "tests", "benchmarks")


def oversized(root: Path) -> list[tuple[Path, int]]:
    found = []
    for path in sorted(root.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > LIMIT:
            found.append((path, lines))
    return found


def main() -> int:
    base = Path(__file__).resolve().parents[1]
    problems = [item for name in ROOTS for item in oversized(base / name)]
    for path, lines in problems:
        print(f"{path.relative_to(base)}: {lines} lines (limit {LIMIT}); split it by concern")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
