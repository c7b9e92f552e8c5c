"""What the browser tests share (star-imported by tests/test_browser_*.py for the fixtures): a
real `jupyter lab` on loopback with a token, a temporary state directory and a brain registered
against a fake OpenAI server, and Debian's chromium driven by Playwright. Each test module gets
its own lab and browser (module scope). Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

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
from .fakes import FakeOpenAIServer

__all__ = ["fake_brain", "lab", "page"]

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
def lab(
    tmp_path_factory: pytest.TempPathFactory, fake_brain, request: pytest.FixtureRequest
) -> Iterator[Lab]:
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
        # One lab per test module: each keeps its own log.
        module = request.module.__name__.rsplit(".", 1)[-1]
        shutil.copy(root / "lab.log", ARTIFACTS / f"lab-{module}.log")


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
        # The panel's launcher is there before a module's first test opens a tab.
        page.wait_for_selector('li[data-id="agentforge-panel"]', timeout=60_000)
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
