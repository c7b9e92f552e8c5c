"""CLI start-up benchmark: what a user waits for before anything happens.

    python benchmarks/cli.py [--repeats N]

Runs, interleaved, `python -c pass`, `agentforge --version` and `agentforge lint FILE` (the
200-line analysis cell of tests/lint_samples.py written to a file) as real processes with the
same interpreter (bytecode cached, as after `pip install`), and reports medians and their
ratios to `python -c pass`. Targets (issue 8
§6): --version <= 3x, lint <= 5x. Prints a table, writes benchmarks/results/cli.json, and exits
1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "cli.json"
sys.path.insert(0, str(ROOT))
from tests.lint_samples import REALISTIC_CELL  # noqa: E402

TARGETS = {"agentforge --version": 3.0, "agentforge lint FILE": 5.0}


def _agentforge() -> list[str]:
    """The installed console script when there is one (what users run), else `-m`."""
    script = Path(sys.executable).with_name("agentforge")
    if script.exists():
        return [str(script)]
    found = shutil.which("agentforge")
    return [found] if found else [sys.executable, "-m", "agentforge_jupyter.cli"]


# As installed: pip compiles bytecode, so the runs may write and use .pyc files even where the
# development environment sets PYTHONDONTWRITEBYTECODE (the warm-up run writes them).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _time(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - started


def measure(repeats: int, sample: Path) -> dict[str, list[float]]:
    cli = _agentforge()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "agentforge --version": [*cli, "--version"],
        "agentforge lint FILE": [*cli, "lint", str(sample)],
    }
    for cmd in commands.values():  # warm the file cache and .pyc files
        _time(cmd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, cmd in commands.items():
            times[name].append(_time(cmd))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "analysis.py"
        sample.write_text(REALISTIC_CELL)
        times = measure(args.repeats, sample)
    base = statistics.median(times["python -c pass"])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        target = TARGETS.get(name)
        ratio = median / base
        rows.append(
            {
                "metric": name,
                "median_s": round(median, 4),
                "ratio_to_python": round(ratio, 2),
                "target_ratio": target,
                "ok": target is None or ratio <= target,
            }
        )
    print(f"{'command':<24}{'median':>10}{'x python':>10}{'target':>8}  ok")
    for r in rows:
        target = f"{r['target_ratio']:.0f}x" if r["target_ratio"] else "-"
        print(
            f"{r['metric']:<24}{r['median_s'] * 1000:>8.0f}ms{r['ratio_to_python']:>10.2f}"
            f"{target:>8}  {'yes' if r['ok'] else 'NO'}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"repeats": args.repeats, "rows": rows}, indent=2) + "\n")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
