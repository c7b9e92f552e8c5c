"""The training worker: ``handler(job)``, a generator in RunPod's serverless form.

``job["input"]`` is a job spec (training/spec.py) with the data inline or as a path. The handler
yields one record per ``transformers`` log (from ``TrainerCallback.on_log``, never by parsing
stdout)::

    {"type": "status", "status": "running", "message": ...}
    {"type": "log", "step", "max_steps", "loss", "learning_rate", "grad_norm", "epoch",
     "eval_loss"?}
    {"type": "result", "adapter", "train_loss", "eval_loss", "steps", "base_model",
     "data_sha256", "runtime_s"}

or ``{"type": "error", "error": message}`` when the job fails. The same module runs in the local
subprocess backend and in the RunPod worker image. The adapter is plain LoRA (no
``modules_to_save``, no DoRA) saved as ``adapter_config.json`` + ``adapter_model.safetensors``,
which vLLM loads with ``--lora-modules`` or ``/v1/load_lora_adapter``.

Training runs in a thread; records cross to the generator through a queue. Closing the
generator (a cancelled job) asks the trainer to stop at the next step.
"""

from __future__ import annotations

import math
import os
import queue
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentforge_jupyter.training.chat_format import split_example
from agentforge_jupyter.training.data import data_sha256, load_examples
from agentforge_jupyter.training.errors import TrainingError
from agentforge_jupyter.training.spec import JobSpec

__all__ = ["ADAPTER_FILES", "default_output_dir", "handler", "tokenize_examples"]

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
# Where adapters go when the spec names no output_dir: the RunPod network volume when mounted.
VOLUME_DIR = "/runpod-volume"
_DONE = object()


def default_output_dir(job_id: str) -> Path:
    root = Path(VOLUME_DIR) if Path(VOLUME_DIR).is_dir() else Path(tempfile.gettempdir())
    return root / "agentforge" / "adapters" / job_id


def handler(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Train one LoRA adapter; yields log records, then a result (or an error) record."""
    job_id = str(job.get("id") or "job") if isinstance(job, dict) else "job"
    try:
        spec = JobSpec.from_dict(job.get("input") if isinstance(job, dict) else None)
        examples = load_examples(spec.data)
        evals = load_examples(spec.eval_data, "eval_data") if spec.eval_data else None
    except TrainingError as exc:
        yield {"type": "error", "error": str(exc)}
        return
    yield {"type": "status", "status": "running", "message": f"{len(examples)} example(s)"}
    run = _TrainingThread(spec, examples, evals, job_id)
    run.start()
    try:
        while True:
            item = run.records.get()
            if item is _DONE:
                break
            yield item
    finally:
        # Reached on GeneratorExit too (a cancelled job): stop training at the next step.
        run.stop.set()
        run.join()


class _TrainingThread(threading.Thread):
    def __init__(
        self,
        spec: JobSpec,
        examples: list[list[dict[str, str]]],
        evals: list[list[dict[str, str]]] | None,
        job_id: str,
    ) -> None:
        super().__init__(name=f"agentforge-train-{job_id}", daemon=True)
        self.spec = spec
        self.examples = examples
        self.evals = evals
        self.job_id = job_id
        self.records: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            result = _train(self.spec, self.examples, self.evals, self.job_id, self)
            if self.stop.is_set():
                return
            self.records.put(result)
        except Exception as exc:  # every failure becomes the job's error record
            self.records.put({"type": "error", "error": f"{type(exc).__name__}: {exc}"})
        finally:
            self.records.put(_DONE)


def tokenize_examples(
    tokenizer: Any, examples: list[list[dict[str, str]]], max_seq_len: int
) -> list[dict[str, list[int]]]:
    """Token ids with labels only on the completion (the prompt is masked with -100)."""
    features = []
    for messages in examples:
        prompt, completion = split_example(tokenizer, messages)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
        ids = (prompt_ids + completion_ids)[:max_seq_len]
        labels = ([-100] * len(prompt_ids) + completion_ids)[:max_seq_len]
        if all(label == -100 for label in labels):
            # The prompt filled the whole window: keep the end of it and the completion.
            keep = max(1, max_seq_len - len(completion_ids))
            ids = (prompt_ids[-keep:] + completion_ids)[-max_seq_len:]
            labels = ([-100] * len(prompt_ids[-keep:]) + completion_ids)[-max_seq_len:]
        features.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels})
    return features


def _load(spec: JobSpec) -> tuple[Any, Any]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    try:
        # As the transformers brain loads it: safetensors only, no repository code.
        tokenizer = AutoTokenizer.from_pretrained(spec.base_model, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(
            spec.base_model, dtype=dtype, use_safetensors=True, trust_remote_code=False
        )
    except (OSError, ValueError) as exc:
        raise TrainingError(
            f"Cannot load the base model {spec.base_model!r}: {exc} (check the id, the "
            "HF_TOKEN for gated models, or the directory)"
        ) from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    config = LoraConfig(
        r=spec.lora_r,
        # peft annotates int but only divides by it (scaling = alpha / r); specs allow floats
        lora_alpha=spec.lora_alpha,  # type: ignore[arg-type]
        lora_dropout=spec.lora_dropout,
        target_modules=spec.target_modules,
        bias="none",
        task_type="CAUSAL_LM",
        use_dora=False,
    )
    return tokenizer, get_peft_model(model, config)


def _trainer(spec: JobSpec, model: Any, tokenizer: Any, data: Any, evals: Any, cb: Any) -> Any:
    from transformers import DataCollatorForSeq2Seq, PrinterCallback, Trainer, TrainingArguments

    work = tempfile.mkdtemp(prefix="agentforge-trainer-")
    args = TrainingArguments(
        output_dir=work,
        max_steps=spec.max_steps if spec.max_steps else -1,
        num_train_epochs=spec.epochs if spec.epochs else 1.0,
        per_device_train_batch_size=spec.batch_size,
        per_device_eval_batch_size=spec.batch_size,
        learning_rate=spec.learning_rate,
        logging_steps=1,
        eval_strategy="steps" if evals is not None and spec.eval_steps else "no",
        eval_steps=spec.eval_steps,
        save_strategy="no",
        report_to=[],
        seed=spec.seed,
        data_seed=spec.seed,
        disable_tqdm=True,
        use_cpu=not _cuda(),
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=data,
        eval_dataset=evals,
        data_collator=collator,
        callbacks=[cb],
    )
    trainer.remove_callback(PrinterCallback)  # records go through on_log, not stdout
    return trainer


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _train(
    spec: JobSpec,
    examples: list[list[dict[str, str]]],
    evals: list[list[dict[str, str]]] | None,
    job_id: str,
    thread: _TrainingThread,
) -> dict[str, Any]:
    started = time.monotonic()
    tokenizer, model = _load(spec)
    data = tokenize_examples(tokenizer, examples, spec.max_seq_len)
    eval_data = tokenize_examples(tokenizer, evals, spec.max_seq_len) if evals else None
    callback = _log_callback(thread)
    trainer = _trainer(spec, model, tokenizer, data, eval_data, callback)
    output = trainer.train()
    if thread.stop.is_set():
        return {"type": "status", "status": "running", "message": "stopped before the end"}
    final_eval = None
    if eval_data is not None:
        final_eval = trainer.evaluate().get("eval_loss")
    out_dir = Path(spec.output_dir) if spec.output_dir else default_output_dir(job_id)
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    model.save_pretrained(str(out_dir), safe_serialization=True)
    _check_adapter(out_dir)
    return {
        "type": "result",
        "adapter": str(out_dir),
        "train_loss": _finite(output.training_loss),
        "eval_loss": _finite(final_eval),
        "steps": int(trainer.state.global_step),
        "max_steps": int(trainer.state.max_steps),
        "base_model": spec.base_model,
        "data_sha256": data_sha256(examples),
        "examples": len(examples),
        "runtime_s": round(time.monotonic() - started, 3),
    }


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _check_adapter(directory: Path) -> None:
    import json

    missing = [name for name in ADAPTER_FILES if not (directory / name).is_file()]
    if missing:
        raise TrainingError(f"The adapter in {directory} lacks {missing}; vLLM cannot load it.")
    config = json.loads((directory / "adapter_config.json").read_text(encoding="utf-8"))
    if config.get("modules_to_save") or config.get("use_dora"):
        raise TrainingError(
            f"The adapter in {directory} uses modules_to_save or DoRA, which vLLM cannot serve."
        )


def _log_callback(thread: _TrainingThread) -> Any:
    from transformers import TrainerCallback

    class LogRecords(TrainerCallback):
        """Turns each Trainer log into a record; stops training when the job is cancelled."""

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            record = _log_record(state, logs or {})
            if record is not None:
                thread.records.put(record)

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if thread.stop.is_set():
                control.should_training_stop = True

    return LogRecords()


def _log_record(state: Any, logs: dict[str, Any]) -> dict[str, Any] | None:
    if "loss" not in logs and "eval_loss" not in logs:
        return None  # the end-of-training summary; its numbers go into the result record
    record: dict[str, Any] = {
        "type": "log",
        "step": int(state.global_step),
        "max_steps": int(state.max_steps),
        "loss": _finite(logs.get("loss")),
        "learning_rate": _finite(logs.get("learning_rate")),
        "grad_norm": _finite(logs.get("grad_norm")),
        "epoch": _finite(logs.get("epoch", state.epoch)),
    }
    if "eval_loss" in logs:
        record["eval_loss"] = _finite(logs["eval_loss"])
    return record


if __name__ == "__main__":  # pragma: no cover - the RunPod worker image's entry point
    import runpod

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    runpod.serverless.start({"handler": handler, "return_aggregate_stream": False})
