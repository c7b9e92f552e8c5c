"""Server extension benchmark: how long an event written by a run takes to reach an SSE client.

    python benchmarks/server.py [--runs N]

Starts a real `jupyter server` (loopback, token, temporary state directory), starts offline
runs through `POST /agentforge/api/runs` and follows `GET .../events` with one subscriber, then
with 20 at once. The delay of an event is its arrival time at the client minus its `ts` (set by
the run when it wrote the event; same machine, same clock). Events replayed from before the
subscriber connected are left out. Prints a table, writes benchmarks/results/server.json, and
exits 1 when a target is missed: median <= 50 ms with one subscriber, and the 20-subscriber
median <= 2x the one-subscriber median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.server_client import SseStream, read_sse  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "server.json"
TOKEN = "agentforge-benchmark"
GOAL = "Which region drove Q3 revenue growth, and is it seasonal?"
TARGET_MEDIAN_S = 0.050
TARGET_FANOUT_RATIO = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, path: str, body: object | None = None) -> Any:
    request = urllib.request.Request(
        f"{base}agentforge/api/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Authorization": f"token {TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def start_server(root: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AGENTFORGE_STATE_DIR": str(root / "state")}
    command = [
        sys.executable, "-m", "jupyter", "server", "--no-browser", "--allow-root",
        f"--port={port}", "--ip=127.0.0.1", f"--ServerApp.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
    ]  # fmt: skip
    log = open(root / "server.log", "wb")  # noqa: SIM115 - the process owns it
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(240):
        if process.poll() is not None:
            raise SystemExit("jupyter server exited while starting")
        try:
            call(base, "brains")
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("jupyter server did not start in 120 s")


def delays(stream: SseStream, opened: float) -> list[float]:
    """Delays of the events the run wrote after this subscriber was connected."""
    return [r.received - r.data["ts"] for r in stream.records if r.data["ts"] >= opened]


async def one_run(base: str, subscribers: int) -> tuple[list[float], int]:
    run_id = call(base, "runs", {"goal": GOAL, "dataset": "sales_q3", "brain": "offline"})["id"]
    url = f"{base}agentforge/api/runs/{run_id}/events"
    headers = {"Authorization": f"token {TOKEN}"}
    opened = time.time()
    streams = await asyncio.gather(*(read_sse(url, headers) for _ in range(subscribers)))
    counts = {len(s.records) for s in streams}
    if len(counts) != 1 or streams[0].types[-1] != "run_end":
        raise SystemExit(f"subscribers disagree or the stream did not end: {counts}")
    # Connections open within a few ms of each other; count events written after the last.
    return [d for s in streams for d in delays(s, opened + 0.05)], counts.pop()


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "samples": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


async def measure(base: str, runs: int) -> dict[str, Any]:
    single: list[float] = []
    fanout: list[float] = []
    events = 0
    for _ in range(runs):  # interleaved, so machine load hits both alike
        samples, events = await one_run(base, 1)
        single += samples
        samples, _ = await one_run(base, 20)
        fanout += samples
    one, twenty = summary(single), summary(fanout)
    ratio = twenty["median_ms"] / one["median_ms"] if one["median_ms"] else float("inf")
    return {"one_subscriber": one, "twenty_subscribers": twenty, "fanout_ratio": ratio,
            "events_per_run": events, "runs": runs}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per setting (default 3)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="agentforge-bench-server-") as tmp:
        root = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}/"
        process = start_server(root, port)
        try:
            wait_ready(base, process)
            result = asyncio.run(measure(base, args.runs))
        finally:
            process.terminate()
            process.wait(30)
    one, twenty = result["one_subscriber"], result["twenty_subscribers"]
    checks = {
        "median_le_50ms": one["median_ms"] <= TARGET_MEDIAN_S * 1000,
        "fanout_median_le_2x": result["fanout_ratio"] <= TARGET_FANOUT_RATIO,
    }
    print(f"{'subscribers':<12} {'samples':>8} {'median ms':>10} {'p99 ms':>8} {'max ms':>8}")
    for label, row in (("1", one), ("20", twenty)):
        print(
            f"{label:<12} {row['samples']:>8} {row['median_ms']:>10.2f} {row['p99_ms']:>8.2f} "
            f"{row['max_ms']:>8.2f}"
        )
    print(f"20-subscriber median / 1-subscriber median: {result['fanout_ratio']:.2f} (target <= 2)")
    for name, ok in checks.items():
        print(f"{name}: {'ok' if ok else 'MISSED'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {**result, "checks": checks, "machine": platform.platform(), "cpus": os.cpu_count()}
    RESULTS.write_text(json.dumps(record, indent=1) + "\n")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
