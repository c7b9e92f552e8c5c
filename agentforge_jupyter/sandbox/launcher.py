"""The first Python that runs inside the sandbox: limits, exec denial, then the kernel.

Invoked as `python -m agentforge_jupyter.sandbox.launcher --limits JSON [--deny-exec]
[--seccomp required|best-effort|off] -- <ipykernel arguments>`. Only the standard library and
ipykernel are imported here, and the package __init__ files are kept lazy, so this costs little
at start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys

_RLIMITS = {
    "as": resource.RLIMIT_AS,
    "cpu": resource.RLIMIT_CPU,
    "nofile": resource.RLIMIT_NOFILE,
    "fsize": resource.RLIMIT_FSIZE,
    "nproc": resource.RLIMIT_NPROC,
}


def apply_rlimits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        if value is None:
            continue
        kind = _RLIMITS[name]
        hard = resource.getrlimit(kind)[1]
        # CPU: the soft limit sends SIGXCPU (fatal), the hard one a few seconds later SIGKILL.
        wanted_hard = value + 5 if name == "cpu" else value
        if hard != resource.RLIM_INFINITY:
            wanted_hard = min(wanted_hard, hard)
        resource.setrlimit(kind, (min(value, wanted_hard), wanted_hard))


SECCOMP_MODES = ("required", "best-effort", "off")


def load_seccomp(mode: str, deny_exec: bool) -> None:
    """`required` stops the kernel from starting without the filter; `best-effort` (reduced
    isolation) says loudly in the kernel log that it runs without one."""
    if mode == "off":
        return
    from agentforge_jupyter.sandbox.seccomp import SeccompUnavailable, load_filter

    try:
        load_filter(deny_exec=deny_exec)
    except SeccompUnavailable as exc:
        if mode == "required":
            sys.exit(f"agentforge sandbox: seccomp filter required but not loaded: {exc}")
        print(f"agentforge sandbox: REDUCED isolation, no seccomp filter: {exc}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="agentforge-sandbox-launcher")
    parser.add_argument("--limits", default="{}")
    parser.add_argument("--deny-exec", action="store_true")
    parser.add_argument("--seccomp", choices=SECCOMP_MODES, default="required")
    parser.add_argument("kernel_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    apply_rlimits(json.loads(args.limits))
    # The kernel must not find its way back to the process that started it.
    os.environ.pop("JPY_PARENT_PID", None)
    load_seccomp(args.seccomp, args.deny_exec)
    kernel_args = [a for a in args.kernel_args if a != "--"]
    sys.argv = ["ipykernel_launcher", *kernel_args]
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()


if __name__ == "__main__":
    main()
