"""DS-1000 (Pandas + NumPy) with the benchmark's own execution protocol, runnable anywhere.

The same runner source executes in a plain Python process and in the sandbox kernel: it forks one
child per problem (a fresh process, as the official protocol asks, without paying for a new
interpreter and a pandas import 511 times), runs `exec(program, {})` in a new temporary working
directory with output discarded, and reports pass (exit 0) or fail.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

RUNNER = r"""
import json, os, shutil, signal, sys, tempfile
import numpy, pandas  # imported once in the parent, as any analysis kernel would have them


def _ds1000_one(program, timeout):
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            workdir = tempfile.mkdtemp()
            os.chdir(workdir)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            sys.stdout = sys.stderr = open(os.devnull, "w")
            signal.alarm(timeout)
            exec(program, {})
            code = 0
        except BaseException:
            code = 1
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def ds1000_batch(path, start, stop, timeout=120):
    with open(path) as handle:
        problems = json.load(handle)[start:stop]
    return {str(p["id"]): _ds1000_one(p["program"], timeout) for p in problems}
"""


def load_problems(shared: Path) -> list[dict[str, Any]]:
    path = shared / "data" / "ds1000" / "ds1000-pandas-numpy.jsonl.gz"
    with gzip.open(path, "rt") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def program_for(problem: dict[str, Any]) -> str:
    """The official protocol, with the reference solution as the answer."""
    context = problem["code_context"]
    answer = problem["reference_code"]
    return (
        context
        + "\n"
        + f"code = {answer!r}\n"
        + "test_execution(code)\n"
        + ("test_string(code)\n" if "test_string(" in context else "\n")
    )


def write_programs(problems: list[dict[str, Any]], path: Path) -> None:
    records = [{"id": p["metadata"]["problem_id"], "program": program_for(p)} for p in problems]
    path.write_text(json.dumps(records))


PLAIN_MAIN = (
    RUNNER
    + r"""
if __name__ == "__main__":
    results = ds1000_batch(sys.argv[1], 0, None)
    with open(sys.argv[2], "w") as handle:
        json.dump(results, handle)
"""
)
