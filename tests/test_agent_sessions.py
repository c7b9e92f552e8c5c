"""Cancellation (task, cancel(), Ctrl-C), sessions and follow-ups, review mode."""

from __future__ import annotations

import asyncio
import threading
import time

import pandas as pd
import pytest

from agentforge_jupyter.agent import (
    Agent,
    AgentSession,
)
from agentforge_jupyter.events import read_events
from agentforge_jupyter.sandbox.result import PNG
from tests.agent_support import make_agent, types
from tests.fakes import FRAME, QueuedBrain, code, plan_json, wait_for_event

# --------------------------------------------------------------------------- cancellation


async def test_task_cancellation_interrupts_the_sandbox(sandbox, store):
    brain = QueuedBrain([plan_json("Sleep"), code("import time\ntime.sleep(30)")])
    agent = make_agent(brain, sandbox, store, step_timeout=60)
    task = asyncio.create_task(agent.arun("g"))
    await wait_for_event(agent, "code")
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
    threading.Timer(0.3, agent.cancel, args=("the analyst changed their mind",)).start()
    run = await asyncio.wait_for(agent.arun("g"), 20)
    assert run.status == "cancelled" and run.plan is None
    assert run.reason == "the analyst changed their mind"
    cancelled = [e for e in run.events if e.type == "cancelled"]
    assert [e.data["reason"] for e in cancelled] == ["the analyst changed their mind"]
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


async def test_last_run_is_kept_when_a_run_is_cancelled(sandbox, store):
    brain = QueuedBrain([plan_json("A")], latency=30.0)
    agent = make_agent(brain, sandbox, store)
    task = asyncio.create_task(agent.arun("g"))
    await wait_for_event(agent, "run_start")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert agent.last_run is not None and agent.last_run.status == "cancelled"


def test_a_session_started_in_the_background_serves_the_first_run(store):
    session = AgentSession(state=store, sandbox_settings={"isolation": "none"})
    started = session.start_in_background()
    started.result(timeout=120)  # what %load_ext would have left running
    sandbox = session.sandbox
    assert sandbox is not None and sandbox.started
    brain = QueuedBrain([plan_json("A"), code("print('FACT: rows =', len(df))"), "- four"])
    agent = Agent(brain=brain, dataset=FRAME, session=session, state=store)
    try:
        run = agent.run("g")
        assert run.status == "ok", run.reason
        assert agent.session.sandbox is sandbox  # the warm kernel, not a second one
        assert "FACT: rows = 4" in run.steps[0].result.stdout
    finally:
        agent.close()
    assert session.sandbox is None  # the session started it, so closing shut it down


def test_a_frame_is_recognised_by_its_contents_whatever_its_attrs_hold() -> None:
    from agentforge_jupyter.run.session import _frame_key

    frame = pd.DataFrame({"x": [1.0, float("nan")]})
    frame.attrs = {"lock": threading.Lock()}  # cannot be copied or pickled
    assert _frame_key(frame, keep_attrs=False) == _frame_key(frame, keep_attrs=False)
    assert not _frame_key(frame, keep_attrs=False).startswith("frame:unhashable")
    same_cells = pd.DataFrame({"x": [1.0, float("nan")]})
    assert _frame_key(same_cells, keep_attrs=False) == _frame_key(frame, keep_attrs=False)
    frame.loc[1, "x"] = 2.0
    assert _frame_key(same_cells, keep_attrs=False) != _frame_key(frame, keep_attrs=False)
    lists = pd.DataFrame({"x": [[1], [2]]})  # unhashable cells: sent every time
    assert _frame_key(lists, keep_attrs=False) != _frame_key(lists, keep_attrs=False)
