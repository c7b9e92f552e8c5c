"""One job event as one line of text: for `train logs`, the monitor's log tail, and magics."""

from __future__ import annotations

from typing import Any

__all__ = ["log_line"]


def _num(value: Any) -> str:
    return "" if value is None else f"{float(value):.4f}"


def log_line(event: dict[str, Any], started: float | None) -> str:
    """One human line per event; log records show step, loss, lr, grad norm, epoch, elapsed."""
    elapsed = f"{event['ts'] - started:7.1f}s" if started is not None else ""
    kind = event.get("type")
    if kind == "log":
        parts = [f"step {event.get('step')}/{event.get('max_steps')}"]
        for key, label in (
            ("loss", "loss"),
            ("eval_loss", "eval_loss"),
            ("learning_rate", "lr"),
            ("grad_norm", "grad_norm"),
            ("epoch", "epoch"),
        ):
            if event.get(key) is not None:
                value = event[key]
                parts.append(f"{label} {value:.3g}" if key != "loss" else f"loss {value:.4f}")
        return f"{elapsed} " + "  ".join(parts)
    if kind == "result":
        return (
            f"{elapsed} completed: adapter {event.get('adapter')}  train_loss "
            f"{_num(event.get('train_loss'))}  eval_loss {_num(event.get('eval_loss'))}  "
            f"brain {event.get('brain') or '-'}"
        )
    if kind == "error":
        return f"{elapsed} failed: {event.get('error')}"
    return f"{elapsed} {event.get('status')}: {event.get('message') or ''}".rstrip(": ")
