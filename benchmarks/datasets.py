"""Datasets benchmark: `datasets add` + profile of a large generated CSV against a 1 MB one.

    python benchmarks/datasets.py [--size-mb 1024]

Generates two CSV files with the same columns (1 MB and `--size-mb`, default 1 GB) in a
temporary directory, then for each: `DatasetRegistry.add` (validate, sniff, copy with a hash,
count rows) and `profile` (one pass over the whole file: exact rows, min/max, a sample drawn
from all of it), then the profile again (cached by content hash). Prints a table, writes
benchmarks/results/datasets.json, and exits 1 when a target is missed:

* throughput of add + profile on the large file >= 15 MB/s (1 GB in about 70 s on the 2-core
  development machine); the time ratio large/small is reported next to the size ratio;
* the profile is right: exact row count, and order_id max = rows - 1 (the head-only profile
  this replaces reported 9,999);
* a repeated profile (cache hit) <= 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "datasets.json"
sys.path.insert(0, str(ROOT))
from agentforge_jupyter.datasets import DatasetRegistry  # noqa: E402
from agentforge_jupyter.state import StateDir  # noqa: E402

MIN_MB_PER_S = 15.0
MAX_CACHED_S = 0.5
_CHUNK = 500_000


def generate(path: Path, size_bytes: int) -> int:
    """A sales-like CSV of about `size_bytes`; returns its row count."""
    rng = np.random.default_rng(0)
    regions = np.array(["North", "South", "East", "West", "Central"])
    rows, start = 0, pd.Timestamp("2024-01-01")
    with open(path, "w", encoding="utf-8") as fh:
        header = True
        while fh.tell() < size_bytes:
            n = _CHUNK if size_bytes > 10_000_000 else 1_000
            chunk = pd.DataFrame(
                {
                    "order_id": np.arange(rows, rows + n),
                    "region": regions[rng.integers(0, 5, n)],
                    "amount": rng.gamma(2.0, 50.0, n).round(2),
                    "units": rng.integers(1, 20, n),
                    "date": (start + pd.to_timedelta(rng.integers(0, 365, n), unit="D")).strftime(
                        "%Y-%m-%d"
                    ),
                }
            )
            chunk.to_csv(fh, index=False, header=header)
            header, rows = False, rows + n
    return rows


def measure(registry: DatasetRegistry, path: Path, rows: int) -> dict[str, object]:
    started = time.perf_counter()
    info = registry.add(path)
    added = time.perf_counter()
    profile = registry.profile(info.name)
    profiled = time.perf_counter()
    registry.profile(info.name)
    cached = time.perf_counter() - profiled
    order = {c["name"]: c for c in profile["columns"]}["order_id"]
    size_mb = path.stat().st_size / 1e6
    total = profiled - started
    return {
        "file_mb": round(size_mb, 1),
        "rows": rows,
        "add_s": round(added - started, 2),
        "profile_s": round(profiled - added, 2),
        "add_profile_s": round(total, 2),
        "mb_per_s": round(size_mb / total, 1),
        "cached_profile_s": round(cached, 3),
        "profile_correct": profile["rows"] == rows and order["max"] == rows - 1,
        "sampled_rows": profile["sampled_rows"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        registry = DatasetRegistry(StateDir(Path(tmp) / "state"))
        results = {}
        for label, size in (("1 MB", 1_000_000), (f"{args.size_mb} MB", args.size_mb * 10**6)):
            path = Path(tmp) / f"sales_{size}.csv"
            rows = generate(path, size)
            results[label] = measure(registry, path, rows)
            path.unlink()
    small, large = results["1 MB"], results[f"{args.size_mb} MB"]
    ratio = large["add_profile_s"] / small["add_profile_s"]
    checks = {
        f"throughput >= {MIN_MB_PER_S} MB/s": large["mb_per_s"] >= MIN_MB_PER_S,
        "profile exact (rows, order_id max)": all(r["profile_correct"] for r in results.values()),
        f"cached profile <= {MAX_CACHED_S} s": large["cached_profile_s"] <= MAX_CACHED_S,
    }
    print(f"{'file':>10}{'rows':>13}{'add s':>9}{'profile s':>11}{'MB/s':>8}{'cached s':>10}")
    for label, r in results.items():
        print(
            f"{label:>10}{r['rows']:>13,}{r['add_s']:>9}{r['profile_s']:>11}{r['mb_per_s']:>8}"
            f"{r['cached_profile_s']:>10}"
        )
    size_ratio = large["file_mb"] / small["file_mb"]
    print(f"time ratio large/small {ratio:.0f} for a size ratio of {size_ratio:.0f}")
    for name, ok in checks.items():
        print(f"{'ok ' if ok else 'MISSED'} {name}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"results": results, "time_ratio": round(ratio, 1), "checks": checks}, indent=2)
        + "\n"
    )
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
