"""Sandbox settings, as traitlets so they can live in ipython_config.py / jupyter config files."""

from __future__ import annotations

from traitlets import Bool, Enum, Float, Int, List, Unicode
from traitlets.config import Configurable


class SandboxConfig(Configurable):
    """How the sandbox kernel is isolated and limited (`c.SandboxConfig.memory_mb = 4096`)."""

    isolation = Enum(
        ["auto", "full", "none"],
        default_value="auto",
        help="'full' requires bubblewrap and fails without it; 'none' runs a plain local kernel "
        "with rlimits and a clean environment (reduced isolation); 'auto' uses full isolation "
        "when bubblewrap works and otherwise falls back to reduced isolation with a warning.",
    ).tag(config=True)
    workspace = Unicode(
        "",
        help="Host directory the code sees read-write as its working directory. Empty: a new "
        "private temporary directory per sandbox, removed at shutdown.",
    ).tag(config=True)
    datasets_dir = Unicode(
        "",
        help="Host directory of dataset files, mounted read-only as data/ in the workspace. "
        "Deprecated: prefer dataset_files, which mounts only the files a run uses.",
    ).tag(config=True)
    dataset_files = List(
        Unicode(),
        help="Host dataset files, each mounted read-only at data/<file name> in the workspace; "
        "nothing else of their directories is visible. Takes precedence over datasets_dir.",
    ).tag(config=True)
    tools_dir = Unicode(
        "",
        help="Host directory holding the generated `agentforge_tools` package of verified tools; "
        "mounted read-only and put on the kernel's sys.path.",
    ).tag(config=True)
    memory_mb = Int(4096, help="Address-space limit of the kernel process, in MiB.").tag(
        config=True
    )
    cpu_seconds = Int(
        3600, help="CPU-time limit of one kernel's life, in seconds; exceeding it kills the kernel."
    ).tag(config=True)
    max_file_mb = Int(1024, help="Largest file the code may write, in MiB.").tag(config=True)
    max_open_files = Int(256, help="Open file descriptor limit of the kernel.").tag(config=True)
    max_processes = Int(
        512,
        help="Process and thread limit (RLIMIT_NPROC) for the sandbox user; stops fork bombs.",
    ).tag(config=True)
    tmp_mb = Int(256, help="Size of the sandbox's private /tmp (tmpfs), in MiB.").tag(config=True)
    disk_mb = Int(
        2048,
        help="Total the sandbox may write to the host, in MiB: its workspace, outbox, IPC "
        "directory and kernel log share one size-limited tmpfs (needs root; otherwise only "
        "the per-file limit applies). A configured `workspace` lies outside the cap. 0: no cap.",
    ).tag(config=True)
    max_message_mb = Int(
        16,
        help="Largest single message frame the host accepts from the kernel, in MiB "
        "(ZeroMQ MAXMSGSIZE); a kernel that sends more is killed and the execution is `limit`.",
    ).tag(config=True)
    receive_queue = Int(
        16,
        help="Messages the host queues per channel before the kernel has to wait (ZeroMQ "
        "RCVHWM); with max_message_mb this bounds the host memory a kernel can fill "
        "(16 x 16 MiB per channel by default).",
    ).tag(config=True)
    drain_seconds = Float(
        1.0,
        help="After the kernel's execute_reply, how long outputs still in flight are collected.",
    ).tag(config=True)
    max_parquet_rows = Int(
        50_000_000,
        help="DataFrames coming back with more rows (from the Parquet metadata) are refused.",
    ).tag(config=True)
    max_parquet_columns = Int(
        10_000, help="DataFrames coming back with more columns are refused."
    ).tag(config=True)
    deny_exec = Bool(
        True,
        help="Make execve/execveat fail in the sandbox's seccomp filter (the rest of the "
        "filter is always loaded where seccomp exists).",
    ).tag(config=True)
    sandbox_uid = Int(
        -1,
        help="Unprivileged user id the kernel runs as when AgentForge runs as root. -1 picks "
        "an unused id per sandbox from 200000-299999, so that one sandbox's processes never "
        "count against another's process limit.",
    ).tag(config=True)
    default_timeout = Float(60.0, help="Wall-clock limit of one execution, in seconds.").tag(
        config=True
    )
    interrupt_grace = Float(
        3.0, help="Seconds to wait after an interrupt before the kernel is killed and restarted."
    ).tag(config=True)
    startup_timeout = Float(60.0, help="Seconds to wait for a kernel to start.").tag(config=True)
    max_output_chars = Int(
        100_000, help="stdout and stderr are each kept up to this many characters."
    ).tag(config=True)
    max_displays = Int(50, help="Rich outputs kept per execution.").tag(config=True)
    max_png_bytes = Int(5_000_000, help="Largest PNG kept, in bytes.").tag(config=True)
    max_transfer_mb = Int(
        1024, help="Largest file or DataFrame moved across the boundary, in MiB."
    ).tag(config=True)
    extra_ro_paths = List(
        Unicode(),
        help="Further host paths mounted read-only at the same place (e.g. a shared font dir).",
    ).tag(config=True)
    pass_env = List(
        Unicode(),
        default_value=["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TZ"],
        help="Host environment variables copied into the sandbox when set. Secrets never are: "
        "names containing KEY, TOKEN, SECRET, PASSWORD or CREDENTIAL are refused.",
    ).tag(config=True)

    def rlimits(self) -> dict[str, int]:
        return {
            "as": self.memory_mb * 2**20,
            "cpu": self.cpu_seconds,
            "nofile": self.max_open_files,
            "fsize": self.max_file_mb * 2**20,
            "nproc": self.max_processes,
        }
