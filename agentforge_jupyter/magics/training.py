"""Training magics: ``%agent_train``, ``%agent_jobs``, ``%agent_train_data``.

    %agent_train --base-model DIR_OR_ID --data train.jsonl --steps 100 [--name NAME]
    %agent_jobs              # the jobs, newest first
    %agent_jobs JOB_ID       # re-attach: the live monitor of one job
    %agent_train_data --out train.jsonl [--status ok] [--brain NAME] [--eval-fraction 0.1]

Registered by ``%load_ext agentforge_jupyter``. A failure raises a one-line UsageError, so a
headless notebook run fails instead of passing with nothing in it.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..argtypes import fraction, positive_float, positive_int
from ..errors import AgentForgeError
from ..state import StateDir
from .base import StateMagics, help_flag, parse_line

__all__ = ["TrainingMagics"]


@magics_class
class TrainingMagics(StateMagics):
    def _state(self) -> StateDir:
        return self.store()

    @magic_arguments()
    @help_flag()
    @argument("--base-model", required=True, help="Hugging Face id or model directory")
    @argument("--data", help="JSONL training data (omit with --from-runs)")
    @argument("--from-runs", action="store_true", help="train on examples from accepted runs")
    @argument("--eval-data", help="held-out JSONL")
    @argument("--name", help="job name; the brain's name when it completes")
    @argument("--backend", default="local", choices=("local", "runpod"))
    @argument("--endpoint", help="RunPod endpoint id")
    @argument("--steps", type=positive_int)
    @argument("--epochs", type=positive_float)
    @argument("--lr", type=positive_float, default=2e-4)
    @argument("--rank", type=positive_int, default=8)
    @argument("--alpha", type=positive_float, default=16.0)
    @argument("--dropout", type=fraction, default=0.05)
    @argument("--target-modules", help="comma-separated, e.g. q_proj,v_proj")
    @argument("--batch-size", type=positive_int, default=4)
    @argument("--max-seq-len", type=positive_int, default=1024)
    @argument("--seed", type=int, default=0)
    @line_magic
    def agent_train(self, line: str) -> Any:
        """Start a LoRA training job and show its live monitor."""
        args = parse_line(self.agent_train, line)
        if args is None:
            return None
        from ..training import TrainingJobs
        from ..training.spec import spec_from_options
        from ..widgets.training import TrainingMonitor

        try:
            spec = spec_from_options(args)
            if args.from_runs:
                spec.update(self._from_runs())
            elif not args.data:
                raise AgentForgeError("give --data PATH.jsonl, or --from-runs")
            state = self._state()
            job_id = TrainingJobs(state).start(
                spec, backend=args.backend, endpoint_id=args.endpoint
            )
        except AgentForgeError as exc:
            raise UsageError(f"%agent_train: {exc}") from exc
        return TrainingMonitor(job_id, state=state)  # displayed as the cell's value

    def _from_runs(self) -> dict[str, Any]:
        import time

        from ..training.from_runs import write_training_data

        state = self._state()
        out = state.training_dir / f"data-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        report = write_training_data(out, state=state)
        found = {"data": report.train_path}
        if report.eval_path:
            found["eval_data"] = report.eval_path
        return found

    @magic_arguments()
    @help_flag()
    @argument("job_id", nargs="?", help="show this job's monitor (re-attaches to a running job)")
    @line_magic
    def agent_jobs(self, line: str) -> Any:
        """List training jobs, or re-attach to one."""
        args = parse_line(self.agent_jobs, line)
        if args is None:
            return None
        from ..training import TrainingJobs
        from ..widgets.training import TrainingMonitor

        state = self._state()
        try:
            if args.job_id:
                return TrainingMonitor(args.job_id, state=state)
            jobs = TrainingJobs(state).list()
        except AgentForgeError as exc:
            raise UsageError(f"%agent_jobs: {exc}") from exc
        from IPython.display import HTML

        from ..render import html_table

        rows = [
            [
                j["id"],
                j.get("name") or "",
                j.get("status"),
                j.get("backend"),
                f"{j.get('step') or 0}/{j.get('max_steps') or '?'}",
                "" if j.get("loss") is None else f"{j['loss']:.4f}",
                j.get("brain") or "",
            ]
            for j in jobs
        ]
        header = ["id", "name", "status", "backend", "step", "loss", "brain"]
        return HTML(html_table(header, rows, caption="training jobs"))

    @magic_arguments()
    @help_flag()
    @argument("--out", required=True, help="training JSONL; held-out examples go beside it")
    @argument("--status", default="ok", help="run status to keep ('any' for all)")
    @argument("--brain", help="only runs made by this brain")
    @argument("--since", help="only runs started on or after this date")
    @argument("--eval-fraction", type=float, default=0.1)
    @argument("--seed", type=int, default=0)
    @line_magic
    def agent_train_data(self, line: str) -> Any:
        """Write training data from finished runs; returns the report as a dict."""
        args = parse_line(self.agent_train_data, line)
        if args is None:
            return None
        from ..training.from_runs import write_training_data

        try:
            report = write_training_data(
                args.out,
                state=self._state(),
                status=None if args.status == "any" else args.status,
                brain=args.brain,
                since=args.since,
                eval_fraction=args.eval_fraction,
                seed=args.seed,
            )
        except AgentForgeError as exc:
            raise UsageError(f"%agent_train_data: {exc}") from exc
        print(
            f"{report.train} training and {report.eval} held-out example(s) from "
            f"{report.runs} run(s): {report.train_path}"
        )
        return report.to_dict()
