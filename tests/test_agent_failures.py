"""How runs fail, and what users hit: brain, sandbox and dataset failures, a real HTTP brain,
the step-count rule, messages for the user."""

from __future__ import annotations

import asyncio
import json

import pytest

from agentforge_jupyter.agent import (
    DEFAULT_MAX_STEPS,
    Agent,
    AgentError,
    RunLimits,
    validate_steps,
)
from agentforge_jupyter.brains.base import BrainRequest
from agentforge_jupyter.brains.errors import BrainConnectionError
from agentforge_jupyter.events import read_events
from agentforge_jupyter.run import InvalidSteps
from agentforge_jupyter.state import StateDir
from tests.agent_support import make_agent, types
from tests.fakes import FRAME, QueuedBrain, code, http_brain, plan_json


@pytest.fixture
def openai_server(monkeypatch):
    from tests.fakes import FakeOpenAIServer

    monkeypatch.setenv("AGENTFORGE_TEST_KEY", "sk-test")
    with FakeOpenAIServer(models=["base"]) as server:
        yield server


# --------------------------------------------------------------------------- failures


async def test_brain_transport_error_fails_the_run_with_events_intact(sandbox, store):
    brain = QueuedBrain(
        [plan_json("A"), BrainConnectionError("could not reach http://127.0.0.1:9/v1")]
    )
    run = await make_agent(brain, sandbox, store).arun("g")
    assert run.status == "failed"
    assert "could not reach" in run.reason and "queued" in run.reason
    error = next(e for e in run.events if e.type == "error")
    assert error["stage"] == "brain" and error["name"] == "BrainConnectionError"
    persisted = read_events(run.run_dir)
    assert [e.type for e in persisted] == types(run) and persisted[-1]["status"] == "failed"


async def test_real_bugs_raise_after_recording_the_run(sandbox, store):
    def buggy(request: BrainRequest) -> str:
        raise ZeroDivisionError("bug in a brain")

    agent = make_agent(QueuedBrain([buggy]), sandbox, store)
    with pytest.raises(ZeroDivisionError):
        await agent.arun("g")
    run = agent.last_run
    assert run.status == "failed" and "ZeroDivisionError" in run.reason
    assert read_events(run.run_dir)[-1].type == "run_end"


def test_bad_arguments_are_refused(store):
    with pytest.raises(AgentError, match="No dataset named 'nope'"):
        Agent(brain=QueuedBrain(), dataset="nope", state=store)
    with pytest.raises(AgentError, match="not a brain"):
        Agent(brain=object(), state=store)  # type: ignore[arg-type]
    with pytest.raises(AgentError, match="repairs"):
        Agent(brain=QueuedBrain(), repairs=-1, state=store)
    with pytest.raises(AgentError, match="max_steps"):
        RunLimits(max_steps=0)
    with pytest.raises(AgentError, match="goal is empty"):
        Agent(brain=QueuedBrain(), state=store).run("  ")


# --------------------------------------------------------------------------- real HTTP brain


async def test_http_brain_streams_and_recovers_from_failures(sandbox, store, openai_server):
    openai_server.server_error()  # retried by the client
    openai_server.reply("Sure! Here is the plan:\n" + plan_json("Count") + "\nHope it helps.")
    openai_server.empty()  # the code reply is empty -> repair
    openai_server.reply(code("print('FACT: rows =', len(df))"))
    openai_server.reply("- there are 4 rows")
    run = await make_agent(http_brain(openai_server), sandbox, store).arun("count rows")
    assert run.status == "ok", run.reason
    assert run.insights == ["there are 4 rows"]
    assert run.steps[0].attempts[0].failure == "parse"
    assert len([e for e in run.events if e.type == "plan_delta"]) > 1  # streamed
    assert run.prompt_tokens > 0 and all(run.prompt_hashes)
    # Dataset content reached the prompt as labelled data.
    assert "revenue" in openai_server.chat_requests[1].user_text


async def test_http_brain_failures_end_the_run_with_a_clear_message(sandbox, store, openai_server):
    for _ in range(2):
        openai_server.server_error()
    run = await make_agent(http_brain(openai_server, retries=1), sandbox, store).arun("g")
    assert run.status == "failed"
    assert "500" in run.reason or "server" in run.reason.lower()
    assert read_events(run.run_dir)[-1]["status"] == "failed"

    openai_server.hang(3.0)
    openai_server.hang(3.0)
    slow = http_brain(openai_server, timeout=0.5, retries=0)
    run = await make_agent(slow, sandbox, store).arun("g")
    assert run.status == "failed" and "time" in run.reason.lower()
    assert [e.type for e in read_events(run.run_dir)][-2:] == ["error", "run_end"]


async def test_unusable_insights_reply_keeps_the_analysis(sandbox, store):
    from agentforge_jupyter.brains.errors import BrainReplyError

    brain = QueuedBrain([plan_json("A"), code("print(1)"), BrainReplyError("empty reply")])
    run = await make_agent(brain, sandbox, store).arun("g")
    assert run.status == "ok" and run.insights == []
    error = next(e for e in run.events if e.type == "error")
    assert error["stage"] == "insights" and "empty reply" in error["message"]


async def test_mixing_sync_and_async_on_one_session_is_refused(sandbox, store):
    brain = QueuedBrain([plan_json("A"), code("print(1)"), "- one"])
    agent = make_agent(brain, sandbox, store)
    assert (await agent.arun("g")).status == "ok"
    with pytest.raises(AgentError, match="another event loop"):
        await asyncio.to_thread(agent.run, "again")
    assert brain.tasks == ["plan", "code", "insights"]


@pytest.mark.isolation
async def test_registered_dataset_through_the_isolated_sandbox(store, full_isolation):
    from agentforge_jupyter.brains.offline import OfflineBrain
    from agentforge_jupyter.datasets import DatasetRegistry

    DatasetRegistry(store).ensure_sample()
    async with Agent(brain=OfflineBrain(), dataset="sales_q3", state=store) as agent:
        run = await agent.arun("Total revenue by region")
        assert run.status == "ok", run.reason
        assert run.isolation == "full"
        # Only the run's own dataset file is mounted, never the whole data/ directory.
        config = agent.session.sandbox.config
        assert not config.datasets_dir
        assert list(config.dataset_files) == [str(DatasetRegistry(store).path("sales_q3"))]
        assert "FACT:" in run.steps[0].result.stdout
    assert agent.session.sandbox is None  # the session's own sandbox was shut down


# --------------------------------------------------------------------------- paths that break


async def test_a_brain_script_that_runs_out_fails_the_test_not_the_run(sandbox, store):
    from tests.fakes import QueueExhaustedError

    brain = QueuedBrain([plan_json("A"), code("print(1)")])  # no insights reply queued
    agent = make_agent(brain, sandbox, store)
    with pytest.raises(QueueExhaustedError, match="no reply queued for task 'insights'"):
        await agent.arun("g")
    run = agent.last_run
    assert run.status == "failed" and "internal error: QueueExhaustedError" in run.reason
    assert not any(e.type == "error" and e["stage"] == "brain" for e in run.events)


async def test_the_sandbox_failing_to_start_fails_the_run_clearly(store):
    # 40 MiB of address space is too little for ipykernel to start: a real start-up failure.
    settings = {"isolation": "none", "memory_mb": 40}
    brain = QueuedBrain([plan_json("A"), code("print(1)"), "- one"])
    async with Agent(brain=brain, dataset=FRAME, state=store, sandbox_settings=settings) as agent:
        run = await agent.arun("g")
    assert run.status == "failed"
    assert "sandbox could not be prepared" in run.reason and "did not start" in run.reason
    error = next(e for e in run.events if e.type == "error")
    assert error["stage"] == "sandbox"
    assert brain.tasks == ["plan"]  # no code was asked for a sandbox that is not there
    assert read_events(run.run_dir)[-1]["status"] == "failed"


async def test_a_dataset_file_that_vanished_fails_the_run_and_says_which(sandbox, store):
    from agentforge_jupyter.datasets import DatasetRegistry

    registry = DatasetRegistry(store)
    info = registry.ensure_sample()
    agent = Agent(brain=QueuedBrain([plan_json("A")]), dataset="sales_q3", state=store)
    agent.session.sandbox, agent.session.owns_sandbox = sandbox, False
    registry.path(info.name).unlink()
    run = await agent.arun("g")
    assert run.status == "failed", run.reason
    assert "sales_q3" in run.reason and "is missing" in run.reason and "add it again" in run.reason
    assert next(e for e in run.events if e.type == "run_start")["dataset"] is None
    assert next(e for e in run.events if e.type == "error")["stage"] == "dataset"
    assert agent.brain.requests == []  # nothing was asked about data that is not there
    assert (run.run_dir / "run.json").exists()


@pytest.mark.parametrize(
    ("columns", "values", "says"),
    [
        (["a", "a"], [[1, 2], [3, 4]], "duplicate column names: 'a'"),
        ([1, "1"], [[1, 2], [3, 4]], "duplicate column names: '1'"),  # the same once text
        (["z"], [[1 + 2j], [3j]], "column 'z' (complex128)"),
    ],
)
async def test_a_dataframe_parquet_cannot_carry_fails_the_run_and_says_what_to_change(
    sandbox, store, columns, values, says
):
    """`%%agent --df frame` with duplicate column names (a merge, a concat) raised pyarrow's
    ValueError from the middle of the agent; a complex column, ArrowNotImplementedError."""
    import pandas as pd

    frame = pd.DataFrame(values, columns=columns)
    agent = make_agent(QueuedBrain([plan_json("A")]), sandbox, store, dataset=frame)
    run = await agent.arun("g")
    assert run.status == "failed", run.reason
    assert says in run.reason and "sandbox" in run.reason, run.reason
    assert next(e for e in run.events if e.type == "error")["stage"] == "dataset"
    assert agent.brain.requests == []


async def test_a_broken_tools_json_does_not_stop_a_run(sandbox, store):
    brain = QueuedBrain(
        [plan_json("A"), code("print(1)"), "- one", plan_json("B"), code("print(2)"), "- two"]
    )
    agent = make_agent(brain, sandbox, store)
    store.root.mkdir(parents=True, exist_ok=True)
    for broken in ("{not json", '{"tools": 5, "schema": "x"}'):
        store.tools_json.write_text(broken)
        run = await agent.arun("top regions by revenue")
        assert run.status == "ok", (broken, run.reason)
        assert run.tools == [] and not any(e.type == "tools" for e in run.events)
    assert all(r.tools == [] for r in brain.requests)


# --------------------------------------------------------------------------- what users hit


def test_the_readme_example_works_on_a_fresh_state_directory(tmp_path):
    fresh = StateDir(tmp_path / "fresh")
    settings = {"isolation": "none"}
    with Agent(
        brain="offline-finance", dataset="sales_q3", state=fresh, sandbox_settings=settings
    ) as agent:
        run = agent.run("Which region drove Q3 revenue?")
    assert run.status == "ok", run.reason
    assert run.dataset.name == "sales_q3" and run.state_root == fresh.root


@pytest.mark.parametrize("value", [1, "3", " 8 "])
def test_validate_steps_accepts_positive_whole_numbers(value):
    assert validate_steps(value) == int(str(value))


@pytest.mark.parametrize("value", [0, -2, "0", "x", "2.5", True, None])
def test_validate_steps_refuses_anything_else_with_one_message(value):
    with pytest.raises(InvalidSteps, match="positive whole number") as caught:
        validate_steps(value)
    assert isinstance(caught.value, AgentError)


def test_validate_steps_is_an_argparse_type_with_its_own_message(capsys):
    import argparse

    parser = argparse.ArgumentParser(prog="agentforge analyze")
    parser.add_argument("--steps", type=validate_steps, default=DEFAULT_MAX_STEPS)
    assert parser.parse_args([]).steps == DEFAULT_MAX_STEPS == RunLimits().max_steps == 8
    with pytest.raises(SystemExit):
        parser.parse_args(["--steps", "0"])
    assert "must be a positive whole number (1, 2, ...), not '0'" in capsys.readouterr().err


async def test_no_repair_is_announced_on_the_last_attempt(sandbox, store):
    brain = QueuedBrain([plan_json("A"), code("import os"), code("import os")])
    run = await make_agent(brain, sandbox, store, repairs=1).arun("g")
    assert run.status == "failed"
    lint_events = [e for e in run.events if e.type == "lint"]
    assert [e["will_repair"] for e in lint_events] == [True, False]
    errors = [e for e in run.events if e.type == "error" and e["stage"] == "lint"]
    assert [e["will_repair"] for e in errors] == [True, False]
    assert len([e for e in run.events if e.type == "repair"]) == 1


async def test_a_plan_that_never_parses_tells_the_user_what_to_try(sandbox, store):
    brain = QueuedBrain(["no plan here", "still prose"])
    run = await make_agent(brain, sandbox, store).arun("g")
    assert run.status == "failed"
    assert "no JSON object was found" in run.reason and "stronger model" in run.reason
    assert "Reply with only one JSON object" not in run.reason  # that text is for the model
    messages = [e["message"] for e in run.events if e.type == "error"]
    assert not any("Reply with only one JSON object" in m for m in messages)
    assert "asking the brain once more" in messages[0]
    # The model got its instruction on the retry.
    assert "Reply with only one JSON object" in brain.requests[1].error


async def test_http_500_on_the_insights_keeps_the_results(sandbox, store, openai_server):
    openai_server.reply(plan_json("Count"), code("print('FACT: rows =', len(df))"))
    openai_server.server_error().server_error()
    run = await make_agent(http_brain(openai_server, retries=1), sandbox, store).arun("count")
    assert run.status == "ok", run.reason
    assert run.steps[0].status == "ok" and "FACT: rows = 4" in run.steps[0].result.stdout
    assert run.insights == [] and "500" in run.insights_error
    assert "insights unavailable" in run.reason
    error = next(e for e in run.events if e.type == "error")
    assert error["stage"] == "insights" and "insights unavailable" in error["message"]
    assert json.loads((run.run_dir / "run.json").read_text())["insights_error"]
