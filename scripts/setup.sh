#!/usr/bin/env bash
# Set up AgentForge on a fresh Debian/Ubuntu machine: system packages, a virtual environment in
# .venv, and the project with its test and train extras. Safe to run again.
#   bash scripts/setup.sh          everything the tests need (CI runs this)
#   bash scripts/setup.sh --core   only what the main job needs (no browser, no torch)
set -euo pipefail
cd "$(dirname "$0")/.."
CORE=0
if [ "${1:-}" = "--core" ]; then CORE=1; fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    # bubblewrap: the sandbox's isolation; util-linux: setpriv, to drop root inside it.
    if ! command -v bwrap >/dev/null 2>&1 || ! command -v setpriv >/dev/null 2>&1; then
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq bubblewrap util-linux >/dev/null
    fi
    # chromium: the browser tests (Playwright drives Debian's build; it cannot download its own).
    # nodejs/npm: building the JupyterLab extension from labextension/.
    if [ "$CORE" = 0 ] && ! command -v chromium >/dev/null 2>&1; then
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq chromium >/dev/null
    fi
    if ! command -v npm >/dev/null 2>&1; then
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq nodejs npm >/dev/null
    fi
else
    echo "setup: no apt-get; install bubblewrap yourself for full sandbox isolation" >&2
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# The lab extension's node packages, exactly as locked; the install below builds the extension
# (jupyter-builder, from @jupyter/builder) and puts it under .venv/share/jupyter/labextensions.
if [ ! labextension/node_modules/.package-lock.json -nt labextension/package-lock.json ]; then
    (cd labextension && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ "$CORE" = 1 ]; then
    .venv/bin/python -m pip install -q -e .
else
    # torch first, pinned: the CPU wheel; an unpinned torch would pull a multi-GB CUDA build.
    .venv/bin/python -m pip install -q torch==2.13.0
    .venv/bin/python -m pip install -q -e ".[test,train]"
fi
echo "setup: done ($(.venv/bin/agentforge --version))"
