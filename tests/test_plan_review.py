"""`%%agent --review`: the plan editor, through the real magic, brain and sandbox.

A plan in review is a pending run: it is run as edited, discarded, or replaced by a newer
`%%agent` cell; the last two record the pending run as cancelled, and the editor closes."""

from __future__ import annotations

from agentforge_jupyter.agent import load_run
from agentforge_jupyter.widgets.plan_review import PlanReview


def review_of(shell, goal: str = "revenue by region") -> PlanReview:
    review = shell.run_cell_magic("agent", "--review", goal)
    assert isinstance(review, PlanReview) and review.open
    return review


def magics_of(shell):
    return shell.magics_manager.registry["AgentMagics"]


def test_the_edited_plan_runs(magic_shell) -> None:
    review = review_of(magic_shell)
    review.rows[0][0].value = "Revenue per region (edited)"
    review.add_step("Distribution of revenue")
    review.rows[-1][2].value = True  # and remove it again
    run = review.run()
    assert run.status == "ok"
    assert [s.step.title for s in run.steps] == ["Revenue per region (edited)"]
    assert magics_of(magic_shell).last_run is run
    assert not review.open and review.run_button.disabled
    assert review.run() is None and "already run" in review.status.value


def test_a_plan_with_no_steps_is_not_run(magic_shell) -> None:
    review = review_of(magic_shell)
    for row in review.rows:
        row[2].value = True
    assert review.run() is None
    assert "no steps" in review.status.value and review.open


def test_discarding_a_plan_records_the_pending_run_as_cancelled(magic_shell) -> None:
    review = review_of(magic_shell)
    review.abandon_button.click()
    assert not review.open and review.run_button.disabled
    assert "abandoned" in review.status.value and "discarded by the user" in review.status.value
    assert review.run() is None
    pending = magics_of(magic_shell).last_run
    assert pending.status == "cancelled" and "discarded by the user" in pending.reason
    assert load_run(pending.run_dir).status == "cancelled"


def test_a_newer_cell_replaces_the_plan_in_review(magic_shell) -> None:
    first = review_of(magic_shell)
    first_run = magics_of(magic_shell).last_run
    second = review_of(magic_shell, "top 5 products by revenue")
    assert not first.open and "a newer %%agent cell started" in first.status.value
    assert first_run.status == "cancelled"
    assert second.open and magics_of(magic_shell).review is second
    run = second.run()
    assert run.status == "ok" and run.run_id != first_run.run_id


def test_the_goal_is_shown_escaped(magic_shell) -> None:
    review = review_of(magic_shell, "revenue by region <img src=x onerror=alert(1)>")
    header = review.widget.children[0].value
    assert "<img" not in header and "&lt;img src=x onerror=alert(1)&gt;" in header
    review.abandon()
