"""Which stored brains may read a key variable: this user's allow records (``direnv allow``).

brains.json is shared (git, a team volume), so a committed brain could name any environment
variable (``AWS_SECRET_ACCESS_KEY``), any URL, or model files to load (kind ``transformers``: a
Hub id to download, or a directory someone else filled). A stored brain is *sensitive* when it
would read a key variable, reach a link-local address, or load model files on this machine; a
sensitive brain is usable only when this user allowed exactly that spec (its fingerprint is in
the user's trust records), either by adding it here (``BrainRegistry.add``: ``agentforge brains
add``, a finished training job) or with ``agentforge state trust``.

Key-variable names of personal brains live in the user's config (``keys``), bound to the
endpoint they were given for: a shared brains.json that changes the URL does not get the key.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from typing import Any

from agentforge_jupyter.brains.errors import BrainConfigError
from agentforge_jupyter.brains.spec import BrainSpec
from agentforge_jupyter.trust import TrustStore, fingerprint

__all__ = [
    "BrainNotTrustedError",
    "BrainTrust",
    "sensitive_reasons",
    "spec_fingerprint",
    "target_of",
    "trust_command",
]


class BrainNotTrustedError(BrainConfigError):
    """A brain from the state directory waits for the user's approval (``state trust``)."""

    def __init__(self, message: str, *, name: str, command: str) -> None:
        super().__init__(message)
        self.name = name
        self.command = command


def target_of(spec: BrainSpec) -> str:
    """Where the brain's requests (and key) go."""
    if spec.kind == "runpod":
        from agentforge_jupyter.brains.runpod import runpod_base_url

        return runpod_base_url(spec.endpoint_id or "")
    return spec.base_url or ""


def sensitive_reasons(spec: BrainSpec) -> list[str]:
    """Why a stored spec needs the user's approval (empty when it needs none)."""
    reasons = []
    if spec.api_key_env:
        reasons.append(f"it sends the value of ${spec.api_key_env} to {target_of(spec)}")
    if spec.allow_link_local:
        reasons.append(f"it reaches the link-local address {spec.base_url}")
    if spec.kind == "transformers":
        reasons.append(_loads_reason(spec))
    return reasons


def _loads_reason(spec: BrainSpec) -> str:
    from agentforge_jupyter.brains.transformers_brain import is_local_model

    model = spec.model or ""
    adapter = f" and adapter {spec.adapter}" if spec.adapter else ""
    hub = (
        ""
        if is_local_model(model)
        else f" ({model} is a Hugging Face Hub id: its files are downloaded from the network)"
    )
    return f"it loads model files from {model}{adapter} on this machine{hub}"


def spec_fingerprint(spec: BrainSpec) -> str:
    """What an allow record covers: everything that decides where what goes, and for a local
    model which files are loaded (model and adapter, as absolute paths or a Hub id)."""
    covered: dict[str, Any] = {
        "name": spec.name,
        "kind": spec.kind,
        "target": target_of(spec),
        "api_key_env": spec.api_key_env,
        "allow_link_local": spec.allow_link_local,
    }
    if spec.kind == "transformers":  # other kinds keep their earlier fingerprints (and records)
        covered.update(model=spec.model, adapter=spec.adapter)
    return fingerprint(covered)


def trust_command(state_root: str) -> str:
    return f"agentforge state trust --state-dir {shlex.quote(state_root)}"


@dataclass(frozen=True)
class Verdict:
    spec: BrainSpec
    status: str  # "personal", "allowed", "waiting", "no key"
    reasons: tuple[str, ...] = ()


class BrainTrust:
    """Applies the user's records to stored specs."""

    def __init__(self, store: TrustStore | None = None) -> None:
        self.store = store if store is not None else TrustStore()

    def judge(self, spec: BrainSpec, records: dict[str, Any] | None = None) -> Verdict:
        """The spec as it will be used (a personal key variable filled in) and its status."""
        records = records if records is not None else self._records()
        personal = records["keys"].get(spec.name)
        if (
            isinstance(personal, dict)
            and personal.get("target") == target_of(spec)
            and spec.kind != "offline"
        ):
            spec = replace(spec, api_key_env=personal.get("api_key_env") or spec.api_key_env)
        reasons = sensitive_reasons(spec)
        if not reasons:
            return Verdict(spec, "no key")
        if spec_fingerprint(spec) in records["brains"]:
            is_personal = isinstance(personal, dict) and personal.get("target") == target_of(spec)
            return Verdict(spec, "personal" if is_personal else "allowed")
        return Verdict(spec, "waiting", tuple(reasons))

    def _records(self) -> dict[str, Any]:
        return {"keys": self.store.personal_keys(), "brains": self.store.allowed_brains()}

    def require(self, spec: BrainSpec, where: str, state_root: str) -> BrainSpec:
        """The usable spec, or :class:`BrainNotTrustedError` saying what waits and why."""
        verdict = self.judge(spec)
        if verdict.status != "waiting":
            return verdict.spec
        command = trust_command(state_root)
        raise BrainNotTrustedError(
            f"Brain {spec.name!r} from {where} is waiting for your approval: "
            f"{'; '.join(verdict.reasons)}. You did not add it on this machine (it came with "
            "the state directory), so it stays inactive until you allow it. Review it with "
            f"`{command} --show`, then allow it with `{command}`; or use another brain "
            "(--brain offline).",
            name=spec.name,
            command=command,
        )

    def allow(self, specs: list[BrainSpec], state_root: str) -> None:
        self.store.allow_brains(
            {
                spec_fingerprint(s): {"name": s.name, "target": target_of(s), "state": state_root}
                for s in specs
            }
        )

    def remember_personal(self, spec: BrainSpec, api_key_env: str | None) -> None:
        """``brains add``: the key variable goes to the user's config, bound to the target."""
        self.store.set_personal_key(spec.name, api_key_env, target_of(spec))
