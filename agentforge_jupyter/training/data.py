"""Training examples: JSONL of OpenAI chat ``{"messages": [...]}`` or ``{"prompt", "completion"}``.

Every line is validated before anything trains, and the first problems are reported together,
each naming its line and field, so nothing reaches a GPU with bad data. Examples are normalised
to chat messages; ``prompt``/``completion`` becomes one user and one assistant message.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from agentforge_jupyter.training.errors import TrainingDataError

__all__ = [
    "MAX_REPORTED_PROBLEMS",
    "ROLES",
    "data_sha256",
    "load_examples",
    "read_jsonl_examples",
    "validate_example",
    "validate_examples",
]

ROLES = ("system", "user", "assistant")
MAX_REPORTED_PROBLEMS = 10
_OPTIONAL_KEYS = {"metadata"}

Message = dict[str, str]


def validate_example(record: Any, where: str) -> list[Message]:
    """The example as chat messages; raises TrainingDataError naming ``where`` and the field."""
    if not isinstance(record, dict):
        raise TrainingDataError(f"{where}: expected a JSON object, got {type(record).__name__}.")
    if "messages" in record:
        extra = set(record) - {"messages"} - _OPTIONAL_KEYS
        if extra:
            raise TrainingDataError(
                f"{where}: unexpected field(s) {sorted(extra)} next to 'messages'; an example "
                'is {"messages": [...]} or {"prompt": ..., "completion": ...}.'
            )
        return _messages(record["messages"], where)
    if "prompt" in record or "completion" in record:
        extra = set(record) - {"prompt", "completion"} - _OPTIONAL_KEYS
        if extra:
            raise TrainingDataError(
                f"{where}: unexpected field(s) {sorted(extra)} next to 'prompt'/'completion'."
            )
        for key in ("prompt", "completion"):
            value = record.get(key)
            if not isinstance(value, str) or not value.strip():
                raise TrainingDataError(f"{where}: field {key!r} must be a non-empty string.")
        return [
            {"role": "user", "content": record["prompt"]},
            {"role": "assistant", "content": record["completion"]},
        ]
    raise TrainingDataError(
        f"{where}: no 'messages' and no 'prompt'/'completion' field (found "
        f"{sorted(record) or 'no fields'}); use the OpenAI chat format "
        '{"messages": [{"role": ..., "content": ...}]} or {"prompt": ..., "completion": ...}.'
    )


def _messages(value: Any, where: str) -> list[Message]:
    if not isinstance(value, list) or not value:
        raise TrainingDataError(f"{where}: field 'messages' must be a non-empty list.")
    messages: list[Message] = []
    for index, message in enumerate(value):
        field = f"messages[{index}]"
        if not isinstance(message, dict):
            raise TrainingDataError(f"{where}: field {field} must be an object.")
        role = message.get("role")
        if role not in ROLES:
            raise TrainingDataError(
                f"{where}: field {field}.role is {role!r}; use one of {', '.join(ROLES)}."
            )
        content = message.get("content")
        if not isinstance(content, str):
            raise TrainingDataError(
                f"{where}: field {field}.content must be a string (text only), not "
                f"{type(content).__name__}."
            )
        extra = set(message) - {"role", "content", "name"}
        if extra:
            raise TrainingDataError(f"{where}: field {field} has unexpected keys {sorted(extra)}.")
        messages.append({"role": role, "content": content})
    if messages[-1]["role"] != "assistant" or not messages[-1]["content"].strip():
        raise TrainingDataError(
            f"{where}: field messages[{len(messages) - 1}] must be a non-empty assistant "
            "message: the last message is what the model learns to write."
        )
    if not any(m["role"] == "user" for m in messages):
        raise TrainingDataError(f"{where}: field 'messages' has no user message.")
    return messages


def read_jsonl_examples(path: str | Path) -> list[tuple[str, Any]]:
    """``(where, record)`` for every non-blank line; unparsable lines raise at once with the
    line number."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise TrainingDataError(f"Cannot read training data {file}: {exc.strerror}.") from exc
    records: list[tuple[str, Any]] = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        where = f"{file.name} line {number}"
        try:
            records.append((where, json.loads(line)))
        except UnicodeDecodeError as exc:
            raise TrainingDataError(f"{where}: not UTF-8 text ({exc.reason}).") from exc
        except json.JSONDecodeError as exc:
            raise TrainingDataError(
                f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); each line must "
                "be one JSON object."
            ) from exc
    return records


def validate_examples(records: Iterable[tuple[str, Any]]) -> list[list[Message]]:
    """All examples as messages; raises one TrainingDataError listing the first problems."""
    examples: list[list[Message]] = []
    problems: list[str] = []
    total_bad = 0
    for where, record in records:
        try:
            examples.append(validate_example(record, where))
        except TrainingDataError as exc:
            total_bad += 1
            if len(problems) < MAX_REPORTED_PROBLEMS:
                problems.append(str(exc))
    if problems:
        more = f"\n  ... and {total_bad - len(problems)} more" if total_bad > len(problems) else ""
        raise TrainingDataError(
            f"{total_bad} invalid training example(s); nothing was started:\n  "
            + "\n  ".join(problems)
            + more
        )
    if not examples:
        raise TrainingDataError("The training data holds no examples.")
    return examples


def load_examples(source: str | Path | Sequence[Any], what: str = "data") -> list[list[Message]]:
    """Validated examples from a JSONL path or an inline list."""
    if isinstance(source, (str, Path)):
        return validate_examples(read_jsonl_examples(source))
    return validate_examples((f"{what} example {i + 1}", r) for i, r in enumerate(source))


def data_sha256(examples: Sequence[Sequence[Message]]) -> str:
    """A content hash of normalised examples: the data's provenance for a trained brain."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps(example, sort_keys=True, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
