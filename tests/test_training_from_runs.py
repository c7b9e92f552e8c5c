"""Training data from finished runs: the prompts as the brain saw them, the code that ran."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from agentforge_jupyter.agent import Agent
from agentforge_jupyter.brains.offline import OfflineBrain
from agentforge_jupyter.brains.openai_brain import OpenAIBrain
from agentforge_jupyter.brains.prompts import prompt_hash
from agentforge_jupyter.cli import main
from agentforge_jupyter.sandbox import KernelSandbox
from agentforge_jupyter.state import StateDir
from agentforge_jupyter.training import load_examples
from agentforge_jupyter.training.errors import TrainingDataError
from agentforge_jupyter.training.from_runs import (
    examples_from_runs,
    split_examples,
    write_training_data,
)
from tests.fakes import FakeOpenAIServer, QueuedBrain

FRAME = pd.DataFrame({"region": ["N", "S", "N", "E"], "revenue": [10.0, 20.0, 30.0, 5.0]})
PLAN = json.dumps(
    {"goal": "g", "steps": [{"id": "s1", "title": "Total", "rationale": "r", "expected": "e"}]}
)


@pytest.fixture(scope="module")
def runs_state(tmp_path_factory: pytest.TempPathFactory) -> StateDir:
    import asyncio

    store = StateDir(tmp_path_factory.mktemp("runs") / "state")

    async def make() -> None:
        sandbox = KernelSandbox(isolation="none", datasets_dir=str(store.data_dir))
        await sandbox.start()
        try:
            async with Agent(
                brain=OfflineBrain(), dataset=FRAME, state=store, sandbox=sandbox
            ) as a:
                await a.arun("Total revenue by region")
                await a.arun("Total revenue by region")  # a follow-up: history in its prompts
            with FakeOpenAIServer(models=["m"]) as server:
                server.reply(PLAN, "```python\nprint('FACT: total =', df['revenue'].sum())\n```")
                server.reply("- total is 65")
                brain = OpenAIBrain(name="chat", model="m", base_url=server.base_url)
                async with Agent(brain=brain, dataset=FRAME, state=store, sandbox=sandbox) as a:
                    run = await a.arun("Overall revenue")
                    assert run.status == "ok", run.reason
            brain = QueuedBrain([PLAN, "```python\nprint(1)\n```", "- one"])
            async with Agent(brain=brain, dataset=FRAME, state=store, sandbox=sandbox) as a:
                await a.arun("Print one")  # no prompt hash recorded: cannot be verified
        finally:
            await sandbox.shutdown()

    asyncio.run(make())
    return store


def test_examples_are_the_prompts_the_brain_saw(runs_state: StateDir) -> None:
    examples, report = examples_from_runs(runs_state)
    assert report.runs == 4
    assert report.unverifiable == 2  # the queued brain's plan and step
    chat = [e for e in examples if e["messages"][1]["content"].find("Overall revenue") >= 0]
    assert [e["metadata"]["task"] for e in chat] == ["plan", "code"]
    events = [
        json.loads(line)
        for run_dir in runs_state.runs_dir.iterdir()
        for line in (run_dir / "events.jsonl").read_text().splitlines()
    ]
    recorded = {e["prompt_hash"] for e in events if e["type"] == "brain_call"}
    for example in chat:
        assert prompt_hash(example["messages"][:2]) in recorded  # exactly what was sent
    assert chat[1]["messages"][2]["content"].strip() == (
        "print('FACT: total =', df['revenue'].sum())"
    )
    follow_up = [
        e for e in examples if "Earlier runs in this session" in e["messages"][1]["content"]
    ]
    assert follow_up, "the second run of a session carries its history"
    load_examples(examples)  # valid training data


def test_duplicates_dropped_and_split_is_deterministic(runs_state: StateDir) -> None:
    examples, _report = examples_from_runs(runs_state)
    assert len({prompt_hash(e["messages"]) for e in examples}) == len(examples)
    train, held = split_examples(examples, 0.25, seed=3)
    again = split_examples(list(reversed(examples)), 0.25, seed=3)
    assert {prompt_hash(e["messages"]) for e in held} == {
        prompt_hash(e["messages"]) for e in again[1]
    }
    assert len(held) >= 1 and len(train) + len(held) == len(examples)
    with pytest.raises(TrainingDataError, match="eval-fraction"):
        split_examples(examples, 1.5, seed=0)


def test_filters(runs_state: StateDir) -> None:
    assert examples_from_runs(runs_state, brain="chat")[1].runs == 1
    assert examples_from_runs(runs_state, since="2999-01-01")[1].runs == 0
    with pytest.raises(TrainingDataError, match="not a date"):
        examples_from_runs(runs_state, since="yesterday")
    with pytest.raises(TrainingDataError, match="No training examples"):
        write_training_data(Path("/tmp/never.jsonl"), state=runs_state, brain="nobody")


def test_cli_train_data(runs_state: StateDir, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(runs_state.root))
    out = tmp_path / "train.jsonl"
    code = main(["train", "data", "--from-runs", "--out", str(out), "--eval-fraction", "0.2"])
    assert code == 0
    report = capsys.readouterr()
    assert "held-out" in report.out and "left out" in report.err
    train = load_examples(out)
    held = load_examples(tmp_path / "train.eval.jsonl")
    assert train and held
