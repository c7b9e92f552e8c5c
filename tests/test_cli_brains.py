"""`agentforge brains ...` as a subprocess, against a fake OpenAI-compatible server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .cli_support import agentforge
from .fakes import FakeOpenAIServer


@pytest.fixture(autouse=True)
def _own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFORGE_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


def test_builtin_offline_brains_are_listed_and_default(state: Path) -> None:
    out = agentforge("brains", "list", "--json", state=state)
    brains = {b["name"]: b for b in json.loads(out.stdout)}
    assert {"offline", "offline-finance"} <= set(brains)
    assert brains["offline"]["default"] is True


def test_add_models_remove_against_a_real_http_endpoint(state: Path) -> None:
    with FakeOpenAIServer(models=["base-7b", "finance-lora"]) as server:
        added = agentforge(
            "brains",
            "add",
            "lab",
            "--base-url",
            server.base_url,
            "--model",
            "finance-lora",
            state=state,
        )
        assert added.returncode == 0, added.stderr
        models = agentforge("brains", "models", "lab", "--json", state=state)
        assert models.returncode == 0, models.stderr
        assert json.loads(models.stdout) == ["base-7b", "finance-lora"]
        assert [r.path for r in server.requests][-1].endswith("/models")
    assert agentforge("brains", "remove", "lab", state=state).returncode == 0
    names = [
        b["name"] for b in json.loads(agentforge("brains", "list", "--json", state=state).stdout)
    ]
    assert "lab" not in names


def test_model_names_from_the_endpoint_print_without_terminal_escapes(state: Path) -> None:
    """The endpoint is outside input: a model id could carry OSC 52 (clipboard) or CSI 2J."""
    with FakeOpenAIServer(models=["plain", "evil\x1b]52;c;SGk=\x07\x1b[2J\u202e"]) as server:
        added = agentforge(
            "brains", "add", "lab", "--base-url", server.base_url, "--model", "plain", state=state
        )
        assert added.returncode == 0, added.stderr
        models = agentforge("brains", "models", "lab", state=state)
    assert models.returncode == 0, models.stderr
    assert models.stdout.split() == ["plain", "evil"]


def test_runpod_brain_builds_the_openai_url_and_stores_no_key(state: Path) -> None:
    out = agentforge(
        "brains", "add", "fin", "--runpod-endpoint", "ep123", "--model", "fin-lora", state=state
    )
    assert out.returncode == 0, out.stderr
    stored = json.loads((state / "brains.json").read_text())["items"]["fin"]
    assert stored["endpoint_id"] == "ep123"
    assert "api_key" not in stored and "api_key_env" not in stored  # the user's, not shared
    listed = {
        b["name"]: b for b in json.loads(agentforge("brains", "list", "--json", state=state).stdout)
    }
    assert listed["fin"]["api_key_env"] == "RUNPOD_API_KEY" and listed["fin"]["trust"] == "personal"


def test_a_key_typed_as_the_variable_name_is_refused(state: Path) -> None:
    out = agentforge(
        "brains",
        "add",
        "oops",
        "--base-url",
        "https://api.openai.com/v1",
        "--model",
        "gpt",
        "--api-key-env",
        "sk-live-abcdef",
        state=state,
    )
    assert out.returncode == 2
    assert "api_key_env" in out.stderr or "key" in out.stderr.lower()
    brains_json = state / "brains.json"
    assert not brains_json.exists() or "sk-live-abcdef" not in brains_json.read_text()
