"""What the training wrapper costs, as ratios and deltas measured in one run.

    python benchmarks/training.py [--steps N] [--repeats N] [--out benchmarks/results/training.json]

(a) Wrapper overhead. The same LoRA job (a tiny Llama built from a config, random weights, a
    tokenizer trained in memory; nothing downloaded) through ``worker.handler`` (spec and data
    validation, a training thread, records from ``TrainerCallback.on_log`` through a queue,
    adapter checks) against a bare ``transformers.Trainer`` script with the same model, data,
    arguments and adapter save. Runs alternate; medians compared. Target: <= 1.05.
(b) Record -> monitor, local. A real local job (runner subprocess writing events.jsonl) watched
    by a ``TrainingMonitor``: the delay from each record's timestamp in the log to the monitor
    having shown it. Target: median <= 200 ms.
(c) Record -> monitor, RunPod. The real ``runpod`` client polling a fake of RunPod's hosted
    API that runs the real handler: the delay from the handler yielding a record to the
    monitor showing it (the SDK polls the stream once a second). Target: median <= 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.fakes import FakeRunPodServer, build_tiny_model  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "training.json"
TARGET_OVERHEAD = 1.05
TARGET_LOCAL_MS = 200.0
TARGET_RUNPOD_S = 1.5
TEXTS = ["<|user|>\nTotal revenue by region?\n<|assistant|>\nprint(df.revenue.sum())\n"] * 20


def examples(n: int = 32) -> list[dict[str, str]]:
    return [
        {"prompt": f"Question {i}: total revenue?", "completion": f"print(df.revenue.sum() + {i})"}
        for i in range(n)
    ]


def spec(model: str, steps: int, out: str) -> dict[str, Any]:
    return {
        "base_model": model,
        "data": examples(),
        "max_steps": steps,
        "batch_size": 4,
        "max_seq_len": 128,
        "output_dir": out,
    }


def bare_trainer(job: dict[str, Any]) -> float:
    """The same job as a plain transformers + peft script; returns seconds."""
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForSeq2Seq,
        Trainer,
        TrainingArguments,
    )

    from agentforge_jupyter.training.data import load_examples
    from agentforge_jupyter.training.worker import tokenize_examples

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(job["base_model"])
    model = AutoModelForCausalLM.from_pretrained(job["base_model"])
    model = get_peft_model(
        model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, task_type="CAUSAL_LM")
    )
    data = tokenize_examples(tokenizer, load_examples(job["data"]), job["max_seq_len"])
    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(),
        max_steps=job["max_steps"],
        per_device_train_batch_size=job["batch_size"],
        learning_rate=2e-4,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        remove_unused_columns=False,
    )
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    Trainer(model=model, args=args, train_dataset=data, data_collator=collator).train()
    model.save_pretrained(job["output_dir"], safe_serialization=True)
    return time.perf_counter() - started


def wrapped(job: dict[str, Any]) -> float:
    from agentforge_jupyter.training.worker import handler

    started = time.perf_counter()
    records = list(handler({"id": "bench", "input": job}))
    elapsed = time.perf_counter() - started
    assert records[-1].get("type") == "result", records[-1]
    return elapsed


def measure_overhead(model: str, steps: int, repeats: int, tmp: Path) -> dict[str, Any]:
    import torch

    # One intra-op thread for both: on a shared 2-core machine OpenMP spin-waiting otherwise
    # dominates (and favours whichever run happens to start its pool in another thread).
    torch.set_num_threads(1)
    bare: list[float] = []
    wrap: list[float] = []
    wrapped(spec(model, 2, str(tmp / "warm")))  # imports and caches out of the measurement
    for i in range(repeats):
        bare.append(bare_trainer(spec(model, steps, str(tmp / f"bare{i}"))))
        wrap.append(wrapped(spec(model, steps, str(tmp / f"wrap{i}"))))
    ratio = statistics.median(wrap) / statistics.median(bare)
    return {
        "steps": steps,
        "bare_s": [round(x, 3) for x in bare],
        "wrapped_s": [round(x, 3) for x in wrap],
        "ratio": round(ratio, 4),
        "target": TARGET_OVERHEAD,
        "ok": ratio <= TARGET_OVERHEAD,
    }


def delays(monitor: Any, events: list[dict[str, Any]], key: str) -> list[float]:
    found = []
    for event in events:
        if event.get("type") == "log" and event["seq"] in monitor.shown_at:
            found.append(monitor.shown_at[event["seq"]] - float(event[key]))
    return found


def measure_local(model: str, steps: int, tmp: Path) -> dict[str, Any]:
    from agentforge_jupyter.state import StateDir
    from agentforge_jupyter.training import TrainingJobs
    from agentforge_jupyter.widgets.training import TrainingMonitor

    state = StateDir(tmp / "state-local")
    job = {**spec(model, steps, str(tmp / "local-adapter")), "data": examples()}
    job_id = TrainingJobs(state).start(job)
    monitor = TrainingMonitor(job_id, state=state)
    final = monitor.wait(timeout=1800)
    assert final["status"] == "completed", final.get("error")
    found = delays(monitor, TrainingJobs(state).events(job_id), "ts")
    return _summary(found, TARGET_LOCAL_MS / 1000)


def measure_runpod(model: str, steps: int, tmp: Path) -> dict[str, Any]:
    from agentforge_jupyter.state import StateDir
    from agentforge_jupyter.training import TrainingJobs
    from agentforge_jupyter.training.worker import handler
    from agentforge_jupyter.widgets.training import TrainingMonitor

    def stamped(job: dict[str, Any]) -> Any:
        for record in handler(job):
            yield {**record, "emitted_at": time.time()}

    state = StateDir(tmp / "state-runpod")
    with FakeRunPodServer(stamped) as server:
        os.environ["RUNPOD_API_KEY"] = server.api_key
        os.environ["RUNPOD_ENDPOINT_BASE_URL"] = server.base_url
        jobs = TrainingJobs(state)
        job = spec(model, steps, str(tmp / "rp-adapter"))
        job_id = jobs.start(job, backend="runpod", endpoint_id=server.endpoint_id)
        monitor = TrainingMonitor(job_id, state=state)
        final = monitor.wait(timeout=1800)
    assert final["status"] == "completed", final.get("error")
    found = delays(monitor, jobs.events(job_id), "emitted_at")
    return _summary(found, TARGET_RUNPOD_S)


def _summary(found: list[float], target_s: float) -> dict[str, Any]:
    median = statistics.median(found) if found else float("inf")
    return {
        "records": len(found),
        "median_ms": round(median * 1000, 1),
        "max_ms": round(max(found) * 1000, 1) if found else None,
        "target_ms": target_s * 1000,
        "ok": bool(found) and median <= target_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        os.environ["AGENTFORGE_STATE_DIR"] = str(tmp / "state")
        model = build_tiny_model(tmp / "model", TEXTS)
        overhead = measure_overhead(model, args.steps, args.repeats, tmp)
        local = measure_local(model, args.steps, tmp)
        runpod = measure_runpod(model, min(args.steps, 15), tmp)
    report = {
        "benchmark": "training",
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "threads_alive": threading.active_count(),
        },
        "a_wrapper_overhead": overhead,
        "b_record_to_monitor_local": local,
        "c_record_to_monitor_runpod": runpod,
    }
    rows = [
        ("(a) handler / bare Trainer", f"{overhead['ratio']:.3f}", f"<= {TARGET_OVERHEAD}"),
        ("(b) record -> monitor, local", _delay(local), f"median <= {TARGET_LOCAL_MS:g} ms"),
        ("(c) record -> monitor, RunPod", _delay(runpod), f"median <= {TARGET_RUNPOD_S:g} s"),
    ]
    print(f"training benchmark ({args.steps} steps, {args.repeats} repeats)")
    for (name, value, target), part in zip(rows, (overhead, local, runpod), strict=True):
        print(f"{name:<32} {value:<30} {target:<22} {'PASS' if part['ok'] else 'FAIL'}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {out}")
    return 0 if overhead["ok"] and local["ok"] and runpod["ok"] else 1


def _delay(part: dict[str, Any]) -> str:
    return f"{part['median_ms']:.0f} ms (max {part['max_ms']} ms, n={part['records']})"


if __name__ == "__main__":
    raise SystemExit(main())
