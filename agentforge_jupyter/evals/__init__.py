"""`agentforge eval`: published benchmarks run through AgentForge, brain against brain.

from agentforge_jupyter.evals import run_eval
summary = run_eval("ds1000:ds1000.jsonl.gz", ["replay:answers.jsonl", "offline"], limit=20)
"""

from __future__ import annotations

from .service import EvalResult, brains_for, run_eval, show_eval
from .tasks import EvalError, Task, TaskRecord

__all__ = ["EvalError", "EvalResult", "Task", "TaskRecord", "brains_for", "run_eval", "show_eval"]
