"""`agentforge eval SUITE --brain NAME [--brain NAME ...]`, `eval list`, `eval show ID`.

SUITE is `ds1000:PATH` (DS-1000's released JSONL, plain or .gz) or `dabench:DIR`. Each brain is
a registered brain or `replay:PATH.jsonl` (published answers, re-scored). Results go to
`state/evals/<id>/`; an interrupted evaluation resumes with `--resume ID`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from ..argtypes import positive_float, positive_int
from ..sanitize import terminal_text
from ._io import print_json


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "eval",
        help="run DS-1000 or DABench through brains and compare them",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("suite", help="ds1000:PATH | dabench:DIR | list | show")
    parser.add_argument("eval_id", nargs="?", help="with `show`: the evaluation id")
    parser.add_argument("--brain", action="append", default=[], help="a brain (repeat to compare)")
    parser.add_argument(
        "--mode",
        choices=("completion", "agent"),
        default="completion",
        help="one prompt, one answer (the benchmark's protocol) or the agent loop",
    )
    parser.add_argument("--limit", type=positive_int, help="at most N tasks")
    parser.add_argument("--library", help="DS-1000: only this library (Pandas, Numpy)")
    parser.add_argument("--level", help="DABench: only this level (easy, medium, hard)")
    parser.add_argument("--seed", type=int, help="sample --limit tasks at random with this seed")
    parser.add_argument(
        "--workers", type=positive_int, help="parallel sandboxes (default: the cores)"
    )
    parser.add_argument("--timeout", type=positive_float, default=120.0, help="seconds per task")
    parser.add_argument("--resume", metavar="ID", help="finish an interrupted evaluation")
    parser.add_argument("--out", metavar="DIR", help="also copy the results to DIR")
    parser.add_argument("--report", metavar="PATH.ipynb", help="write a notebook with the tables")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..evals import EvalError

    if args.suite == "list":
        return _list(args)
    if args.suite == "show":
        if not args.eval_id:
            raise EvalError("usage: agentforge eval show ID")
        return _finish(args, _show(args.eval_id))
    return _finish(args, _evaluate(args))


def _evaluate(args: argparse.Namespace) -> Any:
    from ..evals import run_eval
    from ..evals.service import options_from

    progress = None if args.json else _progress
    return run_eval(args.suite, args.brain, **options_from(args), on_record=progress)


def _show(eval_id: str) -> Any:
    from ..evals import show_eval

    return show_eval(eval_id)


def _progress(record: Any, done: int, total: int) -> None:
    mark = "pass" if record.passed else f"FAIL {record.error_class}".rstrip()
    line = f"[{done}/{total}] {record.brain} {record.task_id}: {mark} ({record.duration_s:.1f}s)"
    print(terminal_text(line), flush=True)


def _finish(args: argparse.Namespace, result: Any) -> int:
    from ..evals.report import write_report
    from ..evals.summary import text_report

    spec = {**result.spec.to_dict(), "id": result.id}
    if args.report:
        write_report(result.summary, spec, args.report)
    if args.out:
        _copy_out(result, Path(args.out))
    if args.json:
        print_json({"id": result.id, "spec": spec, "summary": result.summary})
    else:
        print(terminal_text(f"evaluation {result.id} ({result.spec.suite}, {result.spec.mode})"))
        print(terminal_text(text_report(result.summary)))
    return 0


def _copy_out(result: Any, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("spec.json", "results.jsonl", "summary.json"):
        source = result.store.dir / name
        if source.is_file():
            shutil.copyfile(source, out / name)


def _list(args: argparse.Namespace) -> int:
    from ..evals.store import EvalStore, list_ids
    from ..state import StateDir

    state = StateDir()
    rows = []
    for eval_id in list_ids(state):
        spec = EvalStore(state, eval_id).spec()
        rows.append({"id": eval_id, "suite": spec.suite, "mode": spec.mode, "brains": spec.brains})
    if args.json:
        print_json(rows)
    else:
        for row in rows:
            line = f"{row['id']}  {row['suite']}  {row['mode']}  {', '.join(row['brains'])}"
            print(terminal_text(line))
        if not rows:
            print(
                "no evaluations yet; run `agentforge eval ds1000:PATH --brain NAME`",
                file=sys.stderr,
            )
    return 0
