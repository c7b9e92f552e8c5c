"""Brains described as data: ``state/brains.json``, plus the built-in offline brains.

The document holds one item per brain name (its :class:`BrainSpec` without the name) and an
optional top-level ``"default"``. API keys are never stored: a spec names the environment
variable that holds the key, and a value that looks like a key is refused.

"offline" and "offline-finance" are always present and cannot be removed or replaced; the
default brain is "offline" unless another default was set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agentforge_jupyter.brains.base import Brain
from agentforge_jupyter.brains.errors import (
    BrainConfigError,
    DuplicateBrainError,
    UnknownBrainError,
)
from agentforge_jupyter.state import StateDir

__all__ = [
    "BUILTIN_BRAINS",
    "DEFAULT_BRAIN",
    "KINDS",
    "BrainRegistry",
    "BrainSpec",
    "brain_from_spec",
]

KINDS = ("openai", "runpod", "offline", "transformers")
DEFAULT_BRAIN = "offline"
DOCUMENT = "brains"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# Prefixes of real keys (OpenAI, RunPod, Hugging Face, Groq, xAI, Anthropic): a value that
# starts like this is a key typed where a variable name belongs.
_KEY_PREFIX_RE = re.compile(r"^(sk-|sk_|rpa_|hf_|gsk_|xai-|sk-ant-)", re.IGNORECASE)


@dataclass
class BrainSpec:
    """One brain, as stored in brains.json (the key itself never is)."""

    name: str
    kind: str = "openai"
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    endpoint_id: str | None = None
    timeout: float = 60.0
    retries: int = 2
    temperature: float = 0.2
    supports_json_schema: bool = False
    # kind "transformers": a local LoRA adapter directory on top of `model`, and where it came
    # from (training job, base model, data hash, final losses).
    adapter: str | None = None
    provenance: dict[str, Any] | None = None

    @property
    def builtin(self) -> bool:
        return self.name in BUILTIN_BRAINS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, without unset (None) settings."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, name: str | None = None) -> BrainSpec:
        """A spec from JSON (``name`` overrides a missing or different ``data["name"]``)."""
        if not isinstance(data, dict):
            raise BrainConfigError(
                f"Brain {name!r} is described by a {type(data).__name__}, not an object."
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            hint = (
                " Keys are never stored: name the environment variable with api_key_env."
                if any("key" in k.lower() and k != "api_key_env" for k in unknown)
                else ""
            )
            raise BrainConfigError(
                f"Brain {name or data.get('name')!r} has unknown settings {unknown}; allowed "
                f"settings are {sorted(known)}.{hint}"
            )
        values = dict(data)
        if name is not None:
            values["name"] = name
        if "name" not in values:
            raise BrainConfigError("A brain spec needs a name.")
        return cls(**values).validated()

    def validated(self) -> BrainSpec:
        """This spec, checked and normalised; raises BrainConfigError saying what to fix."""
        name = str(self.name or "").strip()
        if not _NAME_RE.match(name):
            raise BrainConfigError(
                f"Invalid brain name {self.name!r}: use letters, digits, '_', '-' and '.', "
                "starting with a letter or digit (at most 64 characters)."
            )
        kind = str(self.kind or "").strip().lower()
        if kind not in KINDS:
            raise BrainConfigError(
                f"Brain {name!r} has unknown kind {self.kind!r}; use one of {', '.join(KINDS)}."
            )
        spec = BrainSpec(**{**asdict(self), "name": name, "kind": kind})
        spec.base_url = (spec.base_url or "").strip().rstrip("/") or None
        spec.endpoint_id = (spec.endpoint_id or "").strip() or None
        spec.model = (spec.model or "").strip() or None
        spec.api_key_env = (spec.api_key_env or "").strip() or None
        _check_numbers(spec)
        _check_key_variable(spec)
        if kind == "openai":
            _check_openai(spec)
        elif kind == "runpod":
            _check_runpod(spec)
        elif kind == "transformers":
            from agentforge_jupyter.brains.transformers_brain import check_spec

            check_spec(spec)
        return spec

    def describe(self) -> str:
        """One line for listings."""
        if self.kind == "offline":
            return f"{self.name}: offline rule-based brain ({self.model})"
        if self.kind == "transformers":
            lora = f" + LoRA adapter {self.adapter}" if self.adapter else ""
            return f"{self.name}: local transformers {self.model}{lora}"
        where = self.base_url or f"runpod endpoint {self.endpoint_id}"
        key = f", key from ${self.api_key_env}" if self.api_key_env else ""
        return f"{self.name}: {self.kind} {self.model} at {where}{key}"


def _check_numbers(spec: BrainSpec) -> None:
    try:
        spec.timeout = float(spec.timeout)
        spec.retries = int(spec.retries)
        spec.temperature = float(spec.temperature)
    except (TypeError, ValueError) as exc:
        raise BrainConfigError(
            f"Brain {spec.name!r}: timeout, retries and temperature must be numbers ({exc})."
        ) from exc
    if not spec.timeout > 0:
        raise BrainConfigError(f"Brain {spec.name!r}: timeout must be more than 0 seconds.")
    if not 0 <= spec.retries <= 20:
        raise BrainConfigError(f"Brain {spec.name!r}: retries must be between 0 and 20.")
    if not 0 <= spec.temperature <= 2:
        raise BrainConfigError(f"Brain {spec.name!r}: temperature must be between 0 and 2.")
    spec.supports_json_schema = bool(spec.supports_json_schema)


def _check_key_variable(spec: BrainSpec) -> None:
    value = spec.api_key_env
    if value is None:
        return
    if _KEY_PREFIX_RE.match(value) or not _ENV_NAME_RE.match(value):
        raise BrainConfigError(
            f"Brain {spec.name!r}: api_key_env must be the NAME of an environment variable "
            "(such as OPENAI_API_KEY), not the key itself; keys are never stored. Export the "
            "key in that variable and pass its name."
        )


def _check_openai(spec: BrainSpec) -> None:
    if not spec.base_url:
        raise BrainConfigError(
            f"Brain {spec.name!r} needs a base_url, the endpoint's OpenAI-compatible root "
            "(for example http://localhost:8000/v1)."
        )
    parts = urlsplit(spec.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BrainConfigError(
            f"Brain {spec.name!r}: base_url {spec.base_url!r} is not an http(s) URL."
        )
    if parts.username or parts.password or re.search(r"key|token", parts.query, re.I):
        raise BrainConfigError(
            f"Brain {spec.name!r}: base_url must not contain credentials; put the key in an "
            "environment variable and name it with api_key_env."
        )
    if not spec.model:
        raise BrainConfigError(f"Brain {spec.name!r} needs a model name.")


def _check_runpod(spec: BrainSpec) -> None:
    from agentforge_jupyter.brains.runpod import RUNPOD_API_KEY_ENV, runpod_base_url

    if not spec.endpoint_id:
        raise BrainConfigError(
            f"Brain {spec.name!r} of kind runpod needs endpoint_id (the id in the RunPod console)."
        )
    built = runpod_base_url(spec.endpoint_id)
    if spec.base_url and spec.base_url != built:
        raise BrainConfigError(
            f"Brain {spec.name!r}: a runpod brain's URL is built from endpoint_id ({built}); "
            "leave base_url unset, or use kind openai for another URL."
        )
    spec.base_url = None
    if not spec.model:
        raise BrainConfigError(
            f"Brain {spec.name!r} needs a model: the base model or LoRA adapter name the "
            "endpoint serves."
        )
    spec.api_key_env = spec.api_key_env or RUNPOD_API_KEY_ENV


def _builtin_specs() -> dict[str, BrainSpec]:
    from agentforge_jupyter.brains.offline import FINANCE_MODEL, OFFLINE_MODEL

    return {
        "offline": BrainSpec(name="offline", kind="offline", model=OFFLINE_MODEL),
        "offline-finance": BrainSpec(name="offline-finance", kind="offline", model=FINANCE_MODEL),
    }


BUILTIN_BRAINS = ("offline", "offline-finance")


def brain_from_spec(spec: BrainSpec) -> Brain:
    """The brain object a spec describes (no network access happens here)."""
    if spec.kind == "offline":
        from agentforge_jupyter.brains.offline import OfflineBrain, OfflineFinanceBrain

        if (
            spec.name == "offline-finance"
            or spec.model == _builtin_specs()["offline-finance"].model
        ):
            return OfflineFinanceBrain(name=spec.name)
        return OfflineBrain(name=spec.name)
    if spec.kind == "transformers":
        from agentforge_jupyter.brains.transformers_brain import TransformersBrain

        return TransformersBrain.from_spec(spec)
    settings: dict[str, Any] = {
        "timeout": spec.timeout,
        "retries": spec.retries,
        "temperature": spec.temperature,
        "supports_json_schema": spec.supports_json_schema,
    }
    if spec.kind == "runpod":
        from agentforge_jupyter.brains.runpod import RunPodBrain

        return RunPodBrain(
            name=spec.name,
            endpoint_id=spec.endpoint_id or "",
            model=spec.model or "",
            api_key_env=spec.api_key_env,
            **settings,
        )
    from agentforge_jupyter.brains.openai_brain import OpenAIBrain

    base_url = spec.base_url or ""
    # OpenAI itself always needs a key; self-hosted servers (vLLM, Ollama, llama.cpp) often
    # need none, and one that does answers 401 with a message naming --api-key-env.
    host = (urlsplit(base_url).hostname or "").lower()
    openai_host = host == "openai.com" or host.endswith(".openai.com")
    api_key_env = spec.api_key_env or ("OPENAI_API_KEY" if openai_host else None)
    return OpenAIBrain(
        name=spec.name,
        model=spec.model or "",
        base_url=base_url,
        api_key_env=api_key_env,
        **settings,
    )


class BrainRegistry:
    """The brains in ``<state>/brains.json``, the built-in offline brains, and ``extra`` specs
    (from configuration, such as traitlets; listed but not stored)."""

    def __init__(
        self,
        state: StateDir | str | os.PathLike[str] | None = None,
        *,
        extra: Iterable[BrainSpec] = (),
    ) -> None:
        self.state = state if isinstance(state, StateDir) else StateDir(state)
        self.document = self.state.document(DOCUMENT)
        self.extra = {spec.name: spec.validated() for spec in extra}
        clash = sorted(set(self.extra) & set(BUILTIN_BRAINS))
        if clash:
            raise BrainConfigError(f"Configured brains may not reuse built-in names: {clash}.")

    def __repr__(self) -> str:
        return f"BrainRegistry({str(self.document.path)!r})"

    @property
    def path(self) -> Path:
        return self.document.path

    # -- reading

    def _stored(self) -> dict[str, BrainSpec]:
        items = self.document.read()["items"]
        specs: dict[str, BrainSpec] = {}
        for name, data in sorted(items.items()):
            try:
                specs[name] = BrainSpec.from_dict(data, name=name)
            except BrainConfigError as exc:
                raise BrainConfigError(
                    f"{exc} (in {self.path}; fix the entry, or remove it with "
                    f"`agentforge brains remove {name}`)"
                ) from exc
        return specs

    def list(self) -> list[BrainSpec]:
        """Built-in brains first, then configured ones, then stored ones (by name)."""
        specs = dict(_builtin_specs())
        specs.update(self.extra)
        for name, spec in self._stored().items():
            specs.setdefault(name, spec)
        return list(specs.values())

    def names(self) -> list[str]:
        return [spec.name for spec in self.list()]

    def default_name(self) -> str:
        """The default brain: the one set with :meth:`set_default`, else "offline"."""
        chosen = self.document.read().get("default")
        if isinstance(chosen, str) and chosen in self.names():
            return chosen
        return DEFAULT_BRAIN

    def get_spec(self, name: str | None = None) -> BrainSpec:
        """The spec of ``name`` (the default brain when None)."""
        name = name or self.default_name()
        builtins = _builtin_specs()
        if name in builtins:
            return builtins[name]
        if name in self.extra:
            return self.extra[name]
        stored = self._stored()
        if name in stored:
            return stored[name]
        raise UnknownBrainError(
            f"No brain named {name!r}. Known brains: {', '.join(self.names())}. Add one with "
            "`agentforge brains add NAME --base-url URL --model MODEL`."
        )

    def get(self, name: str | None = None) -> Brain:
        """The brain ``name`` (the default brain when None), ready to ``ask``."""
        return brain_from_spec(self.get_spec(name))

    async def list_models(self, name: str | None = None) -> list[str]:
        """What the brain's endpoint serves (``/v1/models``): base models and LoRA adapters."""
        brain = self.get(name)
        return list(await brain.list_models())  # type: ignore[attr-defined]

    # -- writing

    def add(self, spec: BrainSpec, *, replace: bool = False) -> BrainSpec:
        """Store ``spec`` (validated). Raises DuplicateBrainError unless ``replace``."""
        spec = spec.validated()
        if spec.kind == "offline" or spec.builtin:
            raise BrainConfigError(
                f"{spec.name!r}: offline brains are built in and cannot be added or replaced; "
                "choose another name and kind openai or runpod."
            )
        if spec.name in self.extra:
            raise DuplicateBrainError(
                f"A brain named {spec.name!r} is set in the configuration; choose another name."
            )
        with self.document.update() as data:
            if spec.name in data["items"] and not replace:
                raise DuplicateBrainError(
                    f"A brain named {spec.name!r} already exists. Remove it first "
                    f"(`agentforge brains remove {spec.name}`) or choose another name."
                )
            stored = spec.to_dict()
            stored.pop("name", None)
            data["items"][spec.name] = stored
        return spec

    def remove(self, name: str) -> BrainSpec:
        """Delete a stored brain; built-in and configured brains cannot be removed."""
        if name in BUILTIN_BRAINS:
            raise BrainConfigError(f"{name!r} is a built-in brain and cannot be removed.")
        if name in self.extra:
            raise BrainConfigError(
                f"{name!r} is set in the configuration (traitlets), not in {self.path}; "
                "remove it there."
            )
        with self.document.update() as data:
            if name not in data["items"]:
                raise UnknownBrainError(
                    f"No stored brain named {name!r} in {self.path}. Stored brains: "
                    f"{', '.join(sorted(data['items'])) or 'none'}."
                )
            removed = data["items"].pop(name)
            if data.get("default") == name:
                data.pop("default")
        return BrainSpec.from_dict(removed, name=name)

    def set_default(self, name: str | None) -> None:
        """Make ``name`` the default brain (None: back to "offline")."""
        if name is not None:
            self.get_spec(name)  # raises when unknown
        with self.document.update() as data:
            if name is None or name == DEFAULT_BRAIN:
                data.pop("default", None)
            else:
                data["default"] = name
