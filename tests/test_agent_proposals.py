"""Tools proposed by the brain after successful steps: verified, reported, stored on accept."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentforge_jupyter.agent import Agent, AgentError, RunLimits, accept_proposal
from agentforge_jupyter.brains.errors import BrainConnectionError
from agentforge_jupyter.datasets import DatasetRegistry
from agentforge_jupyter.state import StateDir
from agentforge_jupyter.tools import ToolRegistry
from tests.fakes import QueuedBrain, code, plan_json

BAD_TOOL = '''```python
def halve(x):
    """Half of x.

    >>> halve(4)
    3.0
    """
    return x / 2
```'''


@pytest.fixture
def store(tmp_path: Path) -> StateDir:
    state = StateDir(tmp_path / "state")
    DatasetRegistry(state).ensure_sample()
    return state


def test_offline_proposals_are_verified_and_auto_registered(store: StateDir) -> None:
    with Agent(brain="offline", dataset="sales_q3", state=store, auto_register=True) as agent:
        run = agent.run("revenue by region")
    assert run.status == "ok"
    proposal = next(e for e in run.events if e.type == "tool_proposal")
    assert proposal["name"] == "group_summary" and proposal["verified"] is True
    registered = next(e for e in run.events if e.type == "tool_registered")
    tool = ToolRegistry(store).get(f"group_summary@{registered['version']}")
    assert tool.status == "verified"
    assert tool.provenance["run_id"] == run.run_id


def test_finance_specialist_proposes_a_verified_volatility_tool(store: StateDir) -> None:
    with Agent(
        brain="offline-finance", dataset="sales_q3", state=store, propose_tools=True
    ) as agent:
        run = agent.run("how volatile is daily revenue")
    names = {p.name: p.verified for p in run.tool_proposals}
    assert names.get("annualised_volatility") is True
    assert "annualised_volatility" not in ToolRegistry(store).names()  # proposed, not accepted
    assert accept_proposal(run, "annualised_volatility") == "annualised_volatility@1"
    assert ToolRegistry(store).get("annualised_volatility").status == "verified"


def test_a_failing_proposal_is_reported_and_never_stored(store: StateDir) -> None:
    brain = QueuedBrain([plan_json("One"), code("print(1)"), "- one", BAD_TOOL])
    with Agent(brain=brain, dataset="sales_q3", state=store, auto_register=True) as agent:
        run = agent.run("anything")
    assert run.status == "ok"
    (proposal,) = run.tool_proposals
    assert proposal.name == "halve" and not proposal.verified
    assert "3.0" in proposal.problem or "doctest" in proposal.problem
    assert not any(e.type == "tool_registered" for e in run.events)
    assert "halve" not in ToolRegistry(store).names()
    with pytest.raises(AgentError, match="failed verification"):
        accept_proposal(run, "halve")


def test_no_tool_means_no_proposal(store: StateDir) -> None:
    brain = QueuedBrain([plan_json("One"), code("print(1)"), "- one", "NO_TOOL"])
    with Agent(brain=brain, dataset="sales_q3", state=store, propose_tools=True) as agent:
        run = agent.run("anything")
    assert run.status == "ok" and run.tool_proposals == []
    assert brain.tasks.count("tool") == 1


def test_register_button_stores_a_verified_proposal(store: StateDir) -> None:
    from agentforge_jupyter.widgets.tool_proposal import proposal_buttons

    with Agent(brain="offline", dataset="sales_q3", state=store, propose_tools=True) as agent:
        run = agent.run("revenue by region")
    panel = proposal_buttons(run)
    button = panel.children[0].children[1].children[0]
    assert button.description == "Register group_summary"
    button.click()
    assert button.disabled
    assert ToolRegistry(store).get("group_summary").status == "verified"
    assert proposal_buttons(run) is None  # nothing left to accept


def test_one_proposal_call_for_the_whole_run_after_the_insights(store: StateDir) -> None:
    tool = BAD_TOOL.replace("3.0", "2.0").replace("halve", "half")
    brain = QueuedBrain(
        [plan_json("One", "Two"), code("print(1)"), code("print(2)"), "- done", tool]
    )
    with Agent(brain=brain, dataset="sales_q3", state=store, propose_tools=True) as agent:
        run = agent.run("anything")
    assert run.status == "ok", run.reason
    assert brain.tasks == ["plan", "code", "code", "insights", "tool"]
    request = brain.requests[-1]
    assert request.step is None and "print(1)" in request.previous_code
    assert "print(2)" in request.previous_code
    (proposal,) = run.tool_proposals
    assert proposal.name == "half" and proposal.verified and proposal.step is None


def test_proposals_are_opt_in(store: StateDir) -> None:
    brain = QueuedBrain([plan_json("One"), code("print(1)"), "- one"])
    with Agent(brain=brain, dataset="sales_q3", state=store) as agent:
        run = agent.run("anything")
    assert run.status == "ok" and "tool" not in brain.tasks


@pytest.mark.parametrize(
    ("reply", "limits", "expected"),
    [
        (BrainConnectionError("connection reset"), None, "connection reset"),
        ("```python\nx = 1\n```", None, None),  # not a function: refused, reported
        ("unused", RunLimits(max_brain_calls=3), "3 brain calls"),
    ],
)
def test_failing_proposals_never_fail_the_run(store: StateDir, reply, limits, expected) -> None:
    brain = QueuedBrain([plan_json("One"), code("print(1)"), "- one", reply])
    with Agent(
        brain=brain, dataset="sales_q3", state=store, propose_tools=True, limits=limits
    ) as agent:
        run = agent.run("anything")
    assert run.status == "ok", run.reason
    assert run.insights == ["one"]
    if expected is None:
        (proposal,) = run.tool_proposals
        assert not proposal.verified and proposal.problem
    else:
        error = next(e for e in run.events if e.type == "error" and e["stage"] == "tool")
        assert expected in error["message"] and run.tool_proposals == []
    assert not any(e.type == "tool_registered" for e in run.events)
    # Only the shipped starter tools, installed on first use: nothing was registered.
    assert {t.provenance.get("run_id") for t in ToolRegistry(store).all()} == {None}
