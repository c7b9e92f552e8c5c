"""`agentforge brains list|add|remove|models|default`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ..argtypes import non_negative_float, non_negative_int, positive_float, positive_int
from ..brains.registry import BrainEntry, BrainRegistry, BrainSpec
from ..sanitize import one_line, terminal_text
from ..text_table import text_table
from ._io import print_json


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("brains", help="configure the LLM brains that write the code")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = sub.add_parser("list", help="list brains (built-in offline ones included)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=list_brains)

    add = sub.add_parser(
        "add", help="add an OpenAI-compatible endpoint, or a RunPod Serverless vLLM endpoint"
    )
    add.add_argument("name")
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--base-url", help="e.g. http://localhost:8000/v1 (vLLM, Ollama, OpenAI)")
    where.add_argument("--runpod-endpoint", metavar="ID", help="RunPod Serverless endpoint id")
    add.add_argument("--model", required=True, help="model name, or a LoRA adapter served by vLLM")
    add.add_argument(
        "--api-key-env", help="NAME of the environment variable holding the key (never the key)"
    )
    add.add_argument("--timeout", type=positive_float, default=60.0)
    add.add_argument("--retries", type=non_negative_int, default=2)
    add.add_argument("--temperature", type=non_negative_float, default=0.2)
    add.add_argument(
        "--max-tokens",
        type=positive_int,
        metavar="N",
        help="cap on each reply's tokens (default: none)",
    )
    add.add_argument(
        "--allow-link-local",
        action="store_true",
        help="allow a link-local base URL (refused by default: cloud metadata lives there)",
    )
    add.add_argument(
        "--json-schema",
        action="store_true",
        help="the endpoint accepts response_format json_schema",
    )
    add.add_argument("--replace", action="store_true", help="overwrite a brain of the same name")
    add.set_defaults(func=add_brain)

    remove = sub.add_parser("remove", help="remove a configured brain")
    remove.add_argument("name")
    remove.set_defaults(func=remove_brain)

    models = sub.add_parser("models", help="what the brain's endpoint serves (/v1/models)")
    models.add_argument("name")
    models.add_argument("--json", action="store_true")
    models.set_defaults(func=list_models)

    default = sub.add_parser("default", help="show or set the default brain")
    default.add_argument("name", nargs="?")
    default.set_defaults(func=default_brain)

    adapter = sub.add_parser(
        "add-adapter", help="load a LoRA adapter into a vLLM server; register it as a brain"
    )
    adapter.add_argument("name", help="the adapter's (and the new brain's) name")
    adapter.add_argument("--server", required=True, help="brain pointing at the vLLM server")
    adapter.add_argument("--path", required=True, help="adapter directory as the server sees it")
    adapter.set_defaults(func=add_adapter)


def list_brains(args: argparse.Namespace) -> int:
    """Every brain; an invalid entry is marked (the rest stay listed), so is one that waits
    for `agentforge state trust`, and a loopback/private/link-local endpoint."""
    registry = BrainRegistry()
    entries = registry.entries()
    default = registry.default_name()
    if args.json:
        print_json([_entry_json(e, default) for e in entries])
        return 0
    # Everything here may come from someone else's brains.json: one inert line per cell.
    rows = [
        ["*" if e.name == default else "", e.name, *map(one_line, _entry_cells(e))] for e in entries
    ]
    print(text_table(["", "name", "kind", "model", "status", "where"], rows))
    return 0


def _entry_json(entry: BrainEntry, default: str) -> dict[str, Any]:
    data: dict[str, Any] = entry.spec.to_dict() if entry.spec else {"name": entry.name}
    data.update(default=entry.name == default, source=entry.source, endpoint=entry.endpoint)
    data.update(valid=entry.spec is not None, trust=entry.trust or None)
    if entry.problem:
        data["problem"] = entry.problem
    if entry.reasons:
        data["waiting_because"] = list(entry.reasons)
    return data


def _entry_cells(entry: BrainEntry) -> list[str]:
    if entry.spec is None:
        return ["?", "", "INVALID", entry.problem or ""]
    status = {"waiting": "WAITING (agentforge state trust)"}.get(entry.trust, entry.trust)
    if entry.endpoint:
        status = ", ".join(filter(None, [status, entry.endpoint]))
    return [entry.spec.kind, entry.spec.model or "", status, entry.spec.describe()]


def add_brain(args: argparse.Namespace) -> int:
    spec = BrainSpec(
        name=args.name,
        kind="runpod" if args.runpod_endpoint else "openai",
        base_url=args.base_url,
        endpoint_id=args.runpod_endpoint,
        model=args.model,
        api_key_env=args.api_key_env,
        timeout=args.timeout,
        retries=args.retries,
        temperature=args.temperature,
        supports_json_schema=args.json_schema,
        max_tokens=args.max_tokens,
        allow_link_local=args.allow_link_local,
    )
    added = BrainRegistry().add(spec, replace=args.replace)
    print(f"added brain {added.name}: {added.describe()}")
    return 0


def remove_brain(args: argparse.Namespace) -> int:
    removed = BrainRegistry().remove(args.name)
    print(f"removed brain {removed.name}")
    return 0


def list_models(args: argparse.Namespace) -> int:
    models = asyncio.run(BrainRegistry().list_models(args.name))
    if args.json:
        print_json(models)
    else:
        # Model ids come from the endpoint: one line each, nothing a terminal acts on.
        lines = [one_line(terminal_text(m)) for m in models]
        print("\n".join(lines) if lines else "(the endpoint lists no models)")
    return 0


def default_brain(args: argparse.Namespace) -> int:
    registry = BrainRegistry()
    if args.name:
        registry.set_default(args.name)
    print(registry.default_name())
    return 0


def add_adapter(args: argparse.Namespace) -> int:
    """POST /v1/load_lora_adapter when the server allows it, verified through /v1/models;
    otherwise print the exact --lora-modules / LORA_MODULES setting to use."""
    from ..training.adapters import add_adapter_to_server

    result = add_adapter_to_server(args.name, args.server, args.path)
    print(terminal_text(result.message))
    return 0
