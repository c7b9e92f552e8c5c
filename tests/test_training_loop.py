"""The whole loop on a tiny model: runs -> train data -> train start (local) -> monitor ->
brain -> an agent run through the trained adapter. The tiny model writes nonsense, so the run
may fail; what matters is that it went through the real brain and the real adapter."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd

from agentforge_jupyter.agent import Agent
from agentforge_jupyter.brains.offline import OfflineBrain
from agentforge_jupyter.brains.registry import BrainRegistry
from agentforge_jupyter.cli import main
from agentforge_jupyter.sandbox import KernelSandbox
from agentforge_jupyter.state import StateDir
from agentforge_jupyter.widgets.training import TrainingMonitor
from tests.conftest import require
from tests.fakes import build_tiny_model

FRAME = pd.DataFrame({"region": ["N", "S", "N", "E"], "revenue": [10.0, 20.0, 30.0, 5.0]})


async def test_runs_to_trained_brain_to_agent_run(tmp_path: Path, monkeypatch, capsys) -> None:
    missing = [m for m in ("torch", "transformers", "peft") if importlib.util.find_spec(m) is None]
    require(not missing, f"the train extra is missing {missing}: pip install -e '.[train]'")
    state = StateDir(tmp_path / "state")
    monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(state.root))
    sandbox = KernelSandbox(isolation="none", datasets_dir=str(state.data_dir))
    await sandbox.start()
    try:
        # 1. Accepted runs, made by the offline brain.
        async with Agent(brain=OfflineBrain(), dataset=FRAME, state=state, sandbox=sandbox) as a:
            for goal in ("Total revenue by region", "Average revenue", "Largest region"):
                assert (await a.arun(goal)).status == "ok"

        # 2. Training data from them.
        out = tmp_path / "train.jsonl"
        assert main(["train", "data", "--from-runs", "--out", str(out), "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["train"] >= 3 and report["unverifiable"] == 0
        texts = [
            m["content"]
            for line in out.read_text().splitlines()
            for m in json.loads(line)["messages"]
        ]

        # 3. Train on a tiny model, watched by the monitor.
        model = build_tiny_model(tmp_path / "model", texts)
        start = ["train", "start", "--base-model", model, "--data", str(out), "--steps", "6"]
        assert main([*start, "--batch-size", "2", "--max-seq-len", "256", "--json"]) == 0
        job_id = json.loads(capsys.readouterr().out)["id"]
        monitor = TrainingMonitor(job_id, state=state)
        job = monitor.wait(timeout=600)
        assert job["status"] == "completed", job.get("error")
        assert [s for s, _ in monitor.train] == [1, 2, 3, 4, 5, 6]

        # 4. The adapter is a brain; 5. an agent run goes through it.
        brain = BrainRegistry(state).get(job["brain"])
        assert brain.kind == "transformers" and brain.adapter == job["adapter"]
        brain.max_new_tokens = 48
        async with Agent(brain=brain, dataset=FRAME, state=state, sandbox=sandbox) as agent:
            run = await agent.arun("Total revenue by region")
    finally:
        await sandbox.shutdown()
    calls = [e for e in run.events if e.type == "brain_call"]
    assert calls and all(e["model"] == job["brain"] for e in calls)
    assert run.brain == job["brain"] and run.brain_kind == "transformers"
    from peft import PeftModel

    from agentforge_jupyter.brains.transformers_brain import load_model

    assert isinstance(load_model(model, job["adapter"])[1], PeftModel)
