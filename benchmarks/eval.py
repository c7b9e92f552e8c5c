"""Evaluation throughput: DS-1000 tasks per minute with 1 and 2 workers (replay brain), and the
share of the time spent inside the sandbox kernel. Prints a table, writes results/eval.json, and
exits non-zero when a target is missed.

    python benchmarks/eval.py [--tasks 120]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from agentforge_jupyter.evals import run_eval
from agentforge_jupyter.evals.ds1000 import load_ds1000
from agentforge_jupyter.evals.suites import select
from agentforge_jupyter.state import StateDir

ROOT = Path(__file__).resolve().parents[1]
DS1000 = ROOT.parent / "shared" / "data" / "ds1000" / "ds1000-pandas-numpy.jsonl.gz"
# Two workers on two cores should come close to twice the throughput of one.
TARGET_SPEEDUP = 1.5
# Scoring in the sandbox is the work; the harness around it should be a small part.
TARGET_SANDBOX_SHARE = 0.8


def measure(tasks: int, workers: int, replay: Path, state: StateDir) -> dict[str, float]:
    started = time.perf_counter()
    result = run_eval(
        f"ds1000:{DS1000}", [f"replay:{replay}"], limit=tasks, seed=1, workers=workers, state=state
    )
    wall = time.perf_counter() - started
    records = result.store.records()
    busy = sum(r.duration_s for r in records)
    return {
        "workers": workers,
        "tasks": len(records),
        "wall_s": round(wall, 2),
        "tasks_per_min": round(len(records) / wall * 60, 1),
        "sandbox_share": round(sum(r.sandbox_s for r in records) / busy, 3) if busy else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        replay = Path(tmp) / "references.jsonl"
        chosen = select(load_ds1000(DS1000), limit=args.tasks, seed=1)
        replay.write_text(
            "\n".join(json.dumps({"id": t.id, "code": t.payload["reference"]}) for t in chosen)
        )
        rows = [measure(args.tasks, n, replay, StateDir(Path(tmp) / f"state{n}")) for n in (1, 2)]
    speedup = rows[1]["tasks_per_min"] / rows[0]["tasks_per_min"]
    print(f"{'workers':>8} {'tasks':>6} {'wall s':>8} {'tasks/min':>10} {'sandbox share':>14}")
    for row in rows:
        print(
            f"{row['workers']:>8} {row['tasks']:>6} {row['wall_s']:>8} {row['tasks_per_min']:>10}"
            f" {row['sandbox_share']:>14.1%}"
        )
    share = min(row["sandbox_share"] for row in rows)
    print(f"speed-up 2/1 workers: {speedup:.2f} (target >= {TARGET_SPEEDUP})")
    print(f"sandbox share of task time: {share:.1%} (target >= {TARGET_SANDBOX_SHARE:.0%})")
    out = ROOT / "benchmarks" / "results" / "eval.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "speedup": round(speedup, 3)}, indent=2) + "\n")
    return 0 if speedup >= TARGET_SPEEDUP and share >= TARGET_SANDBOX_SHARE else 1


if __name__ == "__main__":
    sys.exit(main())
