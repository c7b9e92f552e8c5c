"""`agentforge train start|list|status|logs|cancel` as a user runs them (real subprocesses)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentforge_jupyter.cli import main
from agentforge_jupyter.training import TrainingJobs
from agentforge_jupyter.training.logtext import log_line
from tests.conftest import require
from tests.fakes import build_tiny_model

from .cli_support import agentforge

ROWS = [{"prompt": f"q{i}", "completion": f"print({i})"} for i in range(8)]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    missing = [m for m in ("torch", "transformers", "peft") if importlib.util.find_spec(m) is None]
    require(not missing, f"the train extra is missing {missing}: pip install -e '.[train]'")
    return build_tiny_model(tmp_path_factory.mktemp("cli") / "model", ["q1 print(1)"] * 8)


def test_start_follow_status_list(tiny_model: str, tmp_path: Path, monkeypatch, capsys) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    state = tmp_path / "state"
    started = agentforge(
        "train", "start", "--base-model", tiny_model, "--data", str(data), "--steps", "3",
        "--batch-size", "2", "--rank", "4", "--name", "spec-1", "--json", state=state,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    job_id = json.loads(started.stdout)["id"]
    logs = agentforge("train", "logs", job_id, "--follow", state=state)
    assert logs.returncode == 0, logs.stdout + logs.stderr
    lines = logs.stdout.splitlines()
    assert any("step 3/3" in line and "loss" in line and "lr" in line for line in lines)
    assert "completed: adapter" in lines[-1] and "brain spec-1" in lines[-1]
    monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(state))
    assert main(["train", "status", job_id, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["status"] == "completed" and status["step"] == 3 and status["max_steps"] == 3
    assert status["brain"] == "spec-1" and status["adapter"] and status["loss"] > 0
    # One loss: the last logged one in status and list alike; the mean is train_loss.
    events = TrainingJobs(state).events(job_id)
    last_log = [e for e in events if e["type"] == "log" and e.get("loss") is not None][-1]
    assert status["loss"] == last_log["loss"]
    assert status["train_loss"] == events[-1]["train_loss"] and status["train_loss"] > 0
    assert main(["train", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["loss"], row["train_loss"]) == (status["loss"], status["train_loss"])
    assert main(["train", "list"]) == 0
    listing = capsys.readouterr().out
    assert job_id in listing and "completed" in listing
    assert f"{status['loss']:.4f}" in listing
    assert main(["brains", "list", "--json"]) == 0
    brains = json.loads(capsys.readouterr().out)
    assert any(b["name"] == "spec-1" and b["kind"] == "transformers" for b in brains)


def test_follow_exits_1_on_cancel(tiny_model: str, tmp_path: Path, monkeypatch, capsys) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    state = tmp_path / "state"
    env = {**os.environ, "AGENTFORGE_STATE_DIR": str(state)}
    started = agentforge(
        "train", "start", "--base-model", tiny_model, "--data", str(data), "--steps", "400",
        "--json", state=state,
    )  # fmt: skip
    job_id = json.loads(started.stdout)["id"]
    follower = subprocess.Popen(
        [sys.executable, "-m", "agentforge_jupyter.cli", "train", "logs", job_id, "--follow"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert follower.stdout is not None
    for line in follower.stdout:
        if "step " in line:
            break
    monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(state))
    assert main(["train", "cancel", job_id]) == 0
    assert "cancelled" in capsys.readouterr().out
    assert follower.wait(timeout=60) == 1


def test_bad_data_is_refused_with_the_line(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(tmp_path / "state"))
    data = tmp_path / "d.jsonl"
    data.write_text('{"prompt": "p", "completion": "c"}\n{"prompt": "p"}\n')
    code = main(["train", "start", "--base-model", "org/m", "--data", str(data)])
    assert code == 2
    assert "d.jsonl line 2: field 'completion'" in capsys.readouterr().err
    assert main(["train", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_log_line_fields() -> None:
    event = {
        "type": "log", "ts": 12.5, "step": 2, "max_steps": 6, "loss": 1.23456,
        "learning_rate": 1e-4, "grad_norm": 0.5, "epoch": 0.5,
    }  # fmt: skip
    line = log_line(event, started=10.0)
    assert "2.5s" in line and "step 2/6" in line and "loss 1.2346" in line
    assert "lr 0.0001" in line and "grad_norm 0.5" in line and "epoch 0.5" in line


def test_the_cli_and_the_magic_build_the_same_spec_from_the_same_options(tmp_path: Path) -> None:
    from IPython.core.magic_arguments import parse_argstring

    from agentforge_jupyter.cli import build_parser
    from agentforge_jupyter.magics.training import TrainingMagics
    from agentforge_jupyter.training.spec import JobSpec, spec_from_options

    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"prompt": "p", "completion": "c"}) + "\n")
    options = (
        f"--base-model m --data {data} --name fin --steps 3 --lr 0.001 --rank 4 --alpha 8 "
        "--dropout 0.1 --target-modules q_proj,v_proj --batch-size 2 --max-seq-len 64 --seed 7"
    )
    cli = build_parser(["train"]).parse_args(["train", "start", *options.split()])
    magic = parse_argstring(TrainingMagics.agent_train, options)
    spec = spec_from_options(cli)
    assert spec == spec_from_options(magic)
    assert JobSpec.from_dict(spec).to_dict() == {
        "base_model": "m",
        "data": str(data),
        "name": "fin",
        "max_steps": 3,
        "learning_rate": 0.001,
        "lora_r": 4,
        "lora_alpha": 8.0,
        "lora_dropout": 0.1,
        "target_modules": ["q_proj", "v_proj"],
        "batch_size": 2,
        "max_seq_len": 64,
        "seed": 7,
    }
