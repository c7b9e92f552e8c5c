"""The agent loop with a queued brain and a real sandbox kernel (isolation="none" for speed)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pandas as pd
import pytest

from agentforge_jupyter.agent import (
    DEFAULT_MAX_STEPS,
    Agent,
    AgentError,
    RunLimits,
    observation_text,
    split_insights,
    validate_steps,
)
from agentforge_jupyter.brains.base import BrainReply, BrainRequest
from agentforge_jupyter.brains.errors import BrainConnectionError
from agentforge_jupyter.events import read_events
from agentforge_jupyter.run import InvalidSteps
from agentforge_jupyter.sandbox import KernelSandbox
from agentforge_jupyter.sandbox.result import PNG, TABLE, Display, ErrorInfo, ExecutionResult
from agentforge_jupyter.state import StateDir
from tests.fakes import QueuedBrain, code, plan_json

FRAME = pd.DataFrame({"region": ["N", "S", "N", "E"], "revenue": [10.0, 20.0, 30.0, 5.0]})


@pytest.fixture
def store(tmp_path) -> StateDir:
    return StateDir(tmp_path / "state")


@pytest.fixture
async def sandbox(store):
    sb = KernelSandbox(isolation="none", datasets_dir=str(store.data_dir), interrupt_grace=1.0)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.shutdown()


def make_agent(brain, sandbox, store, **options) -> Agent:
    options.setdefault("dataset", FRAME)
    return Agent(brain=brain, sandbox=sandbox, state=store, **options)


def types(run) -> list[str]:
    return [e.type for e in run.events]


# --------------------------------------------------------------------------- happy path


async def test_happy_path_plan_steps_insights_and_events(sandbox, store):
    brain = QueuedBrain(
        [
            plan_json("Totals by region", "Largest region"),
            code("totals = df.groupby('region')['revenue'].sum()\nprint('FACT: N =', totals['N'])"),
            code("print('FACT: top =', totals.idxmax())\ntotals"),
            "- N leads with 40.0\n- E is smallest",
        ]
    )
    seen: list[str] = []
    agent = make_agent(brain, sandbox, store, on_event=lambda e: seen.append(e.type))
    run = await agent.arun("Which region sells most?")

    assert run.status == "ok", run.reason
    assert brain.tasks == ["plan", "code", "code", "insights"]
    assert [s.status for s in run.steps] == ["ok", "ok"]
    assert "FACT: N = 40.0" in run.steps[0].result.stdout
    # A variable from step 1 is still there in step 2 (one kernel for the run).
    assert "FACT: top = N" in run.steps[1].result.stdout
    assert run.steps[1].result.displays[0].mime == TABLE
    assert run.insights == ["N leads with 40.0", "E is smallest"]
    assert run.brain == "queued" and run.model == "queued-model"
    assert run.dataset is not None and run.dataset.format == "parquet"

    # The brain saw the data profile and the previous step's observation.
    code_two = brain.requests[2]
    assert code_two.dataset["variable"] == "df"
    assert [c["name"] for c in code_two.dataset["columns"]] == ["region", "revenue"]
    assert "FACT: N = 40.0" in code_two.observations[0].output
    assert "FACT: top = N" in brain.requests[3].observations[1].output

    expected = ["run_start", "plan_delta", "brain_call", "plan", "step_start", "brain_call"]
    collapsed = [t for i, t in enumerate(types(run)) if i == 0 or types(run)[i - 1] != t]
    assert collapsed[: len(expected)] == expected
    assert types(run)[-1] == "run_end" and run.events[-1]["status"] == "ok"
    assert types(run).count("insight") == 2
    assert seen == types(run)
    assert [e.seq for e in run.events] == list(range(len(run.events)))
    # Persisted exactly as emitted, and a summary next to it.
    assert [e.to_dict() for e in read_events(run.run_dir)] == [e.to_dict() for e in run.events]
    summary = json.loads((run.run_dir / "run.json").read_text())
    assert summary["status"] == "ok" and summary["steps"][1]["status"] == "ok"
    assert run.to_dict(include_events=True)["events"][0]["type"] == "run_start"


async def test_plan_deltas_stream_before_the_plan(sandbox, store):
    brain = QueuedBrain([plan_json("One"), code("print(1)"), "- done"], chunk_size=5)
    run = await make_agent(brain, sandbox, store).arun("goal")
    deltas = [e["text"] for e in run.events if e.type == "plan_delta"]
    assert len(deltas) > 3 and "".join(deltas) == plan_json("One")
    assert types(run).index("plan") > types(run).index("plan_delta")


# --------------------------------------------------------------------------- repairs


async def test_lint_rejection_goes_back_to_the_brain(sandbox, store):
    brain = QueuedBrain(
        [
            plan_json("Look"),
            code("import os\nprint(os.getcwd())"),
            code("print('FACT: rows =', len(df))"),
            "- four rows",
        ]
    )
    run = await make_agent(brain, sandbox, store).arun("count rows")
    assert run.status == "ok"
    assert brain.tasks == ["plan", "code", "repair", "insights"]
    repair = brain.requests[2]
    assert repair.previous_code.startswith("import os")
    assert "AF101" in repair.error and "not run" in repair.error
    step = run.steps[0]
    assert step.repairs == 1 and step.attempts[0].result is None
    assert step.attempts[0].findings[0]["code"] == "AF101"
    lint_events = [e for e in run.events if e.type == "lint"]
    assert [e["ok"] for e in lint_events] == [False, True]
    executions = [e for e in run.events if e.type == "execution"]
    assert [e["attempt"] for e in executions] == [1]  # the rejected code never ran
    assert [e["reason"] for e in run.events if e.type == "repair"] == ["lint"]


async def test_runtime_error_is_repaired(sandbox, store):
    brain = QueuedBrain(
        [
            plan_json("Compute"),
            code("print(undefined_name)"),
            code("print('FACT: ok = 1')"),
            "- ok",
        ]
    )
    run = await make_agent(brain, sandbox, store).arun("compute")
    assert run.status == "ok"
    assert "NameError" in brain.requests[2].error
    assert "undefined_name" in brain.requests[2].previous_code
    errors = [e for e in run.events if e.type == "error"]
    assert errors[0]["stage"] == "execute" and errors[0]["name"] == "NameError"
    assert run.steps[0].attempts[0].result.status == "error"
    assert run.steps[0].result.ok


async def test_unparsable_code_reply_is_repaired(sandbox, store):
    brain = QueuedBrain([plan_json("A"), "```sql\nselect 1\n```", code("print(2)"), "- two"])
    run = await make_agent(brain, sandbox, store).arun("g")
    assert run.status == "ok"
    assert run.steps[0].attempts[0].failure == "parse"
    assert "no Python block" in brain.requests[2].error


async def test_repairs_exhausted_fails_the_step_and_the_run(sandbox, store):
    brain = QueuedBrain(
        [
            plan_json("Broken", "Fine"),
            code("1/0"),
            code("raise ValueError('still broken')"),
            code("print('FACT: second = 2')"),
            "- second step worked",
        ]
    )
    run = await make_agent(brain, sandbox, store, repairs=1).arun("g")
    assert [s.status for s in run.steps] == ["failed", "ok"]
    assert run.status == "failed"
    assert "1 of 2 step(s) failed" in run.reason and "s1" in run.reason
    assert brain.tasks == ["plan", "code", "repair", "code", "insights"]
    assert run.steps[0].observation.status == "error"
    assert "ValueError: still broken" in run.steps[0].observation.output
    # The failure reaches the next step's request and the insights request.
    assert brain.requests[3].observations[0].status == "error"
    end = run.events[-1]
    assert end["status"] == "failed" and end["steps_failed"] == 1 and end["steps_ok"] == 1


async def test_no_insights_when_every_step_failed(sandbox, store):
    brain = QueuedBrain([plan_json("Broken"), code("1/0")])
    run = await make_agent(brain, sandbox, store, repairs=0).arun("g")
    assert run.status == "failed" and run.insights == []
    assert brain.tasks == ["plan", "code"]


async def test_malformed_plan_is_retried_once_with_the_parse_error(sandbox, store):
    brain = QueuedBrain(["I think we should look at the data.", plan_json("A"), code("1"), "- x"])
    run = await make_agent(brain, sandbox, store).arun("g")
    assert run.status == "ok"
    retry = brain.requests[1]
    assert retry.task == "plan" and "no JSON object" in retry.error
    assert retry.previous_code == "I think we should look at the data."
    plan_errors = [e for e in run.events if e.type == "error" and e["stage"] == "plan"]
    assert len(plan_errors) == 1
    assert [e["attempt"] for e in run.events if e.type == "plan"] == [1]


async def test_plan_still_malformed_after_retry_fails_the_run(sandbox, store):
    brain = QueuedBrain(["nope", '{"steps": []}'])
    run = await make_agent(brain, sandbox, store).arun("g")
    assert run.status == "failed"
    assert "plan could not be used" in run.reason and "empty" in run.reason
    assert run.steps == [] and brain.tasks == ["plan", "plan"]
    assert read_events(run.run_dir)[-1]["status"] == "failed"


# --------------------------------------------------------------------------- timeouts, state


async def test_timeout_is_interrupted_and_repaired(sandbox, store):
    brain = QueuedBrain(
        [
            plan_json("Slow"),
            code("import time\nslow = 1\ntime.sleep(30)"),
            code("print('FACT: slow =', slow)"),
            "- fast now",
        ]
    )
    run = await make_agent(brain, sandbox, store, step_timeout=1.0).arun("g")
    assert run.status == "ok"
    first = run.steps[0].attempts[0]
    assert first.failure == "timeout" and not first.result.state_lost
    assert "1 s time limit" in brain.requests[2].error
    # Interrupted, not restarted: the variable set before the sleep survives.
    assert "FACT: slow = 1" in run.steps[0].result.stdout


async def test_state_lost_is_reported_to_the_brain_and_the_run(sandbox, store):
    ignores_interrupt = (
        "import time\ngone = 1\nwhile True:\n    try:\n        time.sleep(0.05)\n"
        "    except KeyboardInterrupt:\n        pass"
    )
    brain = QueuedBrain(
        [
            plan_json("Stubborn"),
            code(ignores_interrupt),
            code("print('FACT: rows =', len(df), 'gone' in dir())"),
            "- reloaded",
        ]
    )
    run = await make_agent(brain, sandbox, store, step_timeout=1.0).arun("g")
    assert run.status == "ok"
    assert run.steps[0].attempts[0].result.state_lost
    assert (
        "restarted" in brain.requests[2].error
        and "`df` was loaded again" in brain.requests[2].error
    )
    lost = [e for e in run.events if e.type == "state_lost"]
    assert len(lost) == 1 and lost[0]["step"] == "s1"
    # The dataset came back after the restart; the cell's own variable did not.
    assert "FACT: rows = 4 False" in run.steps[0].result.stdout


# --------------------------------------------------------------------------- limits


async def test_the_step_cap_is_what_the_user_asked_for_not_a_failure(sandbox, store):
    brain = QueuedBrain([plan_json("A", "B", "C"), code("print('FACT: a = 1')"), "- a is 1"])
    run = await make_agent(brain, sandbox, store, limits=RunLimits(max_steps=1)).arun("g")
    assert run.status == "ok", run.reason
    assert "1 of 3 planned steps ran" in run.reason and "step limit is 1" in run.reason
    assert not any(e.type == "limit" for e in run.events)
    assert [s.status for s in run.steps] == ["ok"]
    assert brain.tasks == ["plan", "code", "insights"]
    assert next(e for e in run.events if e.type == "step_start")["total"] == 1
    end = run.events[-1]
    assert end["status"] == "ok" and end["steps_planned"] == 3 and end["steps_ok"] == 1


async def test_brain_call_limit(sandbox, store):
    brain = QueuedBrain([plan_json("A"), code("1/0"), code("print(1)"), "- x"])
    run = await make_agent(brain, sandbox, store, limits=RunLimits(max_brain_calls=2)).arun("g")
    assert run.status == "limit" and "2 brain calls" in run.reason
    assert brain.tasks == ["plan", "code"]
    assert run.steps[0].status == "limit"
    step_end = [e for e in run.events if e.type == "step_end"]
    assert step_end[-1]["status"] == "limit"


async def test_token_limit(sandbox, store):
    def heavy(request: BrainRequest) -> BrainReply:
        return BrainReply(plan_json("A"), "m", prompt_tokens=900, completion_tokens=200)

    brain = QueuedBrain([heavy, code("print(1)")])
    run = await make_agent(brain, sandbox, store, limits=RunLimits(max_tokens=1000)).arun("g")
    assert run.status == "limit"
    assert "1100 tokens" in run.reason
    assert next(e for e in run.events if e.type == "limit")["kind"] == "tokens"
    assert brain.tasks == ["plan"]


async def test_wall_time_limit_while_waiting_for_the_brain(sandbox, store):
    brain = QueuedBrain([plan_json("A")], latency=30.0)
    agent = make_agent(brain, sandbox, store, limits=RunLimits(max_wall_s=0.5))
    run = await agent.arun("g")
    assert run.status == "limit" and "wall-time limit" in run.reason
    assert next(e for e in run.events if e.type == "limit")["kind"] == "wall_s"


async def test_wall_time_limit_cuts_a_long_execution(sandbox, store):
    brain = QueuedBrain([plan_json("A"), code("import time\ntime.sleep(30)")])
    agent = make_agent(brain, sandbox, store, limits=RunLimits(max_wall_s=2.0), step_timeout=60)
    run = await agent.arun("g")
    assert run.status == "limit" and "wall-time limit" in run.reason
    assert run.steps[0].attempts[0].result.status == "timeout"
    assert brain.tasks == ["plan", "code"]  # no repair after the budget is spent


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


# --------------------------------------------------------------------------- cancellation


async def _wait_for_event(run_holder, agent, kind: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = agent.last_run
        if run is not None and any(e.type == kind for e in run.events):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {kind} event within {timeout} s")


async def test_task_cancellation_interrupts_the_sandbox(sandbox, store):
    brain = QueuedBrain([plan_json("Sleep"), code("import time\ntime.sleep(30)")])
    agent = make_agent(brain, sandbox, store, step_timeout=60)
    task = asyncio.create_task(agent.arun("g"))
    await _wait_for_event(None, agent, "code")
    await asyncio.sleep(0.3)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    run = agent.last_run
    assert run.status == "cancelled"
    assert types(run)[-3:] == ["cancelled", "step_end", "run_end"]
    assert run.steps[0].status == "cancelled"
    assert read_events(run.run_dir)[-1]["status"] == "cancelled"
    # The sleeping cell was interrupted, not waited for, and the kernel still works.
    assert time.monotonic() - started < 15
    after = await sandbox.execute("print('alive', len(df))", timeout=10)
    assert after.stdout.strip() == "alive 4"


async def test_cancel_during_a_brain_call_returns_the_cancelled_run(sandbox, store):
    brain = QueuedBrain([plan_json("A")], latency=30.0)
    agent = make_agent(brain, sandbox, store)
    threading.Timer(0.3, agent.cancel).start()
    run = await asyncio.wait_for(agent.arun("g"), 20)
    assert run.status == "cancelled" and run.plan is None
    assert types(run)[-1] == "run_end"
    assert agent.cancel() is False  # nothing running any more


def test_sync_run_keyboard_interrupt_cancels(store):
    import _thread

    brain = QueuedBrain([plan_json("A"), code("import time\ntime.sleep(30)")])
    agent = Agent(brain=brain, dataset=FRAME, state=store, sandbox_settings={"isolation": "none"})
    try:

        def interrupt_when_running() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                run = agent.last_run
                if run is not None and any(e.type == "code" for e in run.events):
                    time.sleep(0.3)
                    _thread.interrupt_main()
                    return
                time.sleep(0.02)

        threading.Thread(target=interrupt_when_running, daemon=True).start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            agent.run("g")
        assert time.monotonic() - started < 25
        run = agent.last_run
        assert run.status == "cancelled" and types(run)[-1] == "run_end"
    finally:
        agent.close()


# --------------------------------------------------------------------------- sessions


async def test_follow_up_shares_the_sandbox_and_history(sandbox, store):
    brain = QueuedBrain(
        [
            plan_json("Set x"),
            code("x = 41\nprint('FACT: x =', x)"),
            "- x is 41",
            plan_json("Use x"),
            code("print('FACT: x + 1 =', x + 1)"),
            "- x + 1 is 42",
        ]
    )
    agent = make_agent(brain, sandbox, store)
    first = await agent.arun("set x")
    second = await agent.arun("now add one")
    assert first.status == second.status == "ok"
    assert "FACT: x + 1 = 42" in second.steps[0].result.stdout
    assert second.session_id == first.session_id and second.run_id != first.run_id
    follow_plan = brain.requests[3]
    assert follow_plan.task == "plan" and follow_plan.history[0]["goal"] == "set x"
    assert "FACT: x = 41" in follow_plan.history[0]["observations"][0]["output"]
    assert brain.requests[0].history == []
    assert agent.session.sandbox is sandbox
    assert next(e for e in second.events if e.type == "run_start")["follow_up"] == 1

    agent.new_session()
    assert agent.session.history == [] and agent.session.sandbox is None


async def test_review_mode_plan_then_execute_edited_plan(sandbox, store):
    brain = QueuedBrain([plan_json("Keep", "Drop"), code("print('kept')"), "- kept"])
    agent = make_agent(brain, sandbox, store)
    plan = await agent.aplan("g")
    assert [s.title for s in plan.steps] == ["Keep", "Drop"]
    planned_id = agent.last_run.run_id
    plan.steps.pop()
    run = await agent.aexecute(plan)
    assert run.run_id == planned_id and run.status == "ok"
    assert len(run.steps) == 1 and run.steps[0].result.stdout == "kept\n"
    plans = [e for e in run.events if e.type == "plan"]
    assert [p["source"] for p in plans] == ["brain", "user"]
    assert len(plans[1]["plan"]["steps"]) == 1


async def test_offline_brain_end_to_end_on_the_sample(sandbox, store):
    from agentforge_jupyter.brains.offline import OfflineBrain
    from agentforge_jupyter.datasets import DatasetRegistry

    DatasetRegistry(store).ensure_sample()
    agent = Agent(brain=OfflineBrain(), dataset="sales_q3", sandbox=sandbox, state=store)
    run = await agent.arun("Which region drove Q3 revenue, and what is the weekly trend?")
    assert run.status == "ok", run.reason
    assert run.dataset.name == "sales_q3" and run.dataset.format == "jsonl"
    assert len(run.steps) >= 2 and all(s.status == "ok" for s in run.steps)
    assert any(d.mime == PNG for s in run.steps for d in s.result.displays)
    printed = "\n".join(s.result.stdout for s in run.steps)
    facts = [i for i in run.insights if ":" in i and any(ch.isdigit() for ch in i)]
    assert facts
    # Every number in an insight was printed by the executed code.
    for insight in facts:
        value = insight.rsplit(": ", 1)[-1]
        assert value in printed, insight


# --------------------------------------------------------------------------- helpers


def test_observation_text_caps_and_marks_charts():
    table = {
        "columns": ["a"],
        "index": ["0", "1"],
        "rows": [[1], [2]],
        "dtypes": ["int64"],
        "total_rows": 2,
        "total_columns": 1,
    }
    result = ExecutionResult(
        "error",
        stdout="x" * 10_000,
        displays=[Display(PNG, "AAAA"), Display(TABLE, table)],
        error=ErrorInfo("KeyError", "'b'"),
        notes=["truncated"],
    )
    text = observation_text(result, max_chars=500)
    assert len(text) < 600 and "more chars" in text
    full = observation_text(result, max_chars=100_000)
    assert "[chart]" in full and "KeyError: 'b'" in full and "notes: truncated" in full
    assert observation_text(ExecutionResult("ok")) == "(no output)"


def test_split_insights():
    text = (
        "Intro paragraph\nthat wraps.\n\n**Revenue**\n- West: 10\n- East: 5\n\n"
        "1. numbered item\n* star item\n  continued"
    )
    assert split_insights(text) == [
        "Intro paragraph that wraps.",
        "Revenue: West: 10",
        "Revenue: East: 5",
        "numbered item",
        "star item continued",
    ]
    assert split_insights("") == []


# --------------------------------------------------------------------------- real HTTP brain


@pytest.fixture
def openai_server(monkeypatch):
    from tests.fakes import FakeOpenAIServer

    monkeypatch.setenv("AGENTFORGE_TEST_KEY", "sk-test")
    with FakeOpenAIServer(models=["base"]) as server:
        yield server


def http_brain(server, **options):
    from agentforge_jupyter.brains.openai_brain import OpenAIBrain

    options.setdefault("timeout", 5.0)
    options.setdefault("retries", 2)
    return OpenAIBrain(
        name="fake-http",
        model="base",
        base_url=server.base_url,
        api_key_env="AGENTFORGE_TEST_KEY",
        **options,
    )


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
        assert agent.session.sandbox.config.datasets_dir == str(store.data_dir)
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


async def test_last_run_is_kept_when_a_run_is_cancelled(sandbox, store):
    brain = QueuedBrain([plan_json("A")], latency=30.0)
    agent = make_agent(brain, sandbox, store)
    task = asyncio.create_task(agent.arun("g"))
    await _wait_for_event(None, agent, "run_start")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert agent.last_run is not None and agent.last_run.status == "cancelled"
