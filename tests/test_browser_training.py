"""The Training tab in a real browser with a real local job: the loss streams in, a job is
cancelled from the tab, a bad spec is refused (tests/browser_support.py)."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest

from .browser_support import *  # noqa: F403  (fake_brain, lab, page: one of each per module)
from .browser_support import Lab, open_tab, shot
from .conftest import require
from .fakes import build_tiny_model

TINY_STEPS = 6
TRAINING_DETAIL = "#agentforge-panel .agentforge-training .agentforge-detail"
TRAIN_EXAMPLES = [
    {"prompt": f"Question {i}: total revenue?", "completion": f"print(df['revenue'].sum() + {i})"}
    for i in range(8)
]
TINY_TEXTS = [
    "Question 1: total revenue?\nprint(df['revenue'].sum())\n"
    "<|system|>\nYou are a data analyst.\n<|user|>\n<|assistant|>\n"
] * 10
# Records, change by change, what the Training tab's job detail shows.
WATCH_LOSS = """(selector) => {
  const detail = document.querySelector(selector);
  window.__lossHistory = [];
  new MutationObserver(() => {
    const state = {
      rows: detail.querySelectorAll('.agentforge-loss-record').length,
      points: Number(detail.querySelector('canvas.agentforge-loss')?.dataset.points ?? 0),
      status: detail.querySelector('.agentforge-job-status')?.dataset.status ?? ''
    };
    const last = window.__lossHistory[window.__lossHistory.length - 1];
    if (!last || ['rows', 'points', 'status'].some(k => last[k] !== state[k])) {
      window.__lossHistory.push(state);
    }
  }).observe(detail, {childList: true, subtree: true, characterData: true, attributes: true});
}"""


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny random Llama and its tokenizer, built here: the job downloads nothing."""
    missing = [m for m in ("torch", "transformers", "peft") if importlib.util.find_spec(m) is None]
    require(not missing, f"the train extra is missing {missing}: pip install -e '.[train]'")
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", TINY_TEXTS)


@pytest.fixture(scope="module")
def train_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("train") / "train.jsonl"
    data.write_text("".join(json.dumps(e) + "\n" for e in TRAIN_EXAMPLES), encoding="utf-8")
    return data


def tiny_spec(model: str, data: Path) -> dict:
    return {"backend": "local", "base_model": model, "data": str(data), "batch_size": 2,
            "max_seq_len": 64}  # fmt: skip


def start_job(page, spec: dict) -> str:
    """Start a job as a user does (the spec in the tab's form, then "Start training"); returns
    its id once the tab shows it."""
    shown = page.get_attribute(TRAINING_DETAIL, "data-job")
    page.fill("#agentforge-panel .agentforge-spec", json.dumps(spec))
    page.click("#agentforge-panel .agentforge-train-start")
    page.wait_for_function(
        "([sel, old]) => (document.querySelector(sel).dataset.job ?? null) !== old",
        arg=[TRAINING_DETAIL, shown],
        timeout=60_000,
    )
    return page.get_attribute(TRAINING_DETAIL, "data-job")


def runner_stops(pid: int) -> bool:
    """True once the runner process is gone (or a zombie its parent has yet to reap)."""
    for _ in range(120):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return True
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return True
        time.sleep(0.25)
    return False


def test_training_job_streams_loss(page, lab: Lab, tiny_model: str, train_data: Path) -> None:
    open_tab(page, "Training")
    detail = TRAINING_DETAIL
    page.wait_for_selector(detail, state="attached")
    page.evaluate(WATCH_LOSS, detail)
    spec = {**tiny_spec(tiny_model, train_data), "name": "tiny-lora", "max_steps": TINY_STEPS}
    job_id = start_job(page, spec)
    page.wait_for_selector(f"{detail} .agentforge-loss-record", timeout=180_000)
    shot(page, "07-training-live")
    page.wait_for_selector(f'{detail} .agentforge-job-status[data-status="completed"]',
                           timeout=180_000)  # fmt: skip
    shot(page, "08-training-done")
    assert page.locator(f"{detail} .agentforge-cancel").is_disabled()
    page.wait_for_selector(
        f'#agentforge-panel .agentforge-row[data-job="{job_id}"] >> text=completed'
    )

    job = lab.api(f"training/{job_id}")
    assert job["status"] == "completed", job.get("error")
    assert job["step"] == TINY_STEPS and job["loss"] > 0
    # One loss: the list row and the detail show the same last logged loss and mean.
    row = f'#agentforge-panel .agentforge-row[data-job="{job_id}"] .agentforge-meta'
    for text in (
        page.locator(row).inner_text(),
        page.locator(f"{detail} .agentforge-latest").inner_text(),
    ):
        assert f"loss {job['loss']:.4f}" in text, text
        assert f"mean train loss {job['train_loss']:.4f}" in text, text
    rows = page.locator(f"{detail} .agentforge-loss-record").all_inner_texts()
    assert [r.split(":")[0] for r in rows] == [f"step {n}" for n in range(1, TINY_STEPS + 1)]
    assert page.get_attribute(f"{detail} canvas.agentforge-loss", "data-points") == str(TINY_STEPS)
    # What the tab showed, change by change: one more row (and chart point) at a time, each
    # while the job was still running, and `completed` only after the last one.
    history = page.evaluate("window.__lossHistory")
    growing = [h for h in history if h["rows"]]
    assert [h["rows"] for h in growing] == [*range(1, TINY_STEPS + 1), TINY_STEPS]
    assert all(h["points"] == h["rows"] for h in growing)
    assert all(h["status"] == "running" for h in growing[:-1])
    assert growing[-1]["status"] == "completed"


def test_training_job_cancelled_from_the_tab(
    page, lab: Lab, tiny_model: str, train_data: Path
) -> None:
    open_tab(page, "Training")
    detail = TRAINING_DETAIL
    # Far more steps than the test waits for: the job is still running when it is cancelled.
    spec = {**tiny_spec(tiny_model, train_data), "name": "long-lora", "max_steps": 100_000}
    job_id = start_job(page, spec)
    page.wait_for_selector(f"{detail} .agentforge-loss-record >> nth=2", timeout=180_000)
    assert lab.api(f"training/{job_id}")["status"] == "running"
    seen = page.locator(f"{detail} .agentforge-loss-record").count()
    page.wait_for_function(  # rows keep arriving while it runs
        "([sel, n]) => document.querySelectorAll(sel).length > n",
        arg=[f"{detail} .agentforge-loss-record", seen],
        timeout=60_000,
    )
    shot(page, "10-training-before-cancel")
    page.click(f"{detail} .agentforge-cancel")
    page.wait_for_selector(f'{detail} .agentforge-job-status[data-status="cancelled"]',
                           timeout=60_000)  # fmt: skip
    shot(page, "11-training-cancelled")
    assert page.locator(f"{detail} .agentforge-cancel").is_disabled()
    job = lab.api(f"training/{job_id}")
    assert job["status"] == "cancelled" and job["step"] < job["max_steps"]
    assert runner_stops(job["pid"]), f"the runner {job['pid']} of {job_id} still runs"


def test_training_bad_spec_is_refused_in_the_tab(page, lab: Lab, tiny_model: str) -> None:
    open_tab(page, "Training")
    status = "#agentforge-panel .agentforge-training .agentforge-status"
    before = {j["id"] for j in lab.api("training")}
    page.fill("#agentforge-panel .agentforge-spec", '{"base_model": ')
    page.click("#agentforge-panel .agentforge-train-start")
    page.wait_for_selector(f"{status} >> text=the spec is not valid JSON")
    missing = lab.root / "no-such-data.jsonl"
    page.fill("#agentforge-panel .agentforge-spec", json.dumps(tiny_spec(tiny_model, missing)))
    page.click("#agentforge-panel .agentforge-train-start")
    page.wait_for_selector(f"{status} >> text=could not start training")
    text = page.locator(status).inner_text()
    assert f"no file at {missing}" in text and "JSONL" in text
    shot(page, "12-training-bad-spec")
    assert {j["id"] for j in lab.api("training")} == before  # nothing was created
