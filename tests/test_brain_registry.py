"""BrainRegistry over state/brains.json (brains/registry.py)."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

from agentforge_jupyter.brains.errors import (
    BrainConfigError,
    DuplicateBrainError,
    UnknownBrainError,
)
from agentforge_jupyter.brains.offline import OfflineBrain, OfflineFinanceBrain
from agentforge_jupyter.brains.openai_brain import OpenAIBrain
from agentforge_jupyter.brains.registry import BrainRegistry, BrainSpec
from agentforge_jupyter.brains.runpod import RunPodBrain
from agentforge_jupyter.brains.transformers_brain import TransformersBrain
from agentforge_jupyter.brains.trust import BrainNotTrustedError, spec_fingerprint
from agentforge_jupyter.errors import CorruptStateError
from agentforge_jupyter.state import StateDir
from agentforge_jupyter.trust import TrustStore
from tests.conftest import require
from tests.fakes import FakeOpenAIServer, FakeVLLMServer, build_tiny_model

SECRET = "sk-test-secret-value-0123456789"


@pytest.fixture(autouse=True)
def _own_config(tmp_path, monkeypatch) -> None:
    """The user's trust records live in a private config directory per test."""
    monkeypatch.setenv("AGENTFORGE_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def registry(tmp_path) -> BrainRegistry:
    return BrainRegistry(StateDir(tmp_path / "state"))


def vllm_spec(**changes) -> BrainSpec:
    values = {
        "name": "qwen",
        "kind": "openai",
        "base_url": "http://gpu-box:8000/v1/",
        "model": "Qwen2.5-7B-Instruct",
        "api_key_env": "VLLM_KEY",
        "timeout": 30,
        "retries": 1,
        "temperature": 0.0,
        "supports_json_schema": True,
    }
    values.update(changes)
    return BrainSpec(**values)


def test_builtins_without_any_file(registry: BrainRegistry) -> None:
    assert registry.names() == ["offline", "offline-finance"]
    assert registry.default_name() == "offline"
    assert isinstance(registry.get(), OfflineBrain)
    assert isinstance(registry.get("offline-finance"), OfflineFinanceBrain)
    assert all(spec.builtin for spec in registry.list())
    assert not registry.path.exists()  # reading never creates the document


def test_default_state_dir_comes_from_the_environment() -> None:
    registry = BrainRegistry()
    assert str(registry.path).startswith(os.environ["AGENTFORGE_STATE_DIR"])


def test_add_persists_and_builds(registry: BrainRegistry, monkeypatch) -> None:
    monkeypatch.setenv("VLLM_KEY", SECRET)
    stored = registry.add(vllm_spec())
    assert stored.base_url == "http://gpu-box:8000/v1"  # normalised
    data = json.loads(registry.path.read_text())
    assert data["schema"] == "agentforge.brains" and data["version"] == 1
    assert data["items"]["qwen"] == {
        "kind": "openai",
        "base_url": "http://gpu-box:8000/v1",
        "model": "Qwen2.5-7B-Instruct",
        "timeout": 30.0,
        "retries": 1,
        "temperature": 0.0,
        "supports_json_schema": True,
    }
    # The key variable of a personal brain is the user's, not the shared state's.
    assert SECRET not in registry.path.read_text() and "VLLM_KEY" not in registry.path.read_text()
    assert "VLLM_KEY" in TrustStore().path.read_text()
    again = BrainRegistry(registry.state)  # a new process sees it
    assert again.names() == ["offline", "offline-finance", "qwen"]
    brain = again.get("qwen")
    assert isinstance(brain, OpenAIBrain)
    assert (brain.model, brain.base_url, brain.api_key_env) == (
        "Qwen2.5-7B-Instruct",
        "http://gpu-box:8000/v1",
        "VLLM_KEY",
    )
    assert (brain.timeout, brain.retries, brain.supports_json_schema) == (30.0, 1, True)
    assert brain.api_key() == SECRET  # read from the environment at call time


def test_runpod_brain(registry: BrainRegistry) -> None:
    registry.add(BrainSpec(name="rp", kind="runpod", endpoint_id="ep123", model="finance-lora"))
    item = json.loads(registry.path.read_text())["items"]["rp"]
    assert "api_key_env" not in item and "base_url" not in item
    brain = registry.get("rp")
    assert brain.api_key_env == "RUNPOD_API_KEY"
    assert isinstance(brain, RunPodBrain)
    assert brain.base_url == "https://api.runpod.ai/v2/ep123/openai/v1"
    with pytest.raises(BrainConfigError, match="endpoint_id"):
        registry.add(BrainSpec(name="rp2", kind="runpod", model="m"))
    with pytest.raises(BrainConfigError, match="leave base_url unset"):
        registry.add(
            BrainSpec(name="rp3", kind="runpod", endpoint_id="e", model="m", base_url="http://x/v1")
        )


def test_key_variable_defaults(registry: BrainRegistry) -> None:
    registry.add(BrainSpec(name="gpt", base_url="https://api.openai.com/v1", model="gpt-4o-mini"))
    assert registry.get("gpt").api_key_env == "OPENAI_API_KEY"
    # Self-hosted servers often need no key: none unless one is named.
    registry.add(BrainSpec(name="ollama", base_url="http://localhost:11434/v1", model="llama3"))
    registry.add(BrainSpec(name="lan", base_url="http://gpu-box:8000/v1", model="qwen"))
    assert registry.get("ollama").api_key_env is None
    assert registry.get("lan").api_key_env is None


def test_duplicates_and_replace(registry: BrainRegistry) -> None:
    registry.add(vllm_spec())
    with pytest.raises(DuplicateBrainError, match="already exists"):
        registry.add(vllm_spec(model="other"))
    registry.add(vllm_spec(model="other"), replace=True)
    assert registry.get_spec("qwen").model == "other"


@pytest.mark.parametrize("name", ["HF_TOKEN", "SK_PROD_KEY", "GSK_API_KEY", "XAI_KEY"])
def test_key_variable_names_that_look_like_key_prefixes_are_names(
    registry: BrainRegistry, name: str
) -> None:
    # Keys start with lower-case prefixes (hf_..., sk-...); upper-case names are variables.
    registry.add(vllm_spec(api_key_env=name))
    assert registry.get("qwen").api_key_env == name


def test_remove(registry: BrainRegistry) -> None:
    registry.add(vllm_spec())
    removed = registry.remove("qwen")
    assert removed.model == "Qwen2.5-7B-Instruct"
    assert "qwen" not in registry.names()
    with pytest.raises(UnknownBrainError, match="No stored brain named 'qwen'"):
        registry.remove("qwen")
    for builtin in ("offline", "offline-finance"):
        with pytest.raises(BrainConfigError, match="built-in"):
            registry.remove(builtin)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"api_key_env": SECRET}, "NAME of an environment variable"),
        ({"api_key_env": "rpa_ABCDEF0123456789"}, "not the key itself"),
        ({"api_key_env": "hf_ABCDEF0123456789"}, "not the key itself"),
        ({"model": "sk-abcdefghijklmnopqrstuvwxyz123456"}, "looks like an API key"),
        ({"api_key_env": "MY KEY"}, "NAME of an environment variable"),
        ({"base_url": "https://user:pw@host/v1"}, "must not contain credentials"),
        ({"base_url": "https://host/v1?api_key=abc"}, "must not contain credentials"),
        ({"base_url": "gpu-box:8000"}, "not an http"),
        ({"base_url": None}, "needs a base_url"),
        ({"model": ""}, "needs a model"),
        ({"name": "bad name!"}, "Invalid brain name"),
        ({"kind": "llamafile"}, "unknown kind"),
        ({"timeout": 0}, "timeout must be more than 0"),
        ({"retries": -1}, "retries must be between"),
        ({"temperature": 5}, "temperature must be between"),
        ({"name": "offline"}, "built in"),
        ({"kind": "offline"}, "built in"),
    ],
)
def test_bad_specs_are_refused_and_nothing_is_written(
    registry: BrainRegistry, changes: dict, message: str
) -> None:
    with pytest.raises(BrainConfigError, match=message):
        registry.add(vllm_spec(**changes))
    assert not registry.path.exists()


def test_unknown_brain_lists_known_ones(registry: BrainRegistry) -> None:
    with pytest.raises(UnknownBrainError, match="Known brains: offline, offline-finance"):
        registry.get("nope")


def test_default_brain(registry: BrainRegistry) -> None:
    registry.add(vllm_spec())
    assert registry.default_name() == "offline"
    registry.set_default("qwen")
    assert registry.default_name() == "qwen"
    assert isinstance(registry.get(), OpenAIBrain)
    with pytest.raises(UnknownBrainError):
        registry.set_default("missing")
    registry.remove("qwen")  # removing the default falls back to offline
    assert registry.default_name() == "offline"
    assert "default" not in json.loads(registry.path.read_text())


def test_hand_edited_key_in_the_file_is_refused(registry: BrainRegistry) -> None:
    registry.add(vllm_spec())
    data = json.loads(registry.path.read_text())
    data["items"]["qwen"]["api_key"] = SECRET
    registry.path.write_text(json.dumps(data))
    with pytest.raises(BrainConfigError, match="api_key_env") as caught:
        registry.get("qwen")
    assert SECRET not in str(caught.value)
    assert "agentforge brains remove qwen" in str(caught.value)
    # The others stay usable, and the listing marks the invalid one instead of failing.
    assert "qwen" not in registry.names()
    entry = next(e for e in registry.entries() if e.name == "qwen")
    assert entry.spec is None and "api_key_env" in (entry.problem or "")


def test_unknown_settings_are_ignored_and_kept(registry: BrainRegistry) -> None:
    registry.add(vllm_spec(api_key_env=None))
    data = json.loads(registry.path.read_text())
    data["items"]["qwen"]["added_in_v2"] = {"x": 1}
    registry.path.write_text(json.dumps(data))
    assert registry.get_spec("qwen").model == "Qwen2.5-7B-Instruct"
    registry.set_default("qwen")
    assert json.loads(registry.path.read_text())["items"]["qwen"]["added_in_v2"] == {"x": 1}


@pytest.mark.parametrize(
    "bad",
    [
        {"timeout": "soon"},
        {"retries": 2.5},
        {"temperature": True},
        {"max_tokens": 0},
        {"kind": ["openai"]},
        {"supports_json_schema": "yes"},
        {"base_url": 7},
    ],
)
def test_wrong_types_in_a_stored_entry_are_marked_not_raised(
    registry: BrainRegistry, bad: dict
) -> None:
    registry.add(vllm_spec(name="good", api_key_env=None))
    data = json.loads(registry.path.read_text())
    data["items"]["bad"] = {**data["items"]["good"], **bad}
    registry.path.write_text(json.dumps(data))
    rows = {e.name: e for e in registry.entries()}
    assert rows["good"].spec is not None and rows["bad"].spec is None
    assert "bad" in (rows["bad"].problem or "")
    with pytest.raises(BrainConfigError):
        registry.get("bad")


def test_corrupt_file_is_reported_and_builtins_still_work(registry: BrainRegistry) -> None:
    registry.path.parent.mkdir(parents=True, exist_ok=True)
    registry.path.write_text("{not json")
    with pytest.raises(CorruptStateError, match="agentforge state repair brains"):
        registry.list()
    assert isinstance(registry.get("offline"), OfflineBrain)
    assert registry.path.read_text() == "{not json"  # left untouched


def test_configured_extra_brains(tmp_path) -> None:
    extra = [BrainSpec(name="conf", base_url="http://localhost:9/v1", model="m")]
    registry = BrainRegistry(tmp_path / "state", extra=extra)
    assert registry.names() == ["offline", "offline-finance", "conf"]
    assert isinstance(registry.get("conf"), OpenAIBrain)
    assert not registry.path.exists()
    with pytest.raises(BrainConfigError, match="configuration"):
        registry.remove("conf")
    with pytest.raises(BrainConfigError, match="built-in names"):
        BrainRegistry(
            tmp_path, extra=[BrainSpec(name="offline", base_url="http://h/v1", model="m")]
        )


def test_spec_round_trip() -> None:
    spec = vllm_spec().validated()
    assert BrainSpec.from_dict(spec.to_dict()) == spec
    assert spec.describe() == (
        "qwen: openai Qwen2.5-7B-Instruct at http://gpu-box:8000/v1, key from $VLLM_KEY"
    )


async def test_list_models_through_the_registry(registry: BrainRegistry) -> None:
    with FakeOpenAIServer(models=["base", "finance-lora"]) as server:
        registry.add(BrainSpec(name="local", base_url=server.base_url, model="base"))
        assert await registry.list_models("local") == ["base", "finance-lora"]
    assert await registry.list_models("offline") == ["agentforge-offline-rules-v1"]


def test_a_transformers_brain_added_here_is_allowed_by_adding_it(
    registry: BrainRegistry, tmp_path, monkeypatch
) -> None:
    adapter = tmp_path / "lora"
    spec = registry.add(
        BrainSpec(name="mine", kind="transformers", model="org/m", adapter=str(adapter))
    )
    assert spec_fingerprint(spec) in TrustStore().allowed_brains()
    assert isinstance(registry.get("mine"), TransformersBrain)  # nothing is loaded yet
    # Someone else opening this state directory has not allowed it.
    monkeypatch.setenv("AGENTFORGE_CONFIG_DIR", str(tmp_path / "teammate"))
    with pytest.raises(BrainNotTrustedError, match=f"adapter {adapter} on this machine"):
        BrainRegistry(registry.state).get("mine")


def test_a_brain_from_a_finished_training_job_needs_no_approval(tmp_path, monkeypatch) -> None:
    missing = [m for m in ("torch", "transformers", "peft") if importlib.util.find_spec(m) is None]
    require(not missing, f"the train extra is missing {missing}: pip install -e '.[train]'")
    from agentforge_jupyter.training import TrainingJobs

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = build_tiny_model(tmp_path / "model", ["print(df['sales'].sum())"] * 4)
    state = StateDir(tmp_path / "state")
    jobs = TrainingJobs(state)
    data = [{"prompt": f"q{i}", "completion": f"print({i})"} for i in range(4)]
    job = jobs.wait(jobs.start({"base_model": model, "data": data, "max_steps": 2}), timeout=600)
    assert job["status"] == "completed" and job["brain"], (job.get("error"), job.get("brain_error"))
    # Registered by the job's runner process, through the product's own code path.
    registry = BrainRegistry(state)
    brain = registry.get(job["brain"])
    assert isinstance(brain, TransformersBrain) and brain.adapter == job["adapter"]
    assert brain.model == model
    entry = next(e for e in registry.entries() if e.name == job["brain"])
    assert entry.trust == "allowed"
    # A teammate on the same (shared) state directory has to allow it first.
    monkeypatch.setenv("AGENTFORGE_CONFIG_DIR", str(tmp_path / "teammate"))
    with pytest.raises(BrainNotTrustedError, match="it loads model files from"):
        BrainRegistry(state).get(job["brain"])


def test_an_adapter_on_a_server_keeps_the_server_brains_personal_key(
    registry: BrainRegistry, monkeypatch
) -> None:
    from agentforge_jupyter.training.adapters import add_adapter_to_server

    monkeypatch.setenv("VLLM_KEY", SECRET)
    with FakeVLLMServer(models=["base"]) as server:
        registry.add(vllm_spec(name="vllm", base_url=server.base_url, model="base"))
        add_adapter_to_server("fin", "vllm", "/a/fin", registry=registry)
        load = next(r for r in server.requests if r.path.endswith("/load_lora_adapter"))
        assert load.headers.get("authorization") == f"Bearer {SECRET}"
        brain = registry.get("fin")  # the user's own: no `state trust` needed
        assert isinstance(brain, OpenAIBrain) and brain.api_key() == SECRET
        assert "VLLM_KEY" not in registry.path.read_text()


def test_a_finished_job_never_replaces_a_brain_no_job_made(tmp_path, monkeypatch) -> None:
    """A job named like the user's own brain (or a built-in) registers `NAME-JOBID`; a brain an
    earlier job registered under the name is replaced (retraining it)."""
    from agentforge_jupyter.training.adapters import register_adapter_brain

    state = StateDir(tmp_path / "state")
    monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(state.root))
    registry = BrainRegistry(state)
    registry.add(vllm_spec(name="analyst"))
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    result = {"adapter": str(adapter), "train_loss": 1.0}

    def job(ident: str, name: str) -> dict:
        return {"id": ident, "name": name, "backend": "local", "spec": {"base_model": "org/m"}}

    first = register_adapter_brain(job("20260101-000000-aaaa01", "analyst"), result)
    assert first == "analyst-20260101-000000-aaaa01"
    assert BrainRegistry(state).get_spec("analyst").kind == "openai"  # untouched
    assert register_adapter_brain(job("20260101-000000-aaaa02", "offline"), result) == (
        "offline-20260101-000000-aaaa02"
    )
    # Retraining a specialist under its name replaces the earlier job's brain.
    assert register_adapter_brain(job("20260101-000000-aaaa03", "fin"), result) == "fin"
    assert register_adapter_brain(job("20260101-000000-aaaa04", "fin"), result) == "fin"
    assert BrainRegistry(state).get_spec("fin").provenance["job_id"] == "20260101-000000-aaaa04"
