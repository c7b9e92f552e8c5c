#!/usr/bin/env bash
# The main job on a fresh machine: set up, then analyse the sample dataset with the embedded
# offline brain (no key, no network) and export a notebook that re-runs without AgentForge.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --core
mkdir -p exports
.venv/bin/agentforge analyze \
    "Which region drove Q3 revenue growth, and is it seasonal?" \
    --dataset sales_q3 --brain offline --export exports/q3-analysis.ipynb "$@"
