#!/usr/bin/env bash
# Run the checks CI runs: ruff (style, complexity), mypy (types), module size, then the whole
# test suite (after scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy agentforge_jupyter
.venv/bin/python scripts/check_module_size.py
.venv/bin/python -m pytest -q "$@"
