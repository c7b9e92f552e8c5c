"""Server extension benchmark: how long an event written by a run takes to reach an SSE client.

    python benchmarks/server.py [--runs N] [--subscribers N]

Starts a real `jupyter server` (loopback, token, temporary state directory), starts offline
runs through `POST /agentforge/api/runs` and follows `GET .../events` with one subscriber, then
with 20 at once: the same handler, broadcast and HTTP path the side panel uses.

Each subscriber is a process of its own (as each user's browser is) that reads its socket with
plain blocking `recv` and time-stamps every read before doing anything else; parsing waits until
the stream has ended. So a subscriber's own work never shows up as delivery delay, and 20
subscribers do not queue behind one another in one client event loop.

The delay of an event is its arrival time at the subscriber minus its `ts` (set by the run when
it wrote the event; same machine, same clock). The run is started only when every subscriber
process is up, and only events written after every subscriber of the run was connected count,
so both settings are measured on the same events. Prints median and p99 for 1 and 20
subscribers and their ratio, writes benchmarks/results/server.json, and exits 1 when a target is
missed: median <= 50 ms with one subscriber, and the 20-subscriber median <= 2x the
one-subscriber median.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "server.json"
TOKEN = "agentforge-benchmark"
GOAL = "Which region drove Q3 revenue growth, and is it seasonal?"
TARGET_MEDIAN_S = 0.050
TARGET_FANOUT_RATIO = 2.0
_DATA = re.compile(rb"^data: (.*)\n\n", re.MULTILINE)


# ----- one subscriber (a process of its own) ---------------------------------------------
def subscribe(url: str) -> dict[str, Any]:
    """Follow one event stream to its end with a blocking socket; every read is time-stamped
    as it returns, and nothing else happens until the server closes the stream."""
    parts = urlsplit(url)
    request = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n"
        f"Authorization: token {TOKEN}\r\nConnection: close\r\n\r\n"
    )
    reads: list[float] = []
    ends: list[int] = []  # buffer length after each read
    buffer = bytearray()
    with socket.create_connection((parts.hostname, parts.port), timeout=120) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(request.encode())
        while True:
            chunk = sock.recv(1 << 16)
            now = time.time()
            if not chunk:
                break
            buffer += chunk
            reads.append(now)
            ends.append(len(buffer))
    head_end = buffer.find(b"\r\n\r\n")
    status = int(buffer.split(b" ", 2)[1])
    connected = reads[bisect.bisect_left(ends, head_end + 4)] if head_end >= 0 else None
    events = []
    for match in _DATA.finditer(buffer, head_end + 4):
        record = json.loads(match.group(1))
        arrived = reads[bisect.bisect_left(ends, match.end())]
        events.append([record["seq"], record["type"], record["ts"], arrived])
    return {"status": status, "connected": connected, "events": events}


def subscriber_main() -> int:
    print("ready", flush=True)  # started: the run may begin
    url = sys.stdin.readline().strip()  # sent once the run exists, to every subscriber at once
    json.dump(subscribe(url), sys.stdout)
    return 0


# ----- the benchmark -----------------------------------------------------------------------
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


def one_run(base: str, subscribers: int) -> tuple[list[float], int]:
    """One run followed by `subscribers` processes; the delays of the events written after
    the last of them connected, and the number of events in the run."""
    command = [sys.executable, str(Path(__file__).resolve()), "--subscribe"]
    procs = [
        subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(subscribers)
    ]
    try:
        # Started processes only: otherwise the later ones would connect when the run is half
        # over, and the two settings would be compared on different events.
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit("a subscriber process did not start")
        run_id = call(base, "runs", {"goal": GOAL, "dataset": "sales_q3", "brain": "offline"})
        url = f"{base}agentforge/api/runs/{run_id['id']}/events\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(url)
            proc.stdin.flush()
        results = [json.loads(proc.communicate(timeout=300)[0]) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    return check_and_collect(results)


def check_and_collect(results: list[dict[str, Any]]) -> tuple[list[float], int]:
    seqs = {tuple(e[0] for e in r["events"]) for r in results}
    if {r["status"] for r in results} != {200} or len(seqs) != 1:
        raise SystemExit(f"subscribers disagree: statuses {[r['status'] for r in results]}")
    ids = seqs.pop()
    if list(ids) != list(range(len(ids))) or results[0]["events"][-1][1] != "run_end":
        raise SystemExit("a stream lost or repeated events, or did not end with run_end")
    cutoff = max(r["connected"] for r in results)
    samples = [arrived - ts for r in results for _, _, ts, arrived in r["events"] if ts > cutoff]
    return samples, len(ids)


def summary(samples: list[float]) -> dict[str, float]:
    if not samples:
        raise SystemExit("no event was written after the subscribers connected")
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "samples": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def measure(base: str, runs: int, many: int) -> dict[str, Any]:
    single: list[float] = []
    fanout: list[float] = []
    events = 0
    for _ in range(runs):  # interleaved, so machine load hits both alike
        samples, events = one_run(base, 1)
        single += samples
        samples, _ = one_run(base, many)
        fanout += samples
    one, lots = summary(single), summary(fanout)
    ratio = lots["median_ms"] / one["median_ms"] if one["median_ms"] else float("inf")
    return {"one_subscriber": one, "many_subscribers": lots, "subscribers": many,
            "fanout_ratio": round(ratio, 3), "events_per_run": events, "runs": runs}  # fmt: skip


def report(result: dict[str, Any]) -> dict[str, bool]:
    one, lots = result["one_subscriber"], result["many_subscribers"]
    checks = {
        "median_le_50ms": one["median_ms"] <= TARGET_MEDIAN_S * 1000,
        "fanout_median_le_2x": result["fanout_ratio"] <= TARGET_FANOUT_RATIO,
    }
    print(f"{'subscribers':<12} {'samples':>8} {'median ms':>10} {'p99 ms':>8} {'max ms':>8}")
    for label, row in (("1", one), (str(result["subscribers"]), lots)):
        print(
            f"{label:<12} {row['samples']:>8} {row['median_ms']:>10.2f} {row['p99_ms']:>8.2f} "
            f"{row['max_ms']:>8.2f}"
        )
    print(
        f"{result['subscribers']}-subscriber median / 1-subscriber median: "
        f"{result['fanout_ratio']:.2f} (target <= {TARGET_FANOUT_RATIO:g})"
    )
    for name, ok in checks.items():
        print(f"{name}: {'ok' if ok else 'MISSED'}")
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per setting (default 5)")
    parser.add_argument("--subscribers", type=int, default=20, help="the many (default 20)")
    parser.add_argument("--subscribe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.subscribe:
        return subscriber_main()
    with tempfile.TemporaryDirectory(prefix="agentforge-bench-server-") as tmp:
        root = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}/"
        process = start_server(root, port)
        try:
            wait_ready(base, process)
            result = measure(base, args.runs, args.subscribers)
        finally:
            process.terminate()
            process.wait(30)
    checks = report(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {**result, "checks": checks, "machine": platform.platform(), "cpus": os.cpu_count()}
    RESULTS.write_text(json.dumps(record, indent=1) + "\n")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
