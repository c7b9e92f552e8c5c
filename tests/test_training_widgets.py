"""TrainingMonitor, TrainingLauncher and the training magics, driven by real job event logs."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from agentforge_jupyter.state import StateDir
from agentforge_jupyter.training import TrainingJobs
from agentforge_jupyter.training.joblog import JobLog
from agentforge_jupyter.widgets.training import TrainingLauncher, TrainingMonitor

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JOB = "20260101-000000-abc123"


def fake_job(state: StateDir, name: str = "spec<b>") -> JobLog:
    """A job whose records a test writes itself, as the runner would (no runner pid)."""
    log = JobLog(state.training_dir / JOB)
    log.create(
        {
            "id": JOB,
            "name": name,
            "status": "queued",
            "backend": "local",
            "spec": {},
            "created": time.time(),
            "max_steps": 4,
        }
    )
    return log


def until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_monitor_follows_records_as_they_are_written(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    log = fake_job(state)
    monitor = TrainingMonitor(JOB, state=state, curve_interval=0.0)
    for step in (1, 2):
        log.record("log", step=step, max_steps=4, loss=2.0 / step, learning_rate=1e-4)
        until(lambda step=step: monitor.progress.value == step)
    assert monitor.train == [(1, 2.0), (2, 1.0)]
    assert bytes(monitor.curve.value).startswith(PNG_MAGIC)
    assert monitor.eta.value.startswith("step 2/4")
    assert "spec&lt;b&gt;" in monitor.header.value and "spec<b>" not in monitor.header.value
    assert "step 2/4" in monitor.tail.value
    log.record("log", step=2, max_steps=4, eval_loss=1.5)
    log.record("result", adapter="/a", train_loss=1.4, eval_loss=1.5, steps=4, max_steps=4)
    monitor.wait(timeout=20)
    assert monitor.evals == [(2, 1.5)] and monitor.job["status"] == "completed"
    assert monitor.progress.value == 4 and monitor.cancel_button.disabled
    # One loss: the last logged one, where the curve ends; the trainer's mean has its own name.
    bundle = monitor.summary_bundle()
    assert "completed" in bundle["text/plain"] and "loss 1.0000," in bundle["text/plain"]
    assert "mean train loss 1.4000" in bundle["text/plain"]
    assert "loss 1.0000 · eval 1.5000 · mean train loss 1.4000" in monitor.header.value
    assert base64.b64decode(bundle["image/png"]).startswith(PNG_MAGIC)


def test_a_new_monitor_reattaches_and_replays(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    log = fake_job(state)
    for step in (1, 2, 3):
        log.record("log", step=step, max_steps=4, loss=1.0 / step)
    first = TrainingMonitor(JOB, state=state)
    until(lambda: len(first.train) == 3)
    first.stop()  # the kernel restarts...
    log.record("log", step=4, max_steps=4, loss=0.2)
    again = TrainingMonitor(JOB, state=state)  # ...and the cell runs again
    until(lambda: len(again.train) == 4)
    assert again.train[:3] == first.train and again.last_seq == 4
    log.record("error", error="worker died")
    again.wait(timeout=20)
    assert again.job["status"] == "failed" and "worker died" in again.header.value


def test_cancel_button(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    log = fake_job(state)
    log.record("log", step=1, max_steps=4, loss=1.0)
    monitor = TrainingMonitor(JOB, state=state)
    monitor.cancel_button.click()
    monitor.wait(timeout=20)
    assert monitor.job["status"] == "cancelled" and log.read()["status"] == "cancelled"


def test_launcher_shows_errors_in_the_form(tmp_path: Path) -> None:
    launcher = TrainingLauncher(state=StateDir(tmp_path))
    launcher.base_model.value = "org/model"
    launcher.data.value = str(tmp_path / "missing.jsonl")
    assert launcher.start() is None
    assert "no file at" in launcher.message.value
    launcher.source.value = "from accepted runs"
    assert launcher.start() is None
    assert "No training examples" in launcher.message.value
    assert TrainingJobs(StateDir(tmp_path)).list() == []


def test_magics(magic_shell, tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state")
    log = fake_job(state, name="<script>x</script>")
    log.record("result", adapter="/a", train_loss=0.5, steps=4, max_steps=4)
    table = magic_shell.run_line_magic("agent_jobs", "").data
    assert JOB in table and "completed" in table and "<script>" not in table
    monitor = magic_shell.run_line_magic("agent_jobs", JOB)
    assert isinstance(monitor, TrainingMonitor)
    assert monitor.wait(timeout=20)["status"] == "completed"
    # Failures raise (a headless notebook run must fail), as one clear line.
    with pytest.raises(UsageError, match="agent_jobs: No training job 'nope'"):
        magic_shell.run_line_magic("agent_jobs", "nope")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": 1, "completion": "c"}\n')
    with pytest.raises(UsageError, match=r"bad\.jsonl line 1: field 'prompt'"):
        magic_shell.run_line_magic("agent_train", f"--base-model org/m --data {bad}")
    with pytest.raises(UsageError, match="agent_train_data: No training examples"):
        magic_shell.run_line_magic("agent_train_data", f"--out {tmp_path / 'x.jsonl'}")
    with pytest.raises(UsageError, match="--steps"):
        magic_shell.run_line_magic("agent_train", "--base-model org/m --steps 0")


def test_static_summary_for_saved_notebooks(magic_shell, tmp_path: Path, capsys) -> None:
    state = StateDir(tmp_path / "state")
    log = fake_job(state)
    log.record("log", step=1, max_steps=4, loss=1.5)
    monitor = TrainingMonitor(JOB, state=state)
    monitor._ipython_display_()  # as Jupyter does when the monitor is a cell's value
    until(lambda: monitor.last_seq >= 1)
    log.record("result", adapter="/a", train_loss=1.25, steps=4, max_steps=4)
    monitor.wait(timeout=20)
    # The static display (a display_id handle) now holds the final summary.
    assert "completed, step 4/4, loss 1.5000, eval loss -, mean train loss 1.2500" in (
        capsys.readouterr().out
    )


def test_a_dead_runner_ends_the_monitor(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    log = fake_job(state)
    monitor = TrainingMonitor(JOB, state=state)
    log.record("log", step=1, max_steps=4, loss=1.0)
    until(lambda: monitor.last_seq >= 1)
    log.update(pid=999_999_999)  # no such process: the runner died without a word
    assert monitor.wait(timeout=20)["status"] == "failed"
    assert "runner process exited without a result" in monitor.header.value
