"""The JupyterLab side panel in a real browser: Debian's chromium driven by Playwright against
a real `jupyter lab` on loopback with a token and a temporary state directory. Screenshots of
each state go to test-artifacts/browser/."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from agentforge_jupyter.brains.registry import BrainRegistry, BrainSpec
from agentforge_jupyter.state import StateDir
from agentforge_jupyter.training import TERMINAL, TrainingJobs

from .conftest import require
from .fakes import FakeOpenAIServer, Scripted, build_tiny_model

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "agentforge-browser-test"
RUN_MIME = "application/vnd.agentforge.run+json"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LAST_RUN: dict[str, str] = {}
XSS_COLUMN = '<img src=x onerror="window.__xss=1">'
PLAN = json.dumps(
    {
        "goal": "revenue by region",
        "steps": [
            {"id": "s1", "title": "Chart revenue by region", "rationale": "see", "expected": "bar"},
            {"id": "s2", "title": "Count the rows", "rationale": "size", "expected": "shape"},
        ],
    }
)
CHART_CODE = (
    "```python\nimport matplotlib.pyplot as plt\n"
    "df.groupby('region')['revenue'].sum().plot.bar()\nplt.show()\n```"
)
SLOW_S = 6.0  # the second step's code arrives this late: the run is still going meanwhile
TOOL = '''def shout(text):
    """Upper-case text. <script>window.__xss2 = 1</script>

    >>> shout("a")
    'A'
    """
    return text.upper()
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, root: Path, state: Path, port: int) -> None:
        self.root, self.state, self.port = root, state, port
        self.url = f"http://127.0.0.1:{port}/"

    def api(self, path: str, method: str = "GET", body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}agentforge/api/{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())


@pytest.fixture(scope="module")
def fake_brain() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, fake_brain) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("lab")
    state = root / "state"
    BrainRegistry(StateDir(state)).add(
        BrainSpec(name="scripted", kind="openai", base_url=fake_brain.base_url, model="fake-base")
    )
    nbformat.write(nbformat.v4.new_notebook(), str(root / "analysis.ipynb"))
    port = _free_port()
    env = {
        **os.environ,
        "AGENTFORGE_STATE_DIR": str(state),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "JUPYTER_CONFIG_DIR": str(root / "config"),
    }
    log = open(root / "lab.log", "wb")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
            f"--port={port}", "--ip=127.0.0.1", f"--ServerApp.token={TOKEN}",
            f"--ServerApp.root_dir={root}", "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root,
    )  # fmt: skip
    instance = Lab(root, state, port)
    try:
        for _ in range(240):
            try:
                instance.api("brains")
                break
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.5)
        else:
            pytest.fail("jupyter lab did not start in 120 s")
        assert process.poll() is None, (root / "lab.log").read_text()[-3000:]
        yield instance
    finally:
        stop_training_jobs(state)  # runners have sessions of their own: they outlive the lab
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.copy(root / "lab.log", ARTIFACTS / "lab.log")


def stop_training_jobs(state: Path) -> None:
    jobs = TrainingJobs(StateDir(state))
    for job in jobs.list():
        if job.get("status") not in TERMINAL:
            jobs.cancel(job["id"])


@pytest.fixture(scope="module")
def page(lab: Lab) -> Iterator[object]:
    require(Path(CHROMIUM).exists(), f"{CHROMIUM} missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright Python package is not installed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 1000})
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{lab.url}lab/tree/analysis.ipynb?token={TOKEN}")
        page.wait_for_selector(".jp-Notebook", timeout=120_000)
        no_kernel(page, 1)
        yield page
        context.close()
        browser.close()


def no_kernel(page, dialogs: int) -> None:
    """Answer JupyterLab's kernel question for each opened notebook: no kernel needed."""
    for _ in range(dialogs):
        page.locator(".jp-Dialog button", has_text="No Kernel").first.click(timeout=60_000)
        page.wait_for_timeout(500)  # the next notebook's question, if any, comes up
    page.wait_for_selector(".jp-Dialog", state="detached")


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def open_tab(page, name: str) -> None:
    panel = page.locator("#agentforge-panel")
    if not panel.is_visible():
        page.click('li[data-id="agentforge-panel"]')
    page.click(f'#agentforge-panel button[data-tab="{name}"]')


def test_panel_opens(page) -> None:
    page.wait_for_selector('li[data-id="agentforge-panel"]', timeout=60_000)
    open_tab(page, "Datasets")
    page.wait_for_selector('#agentforge-panel .agentforge-row[data-name="sales_q3"]')
    assert page.locator("#agentforge-panel .agentforge-tab-button").all_inner_texts() == [
        "Datasets", "Tools", "Brains", "Runs", "Training",
    ]  # fmt: skip
    shot(page, "01-panel-datasets")


def test_upload_csv_and_xss_column_is_text(page, lab: Lab, tmp_path: Path) -> None:
    csv = tmp_path / "probe.csv"
    csv.write_text(f'city,"{XSS_COLUMN.replace(chr(34), chr(34) * 2)}"\nOslo,3\nLima,19\n')
    open_tab(page, "Datasets")
    page.set_input_files("#agentforge-panel .agentforge-drop input[type=file]", str(csv))
    page.wait_for_selector('#agentforge-panel .agentforge-row[data-name="probe"]')
    headers = page.locator("#agentforge-panel .agentforge-detail th").all_inner_texts()
    assert headers == ["city", XSS_COLUMN]
    assert page.evaluate("window.__xss") is None
    assert page.locator('#agentforge-panel img[src="x"]').count() == 0
    shot(page, "02-upload-preview-xss-text")

    # Drag and drop: a File dropped on the drop zone is uploaded the same way.
    page.evaluate(
        """() => {
          const dt = new DataTransfer();
          dt.items.add(new File(['k,v\\na,1\\n'], 'dropped.csv', {type: 'text/csv'}));
          const zone = document.querySelector('#agentforge-panel .agentforge-drop');
          zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true}));
        }"""
    )
    page.wait_for_selector('#agentforge-panel .agentforge-row[data-name="dropped"]')
    assert {d["name"] for d in lab.api("datasets")} >= {"probe", "dropped", "sales_q3"}


def test_tool_docstring_script_is_text(page, lab: Lab, full_isolation) -> None:
    lab.api("tools", "POST", {"source": TOOL})  # verified in the sandbox, as `tools add`
    open_tab(page, "Tools")
    page.click('#agentforge-panel .agentforge-row[data-name="shout"] button')
    page.wait_for_selector("#agentforge-panel .agentforge-docstring")
    text = page.locator("#agentforge-panel .agentforge-docstring").inner_text()
    assert "<script>window.__xss2 = 1</script>" in text
    assert page.locator("#agentforge-panel script").count() == 0
    assert page.evaluate("window.__xss2") is None
    shot(page, "03-tool-detail-script-as-text")


def test_run_streams_live_and_inserts_cells(page, lab: Lab, fake_brain, full_isolation) -> None:
    replies = [
        PLAN,
        CHART_CODE,
        Scripted(text="```python\nprint(df.shape)\ndf.head(3)\n```", delay=SLOW_S),
        "- West had the most revenue.",
    ]

    def route(body: dict) -> Scripted | str:
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        return "NO_TOOL" if "NO_TOOL" in prompt else replies.pop(0)  # no tool proposals

    fake_brain.default = route
    open_tab(page, "Runs")
    page.wait_for_selector(
        '#agentforge-panel .agentforge-brain-select option[value="scripted"]', state="attached"
    )
    page.fill("#agentforge-panel .agentforge-goal-input", "revenue by region")
    page.select_option("#agentforge-panel .agentforge-dataset-select", "sales_q3")
    page.select_option("#agentforge-panel .agentforge-brain-select", "scripted")
    page.click("#agentforge-panel .agentforge-start")
    page.wait_for_selector("#agentforge-panel .agentforge-plan-step", timeout=60_000)
    run_id = page.get_attribute("#agentforge-panel .agentforge-run", "data-run-id")
    assert lab.api(f"runs/{run_id}")["live"] is True  # the plan is shown while the run goes on
    page.wait_for_selector("#agentforge-panel img.agentforge-chart", timeout=60_000)
    assert lab.api(f"runs/{run_id}")["live"] is True  # so is the chart
    assert page.get_attribute("#agentforge-panel .agentforge-run", "data-status") == "running"
    shot(page, "04-run-live-plan-and-chart")

    page.wait_for_selector('#agentforge-panel .agentforge-run[data-status="ok"]', timeout=90_000)
    assert page.locator("#agentforge-panel .agentforge-insights li").all_inner_texts() == [
        "West had the most revenue."
    ]
    shot(page, "05-run-finished")

    page.click(".jp-Notebook .jp-Cell")  # the active notebook and cell
    page.click("#agentforge-panel .agentforge-insert")
    page.wait_for_function("document.querySelectorAll('.jp-Notebook .jp-Cell').length > 3")
    page.keyboard.press("Control+s")
    shot(page, "06-inserted-cells")
    for _ in range(60):
        notebook = nbformat.read(lab.root / "analysis.ipynb", as_version=4)
        inserted = [c for c in notebook.cells if c.metadata.get("agentforge", {}).get("run_id")]
        if inserted:
            break
        time.sleep(0.5)
    assert len(inserted) >= 4
    assert all(c.metadata["agentforge"]["run_id"] == run_id for c in inserted)
    code = [c for c in inserted if c.cell_type == "code"]
    assert any("plot.bar()" in c.source for c in code)
    # The run's outputs come along, so the chart shows without re-running; never its HTML.
    chart = next(c for c in code if "plot.bar()" in c.source)
    images = [o for o in chart.outputs if "image/png" in o.get("data", {})]
    assert images and base64.b64decode(images[0].data["image/png"]).startswith(PNG_MAGIC)
    shape = next(c for c in code if "df.shape" in c.source)
    assert [o.output_type for o in shape.outputs] == ["stream", "display_data"]
    assert shape.outputs[0].text.startswith("(")
    assert (
        set(shape.outputs[1].data) == {"text/plain"}
        and "region" in shape.outputs[1].data["text/plain"]
    )
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if "text/html" in o.get("data", {})]
    chart_output = page.locator(".jp-Notebook .jp-OutputArea-output img").first
    chart_output.scroll_into_view_if_needed(timeout=30_000)
    shot(page, "06b-inserted-chart-output")
    LAST_RUN["id"] = run_id


def test_mime_renderer_shows_a_magic_output(page, lab: Lab) -> None:
    # What a `%%agent` cell displays: the run id under AgentForge's MIME type.
    run_id = LAST_RUN.get("id")
    assert run_id, "needs the run of test_run_streams_live_and_inserts_cells"
    cell = nbformat.v4.new_code_cell("%%agent revenue by region")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={RUN_MIME: {"run_id": run_id}, "text/plain": f"AgentForge run {run_id}"},
        )
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(lab.root / "magic.ipynb"))
    page.goto(f"{lab.url}lab/tree/magic.ipynb?token={TOKEN}")
    no_kernel(page, 2)  # the restored analysis.ipynb asks again, then magic.ipynb
    view = page.locator(".jp-OutputArea .agentforge-run-output .agentforge-run")
    view.locator(".agentforge-chart").wait_for(timeout=60_000)
    assert view.get_attribute("data-run-id") == run_id
    page.wait_for_selector('.jp-OutputArea .agentforge-run[data-status="ok"]')
    assert view.locator(".agentforge-insert").count() == 1
    shot(page, "09-magic-output-renderer")


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
