"""Sandbox benchmark: every figure a ratio (or a time) measured against a baseline in this run.

    python benchmarks/sandbox.py [--quick]

Prints a table, writes benchmarks/results/sandbox.json, and exits 1 when a target is missed.
Rows:
* cold start, isolated / plain: KernelSandbox.start() with bubblewrap against the same class
  with isolation="none" (both include the same kernel set-up code), medians, interleaved;
* execute overhead: `1+1` through KernelSandbox.execute against a bare jupyter_client round trip
  (execute + execute_reply + idle) on a plain `python3` kernel over the same ipc transport;
* lint of a 200-line analysis cell, and its ratio to ast.parse of the same cell.
The dataset profile row lives in benchmarks/datasets.py. No product path uses SandboxPool yet,
so there is no warm-pool row.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

from jupyter_client import AsyncKernelManager

from agentforge_jupyter.lint import lint
from agentforge_jupyter.sandbox import KernelSandbox
from agentforge_jupyter.sandbox.isolation import detect_isolation

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.lint_samples import REALISTIC_CELL  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "sandbox.json"


async def cold_start(isolation: str) -> float:
    sandbox = KernelSandbox(isolation=isolation)
    started = time.perf_counter()
    await sandbox.start()
    elapsed = time.perf_counter() - started
    await sandbox.shutdown()
    return elapsed


async def bench_cold_start(repeats: int) -> dict[str, Any]:
    isolated, plain = [], []
    for _ in range(repeats):
        isolated.append(await cold_start("full"))
        plain.append(await cold_start("none"))
    iso, base = statistics.median(isolated), statistics.median(plain)
    return {
        "metric": "cold start, isolated / plain kernel",
        "measured_s": iso,
        "baseline_s": base,
        "ratio": iso / base,
        "target": "<= 1.15",
        "ok": iso / base <= 1.15,
    }


async def raw_round_trips(iterations: int) -> list[float]:
    ipc = Path(tempfile.mkdtemp(prefix="af-bench-"))
    km = AsyncKernelManager(
        kernel_name="python3",
        transport="ipc",
        ip=str(ipc / "k"),
        connection_file=str(ipc / "k.json"),
    )
    await km.start_kernel()
    kc = km.client()
    kc.start_channels()
    await kc.wait_for_ready(timeout=60)
    times = []
    try:
        for _ in range(iterations):
            started = time.perf_counter()
            msg_id = kc.execute("1+1")
            while True:
                msg = await kc.get_iopub_msg(timeout=10)
                if (
                    msg["parent_header"].get("msg_id") == msg_id
                    and msg["msg_type"] == "status"
                    and msg["content"]["execution_state"] == "idle"
                ):
                    break
            await kc.get_shell_msg(timeout=10)
            times.append(time.perf_counter() - started)
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
        shutil.rmtree(ipc, ignore_errors=True)
    return times


async def sandbox_round_trips(iterations: int) -> list[float]:
    times = []
    async with KernelSandbox(isolation="full") as sandbox:
        for _ in range(iterations):
            started = time.perf_counter()
            result = await sandbox.execute("1+1")
            times.append(time.perf_counter() - started)
            assert result.ok
    return times


async def bench_execute(iterations: int) -> dict[str, Any]:
    raw = statistics.median(await raw_round_trips(iterations))
    ours = statistics.median(await sandbox_round_trips(iterations))
    return {
        "metric": "execute 1+1, sandbox / raw jupyter_client",
        "measured_s": ours,
        "baseline_s": raw,
        "ratio": ours / raw,
        "target": "<= 1.5",
        "ok": ours / raw <= 1.5,
    }


def bench_lint(number: int) -> dict[str, Any]:
    assert len(REALISTIC_CELL.splitlines()) >= 200
    ours = min(timeit.repeat(lambda: lint(REALISTIC_CELL), number=number, repeat=7)) / number
    parse = min(timeit.repeat(lambda: ast.parse(REALISTIC_CELL), number=number, repeat=7)) / number
    return {
        "metric": "lint a 200-line cell (baseline: ast.parse)",
        "measured_s": ours,
        "baseline_s": parse,
        "ratio": ours / parse,
        # A ratio, not milliseconds: parsing is the floor, and a loaded machine slows both.
        "target": "<= 2.0 x ast.parse",
        "ok": ours <= 2.0 * parse,
    }


def fmt(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.2f} ms" if unit == "s" else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    if detect_isolation().level != "full":
        sys.exit("benchmarks/sandbox.py needs full isolation (bubblewrap): see agentforge doctor")
    repeats, iterations = (3, 50) if args.quick else (7, 300)
    rows = [
        asyncio.run(bench_cold_start(repeats)),
        asyncio.run(bench_execute(iterations)),
        bench_lint(100 if args.quick else 500),
    ]
    print(f"{'metric':48} {'measured':>11} {'baseline':>11} {'ratio':>7}  target       ok")
    for row in rows:
        print(
            f"{row['metric']:48} {fmt(row['measured_s']):>11} {fmt(row['baseline_s']):>11} "
            f"{fmt(row['ratio'], 'x'):>7}  {row['target']:12} {'yes' if row['ok'] else 'NO'}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"quick": args.quick, "rows": rows}, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")
    missed = [row["metric"] for row in rows if not row["ok"]]
    if missed:
        sys.exit(f"target missed: {'; '.join(missed)}")


if __name__ == "__main__":
    main()
