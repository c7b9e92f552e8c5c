"""A trained adapter becomes a brain: locally (kind ``transformers``) or on a vLLM server.

``register_adapter_brain`` runs when a job completes: the brain is named after the job and keeps
its provenance (job id, base model, data hash, final losses). It is stored through
``BrainRegistry.add``, which records this user's approval of the files it loads (as
``agentforge brains add`` does), so the user's own brain needs no ``state trust``; the same
entry in someone else's copy of the state directory waits for theirs.

``add_adapter_to_server`` loads an adapter into a running vLLM server (``POST
/v1/load_lora_adapter``, allowed when the server runs with
``VLLM_ALLOW_RUNTIME_LORA_UPDATING=True``), verifies it through ``/v1/models``, and
registers a brain that selects it by ``"model": NAME``. When the server refuses runtime
loading, the error gives the exact ``--lora-modules`` / ``LORA_MODULES`` setting to use.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentforge_jupyter.brains.errors import BrainConfigError
from agentforge_jupyter.brains.registry import BrainRegistry, BrainSpec
from agentforge_jupyter.training.errors import TrainingBackendError, TrainingError

__all__ = [
    "AdapterResult",
    "add_adapter_to_server",
    "brain_name_for",
    "lora_modules_setting",
    "register_adapter_brain",
]


def brain_name_for(job: dict[str, Any]) -> str:
    return str(job.get("name") or f"lora-{job['id']}")


def register_adapter_brain(job: dict[str, Any], result: dict[str, Any]) -> str:
    """Register the finished job's adapter as a ``transformers`` brain; returns its name."""
    adapter = result.get("adapter")
    if not adapter or not (Path(adapter) / "adapter_config.json").is_file():
        raise TrainingError(
            f"The adapter {adapter!r} is not readable from this machine (on a RunPod network "
            "volume?). Serve it with vLLM and run `agentforge brains add-adapter "
            f"{brain_name_for(job)} --server BRAIN --path PATH`."
        )
    registry = BrainRegistry()
    spec = BrainSpec(
        name=_free_brain_name(registry, job),
        kind="transformers",
        # The base model this user chose in the job's spec, not one a (remote) worker reports.
        model=str(job["spec"].get("base_model") or result.get("base_model")),
        adapter=str(adapter),
        provenance=_provenance(job, result),
    )
    registry.add(spec, replace=True)
    return spec.name


def _free_brain_name(registry: BrainRegistry, job: dict[str, Any]) -> str:
    """The job's brain name, unless a brain no training job made has it (one the user added,
    a built-in): then ``NAME-JOBID``, so that finishing a job never replaces someone's brain.
    A brain an earlier job registered under the name is replaced: that is retraining it."""
    wanted = brain_name_for(job)
    try:
        existing = registry.get_spec(wanted)
    except BrainConfigError:  # no such brain (or an unreadable entry, which add() reports)
        return wanted
    provenance = existing.provenance if isinstance(existing.provenance, dict) else {}
    if existing.kind == "transformers" and provenance.get("job_id"):
        return wanted
    return f"{wanted}-{job['id']}"


def _provenance(job: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    return {
        "job_id": job["id"],
        "backend": job.get("backend"),
        "base_model": result.get("base_model") or job["spec"]["base_model"],
        "data_sha256": result.get("data_sha256") or job.get("data_sha256"),
        "examples": result.get("examples") or job.get("examples"),
        "steps": result.get("steps"),
        "train_loss": result.get("train_loss"),
        "eval_loss": result.get("eval_loss"),
        "lora_r": job["spec"].get("lora_r"),
        "lora_alpha": job["spec"].get("lora_alpha"),
    }


def lora_modules_setting(name: str, path: str, base_model: str | None = None) -> str:
    """The vLLM start-up settings that serve ``path`` as ``name``."""
    module: dict[str, str] = {"name": name, "path": path}
    if base_model:
        module["base_model_name"] = base_model
    as_json = json.dumps(module)
    return (
        f"vllm serve BASE_MODEL --enable-lora --lora-modules '{as_json}'\n"
        f"RunPod worker-vllm environment: ENABLE_LORA=true LORA_MODULES='[{as_json}]'"
    )


@dataclass
class AdapterResult:
    name: str
    loaded: bool
    message: str


def add_adapter_to_server(
    name: str,
    server_brain: str,
    path: str,
    *,
    registry: BrainRegistry | None = None,
    timeout: float = 60.0,
) -> AdapterResult:
    """Load ``path`` as LoRA ``name`` into the vLLM server behind brain ``server_brain``,
    check /v1/models lists it, and register brain ``name`` selecting it."""
    registry = registry or BrainRegistry()
    # As runs use it: allowed, with the user's personal key variable (not stored in brains.json).
    server = registry.usable_spec(server_brain)
    brain = registry.get(server_brain)
    base_url = getattr(brain, "base_url", None)
    if not base_url:
        raise TrainingError(
            f"Brain {server_brain!r} ({server.kind}) is not an OpenAI-compatible server; use a "
            "brain that points at a vLLM server (kind openai or runpod)."
        )
    headers = {}
    key = brain.api_key() if hasattr(brain, "api_key") else None
    if key:
        headers["Authorization"] = f"Bearer {key}"
    refused = _load(base_url, headers, name, path, timeout)
    if refused:
        setting = lora_modules_setting(name, path, server.model)
        raise TrainingBackendError(
            f"The server behind {server_brain!r} does not load adapters at run time "
            f"({refused}). Start it with the adapter instead:\n{setting}"
        )
    served = _models(base_url, headers, timeout)
    if name not in served:
        raise TrainingBackendError(
            f"The server accepted adapter {name!r} but /v1/models does not list it (it lists "
            f"{served}); check the server log."
        )
    spec = BrainSpec(
        name=name,
        kind=server.kind,
        base_url=server.base_url,
        endpoint_id=server.endpoint_id,
        model=name,
        api_key_env=server.api_key_env,
        timeout=server.timeout,
        retries=server.retries,
        temperature=server.temperature,
        provenance={"adapter_path": path, "server_brain": server_brain},
    )
    registry.add(spec, replace=True)
    return AdapterResult(name, True, f"adapter {name!r} loaded on {base_url} and registered")


def _http(
    method: str, url: str, headers: dict[str, str], body: Any, timeout: float
) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(1_000_000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(1_000_000).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        raise TrainingBackendError(f"Cannot reach {url}: {exc}") from exc


def _load(
    base_url: str, headers: dict[str, str], name: str, path: str, timeout: float
) -> str | None:
    """None when loaded; otherwise why the server refused runtime loading."""
    url = f"{base_url.rstrip('/')}/load_lora_adapter"
    status, text = _http("POST", url, headers, {"lora_name": name, "lora_path": path}, timeout)
    if status in (404, 405, 501):
        return f"HTTP {status} from {url}"
    if status >= 400:
        if "already" in text.lower():
            return None  # vLLM refuses a name it already serves: it is loaded
        raise TrainingBackendError(
            f"The server refused to load adapter {name!r} from {path} (HTTP {status}): "
            f"{text[:300]}. The path must be readable by the server."
        )
    return None


def _models(base_url: str, headers: dict[str, str], timeout: float) -> list[str]:
    url = f"{base_url.rstrip('/')}/models"
    status, text = _http("GET", url, headers, None, timeout)
    try:
        if status >= 400:
            raise ValueError(f"HTTP {status}: {text[:200]}")
        return [str(m.get("id")) for m in json.loads(text).get("data", [])]
    except (ValueError, AttributeError) as exc:
        raise TrainingBackendError(f"Cannot list the server's models at {url}: {exc}") from exc
