"""`%%agent`, `%agent_pull`, `%agent_brains` through a real InteractiveShell and sandbox."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest
from agentforge_jupyter.agent_magics import AgentRunFailed
from IPython.core.interactiveshell import InteractiveShell

from .fakes import FakeOpenAIServer


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(tmp_path / "state"))
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "agentforge_jupyter")
    yield sh
    magics = sh.magics_manager.registry["AgentMagics"]
    magics.close_session()
    InteractiveShell.clear_instance()


def agent(shell, line: str, goal: str):
    return shell.run_cell_magic("agent", line, goal)


def test_help_documents_every_option(shell) -> None:
    doc = shell.magics_manager.magics["cell"]["agent"].__doc__
    for option in (
        "--dataset",
        "--df",
        "--brain",
        "--steps",
        "--repairs",
        "--timeout",
        "--review",
        "--new",
        "--insert",
        "--export",
        "--quiet",
    ):
        assert option in doc


def test_agent_runs_offline_on_the_sample_and_returns_the_run(shell, capsys) -> None:
    run = agent(shell, "--dataset sales_q3", "total revenue by region")
    assert run.status == "ok"
    assert any("West" in insight for insight in run.insights)
    assert "Total revenue by region" in capsys.readouterr().out  # the live display's text


def test_follow_up_shares_the_session_and_new_starts_another(shell) -> None:
    first = agent(shell, "--quiet", "revenue by region")
    second = agent(shell, "--quiet", "now split that by product")
    assert first.session_id == second.session_id
    third = agent(shell, "--quiet --new", "revenue by region")
    assert third.session_id != first.session_id


def test_df_sends_a_notebook_dataframe(shell) -> None:
    shell.user_ns["temps"] = pd.DataFrame({"city": ["Oslo", "Lima"], "temp": [3.0, 19.0]})
    run = agent(shell, "--df temps --quiet", "average temp by city")
    assert run.status == "ok"
    assert "Lima" in "".join(s.attempts[-1].result.stdout for s in run.steps)


def test_insert_and_export(shell, tmp_path: Path) -> None:
    target = tmp_path / "out.ipynb"
    run = agent(shell, f"--quiet --insert --export {target}", "revenue by region")
    assert run.status == "ok"
    inserted = shell.rl_next_input
    assert inserted.startswith(f"# AgentForge run {run.run_id}")
    assert run.steps[0].code in inserted
    notebook = nbformat.read(target, as_version=4)
    assert notebook.metadata["agentforge"]["run_id"] == run.run_id


def test_failed_run_raises_after_rendering(shell) -> None:
    with FakeOpenAIServer() as server:
        server.reply("this is not a plan", "still not a plan")
        from agentforge_jupyter.brains.registry import BrainRegistry, BrainSpec

        BrainRegistry().add(BrainSpec(name="fake", base_url=server.base_url, model="m", retries=0))
        with pytest.raises(AgentRunFailed, match="failed"):
            agent(shell, "--brain fake --quiet", "revenue by region")


def test_agent_pull_brings_a_frame_back(shell) -> None:
    agent(shell, "--quiet", "revenue by region")
    magics = shell.magics_manager.registry["AgentMagics"]
    from agentforge_jupyter._loop import run_sync

    run_sync(magics.session.sandbox.execute("pulled = df.head(3)"))
    frame = shell.run_line_magic("agent_pull", "pulled --as mine")
    assert len(frame) == 3 and shell.user_ns["mine"] is frame


def test_agent_brains_lists_the_offline_brains(shell) -> None:
    names = [s.name for s in shell.run_line_magic("agent_brains", "")]
    assert {"offline", "offline-finance"} <= set(names)


def test_review_returns_an_editor_whose_plan_runs(shell) -> None:
    review = agent(shell, "--review", "revenue by region")
    review.rows[0][0].value = "Revenue per region (edited)"
    review.add_step("Distribution of revenue")
    review.rows[-1][2].value = True  # and remove it again
    run = review.run()
    assert run.status == "ok"
    assert [s.step.title for s in run.steps] == ["Revenue per region (edited)"]
