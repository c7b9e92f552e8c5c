"""Profile cost against file size: a ~1 MB and a ~1 GB CSV, same columns, same sample size.

Used by ``benchmarks/sandbox.py`` (``bench_profile``) and runnable alone::

    python benchmarks/profile_data.py [TMPDIR]

The profile reads only the first ``DEFAULT_SAMPLE_ROWS`` rows, so the ratio of the two times
should stay near 1 (target <= 3). Both datasets are registered in a throw-away state directory
first (registration copies and hashes the file; that cost is reported but not part of the ratio).
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agentforge_jupyter.datasets import DEFAULT_SAMPLE_ROWS, DatasetRegistry
from agentforge_jupyter.state import StateDir

SMALL_BYTES = 1 << 20
LARGE_BYTES = 1 << 30
TARGET_RATIO = 3.0
REPEATS = 5
HEADER = "order_id,date,region,product,channel,units,unit_price,revenue\n"


def _block(target_bytes: int, seed: int = 7) -> bytes:
    """About ``target_bytes`` of CSV rows (no header), deterministic."""
    rng = random.Random(seed)
    regions = ["North", "South", "East", "West", "Central"]
    products = ["Smart Watch", "Wireless Earbuds", "4K Monitor", "Air Purifier", "Standing Desk"]
    channels = ["Online", "Retail", "Partner"]
    lines, size, number = [], 0, 0
    while size < target_bytes:
        number += 1
        units = rng.randint(1, 20)
        price = round(rng.uniform(20, 500), 2)
        line = (
            f"SO-{number:07d},2024-{rng.randint(7, 9):02d}-{rng.randint(1, 28):02d},"
            f"{rng.choice(regions)},{rng.choice(products)},{rng.choice(channels)},"
            f"{units},{price},{round(units * price, 2)}\n"
        )
        lines.append(line)
        size += len(line)
    return "".join(lines).encode()


def write_csv(path: Path, target_bytes: int, block: bytes) -> int:
    """Header + ``block`` repeated until ``target_bytes``; returns the size written."""
    with open(path, "wb") as fh:
        fh.write(HEADER.encode())
        written = len(HEADER)
        while written < target_bytes:
            fh.write(block)
            written += len(block)
    return written


def _time_profile(registry: DatasetRegistry, name: str) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        registry.profile(name)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_profile(tmpdir: str | Path) -> dict[str, Any]:
    """Write the two CSVs under ``tmpdir``, register and profile both, delete everything.

    Returns seconds (median of ``REPEATS`` profiles) for each and ``ratio`` = large / small.
    """
    work = Path(tmpdir) / "profile_bench"
    work.mkdir(parents=True, exist_ok=True)
    try:
        block = _block(SMALL_BYTES - len(HEADER))
        small, large = work / "small.csv", work / "large.csv"
        small_size = write_csv(small, SMALL_BYTES, block)
        start = time.perf_counter()
        large_size = write_csv(large, LARGE_BYTES, block)
        write_s = time.perf_counter() - start

        registry = DatasetRegistry(StateDir(work / "state"))
        registry.add(small, name="small")
        start = time.perf_counter()
        large_info = registry.add(large, name="large")
        add_s = time.perf_counter() - start
        large.unlink()  # the registry holds its own copy

        registry.profile("small")  # warm imports and caches once, for both
        small_s = _time_profile(registry, "small")
        large_s = _time_profile(registry, "large")
        return {
            "small_bytes": small_size,
            "large_bytes": large_size,
            "large_rows": large_info.rows,
            "sample_rows": DEFAULT_SAMPLE_ROWS,
            "profile_small_s": round(small_s, 4),
            "profile_large_s": round(large_s, 4),
            "ratio": round(large_s / small_s, 3),
            "target_ratio": TARGET_RATIO,
            "ok": large_s / small_s <= TARGET_RATIO,
            "write_large_s": round(write_s, 2),
            "add_large_s": round(add_s, 2),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    if len(sys.argv) > 1:
        result = bench_profile(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = bench_profile(tmp)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
