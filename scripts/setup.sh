#!/usr/bin/env bash
# Set up AgentForge on a fresh Debian/Ubuntu machine: system packages, a virtual environment in
# .venv, and the project with its test extra. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    # bubblewrap: the sandbox's isolation; util-linux: setpriv, to drop root inside it.
    if ! command -v bwrap >/dev/null 2>&1 || ! command -v setpriv >/dev/null 2>&1; then
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq bubblewrap util-linux >/dev/null
    fi
else
    echo "setup: no apt-get; install bubblewrap yourself for full sandbox isolation" >&2
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch first, pinned: the CPU wheel; an unpinned torch would pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e ".[test,train]"
echo "setup: done ($(.venv/bin/agentforge --version))"
