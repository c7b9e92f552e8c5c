"""Notebook widgets for training: ``TrainingMonitor(job_id)`` and ``TrainingLauncher()``.

The monitor follows the job's persisted event log (state/training/<id>/events.jsonl) in a
background thread, so it works the same for a job started a minute or a day ago: re-running the
cell after a kernel restart replays the records and goes on live. It shows the status, a
progress bar with an ETA, the loss curve (train and eval; a matplotlib PNG redrawn as records
arrive, at most every ``curve_interval`` seconds), a log tail and a cancel button. Beside the
live widget it keeps a static display (PNG + text) that is updated when the job ends, so a
saved notebook shows the final curve without a kernel.

Everything shown as HTML is escaped text.
"""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import ipywidgets as widgets

from ..render import message_html, render
from ..state import StateDir
from ..training import TERMINAL, TrainingJobs
from ..training.joblog import apply_event
from ..training.logtext import log_line

__all__ = ["TrainingLauncher", "TrainingMonitor", "loss_curve_png"]

TAIL_LINES = 12


def loss_curve_png(
    train: list[tuple[int, float]], evals: list[tuple[int, float]], title: str = ""
) -> bytes:
    """The loss curve as PNG bytes (matplotlib's Agg canvas; no pyplot state is touched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.5, 2.8), dpi=90)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    if train:
        axes.plot(*zip(*train, strict=True), label="train loss", color="#1f77b4")
    if evals:
        axes.plot(*zip(*evals, strict=True), "o--", label="eval loss", color="#d62728")
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    if title:
        axes.set_title(title, fontsize=9)
    if train or evals:
        axes.legend(loc="upper right", fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


class TrainingMonitor:
    """Live view of one training job; display it (or it displays itself as the cell's value)."""

    def __init__(
        self,
        job_id: str,
        *,
        state: StateDir | str | None = None,
        poll: float = 0.05,
        curve_interval: float = 0.5,
        start: bool = True,
    ) -> None:
        self.jobs = TrainingJobs(state if isinstance(state, StateDir) else StateDir(state))
        self.job_id = job_id
        self.job = self.jobs.get(job_id)  # raises UnknownJobError for a wrong id
        self.poll = poll
        self.curve_interval = curve_interval
        self.train: list[tuple[int, float]] = []
        self.evals: list[tuple[int, float]] = []
        self.lines: list[str] = []
        self.last_seq = -1
        self.shown_at: dict[int, float] = {}  # seq -> when it was shown (benchmarks read it)
        self._first_log: tuple[float, int] | None = None
        self._curve_drawn = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._static: Any = None
        self.error: str | None = None
        self._build()
        if start:
            self.start()

    # -- widgets

    def _build(self) -> None:
        self.header = widgets.HTML()
        self.progress = widgets.IntProgress(min=0, max=1, value=0, layout={"width": "60%"})
        self.eta = widgets.Label()
        self.curve = widgets.Image(format="png", layout={"max_width": "520px"})
        self.tail = widgets.HTML()
        self.cancel_button = widgets.Button(description="Cancel", button_style="warning")
        self.cancel_button.on_click(lambda _b: self.cancel())
        row = widgets.HBox([self.progress, self.eta, self.cancel_button])
        self.widget = widgets.VBox([self.header, row, self.curve, self.tail])
        self._refresh_header()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
        self._static = display(self.summary_bundle(), raw=True, display_id=True)
        if self._thread is not None and not self._thread.is_alive():
            self._finish()  # the job ended while the display was being built

    # -- following

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._follow, name=f"training-monitor-{self.job_id}", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.job

    def _follow(self) -> None:
        try:
            self._follow_log()
        except Exception as exc:  # shown, not lost in a thread: the widget says it stopped
            self.error = f"{type(exc).__name__}: {exc}"
            self.header.value += "<br>" + message_html("monitor stopped:", text=self.error)

    def _follow_log(self) -> None:
        # The jobs' own reader: a runner that died ends the job (and this loop) too.
        cursor = self.jobs.cursor(self.job_id, self.last_seq)
        while not self._stop.is_set():
            fresh, ended = cursor.poll()
            for event in fresh:
                self.apply(event)
            if fresh:
                self.render(force_curve=ended, seqs=[int(e["seq"]) for e in fresh])
            if ended:
                self.job = self.jobs.get(self.job_id)
                self.render(force_curve=True)
                self._finish()
                return
            self._stop.wait(self.poll)

    def apply(self, event: dict[str, Any]) -> None:
        """Take one event into the monitor's state (no drawing)."""
        self.last_seq = max(self.last_seq, int(event.get("seq", -1)))
        apply_event(self.job, event)  # job.json may lag the log by a moment
        self.lines = [*self.lines, log_line(event, self.job.get("created"))][-TAIL_LINES:]
        if event.get("type") != "log":
            return
        step = int(event.get("step") or 0)
        if event.get("loss") is not None:
            self.train.append((step, float(event["loss"])))
        if event.get("eval_loss") is not None:
            self.evals.append((step, float(event["eval_loss"])))
        if self._first_log is None:
            self._first_log = (float(event.get("ts") or time.time()), step)

    # -- drawing

    def render(self, *, force_curve: bool = False, seqs: tuple[int, ...] | list[int] = ()) -> None:
        self._refresh_header()
        step = int(self.job.get("step") or 0)
        total = int(self.job.get("max_steps") or 0) or max(step, 1)
        self.progress.max = total
        self.progress.value = min(step, total)
        self.eta.value = self.eta_text()
        self.tail.value = render("log_tail.html.j2", text="\n".join(self.lines))
        shown = time.time()  # the records are in the progress bar and the log tail now
        for seq in seqs:
            self.shown_at[seq] = shown
        now = time.monotonic()
        if force_curve or now - self._curve_drawn >= self.curve_interval:
            self.curve.value = loss_curve_png(self.train, self.evals)
            self._curve_drawn = now

    def eta_text(self) -> str:
        step = int(self.job.get("step") or 0)
        total = int(self.job.get("max_steps") or 0)
        text = f"step {step}/{total or '?'}"
        if self.job.get("status") in TERMINAL or self._first_log is None or not total:
            return text
        started, first_step = self._first_log
        done = step - first_step
        if done <= 0:
            return text
        rate = (time.time() - started) / done
        return f"{text} · ETA {max(0.0, (total - step) * rate):.0f} s"

    def _refresh_header(self) -> None:
        job = self.job
        name = job.get("name") or job["id"]
        status = job.get("status", "")
        self.header.value = render(
            "training_header.html.j2",
            name=str(name),
            backend=str(job.get("backend")),
            status=str(status),
            loss=_fmt(job.get("loss")),
            eval_loss=_fmt(job.get("eval_loss")),
            train_loss=_fmt(job.get("train_loss")) if job.get("train_loss") is not None else "",
            error=str(job["error"]) if job.get("error") else "",
            brain=str(job["brain"]) if job.get("brain") else "",
        )
        self.cancel_button.disabled = status in TERMINAL

    def summary_text(self) -> str:
        job = self.job
        return (
            f"training job {job['id']} ({job.get('name') or 'unnamed'}, {job.get('backend')}): "
            f"{job.get('status')}, step {job.get('step')}/{job.get('max_steps')}, loss "
            f"{_fmt(job.get('loss'))}, eval loss {_fmt(job.get('eval_loss'))}"
            + (
                f", mean train loss {_fmt(job['train_loss'])}"
                if job.get("train_loss") is not None
                else ""
            )
            + (f", brain {job['brain']}" if job.get("brain") else "")
            + (f", error: {job['error']}" if job.get("error") else "")
        )

    def summary_bundle(self) -> dict[str, Any]:
        """The static view: text always, the loss curve once there is one."""
        bundle: dict[str, Any] = {"text/plain": self.summary_text()}
        if self.train or self.evals:
            import base64

            png = loss_curve_png(self.train, self.evals, self.summary_text()[:80])
            bundle["image/png"] = base64.b64encode(png).decode("ascii")
        return bundle

    def _finish(self) -> None:
        if self._static is not None:
            self._static.update(self.summary_bundle(), raw=True)

    def cancel(self) -> None:
        self.cancel_button.disabled = True
        threading.Thread(target=self.jobs.cancel, args=(self.job_id,), daemon=True).start()


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{float(value):.4f}"


class TrainingLauncher:
    """Pick base model, data (a JSONL file or "from accepted runs"), backend and the main
    hyper-parameters; Start opens a TrainingMonitor below."""

    def __init__(self, *, state: StateDir | str | None = None) -> None:
        self.state = state if isinstance(state, StateDir) else StateDir(state)
        self.jobs = TrainingJobs(self.state)
        self.monitor: TrainingMonitor | None = None
        self.base_model = widgets.Text(description="Base model", placeholder="HF id or directory")
        self.source = widgets.ToggleButtons(
            options=["JSONL file", "from accepted runs"], description="Data"
        )
        self.data = widgets.Text(description="JSONL", placeholder="path/to/train.jsonl")
        self.name = widgets.Text(description="Name", placeholder="becomes the brain's name")
        self.backend = widgets.Dropdown(options=["local", "runpod"], description="Backend")
        self.endpoint = widgets.Text(description="Endpoint", placeholder="RunPod endpoint id")
        self.steps = widgets.BoundedIntText(value=100, min=1, max=10**7, description="Steps")
        self.lr = widgets.BoundedFloatText(value=2e-4, min=1e-8, max=1, description="LR")
        self.rank = widgets.BoundedIntText(value=8, min=1, max=1024, description="Rank")
        self.alpha = widgets.BoundedFloatText(value=16, min=0.01, max=10**4, description="Alpha")
        self.batch = widgets.BoundedIntText(value=4, min=1, max=4096, description="Batch")
        self.seq = widgets.BoundedIntText(value=1024, min=8, max=2**20, description="Max len")
        self.start_button = widgets.Button(description="Start", button_style="primary")
        self.start_button.on_click(lambda _b: self.start())
        self.message = widgets.HTML()
        self.output = widgets.Output()
        self.widget = widgets.VBox(
            [
                self.base_model,
                self.source,
                self.data,
                self.name,
                widgets.HBox([self.backend, self.endpoint]),
                widgets.HBox([self.steps, self.lr]),
                widgets.HBox([self.rank, self.alpha]),
                widgets.HBox([self.batch, self.seq]),
                self.start_button,
                self.message,
                self.output,
            ]
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "base_model": self.base_model.value.strip(),
            "data": self.data.value.strip(),
            "max_steps": self.steps.value,
            "learning_rate": self.lr.value,
            "lora_r": self.rank.value,
            "lora_alpha": self.alpha.value,
            "batch_size": self.batch.value,
            "max_seq_len": self.seq.value,
        }
        if self.name.value.strip():
            spec["name"] = self.name.value.strip()
        return spec

    def start(self) -> str | None:
        """Start the job from the form; errors are shown in the form, never raised."""
        from ..errors import AgentForgeError

        try:
            spec = self.spec()
            if self.source.value == "from accepted runs":
                spec.update(self._data_from_runs())
            job_id = self.jobs.start(
                spec, backend=self.backend.value, endpoint_id=self.endpoint.value.strip() or None
            )
        except AgentForgeError as exc:
            self.message.value = message_html("not started:", text=str(exc))
            return None
        self.message.value = message_html("started job", code=job_id)
        self.monitor = TrainingMonitor(job_id, state=self.state)
        with self.output:
            from IPython.display import display

            display(self.monitor)
        return job_id

    def _data_from_runs(self) -> dict[str, Any]:
        from ..training.from_runs import write_training_data

        out = self.state.training_dir / f"data-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        report = write_training_data(out, state=self.state)
        found = {"data": report.train_path}
        if report.eval_path:
            found["eval_data"] = report.eval_path
        return found
