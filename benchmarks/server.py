"""Server extension benchmark: how long an event written by a run takes to reach an SSE client.

    python benchmarks/server.py [--runs N] [--subscribers N]

Starts a real `jupyter server` (loopback, token, temporary state directory), starts offline
runs through `POST /agentforge/api/runs` and follows `GET .../events` with one subscriber, then
with 20 at once: the same handler, broadcast and HTTP path the side panel uses.

Each subscriber is a process of its own (as each user's browser is) that reads its socket with
plain blocking `recv`; parsing waits until the stream has ended. Every read keeps two times:

* arrival: the kernel's receive time stamp of the read's last segment (SO_TIMESTAMPNS), the
  moment the bytes reached the subscriber's socket; the targets are checked on this;
* read: when `recv` returned them to the subscriber process, which adds that process's own
  scheduling.

Subscribers run under SCHED_IDLE. Browsers run on other machines; here 20 subscriber processes
share the server's few cores, and at normal priority each one woken by a send would preempt the
server in the middle of its fan-out, so the figure would measure this machine's scheduler rather
than the server. (The read column still shows what they see.)

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
import selectors
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "server.json"
TOKEN = "agentforge-benchmark"
GOAL = "Which region drove Q3 revenue growth, and is it seasonal?"
TARGET_MEDIAN_S = 0.050
TARGET_FANOUT_RATIO = 2.0
#: Linux: ask for a receive time stamp on every read (SCM_TIMESTAMPNS == SO_TIMESTAMPNS).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_DATA = re.compile(rb"^data: (.*)\n\n", re.MULTILINE)


# ----- subscribers (processes of their own) ------------------------------------------------
class Stream:
    """One subscriber's connection: everything it reads, with two times per read."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.sendall(
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n"
            f"Authorization: token {TOKEN}\r\nConnection: close\r\n\r\n".encode()
        )
        self.sock.setblocking(False)
        self.arrivals: list[float] = []  # kernel receive time of each read's last segment
        self.reads: list[float] = []  # when the read returned to this process
        self.ends: list[int] = []  # buffer length after each read
        self.buffer = bytearray()

    def read(self) -> bool:
        """Take what the socket has; False once the server has closed the stream."""
        chunk, ancillary, _, _ = self.sock.recvmsg(1 << 16, socket.CMSG_SPACE(16))
        now = time.time()
        if not chunk:
            self.sock.close()
            return False
        self.buffer += chunk
        self.reads.append(now)
        self.arrivals.append(_receive_time(ancillary, now))
        self.ends.append(len(self.buffer))
        return True

    def result(self) -> dict[str, Any]:
        head_end = self.buffer.find(b"\r\n\r\n")
        status = int(self.buffer.split(b" ", 2)[1])
        at = self._read_index
        connected = self.arrivals[at(head_end + 4)] if head_end >= 0 else None
        events = []
        for match in _DATA.finditer(self.buffer, head_end + 4):
            record = json.loads(match.group(1))
            index = at(match.end())
            events.append(
                [record["seq"], record["type"], record["ts"], self.arrivals[index],
                 self.reads[index], len(match.group(0))]
            )  # fmt: skip
        return {"status": status, "connected": connected, "events": events}

    def _read_index(self, end: int) -> int:
        """The read that brought the byte before `end`."""
        return bisect.bisect_left(self.ends, end)


def follow(urls: list[str]) -> list[dict[str, Any]]:
    """Follow every stream to its end; parsing waits until all have ended."""
    streams = [Stream(url) for url in urls]
    with selectors.DefaultSelector() as selector:
        for stream in streams:
            selector.register(stream.sock, selectors.EVENT_READ, stream)
        while selector.get_map():
            for key, _ in selector.select():
                if not key.data.read():
                    selector.unregister(key.fileobj)
    return [stream.result() for stream in streams]


def _receive_time(ancillary: list[tuple[int, int, bytes]], fallback: float) -> float:
    """The SCM_TIMESTAMPNS time stamp of a read (a `struct timespec`, wall clock)."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return seconds + nanoseconds / 1e9
    return fallback


def subscriber_main() -> int:
    print("ready", flush=True)  # started: the run may begin
    line = sys.stdin.readline().split()  # "URL COUNT", sent once the run exists
    json.dump(follow([line[0]] * int(line[1])), sys.stdout)
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


Samples = dict[str, list[float]]  # "arrival" and "read" delays, seconds
LABELS = {
    "arrival": "arrival at the subscriber's socket",
    "read": "read by the subscriber process",
}
Source = Callable[[int], str]  # starts what the subscribers follow; returns its events URL
Profile = list[tuple[float, int]]  # each event's time and size, as a server run wrote them


def one_run(source: Source, subscribers: int, processes: int) -> tuple[Samples, Profile]:
    """One stream followed by `subscribers` connections spread over `processes` processes; the
    delays of the events written after the last of them connected, and the number of events."""
    command = [sys.executable, str(Path(__file__).resolve()), "--subscribe"]
    shares = [len(range(i, subscribers, processes)) for i in range(min(processes, subscribers))]
    procs = [
        subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in shares
    ]
    try:
        # Started processes only: otherwise the later ones would connect when the run is half
        # over, and the two settings would be compared on different events.
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit("a subscriber process did not start")
        url = source(subscribers)
        for proc, share in zip(procs, shares, strict=True):
            assert proc.stdin is not None
            proc.stdin.write(f"{url} {share}\n")
            proc.stdin.flush()
        results = [r for proc in procs for r in json.loads(proc.communicate(timeout=300)[0])]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    return check_and_collect(results)


def server_run(base: str) -> Source:
    """An offline run through the server: what the side panel follows."""

    def start(_subscribers: int) -> str:
        run = call(base, "runs", {"goal": GOAL, "dataset": "sales_q3", "brain": "offline"})
        return f"{base}agentforge/api/runs/{run['id']}/events"

    return start


def bare_loop(profile: Profile) -> Source:
    """The floor on this machine: a bare Python loop replays a server run's events (the same
    sizes at the same moments) over the subscribers' raw sockets: no Jupyter, no run, nothing
    else in the process."""

    def start(subscribers: int) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=serve, args=(listener, subscribers), daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/events"

    def serve(listener: socket.socket, subscribers: int) -> None:
        connections = []
        with listener:
            for _ in range(subscribers):
                connection, _ = listener.accept()
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                while not connection.recv(4096).endswith(b"\r\n\r\n"):
                    pass
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
                connections.append(connection)
        time.sleep(0.05)  # every subscriber has seen the head: all later events count
        start, first = time.monotonic(), profile[0][0]
        for seq, (ts, size) in enumerate(profile):
            time.sleep(max(0.0, (ts - first) - (time.monotonic() - start)))
            kind = "run_end" if seq == len(profile) - 1 else "output"
            record = json.dumps({"seq": seq, "type": kind, "ts": time.time(), "pad": ""})
            message = f"id: {seq}\ndata: {record}\n\n"
            message = message.replace('"pad": ""', f'"pad": "{"x" * (size - len(message))}"')
            for connection in connections:
                connection.sendall(message.encode())
        for connection in connections:
            connection.close()

    return start


def check_and_collect(results: list[dict[str, Any]]) -> tuple[Samples, Profile]:
    seqs = {tuple(e[0] for e in r["events"]) for r in results}
    if {r["status"] for r in results} != {200} or len(seqs) != 1:
        raise SystemExit(f"subscribers disagree: statuses {[r['status'] for r in results]}")
    ids = seqs.pop()
    if list(ids) != list(range(len(ids))) or results[0]["events"][-1][1] != "run_end":
        raise SystemExit("a stream lost or repeated events, or did not end with run_end")
    cutoff = max(r["connected"] for r in results)
    kept = [event for r in results for event in r["events"] if event[2] > cutoff]
    samples = {
        "arrival": [event[3] - event[2] for event in kept],
        "read": [event[4] - event[2] for event in kept],
    }
    return samples, [(event[2], event[5]) for event in results[0]["events"]]


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


def measure(base: str, runs: int, many: int, processes: int) -> dict[str, Any]:
    """Runs through the server and the bare loop, 1 and `many` subscribers, interleaved so that
    machine load hits every setting alike."""
    profile: Profile = []  # the latest server run's, replayed by the bare loop
    sources = {"server": server_run(base), "bare_loop": bare_loop(profile)}
    samples: dict[tuple[str, int], Samples] = {
        (name, count): {label: [] for label in LABELS} for name in sources for count in (1, many)
    }
    events = 0
    for _ in range(runs):
        for (name, count), into in samples.items():  # the server's runs come first
            got, written = one_run(sources[name], count, processes)
            if name == "server":
                profile[:], events = written, len(written)
            for label in LABELS:
                into[label] += got[label]
    result: dict[str, Any] = {"subscribers": many, "processes": min(processes, many),
                              "events_per_run": events, "runs": runs}  # fmt: skip
    for name in sources:
        result[name] = {}
        for label in LABELS:
            one, lots = summary(samples[name, 1][label]), summary(samples[name, many][label])
            ratio = lots["median_ms"] / one["median_ms"] if one["median_ms"] else float("inf")
            added = lots["median_ms"] - one["median_ms"]
            result[name][label] = {"one_subscriber": one, "many_subscribers": lots,
                                   "fanout_ratio": round(ratio, 3),
                                   "fanout_added_ms": round(added, 3)}  # fmt: skip
    return result


def report(result: dict[str, Any]) -> dict[str, bool]:
    arrival = result["server"]["arrival"]
    checks = {
        "median_le_50ms": arrival["one_subscriber"]["median_ms"] <= TARGET_MEDIAN_S * 1000,
        "fanout_median_le_2x": arrival["fanout_ratio"] <= TARGET_FANOUT_RATIO,
    }
    many = result["subscribers"]
    print(f"{'source':<10} {'delay to':<8} {'subs':>5} {'samples':>8} {'median ms':>10} "
          f"{'p99 ms':>8} {'max ms':>8} {'ratio':>6} {'added ms':>9}")  # fmt: skip
    for source in ("server", "bare_loop"):
        for label in LABELS:
            part = result[source][label]
            for count, row in ((1, part["one_subscriber"]), (many, part["many_subscribers"])):
                extra = (f"{part['fanout_ratio']:>6.2f} {part['fanout_added_ms']:>9.3f}"
                         if count == many else "")  # fmt: skip
                print(
                    f"{source:<10} {label:<8} {count:>5} {row['samples']:>8} "
                    f"{row['median_ms']:>10.3f} {row['p99_ms']:>8.2f} {row['max_ms']:>8.2f} {extra}"
                )
    server_added = arrival["fanout_added_ms"]
    floor_added = result["bare_loop"]["arrival"]["fanout_added_ms"]
    result["server_vs_bare_loop_added"] = (
        round(server_added / floor_added, 3) if floor_added > 0 else None
    )
    print(
        f"{many} subscribers add {server_added:.3f} ms to the server's median arrival and "
        f"{floor_added:.3f} ms to the bare loop's (same machine, same run)"
    )
    print(
        f"targets (server, arrival): median <= {TARGET_MEDIAN_S * 1000:g} ms, "
        f"{many}-subscriber median <= {TARGET_FANOUT_RATIO:g}x the 1-subscriber median"
    )
    for name, ok in checks.items():
        print(f"{name}: {'ok' if ok else 'MISSED'}")
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per setting (default 5)")
    parser.add_argument("--subscribers", type=int, default=20, help="the many (default 20)")
    parser.add_argument(
        "--processes", type=int, default=0,
        help="subscriber processes the streams are spread over (default: one per subscriber)",
    )  # fmt: skip
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
            processes = args.processes or args.subscribers
            result = measure(base, args.runs, args.subscribers, processes)
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
