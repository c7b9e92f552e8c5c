"""The agent loop with a queued brain and a real sandbox kernel (isolation="none" for speed):
plans, steps, repairs, timeouts, limits, and the text helpers."""

from __future__ import annotations

import json

from agentforge_jupyter.agent import (
    RunLimits,
    observation_text,
    split_insights,
)
from agentforge_jupyter.brains.base import BrainReply, BrainRequest
from agentforge_jupyter.events import read_events
from agentforge_jupyter.sandbox.result import PNG, TABLE, Display, ErrorInfo, ExecutionResult
from tests.agent_support import make_agent, types
from tests.fakes import QueuedBrain, code, plan_json

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

    # A fresh state directory gets the shipped starter tools, so tools are retrieved first.
    expected = ["run_start", "tools", "plan_delta", "brain_call", "plan", "step_start"]
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
