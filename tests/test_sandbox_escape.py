"""Every escape-corpus payload, run with the linter OFF, has no effect on the host.

The sandbox is the boundary. For each payload we watch: a host file outside the workspace that
must not appear, a secret file whose text must not be printed, a loopback TCP listener and a
host Unix socket that must not be reached, a secret API key in the parent's environment that
must not be printed, and processes that must not survive. After every payload the sandbox must
still compute 1+1.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from agentforge_jupyter.sandbox import SyncSandbox
from agentforge_jupyter.sandbox.processes import running, tree
from agentforge_jupyter.sandbox.result import TEXT

from .conftest import shared_dir

SECRET_KEY = "sk-test-escape-9f8e7d6c5b4a"
SECRET_TEXT = "host-secret-text-5c1d"


def load_corpus() -> list[dict[str, str]]:
    path = shared_dir() / "security" / "escape-corpus.json"
    return json.loads(path.read_text()) if path.exists() else []


@dataclass
class Listener:
    """Counts connections made to a socket on the host."""

    server: socket.socket
    hits: list[bytes] = field(default_factory=list)

    def serve(self) -> None:
        self.server.settimeout(0.2)
        while self.server.fileno() != -1:
            try:
                conn, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.hits.append(conn.recv(100) or b"<connected>")
                except OSError:
                    self.hits.append(b"<connected>")

    def close(self) -> None:
        self.server.close()


def start(server: socket.socket) -> Listener:
    server.listen(8)
    listener = Listener(server)
    threading.Thread(target=listener.serve, daemon=True).start()
    return listener


@dataclass
class Host:
    file: Path
    secret_file: Path
    tcp: Listener
    unix: Listener
    unix_path: Path

    def fill(self, code: str) -> str:
        return (
            code.replace("{HOST_FILE}", str(self.file))
            .replace("{HOST_SECRET_FILE}", str(self.secret_file))
            .replace("{HOST_PORT}", str(self.tcp.server.getsockname()[1]))
            .replace("{HOST_SOCKET}", str(self.unix_path))
        )


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    root = tmp_path_factory.mktemp("host")
    secret_file = root / "secret.txt"
    secret_file.write_text(SECRET_TEXT)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    unix_path = root / "host.sock"
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(str(unix_path))
    host = Host(root / "escaped", secret_file, start(tcp), start(unix), unix_path)
    yield host
    host.tcp.close()
    host.unix.close()


@pytest.fixture(scope="module")
def sandbox(full_isolation_module: None) -> Iterator[SyncSandbox]:
    os.environ["OPENAI_API_KEY"] = SECRET_KEY
    try:
        with SyncSandbox(isolation="full", default_timeout=8.0, max_file_mb=64) as sb:
            yield sb
    finally:
        os.environ.pop("OPENAI_API_KEY", None)


@pytest.fixture(scope="module")
def full_isolation_module() -> None:
    from agentforge_jupyter.sandbox.isolation import detect_isolation

    from .conftest import require

    require(shared_dir().is_dir(), f"shared directory not found at {shared_dir()}")
    report = detect_isolation()
    require(report.level == "full", f"full sandbox isolation unavailable: {report.reason}")


CORPUS = load_corpus()


def test_corpus_is_present() -> None:
    from .conftest import require

    require(bool(CORPUS), f"escape corpus not found under {shared_dir()}")
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("payload", CORPUS, ids=[p["id"] for p in CORPUS])
def test_payload_has_no_host_effect(payload: dict[str, str], host: Host, sandbox: SyncSandbox):
    tcp_before, unix_before = len(host.tcp.hits), len(host.unix.hits)
    result = sandbox.execute(host.fill(payload["code"]), timeout=8.0)
    everything = json.dumps(result.to_dict())

    assert not host.file.exists(), f"{payload['id']} created a host file"
    assert not Path(f"{host.file}.png").exists()
    assert SECRET_TEXT not in everything, f"{payload['id']} read a host file"
    assert SECRET_KEY not in everything, f"{payload['id']} leaked the parent's API key"
    assert len(host.tcp.hits) == tcp_before, f"{payload['id']} reached the host TCP listener"
    assert len(host.unix.hits) == unix_before, f"{payload['id']} reached the host Unix socket"
    for display in result.displays:
        assert "<script" not in str(display.data) and "onerror" not in str(display.data)

    after = sandbox.execute("1+1")
    assert [d.data for d in after.displays if d.mime == TEXT] == ["2"], payload["id"]
    # Only bubblewrap (pid 1 inside) and the kernel may remain under the sandbox's root.
    alive = [p for p in tree(sandbox.sandbox._root_pid()) if running(p.pid)]
    assert len(alive) == 3, f"{payload['id']} left processes behind: {alive}"


def test_nothing_survives_shutdown(full_isolation_module: None) -> None:
    with SyncSandbox(isolation="full") as sb:
        sb.execute("import os, time\nif os.fork() == 0:\n    time.sleep(600)\n", timeout=5)
        pids = [p.pid for p in tree(sb.sandbox._root_pid())]
    assert [pid for pid in pids if running(pid)] == []


REDIRECT = """
import os, glob
for path in glob.glob({ipc!r} + '/*'):
    os.unlink(path)
    os.symlink({target!r}, path)
print('replaced', len(glob.glob({ipc!r} + '/*')))
"""


def test_host_never_connects_through_planted_socket_links(host: Host, sandbox: SyncSandbox):
    """The kernel's socket files are replaced by symlinks to a host socket; the host keeps
    talking to the real kernel, and after a crash and restart it never follows the links."""
    ipc = str(sandbox.sandbox.dirs.ipc)
    before = len(host.unix.hits)
    planted = sandbox.execute(REDIRECT.format(ipc=ipc, target=str(host.unix_path)))
    assert planted.stdout.startswith("replaced"), planted
    assert sandbox.execute("print('still talking')").stdout == "still talking\n"
    crashed = sandbox.execute(REDIRECT.format(ipc=ipc, target=str(host.unix_path)) + "os._exit(3)")
    assert crashed.status == "crashed"
    after = sandbox.execute("1+1")
    assert [d.data for d in after.displays if d.mime == TEXT] == ["2"]
    assert len(host.unix.hits) == before, "the host connected to the planted socket"
