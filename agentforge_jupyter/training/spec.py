"""A training job described as data: what to train, on what, and how.

The spec travels unchanged from the CLI or notebook to ``state/training/<id>/job.json`` and to
the worker (``job["input"]`` in RunPod's serverless form), so it holds only JSON values. The
training data is either a path to a JSONL file or the examples themselves (a list), which is how
it reaches a remote worker.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from agentforge_jupyter.training.errors import JobSpecError

__all__ = ["BACKENDS", "JobSpec"]

BACKENDS = ("local", "runpod")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MODULE_RE = re.compile(r"^[A-Za-z0-9_.*-]{1,128}$")


@dataclass
class JobSpec:
    """One LoRA fine-tuning job. ``max_steps`` and ``epochs`` are alternatives (one epoch when
    neither is given). ``target_modules`` None lets PEFT pick the usual attention projections
    for the model's architecture."""

    base_model: str
    data: str | list[dict[str, Any]]
    name: str | None = None
    eval_data: str | list[dict[str, Any]] | None = None
    lora_r: int = 8
    lora_alpha: float = 16.0
    lora_dropout: float = 0.05
    target_modules: list[str] | None = None
    max_steps: int | None = None
    epochs: float | None = None
    learning_rate: float = 2e-4
    batch_size: int = 4
    max_seq_len: int = 1024
    seed: int = 0
    eval_steps: int | None = None
    output_dir: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != {}}

    @classmethod
    def from_dict(cls, data: Any) -> JobSpec:
        """A validated spec from JSON; raises JobSpecError naming the setting to fix."""
        if not isinstance(data, dict):
            raise JobSpecError(
                f"A job spec must be a JSON object, not {type(data).__name__}: pass "
                '{"base_model": ..., "data": ...}.'
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise JobSpecError(
                f"Unknown job settings {unknown}; allowed settings are {sorted(known)}."
            )
        for required in ("base_model", "data"):
            if data.get(required) in (None, "", []):
                raise JobSpecError(
                    f"The job spec needs {required!r}: "
                    + (
                        "a Hugging Face model id or a local model directory."
                        if required == "base_model"
                        else "a JSONL file path or a list of examples."
                    )
                )
        return cls(**data).validated()

    def validated(self) -> JobSpec:
        """This spec, checked and normalised (numbers coerced, paths made absolute)."""
        spec = JobSpec(**asdict(self))
        spec.base_model = _base_model(spec.base_model)
        spec.data = _data_source(spec.data, "data")
        if spec.eval_data is not None:
            spec.eval_data = _data_source(spec.eval_data, "eval_data")
        if spec.name is not None and not _NAME_RE.match(str(spec.name)):
            raise JobSpecError(
                f"Invalid job name {spec.name!r}: use letters, digits, '_', '-' and '.', "
                "starting with a letter or digit (at most 64 characters); it becomes a brain name."
            )
        _check_lora(spec)
        _check_schedule(spec)
        if spec.output_dir is not None:
            spec.output_dir = str(spec.output_dir)
        if not isinstance(spec.extra, dict):
            raise JobSpecError("extra must be an object (free-form notes kept with the job).")
        return spec


#: Front-end option (as `agentforge train start` and `%agent_train` store it) → spec key.
_OPTION_KEYS = {
    "base_model": "base_model",
    "data": "data",
    "eval_data": "eval_data",
    "name": "name",
    "steps": "max_steps",
    "epochs": "epochs",
    "lr": "learning_rate",
    "rank": "lora_r",
    "alpha": "lora_alpha",
    "dropout": "lora_dropout",
    "target_modules": "target_modules",
    "batch_size": "batch_size",
    "max_seq_len": "max_seq_len",
    "seed": "seed",
}


def spec_from_options(args: object) -> dict[str, Any]:
    """A spec dict from a front end's parsed options (unset ones left to the defaults)."""
    values = {key: getattr(args, option, None) for option, key in _OPTION_KEYS.items()}
    return {key: value for key, value in values.items() if value is not None}


def _number(value: Any, what: str, kind: type) -> Any:
    if isinstance(value, bool):
        raise JobSpecError(f"{what} must be a number, not {value!r}.")
    try:
        number = kind(value)
    except (TypeError, ValueError) as exc:
        raise JobSpecError(f"{what} must be a number, not {value!r}.") from exc
    if kind is float and not math.isfinite(number):
        raise JobSpecError(f"{what} must be a finite number, not {value!r}.")
    if kind is int and isinstance(value, float) and value != number:
        raise JobSpecError(f"{what} must be a whole number, not {value!r}.")
    return number


def _base_model(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise JobSpecError("base_model is empty: give a Hugging Face id or a model directory.")
    looks_local = text.startswith(("/", ".", "~")) or Path(text).expanduser().exists()
    if not looks_local:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$", text):
            raise JobSpecError(
                f"base_model {text!r} is neither a Hugging Face id (owner/name) nor an "
                "existing directory."
            )
        return text
    path = Path(text).expanduser().absolute()
    if not (path / "config.json").is_file():
        raise JobSpecError(
            f"base_model {text!r} is a local path, but {path} has no config.json: point it at "
            "a directory written by save_pretrained()."
        )
    return str(path)


def _data_source(value: Any, what: str) -> str | list[dict[str, Any]]:
    if isinstance(value, list):
        if not value:
            raise JobSpecError(f"{what} is an empty list: give at least one example.")
        return value
    if isinstance(value, (str, Path)):
        path = Path(value).expanduser().absolute()
        if not path.is_file():
            raise JobSpecError(f"{what}: no file at {path}. Give the path of a JSONL file.")
        return str(path)
    raise JobSpecError(
        f"{what} must be a JSONL file path or a list of examples, not {type(value).__name__}."
    )


def _check_lora(spec: JobSpec) -> None:
    spec.lora_r = _number(spec.lora_r, "lora_r (--rank)", int)
    if not 1 <= spec.lora_r <= 1024:
        raise JobSpecError(f"lora_r (--rank) must be between 1 and 1024, not {spec.lora_r}.")
    spec.lora_alpha = _number(spec.lora_alpha, "lora_alpha (--alpha)", float)
    if spec.lora_alpha <= 0:
        raise JobSpecError(f"lora_alpha (--alpha) must be more than 0, not {spec.lora_alpha}.")
    spec.lora_dropout = _number(spec.lora_dropout, "lora_dropout", float)
    if not 0 <= spec.lora_dropout < 1:
        raise JobSpecError(f"lora_dropout must be in [0, 1), not {spec.lora_dropout}.")
    if spec.target_modules is not None:
        modules = spec.target_modules
        if isinstance(modules, str):
            modules = [m.strip() for m in modules.split(",") if m.strip()]
        if not isinstance(modules, list) or not modules:
            raise JobSpecError("target_modules must be a non-empty list of module names.")
        for module in modules:
            if not isinstance(module, str) or not _MODULE_RE.match(module):
                raise JobSpecError(
                    f"target_modules: {module!r} is not a module name (such as q_proj)."
                )
        spec.target_modules = modules


def _check_schedule(spec: JobSpec) -> None:
    if spec.max_steps is not None and spec.epochs is not None:
        raise JobSpecError("Give either max_steps (--steps) or epochs (--epochs), not both.")
    if spec.max_steps is not None:
        spec.max_steps = _number(spec.max_steps, "max_steps (--steps)", int)
        if spec.max_steps < 1:
            raise JobSpecError(f"max_steps (--steps) must be at least 1, not {spec.max_steps}.")
    if spec.epochs is not None:
        spec.epochs = _number(spec.epochs, "epochs (--epochs)", float)
        if not 0 < spec.epochs <= 1000:
            raise JobSpecError(f"epochs (--epochs) must be in (0, 1000], not {spec.epochs}.")
    spec.learning_rate = _number(spec.learning_rate, "learning_rate (--lr)", float)
    if not 0 < spec.learning_rate <= 1:
        raise JobSpecError(f"learning_rate (--lr) must be in (0, 1], not {spec.learning_rate}.")
    spec.batch_size = _number(spec.batch_size, "batch_size (--batch-size)", int)
    if not 1 <= spec.batch_size <= 4096:
        raise JobSpecError(f"batch_size must be between 1 and 4096, not {spec.batch_size}.")
    spec.max_seq_len = _number(spec.max_seq_len, "max_seq_len (--max-seq-len)", int)
    if not 8 <= spec.max_seq_len <= 1_048_576:
        raise JobSpecError(f"max_seq_len must be between 8 and 1048576, not {spec.max_seq_len}.")
    spec.seed = _number(spec.seed, "seed", int)
    if spec.eval_steps is not None:
        spec.eval_steps = _number(spec.eval_steps, "eval_steps", int)
        if spec.eval_steps < 1:
            raise JobSpecError(f"eval_steps must be at least 1, not {spec.eval_steps}.")
