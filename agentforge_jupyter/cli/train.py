"""`agentforge train start|list|status|logs|cancel|data` and `agentforge brains add-adapter`.

`brains add-adapter` loads a trained adapter into a vLLM server and registers it as a brain. It
belongs in cli/brains.py; it is attached to the `brains` parser from here so that file stays
untouched until the integrator moves it.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ..argtypes import fraction, positive_float, positive_int
from ..sanitize import terminal_text
from ..text_table import text_table
from ..training import TERMINAL, TrainingJobs
from ..training.logtext import log_line
from ..training.spec import spec_from_options
from ._io import print_json

# `loss` is the last logged training loss (where the curve ends), `train_loss` the trainer's
# mean over the run (set when the job completes): two numbers, two names.
STATUS_FIELDS = (
    "id",
    "name",
    "status",
    "backend",
    "step",
    "max_steps",
    "loss",
    "train_loss",
    "eval_loss",
)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("train", help="train LoRA specialists (local or RunPod)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    _start_parser(sub)

    listing = sub.add_parser("list", help="list training jobs, newest first")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=list_jobs)

    status = sub.add_parser("status", help="one job's state")
    status.add_argument("id")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=job_status)

    logs = sub.add_parser("logs", help="a job's log records (--follow: until it ends)")
    logs.add_argument("id")
    logs.add_argument("--follow", "-f", action="store_true")
    logs.set_defaults(func=job_logs)

    cancel = sub.add_parser("cancel", help="cancel a queued or running job")
    cancel.add_argument("id")
    cancel.set_defaults(func=cancel_job)

    _data_parser(sub)


def _start_parser(sub: argparse._SubParsersAction) -> None:
    start = sub.add_parser("start", help="start a LoRA job; returns at once")
    start.add_argument("--base-model", required=True, help="Hugging Face id or model directory")
    start.add_argument("--data", required=True, help="JSONL: {messages} or {prompt, completion}")
    start.add_argument("--name", help="the job's name, and the brain's when it completes")
    start.add_argument("--backend", choices=("local", "runpod"), default="local")
    start.add_argument("--endpoint", help="RunPod Serverless endpoint id (backend runpod)")
    schedule = start.add_mutually_exclusive_group()
    schedule.add_argument("--steps", type=positive_int)
    schedule.add_argument("--epochs", type=positive_float)
    start.add_argument("--lr", type=positive_float, default=2e-4)
    start.add_argument("--rank", type=positive_int, default=8)
    start.add_argument("--alpha", type=positive_float, default=16.0)
    start.add_argument("--dropout", type=fraction, default=0.05)
    start.add_argument("--target-modules", help="comma-separated, e.g. q_proj,v_proj")
    start.add_argument("--batch-size", type=positive_int, default=4)
    start.add_argument("--max-seq-len", type=positive_int, default=1024)
    start.add_argument("--eval-data", help="held-out JSONL, same formats")
    start.add_argument("--seed", type=int, default=0)
    start.add_argument("--json", action="store_true", help='print {"id": ...}')
    start.set_defaults(func=start_job)


def _data_parser(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="training data from finished runs")
    data.add_argument("--from-runs", action="store_true", required=True)
    data.add_argument("--status", default="ok", help="run status to keep ('any' for all)")
    data.add_argument("--brain", help="only runs made by this brain")
    data.add_argument("--since", help="only runs started on or after this date (YYYY-MM-DD)")
    data.add_argument("--out", required=True, help="training JSONL; held-out goes beside it")
    data.add_argument("--eval-fraction", type=fraction, default=0.1)
    data.add_argument("--seed", type=int, default=0)
    data.add_argument("--json", action="store_true")
    data.set_defaults(func=make_data)


def start_job(args: argparse.Namespace) -> int:
    jobs = TrainingJobs()
    job_id = jobs.start(spec_from_options(args), backend=args.backend, endpoint_id=args.endpoint)
    if args.json:
        print_json({"id": job_id})
    else:
        print(f"started training job {job_id} ({args.backend}); follow it with")
        print(f"  agentforge train logs {job_id} --follow")
    return 0


def _status_dict(job: dict[str, Any]) -> dict[str, Any]:
    keys = (*STATUS_FIELDS, "adapter", "brain", "error", "created", "updated", "endpoint_id")
    return {k: job.get(k) for k in keys}


def list_jobs(args: argparse.Namespace) -> int:
    jobs = TrainingJobs().list()
    if args.json:
        print_json([_status_dict(j) for j in jobs])
        return 0
    rows = [
        [
            j["id"],
            terminal_text(str(j.get("name") or "")),
            j.get("status"),
            j.get("backend"),
            f"{j.get('step') or 0}/{j.get('max_steps') or '?'}",
            _num(j.get("loss")),
            j.get("brain") or "",
        ]
        for j in jobs
    ]
    print(text_table(["id", "name", "status", "backend", "step", "loss", "brain"], rows))
    return 0


def job_status(args: argparse.Namespace) -> int:
    job = TrainingJobs().get(args.id)
    if args.json:
        print_json(_status_dict(job))
        return 0
    for key, value in _status_dict(job).items():
        if value is not None:
            print(f"{key:>11}: {terminal_text(str(value))}")
    return 0


def _num(value: Any) -> str:
    return "" if value is None else f"{float(value):.4f}"


def job_logs(args: argparse.Namespace) -> int:
    jobs = TrainingJobs()
    job = jobs.get(args.id)
    started = job.get("created")
    events = jobs.follow(args.id) if args.follow else iter(jobs.events(args.id))
    for event in events:
        print(terminal_text(log_line(event, started)), flush=True)
    if not args.follow:
        return 0
    final = jobs.get(args.id)
    while final.get("status") not in TERMINAL:  # pragma: no cover - follow ends on terminal
        time.sleep(0.1)
        final = jobs.get(args.id)
    return 0 if final.get("status") == "completed" else 1


def cancel_job(args: argparse.Namespace) -> int:
    jobs = TrainingJobs()
    jobs.cancel(args.id)
    print(f"training job {args.id}: {jobs.get(args.id).get('status')}")
    return 0


def make_data(args: argparse.Namespace) -> int:
    from ..training.from_runs import write_training_data

    report = write_training_data(
        args.out,
        status=None if args.status == "any" else args.status,
        brain=args.brain,
        since=args.since,
        eval_fraction=args.eval_fraction,
        seed=args.seed,
    )
    if args.json:
        print_json(report.to_dict())
        return 0
    print(
        f"{report.train} training and {report.eval} held-out example(s) from {report.runs} "
        f"run(s) ({report.duplicates} duplicate(s) dropped): {report.train_path}"
        + (f", {report.eval_path}" if report.eval_path else "")
    )
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
