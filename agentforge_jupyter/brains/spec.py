"""A brain described as data (one entry of brains.json), validated the same way on write and
on read: names, kinds, numbers, URLs (see ``urls``), and never a key, only the NAME of the
environment variable that holds it."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from agentforge_jupyter.brains.errors import BrainConfigError
from agentforge_jupyter.brains.urls import check_base_url, classify

__all__ = ["BUILTIN_BRAINS", "KINDS", "BrainSpec"]

BUILTIN_BRAINS = ("offline", "offline-finance")
KINDS = ("openai", "runpod", "offline", "transformers")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# Prefixes of real keys (OpenAI, RunPod, Hugging Face, Groq, xAI, Anthropic): a value that
# starts like this is a key typed where a variable name belongs.
# Key values start with these lower-case prefixes; variable names such as HF_TOKEN do not.
_KEY_PREFIX_RE = re.compile(r"^(sk-|sk_|rpa_|hf_|gsk_|xai-|sk-ant-)")
_SECRET_FIELD_RE = re.compile(r"key|token|secret|password", re.IGNORECASE)
MAX_TOKENS_LIMIT = 1_000_000


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
    #: Cap on the reply's tokens per call (None: the endpoint's own default).
    max_tokens: int | None = None
    #: The user's explicit consent to a link-local base URL (--allow-link-local).
    allow_link_local: bool = False
    #: kind "transformers": a local LoRA adapter directory on top of `model`, and where it came
    #: from (training job, base model, data hash, final losses).
    adapter: str | None = None
    provenance: dict[str, Any] | None = None

    @property
    def builtin(self) -> bool:
        return self.name in BUILTIN_BRAINS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, without unset (None) settings or a default False flag."""
        return {
            k: v
            for k, v in asdict(self).items()
            if v is not None and not (k == "allow_link_local" and v is False)
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, name: str | None = None) -> BrainSpec:
        """A spec from JSON (``name`` overrides a missing or different ``data["name"]``)."""
        if not isinstance(data, dict):
            raise BrainConfigError(
                f"Brain {name!r} is described by a {type(data).__name__}, not an object."
            )
        known = {f.name for f in fields(cls)}
        # Unknown settings (from a newer version) are ignored, except ones that look like a
        # secret: a key typed into the file must be noticed, not silently kept.
        secret_like = sorted(k for k in set(data) - known if _SECRET_FIELD_RE.search(str(k)))
        if secret_like:
            raise BrainConfigError(
                f"Brain {name or data.get('name')!r} has settings {secret_like} that look like "
                "a secret. Keys are never stored: name the environment variable with "
                "api_key_env, and remove the key from the file."
            )
        values = {k: v for k, v in data.items() if k in known}
        if name is not None:
            values["name"] = name
        if "name" not in values:
            raise BrainConfigError("A brain spec needs a name.")
        try:
            return cls(**values).validated()
        except TypeError as exc:  # e.g. a name that is not a string
            raise BrainConfigError(f"Brain {name!r} is invalid: {exc}.") from exc

    def validated(self) -> BrainSpec:
        """This spec, checked and normalised; raises BrainConfigError saying what to fix."""
        name = self.name.strip() if isinstance(self.name, str) else ""
        if not _NAME_RE.match(name):
            raise BrainConfigError(
                f"Invalid brain name {self.name!r}: use letters, digits, '_', '-' and '.', "
                "starting with a letter or digit (at most 64 characters)."
            )
        kind = self.kind.strip().lower() if isinstance(self.kind, str) else ""
        if kind not in KINDS:
            raise BrainConfigError(
                f"Brain {name!r} has unknown kind {self.kind!r}; use one of {', '.join(KINDS)}."
            )
        spec = BrainSpec(**{**asdict(self), "name": name, "kind": kind})
        for text_field in ("base_url", "endpoint_id", "model", "api_key_env", "adapter"):
            value = getattr(spec, text_field)
            if value is not None and not isinstance(value, str):
                raise BrainConfigError(f"Brain {name!r}: {text_field} must be a string.")
            setattr(spec, text_field, (value or "").strip() or None)
        spec.base_url = spec.base_url.rstrip("/") if spec.base_url else None
        _check_numbers(spec)
        _check_key_variable(spec)
        _check_model_is_not_a_key(spec)
        if kind == "openai":
            _check_openai(spec)
        elif kind == "runpod":
            _check_runpod(spec)
        elif kind == "transformers":
            _check_transformers(spec)
        return spec

    def describe(self) -> str:
        """One line for listings."""
        if self.kind == "offline":
            return f"{self.name}: offline rule-based brain ({self.model})"
        if self.kind == "transformers":
            lora = f" + LoRA adapter {self.adapter}" if self.adapter else ""
            return f"{self.name}: local transformers {self.model}{lora}"
        where = self.base_url or f"runpod endpoint {self.endpoint_id}"
        if self.base_url:
            label = classify(self.base_url).label
            where += f" ({label})" if label else ""
        key = f", key from ${self.api_key_env}" if self.api_key_env else ""
        return f"{self.name}: {self.kind} {self.model} at {where}{key}"


def _check_numbers(spec: BrainSpec) -> None:
    for field_name in ("timeout", "retries", "temperature", "max_tokens"):
        value = getattr(spec, field_name)
        if isinstance(value, bool) or not isinstance(value, (int, float, type(None))):
            raise BrainConfigError(
                f"Brain {spec.name!r}: {field_name} must be a number, not {value!r}."
            )
    if spec.timeout is None or spec.retries is None or spec.temperature is None:
        raise BrainConfigError(
            f"Brain {spec.name!r}: timeout, retries and temperature must be numbers."
        )
    spec.timeout = float(spec.timeout)
    if spec.retries != int(spec.retries):
        raise BrainConfigError(f"Brain {spec.name!r}: retries must be a whole number.")
    spec.retries = int(spec.retries)
    spec.temperature = float(spec.temperature)
    if spec.max_tokens is not None:
        if spec.max_tokens != int(spec.max_tokens) or not 1 <= spec.max_tokens <= MAX_TOKENS_LIMIT:
            raise BrainConfigError(
                f"Brain {spec.name!r}: max_tokens must be a whole number from 1 to "
                f"{MAX_TOKENS_LIMIT:,}."
            )
        spec.max_tokens = int(spec.max_tokens)
    if not spec.timeout > 0:
        raise BrainConfigError(f"Brain {spec.name!r}: timeout must be more than 0 seconds.")
    if not 0 <= spec.retries <= 20:
        raise BrainConfigError(f"Brain {spec.name!r}: retries must be between 0 and 20.")
    if not 0 <= spec.temperature <= 2:
        raise BrainConfigError(f"Brain {spec.name!r}: temperature must be between 0 and 2.")
    for flag in ("supports_json_schema", "allow_link_local"):
        if not isinstance(getattr(spec, flag), bool):
            raise BrainConfigError(f"Brain {spec.name!r}: {flag} must be true or false.")


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


def _check_model_is_not_a_key(spec: BrainSpec) -> None:
    """brains.json is shared and never holds keys: a model "name" that is a key is refused."""
    model = spec.model or ""
    if _KEY_PREFIX_RE.match(model) and len(model) >= 20 and not re.search(r"[/:.]", model):
        raise BrainConfigError(
            f"Brain {spec.name!r}: the model looks like an API key ({model[:4]}...), and keys are "
            "never stored. Give the model's name (see `agentforge brains models NAME`), and pass "
            "the key's variable name with --api-key-env."
        )


def _check_openai(spec: BrainSpec) -> None:
    if not spec.base_url:
        raise BrainConfigError(
            f"Brain {spec.name!r} needs a base_url, the endpoint's OpenAI-compatible root "
            "(for example http://localhost:8000/v1)."
        )
    parts = urlsplit(spec.base_url)
    if any(ch.isspace() or not ch.isprintable() for ch in spec.base_url):
        raise BrainConfigError(
            f"Brain {spec.name!r}: base_url {spec.base_url!r} contains spaces or control "
            "characters."
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BrainConfigError(
            f"Brain {spec.name!r}: base_url {spec.base_url!r} is not an http(s) URL."
        )
    if parts.username or parts.password or re.search(r"key|token", parts.query, re.I):
        raise BrainConfigError(
            f"Brain {spec.name!r}: base_url must not contain credentials; put the key in an "
            "environment variable and name it with api_key_env."
        )
    check_base_url(
        spec.base_url, allow_link_local=spec.allow_link_local, who=f"Brain {spec.name!r}"
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


def _check_transformers(spec: BrainSpec) -> None:
    if spec.provenance is not None and not isinstance(spec.provenance, dict):
        raise BrainConfigError(f"Brain {spec.name!r}: provenance must be an object.")
    from agentforge_jupyter.brains.transformers_brain import check_spec

    check_spec(spec)
