"""DS-1000 exactly as its authors run it: the problem's own harness, one fresh process each.

A task passes when `code_context` followed by `test_execution(code)` (and `test_string(code)`
where the context defines it) raises nothing. The harness is the benchmark's trusted code (it
calls `exec` itself), so it is never linted; the answer is untrusted and only ever runs inside
the sandbox kernel, in a forked child with a time limit and output discarded.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

from .tasks import EvalError, Task

# Defined in the sandbox kernel before each task (cheap; survives a kernel restart that way).
# A forked child runs the program in a new temporary directory, reports the exception class
# through a pipe, and is killed by SIGALRM at the time limit.
RUNNER = r"""
import os as _os, shutil as _shutil, signal as _signal, sys as _sys, tempfile as _tempfile

def _ds1000_one(program, timeout):
    read_end, write_end = _os.pipe()
    pid = _os.fork()
    if pid == 0:
        _os.close(read_end)
        error = ""
        try:
            workdir = _tempfile.mkdtemp()
            _os.chdir(workdir)
            devnull = _os.open(_os.devnull, _os.O_WRONLY)
            _os.dup2(devnull, 1)
            _os.dup2(devnull, 2)
            _sys.stdout = _sys.stderr = open(_os.devnull, "w")
            _signal.alarm(timeout)
            exec(program, {})
        except BaseException as exc:
            error = type(exc).__name__ or "Exception"
        finally:
            _os.write(write_end, error.encode()[:200])
            _os._exit(1 if error else 0)
    _os.close(write_end)
    with _os.fdopen(read_end, "rb") as pipe:
        error = pipe.read().decode(errors="replace")
    _, status = _os.waitpid(pid, 0)
    if _os.WIFSIGNALED(status):
        sig = _os.WTERMSIG(status)
        error = "Timeout" if sig == _signal.SIGALRM else f"Killed({_signal.Signals(sig).name})"
    elif _os.WEXITSTATUS(status) != 0 and not error:
        error = "Exit"
    return error
"""


def load_ds1000(path: str | Path) -> list[Task]:
    """The problems of a DS-1000 release file (JSONL, plain or .gz), in file order."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise EvalError(
            f"DS-1000 file {str(source)!r} not found: pass ds1000:PATH to a .jsonl(.gz)."
        )
    opener = gzip.open if source.suffix == ".gz" else open
    tasks = []
    with opener(source, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                tasks.append(_task(_record(line, number, source), number, source))
    if not tasks:
        raise EvalError(f"{source} holds no DS-1000 problems.")
    return tasks


def _record(line: str, number: int, source: Path) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EvalError(f"{source} line {number}: not JSON ({exc.msg}).") from exc
    if not isinstance(data, dict):
        raise EvalError(f"{source} line {number}: a problem must be a JSON object.")
    for key in ("prompt", "reference_code", "code_context", "metadata"):
        if key not in data:
            raise EvalError(f"{source} line {number}: field {key!r} is missing.")
    return data


def _task(data: dict[str, Any], number: int, source: Path) -> Task:
    metadata = data["metadata"] if isinstance(data["metadata"], dict) else {}
    if "problem_id" not in metadata:
        raise EvalError(f"{source} line {number}: metadata.problem_id is missing.")
    return Task(
        suite="ds1000",
        id=str(metadata["problem_id"]),
        prompt=str(data["prompt"]),
        category=str(metadata.get("library", "unknown")),
        payload={"code_context": str(data["code_context"]), "reference": data["reference_code"]},
    )


def program_for(task: Task, answer: str) -> str:
    """The official protocol: the harness, the answer as a literal, then the tests."""
    context = task.payload["code_context"]
    return (
        context
        + "\n"
        + f"code = {answer!r}\n"
        + "test_execution(code)\n"
        + ("test_string(code)\n" if "test_string(" in context else "\n")
    )


_FENCE_RE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)


def postprocess(reply: str) -> str:
    """A model's reply as DS-1000 scores it: code up to `</code>`, fences and markers removed."""
    fenced = _FENCE_RE.search(reply)
    code = fenced.group(1) if fenced else reply
    for stop in ("</code>", "# SOLUTION END", "END SOLUTION"):
        code = code.split(stop)[0]
    return code.replace("<code>", "").replace("BEGIN SOLUTION", "").rstrip() + "\n"


def task_code(task: Task, answer: str, timeout: int) -> str:
    """What the sandbox runs for one task: the runner, then one call that prints the verdict."""
    program = program_for(task, answer)
    return f"{RUNNER}\nprint(repr(_ds1000_one({program!r}, {int(timeout)})))\n"
