"""Brains described as data: ``state/brains.json``, plus the built-in offline brains.

The document holds one item per brain name (its :class:`BrainSpec` without the name) and an
optional top-level ``"default"``. API keys are never stored: a spec names the environment
variable that holds the key, and a value that looks like a key is refused. Key-variable names
of brains added here go to the user's own config, not to brains.json; a stored brain that
names a key variable, or a local model to load, is used only once the user allowed it (see
``trust``); a brain stored through :meth:`BrainRegistry.add` is allowed by that act. Each entry is
validated on read; an invalid one is listed as such and the others stay usable.

"offline" and "offline-finance" are always present and cannot be removed or replaced; the
default brain is "offline" unless another default was set.
"""

from __future__ import annotations

import builtins
import inspect
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agentforge_jupyter.brains.base import Brain
from agentforge_jupyter.brains.errors import (
    BrainConfigError,
    DuplicateBrainError,
    UnknownBrainError,
)
from agentforge_jupyter.brains.spec import BUILTIN_BRAINS, KINDS, BrainSpec
from agentforge_jupyter.brains.trust import BrainTrust, Verdict, sensitive_reasons
from agentforge_jupyter.brains.urls import classify
from agentforge_jupyter.state import StateDir
from agentforge_jupyter.trust import TrustStore

__all__ = [
    "BUILTIN_BRAINS",
    "DEFAULT_BRAIN",
    "KINDS",
    "BrainEntry",
    "BrainRegistry",
    "BrainSpec",
    "brain_from_spec",
]

DEFAULT_BRAIN = "offline"
DOCUMENT = "brains"


def _builtin_specs() -> dict[str, BrainSpec]:
    from agentforge_jupyter.brains.offline import FINANCE_MODEL, OFFLINE_MODEL

    return {
        "offline": BrainSpec(name="offline", kind="offline", model=OFFLINE_MODEL),
        "offline-finance": BrainSpec(name="offline-finance", kind="offline", model=FINANCE_MODEL),
    }


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

        _add_max_tokens(settings, RunPodBrain, spec)
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
    _add_max_tokens(settings, OpenAIBrain, spec)
    return OpenAIBrain(
        name=spec.name,
        model=spec.model or "",
        base_url=base_url,
        api_key_env=api_key_env,
        **settings,
    )


def _add_max_tokens(settings: dict[str, Any], brain_class: type[Any], spec: BrainSpec) -> None:
    # Passed only to constructors that take it (RunPodBrain may forward it via **kwargs).
    if spec.max_tokens is None:
        return
    parameters = inspect.signature(brain_class.__init__).parameters
    if "max_tokens" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        settings["max_tokens"] = spec.max_tokens


@dataclass(frozen=True)
class BrainEntry:
    """One row of ``brains list``: a usable spec, or the problem of an invalid entry."""

    name: str
    source: str  # "built-in", "config", "state"
    spec: BrainSpec | None = None
    problem: str | None = None
    trust: str = ""  # "", "personal", "allowed", "waiting"
    reasons: tuple[str, ...] = ()

    @property
    def endpoint(self) -> str:
        """ "loopback", "private", "link-local" or "" (public, or no URL)."""
        if self.spec is None or not self.spec.base_url:
            return ""
        return classify(self.spec.base_url).label


class BrainRegistry:
    """The brains in ``<state>/brains.json``, the built-in offline brains, and ``extra`` specs
    (from configuration, such as traitlets; listed but not stored)."""

    def __init__(
        self,
        state: StateDir | str | os.PathLike[str] | None = None,
        *,
        extra: Iterable[BrainSpec] = (),
        trust: TrustStore | None = None,
    ) -> None:
        self.state = state if isinstance(state, StateDir) else StateDir(state)
        self.trust = BrainTrust(trust)
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

    def _entries(self) -> dict[str, BrainSpec | BrainConfigError]:
        """Every stored entry, validated on its own: a spec, or why it is invalid."""
        items = self.document.read()["items"]
        found: dict[str, BrainSpec | BrainConfigError] = {}
        for name, data in sorted(items.items()):
            try:
                found[name] = BrainSpec.from_dict(data, name=name)
            except BrainConfigError as exc:
                found[name] = BrainConfigError(
                    f"{exc} (in {self.path}; fix the entry, or remove it with "
                    f"`agentforge brains remove {name}`)"
                )
        return found

    def _stored(self) -> dict[str, BrainSpec]:
        return {n: s for n, s in self._entries().items() if isinstance(s, BrainSpec)}

    def list(self) -> builtins.list[BrainSpec]:
        """Built-in brains first, then configured ones, then valid stored ones (by name)."""
        specs = dict(_builtin_specs())
        specs.update(self.extra)
        for name, spec in self._stored().items():
            specs.setdefault(name, spec)
        return builtins.list(specs.values())

    all = list

    def entries(self) -> builtins.list[BrainEntry]:
        """Every brain with where it comes from, whether it is valid, and its trust status."""
        rows = [BrainEntry(n, "built-in", s) for n, s in _builtin_specs().items()]
        rows += [BrainEntry(n, "config", s) for n, s in self.extra.items()]
        for name, found in self._entries().items():
            if name in BUILTIN_BRAINS or name in self.extra:
                continue
            if isinstance(found, BrainConfigError):
                rows.append(BrainEntry(name, "state", problem=str(found)))
                continue
            verdict = self.trust.judge(found)
            status = "" if verdict.status == "no key" else verdict.status
            rows.append(BrainEntry(name, "state", verdict.spec, None, status, verdict.reasons))
        return rows

    def waiting(self) -> builtins.list[Verdict]:
        """Stored brains that wait for the user's approval (``agentforge state trust``)."""
        verdicts = [self.trust.judge(s) for s in self._stored().values()]
        return [v for v in verdicts if v.status == "waiting"]

    def allow_waiting(self) -> builtins.list[BrainSpec]:
        """Allow every waiting brain of this state directory; returns what was allowed."""
        specs = [v.spec for v in self.waiting()]
        self.trust.allow(specs, str(self.state.root))
        return specs

    def names(self) -> builtins.list[str]:
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
        found = self._entries().get(name)
        if isinstance(found, BrainConfigError):
            raise found
        if found is not None:
            return found
        raise UnknownBrainError(
            f"No brain named {name!r}. Known brains: {', '.join(self.names())}. Add one with "
            "`agentforge brains add NAME --base-url URL --model MODEL`."
        )

    def usable_spec(self, name: str | None = None) -> BrainSpec:
        """The spec as a run uses it: a stored brain with a key variable only once the user
        allowed it (raises :class:`~.trust.BrainNotTrustedError` saying what waits and why)."""
        spec = self.get_spec(name)
        if spec.builtin or spec.name in self.extra:
            return spec
        return self.trust.require(spec, str(self.path), str(self.state.root))

    def get(self, name: str | None = None) -> Brain:
        """The brain ``name`` (the default brain when None), ready to ``ask``."""
        return brain_from_spec(self.usable_spec(name))

    async def list_models(self, name: str | None = None) -> builtins.list[str]:
        """What the brain's endpoint serves (``/v1/models``): base models and LoRA adapters."""
        brain = self.get(name)
        return builtins.list(await brain.list_models())  # type: ignore[attr-defined]

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
            stored.pop("api_key_env", None)  # personal: kept in the user's config instead
            data["items"][spec.name] = stored
        # Added by this user: its key variable and (if sensitive) its approval are theirs.
        self.trust.remember_personal(spec, spec.api_key_env)
        if sensitive_reasons(spec):
            self.trust.allow([spec], str(self.state.root))
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
        try:
            spec = BrainSpec.from_dict(removed, name=name)
        except BrainConfigError:  # an invalid entry can be removed too
            spec = BrainSpec(name=name, kind="openai")
        self.trust.store.set_personal_key(name, None, "")
        return spec

    def set_default(self, name: str | None) -> None:
        """Make ``name`` the default brain (None: back to "offline")."""
        if name is not None:
            self.get_spec(name)  # raises when unknown
        with self.document.update() as data:
            if name is None or name == DEFAULT_BRAIN:
                data.pop("default", None)
            else:
                data["default"] = name
