"""The transformers brain (a local base model plus a LoRA adapter) and serving an adapter on a
vLLM-compatible server (`agentforge brains add-adapter`)."""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from agentforge_jupyter.brains.base import BrainRequest
from agentforge_jupyter.brains.errors import BrainConfigError
from agentforge_jupyter.brains.prompts import build_messages, prompt_hash
from agentforge_jupyter.brains.registry import BrainRegistry, BrainSpec
from agentforge_jupyter.brains.transformers_brain import (
    PickleWeightsError,
    TransformersBrain,
    load_model,
)
from agentforge_jupyter.cli import main
from agentforge_jupyter.state import StateDir
from agentforge_jupyter.training.adapters import add_adapter_to_server
from agentforge_jupyter.training.errors import TrainingBackendError
from tests.conftest import require
from tests.fakes import FakeVLLMServer, build_tiny_model

TEXTS = ["You are AgentForge. Task: code. Goal: total sales. print(df['sales'].sum())"] * 8


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # nothing may be downloaded


# Files opened by this process under watched directories (an audit hook cannot be removed, so
# one hook serves every test and records only while a directory is watched).
_WATCHED: dict[str, list[str]] = {}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _WATCHED and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        for prefix, seen in _WATCHED.items():
            if path.startswith(prefix):
                seen.append(path)


sys.addaudithook(_audit)


@contextmanager
def opened_under(directory: Path) -> Iterator[list[str]]:
    """The paths this process opens under ``directory`` meanwhile."""
    seen: list[str] = []
    _WATCHED[str(directory)] = seen
    try:
        yield seen
    finally:
        _WATCHED.pop(str(directory), None)


class _Hostile:
    """Unpickling this creates the marker file (as `os.system` could run anything)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


def write_hostile_pickle(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps({"model.embed_tokens.weight": _Hostile(marker)}))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    missing = [m for m in ("torch", "transformers", "peft") if importlib.util.find_spec(m) is None]
    require(not missing, f"the train extra is missing {missing}: pip install -e '.[train]'")
    from agentforge_jupyter.training.worker import handler

    root = tmp_path_factory.mktemp("brain")
    model = build_tiny_model(root / "model", TEXTS)
    data = [{"prompt": f"q{i}", "completion": f"print({i})"} for i in range(4)]
    spec = {"base_model": model, "data": data, "max_steps": 2, "output_dir": str(root / "lora")}
    result = list(handler({"id": "b", "input": spec}))[-1]
    assert result["type"] == "result", result
    return model, result["adapter"]


async def test_generates_through_the_adapter(trained: tuple[str, str]) -> None:
    model, adapter = trained
    brain = TransformersBrain(name="spec", model=model, adapter=adapter, max_new_tokens=12)
    request = BrainRequest(task="code", goal="total sales")
    pieces: list[str] = []
    reply = await brain.ask(request, on_delta=pieces.append)
    assert reply.text and "".join(pieces) == reply.text
    assert reply.prompt_hash == prompt_hash(build_messages(request))
    assert 0 < reply.completion_tokens <= 12 and reply.prompt_tokens > 0
    from peft import PeftModel

    from agentforge_jupyter.brains.transformers_brain import load_model

    _tokenizer, loaded = load_model(model, adapter)
    assert isinstance(loaded, PeftModel)  # the adapter is really applied


def test_registry_kind_and_validation(trained: tuple[str, str], tmp_path: Path) -> None:
    model, adapter = trained
    registry = BrainRegistry(StateDir(tmp_path))
    registry.add(
        BrainSpec(
            name="spec",
            kind="transformers",
            model=model,
            adapter=adapter,
            provenance={"job_id": "j1"},
        )
    )
    brain = registry.get("spec")
    assert isinstance(brain, TransformersBrain) and brain.adapter == adapter
    assert "LoRA adapter" in registry.get_spec("spec").describe()
    with pytest.raises(BrainConfigError, match="needs a model"):
        BrainSpec(name="x", kind="transformers").validated()
    with pytest.raises(BrainConfigError, match="runs locally"):
        BrainSpec(name="x", kind="transformers", model=model, base_url="http://x/v1").validated()
    with pytest.raises(BrainConfigError, match="runs locally"):  # no key to send anywhere
        BrainSpec(name="x", kind="transformers", model=model, api_key_env="MY_TOKEN").validated()


async def test_missing_adapter_is_a_config_error(trained: tuple[str, str], tmp_path) -> None:
    model, _ = trained
    brain = TransformersBrain(name="gone", model=model, adapter=str(tmp_path / "moved"))
    with pytest.raises(BrainConfigError, match=r"adapter_config\.json is missing"):
        await brain.ask(BrainRequest(task="plan", goal="g"))


def _server_brain(tmp_path: Path, base_url: str) -> BrainRegistry:
    registry = BrainRegistry(StateDir(tmp_path))
    registry.add(BrainSpec(name="vllm", kind="openai", base_url=base_url, model="base"))
    return registry


def test_add_adapter_loads_and_verifies(tmp_path: Path) -> None:
    with FakeVLLMServer(models=["base"]) as server:
        registry = _server_brain(tmp_path, server.base_url)
        result = add_adapter_to_server("sales-lora", "vllm", "/adapters/x", registry=registry)
        assert result.loaded and server.loaded == {"sales-lora": "/adapters/x"}
        load = next(r for r in server.requests if r.path.endswith("/load_lora_adapter"))
        assert load.body == {"lora_name": "sales-lora", "lora_path": "/adapters/x"}
        assert any(r.path.endswith("/models") for r in server.requests)
        spec = registry.get_spec("sales-lora")
        assert spec.model == "sales-lora" and spec.base_url == server.base_url


def test_add_adapter_without_runtime_loading_prints_the_setting(tmp_path: Path) -> None:
    with FakeVLLMServer(models=["base"], runtime_lora=False) as server:
        registry = _server_brain(tmp_path, server.base_url)
        with pytest.raises(TrainingBackendError) as info:
            add_adapter_to_server("sales-lora", "vllm", "/adapters/x", registry=registry)
    text = str(info.value)
    module = json.dumps({"name": "sales-lora", "path": "/adapters/x", "base_model_name": "base"})
    assert f"--enable-lora --lora-modules '{module}'" in text
    assert f"LORA_MODULES='[{module}]'" in text


def test_brains_add_adapter_command(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(tmp_path))
    with FakeVLLMServer(models=["base"]) as server:
        _server_brain(tmp_path, server.base_url)
        code = main(["brains", "add-adapter", "fin", "--server", "vllm", "--path", "/a/fin"])
        assert code == 0 and "loaded" in capsys.readouterr().out
        assert server.loaded == {"fin": "/a/fin"}
        # Loading again is harmless: vLLM says it already serves it, /v1/models confirms.
        assert main(["brains", "add-adapter", "fin", "--server", "vllm", "--path", "/a/fin"]) == 0


def test_pickle_only_model_is_refused_before_anything_is_unpickled(
    trained: tuple[str, str], tmp_path: Path
) -> None:
    model, _ = trained
    hostile = Path(shutil.copytree(model, tmp_path / "model"))
    (hostile / "model.safetensors").unlink()
    marker = tmp_path / "unpickled-marker"
    write_hostile_pickle(hostile / "pytorch_model.bin", marker)
    with opened_under(hostile) as opened, pytest.raises(PickleWeightsError) as info:
        load_model(str(hostile))
    message = str(info.value)
    assert str(hostile) in message and "pytorch_model.bin" in message
    assert "safetensors" in message and "save_pretrained" in message
    assert "weights_only" not in message  # never advise loading the pickle
    assert not marker.exists()
    assert not any(p.endswith(".bin") for p in opened)  # never even opened


async def test_pickle_only_adapter_is_refused_through_the_brain(
    trained: tuple[str, str], tmp_path: Path
) -> None:
    model, adapter = trained
    hostile = Path(shutil.copytree(adapter, tmp_path / "adapter"))
    (hostile / "adapter_model.safetensors").unlink()
    marker = tmp_path / "unpickled-marker"
    write_hostile_pickle(hostile / "adapter_model.bin", marker)
    brain = TransformersBrain(name="shared", model=model, adapter=str(hostile))
    with opened_under(hostile) as opened, pytest.raises(BrainConfigError) as info:
        await brain.ask(BrainRequest(task="plan", goal="g"))
    assert "LoRA adapter" in str(info.value) and "adapter_model.bin" in str(info.value)
    assert "adapter_model.safetensors" in str(info.value)
    assert not marker.exists()
    assert not any(p.endswith(".bin") for p in opened)


def test_safetensors_are_preferred_over_a_pickle_beside_them(
    trained: tuple[str, str], tmp_path: Path
) -> None:
    model, adapter = trained
    both = Path(shutil.copytree(model, tmp_path / "model"))
    marker = tmp_path / "unpickled-marker"
    write_hostile_pickle(both / "pytorch_model.bin", marker)
    with opened_under(both) as opened:
        _tokenizer, loaded = load_model(str(both), adapter)
    assert loaded.config.vocab_size > 0
    assert not marker.exists() and not any(p.endswith(".bin") for p in opened)


def test_a_relative_model_directory_is_stored_as_an_absolute_path(
    trained: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, adapter = trained
    monkeypatch.chdir(Path(model).parent)
    spec = BrainSpec(
        name="rel", kind="transformers", model=Path(model).name, adapter=adapter
    ).validated()
    assert spec.model == model
    hub = BrainSpec(name="hub", kind="transformers", model="agentforge-test/none").validated()
    assert hub.model == "agentforge-test/none"  # a Hub id stays an id


_LOAD_FROM_HUB_CACHE = """
import json, os, sys
opened = []
sys.addaudithook(lambda e, a: opened.append(str(a[0])) if e == "open" else None)
from agentforge_jupyter.brains.transformers_brain import load_model
try:
    load_model("agentforge-test/pickled")
    outcome = {"loaded": True}
except Exception as exc:
    outcome = {"error": type(exc).__name__, "message": str(exc)}
outcome["opened_bin"] = [p for p in opened if p.endswith(".bin")]
print(json.dumps(outcome))
"""


def test_a_hub_model_without_safetensors_is_refused(
    trained: tuple[str, str], tmp_path: Path
) -> None:
    # A Hub id whose (cached) snapshot has only a hostile pytorch_model.bin. A subprocess,
    # because huggingface_hub reads HF_HUB_OFFLINE and HF_HUB_CACHE once, at import.
    model, _ = trained
    repo = tmp_path / "cache" / "models--agentforge-test--pickled"
    snapshot = Path(shutil.copytree(model, repo / "snapshots" / ("0" * 40)))
    (snapshot / "model.safetensors").unlink()
    marker = tmp_path / "unpickled-marker"
    write_hostile_pickle(snapshot / "pytorch_model.bin", marker)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_FROM_HUB_CACHE],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome.get("error") == "PickleWeightsError", outcome
    assert "agentforge-test/pickled" in outcome["message"]
    assert "save_pretrained" in outcome["message"] and "weights_only" not in outcome["message"]
    assert outcome["opened_bin"] == [] and not marker.exists()
