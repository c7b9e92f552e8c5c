"""Training jobs: spec and data validation, the worker's real LoRA steps, the job store with
its local backend (subprocess), cancel and re-attach."""

from __future__ import annotations

import importlib.util
import json
import stat
import time
from pathlib import Path

import pytest

from agentforge_jupyter.brains.registry import BrainRegistry
from agentforge_jupyter.state import StateDir
from agentforge_jupyter.training import (
    JobSpec,
    JobSpecError,
    TrainingDataError,
    TrainingJobs,
    UnknownJobError,
    load_examples,
)
from agentforge_jupyter.training.joblog import JobLog
from tests.conftest import require
from tests.fakes import build_tiny_model

TEXTS = [
    "<|system|>\nYou are a data analyst.\n<|user|>\nTotal sales by region?\n<|assistant|>\n"
    "print(df.groupby('region')['sales'].sum())\n"
] * 10


def train_stack() -> None:
    missing = [m for m in ("torch", "transformers", "peft") if importlib.util.find_spec(m) is None]
    require(not missing, f"the train extra is missing {missing}: pip install -e '.[train]'")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    train_stack()
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", TEXTS)


def examples(n: int = 12) -> list[dict]:
    return [
        {"prompt": f"Question {i}: total sales?", "completion": f"print(df['sales'].sum() + {i})"}
        for i in range(n)
    ]


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- spec


def test_spec_defaults_and_normalisation(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", examples(2))
    spec = JobSpec.from_dict({"base_model": "org/model", "data": str(data), "lora_r": "16"})
    assert spec.lora_r == 16 and spec.data == str(data.absolute())
    assert spec.max_steps is None and spec.epochs is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lora_r": 0}, "lora_r (--rank) must be between 1 and 1024"),
        ({"lora_alpha": -1}, "lora_alpha (--alpha) must be more than 0"),
        ({"lora_dropout": 1.0}, "lora_dropout must be in [0, 1)"),
        ({"max_steps": 3, "epochs": 1}, "either max_steps (--steps) or epochs"),
        ({"learning_rate": 0}, "learning_rate (--lr) must be in (0, 1]"),
        ({"batch_size": 1.5}, "must be a whole number"),
        ({"max_seq_len": 4}, "max_seq_len must be between 8"),
        ({"name": "bad name!"}, "Invalid job name"),
        ({"target_modules": ["q_proj; rm"]}, "is not a module name"),
        ({"lora_rank": 8}, "Unknown job settings ['lora_rank']"),
        ({"base_model": ""}, "needs 'base_model'"),
        ({"base_model": "./no/such/dir"}, "has no config.json"),
        ({"data": "/no/such.jsonl"}, "no file at /no/such.jsonl"),
    ],
)
def test_spec_errors_name_the_setting(tmp_path: Path, change: dict, message: str) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", examples(2))
    with pytest.raises(JobSpecError) as info:
        JobSpec.from_dict({"base_model": "org/model", "data": str(data), **change})
    assert message in str(info.value)


# --------------------------------------------------------------------------- data


def test_both_formats_become_messages(tmp_path: Path) -> None:
    rows = [
        {"prompt": "p", "completion": "c"},
        {
            "messages": [
                {"role": "system", "content": "s"},
                {"role": "user", "content": "u"},
                {"role": "assistant", "content": "a"},
            ]
        },
    ]
    loaded = load_examples(write_jsonl(tmp_path / "d.jsonl", rows))
    assert loaded[0] == [
        {"role": "user", "content": "p"},
        {"role": "assistant", "content": "c"},
    ]
    assert [m["role"] for m in loaded[1]] == ["system", "user", "assistant"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "d.jsonl line 2: not valid JSON"),
        ('{"prompt": "p"}', "d.jsonl line 2: field 'completion' must be a non-empty string"),
        ('{"messages": []}', "d.jsonl line 2: field 'messages' must be a non-empty list"),
        (
            '{"messages": [{"role": "robot", "content": "x"}]}',
            "d.jsonl line 2: field messages[0].role is 'robot'",
        ),
        (
            '{"messages": [{"role": "user", "content": 3}]}',
            "d.jsonl line 2: field messages[0].content must be a string",
        ),
        (
            '{"messages": [{"role": "user", "content": "q"}]}',
            "d.jsonl line 2: field messages[0] must be a non-empty assistant message",
        ),
        ('{"text": "x"}', "d.jsonl line 2: no 'messages' and no 'prompt'/'completion'"),
        ("[1, 2]", "d.jsonl line 2: expected a JSON object"),
    ],
)
def test_bad_line_names_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(examples(1)[0]) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(TrainingDataError) as info:
        load_examples(path)
    assert message in str(info.value)


def test_every_line_is_checked_before_anything_starts(tmp_path: Path) -> None:
    rows = [*examples(3), {"prompt": ""}, *examples(2), {"completion": "x"}]
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    jobs = TrainingJobs(StateDir(tmp_path / "state"))
    with pytest.raises(TrainingDataError) as info:
        jobs.start({"base_model": "org/model", "data": str(data)})
    text = str(info.value)
    assert "2 invalid training example(s); nothing was started" in text
    assert "line 4" in text and "line 7" in text
    assert jobs.list() == []


# --------------------------------------------------------------------------- worker


def test_handler_runs_real_lora_steps(tiny_model: str, tmp_path: Path) -> None:
    from agentforge_jupyter.training.worker import handler

    spec = {
        "base_model": tiny_model,
        "data": examples(),
        "eval_data": examples(3),
        "max_steps": 6,
        "batch_size": 2,
        "output_dir": str(tmp_path / "adapter"),
    }
    records = list(handler({"id": "t1", "input": spec}))
    logs = [r for r in records if r["type"] == "log" and r.get("loss") is not None]
    assert [r["step"] for r in logs] == [1, 2, 3, 4, 5, 6]
    assert all(r["max_steps"] == 6 and r["learning_rate"] > 0 for r in logs)
    assert all(r["grad_norm"] is not None and r["epoch"] > 0 for r in logs)
    assert any(r.get("eval_loss") is not None for r in records if r["type"] == "log")
    result = records[-1]
    assert result["type"] == "result" and result["steps"] == 6
    assert result["train_loss"] > 0 and result["eval_loss"] > 0
    adapter = Path(result["adapter"])
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert (adapter / "adapter_model.safetensors").is_file()
    assert config["peft_type"] == "LORA" and not config.get("modules_to_save")
    assert not config.get("use_dora") and config["r"] == 8


def test_handler_reports_bad_input_as_an_error_record() -> None:
    from agentforge_jupyter.training.worker import handler

    records = list(handler({"id": "x", "input": {"base_model": "org/m", "data": [{"x": 1}]}}))
    assert len(records) == 1 and "no 'messages'" in records[0]["error"]
    records = list(handler({"id": "x", "input": {"data": []}}))
    assert "needs 'base_model'" in records[0]["error"]


def test_closing_the_handler_stops_training(tiny_model: str, tmp_path: Path) -> None:
    from agentforge_jupyter.training.worker import handler

    spec = {"base_model": tiny_model, "data": examples(), "max_steps": 200, "batch_size": 2}
    spec["output_dir"] = str(tmp_path / "never")
    records = handler({"id": "c", "input": spec})
    seen = []
    for record in records:
        seen.append(record)
        if record["type"] == "log":
            break
    records.close()  # joins the training thread: returns only once training stopped
    assert seen[-1]["step"] == 1
    assert not (tmp_path / "never" / "adapter_model.safetensors").exists()


# --------------------------------------------------------------------------- jobs


def test_local_job_end_to_end(tiny_model: str, tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state")
    data = write_jsonl(tmp_path / "train.jsonl", examples())
    jobs = TrainingJobs(state)
    job_id = jobs.start(
        {"base_model": tiny_model, "data": str(data), "max_steps": 6, "batch_size": 2}
    )
    assert jobs.get(job_id)["status"] in ("queued", "running")
    # A second store (another process, a restarted kernel) follows the same job.
    followed = list(TrainingJobs(state).follow(job_id))
    job = jobs.get(job_id)
    assert job["status"] == "completed", job.get("error")
    assert [e["seq"] for e in followed] == list(range(len(followed)))
    assert followed == jobs.events(job_id)
    logs = [e for e in followed if e["type"] == "log"]
    assert [e["step"] for e in logs] == [1, 2, 3, 4, 5, 6]
    assert followed[-1]["type"] == "result"
    assert job["step"] == 6 and job["max_steps"] == 6 and job["loss"] > 0
    # One loss: job.json's is the last logged one; the trainer's mean is train_loss.
    assert job["loss"] == logs[-1]["loss"]
    assert job["train_loss"] == followed[-1]["train_loss"] and job["train_loss"] > 0
    assert Path(job["adapter"], "adapter_model.safetensors").is_file()
    for key in ("id", "name", "status", "backend", "spec", "created", "updated", "brain"):
        assert key in job
    directory = state.training_dir / job_id
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for name in ("job.json", "events.jsonl"):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    assert jobs.list()[0]["id"] == job_id
    # The adapter became a brain named after the job, with its provenance.
    spec = BrainRegistry(state).get_spec(job["brain"])
    assert job["brain"] == f"lora-{job_id}" and spec.kind == "transformers"
    assert spec.adapter == job["adapter"] and spec.model == tiny_model
    assert spec.provenance["job_id"] == job_id
    assert spec.provenance["train_loss"] == job["train_loss"]
    assert spec.provenance["data_sha256"] == job["data_sha256"]


def test_cancel_stops_the_runner(tiny_model: str, tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state")
    data = write_jsonl(tmp_path / "train.jsonl", examples())
    jobs = TrainingJobs(state)
    job_id = jobs.start({"base_model": tiny_model, "data": str(data), "max_steps": 500})
    for event in jobs.follow(job_id):
        if event["type"] == "log":
            break
    jobs.cancel(job_id)
    job = jobs.get(job_id)
    assert job["status"] == "cancelled"
    pid = job["pid"]
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    steps = job["step"]
    time.sleep(0.5)
    assert jobs.get(job_id)["step"] == steps  # nothing is recorded after a cancel
    assert jobs.events(job_id)[-1]["status"] == "cancelled"


def test_a_dead_runner_fails_the_job(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state")
    log = JobLog(state.training_dir / "20260101-000000-dead00")
    log.create({"id": "20260101-000000-dead00", "status": "running", "spec": {}, "pid": 999999})
    job = TrainingJobs(state).get("20260101-000000-dead00")
    assert job["status"] == "failed" and "runner process exited" in job["error"]


def test_terminal_status_is_final(tmp_path: Path) -> None:
    log = JobLog(tmp_path / "job")
    log.create({"id": "job", "status": "queued", "spec": {}})
    log.record("status", status="cancelled")
    assert log.record("log", step=3, max_steps=9, loss=1.0) is None
    assert log.read()["status"] == "cancelled" and log.read().get("step") is None


def test_a_stray_line_in_the_events_file_does_not_stop_recording(tmp_path: Path) -> None:
    # A line that is JSON but not a record (or has no int seq) is skipped when numbering.
    log = JobLog(tmp_path / "job")
    log.create({"id": "job", "status": "queued", "spec": {}})
    with log.events_path.open("a", encoding="utf-8") as events:
        events.write('[1, 2]\n{"seq": "7"}\n{"seq": true}\n')
    event = log.record("status", status="running")
    assert event is not None and event["seq"] == 1
    assert log.read()["status"] == "running"


def test_unknown_job(tmp_path: Path) -> None:
    with pytest.raises(UnknownJobError, match="agentforge train list"):
        TrainingJobs(StateDir(tmp_path)).get("nope")
