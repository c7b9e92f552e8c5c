"""`%%agent`, `%agent_pull`, `%agent_brains` through a real InteractiveShell and sandbox."""

from __future__ import annotations

import ast
import shutil
import threading
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from IPython.core.error import UsageError

from agentforge_jupyter._loop import run_sync
from agentforge_jupyter.brains.registry import BrainRegistry, BrainSpec
from agentforge_jupyter.magics import AgentRunFailed
from agentforge_jupyter.magics import agent as agent_module
from agentforge_jupyter.magics.insert import inserted_cell
from agentforge_jupyter.state import StateDir

from .fakes import FakeOpenAIServer

REPO_TOOLS = Path(__file__).resolve().parents[1] / "state" / "tools.json"


def agent(shell, line: str, goal: str):
    return shell.run_cell_magic("agent", line, goal)


def magics_of(shell):
    return shell.magics_manager.registry["AgentMagics"]


def run_dirs() -> list[Path]:
    runs = StateDir().root / "runs"
    return sorted(runs.iterdir()) if runs.is_dir() else []


def test_help_documents_every_option(magic_shell) -> None:
    doc = magic_shell.magics_manager.magics["cell"]["agent"].__doc__
    for option in (
        "--dataset",
        "--df",
        "--keep-attrs",
        "--brain",
        "--steps",
        "--repairs",
        "--timeout",
        "--review",
        "--new",
        "--insert",
        "--export",
        "--quiet",
        "--auto-register",
        "--help",
    ):
        assert option in doc


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--steps 0", "--steps: the number of steps must be a positive whole number"),
        ("--steps -3", "--steps: the number of steps must be a positive whole number"),
        ("--steps x", "--steps: the number of steps must be a positive whole number (1, 2, ...)"),
        ("--repairs -1", "--repairs: must be 0 or more"),
        ("--timeout 0", "--timeout: must be more than 0"),
        ("--bogus", "unrecognized arguments: --bogus"),
        ("--export out.html", "name a notebook ending in .ipynb, or a directory"),
        ("--keep-attrs", "--keep-attrs only applies with --df"),
        ("--df nothing_here", "no DataFrame of that name"),
        ("--dataset sales_q3 --df frame", "not both"),
        ("--dataset nope", "No dataset named 'nope'"),
        ("--brain nope", "nope"),
    ],
)
def test_bad_options_are_usage_errors_and_nothing_runs(magic_shell, line, message) -> None:
    magic_shell.user_ns["frame"] = pd.DataFrame({"a": [1]})
    with pytest.raises(UsageError) as raised:
        agent(magic_shell, line, "revenue by region")
    assert message in str(raised.value)
    assert run_dirs() == []
    assert magics_of(magic_shell).last_run is None


def test_an_export_path_that_cannot_be_written_is_refused_before_the_run(
    magic_shell, tmp_path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(UsageError, match="cannot create files under"):
        agent(magic_shell, f"--export {blocker}/sub/out.ipynb", "revenue by region")
    with pytest.raises(UsageError, match="cannot create files under"):
        agent(magic_shell, f"--export {blocker}/sub/", "revenue by region")  # a directory
    assert run_dirs() == []


def test_empty_goal_is_a_usage_error(magic_shell) -> None:
    with pytest.raises(UsageError, match="needs a goal"):
        agent(magic_shell, "--quiet", "   \n")


def test_agent_runs_offline_on_the_sample_and_returns_the_run(magic_shell, capsys) -> None:
    magic_shell.config.SandboxConfig.max_displays = 17  # c.SandboxConfig in ipython_config.py
    run = agent(magic_shell, "--dataset sales_q3", "total revenue by region")
    assert run.status == "ok"
    # The magic hands the shell's sandbox settings to the sandbox (it does not read them itself).
    assert magics_of(magic_shell).session.sandbox.config.max_displays == 17
    assert any("West" in insight for insight in run.insights)
    assert "Total revenue by region" in capsys.readouterr().out  # the live display's text
    assert magics_of(magic_shell).last_run is run


def test_follow_up_keeps_the_session_and_its_brain_and_new_starts_afresh(magic_shell) -> None:
    first = agent(magic_shell, "--quiet --brain offline-finance", "revenue by region")
    second = agent(magic_shell, "--quiet", "now split that by product")
    assert first.session_id == second.session_id
    assert (first.brain, second.brain) == ("offline-finance", "offline-finance")
    third = agent(magic_shell, "--quiet --new", "revenue by region")
    assert third.session_id != first.session_id
    assert third.brain == "offline"


def test_df_sends_a_notebook_dataframe_without_its_attrs(magic_shell, capsys) -> None:
    temps = pd.DataFrame({"city": ["Oslo", "Lima"], "temp": [3.0, 19.0]})
    lock = threading.Lock()  # attrs can hold what cannot even be copied
    temps.attrs = {"api_token": "s3cret", "lock": lock}
    magic_shell.user_ns["temps"] = temps
    run = agent(magic_shell, "--df temps --quiet", "average temp by city")
    assert run.status == "ok"
    assert "Lima" in "".join(s.attempts[-1].result.stdout for s in run.steps)
    assert "DataFrame.attrs of temps were dropped" in capsys.readouterr().out
    assert temps.attrs == {"api_token": "s3cret", "lock": lock}  # the user's frame is untouched
    sandbox = magics_of(magic_shell).session.sandbox
    seen = run_sync(sandbox.execute("print(sorted(df.attrs))"))
    assert seen.stdout.strip() == "[]"
    kept = pd.DataFrame({"city": ["Oslo"], "temp": [3.0]})
    kept.attrs = {"unit": "celsius"}
    magic_shell.user_ns["kept"] = kept
    assert agent(magic_shell, "--df kept --keep-attrs --quiet", "average temp").status == "ok"
    seen = run_sync(sandbox.execute("print(df.attrs)"))
    assert seen.stdout.strip() == "{'unit': 'celsius'}"


def test_insert_writes_a_cell_that_runs_in_the_users_kernel(magic_shell, tmp_path) -> None:
    target = tmp_path / "out.ipynb"
    run = agent(magic_shell, f"--quiet --insert --export {target}", "revenue by region")
    assert run.status == "ok"
    inserted = magic_shell.rl_next_input
    assert inserted.startswith(f"# AgentForge run {run.run_id}")
    assert run.steps[0].code in inserted
    assert nbformat.read(target, as_version=4).metadata["agentforge"]["run_id"] == run.run_id
    assert "df" not in magic_shell.user_ns
    result = magic_shell.run_cell(inserted)
    assert result.success, result.error_in_exec
    assert isinstance(magic_shell.user_ns["df"], pd.DataFrame)
    assert len(magic_shell.user_ns["df"]) == run.dataset.rows


def test_inserted_titles_cannot_become_statements(magic_shell) -> None:
    run = agent(magic_shell, "--quiet", "revenue by region")
    store = StateDir()
    benign = ast.dump(ast.parse(inserted_cell(run, store).source))
    run.goal = "revenue\nimport os\nos.system('id')"
    run.brain = "offline\r\nimport sys"
    for record in run.steps:
        record.step.title = "t\nimport os\u2028os.remove('x')\x85y\x0bimport subprocess"
    hostile = inserted_cell(run, store)
    assert not hostile.blocked
    assert ast.dump(ast.parse(hostile.source)) == benign


def test_a_cell_that_fails_the_gate_is_inserted_commented_out(magic_shell, capsys) -> None:
    run = agent(magic_shell, "--quiet", "revenue by region")
    run.steps[0].attempts[-1].code = "import os\nos.system('echo owned')\n"
    magics_of(magic_shell)._insert(run)
    inserted = magic_shell.rl_next_input
    calls = [n for n in ast.walk(ast.parse(inserted)) if isinstance(n, ast.Call)]
    assert not any(getattr(c.func, "attr", "") == "system" for c in calls)
    assert "# AgentForge blocked this cell" in inserted
    out = capsys.readouterr().out
    assert "inserted commented out: 1. " in out and "AF101" in out


def test_inserted_cell_defines_the_registry_tools_the_steps_import(magic_shell) -> None:
    run = agent(magic_shell, "--quiet", "revenue by region")
    shutil.copy(REPO_TOOLS, StateDir().tools_json)
    run.steps[0].attempts[-1].code = (
        "from agentforge_tools import iqr_outliers\n"
        "found = iqr_outliers(df, 'revenue')\n"
        "print(len(found))\n"
    )
    cell = inserted_cell(run, StateDir())
    assert not cell.blocked
    result = magic_shell.run_cell(cell.source)
    assert result.success, result.error_in_exec
    assert isinstance(magic_shell.user_ns["found"], pd.DataFrame)


def test_failed_run_raises_after_rendering(magic_shell) -> None:
    with FakeOpenAIServer() as server:
        server.reply("this is not a plan", "still not a plan")
        BrainRegistry().add(BrainSpec(name="fake", base_url=server.base_url, model="m", retries=0))
        with pytest.raises(AgentRunFailed, match="failed"):
            agent(magic_shell, "--brain fake --quiet", "revenue by region")
    assert magics_of(magic_shell).last_run.status == "failed"


def test_interrupt_keeps_the_cancelled_run(magic_shell, monkeypatch) -> None:
    class InterruptedView(agent_module.RunView):
        """Ctrl-C landing while the display handles the first step (once)."""

        fired = False

        def __call__(self, event) -> None:
            super().__call__(event)
            if event.type == "step_start" and not InterruptedView.fired:
                InterruptedView.fired = True
                raise KeyboardInterrupt

    monkeypatch.setattr(agent_module, "RunView", InterruptedView)
    with pytest.raises(KeyboardInterrupt):
        agent(magic_shell, "--quiet", "revenue by region")
    last = magics_of(magic_shell).last_run
    assert last is not None and last.status == "cancelled"


def test_agent_pull_brings_a_frame_back(magic_shell) -> None:
    with pytest.raises(UsageError, match="no agent session yet"):
        magic_shell.run_line_magic("agent_pull", "pulled")
    agent(magic_shell, "--quiet", "revenue by region")
    run_sync(magics_of(magic_shell).session.sandbox.execute("pulled = df.head(3)"))
    frame = magic_shell.run_line_magic("agent_pull", "pulled --as mine")
    assert len(frame) == 3 and magic_shell.user_ns["mine"] is frame
    with pytest.raises(UsageError, match="not a valid Python name"):
        magic_shell.run_line_magic("agent_pull", "pulled --as 1x")
    with pytest.raises(UsageError, match="--as: expected one argument"):
        magic_shell.run_line_magic("agent_pull", "pulled --as")


def test_agent_brains_lists_the_offline_brains(magic_shell) -> None:
    names = [s.name for s in magic_shell.run_line_magic("agent_brains", "")]
    assert {"offline", "offline-finance"} <= set(names)
    with pytest.raises(UsageError, match="unrecognized arguments"):
        magic_shell.run_line_magic("agent_brains", "offline")


def test_df_changed_in_place_is_sent_again(magic_shell) -> None:
    """The sandbox's copy follows the notebook's frame: same object, new contents, new copy."""
    frame = pd.DataFrame({"city": ["Oslo", "Lima"], "temp": [3.0, 19.0]})
    magic_shell.user_ns["temps"] = frame
    assert agent(magic_shell, "--df temps --quiet", "average temp by city").status == "ok"
    sandbox = magics_of(magic_shell).session.sandbox
    assert run_sync(sandbox.execute("print(df['temp'].sum())")).stdout.strip() == "22.0"
    frame.loc[0, "temp"] = 30.0  # the user edits the frame between two runs
    assert agent(magic_shell, "--df temps --quiet", "average temp by city").status == "ok"
    assert run_sync(sandbox.execute("print(df['temp'].sum())")).stdout.strip() == "49.0"
    frame.attrs = {"unit": "celsius"}
    assert agent(magic_shell, "--df temps --keep-attrs --quiet", "average temp").status == "ok"
    assert run_sync(sandbox.execute("print(df.attrs)")).stdout.strip() == "{'unit': 'celsius'}"
